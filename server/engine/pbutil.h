/* pbutil.h — small generic helpers over protobuf-c messages.
 *
 * "Owned" messages: every string, array and sub-message separately
 * malloc'd, as protobuf_c_message_unpack makes them, so that
 * protobuf_c_message_free_unpacked(m, NULL) frees them all. */
#ifndef FB_PBUTIL_H
#define FB_PBUTIL_H

#include <protobuf-c/protobuf-c.h>

/* An owned deep copy of m (NULL when out of memory). */
ProtobufCMessage *fb_pb_clone(const ProtobufCMessage *m);

/* An owned empty message of the type (NULL when out of memory). */
ProtobufCMessage *fb_pb_new(const ProtobufCMessageDescriptor *d);

#endif
