/* test_alerts.c — the alerts engine against a real LMDB store: every rule
 * and its reason, severity, repeat joining, silences, quiet hours, seq across
 * reopen, SLA escalation driven by an explicit clock, acks and their stats,
 * listing, erasure. NPS_DROP has its own file (test_alert_nps.c).
 *
 * Feedback reaches the alerts module the way ingest delivers it: the feedback
 * hook inside a store write op. Settings come from a provider the test fills
 * (the settings module's role in the server). */
#include <math.h>

#include "fbtest.h"
#include "alert_rules.h"
#include "alerts.h"
#include "settings.h"
#include "store.h"

#define KIND(k) FEEDBACK__V1__ALERT__KIND__##k
#define SEV(s) FEEDBACK__V1__SEVERITY__##s
#define T0 1700000000000LL /* 2023-11-14 22:13:20 UTC */

typedef struct fixture {
    char dir[4096];
    fb_store *st;
    fb_alerts *al;
    Feedback__V1__Settings settings;
    Feedback__V1__AlertRules rules;
    Feedback__V1__QuietHours quiet;
    bool use_settings;
} fixture;

static fixture F;

/* The provider hands out a deep copy of F.settings, as a settings module would. */
static int settings_of(void *ctx, MDB_txn *txn, uint32_t tenant, Feedback__V1__Settings **out, fb_err *err)
{
    (void)ctx, (void)txn, (void)tenant, (void)err;
    *out = NULL;
    if (!F.use_settings) return FB_OK;
    size_t n = feedback__v1__settings__get_packed_size(&F.settings);
    unsigned char *buf = malloc(n + 1);
    feedback__v1__settings__pack(&F.settings, buf);
    *out = feedback__v1__settings__unpack(NULL, n, buf);
    free(buf);
    return *out ? FB_OK : FB_INTERNAL;
}

static void open_all(void)
{
    fb_err err = {0};
    fb_store_opts so = {.no_sync = 1};
    ck_assert_int_eq(fb_store_open(&F.st, F.dir, &so, &err), FB_OK);
    fb_alerts_opts ao = {.settings = settings_of, .timer_ms = -1};
    ck_assert_msg(fb_alerts_open(&F.al, F.st, &ao, &err) == FB_OK, "%s", err.msg);
}

static void close_all(void)
{
    fb_alerts_close(F.al);
    fb_store_close(F.st);
    F.al = NULL, F.st = NULL;
}

static void setup(void)
{
    memset(&F, 0, sizeof F);
    snprintf(F.dir, sizeof F.dir, "%s", fb_test_tmpdir("alerts"));
    feedback__v1__settings__init(&F.settings);
    feedback__v1__alert_rules__init(&F.rules);
    feedback__v1__quiet_hours__init(&F.quiet);
    /* what the settings module returns for a tenant that changed nothing */
    F.rules.detractor = F.rules.negative_text = F.rules.low_rating = 1;
    F.rules.score_text_mismatch = F.rules.nps_drop = 1;
    F.rules.detractor_max_score = 6;
    F.rules.negative_text_threshold = F.rules.mismatch_threshold = -0.5;
    F.rules.low_rating_max = 2;
    F.rules.sla_ms = F.rules.repeat_window_ms = 24LL * 3600 * 1000;
    F.rules.keywords = (char **)fb_settings_default_keywords;
    while (fb_settings_default_keywords[F.rules.n_keywords]) F.rules.n_keywords++;
    F.settings.timezone = "UTC";
    F.settings.alert_rules = &F.rules;
    F.use_settings = true;
    open_all();
}

static void teardown(void)
{
    close_all();
}

/* ---- feeding feedback through the hook -------------------------------------------- */

typedef struct hook_op {
    uint32_t tenant;
    Feedback__V1__Feedback *fb;
    int sign;
    int64_t now;
    fb_erase_summary *erase;
} hook_op;

static int hook_write(fb_txn *txn, void *arg, fb_err *err)
{
    hook_op *op = arg;
    fb_feedback_event ev = {.tenant_id = op->tenant, .fb = op->fb, .sign = op->sign,
                            .now_ms = op->now, .erase = op->erase};
    return fb_alerts_feedback_hook(txn, &ev, F.al, err);
}

static Feedback__V1__Sentiment sent_storage[64];
static Feedback__V1__Feedback fb_storage[64];
static int n_fb;

static Feedback__V1__Feedback *response(const char *id, int score, const char *comment, double compound,
                                        const char *respondent)
{
    Feedback__V1__Feedback *fb = &fb_storage[n_fb];
    Feedback__V1__Sentiment *s = &sent_storage[n_fb++];
    feedback__v1__feedback__init(fb);
    feedback__v1__sentiment__init(s);
    s->compound = compound;
    s->label = compound <= -0.6 ? FEEDBACK__V1__LABEL__VERY_NEGATIVE
             : compound <= -0.05 ? FEEDBACK__V1__LABEL__NEGATIVE
             : compound < 0.05 ? FEEDBACK__V1__LABEL__NEUTRAL : FEEDBACK__V1__LABEL__POSITIVE;
    fb->id = (char *)id;
    fb->kind = FEEDBACK__V1__FEEDBACK_KIND__RESPONSE;
    fb->survey_id = "checkout";
    fb->score = score;
    fb->comment = (char *)comment;
    fb->respondent_id = (char *)(respondent ? respondent : "");
    fb->channel = "web";
    fb->language = "en";
    fb->sentiment = s;
    return fb;
}

