/* cmd_import.c — import FILE.csv: bulk loading over Ingest.Import.
 *
 * The CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes)
 * names its columns in the header row; each later row becomes one
 * ImportItem on a client stream, and the server answers with a summary once
 * everything is durable. The server validates; the client rejects only what
 * it cannot even put in a message (a score that is not a number, a time it
 * cannot read, an unknown type) and does not send those rows. Both kinds of
 * rejection are reported together by row number (the header is row 1) and
 * by the line the row starts on, since a quoted newline makes the two
 * differ: that is what a person needs to find the row in an editor. On a
 * terminal a progress bar on stderr shows how much of the file was sent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "ctl.h"
#include "feedback/v1/ingest.pb-c.h"
#include "json.h"
#include "msgutil.h"

enum col {
    COL_TYPE, COL_SURVEY, COL_SCORE, COL_COMMENT, COL_RATING, COL_SOURCE, COL_EXTERNAL_ID, COL_TITLE,
    COL_TEXT, COL_RESPONDENT, COL_CHANNEL, COL_AT, COL_IDEM, COL_LANGUAGE, COL_TAG, COL_UNKNOWN,
};
static const char *const col_names[] = {
    "type", "survey_id", "score", "comment", "rating", "source", "external_id", "title", "text",
    "respondent_id", "channel", "submitted_at", "idempotency_key", "language",
};
#define MAX_COLS 256

/* One rejected row, from the client or the server. */
typedef struct rejection {
    long row, line;
    char *field, *reason;
} rejection;

typedef struct import_state {
    long *row_of, *line_of; /* per sent item: its row and line */
    size_t sent, cap;
    rejection *rej;         /* client-side rejections */
    size_t n_rej, cap_rej;
} import_state;

static enum col column_of(const char *name)
{
    for (int i = 0; i < COL_TAG; i++)
        if (strcmp(name, col_names[i]) == 0) return (enum col)i;
    if (strcmp(name, "submitted_at_ms") == 0) return COL_AT;
    if (strncmp(name, "tag:", 4) == 0 && name[4]) return COL_TAG;
    return COL_UNKNOWN;
}

static int parse_whole(const char *v, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < -1000000 || n > 1000000) return -1;
    *out = (int)n;
    return 0;
}

/* One row -> one ImportItem. Returns NULL, or the column whose value
 * cannot be sent (the reason is written to why). */
static const char *build_item(const fbc_csv_row *hdr, const enum col *cols, const fbc_csv_row *row,
                              Feedback__V1__ImportItem *item, Feedback__V1__SubmitResponseRequest *resp,
                              Feedback__V1__SubmitReviewRequest *rev, char *why, size_t whylen)
{
    int is_review = 0;
    size_t n = row->n < hdr->n ? row->n : hdr->n;
    for (size_t i = 0; i < n; i++) {
        if (cols[i] != COL_TYPE || !*row->field[i]) continue;
        if (strcmp(row->field[i], "review") == 0) is_review = 1;
        else if (strcmp(row->field[i], "response") != 0) {
            snprintf(why, whylen, "must be response or review, got '%s'", row->field[i]);
            return "type";
        }
    }
    for (size_t i = 0; i < n; i++) {
        char *v = row->field[i];
        if (!*v) continue;
        switch (cols[i]) {
        case COL_SURVEY: if (is_review) rev->survey_id = v; else resp->survey_id = v; break;
        case COL_SCORE:
            if (parse_whole(v, &resp->score) != 0) {
                snprintf(why, whylen, "not a whole number: '%s'", v);
                return "score";
            }
            resp->score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE;
            break;
        case COL_COMMENT: resp->comment = v; break;
        case COL_RATING:
            if (parse_whole(v, &rev->rating) != 0) {
                snprintf(why, whylen, "not a whole number: '%s'", v);
                return "rating";
            }
            break;
        case COL_SOURCE: rev->source = v; break;
        case COL_EXTERNAL_ID: rev->external_id = v; break;
        case COL_TITLE: rev->title = v; break;
        case COL_TEXT: if (is_review) rev->text = v; else resp->comment = v; break;
        case COL_RESPONDENT: if (is_review) rev->respondent_id = v; else resp->respondent_id = v; break;
        case COL_CHANNEL: if (is_review) rev->channel = v; else resp->channel = v; break;
        case COL_IDEM: if (is_review) rev->idempotency_key = v; else resp->idempotency_key = v; break;
        case COL_LANGUAGE: if (is_review) rev->language = v; else resp->language = v; break;
        case COL_AT: {
            int64_t ms;
            if (fbc_parse_time(v, &ms) != 0) {
                snprintf(why, whylen, "not a time (ms since the epoch or 2026-11-01[THH:MM[:SS]]): '%s'", v);
                return "submitted_at";
            }
            if (is_review) rev->submitted_at_ms = ms; else resp->submitted_at_ms = ms;
            break;
        }
        case COL_TAG:
            if (is_review)
                fbc_tags_add(&feedback__v1__submit_review_request__tags_entry__descriptor, &rev->n_tags,
                             (void ***)&rev->tags, hdr->field[i] + 4, v);
            else
                fbc_tags_add(&feedback__v1__submit_response_request__tags_entry__descriptor, &resp->n_tags,
                             (void ***)&resp->tags, hdr->field[i] + 4, v);
            break;
        default: break;
        }
    }
    if (is_review) {
        item->item_case = FEEDBACK__V1__IMPORT_ITEM__ITEM_REVIEW;
        item->review = rev;
    } else {
        item->item_case = FEEDBACK__V1__IMPORT_ITEM__ITEM_RESPONSE;
        item->response = resp;
    }
    return NULL;
}

