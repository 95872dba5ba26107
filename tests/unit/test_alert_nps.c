/* test_alert_nps.c — NPS_DROP per (survey, segment) with the dashboards'
 * real aggregates in a real LMDB store: a drop confined to one channel or
 * one tag raises one alert naming that segment (and none for the survey as a
 * whole when its NPS did not drop significantly), at most once a day per
 * (survey, segment), only for segments with feedback since their last
 * evaluation, never on too small a sample; silences on a channel hold that
 * channel's alert; a store with the old per-survey bookkeeping is migrated.
 *
 * Feedback reaches the trends and alerts hooks the way ingest delivers it:
 * inside a store write op. The aggregates are queried through the server's
 * own provider (fb_alerts_nps_provider), wrapped only to count the calls. */
#include "fbtest.h"
#include "alerts.h"
#include "settings.h"
#include "trends.h"
#include "store.h"

#define KIND(k) FEEDBACK__V1__ALERT__KIND__##k
#define DAY 86400000LL
#define HOUR 3600000LL
#define MIN 60000LL
#define T0 1700000000000LL /* 2023-11-14 22:13:20 UTC */

static struct {
    char dir[4096];
    fb_store *st;
    fb_trends *tr;
    fb_alerts *al;
    Feedback__V1__Settings settings;
    Feedback__V1__AlertRules rules;
    Feedback__V1__Silence silence, *silences[1];
    int nps_calls;
} F;

static int settings_of(void *ctx, MDB_txn *txn, uint32_t tenant, Feedback__V1__Settings **out, fb_err *err)
{
    (void)ctx, (void)txn, (void)tenant, (void)err;
    size_t n = feedback__v1__settings__get_packed_size(&F.settings);
    unsigned char *buf = malloc(n + 1);
    feedback__v1__settings__pack(&F.settings, buf);
    *out = feedback__v1__settings__unpack(NULL, n, buf);
    free(buf);
    return *out ? FB_OK : FB_INTERNAL;
}

static int counting_nps(void *ctx, uint32_t tenant, const char *zone, const char *survey,
                        const fb_nps_segment *seg, int64_t from, int64_t to, fb_nps_counts *out, fb_err *err)
{
    F.nps_calls++;
    return fb_alerts_nps_provider(ctx, tenant, zone, survey, seg, from, to, out, err);
}

static void open_alerts(void)
{
    fb_err err = {0};
    fb_alerts_opts ao = {.settings = settings_of, .nps = counting_nps, .nps_ctx = F.tr, .timer_ms = -1};
    ck_assert_msg(fb_alerts_open(&F.al, F.st, &ao, &err) == FB_OK, "%s", err.msg);
}

static void setup(void)
{
    memset(&F, 0, sizeof F);
    snprintf(F.dir, sizeof F.dir, "%s", fb_test_tmpdir("alert_nps"));
    feedback__v1__settings__init(&F.settings);
    feedback__v1__alert_rules__init(&F.rules);
    F.rules.nps_drop = 1; /* only NPS alerts here; sla_ms 0: no escalations */
    F.settings.timezone = "UTC";
    F.settings.min_sample = 30;
    F.settings.alert_rules = &F.rules;
    fb_err err = {0};
    fb_store_opts so = {.no_sync = 1};
    ck_assert_int_eq(fb_store_open(&F.st, F.dir, &so, &err), FB_OK);
    ck_assert_int_eq(fb_trends_open(&F.tr, F.st, NULL, &err), FB_OK);
    open_alerts();
}

static void teardown(void)
{
    fb_alerts_close(F.al);
    fb_trends_close(F.tr);
    fb_store_close(F.st);
}

/* ---- feedback in bulk: n answers per write op ------------------------------------ */

typedef struct seed {
    const char *survey, *channel, *tag_key, *tag_value;
    int promoters, passives, detractors;
    int64_t from;          /* submitted_at: spread 20 minutes apart from here */
} seed;

typedef struct seed_op {
    const seed *s;
    int64_t now;           /* ingest time */
    bool alerts;           /* also the alerts hook */
} seed_op;