static Feedback__V1__Feedback *review(const char *id, int rating, const char *text, double compound)
{
    Feedback__V1__Feedback *fb = response(id, 0, "", compound, NULL);
    fb->kind = FEEDBACK__V1__FEEDBACK_KIND__REVIEW;
    fb->rating = rating;
    fb->text = (char *)text;
    fb->survey_id = "";
    return fb;
}

/* Submits fb at time now; returns the alert raised (or NULL). */
static Feedback__V1__Alert *submit(uint32_t tenant, Feedback__V1__Feedback *fb, int64_t now)
{
    fb_err err = {0};
    size_t before = fb->n_alert_ids;
    hook_op op = {tenant, fb, 1, now, NULL};
    ck_assert_msg(fb_store_write(F.st, hook_write, &op, &err) == FB_OK, "%s", err.msg);
    if (fb->n_alert_ids == before) return NULL;
    Feedback__V1__Alert *a = NULL;
    ck_assert_int_eq(fb_alerts_get(F.al, tenant, fb->alert_ids[fb->n_alert_ids - 1], &a, &err), FB_OK);
    return a;
}

static void free_ids(void)
{
    for (int i = 0; i < n_fb; i++) {
        for (size_t j = 0; j < fb_storage[i].n_alert_ids; j++) free(fb_storage[i].alert_ids[j]);
        free(fb_storage[i].alert_ids);
    }
    n_fb = 0;
}

static bool has_kind(const Feedback__V1__Alert *a, int k)
{
    for (size_t i = 0; i < a->n_kinds; i++)
        if ((int)a->kinds[i] == k) return true;
    return false;
}

/* ---- rules and reasons --------------------------------------------------------------- */

START_TEST(detractor_with_keyword)
{
    Feedback__V1__Alert *a = submit(1, response("f1", 2, "Terrible. I want a refund, I was refunded nothing!", -0.8, NULL), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KIND(KEYWORD));
    ck_assert(has_kind(a, KIND(DETRACTOR)) && has_kind(a, KIND(NEGATIVE_TEXT)));
    ck_assert_int_eq(a->severity, SEV(CRITICAL)); /* HIGH detractor + keyword */
    ck_assert_uint_eq(a->n_matched, 1);
    ck_assert_str_eq(a->matched[0], "refund");
    ck_assert_str_eq(a->reason, "Detractor score 2 with very negative comment mentioning refund.");
    ck_assert_int_eq(a->state, FEEDBACK__V1__ALERT_STATE__OPEN);
    ck_assert_uint_eq(a->seq, 1);
    ck_assert_int_eq(a->score_present_case, FEEDBACK__V1__ALERT__SCORE_PRESENT_SCORE);
    ck_assert_int_eq(a->score, 2);
    ck_assert_int_eq(a->sla_due_ms, T0 + 24LL * 3600 * 1000);
    ck_assert_str_eq(a->feedback_id, "f1");
    ck_assert_ptr_nonnull(strstr(a->excerpt, "refund"));
    feedback__v1__alert__free_unpacked(a, NULL);
    free_ids();
}
END_TEST

START_TEST(detractor_severity_by_score_and_text)
{
    struct { int score; double c; const char *text; int sev; const char *reason; } cases[] = {
        {1, -0.3, "slow and cold", SEV(HIGH), "Detractor score 1 with negative comment."},
        {0, 0.0, "", SEV(MEDIUM), "Detractor score 0."},
        {4, -0.2, "meh, slow", SEV(MEDIUM), "Detractor score 4 with negative comment."},
        {4, 0.3, "it was fine", SEV(LOW), "Detractor score 4 with positive comment."},
        {6, 0.0, "ok", SEV(LOW), "Detractor score 6 with neutral comment."},
    };
    char id[16];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(id, sizeof id, "d%zu", i);
        Feedback__V1__Alert *a = submit(1, response(strdup(id), cases[i].score, cases[i].text, cases[i].c, NULL), T0);
        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(a->kind, KIND(DETRACTOR));
        ck_assert_msg((int)a->severity == cases[i].sev, "case %zu: severity %d", i, a->severity);
        ck_assert_str_eq(a->reason, cases[i].reason);
        free(fb_storage[n_fb - 1].id);
        feedback__v1__alert__free_unpacked(a, NULL);
    }
    ck_assert_ptr_null(submit(1, response("p", 7, "good", 0.5, NULL), T0)); /* passive: nothing */
    ck_assert_ptr_null(submit(1, response("q", 10, "great!", 0.8, NULL), T0));
    free_ids();
}
END_TEST

