/* csv.h — RFC 4180 CSV rows: quoted fields, "" inside quotes, CRLF or LF,
 * newlines inside quoted fields. */
#ifndef FBC_CSV_H
#define FBC_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct fbc_csv_row {
    size_t n, cap;
    char **field;
    long line;   /* 1-based line of the file the row starts on */
} fbc_csv_row;

/* Reads the next row into row (reusing its storage). *lines counts the
 * newlines read so far (start it at 0 and pass the same counter to every
 * call), which gives row->line. Returns 1 for a row, 0 at end of file, -1
 * on an allocation failure. Blank lines are skipped. */
int fbc_csv_read(FILE *f, fbc_csv_row *row, long *lines);
void fbc_csv_free(fbc_csv_row *row);

#endif
