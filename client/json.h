/* json.h — print any protobuf-c message as JSON (feedbackctl --json).
 *
 * Driven by the message descriptors, so every reply type prints without
 * per-type code: field names as in the .proto (snake_case), enums by name,
 * maps as objects, 64-bit integers as numbers, bytes as base64. Every
 * ordinary field is printed, defaults included (scripts should not have to
 * know proto3's omission rules); an unset oneof or message is omitted. */
#ifndef FBC_JSON_H
#define FBC_JSON_H

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>

void fbc_json_print(FILE *out, const ProtobufCMessage *msg);
/* A JSON string literal for s (with quotes). */
void fbc_json_string(FILE *out, const char *s);

#endif
