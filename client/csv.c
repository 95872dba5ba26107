/* csv.c — see csv.h. A small state machine over getc(): inside quotes
 * everything is data except a quote (doubled: a literal quote; single: the
 * end of quoting); outside, a comma ends a field and a newline the row.
 * Reading by character keeps memory to one row, whatever the file size. */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

typedef struct buf {
    char *s;
    size_t len, cap;
} buf;

static int buf_put(buf *b, int ch)
{
    if (b->len + 1 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *s = realloc(b->s, cap);
        if (!s) return -1;
        b->s = s;
        b->cap = cap;
    }
    b->s[b->len++] = (char)ch;
    b->s[b->len] = 0;
    return 0;
}

static int row_push(fbc_csv_row *row, buf *b)
{
    if (row->n == row->cap) {
        size_t cap = row->cap ? row->cap * 2 : 16;
        char **f = realloc(row->field, cap * sizeof *f);
        if (!f) return -1;
        row->field = f;
        row->cap = cap;
    }
    row->field[row->n++] = b->s ? b->s : strdup("");
    memset(b, 0, sizeof *b);
    return 0;
}

static void row_clear(fbc_csv_row *row)
{
    for (size_t i = 0; i < row->n; i++) free(row->field[i]);
    row->n = 0;
}

int fbc_csv_read(FILE *f, fbc_csv_row *row, long *lines)
{
    row_clear(row);
    row->line = *lines + 1;
    buf b = {0};
    int quoted = 0, any = 0, ch;
    for (;;) {
        ch = getc(f);
        if (ch == EOF) break;
        if (ch == '\n') ++*lines;
        if (quoted) {
            if (ch == '"') {
                int next = getc(f);
                if (next == '"') { if (buf_put(&b, '"')) goto oom; continue; }
                quoted = 0;
                if (next == EOF) break;
                ungetc(next, f);
                continue;
            }
            if (buf_put(&b, ch)) goto oom;
            continue;
        }
        if (ch == '"') { quoted = 1; any = 1; continue; }
        if (ch == ',') { any = 1; if (row_push(row, &b)) goto oom; continue; }
        if (ch == '\r') continue;
        if (ch == '\n') {
            if (!any && b.len == 0 && row->n == 0) { row->line = *lines + 1; continue; } /* blank line */
            break;
        }
        any = 1;
        if (buf_put(&b, ch)) goto oom;
    }
    if (!any && b.len == 0 && row->n == 0) { free(b.s); return 0; }
    if (row_push(row, &b)) goto oom;
    return 1;
oom:
    free(b.s);
    return -1;
}

void fbc_csv_free(fbc_csv_row *row)
{
    row_clear(row);
    free(row->field);
    memset(row, 0, sizeof *row);
}
