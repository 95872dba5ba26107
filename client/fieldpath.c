/* fieldpath.c — see fieldpath.h. Walks protobuf-c descriptors: a path is
 * split at dots, each part but the last must name a singular message field
 * (created when absent), the last a scalar or a repeated string/enum. Values
 * are parsed strictly: "min_sample=lots" is an error, not 0. */
#include "fieldpath.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msgutil.h"

#define MEMBER(msg, f) ((char *)(msg) + (f)->offset)

static void print_scalar(FILE *out, const ProtobufCFieldDescriptor *f, const void *p)
{
    if (fbc_print_integer(out, f, p)) return;
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT: fprintf(out, "%g", *(const float *)p); break;
    case PROTOBUF_C_TYPE_DOUBLE: fprintf(out, "%g", *(const double *)p); break;
    case PROTOBUF_C_TYPE_ENUM: fputs(fbc_enum_name(f->descriptor, *(const int *)p), out); break;
    case PROTOBUF_C_TYPE_STRING: fputs(*(char *const *)p ? *(char *const *)p : "", out); break;
    case PROTOBUF_C_TYPE_BYTES: fprintf(out, "(%zu bytes)", ((const ProtobufCBinaryData *)p)->len); break;
    case PROTOBUF_C_TYPE_MESSAGE: break;
    default: break; /* integers and bools: fbc_print_integer */
    }
}

void fbc_fields_print(FILE *out, const ProtobufCMessage *msg, const char *prefix)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->name);
        const char *p = MEMBER(msg, f);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            const char *arr = *(char *const *)p;
            fprintf(out, "%s = ", path);
            if (f->type == PROTOBUF_C_TYPE_MESSAGE) fprintf(out, "[%zu items]", n);
            for (size_t k = 0; k < n && f->type != PROTOBUF_C_TYPE_MESSAGE; k++) {
                if (k) fputc(',', out);
                print_scalar(out, f, arr + k * fbc_field_elem_size(f));
            }
            fputc('\n', out);
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (*(ProtobufCMessage *const *)p) fbc_fields_print(out, *(ProtobufCMessage *const *)p, path);
        } else {
            fprintf(out, "%s = ", path);
            print_scalar(out, f, p);
            fputc('\n', out);
        }
    }
}

static int enum_parse(const ProtobufCEnumDescriptor *d, const char *s, int *v)
{
    for (unsigned i = 0; i < d->n_values; i++)
        if (strcasecmp(d->values[i].name, s) == 0) { *v = d->values[i].value; return 0; }
    return -1;
}

/* Parses text into the singular scalar at p. */
static int parse_scalar(const ProtobufCFieldDescriptor *f, const char *text, void *p, char *why, size_t wl)
{
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32: {
        long v = strtol(text, &end, 10);
        if (errno || *end || end == text || v < INT32_MIN || v > INT32_MAX) break;
        *(int32_t *)p = (int32_t)v;
        return 0;
    }
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: {
        unsigned long v = strtoul(text, &end, 10);
        if (errno || *end || end == text || *text == '-' || v > UINT32_MAX) break;
        *(uint32_t *)p = (uint32_t)v;
        return 0;
    }
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64: {
        long long v = strtoll(text, &end, 10);
        if (errno || *end || end == text) break;
        *(int64_t *)p = v;
        return 0;
    }
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: {
        unsigned long long v = strtoull(text, &end, 10);
        if (errno || *end || end == text || *text == '-') break;
        *(uint64_t *)p = v;
        return 0;
    }
    case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE: {
        double v = strtod(text, &end);
        if (errno || *end || end == text) break;
        if (f->type == PROTOBUF_C_TYPE_FLOAT) *(float *)p = (float)v;
        else *(double *)p = v;
        return 0;
    }
    case PROTOBUF_C_TYPE_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
        for (int i = 0; i < 4; i++) {
            if (!strcasecmp(text, yes[i])) { *(protobuf_c_boolean *)p = 1; return 0; }
            if (!strcasecmp(text, no[i])) { *(protobuf_c_boolean *)p = 0; return 0; }
        }
        snprintf(why, wl, "%s takes true or false, got '%s'", f->name, text);
        return -1;
    }
    case PROTOBUF_C_TYPE_ENUM:
        if (enum_parse(f->descriptor, text, (int *)p) == 0) return 0;
        snprintf(why, wl, "%s: not one of the %s values: '%s'", f->name,
                 ((const ProtobufCEnumDescriptor *)f->descriptor)->short_name, text);
        return -1;
    case PROTOBUF_C_TYPE_STRING: {
        char *s = strdup(text), **slot = (char **)p;
        if (!s) break;
        if (*slot && *slot != (const char *)f->default_value) free(*slot);
        *slot = s;
        return 0;
    }
    default:
        snprintf(why, wl, "%s cannot be set from the command line", f->name);
        return -1;
    }
    snprintf(why, wl, "%s takes a %snumber, got '%s'", f->name,
             f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_FLOAT ? "" : "whole ", text);
    return -1;
}