static int note_sent(import_state *st, long row, long line)
{
    if (st->sent == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 256;
        long *r = realloc(st->row_of, cap * sizeof *r);
        if (!r) return -1;
        st->row_of = r;
        long *l = realloc(st->line_of, cap * sizeof *l);
        if (!l) return -1;
        st->line_of = l;
        st->cap = cap;
    }
    st->row_of[st->sent] = row;
    st->line_of[st->sent++] = line;
    return 0;
}

static int note_rejected(import_state *st, long row, long line, const char *field, const char *reason)
{
    if (st->n_rej == st->cap_rej) {
        size_t cap = st->cap_rej ? st->cap_rej * 2 : 16;
        rejection *r = realloc(st->rej, cap * sizeof *r);
        if (!r) return -1;
        st->rej = r;
        st->cap_rej = cap;
    }
    rejection *r = &st->rej[st->n_rej++];
    r->row = row;
    r->line = line;
    r->field = strdup(field);
    r->reason = strdup(reason);
    return r->field && r->reason ? 0 : -1;
}

static void state_free(import_state *st)
{
    for (size_t i = 0; i < st->n_rej; i++) {
        free(st->rej[i].field);
        free(st->rej[i].reason);
    }
    free(st->rej);
    free(st->row_of);
    free(st->line_of);
}

static void progress(long done, long total, size_t rows)
{
    if (total <= 0 || done < 0) { /* a pipe: no size to measure against */
        fprintf(stderr, "\r%zu rows sent", rows);
        fflush(stderr);
        return;
    }
    int width = 40, filled = (int)(done * width / total);
    fputs("\r[", stderr);
    for (int i = 0; i < width; i++) fputs(i < filled ? "#" : "-", stderr);
    fprintf(stderr, "] %3d%%  %zu rows", (int)(done * 100 / total), rows);
    fflush(stderr);
}

static int by_row(const void *a, const void *b)
{
    long x = ((const rejection *)a)->row, y = ((const rejection *)b)->row;
    return (x > y) - (x < y);
}

/* Adds the server's rejections (by item index) to the client's, sorted by row. */
static int merge(import_state *st, const Feedback__V1__ImportSummary *s)
{
    for (size_t i = 0; i < s->n_rejections; i++) {
        const Feedback__V1__Rejection *r = s->rejections[i];
        long row = r->index < st->sent ? st->row_of[r->index] : -1;
        long line = r->index < st->sent ? st->line_of[r->index] : -1;
        if (note_rejected(st, row, line, r->field, r->reason) != 0) return -1;
    }
    if (st->n_rej > 1) qsort(st->rej, st->n_rej, sizeof *st->rej, by_row);
    return 0;
}

static void print_summary(const fbc_ctx *c, const import_state *st, const Feedback__V1__ImportSummary *s)
{
    size_t rejected = s->rejected + (st->n_rej - s->n_rejections);
    size_t unlisted = s->rejected > s->n_rejections ? s->rejected - s->n_rejections : 0;
    if (c->json) {
        printf("{\"accepted\":%u,\"duplicates\":%u,\"rejected\":%zu,\"rejections\":[", s->accepted, s->duplicates,
               rejected);
        for (size_t i = 0; i < st->n_rej; i++) {
            printf("%s{\"row\":%ld,\"line\":%ld,\"field\":", i ? "," : "", st->rej[i].row, st->rej[i].line);
            fbc_json_string(stdout, st->rej[i].field);
            fputs(",\"reason\":", stdout);
            fbc_json_string(stdout, st->rej[i].reason);
            fputc('}', stdout);
        }
        printf("],\"unlisted_rejections\":%zu}\n", unlisted);
        return;
    }
    printf("imported: %u accepted, %u duplicates, %zu rejected\n", s->accepted, s->duplicates, rejected);
    for (size_t i = 0; i < st->n_rej; i++)
        printf("  row %ld (line %ld): %s: %s\n", st->rej[i].row, st->rej[i].line, st->rej[i].field,
               st->rej[i].reason);
    if (unlisted) printf("  … and %zu more rejected rows (the server lists the first %zu)\n", unlisted,
                         s->n_rejections);
}

