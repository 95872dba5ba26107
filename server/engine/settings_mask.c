/* settings_mask.c — field-mask updates over protobuf-c descriptors.
 *
 * Why generic: UpdateSettings takes Google-style field paths
 * ("alert_rules.quiet_hours.enabled"). Writing one case per field would
 * have to be kept in step with admin.proto by hand; walking the
 * descriptors that protoc-c generates means a field added to Settings is
 * updatable at once. Memory model: messages are "owned" (what
 * protobuf_c_message_unpack returns), so replacing a field frees the old
 * value and deep-copies the new one with plain malloc, and
 * protobuf_c_message_free_unpacked(m, NULL) still frees everything.
 */
#include "settings_mask.h"

#include <stdlib.h>
#include <string.h>

#define MEMBER(msg, off) ((char *)(msg) + (off))
#define CMEMBER(msg, off) ((const char *)(msg) + (off))

static size_t elt_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    default: return 4; /* int32, sint32, sfixed32, uint32, fixed32, enum */
    }
}

static int is_repeated(const ProtobufCFieldDescriptor *f) { return f->label == PROTOBUF_C_LABEL_REPEATED; }

/* A singular scalar with explicit presence (proto3 `optional`) keeps a has_
 * flag at quantifier_offset; strings and messages use the pointer. */
static int has_flag(const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
           f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

static void free_value(const ProtobufCFieldDescriptor *f, void *p)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char *s = *(char **)p;
        if (s && s != (const char *)f->default_value && s != protobuf_c_empty_string) free(s);
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *m = *(ProtobufCMessage **)p;
        if (m) protobuf_c_message_free_unpacked(m, NULL);
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *b = p;
        const ProtobufCBinaryData *def = f->default_value;
        if (b->data && (!def || b->data != def->data)) free(b->data);
    }
}

static void zero_value(const ProtobufCFieldDescriptor *f, void *p)
{
    if (f->type == PROTOBUF_C_TYPE_STRING)
        *(char **)p = f->default_value ? (char *)f->default_value : (char *)protobuf_c_empty_string;
    else memset(p, 0, elt_size(f->type));
}

/* Deep-copies one value from sp into the (free) slot dp. */
static int copy_value(const ProtobufCFieldDescriptor *f, void *dp, const void *sp)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(char *const *)sp;
        if (!s || !*s) { zero_value(f, dp); return 0; }
        return (*(char **)dp = strdup(s)) ? 0 : -1;
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)sp;
        *(ProtobufCMessage **)dp = m ? fb_pb_clone(m) : NULL;
        return m && !*(ProtobufCMessage **)dp ? -1 : 0;
    }
    if (f->type == PROTOBUF_C_TYPE_BYTES) {
        const ProtobufCBinaryData *s = sp;
        ProtobufCBinaryData *d = dp;
        d->len = s->len;
        d->data = s->len ? malloc(s->len) : NULL;
        if (s->len && !d->data) { d->len = 0; return -1; }
        if (s->len) memcpy(d->data, s->data, s->len);
        return 0;
    }
    memcpy(dp, sp, elt_size(f->type));
    return 0;
}

/* Replaces dst's field f by src's (src NULL: the zero value). */
static int copy_field(ProtobufCMessage *dst, const ProtobufCMessage *src, const ProtobufCFieldDescriptor *f)
{
    char *d = MEMBER(dst, f->offset);
    size_t es = elt_size(f->type);
    if (!is_repeated(f)) {
        free_value(f, d);
        if (has_flag(f))
            *(protobuf_c_boolean *)MEMBER(dst, f->quantifier_offset) =
                src ? *(const protobuf_c_boolean *)CMEMBER(src, f->quantifier_offset) : 0;
        if (!src) { zero_value(f, d); return 0; }
        if (copy_value(f, d, CMEMBER(src, f->offset)) != 0) { zero_value(f, d); return -1; }
        return 0;
    }
    size_t *dn = (size_t *)MEMBER(dst, f->quantifier_offset);
    char **darr = (char **)d;
    for (size_t i = 0; i < *dn; i++) free_value(f, *darr + i * es);
    free(*darr);
    *darr = NULL;
    *dn = 0;
    size_t n = src ? *(const size_t *)CMEMBER(src, f->quantifier_offset) : 0;
    if (n == 0) return 0;
    const char *sarr = *(char *const *)CMEMBER(src, f->offset);
    char *arr = calloc(n, es);
    if (!arr) return -1;
    for (size_t i = 0; i < n; i++) {
        if (copy_value(f, arr + i * es, sarr + i * es) != 0) {
            for (size_t j = 0; j < i; j++) free_value(f, arr + j * es);
            free(arr);
            return -1;
        }
    }
    *darr = arr;
    *dn = n;
    return 0;
}