/* A repeated string or enum from "a,b,c" (spaces around items trimmed). */
static int parse_list(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const char *text, char *why,
                      size_t wl)
{
    if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_ENUM) {
        snprintf(why, wl, "%s (a list of messages) cannot be set from the command line", f->name);
        return -1;
    }
    size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
    void **arr = (void **)MEMBER(msg, f);
    size_t cap = 1;
    for (const char *c = text; *c; c++) cap += *c == ',';
    char *items = calloc(cap, fbc_field_elem_size(f));
    if (!items) { snprintf(why, wl, "out of memory"); return -1; }
    size_t k = 0;
    for (const char *s = text; *s;) {
        while (*s == ' ') s++;
        size_t len = strcspn(s, ",");
        size_t trim = len;
        while (trim && s[trim - 1] == ' ') trim--;
        if (trim) {
            char one[256];
            snprintf(one, sizeof one, "%.*s", (int)trim, s);
            if (parse_scalar(f, one, items + k * fbc_field_elem_size(f), why, wl) != 0) {
                if (f->type == PROTOBUF_C_TYPE_STRING)
                    for (size_t j = 0; j < k; j++) free(((char **)items)[j]);
                free(items);
                return -1;
            }
            k++;
        }
        s += len + (s[len] == ',');
    }
    if (f->type == PROTOBUF_C_TYPE_STRING)
        for (size_t j = 0; j < *n; j++) free(((char **)*arr)[j]);
    free(*arr);
    *arr = items;
    *n = k;
    return 0;
}

int fbc_field_set(ProtobufCMessage *msg, const char *path, const char *text, char *why, size_t whylen)
{
    char part[128];
    size_t len = strcspn(path, ".");
    if (len >= sizeof part) { snprintf(why, whylen, "unknown setting '%s'", path); return -1; }
    memcpy(part, path, len);
    part[len] = 0;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, part);
    if (!f) { snprintf(why, whylen, "unknown setting '%s'", part); return -1; }
    void *p = MEMBER(msg, f);
    if (path[len] == '.') {
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED) {
            snprintf(why, whylen, "%s has no parts ('%s')", part, path);
            return -1;
        }
        ProtobufCMessage **sub = p;
        if (!*sub) {
            const ProtobufCMessageDescriptor *sd = f->descriptor;
            *sub = calloc(1, sd->sizeof_message);
            if (!*sub) { snprintf(why, whylen, "out of memory"); return -1; }
            protobuf_c_message_init(sd, *sub);
        }
        return fbc_field_set(*sub, path + len + 1, text, why, whylen);
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return parse_list(msg, f, text, why, whylen);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        snprintf(why, whylen, "%s is a group of settings: set its parts, e.g. %s.NAME=VALUE", part, part);
        return -1;
    }
    if (parse_scalar(f, text, p, why, whylen) != 0) return -1;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)((char *)msg + f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
        *(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
    return 0;
}