/* Sends every row; returns the number of rows read, or -1 on out of memory. */
static long send_rows(fbc_ctx *c, FILE *f, long *lines, const fbc_csv_row *hdr, const enum col *cols,
                      fbc_stream *s, import_state *st)
{
    fbc_csv_row row = {0};
    long total = 0, rows = 1; /* the header is row 1 */
    int show = c->err_tty && !c->json, rc;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0) total = (long)sb.st_size;
    while ((rc = fbc_csv_read(f, &row, lines)) > 0) {
        rows++;
        Feedback__V1__ImportItem item = FEEDBACK__V1__IMPORT_ITEM__INIT;
        Feedback__V1__SubmitResponseRequest resp = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__INIT;
        Feedback__V1__SubmitReviewRequest rev = FEEDBACK__V1__SUBMIT_REVIEW_REQUEST__INIT;
        char why[256];
        const char *bad = build_item(hdr, cols, &row, &item, &resp, &rev, why, sizeof why);
        int sent_ok = 1;
        if (bad) {
            if (note_rejected(st, rows, row.line, bad, why) != 0) rc = -1;
        } else {
            if (note_sent(st, rows, row.line) != 0) rc = -1;
            sent_ok = fbc_stream_send(s, &item.base) == 0;
        }
        fbc_free_tags(resp.n_tags, (void **)resp.tags);
        fbc_free_tags(rev.n_tags, (void **)rev.tags);
        if (rc < 0 || !sent_ok) break; /* !sent_ok: the call is over; its status says why */
        if (show && (rows - 1) % 200 == 0) progress(ftell(f), total, (size_t)rows - 1);
    }
    if (show) { progress(total, total, (size_t)rows - 1); fputc('\n', stderr); }
    fbc_csv_free(&row);
    return rc < 0 ? -1 : rows - 1;
}

/* Spreadsheets often save CSV as UTF-8 with a byte order mark; without
 * this the first column's name would not match. */
static void skip_bom(FILE *f)
{
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) return; /* a pipe cannot be rewound */
    unsigned char b[3];
    size_t n = fread(b, 1, 3, f);
    if (!(n == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)) rewind(f);
}

static int import_file(fbc_ctx *c, const char *path, FILE *f, import_state *st)
{
    fbc_csv_row hdr = {0};
    long lines = 0;
    skip_bom(f);
    if (fbc_csv_read(f, &hdr, &lines) <= 0) {
        fbc_csv_free(&hdr);
        return fbc_usage("%s: empty file (the first row must name the columns, e.g. survey_id,score,comment)",
                         path);
    }
    enum col cols[MAX_COLS];
    if (hdr.n > MAX_COLS) hdr.n = MAX_COLS; /* columns past the limit are ignored */
    size_t known = 0;
    for (size_t i = 0; i < hdr.n; i++) known += (cols[i] = column_of(hdr.field[i])) != COL_UNKNOWN;
    if (!known) {
        fbc_csv_free(&hdr);
        return fbc_usage("%s: the first row names no known column; it must be a header such as "
                         "survey_id,score,comment", path);
    }
    for (size_t i = 0; i < hdr.n; i++)
        if (cols[i] == COL_UNKNOWN)
            fprintf(stderr, "feedbackctl: %s: ignoring unknown column '%s' (see feedbackctl import --help)\n",
                    path, hdr.field[i]);
    fbc_stream *s = fbc_stream_open(&c->conn, "/feedback.v1.Ingest/Import", NULL, 0, 0);
    if (!s) { fbc_csv_free(&hdr); return fbc_usage("out of memory"); }
    long rows = send_rows(c, f, &lines, &hdr, cols, s, st);
    fbc_csv_free(&hdr);
    fbc_stream_close_send(s);
    ProtobufCMessage *m = NULL;
    int got = fbc_stream_recv(s, &feedback__v1__import_summary__descriptor, &m);
    fbc_status status;
    if (fbc_stream_finish(s, &status) != GRPC_STATUS_OK || got != 1) {
        if (m) protobuf_c_message_free_unpacked(m, NULL);
        return fbc_fail(c, &status);
    }
    const Feedback__V1__ImportSummary *sum = (const Feedback__V1__ImportSummary *)m;
    int rc = 0;
    if (rows < 0 || merge(st, sum) != 0) {
        fprintf(stderr, "feedbackctl: out of memory while importing %s\n", path);
        rc = 1;
    } else {
        print_summary(c, st, sum);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

int cmd_import(fbc_ctx *c, int argc, char **argv)
{
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, NULL))) return rc;
    if (a.npos != 1) return fbc_usage("import takes one CSV file");
    int from_stdin = strcmp(a.pos[0], "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(a.pos[0], "r");
    if (!f) {
        fprintf(stderr, "feedbackctl: cannot open %s: %s\n", a.pos[0], strerror(errno));
        return 2;
    }
    import_state st;
    memset(&st, 0, sizeof st);
    rc = import_file(c, a.pos[0], f, &st);
    state_free(&st);
    if (!from_stdin) fclose(f);
    return rc;
}
