/* cmd_insights.c — list, analyze, nps, terms: what dashboards ask, on a
 * terminal. (trend lives in cmd_trend.c with its charts.) */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "feedback/v1/insights.pb-c.h"
#include "json.h"
#include "msgutil.h"
#include "offline.h"
#include "sentiment.h"

/* Unary call + JSON or human printer; frees the reply. */
int fbc_call_print(fbc_ctx *c, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *resp_desc, void (*human)(const fbc_ctx *, const ProtobufCMessage *))
{
    ProtobufCMessage *resp;
    fbc_status st;
    if (fbc_unary(&c->conn, method, req, resp_desc, &resp, &st) != GRPC_STATUS_OK) return fbc_fail(c, &st);
    if (c->json || !human) {
        fbc_json_print(stdout, resp);
        fputc('\n', stdout);
    } else {
        human(c, resp);
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}

int fbc_range_args(const fbc_args *a, int64_t *from, int64_t *to)
{
    const char *v;
    if ((v = fbc_arg(a, "from")) && fbc_parse_time(v, from) != 0) return fbc_usage("--from: not a time: '%s'", v);
    if ((v = fbc_arg(a, "to")) && fbc_parse_time(v, to) != 0) return fbc_usage("--to: not a time: '%s'", v);
    return 0;
}

/* --channel and --tag k=v into a Filter (caller frees tags). */
int fbc_filter_args(const fbc_args *a, Feedback__V1__Filter *f)
{
    const char *v;
    if ((v = fbc_arg(a, "channel"))) f->channel = (char *)v;
    return fbc_tags_from_args(a, "tag", &feedback__v1__filter__tags_entry__descriptor, &f->n_tags,
                              (void ***)&f->tags);
}

/* ---- list ---- */

static void print_page(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    const Feedback__V1__FeedbackPage *p = (const Feedback__V1__FeedbackPage *)m;
    for (size_t i = 0; i < p->n_items; i++) {
        const Feedback__V1__Feedback *f = p->items[i];
        char when[32];
        fbc_format_time(f->submitted_at_ms, when, sizeof when);
        const char *text = f->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW ? f->text : f->comment;
        printf("%s  %s  ", when, f->id);
        if (f->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW) printf("review %s %d★", f->source, f->rating);
        else printf("%s score %d", f->survey_id, f->score);
        printf("  %s", fbc_enum_name(&feedback__v1__category__descriptor, f->category));
        if (f->sentiment)
            printf("  %s %+.2f", fbc_enum_name(&feedback__v1__label__descriptor, f->sentiment->label),
                   f->sentiment->compound);
        if (text && *text) { fputs("  ", stdout); fbc_print_excerpt(stdout, text, 70); }
        fputc('\n', stdout);
    }
    if (p->n_items == 0) printf("no feedback matches\n");
    if (p->next_page_token && *p->next_page_token) printf("more: --page-token %s\n", p->next_page_token);
}

int cmd_list(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"survey", "from", "to", "category", "label", "channel", "tag",
                                        "respondent", "limit", "page-token", "kind", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    Feedback__V1__ListQuery q = FEEDBACK__V1__LIST_QUERY__INIT;
    const char *v;
    if ((rc = fbc_range_args(&a, &q.from_ms, &q.to_ms))) return rc;
    if ((v = fbc_arg(&a, "survey"))) q.survey_id = (char *)v;
    if ((v = fbc_arg(&a, "channel"))) q.channel = (char *)v;
    if ((v = fbc_arg(&a, "respondent"))) q.respondent_id = (char *)v;
    if ((v = fbc_arg(&a, "page-token"))) q.page_token = (char *)v;
    uint64_t n;
    if ((v = fbc_arg(&a, "limit"))) {
        if ((rc = fbc_parse_count(v, "--limit", UINT32_MAX, &n))) return rc;
        q.page_size = (uint32_t)n;
    }
    if ((v = fbc_arg(&a, "category"))) {
        int e = fbc_enum_value(&feedback__v1__category__descriptor, v);
        if (e <= 0) return fbc_usage("--category: promoter, passive or detractor, got '%s'", v);
        q.category = (Feedback__V1__Category)e;
    }
    if ((v = fbc_arg(&a, "label"))) {
        int e = fbc_enum_value(&feedback__v1__label__descriptor, v);
        if (e <= 0) return fbc_usage("--label: very_negative … mixed, got '%s'", v);
        q.label = (Feedback__V1__Label)e;
    }
    if ((v = fbc_arg(&a, "kind"))) {
        int e = fbc_enum_value(&feedback__v1__feedback_kind__descriptor, v);
        if (e <= 0) return fbc_usage("--kind: response or review, got '%s'", v);
        q.kind = (Feedback__V1__FeedbackKind)e;
    }
    if ((rc = fbc_tags_from_args(&a, "tag", &feedback__v1__list_query__tags_entry__descriptor, &q.n_tags,
                                 (void ***)&q.tags)))
        return rc;
    rc = fbc_call_print(c, "/feedback.v1.Insights/ListFeedback", &q.base, &feedback__v1__feedback_page__descriptor,
                        print_page);
    fbc_free_tags(q.n_tags, (void **)q.tags);
    return rc;
}

/* ---- analyze ---- */

static void print_sentiment(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    const Feedback__V1__Sentiment *s = (const Feedback__V1__Sentiment *)m;
    printf("%s  %+.4f  (language %s; positive %.2f, negative %.2f, neutral %.2f)\n",
           fbc_enum_name(&feedback__v1__label__descriptor, s->label), s->compound, s->language, s->positive,
           s->negative, s->neutral);
    for (size_t i = 0; i < s->n_contributions; i++) {
        const Feedback__V1__Contribution *k = s->contributions[i];
        printf("  %+6.2f  %-20s (%s)", k->contribution, k->token, k->stem);
        if (k->span) printf("  chars %u-%u", k->span->start, k->span->end);
        fputc('\n', stdout);
    }
    for (size_t i = 0; i < s->n_aspects; i++)
        printf("  aspect %-12s %+.2f %s\n", s->aspects[i]->aspect, s->aspects[i]->compound,
               fbc_enum_name(&feedback__v1__label__descriptor, s->aspects[i]->label));
}

int cmd_analyze(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"language", "explain", "no-explain", NULL};
    static const char *const flags[] = {"explain", "no-explain", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, flags);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    if (a.npos != 1) return fbc_usage("analyze takes one TEXT (or --offline to read stdin)");
    Feedback__V1__AnalyzeRequest req = FEEDBACK__V1__ANALYZE_REQUEST__INIT;
    req.text = (char *)a.pos[0];
    req.explain = !fbc_flag(&a, "no-explain");
    const char *v;
    if ((v = fbc_arg(&a, "language"))) req.language = (char *)v;
    return fbc_call_print(c, "/feedback.v1.Insights/Analyze", &req.base, &feedback__v1__sentiment__descriptor,
                          print_sentiment);
}