START_TEST(negative_text_low_rating_mismatch)
{
    Feedback__V1__Alert *a = submit(1, response("n1", 8, "The room was filthy and the staff rude", -0.8, NULL), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KIND(NEGATIVE_TEXT));
    ck_assert_int_eq(a->severity, SEV(MEDIUM));
    ck_assert_str_eq(a->reason, "Score 8 with very negative comment.");
    feedback__v1__alert__free_unpacked(a, NULL);

    a = submit(1, review("r1", 1, "Awful, cold food", -0.7), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KIND(LOW_RATING));
    ck_assert_int_eq(a->severity, SEV(HIGH));
    ck_assert_int_eq(a->rating, 1);
    ck_assert_int_eq(a->score_present_case, FEEDBACK__V1__ALERT__SCORE_PRESENT__NOT_SET);
    ck_assert_str_eq(a->reason, "1-star review with very negative text.");
    feedback__v1__alert__free_unpacked(a, NULL);

    a = submit(1, response("m1", 10, "worst service ever, horrible", -0.9, NULL), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KIND(SCORE_TEXT_MISMATCH));
    ck_assert(has_kind(a, KIND(NEGATIVE_TEXT)));
    ck_assert_str_eq(a->reason, "Promoter score 10 but very negative comment.");
    feedback__v1__alert__free_unpacked(a, NULL);

    a = submit(1, review("m2", 5, "never again", -0.6), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KIND(KEYWORD));
    ck_assert(has_kind(a, KIND(SCORE_TEXT_MISMATCH)));
    ck_assert_str_eq(a->reason, "5-star review but very negative text mentioning never again.");
    feedback__v1__alert__free_unpacked(a, NULL);

    /* switched off */
    F.rules.score_text_mismatch = 0;
    F.rules.negative_text = 0;
    ck_assert_ptr_null(submit(1, response("m3", 10, "worst service ever", -0.9, NULL), T0));
    free_ids();
}
END_TEST

START_TEST(keywords_match_stems_and_phrases)
{
    char *kw[] = {"refund", "food poisoning", "cancel my account", "never again", "lawyer"};
    F.rules.keywords = kw;
    F.rules.n_keywords = 5;
    Feedback__V1__Alert *a = submit(1, response("k1", 9, "Loved it but I think I got food poisoned; calling my lawyers", 0.1, NULL), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KIND(KEYWORD));
    ck_assert_int_eq(a->severity, SEV(HIGH));
    ck_assert_uint_eq(a->n_matched, 2);
    ck_assert_str_eq(a->matched[0], "food poisoning");
    ck_assert_str_eq(a->matched[1], "lawyer");
    ck_assert_str_eq(a->reason, "Score 9 with positive comment mentioning food poisoning and lawyer.");
    feedback__v1__alert__free_unpacked(a, NULL);

    a = submit(1, response("k2", 7, "Please CANCEL my account. Refunds?", -0.1, NULL), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->n_matched, 2);
    ck_assert_str_eq(a->matched[0], "refund");
    ck_assert_str_eq(a->matched[1], "cancel my account");
    feedback__v1__alert__free_unpacked(a, NULL);

    /* words apart or in another order are not the phrase */
    ck_assert_ptr_null(submit(1, response("k3", 8, "the food was poison-free, cancel nothing, my account is fine", 0.2, NULL), T0));
    ck_assert_ptr_null(submit(1, response("k4", 8, "deposits are again never a problem", 0.2, NULL), T0));
    free_ids();
}
END_TEST

START_TEST(stemmed_watch_lists_follow_list_and_language)
{
    /* the stemmed lists are cached: a changed list, a list in another
     * language and more lists than cache slots must all still match right */
    fb_stemmers *st;
    fb_err err = {0};
    ck_assert_int_eq(fb_stemmers_open(&st, &err), FB_OK);
    char **stems;
    size_t n;
    ck_assert_int_eq(fb_stems_of(st, "They refunded my order, never again", "en", &stems, &n), FB_OK);
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 20; k++) { /* 20 distinct lists > the cache's slots */
            char extra[32];
            snprintf(extra, sizeof extra, "word%d", k);
            const char *list[] = {extra, k % 2 ? "refund" : "lawyer", "never again", NULL};
            bool found[4];
            fb_stems_contain_each(st, stems, n, list, 4, "en", found);
            ck_assert(!found[0]);
            ck_assert_int_eq(found[1], k % 2 == 1);
            ck_assert(found[2]);
            ck_assert(!found[3]);
        }
    }
    /* the same list under a language without a stemmer is only
     * lower-cased: "Refunds" stays "refunds", which the text lacks */
    const char *list[] = {"Refunds"};
    bool found[1];
    fb_stems_contain_each(st, stems, n, list, 1, "xx", found);
    ck_assert(!found[0]);
    fb_stems_contain_each(st, stems, n, list, 1, "en", found);
    ck_assert(found[0]);
    fb_stems_contain_each(st, stems, n, list, 1, "xx", found);
    ck_assert(!found[0]);
    fb_stems_free(stems, n);
    fb_stemmers_close(st);
}
END_TEST

START_TEST(default_rules_without_settings)
{
    F.use_settings = false;
    Feedback__V1__Alert *a = submit(1, response("x1", 3, "I feel sick after eating here", -0.4, NULL), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KIND(KEYWORD));
    ck_assert_str_eq(a->matched[0], "sick");
    feedback__v1__alert__free_unpacked(a, NULL);
    free_ids();
}
END_TEST

/* ---- noise control ----------------------------------------------------------------------- */

