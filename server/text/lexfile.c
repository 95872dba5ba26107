/* lexfile.c — line-oriented reader for lexicon files.
 *
 * Files are small (tens of KiB) and read once at start, so clarity wins:
 * getline, strip CR/LF, split on TAB in place, validate, call back. Errors
 * carry file:line because a broken lexicon must stop the server with a
 * message that points at the exact line to fix. */
#include "lexfile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

int fb_lexline_fail(const fb_lexline *line, fb_err *err, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fb_err_set(err, FB_INVALID, "%s:%u: %s", line->path, line->lineno, msg);
}

int fb_lexline_number(const fb_lexline *line, size_t field, double lo, double hi,
                      double *out, fb_err *err)
{
    const char *s = line->field[field];
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return fb_lexline_fail(line, err, "field %zu: expected a number, got '%s'", field + 1, s);
    if (v < lo || v > hi)
        return fb_lexline_fail(line, err, "field %zu: must be %g..%g, got %s", field + 1, lo, hi, s);
    *out = v;
    return FB_OK;
}

static int split_fields(char *buf, fb_lexline *line, size_t min_f, size_t max_f, fb_err *err)
{
    line->n_fields = 0;
    char *p = buf;
    for (;;) {
        char *tab = strchr(p, '\t');
        if (line->n_fields == max_f)
            return fb_lexline_fail(line, err, "expected at most %zu TAB-separated fields", max_f);
        line->field[line->n_fields++] = p;
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    if (line->n_fields < min_f)
        return fb_lexline_fail(line, err, "expected %zu TAB-separated fields, got %zu",
                               min_f, line->n_fields);
    for (size_t i = 0; i < line->n_fields; i++)
        if (!*line->field[i]) return fb_lexline_fail(line, err, "field %zu is empty", i + 1);
    return FB_OK;
}

static int handle_line(char *buf, size_t n, fb_lexline *line, size_t min_f, size_t max_f,
                       fb_lexline_fn fn, void *ctx, fb_err *err)
{
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    if (n == 0 || buf[0] == '#') return FB_OK;
    if (strlen(buf) != n) return fb_lexline_fail(line, err, "NUL byte in line");
    if (!fb_utf8_valid(buf, n)) return fb_lexline_fail(line, err, "not valid UTF-8");
    int rc = split_fields(buf, line, min_f, max_f, err);
    return rc ? rc : fn(line, ctx, err);
}

int fb_lexfile_read(const char *path, size_t min_fields, size_t max_fields,
                    fb_lexline_fn fn, void *ctx, fb_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return fb_err_set(err, FB_NOT_FOUND, "%s: no such file", path);
        return fb_err_set(err, FB_INTERNAL, "%s: %s", path, strerror(errno));
    }
    fb_lexline line = { .path = path };
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = FB_OK;
    while (rc == FB_OK && (n = getline(&buf, &cap, f)) >= 0) {
        line.lineno++;
        rc = handle_line(buf, (size_t)n, &line, min_fields, max_fields, fn, ctx, err);
    }
    if (rc == FB_OK && ferror(f)) rc = fb_err_set(err, FB_INTERNAL, "%s: read error", path);
    free(buf);
    fclose(f);
    return rc;
}
