/* fieldpath.h — message fields by dotted path ("alert_rules.sla_ms").
 *
 * `settings get` prints Settings as one `path = value` line per field and
 * `settings set path=value` takes the same paths, so what a person reads is
 * what they can type back. Both walk the protobuf-c descriptors, so a field
 * added to the .proto works here with no code change. */
#ifndef FBC_FIELDPATH_H
#define FBC_FIELDPATH_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdio.h>

/* Prints every field of msg as "prefix.name = value" (strings as they are,
 * enums by name, repeated scalars comma-separated, repeated messages as
 * "[n items]"). */
void fbc_fields_print(FILE *out, const ProtobufCMessage *msg, const char *prefix);

/* Sets the scalar (or repeated string/enum: comma-separated) field at path
 * of msg from text, creating the messages on the way. msg and everything it
 * owns must be heap-allocated (malloc) so that
 * protobuf_c_message_free_unpacked(msg, NULL) frees it all.
 * Returns 0, or -1 with a reason a person can act on in why. */
int fbc_field_set(ProtobufCMessage *msg, const char *path, const char *text, char *why, size_t whylen);

#endif