START_TEST(repeat_feedback_joins_open_alert)
{
    F.rules.repeat_window_ms = 3600 * 1000;
    Feedback__V1__Alert *a = submit(1, response("r1", 5, "slow", -0.2, "cust-7"), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->severity, SEV(LOW));
    Feedback__V1__Alert *b = submit(1, response("r2", 1, "still waiting for my refund", -0.5, "cust-7"), T0 + 60000);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(b->id, a->id);
    ck_assert_uint_eq(b->occurrences, 2);
    ck_assert_uint_eq(b->n_feedback_ids, 2);
    ck_assert_str_eq(b->feedback_ids[1], "r2");
    ck_assert_uint_gt(b->seq, a->seq);            /* an update gets a new seq */
    ck_assert_int_eq(b->severity, SEV(CRITICAL)); /* stronger headline wins */
    ck_assert_int_eq(b->created_ms, T0);
    ck_assert_int_eq(b->updated_ms, T0 + 60000);
    ck_assert_str_eq(b->feedback_id, "r1");
    ck_assert_ptr_nonnull(strstr(b->reason, "refund"));
    ck_assert_str_eq(fb_storage[1].alert_ids[0], a->id);

    /* the log holds it once, at the new seq */
    Feedback__V1__AlertQuery q = FEEDBACK__V1__ALERT_QUERY__INIT;
    Feedback__V1__AlertPage *page;
    fb_err err;
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_OK);
    ck_assert_uint_eq(page->n_alerts, 1);
    ck_assert_uint_eq(page->alerts[0]->seq, b->seq);
    feedback__v1__alert_page__free_unpacked(page, NULL);

    /* another respondent, and the same one after the window: new alerts */
    Feedback__V1__Alert *c = submit(1, response("r3", 2, "bad", -0.3, "cust-8"), T0 + 120000);
    Feedback__V1__Alert *d = submit(1, response("r4", 2, "bad again", -0.3, "cust-7"), T0 + 3600 * 1000 + 1);
    ck_assert_str_ne(c->id, a->id);
    ck_assert_str_ne(d->id, a->id);
    ck_assert_uint_eq(d->occurrences, 1);
    feedback__v1__alert__free_unpacked(a, NULL);
    feedback__v1__alert__free_unpacked(b, NULL);
    feedback__v1__alert__free_unpacked(c, NULL);
    feedback__v1__alert__free_unpacked(d, NULL);
    free_ids();
}
END_TEST

