/* msgutil.c — see msgutil.h. Map entries of every request type share one
 * layout (base, key, value), so one generic builder serves them all. */
#include "msgutil.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct map_entry {
    ProtobufCMessage base;
    char *key;
    char *value;
};

int fbc_tags_add(const ProtobufCMessageDescriptor *entry_desc, size_t *n, void ***arr,
                 const char *key, const char *value)
{
    void **grown = realloc(*arr, (*n + 1) * sizeof *grown);
    if (!grown) return -1;
    *arr = grown;
    struct map_entry *e = calloc(1, entry_desc->sizeof_message);
    if (!e) return -1;
    protobuf_c_message_init(entry_desc, e);
    e->key = strdup(key);
    e->value = strdup(value);
    grown[(*n)++] = e;
    return 0;
}

int fbc_tags_from_args(const fbc_args *a, const char *opt, const ProtobufCMessageDescriptor *entry_desc,
                       size_t *n_out, void ***out)
{
    *n_out = 0;
    *out = NULL;
    const char *kv;
    for (int i = 0; (kv = fbc_arg_nth(a, opt, i)); i++) {
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv) return fbc_usage("--%s takes key=value, got '%s'", opt, kv);
        char key[256];
        size_t len = (size_t)(eq - kv);
        if (len >= sizeof key) return fbc_usage("--%s key too long", opt);
        memcpy(key, kv, len);
        key[len] = 0;
        if (fbc_tags_add(entry_desc, n_out, out, key, eq + 1) != 0) return fbc_usage("out of memory");
    }
    return 0;
}

void fbc_free_tags(size_t n, void **arr)
{
    for (size_t i = 0; i < n; i++) {
        struct map_entry *e = arr[i];
        free(e->key);
        free(e->value);
        free(e);
    }
    free(arr);
}

int fbc_enum_value(const ProtobufCEnumDescriptor *d, const char *name)
{
    for (unsigned i = 0; i < d->n_values; i++)
        if (strcasecmp(d->values[i].name, name) == 0) return d->values[i].value;
    return -1;
}

const char *fbc_enum_name(const ProtobufCEnumDescriptor *d, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    return v ? v->name : "?";
}

size_t fbc_field_elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    default: return 4;
    }
}

bool fbc_print_integer(FILE *out, const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(out, "%" PRId32, *(const int32_t *)p); return true;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        fprintf(out, "%" PRIu32, *(const uint32_t *)p); return true;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(out, "%" PRId64, *(const int64_t *)p); return true;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        fprintf(out, "%" PRIu64, *(const uint64_t *)p); return true;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)p ? "true" : "false", out); return true;
    default:
        return false;
    }
}
