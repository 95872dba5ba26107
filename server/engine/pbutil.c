/* pbutil.c — see pbutil.h. A copy is a pack and an unpack: simple, and it
 * yields exactly the owned layout the rest of the engine frees. */
#include "pbutil.h"

#include <stdint.h>
#include <stdlib.h>

ProtobufCMessage *fb_pb_clone(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return NULL;
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    free(buf);
    return copy;
}

ProtobufCMessage *fb_pb_new(const ProtobufCMessageDescriptor *d)
{
    return protobuf_c_message_unpack(d, NULL, 0, (const uint8_t *)"");
}
