/* msgutil.h — building request messages from command-line values. */
#ifndef FBC_MSGUTIL_H
#define FBC_MSGUTIL_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdio.h>

#include "ctl.h"

/* A map<string,string> field from repeated "--<opt> k=v" options (or from
 * explicit pairs). Entries are allocated with entry_desc; free with
 * fbc_free_tags. Returns 0, or 2 after a usage error. */
int fbc_tags_from_args(const fbc_args *a, const char *opt, const ProtobufCMessageDescriptor *entry_desc,
                       size_t *n_out, void ***out);
/* Appends one key=value pair (copied). Returns 0 or -1. */
int fbc_tags_add(const ProtobufCMessageDescriptor *entry_desc, size_t *n, void ***arr,
                 const char *key, const char *value);
void fbc_free_tags(size_t n, void **arr);

/* Enum value by case-insensitive name ("promoter" -> PROMOTER), -1 if none. */
int fbc_enum_value(const ProtobufCEnumDescriptor *d, const char *name);
const char *fbc_enum_name(const ProtobufCEnumDescriptor *d, int value);

/* Size of one element of a repeated field's array in the generated struct. */
size_t fbc_field_elem_size(const ProtobufCFieldDescriptor *f);

/* Prints an integer or bool field value (p points at it) the same way for
 * human and JSON output; returns false, printing nothing, for other types. */
bool fbc_print_integer(FILE *out, const ProtobufCFieldDescriptor *f, const void *p);

#endif