static int seed_write(fb_txn *txn, void *arg, fb_err *err)
{
    seed_op *op = arg;
    const seed *s = op->s;
    int total = s->promoters + s->passives + s->detractors;
    Feedback__V1__Feedback__TagsEntry tag = FEEDBACK__V1__FEEDBACK__TAGS_ENTRY__INIT, *tags[1] = {&tag};
    tag.key = (char *)s->tag_key, tag.value = (char *)s->tag_value;
    for (int i = 0; i < total; i++) {
        Feedback__V1__Feedback fb = FEEDBACK__V1__FEEDBACK__INIT;
        fb.id = "n";
        fb.kind = FEEDBACK__V1__FEEDBACK_KIND__RESPONSE;
        fb.survey_id = (char *)s->survey;
        fb.channel = (char *)(s->channel ? s->channel : "");
        if (s->tag_key) fb.tags = tags, fb.n_tags = 1;
        fb.score = i < s->promoters ? 10 : i < s->promoters + s->passives ? 8 : 0;
        fb.submitted_at_ms = s->from + i * 20 * MIN;
        fb.received_ms = op->now;
        fb_feedback_event ev = {.tenant_id = 1, .fb = &fb, .sign = 1, .now_ms = op->now};
        int rc = fb_trends_hook(txn, &ev, F.tr, err);
        if (!rc && op->alerts) rc = fb_alerts_feedback_hook(txn, &ev, F.al, err);
        if (rc) return rc;
    }
    return FB_OK;
}

static void feed(seed s, int64_t now)
{
    seed_op op = {&s, now, true};
    fb_err err = {0};
    ck_assert_msg(fb_store_write(F.st, seed_write, &op, &err) == FB_OK, "%s", err.msg);
}

static int tick(int64_t now)
{
    fb_err err = {0};
    int raised = -1;
    ck_assert_msg(fb_alerts_tick(F.al, now, &raised, &err) == FB_OK, "%s", err.msg);
    return raised;
}

/* The NPS_DROP alerts, newest first; free with feedback__v1__alert_page__free_unpacked. */
static Feedback__V1__AlertPage *drops(void)
{
    Feedback__V1__AlertQuery q = FEEDBACK__V1__ALERT_QUERY__INIT;
    Feedback__V1__AlertPage *page;
    fb_err err = {0};
    q.kind = KIND(NPS_DROP);
    ck_assert_int_eq(fb_alerts_list(F.al, 1, &q, T0, &page, &err), FB_OK);
    return page;
}

/* email: NPS 60 over the previous 28 days, -20 over the last 7 (30 answers
 * each, z ≈ -3.8); web: 200 answers a period at NPS 0 in both. Overall:
 * 7.8 -> -2.6, not significant (z ≈ -1.1). */
static void channel_drop(const char *survey, int64_t now)
{
    feed((seed){survey, "email", NULL, NULL, 21, 6, 3, now - 20 * DAY}, now);
    feed((seed){survey, "email", NULL, NULL, 9, 6, 15, now - 3 * DAY}, now);
    feed((seed){survey, "web", NULL, NULL, 100, 0, 100, now - 34 * DAY}, now);
    feed((seed){survey, "web", NULL, NULL, 100, 0, 100, now - 5 * DAY}, now);
}

START_TEST(channel_drop_names_the_channel_only)
{
    channel_drop("s1", T0);
    ck_assert_int_eq(tick(T0), 1);
    ck_assert_int_eq(F.nps_calls, 6); /* all, email, web: two periods each */
    Feedback__V1__AlertPage *page = drops();
    ck_assert_uint_eq(page->n_alerts, 1);
    const Feedback__V1__Alert *a = page->alerts[0];
    ck_assert_str_eq(a->survey_id, "s1");
    ck_assert_str_eq(a->channel, "email");
    ck_assert_uint_eq(a->n_tags, 0);
    ck_assert_int_eq(a->severity, FEEDBACK__V1__SEVERITY__HIGH);
    ck_assert_msg(strstr(a->reason, "NPS for survey s1, channel email, fell from 60 over the previous 28 days "
                                    "to -20 over the last 7 days (significant at 95%, z = -3.") == a->reason,
                  "%s", a->reason);
    feedback__v1__alert_page__free_unpacked(page, NULL);
}
END_TEST

START_TEST(tag_drop_names_the_tag)
{
    /* all on one channel: "all" and "web" are the same mix, neither dropped */
    feed((seed){"t1", "web", "location", "paris", 21, 6, 3, T0 - 20 * DAY}, T0);
    feed((seed){"t1", "web", "location", "paris", 9, 6, 15, T0 - 3 * DAY}, T0);
    feed((seed){"t1", "web", "location", "lyon", 100, 0, 100, T0 - 34 * DAY}, T0);
    feed((seed){"t1", "web", "location", "lyon", 100, 0, 100, T0 - 5 * DAY}, T0);
    ck_assert_int_eq(tick(T0), 1);
    ck_assert_int_eq(F.nps_calls, 8); /* all, web, location=paris, location=lyon */
    Feedback__V1__AlertPage *page = drops();
    ck_assert_uint_eq(page->n_alerts, 1);
    const Feedback__V1__Alert *a = page->alerts[0];
    ck_assert_str_eq(a->channel, "");
    ck_assert_uint_eq(a->n_tags, 1);
    ck_assert_str_eq(a->tags[0]->key, "location");
    ck_assert_str_eq(a->tags[0]->value, "paris");
    ck_assert_msg(strstr(a->reason, "NPS for survey t1, tag location=paris, fell from 60 ") == a->reason,
                  "%s", a->reason);
    feedback__v1__alert_page__free_unpacked(page, NULL);
}
END_TEST

