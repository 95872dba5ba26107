/* cmd_ingest.c — submit, review, import: posting feedback.
 *
 * import reads a CSV file (RFC 4180: quoted fields, doubled quotes, newlines
 * inside quotes) whose header row names the columns, and streams one
 * ImportItem per row over Ingest.Import; the server answers with a summary
 * once everything is durable. On a terminal a progress bar shows how much of
 * the file has been sent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "ctl.h"
#include "feedback/v1/ingest.pb-c.h"
#include "json.h"
#include "msgutil.h"

static void print_submitted(fbc_ctx *c, const Feedback__V1__Submitted *s)
{
    if (c->json) {
        fbc_json_print(stdout, &s->base);
        fputc('\n', stdout);
        return;
    }
    printf("%s %s  category %s", s->duplicate ? "duplicate of" : "stored", s->id,
           fbc_enum_name(&feedback__v1__category__descriptor, s->category));
    if (s->sentiment)
        printf("  sentiment %s %+.2f", fbc_enum_name(&feedback__v1__label__descriptor, s->sentiment->label),
               s->sentiment->compound);
    fputc('\n', stdout);
    for (size_t i = 0; i < s->n_alert_ids; i++) printf("alert raised: %s\n", s->alert_ids[i]);
}

static int parse_int(const char *s, const char *what, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < -2147483647L || v > 2147483647L)
        return fbc_usage("%s must be a whole number, got '%s'", what, s);
    *out = (int)v;
    return 0;
}

static int submitted_call(fbc_ctx *c, const char *method, const ProtobufCMessage *req)
{
    ProtobufCMessage *resp;
    fbc_status st;
    if (fbc_unary(&c->conn, method, req, &feedback__v1__submitted__descriptor, &resp, &st) != GRPC_STATUS_OK)
        return fbc_fail(c, &st);
    print_submitted(c, (Feedback__V1__Submitted *)resp);
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}

int cmd_submit(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"survey", "score", "comment", "respondent", "channel", "tag",
                                        "at", "idempotency-key", "language", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    Feedback__V1__SubmitResponseRequest req = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__INIT;
    const char *v;
    if ((v = fbc_arg(&a, "survey"))) req.survey_id = (char *)v;
    if ((v = fbc_arg(&a, "score"))) {
        if ((rc = parse_int(v, "--score", &req.score))) return rc;
        req.score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE;
    }
    if ((v = fbc_arg(&a, "comment"))) req.comment = (char *)v;
    if ((v = fbc_arg(&a, "respondent"))) req.respondent_id = (char *)v;
    if ((v = fbc_arg(&a, "channel"))) req.channel = (char *)v;
    if ((v = fbc_arg(&a, "idempotency-key"))) req.idempotency_key = (char *)v;
    if ((v = fbc_arg(&a, "language"))) req.language = (char *)v;
    if ((v = fbc_arg(&a, "at")) && fbc_parse_time(v, &req.submitted_at_ms) != 0)
        return fbc_usage("--at: not a time: '%s'", v);
    if ((rc = fbc_tags_from_args(&a, "tag", &feedback__v1__submit_response_request__tags_entry__descriptor,
                                 &req.n_tags, (void ***)&req.tags)))
        return rc;
    rc = submitted_call(c, "/feedback.v1.Ingest/SubmitResponse", &req.base);
    fbc_free_tags(req.n_tags, (void **)req.tags);
    return rc;
}

int cmd_review(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"source", "external-id", "rating", "title", "text", "respondent",
                                        "channel", "survey", "tag", "at", "idempotency-key", "language", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    Feedback__V1__SubmitReviewRequest req = FEEDBACK__V1__SUBMIT_REVIEW_REQUEST__INIT;
    const char *v;
    if ((v = fbc_arg(&a, "source"))) req.source = (char *)v;
    if ((v = fbc_arg(&a, "external-id"))) req.external_id = (char *)v;
    if ((v = fbc_arg(&a, "rating")) && (rc = parse_int(v, "--rating", &req.rating))) return rc;
    if ((v = fbc_arg(&a, "title"))) req.title = (char *)v;
    if ((v = fbc_arg(&a, "text"))) req.text = (char *)v;
    if ((v = fbc_arg(&a, "respondent"))) req.respondent_id = (char *)v;
    if ((v = fbc_arg(&a, "channel"))) req.channel = (char *)v;
    if ((v = fbc_arg(&a, "survey"))) req.survey_id = (char *)v;
    if ((v = fbc_arg(&a, "idempotency-key"))) req.idempotency_key = (char *)v;
    if ((v = fbc_arg(&a, "language"))) req.language = (char *)v;
    if ((v = fbc_arg(&a, "at")) && fbc_parse_time(v, &req.submitted_at_ms) != 0)
        return fbc_usage("--at: not a time: '%s'", v);
    if ((rc = fbc_tags_from_args(&a, "tag", &feedback__v1__submit_review_request__tags_entry__descriptor,
                                 &req.n_tags, (void ***)&req.tags)))
        return rc;
    rc = submitted_call(c, "/feedback.v1.Ingest/SubmitReview", &req.base);
    fbc_free_tags(req.n_tags, (void **)req.tags);
    return rc;
}

/* ---- import ---- */