START_TEST(silences_hold_alerts)
{
    Feedback__V1__Silence s = FEEDBACK__V1__SILENCE__INIT;
    Feedback__V1__Silence *sl[] = {&s};
    s.matcher = "parking";
    s.expires_ms = T0 + 1000;
    F.rules.silences = sl;
    F.rules.n_silences = 1;
    Feedback__V1__Alert *a = submit(1, response("s1", 2, "Parking lot was a nightmare", -0.5, NULL), T0);
    ck_assert(a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    a = submit(1, response("s2", 2, "Rude waiter", -0.5, NULL), T0); /* matcher does not match */
    ck_assert(!a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    a = submit(1, response("s3", 2, "parking again", -0.5, NULL), T0 + 1000); /* expired */
    ck_assert(!a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    /* survey + kind silence, no matcher */
    Feedback__V1__Alert__Kind kinds[] = {KIND(NEGATIVE_TEXT)};
    s.matcher = "";
    s.survey_id = "checkout";
    s.kinds = kinds;
    s.n_kinds = 1;
    s.expires_ms = T0 + 10000;
    a = submit(1, response("s4", 8, "awful", -0.7, NULL), T0);
    ck_assert(a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    a = submit(1, response("s5", 3, "", 0, NULL), T0); /* DETRACTOR only: not that kind */
    ck_assert(!a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    free_ids();
}
END_TEST

START_TEST(quiet_hours_hold_by_local_time)
{
    /* T0 is 22:13 UTC = 23:13 in UTC+1 */
    F.quiet.enabled = 1;
    F.quiet.start_minute = 23 * 60;
    F.quiet.end_minute = 7 * 60; /* wraps midnight */
    F.rules.quiet_hours = &F.quiet;
    F.settings.timezone = "+01:00";
    Feedback__V1__Alert *a = submit(1, response("q1", 3, "", 0, NULL), T0);
    ck_assert(a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    char *kw[] = {"refund"};
    F.rules.keywords = kw, F.rules.n_keywords = 1;
    a = submit(1, response("q2", 0, "refund now", -0.8, NULL), T0); /* CRITICAL still goes out */
    ck_assert_int_eq(a->severity, SEV(CRITICAL));
    ck_assert(!a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    F.settings.timezone = "UTC"; /* 22:13: outside */
    a = submit(1, response("q3", 3, "", 0, NULL), T0);
    ck_assert(!a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    F.settings.timezone = "Europe/Paris"; /* the zone database: CET, 23:13 */
    a = submit(1, response("q4", 3, "", 0, NULL), T0);
    ck_assert(a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    a = submit(1, response("q5", 3, "", 0, NULL), T0 + 8 * 3600 * 1000LL); /* 07:13 */
    ck_assert(!a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    F.quiet.max_held_severity = SEV(LOW); /* only LOW held now */
    a = submit(1, response("q6", 1, "", 0, NULL), T0); /* MEDIUM */
    ck_assert(!a->held);
    feedback__v1__alert__free_unpacked(a, NULL);
    ck_assert_int_eq(fb_local_minute("Etc/GMT-2", T0), (22 * 60 + 13 + 120) % 1440);
    ck_assert_int_eq(fb_local_minute("-05:30", T0), 22 * 60 + 13 - 330);
    free_ids();
}
END_TEST

/* ---- durability --------------------------------------------------------------------------- */

START_TEST(seq_strictly_increasing_across_reopen_and_tenants)
{
    Feedback__V1__Alert *a = submit(1, response("a1", 1, "", 0, NULL), T0);
    Feedback__V1__Alert *b = submit(2, response("b1", 1, "", 0, NULL), T0);
    ck_assert_uint_eq(a->seq, 1);
    ck_assert_uint_eq(b->seq, 1); /* per tenant */
    feedback__v1__alert__free_unpacked(b, NULL);
    close_all();
    open_all();
    b = submit(1, response("a2", 1, "", 0, NULL), T0);
    ck_assert_uint_eq(b->seq, 2);
    ck_assert_str_ne(b->id, a->id);
    Feedback__V1__Alert *c = NULL;
    fb_err err;
    ck_assert_int_eq(fb_alerts_get(F.al, 1, a->id, &c, &err), FB_OK); /* survived the reopen */
    ck_assert_uint_eq(c->seq, 1);
    feedback__v1__alert__free_unpacked(c, NULL);
    ck_assert_int_eq(fb_alerts_get(F.al, 2, a->id + 0, &c, &err), FB_OK); /* tenant 2's own al_..1 */
    ck_assert_str_eq(c->feedback_id, "b1");
    feedback__v1__alert__free_unpacked(c, NULL);
    ck_assert_int_eq(fb_alerts_get(F.al, 2, "al_000000000099", &c, &err), FB_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "al_000000000099"));
    feedback__v1__alert__free_unpacked(a, NULL);
    feedback__v1__alert__free_unpacked(b, NULL);
    free_ids();
}
END_TEST

/* ---- SLA ---------------------------------------------------------------------------------- */

START_TEST(sla_escalates_once_one_severity_higher)
{
    fb_err err;
    int raised = -1;
    F.rules.sla_ms = 2000;
    Feedback__V1__Alert *a = submit(1, response("e1", 4, "slow", -0.3, NULL), T0);  /* MEDIUM */
    Feedback__V1__Alert *b = submit(1, response("e2", 4, "slow", -0.3, NULL), T0);  /* acked in time */
    ck_assert_int_eq(a->sla_due_ms, T0 + 2000);
    fb_principal who = {.tenant_id = 1, .label = "alice"};
    Feedback__V1__AckRequest ack = FEEDBACK__V1__ACK_REQUEST__INIT;
    ack.alert_id = b->id;
    ack.state = FEEDBACK__V1__ALERT_STATE__ACKNOWLEDGED;
    Feedback__V1__Alert *acked;
    ck_assert_int_eq(fb_alerts_ack(F.al, &who, &ack, T0 + 1000, &acked, &err), FB_OK);
    feedback__v1__alert__free_unpacked(acked, NULL);

    ck_assert_int_eq(fb_alerts_tick(F.al, T0 + 1999, &raised, &err), FB_OK);
    ck_assert_int_eq(raised, 0);
    ck_assert_int_eq(fb_alerts_tick(F.al, T0 + 2000, &raised, &err), FB_OK);
    ck_assert_int_eq(raised, 1);
    ck_assert_int_eq(fb_alerts_tick(F.al, T0 + 9000, &raised, &err), FB_OK);
    ck_assert_int_eq(raised, 0); /* once per alert */

    Feedback__V1__AlertQuery q = FEEDBACK__V1__ALERT_QUERY__INIT;
    q.kind = KIND(SLA_BREACH);
    Feedback__V1__AlertPage *page;
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0 + 9000, &page, &err), FB_OK);
    ck_assert_uint_eq(page->n_alerts, 1);
    Feedback__V1__Alert *e = page->alerts[0];
    ck_assert_str_eq(e->escalates_id, a->id);
    ck_assert_int_eq(e->severity, SEV(HIGH));
    ck_assert_int_eq(e->kind, KIND(SLA_BREACH));
    ck_assert_int_eq(e->created_ms, T0 + 2000);
    ck_assert_uint_gt(e->seq, b->seq);
    ck_assert_str_eq(e->reason, "MEDIUM alert al_000000000001 not acknowledged within 2 s: "
                                "Detractor score 4 with negative comment.");
    ck_assert_int_eq(e->sla_due_ms, 0); /* escalations do not escalate */
    feedback__v1__alert_page__free_unpacked(page, NULL);
    feedback__v1__alert__free_unpacked(a, NULL);
    feedback__v1__alert__free_unpacked(b, NULL);
    free_ids();
}
END_TEST

/* ---- Ack and stats --------------------------------------------------------------------------- */

START_TEST(ack_resolve_and_stats)
{
    fb_err err;
    F.rules.sla_ms = 10000;
    Feedback__V1__Alert *al[4];
    char id[8];
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "s%d", i);
        al[i] = submit(1, response(strdup(id), 1, "", 0, NULL), T0);
    }
    fb_principal who = {.tenant_id = 1, .label = "bob"};
    Feedback__V1__AckRequest ack = FEEDBACK__V1__ACK_REQUEST__INIT;
    Feedback__V1__Alert *r;
    int64_t ack_after[] = {1000, 4000, 20000}; /* the last one misses the 10 s SLA */
    for (int i = 0; i < 3; i++) {
        ack.alert_id = al[i]->id;
        ack.state = FEEDBACK__V1__ALERT_STATE__ACKNOWLEDGED;
        ack.note = i == 0 ? "calling them" : "";
        ck_assert_int_eq(fb_alerts_ack(F.al, &who, &ack, T0 + ack_after[i], &r, &err), FB_OK);
        ck_assert_int_eq(r->state, FEEDBACK__V1__ALERT_STATE__ACKNOWLEDGED);
        ck_assert_str_eq(r->acked_by, "bob");
        ck_assert_int_eq(r->acked_ms, T0 + ack_after[i]);
        ck_assert_uint_eq(r->seq, al[i]->seq); /* in place */
        feedback__v1__alert__free_unpacked(r, NULL);
    }
    /* resolve #0 (already acked) and #3 (open: resolving acknowledges too) */
    who.label[0] = 'c';
    ack.alert_id = al[0]->id, ack.state = FEEDBACK__V1__ALERT_STATE__RESOLVED, ack.note = "";
    ck_assert_int_eq(fb_alerts_ack(F.al, &who, &ack, T0 + 30000, &r, &err), FB_OK);
    ck_assert_str_eq(r->acked_by, "bob");
    ck_assert_str_eq(r->resolved_by, "cob");
    ck_assert_str_eq(r->note, "calling them");
    feedback__v1__alert__free_unpacked(r, NULL);
    ack.alert_id = al[3]->id;
    ck_assert_int_eq(fb_alerts_ack(F.al, &who, &ack, T0 + 5000, &r, &err), FB_OK);
    ck_assert_int_eq(r->acked_ms, T0 + 5000);
    feedback__v1__alert__free_unpacked(r, NULL);
    /* errors */
    ack.state = FEEDBACK__V1__ALERT_STATE__ACKNOWLEDGED;
    ck_assert_int_eq(fb_alerts_ack(F.al, &who, &ack, T0, &r, &err), FB_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "RESOLVED"));
    ack.state = FEEDBACK__V1__ALERT_STATE__OPEN;
    ck_assert_int_eq(fb_alerts_ack(F.al, &who, &ack, T0, &r, &err), FB_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "state"));
    ack.state = FEEDBACK__V1__ALERT_STATE__RESOLVED;
    ack.alert_id = "al_0000000000ff";
    ck_assert_int_eq(fb_alerts_ack(F.al, &who, &ack, T0, &r, &err), FB_NOT_FOUND);
    fb_principal other = {.tenant_id = 2, .label = "eve"};
    ack.alert_id = al[1]->id;
    ck_assert_int_eq(fb_alerts_ack(F.al, &other, &ack, T0, &r, &err), FB_NOT_FOUND);

    /* acked at 1, 4, 20, 5 s: median (nearest rank) 4 s, p90 20 s; within SLA 3/4 */
    Feedback__V1__AlertQuery q = FEEDBACK__V1__ALERT_QUERY__INIT;
    Feedback__V1__AlertPage *page;
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0 + 60000, &page, &err), FB_OK);
    Feedback__V1__AckStats *st = page->stats;
    ck_assert_uint_eq(st->total, 4);
    ck_assert_uint_eq(st->acknowledged, 4);
    ck_assert_uint_eq(st->resolved, 2);
    ck_assert_double_eq_tol(st->median_ack_ms, 4000, 1e-9);
    ck_assert_double_eq_tol(st->p90_ack_ms, 20000, 1e-9);
    ck_assert_double_eq_tol(st->within_sla_share, 0.75, 1e-9);
    ck_assert_double_eq_tol(st->median_resolve_ms, 5000, 1e-9);
    feedback__v1__alert_page__free_unpacked(page, NULL);

    /* an acknowledged alert no longer escalates */
    int raised = -1;
    ck_assert_int_eq(fb_alerts_tick(F.al, T0 + 60000, &raised, &err), FB_OK);
    ck_assert_int_eq(raised, 0);
    for (int i = 0; i < 4; i++) {
        free(fb_storage[i].id);
        feedback__v1__alert__free_unpacked(al[i], NULL);
    }
    free_ids();
}
END_TEST

START_TEST(list_filters_and_pages)
{
    fb_err err;
    char id[8];
    for (int i = 0; i < 7; i++) {
        snprintf(id, sizeof id, "l%d", i);
        Feedback__V1__Feedback *fb = i % 2 ? review(strdup(id), 1, "", 0) : response(strdup(id), 5, "", 0, NULL);
        Feedback__V1__Alert *a = submit(1, fb, T0 + i * 1000);
        feedback__v1__alert__free_unpacked(a, NULL);
    }
    Feedback__V1__AlertQuery q = FEEDBACK__V1__ALERT_QUERY__INIT;
    Feedback__V1__AlertPage *page;
    q.page_size = 2;
    uint64_t seen[8];
    int n = 0;
    char token[32] = "";
    do {
        q.page_token = token;
        ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_OK);
        for (size_t i = 0; i < page->n_alerts; i++) seen[n++] = page->alerts[i]->seq;
        snprintf(token, sizeof token, "%s", page->next_page_token);
        feedback__v1__alert_page__free_unpacked(page, NULL);
        ck_assert_int_le(n, 7);
    } while (*token);
    ck_assert_int_eq(n, 7);
    for (int i = 0; i < 7; i++) ck_assert_uint_eq(seen[i], (uint64_t)(7 - i)); /* newest first */

    q.page_size = 0, q.page_token = "";
    q.kind = KIND(LOW_RATING);
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_OK);
    ck_assert_uint_eq(page->n_alerts, 3);
    ck_assert_uint_eq(page->stats->total, 3);
    feedback__v1__alert_page__free_unpacked(page, NULL);
    q.kind = 0;
    q.from_ms = T0 + 2000, q.to_ms = T0 + 4000;
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_OK);
    ck_assert_uint_eq(page->n_alerts, 2);
    feedback__v1__alert_page__free_unpacked(page, NULL);
    q.from_ms = q.to_ms = 0;
    q.min_severity = SEV(MEDIUM); /* 1-star without text: MEDIUM; score 5: LOW */
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_OK);
    ck_assert_uint_eq(page->n_alerts, 3);
    feedback__v1__alert_page__free_unpacked(page, NULL);
    q.min_severity = 0;
    q.survey_id = "checkout";
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_OK);
    ck_assert_uint_eq(page->n_alerts, 4);
    feedback__v1__alert_page__free_unpacked(page, NULL);
    q.page_token = "bogus";
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "page_token"));
    ck_assert_int_eq(fb_alerts_list(F.al, 3, &(Feedback__V1__AlertQuery)FEEDBACK__V1__ALERT_QUERY__INIT,
                                    T0, &page, &err), FB_OK); /* other tenant: empty */
    ck_assert_uint_eq(page->n_alerts, 0);
    feedback__v1__alert_page__free_unpacked(page, NULL);
    for (int i = 0; i < 7; i++) free(fb_storage[i].id);
    free_ids();
}
END_TEST

