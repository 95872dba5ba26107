/* json.c — see json.h. A recursive walk over the message descriptor:
 * each field's value is found at its offset in the struct (repeated fields
 * through their count and array), so no per-type code exists to fall out
 * of date when the .proto grows. Doubles print with 17 significant digits
 * so a script reads back exactly what the server sent. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "msgutil.h"

void fbc_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void print_base64(FILE *out, const ProtobufCBinaryData *b)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', out);
    for (size_t i = 0; i < b->len; i += 3) {
        unsigned v = (unsigned)b->data[i] << 16;
        if (i + 1 < b->len) v |= (unsigned)b->data[i + 1] << 8;
        if (i + 2 < b->len) v |= b->data[i + 2];
        fputc(tbl[v >> 18 & 63], out);
        fputc(tbl[v >> 12 & 63], out);
        fputc(i + 1 < b->len ? tbl[v >> 6 & 63] : '=', out);
        fputc(i + 2 < b->len ? tbl[v & 63] : '=', out);
    }
    fputc('"', out);
}

static void print_double(FILE *out, double d)
{
    if (isnan(d) || isinf(d)) fputs("null", out);
    else fprintf(out, "%.17g", d);
}

static void print_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *p);

static int is_map_entry(const ProtobufCMessageDescriptor *d)
{
    size_t n = strlen(d->name);
    return n > 5 && strcmp(d->name + n - 5, "Entry") == 0 && d->n_fields == 2 &&
           strcmp(d->fields[0].name, "key") == 0 && strcmp(d->fields[1].name, "value") == 0;
}

static void print_scalar_as_key(FILE *out, const ProtobufCFieldDescriptor *f, const void *p)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        fbc_json_string(out, *(char *const *)p);
    } else {
        fputc('"', out);
        print_value(out, f, p);
        fputc('"', out);
    }
}

static void print_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *p)
{
    if (fbc_print_integer(out, f, p)) return;
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT: print_double(out, *(const float *)p); break;
    case PROTOBUF_C_TYPE_DOUBLE: print_double(out, *(const double *)p); break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
        if (ev) fbc_json_string(out, ev->name);
        else fprintf(out, "%d", *(const int *)p);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        fbc_json_string(out, s ? s : "");
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: print_base64(out, (const ProtobufCBinaryData *)p); break;
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        if (m) fbc_json_print(out, m);
        else fputs("null", out);
        break;
    }
    default: break; /* integers and bools: fbc_print_integer */
    }
}

static void print_repeated(FILE *out, const ProtobufCFieldDescriptor *f, const ProtobufCMessage *msg)
{
    size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
    const char *arr = *(char *const *)((const char *)msg + f->offset);
    int map = f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor);
    fputc(map ? '{' : '[', out);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', out);
        const void *p = arr + i * fbc_field_elem_size(f);
        if (map) {
            const ProtobufCMessage *e = *(ProtobufCMessage *const *)p;
            const ProtobufCMessageDescriptor *d = e->descriptor;
            print_scalar_as_key(out, &d->fields[0], (const char *)e + d->fields[0].offset);
            fputc(':', out);
            print_value(out, &d->fields[1], (const char *)e + d->fields[1].offset);
        } else {
            print_value(out, f, p);
        }
    }
    fputc(map ? '}' : ']', out);
}

void fbc_json_print(FILE *out, const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    int first = 1;
    fputc('{', out);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)(base + f->quantifier_offset) != f->id) continue;
        } else if (f->label != PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                   !*(void *const *)(base + f->offset)) {
            continue;
        }
        if (!first) fputc(',', out);
        first = 0;
        fbc_json_string(out, f->name);
        fputc(':', out);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) print_repeated(out, f, msg);
        else print_value(out, f, base + f->offset);
    }
    fputc('}', out);
}