enum col {
    COL_TYPE, COL_SURVEY, COL_SCORE, COL_COMMENT, COL_RATING, COL_SOURCE, COL_EXTERNAL_ID, COL_TITLE,
    COL_TEXT, COL_RESPONDENT, COL_CHANNEL, COL_AT, COL_IDEM, COL_LANGUAGE, COL_TAG, COL_UNKNOWN,
};
static const char *const col_names[] = {
    "type", "survey_id", "score", "comment", "rating", "source", "external_id", "title", "text",
    "respondent_id", "channel", "submitted_at", "idempotency_key", "language",
};

static enum col column_of(const char *name)
{
    for (int i = 0; i < COL_TAG; i++)
        if (strcmp(name, col_names[i]) == 0) return (enum col)i;
    if (strcmp(name, "submitted_at_ms") == 0) return COL_AT;
    if (strncmp(name, "tag:", 4) == 0 && name[4]) return COL_TAG;
    return COL_UNKNOWN;
}

/* One row -> one ImportItem. Values that do not parse are sent as they are
 * impossible (e.g. score -1) so the server reports them with the rest. */
static void build_item(const fbc_csv_row *hdr, const enum col *cols, const fbc_csv_row *row,
                       Feedback__V1__ImportItem *item, Feedback__V1__SubmitResponseRequest *resp,
                       Feedback__V1__SubmitReviewRequest *rev)
{
    int is_review = 0;
    for (size_t i = 0; i < row->n && i < hdr->n; i++)
        if (cols[i] == COL_TYPE && strcmp(row->field[i], "review") == 0) is_review = 1;
    for (size_t i = 0; i < row->n && i < hdr->n; i++) {
        char *v = row->field[i];
        if (!*v) continue;
        char *end;
        switch (cols[i]) {
        case COL_SURVEY: if (is_review) rev->survey_id = v; else resp->survey_id = v; break;
        case COL_SCORE:
            resp->score = (int)strtol(v, &end, 10);
            if (*end) resp->score = -1;
            resp->score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE;
            break;
        case COL_COMMENT: resp->comment = v; break;
        case COL_RATING: rev->rating = (int)strtol(v, &end, 10); if (*end) rev->rating = -1; break;
        case COL_SOURCE: rev->source = v; break;
        case COL_EXTERNAL_ID: rev->external_id = v; break;
        case COL_TITLE: rev->title = v; break;
        case COL_TEXT: if (is_review) rev->text = v; else resp->comment = v; break;
        case COL_RESPONDENT: if (is_review) rev->respondent_id = v; else resp->respondent_id = v; break;
        case COL_CHANNEL: if (is_review) rev->channel = v; else resp->channel = v; break;
        case COL_IDEM: if (is_review) rev->idempotency_key = v; else resp->idempotency_key = v; break;
        case COL_LANGUAGE: if (is_review) rev->language = v; else resp->language = v; break;
        case COL_AT: {
            int64_t ms = -1;
            if (fbc_parse_time(v, &ms) != 0) ms = -1;
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
}

static void progress(long done, long total, size_t rows)
{
    int width = 40, filled = total > 0 ? (int)(done * width / total) : width;
    fprintf(stderr, "\r[");
    for (int i = 0; i < width; i++) fputs(i < filled ? "#" : "-", stderr);
    fprintf(stderr, "] %3d%%  %zu rows", total > 0 ? (int)(done * 100 / total) : 100, rows);
    fflush(stderr);
}

static int print_summary(fbc_ctx *c, const Feedback__V1__ImportSummary *s)
{
    if (c->json) {
        fbc_json_print(stdout, &s->base);
        fputc('\n', stdout);
        return 0;
    }
    printf("imported: %u accepted, %u duplicates, %u rejected\n", s->accepted, s->duplicates, s->rejected);
    for (size_t i = 0; i < s->n_rejections; i++) {
        const Feedback__V1__Rejection *r = s->rejections[i];
        printf("  row %u (item %u): %s: %s\n", r->index + 2, r->index, r->field, r->reason);
    }
    if (s->rejected > s->n_rejections)
        printf("  … and %u more rejected rows\n", s->rejected - (unsigned)s->n_rejections);
    return 0;
}

int cmd_import(fbc_ctx *c, int argc, char **argv)
{
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, NULL))) return rc;
    if (a.npos != 1) return fbc_usage("import takes one CSV file");
    FILE *f = fopen(a.pos[0], "r");
    if (!f) { fprintf(stderr, "feedbackctl: %s: %s\n", a.pos[0], strerror(errno)); return 2; }
    struct stat sb;
    long total = fstat(fileno(f), &sb) == 0 ? (long)sb.st_size : 0;
    fbc_csv_row hdr = {0}, row = {0};
    if (fbc_csv_read(f, &hdr) <= 0) { fclose(f); return fbc_usage("%s: empty file (a header row is required)", a.pos[0]); }
    enum col cols[256];
    for (size_t i = 0; i < hdr.n && i < 256; i++) {
        cols[i] = column_of(hdr.field[i]);
        if (cols[i] == COL_UNKNOWN) fprintf(stderr, "feedbackctl: ignoring unknown column '%s'\n", hdr.field[i]);
    }
    int show = c->err_tty && !c->json; /* the bar goes to stderr */
    fbc_stream *s = fbc_stream_open(&c->conn, "/feedback.v1.Ingest/Import", NULL, 0, 0);
    size_t rows = 0;
    int sent_ok = 1;
    while (sent_ok && fbc_csv_read(f, &row) > 0) {
        Feedback__V1__ImportItem item = FEEDBACK__V1__IMPORT_ITEM__INIT;
        Feedback__V1__SubmitResponseRequest resp = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__INIT;
        Feedback__V1__SubmitReviewRequest rev = FEEDBACK__V1__SUBMIT_REVIEW_REQUEST__INIT;
        build_item(&hdr, cols, &row, &item, &resp, &rev);
        sent_ok = fbc_stream_send(s, &item.base) == 0;
        fbc_free_tags(resp.n_tags, (void **)resp.tags);
        fbc_free_tags(rev.n_tags, (void **)rev.tags);
        rows++;
        if (show && rows % 200 == 0) progress(ftell(f), total, rows);
    }
    if (show) { progress(total, total, rows); fputc('\n', stderr); }
    fbc_csv_free(&hdr);
    fbc_csv_free(&row);
    fclose(f);
    fbc_stream_close_send(s);
    ProtobufCMessage *m = NULL;
    int got = fbc_stream_recv(s, &feedback__v1__import_summary__descriptor, &m);
    fbc_status st;
    if (fbc_stream_finish(s, &st) != GRPC_STATUS_OK || got != 1) {
        if (m) protobuf_c_message_free_unpacked(m, NULL);
        return fbc_fail(c, &st);
    }
    rc = print_summary(c, (Feedback__V1__ImportSummary *)m);
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}