START_TEST(erase_redacts_excerpt_keeps_alert)
{
    fb_err err;
    Feedback__V1__Feedback *fb = response("z1", 0, "My name is Jo Smith and the soup was awful", -0.7, "jo");
    Feedback__V1__Alert *a = submit(1, fb, T0);
    ck_assert_ptr_nonnull(strstr(a->excerpt, "Jo Smith"));
    fb_erase_summary sum = {0};
    hook_op op = {1, fb, -1, T0 + 10, &sum};
    ck_assert_int_eq(fb_store_write(F.st, hook_write, &op, &err), FB_OK);
    ck_assert_uint_eq(sum.alerts_redacted, 1);
    Feedback__V1__Alert *b;
    ck_assert_int_eq(fb_alerts_get(F.al, 1, a->id, &b, &err), FB_OK);
    ck_assert_str_eq(b->excerpt, "");
    ck_assert_str_eq(b->respondent_id, "");
    ck_assert_uint_eq(b->seq, a->seq);
    ck_assert_int_eq(b->kind, a->kind);
    /* the respondent's next feedback opens a new alert */
    Feedback__V1__Alert *c = submit(1, response("z2", 0, "", 0, "jo"), T0 + 20);
    ck_assert_str_ne(c->id, a->id);
    /* a joined alert (two feedback) is redacted and counted once */
    Feedback__V1__Feedback *f3 = response("z3", 1, "call me at 555-0100", -0.3, "jo");
    Feedback__V1__Alert *d = submit(1, f3, T0 + 30);
    ck_assert_str_eq(d->id, c->id);
    ck_assert_uint_eq(d->occurrences, 2);
    fb_erase_summary sum2 = {0};
    hook_op e2 = {1, &fb_storage[n_fb - 2], -1, T0 + 40, &sum2}; /* z2 */
    hook_op e3 = {1, f3, -1, T0 + 40, &sum2};
    ck_assert_int_eq(fb_store_write(F.st, hook_write, &e2, &err), FB_OK);
    ck_assert_int_eq(fb_store_write(F.st, hook_write, &e3, &err), FB_OK);
    ck_assert_uint_eq(sum2.alerts_redacted, 1);
    feedback__v1__alert__free_unpacked(d, NULL);
    ck_assert_int_eq(fb_alerts_get(F.al, 1, c->id, &d, &err), FB_OK);
    ck_assert_str_eq(d->excerpt, "");
    feedback__v1__alert__free_unpacked(d, NULL);
    feedback__v1__alert__free_unpacked(a, NULL);
    feedback__v1__alert__free_unpacked(b, NULL);
    feedback__v1__alert__free_unpacked(c, NULL);
    free_ids();
}
END_TEST

