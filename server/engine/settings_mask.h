/* settings_mask.h — field-mask updates of protobuf-c messages (private to
 * settings.c, generic over any message type).
 *
 * Messages handled here must be "owned": every string, array and
 * sub-message separately malloc'd, as protobuf_c_message_unpack makes them,
 * so that protobuf_c_message_free_unpacked(m, NULL) frees them. Oneof
 * fields are not supported (the settings messages have none).
 */
#ifndef FB_SETTINGS_MASK_H
#define FB_SETTINGS_MASK_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "error.h"
#include "pbutil.h"

/* Checks that path ("a.b.c") names a field of d, every segment but the
 * last being a singular message field. Returns FB_OK or FB_INVALID with
 * "update_mask: ..." in err. */
int fb_pb_check_path(const ProtobufCMessageDescriptor *d, const char *path, fb_err *err);

/* Copies the field named by path from src (NULL: an unset message, i.e.
 * zero values) into the owned message dst. A path naming a singular message
 * that src leaves unset copies it from defaults instead (NULL: clears it).
 * Errors: FB_INVALID (bad path), FB_INTERNAL (out of memory). */
int fb_pb_apply_path(ProtobufCMessage *dst, const ProtobufCMessage *src,
                     const ProtobufCMessage *defaults, const char *path, fb_err *err);

/* Copies into dst every field src sets to a non-default value: non-zero
 * scalars, non-empty strings and lists (lists replace), and recursively the
 * fields of set sub-messages. Errors: FB_INTERNAL (out of memory). */
int fb_pb_merge_set_fields(ProtobufCMessage *dst, const ProtobufCMessage *src, fb_err *err);

#endif