int cmd_analyze_offline(int argc, char **argv)
{
    static const char *const known[] = {"offline", "language", "lexicons", NULL};
    static const char *const flags[] = {"offline", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, flags);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    if (a.npos) return fbc_usage("analyze --offline reads texts from stdin, one per line");
    const char *dir = fbc_arg(&a, "lexicons");
    if (!dir) dir = getenv("FB_LEXICON_DIR");
    if (!dir || !*dir) dir = FB_LEXICON_DIR;
    fb_textengine *te;
    fb_err err = {0};
    if (fb_text_open(&te, dir, &err) != FB_OK) {
        fprintf(stderr, "feedbackctl: lexicons (%s): %s\n", dir, err.msg);
        return 1;
    }
    rc = fbctl_analyze_offline(te, fbc_arg(&a, "language"), stdin, stdout, &err);
    if (rc != FB_OK) fprintf(stderr, "feedbackctl: %s\n", err.msg);
    fb_text_close(te);
    return rc == FB_OK ? 0 : 1;
}

/* ---- nps ---- */

static void print_nps_line(const char *title, const Feedback__V1__NpsSummary *s)
{
    if (s->n == 0) {
        printf("%sno responses\n", title);
        return;
    }
    printf("%sNPS %+.1f ± %.1f (95%% CI %+.1f to %+.1f), n=%u: %u promoters, %u passives, %u detractors\n",
           title, s->nps, s->margin_95, s->ci_low, s->ci_high, s->n, s->promoters, s->passives, s->detractors);
}

