/* cmd_ingest.c — submit and review: posting one piece of feedback.
 *
 * Flags map one to one onto the request fields; the server validates (its
 * message names the field and rule), the client only checks that numbers
 * and times parse. import is in cmd_import.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