/* The server's wiring: rules from the real settings module. */
START_TEST(rules_from_settings_module)
{
    fb_err err = {0};
    fb_settings *set;
    close_all();
    fb_store_opts so = {.no_sync = 1};
    ck_assert_int_eq(fb_store_open(&F.st, F.dir, &so, &err), FB_OK);
    ck_assert_int_eq(fb_settings_open(&set, F.st, &err), FB_OK);
    fb_alerts_opts ao = {.settings = fb_alerts_settings_provider, .settings_ctx = set, .timer_ms = -1};
    ck_assert_int_eq(fb_alerts_open(&F.al, F.st, &ao, &err), FB_OK);

    /* defaults: the default watch list, SLA 24 h */
    Feedback__V1__Alert *a = submit(1, response("w1", 9, "Great, but I want a refund", 0.3, NULL), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KIND(KEYWORD));
    ck_assert_int_eq(a->sla_due_ms, T0 + 24LL * 3600 * 1000);
    feedback__v1__alert__free_unpacked(a, NULL);

    /* an update: another watch list, SLA off, detractor rule off */
    Feedback__V1__UpdateSettingsRequest req = FEEDBACK__V1__UPDATE_SETTINGS_REQUEST__INIT;
    Feedback__V1__Settings s = FEEDBACK__V1__SETTINGS__INIT;
    Feedback__V1__AlertRules r = FEEDBACK__V1__ALERT_RULES__INIT;
    char *kw[] = {"manager"};
    char *mask[] = {"alert_rules.keywords", "alert_rules.sla_ms", "alert_rules.detractor"};
    r.keywords = kw, r.n_keywords = 1;
    s.alert_rules = &r;
    req.settings = &s;
    req.update_mask = mask, req.n_update_mask = 3;
    ck_assert_msg(fb_settings_update(set, 1, &req, NULL, &err) == FB_OK, "%s", err.msg);
    ck_assert_ptr_null(submit(1, response("w2", 9, "Great, but I want a refund", 0.3, NULL), T0));
    ck_assert_ptr_null(submit(1, response("w3", 2, "", 0, NULL), T0));
    a = submit(1, response("w4", 9, "Let me speak to your managers", 0.0, NULL), T0);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->matched[0], "manager");
    ck_assert_int_eq(a->sla_due_ms, 0);
    int raised;
    ck_assert_int_eq(fb_alerts_tick(F.al, T0 + 100LL * 24 * 3600 * 1000, &raised, &err), FB_OK);
    ck_assert_int_eq(raised, 1); /* only w1, raised while the SLA was on */
    Feedback__V1__AlertQuery q = FEEDBACK__V1__ALERT_QUERY__INIT;
    Feedback__V1__AlertPage *page;
    q.kind = KIND(SLA_BREACH);
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_OK);
    ck_assert_uint_eq(page->n_alerts, 1);
    ck_assert_str_eq(page->alerts[0]->escalates_id, "al_000000000001");
    feedback__v1__alert_page__free_unpacked(page, NULL);
    feedback__v1__alert__free_unpacked(a, NULL);
    fb_alerts_close(F.al);
    fb_settings_close(set);
    fb_store_close(F.st);
    open_all(); /* for teardown */
    free_ids();
}
END_TEST