START_TEST(once_a_day_and_only_after_new_feedback)
{
    channel_drop("s1", T0);
    ck_assert_int_eq(tick(T0), 1);
    int calls = F.nps_calls;
    /* more feedback the same UTC day (T0 is 22:13): queued for tomorrow,
     * no NPS query today */
    feed((seed){"s1", "email", NULL, NULL, 0, 0, 2, T0 - HOUR}, T0 + 10 * MIN);
    ck_assert_int_eq(tick(T0 + 20 * MIN), 0);
    ck_assert_int_eq(F.nps_calls, calls);
    /* the next UTC day: all and email are evaluated again (email still
     * dropped: a second alert); web, without new feedback, is not */
    ck_assert_int_eq(tick(T0 + DAY), 1);
    ck_assert_int_eq(F.nps_calls, calls + 4);
    ck_assert_int_eq(tick(T0 + DAY + HOUR), 0);
    ck_assert_int_eq(tick(T0 + 2 * DAY), 0); /* nothing new: nothing evaluated */
    ck_assert_int_eq(F.nps_calls, calls + 4);
    Feedback__V1__AlertPage *page = drops();
    ck_assert_uint_eq(page->n_alerts, 2);
    ck_assert_str_eq(page->alerts[0]->channel, "email");
    ck_assert_str_eq(page->alerts[1]->channel, "email");
    feedback__v1__alert_page__free_unpacked(page, NULL);
}
END_TEST

START_TEST(too_small_a_sample_raises_nothing)
{
    /* sms: every answer a promoter, then every answer a detractor; 10 each */
    feed((seed){"s1", "sms", NULL, NULL, 10, 0, 0, T0 - 20 * DAY}, T0);
    feed((seed){"s1", "sms", NULL, NULL, 0, 0, 10, T0 - 3 * DAY}, T0);
    ck_assert_int_eq(tick(T0), 0);
    ck_assert_int_eq(F.nps_calls, 4);
    /* the same counts with min_sample 10 are a drop (for all and sms) */
    F.settings.min_sample = 10;
    feed((seed){"s1", "sms", NULL, NULL, 0, 1, 0, T0 - 2 * DAY}, T0 + DAY);
    ck_assert_int_eq(tick(T0 + DAY), 2);
}
END_TEST

START_TEST(silence_on_the_channel_holds_its_alert)
{
    F.silence = (Feedback__V1__Silence)FEEDBACK__V1__SILENCE__INIT;
    F.silence.channel = "email";
    F.silence.expires_ms = T0 + DAY;
    F.silences[0] = &F.silence;
    F.rules.silences = F.silences;
    F.rules.n_silences = 1;
    channel_drop("s1", T0);
    ck_assert_int_eq(tick(T0), 1);
    Feedback__V1__AlertPage *page = drops();
    ck_assert_uint_eq(page->n_alerts, 1);
    ck_assert(page->alerts[0]->held);
    feedback__v1__alert_page__free_unpacked(page, NULL);
}
END_TEST

/* A store written by the version that kept tenant|survey -> last day. */
typedef struct raw_op {
    MDB_dbi dbi;
    const char *key;
    size_t klen;
    int64_t day;
    char what;             /* 'p' put, 'g' get, 'd' delete */
    int found;
} raw_op;

static int raw_write(fb_txn *txn, void *arg, fb_err *err)
{
    (void)err;
    raw_op *op = arg;
    unsigned char v[8];
    fb_put_be64(v, (uint64_t)op->day);
    MDB_val k = {op->klen, (void *)op->key}, val = {8, v};
    if (op->what == 'g') {
        op->found = mdb_get(fb_txn_mdb(txn), op->dbi, &k, &val) == 0;
        return FB_OK;
    }
    if (op->what == 'd') return mdb_del(fb_txn_mdb(txn), op->dbi, &k, NULL) ? FB_INTERNAL : FB_OK;
    return mdb_put(fb_txn_mdb(txn), op->dbi, &k, &val, 0) ? FB_INTERNAL : FB_OK;
}