/* The plain-words verdict on the change against the previous period. */
static const char *verdict(const Feedback__V1__NpsSummary *s)
{
    if (s->n == 0 || s->previous->n == 0) return "cannot compare: a period has no responses";
    if (!s->change_significant) return "no significant change";
    return s->change < 0 ? "significant drop" : "significant rise";
}

static void print_nps(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    const Feedback__V1__NpsSummary *s = (const Feedback__V1__NpsSummary *)m;
    print_nps_line("", s);
    if (s->n) printf("mean sentiment %+.2f\n", s->mean_sentiment);
    if (s->n && !s->sufficient)
        printf("note: only %u responses (minimum sample %u): treat this NPS as a rough indication\n", s->n,
               s->min_sample);
    if (s->previous) {
        print_nps_line("previous period: ", s->previous);
        if (s->n && s->previous->n) printf("change %+.1f points: %s (95%% level)\n", s->change, verdict(s));
        else printf("change: %s\n", verdict(s));
    }
}

int cmd_nps(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"survey", "from", "to", "channel", "tag", "compare", NULL};
    static const char *const flags[] = {"compare", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, flags);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    Feedback__V1__NpsQuery q = FEEDBACK__V1__NPS_QUERY__INIT;
    Feedback__V1__Filter f = FEEDBACK__V1__FILTER__INIT;
    const char *v;
    if ((v = fbc_arg(&a, "survey"))) q.survey_id = (char *)v;
    if ((rc = fbc_range_args(&a, &q.from_ms, &q.to_ms)) || (rc = fbc_filter_args(&a, &f))) return rc;
    if (f.channel[0] || f.n_tags) q.filter = &f;
    q.compare_previous = fbc_flag(&a, "compare");
    rc = fbc_call_print(c, "/feedback.v1.Insights/GetNps", &q.base, &feedback__v1__nps_summary__descriptor,
                        print_nps);
    fbc_free_tags(f.n_tags, (void **)f.tags);
    return rc;
}

/* ---- terms ---- */

static void print_terms(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    const Feedback__V1__TermsReply *r = (const Feedback__V1__TermsReply *)m;
    printf("%-18s %-18s %9s %10s %7s\n", "term", "as written", "mentions", "sentiment", "share");
    for (size_t i = 0; i < r->n_terms; i++) {
        const Feedback__V1__Term *t = r->terms[i];
        printf("%-18s %-18s %9u %+10.2f %6.1f%%\n", *t->aspect && !*t->stem ? t->aspect : t->stem, t->surface,
               t->mentions, t->mean_sentiment, t->share * 100);
    }
    printf("(%u pieces of feedback in range)\n", r->total);
}

int cmd_terms(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"survey", "from", "to", "positive", "by-aspect", "limit", "channel",
                                        "tag", NULL};
    static const char *const flags[] = {"positive", "by-aspect", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, flags);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    Feedback__V1__TermsQuery q = FEEDBACK__V1__TERMS_QUERY__INIT;
    Feedback__V1__Filter f = FEEDBACK__V1__FILTER__INIT;
    const char *v;
    if ((v = fbc_arg(&a, "survey"))) q.survey_id = (char *)v;
    uint64_t n;
    if ((v = fbc_arg(&a, "limit"))) {
        if ((rc = fbc_parse_count(v, "--limit", UINT32_MAX, &n))) return rc;
        q.limit = (uint32_t)n;
    }
    if ((rc = fbc_range_args(&a, &q.from_ms, &q.to_ms)) || (rc = fbc_filter_args(&a, &f))) return rc;
    if (f.channel[0] || f.n_tags) q.filter = &f;
    q.direction = fbc_flag(&a, "positive") ? FEEDBACK__V1__TERMS_QUERY__DIRECTION__POSITIVE
                                           : FEEDBACK__V1__TERMS_QUERY__DIRECTION__NEGATIVE;
    q.by_aspect = fbc_flag(&a, "by-aspect");
    rc = fbc_call_print(c, "/feedback.v1.Insights/TopTerms", &q.base, &feedback__v1__terms_reply__descriptor,
                        print_terms);
    fbc_free_tags(f.n_tags, (void **)f.tags);
    return rc;
}