START_TEST(rules_view_defaults)
{
    fb_rules_view v;
    fb_rules_view_of(NULL, &v);
    ck_assert(v.detractor && v.negative_text && v.low_rating && v.mismatch && v.nps_drop);
    ck_assert_int_eq(v.detractor_max, 6);
    ck_assert_int_eq(v.low_rating_max, 2);
    ck_assert_double_eq_tol(v.negative_threshold, -0.5, 1e-12);
    ck_assert_int_eq(v.sla_ms, 24LL * 3600 * 1000);
    ck_assert_uint_gt(v.n_keywords, 5);
    ck_assert_int_eq(fb_severity_up(SEV(CRITICAL)), SEV(CRITICAL));
    ck_assert_int_eq(fb_severity_up(SEV(LOW)), SEV(MEDIUM));
}
END_TEST

static Suite *alerts_suite(void)
{
    Suite *s = suite_create("alerts");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, detractor_with_keyword);
    tcase_add_test(tc, detractor_severity_by_score_and_text);
    tcase_add_test(tc, negative_text_low_rating_mismatch);
    tcase_add_test(tc, keywords_match_stems_and_phrases);
    tcase_add_test(tc, stemmed_watch_lists_follow_list_and_language);
    tcase_add_test(tc, default_rules_without_settings);
    tcase_add_test(tc, repeat_feedback_joins_open_alert);
    tcase_add_test(tc, silences_hold_alerts);
    tcase_add_test(tc, quiet_hours_hold_by_local_time);
    tcase_add_test(tc, seq_strictly_increasing_across_reopen_and_tenants);
    tcase_add_test(tc, sla_escalates_once_one_severity_higher);
    tcase_add_test(tc, ack_resolve_and_stats);
    tcase_add_test(tc, list_filters_and_pages);
    tcase_add_test(tc, erase_redacts_excerpt_keeps_alert);
    tcase_add_test(tc, rules_view_defaults);
    tcase_add_test(tc, rules_from_settings_module);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(alerts_suite)