START_TEST(old_per_survey_bookkeeping_is_migrated)
{
    fb_err err = {0};
    fb_alerts_close(F.al);
    /* the aggregates of a drop in survey "old" (all feedback), no queue */
    seed_op s1 = {&(seed){"old", "", NULL, NULL, 27, 0, 3, T0 - 20 * DAY}, T0, false};
    seed_op s2 = {&(seed){"old", "", NULL, NULL, 9, 6, 15, T0 - 3 * DAY}, T0, false};
    ck_assert_int_eq(fb_store_write(F.st, seed_write, &s1, &err), FB_OK);
    ck_assert_int_eq(fb_store_write(F.st, seed_write, &s2, &err), FB_OK);
    raw_op op = {.key = "\0\0\0\1old", .klen = 7, .day = T0 / DAY - 1, .what = 'p'};
    ck_assert_int_eq(fb_store_dbi(F.st, "alert_nps", &op.dbi, &err), FB_OK);
    ck_assert_int_eq(fb_store_write(F.st, raw_write, &op, &err), FB_OK);
    raw_op marker = {.key = "nps-format", .klen = 10, .what = 'd'}; /* the old version had none */
    ck_assert_int_eq(fb_store_dbi(F.st, "alert_meta", &marker.dbi, &err), FB_OK);
    ck_assert_int_eq(fb_store_write(F.st, raw_write, &marker, &err), FB_OK);
    open_alerts(); /* migrates: "old" is due the day after its last evaluation */
    op.what = 'g';
    ck_assert_int_eq(fb_store_write(F.st, raw_write, &op, &err), FB_OK);
    ck_assert_int_eq(op.found, 0);
    ck_assert_int_eq(tick(T0), 1);
    Feedback__V1__AlertPage *page = drops();
    ck_assert_uint_eq(page->n_alerts, 1);
    ck_assert_str_eq(page->alerts[0]->survey_id, "old");
    ck_assert_str_eq(page->alerts[0]->channel, "");
    ck_assert_msg(strstr(page->alerts[0]->reason, "NPS for survey old fell from 80 ") == page->alerts[0]->reason,
                  "%s", page->alerts[0]->reason);
    feedback__v1__alert_page__free_unpacked(page, NULL);
    /* reopening does not migrate again; the same day nothing more */
    fb_alerts_close(F.al);
    open_alerts();
    ck_assert_int_eq(tick(T0 + HOUR), 0);
}
END_TEST

START_TEST(segment_keys_round_trip)
{
    unsigned char buf[FB_SEG_PREFIX_MAX];
    char survey[65];
    uint32_t tenant;
    fb_seg in[3] = {{.type = 'a'}, {.type = 'c', .val = "email", .vlen = 5},
                    {.type = 't', .key = "location", .klen = 8, .val = "paris", .vlen = 5}}, out;
    for (int i = 0; i < 3; i++) {
        size_t n = fb_seg_prefix(buf, 7, '\x01', "s1", &in[i]);
        ck_assert_uint_eq(fb_seg_parse(buf, n, '\x01', &tenant, survey, &out), n);
        ck_assert_uint_eq(tenant, 7);
        ck_assert_str_eq(survey, "s1");
        ck_assert_int_eq(out.type, in[i].type);
        ck_assert_uint_eq(out.klen, in[i].klen);
        ck_assert_uint_eq(out.vlen, in[i].vlen);
        if (in[i].vlen) ck_assert(memcmp(out.val, in[i].val, out.vlen) == 0);
        if (in[i].klen) ck_assert(memcmp(out.key, in[i].key, out.klen) == 0);
        ck_assert_uint_eq(fb_seg_parse(buf, n - 1, '\x01', &tenant, survey, &out), 0);
        ck_assert_uint_eq(fb_seg_parse(buf, n, 'A', &tenant, survey, &out), 0);
    }
}
END_TEST

static Suite *alert_nps_suite(void)
{
    Suite *s = suite_create("alert_nps");
    TCase *tc = tcase_create("nps_drop");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, channel_drop_names_the_channel_only);
    tcase_add_test(tc, tag_drop_names_the_tag);
    tcase_add_test(tc, once_a_day_and_only_after_new_feedback);
    tcase_add_test(tc, too_small_a_sample_raises_nothing);
    tcase_add_test(tc, silence_on_the_channel_holds_its_alert);
    tcase_add_test(tc, old_per_survey_bookkeeping_is_migrated);
    tcase_add_test(tc, segment_keys_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(alert_nps_suite)
