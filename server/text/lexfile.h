/* lexfile.h — reading the lexicon file format (lexicons/README.md).
 *
 * One entry per line, fields separated by one TAB, '#' comment lines and
 * blank lines skipped, UTF-8 required. The reader hands each entry's
 * fields to a callback; a callback error or a malformed line stops the read
 * with FB_INVALID and a message naming file:line. */
#ifndef FB_LEXFILE_H
#define FB_LEXFILE_H

#include <stddef.h>

#include "error.h"

#define FB_LEXFILE_MAX_FIELDS 4

typedef struct fb_lexline {
    const char *path;
    unsigned lineno;
    size_t n_fields;
    const char *field[FB_LEXFILE_MAX_FIELDS];   /* NUL-terminated */
} fb_lexline;

/* Called per entry; returns FB_OK or an FB_* code with err filled by
 * fb_lexline_fail. */
typedef int (*fb_lexline_fn)(const fb_lexline *line, void *ctx, fb_err *err);

/* Reads path. A missing file is FB_NOT_FOUND (callers may treat it as
 * empty); unreadable: FB_INTERNAL; malformed: FB_INVALID. Fields must number
 * min_fields..max_fields (max <= FB_LEXFILE_MAX_FIELDS). */
int fb_lexfile_read(const char *path, size_t min_fields, size_t max_fields,
                    fb_lexline_fn fn, void *ctx, fb_err *err);

/* Sets err to FB_INVALID "path:line: <message>" and returns FB_INVALID. */
int fb_lexline_fail(const fb_lexline *line, fb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a number field in [lo, hi]; FB_INVALID naming file:line otherwise. */
int fb_lexline_number(const fb_lexline *line, size_t field, double lo, double hi,
                      double *out, fb_err *err);

#endif