/* The field named by the first segment of path; *rest is what follows the
 * dot (NULL at the last segment). */
static const ProtobufCFieldDescriptor *segment(const ProtobufCMessageDescriptor *d, const char *path,
                                               const char **rest)
{
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    char name[64];
    if (len == 0 || len >= sizeof name) return NULL;
    memcpy(name, path, len);
    name[len] = '\0';
    *rest = dot ? dot + 1 : NULL;
    return protobuf_c_message_descriptor_get_field_by_name(d, name);
}

static int is_submessage(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_MESSAGE && !is_repeated(f);
}

int fb_pb_check_path(const ProtobufCMessageDescriptor *d, const char *path, fb_err *err)
{
    const char *p = path ? path : "";
    for (;;) {
        const char *rest;
        const ProtobufCFieldDescriptor *f = segment(d, p, &rest);
        if (!f || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            return fb_err_set(err, FB_INVALID, "update_mask: unknown field path \"%.100s\"", path ? path : "");
        if (!rest) return FB_OK;
        if (!is_submessage(f))
            return fb_err_set(err, FB_INVALID, "update_mask: \"%.100s\": %s has no sub-fields", path, f->name);
        d = f->descriptor;
        p = rest;
    }
}

int fb_pb_apply_path(ProtobufCMessage *dst, const ProtobufCMessage *src,
                     const ProtobufCMessage *defaults, const char *path, fb_err *err)
{
    int rc = fb_pb_check_path(dst->descriptor, path, err);
    if (rc) return rc;
    for (const char *p = path;;) {
        const char *rest = NULL;
        const ProtobufCFieldDescriptor *f = segment(dst->descriptor, p, &rest);
        ProtobufCMessage *ssub = src && is_submessage(f) ? *(ProtobufCMessage **)CMEMBER(src, f->offset) : NULL;
        ProtobufCMessage *dsub = defaults && is_submessage(f) ? *(ProtobufCMessage **)CMEMBER(defaults, f->offset) : NULL;
        if (!rest) {
            const ProtobufCMessage *from = is_submessage(f) && !ssub ? defaults : src;
            if (copy_field(dst, from, f) != 0) return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
            return FB_OK;
        }
        ProtobufCMessage **slot = (ProtobufCMessage **)MEMBER(dst, f->offset);
        if (!*slot) *slot = dsub ? fb_pb_clone(dsub) : fb_pb_new(f->descriptor);
        if (!*slot) return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
        dst = *slot;
        src = ssub;
        defaults = dsub;
        p = rest;
    }
}

static int is_set(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m)
{
    const char *p = CMEMBER(m, f->offset);
    if (is_repeated(f)) return *(const size_t *)CMEMBER(m, f->quantifier_offset) > 0;
    if (has_flag(f)) return *(const protobuf_c_boolean *)CMEMBER(m, f->quantifier_offset) != 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: { const char *s = *(char *const *)p; return s && *s; }
    case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p != NULL;
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len > 0;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p != 0.0;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p != 0.0f;
    default: {
        static const char zero[8];
        return memcmp(p, zero, elt_size(f->type)) != 0;
    }
    }
}

int fb_pb_merge_set_fields(ProtobufCMessage *dst, const ProtobufCMessage *src, fb_err *err)
{
    const ProtobufCMessageDescriptor *d = dst->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || !is_set(f, src)) continue;
        ProtobufCMessage **slot = (ProtobufCMessage **)MEMBER(dst, f->offset);
        if (is_submessage(f) && *slot) {
            int rc = fb_pb_merge_set_fields(*slot, *(ProtobufCMessage *const *)CMEMBER(src, f->offset), err);
            if (rc) return rc;
        } else if (copy_field(dst, src, f) != 0) {
            return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
        }
    }
    return FB_OK;
}
