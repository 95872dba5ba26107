/* test_hub.c — live fan-out and the replay→live handoff, with a real store
 * and the real replay pump: filters; a full queue closes only that
 * subscriber, which resumes from its last seq without loss; no duplicates
 * and no gaps when subscribers join while several threads publish. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "fbtest.h"
#include "alerts.h"
#include "hub.h"
#include "store.h"

#define KIND(k) FEEDBACK__V1__ALERT__KIND__##k
#define SEV(s) FEEDBACK__V1__SEVERITY__##s

static char dir[4096];
static fb_store *st;
static fb_alerts *al;

static void setup(void)
{
    fb_err err = {0};
    snprintf(dir, sizeof dir, "%s", fb_test_tmpdir("hub"));
    fb_store_opts so = {.no_sync = 1};
    ck_assert_int_eq(fb_store_open(&st, dir, &so, &err), FB_OK);
    fb_alerts_opts ao = {.timer_ms = -1, .replay_chunk = 16, .hub_buffer = 8};
    ck_assert_msg(fb_alerts_open(&al, st, &ao, &err) == FB_OK, "%s", err.msg);
}

static void teardown(void)
{
    fb_alerts_close(al);
    fb_store_close(st);
}

/* ---- a subscriber: a bounded queue drained by "the network" ------------------------- */

typedef struct subscriber {
    pthread_mutex_t mu;
    fb_sub *sub;
    uint64_t *got;
    size_t n, cap, consumed, queue_max;
    bool draining;
    int closed_code;
    uint64_t closed_seq;
    bool dup_or_disorder;
} subscriber;

static int deliver(void *ctx, const Feedback__V1__Alert *a)
{
    subscriber *s = ctx;
    pthread_mutex_lock(&s->mu);
    int rc = FB_OK;
    if (s->n - s->consumed >= s->queue_max) rc = FB_EXHAUSTED;
    else {
        if (s->n && a->seq <= s->got[s->n - 1]) s->dup_or_disorder = true;
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->got = realloc(s->got, s->cap * sizeof *s->got);
        }
        s->got[s->n++] = a->seq;
        if (s->draining) s->consumed = s->n;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static size_t backlog(void *ctx)
{
    subscriber *s = ctx;
    pthread_mutex_lock(&s->mu);
    size_t b = s->n - s->consumed;
    pthread_mutex_unlock(&s->mu);
    return b;
}

static void closed(void *ctx, int code, uint64_t last_seq)
{
    subscriber *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->closed_code = code;
    s->closed_seq = last_seq;
    pthread_mutex_unlock(&s->mu);
}

static fb_sub *detach(void *arg)
{
    subscriber *s = arg;
    fb_sub *sub = s->sub;
    s->sub = NULL;
    return sub;
}

static void subscribe(subscriber *s, uint32_t tenant, uint64_t after, size_t queue_max, bool draining,
                      const Feedback__V1__SubscribeRequest *filter)
{
    fb_err err = {0};
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->queue_max = queue_max;
    s->draining = draining;
    Feedback__V1__SubscribeRequest req = FEEDBACK__V1__SUBSCRIBE_REQUEST__INIT;
    if (filter) req = *filter;
    req.after_seq = after;
    fb_sub_ops ops = {deliver, backlog, closed, queue_max};
    ck_assert_msg(fb_alerts_subscribe(al, tenant, &req, &ops, s, &s->sub, &err) == FB_OK, "%s", err.msg);
}

static void unsubscribe(subscriber *s, uint32_t tenant)
{
    fb_hub_cancel(fb_alerts_hub(al), tenant, detach, s);
    free(s->got);
    pthread_mutex_destroy(&s->mu);
}

static size_t received(subscriber *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Waits (bounded: 20 s) until s has n alerts or was closed. */
static void wait_for(subscriber *s, size_t n)
{
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&s->mu);
        bool done = s->n >= n || s->closed_code;
        pthread_mutex_unlock(&s->mu);
        if (done) return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* ---- feedback ---------------------------------------------------------------------------- */

typedef struct hook_op {
    uint32_t tenant;
    Feedback__V1__Feedback *fb;
} hook_op;

static int hook_write(fb_txn *txn, void *arg, fb_err *err)
{
    hook_op *op = arg;
    fb_feedback_event ev = {.tenant_id = op->tenant, .fb = op->fb, .sign = 1, .now_ms = fb_now_ms()};
    return fb_alerts_feedback_hook(txn, &ev, al, err);
}

/* Submits one detractor (score) on survey; returns the alert's severity. */
static void submit(uint32_t tenant, const char *survey, int score, const char *comment, double compound)
{
    Feedback__V1__Feedback fb = FEEDBACK__V1__FEEDBACK__INIT;
    Feedback__V1__Sentiment s = FEEDBACK__V1__SENTIMENT__INIT;
    s.compound = compound;
    fb.id = "fb";
    fb.kind = FEEDBACK__V1__FEEDBACK_KIND__RESPONSE;
    fb.survey_id = (char *)survey;
    fb.score = score;
    fb.comment = (char *)comment;
    fb.sentiment = &s;
    hook_op op = {tenant, &fb};
    fb_err err = {0};
    ck_assert_msg(fb_store_write(st, hook_write, &op, &err) == FB_OK, "%s", err.msg);
    for (size_t i = 0; i < fb.n_alert_ids; i++) free(fb.alert_ids[i]);
    free(fb.alert_ids);
}

/* ---- tests ----------------------------------------------------------------------------------- */

START_TEST(filter_matching)
{
    Feedback__V1__SubscribeRequest req = FEEDBACK__V1__SUBSCRIBE_REQUEST__INIT;
    char *surveys[] = {"a", "b"};
    Feedback__V1__Alert__Kind kinds[] = {KIND(KEYWORD)};
    req.survey_ids = surveys, req.n_survey_ids = 2;
    req.kinds = kinds, req.n_kinds = 1;
    req.min_severity = SEV(MEDIUM);
    fb_alert_filter f;
    fb_err err;
    ck_assert_int_eq(fb_alert_filter_from(&req, &f, &err), FB_OK);
    Feedback__V1__Alert a = FEEDBACK__V1__ALERT__INIT;
    Feedback__V1__Alert__Kind ak[] = {KIND(DETRACTOR), KIND(KEYWORD)};
    a.kind = KIND(DETRACTOR), a.kinds = ak, a.n_kinds = 2;
    a.severity = SEV(HIGH);
    a.survey_id = "b";
    ck_assert(fb_alert_filter_match(&f, &a));   /* KEYWORD among its kinds */
    a.n_kinds = 1;
    ck_assert(!fb_alert_filter_match(&f, &a));  /* DETRACTOR only */
    a.n_kinds = 2;
    a.survey_id = "c";
    ck_assert(!fb_alert_filter_match(&f, &a));
    a.survey_id = "a";
    a.severity = SEV(LOW);
    ck_assert(!fb_alert_filter_match(&f, &a));
    a.severity = SEV(MEDIUM);
    a.held = 1;
    ck_assert(!fb_alert_filter_match(&f, &a));
    f.include_held = true;
    ck_assert(fb_alert_filter_match(&f, &a));
    fb_alert_filter_free(&f);

    kinds[0] = 42;
    ck_assert_int_eq(fb_alert_filter_from(&req, &f, &err), FB_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "kinds[0]"));
}
END_TEST

START_TEST(replay_then_live_with_filter)
{
    for (int i = 0; i < 10; i++) submit(1, i % 2 ? "a" : "b", 1, "", 0); /* seq 1..10 */
    submit(2, "a", 1, "", 0);                                             /* other tenant */
    Feedback__V1__SubscribeRequest req = FEEDBACK__V1__SUBSCRIBE_REQUEST__INIT;
    char *surveys[] = {"a"};
    req.survey_ids = surveys, req.n_survey_ids = 1;
    subscriber s, all;
    subscribe(&s, 1, 3, 100, true, &req);
    subscribe(&all, 1, 0, 100, true, NULL);
    wait_for(&s, 4);   /* 4, 6, 8, 10 */
    wait_for(&all, 10);
    for (int i = 0; i < 4; i++) submit(1, "a", 1, "", 0); /* 11..14 live */
    wait_for(&s, 8);
    wait_for(&all, 14);
    ck_assert_uint_eq(received(&s), 8);
    uint64_t want[] = {4, 6, 8, 10, 11, 12, 13, 14};
    for (int i = 0; i < 8; i++) ck_assert_uint_eq(s.got[i], want[i]);
    ck_assert_uint_eq(received(&all), 14);
    for (int i = 0; i < 14; i++) ck_assert_uint_eq(all.got[i], (uint64_t)i + 1);
    ck_assert(!s.dup_or_disorder && !all.dup_or_disorder);
    ck_assert_uint_eq(fb_hub_count(fb_alerts_hub(al), 1), 2);
    unsubscribe(&s, 1);
    unsubscribe(&all, 1);
    ck_assert_uint_eq(fb_hub_count(fb_alerts_hub(al), 1), 0);
}
END_TEST

START_TEST(full_queue_closes_only_that_subscriber)
{
    subscriber slow, fast;
    subscribe(&slow, 1, 0, 5, false, NULL); /* never drains */
    subscribe(&fast, 1, 0, 5, true, NULL);
    submit(1, "a", 1, "", 0);
    wait_for(&slow, 1); /* replayed up to the end of the log: both are live now */
    wait_for(&fast, 1);
    for (int i = 0; i < 10; i++) submit(1, "a", 1, "", 0);
    wait_for(&fast, 11);
    ck_assert_int_eq(slow.closed_code, FB_EXHAUSTED);
    ck_assert_uint_eq(slow.n, 5);
    ck_assert_uint_eq(slow.closed_seq, 5);
    ck_assert_uint_eq(fb_hub_count(fb_alerts_hub(al), 1), 1);
    for (int i = 0; i < 20; i++) submit(1, "a", 1, "", 0);
    wait_for(&fast, 31);
    ck_assert_int_eq(fast.closed_code, 0);
    ck_assert(!fast.dup_or_disorder);
    ck_assert_uint_eq(fast.n, 31);
    uint64_t last = fast.got[fast.n - 1];
    ck_assert_uint_eq(last, 31);
    /* the slow one resumes from where it was cut off and misses nothing */
    uint64_t resume_at = slow.closed_seq;
    unsubscribe(&slow, 1);
    subscribe(&slow, 1, resume_at, 1000, true, NULL);
    wait_for(&slow, last - resume_at);
    ck_assert_uint_eq(slow.n, last - resume_at);
    ck_assert_uint_eq(slow.got[0], resume_at + 1);
    ck_assert(!slow.dup_or_disorder);
    unsubscribe(&slow, 1);
    unsubscribe(&fast, 1);
}
END_TEST

/* A long replay into a small queue: paced by the backlog, never overflowing. */
typedef struct drainer {
    subscriber *s;
    atomic_int stop;
} drainer;

static void *drain_main(void *arg)
{
    drainer *d = arg;
    while (!atomic_load(&d->stop)) {
        pthread_mutex_lock(&d->s->mu);
        if (d->s->consumed < d->s->n) d->s->consumed++; /* "the network" writes one */
        pthread_mutex_unlock(&d->s->mu);
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

START_TEST(long_replay_is_paced_by_the_queue)
{
    for (int i = 0; i < 500; i++) submit(1, "a", 1, "", 0);
    subscriber s;
    subscribe(&s, 1, 0, 8, false, NULL); /* queue of 8, drained slowly */
    drainer d = {&s, 0};
    pthread_t t;
    pthread_create(&t, NULL, drain_main, &d);
    wait_for(&s, 500);
    atomic_store(&d.stop, 1);
    pthread_join(t, NULL);
    ck_assert_int_eq(s.closed_code, 0);
    ck_assert_uint_eq(s.n, 500);
    ck_assert(!s.dup_or_disorder);
    ck_assert_uint_eq(s.got[499], 500);
    unsubscribe(&s, 1);
}
END_TEST

#define WRITERS 4
#define PER_WRITER 1000
#define SUBS 40

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_WRITER; i++) submit(1, "a", 1, "", 0);
    return NULL;
}

START_TEST(no_loss_no_duplicates_across_handoff)
{
    pthread_t w[WRITERS];
    subscriber s[SUBS];
    for (int i = 0; i < WRITERS; i++) pthread_create(&w[i], NULL, writer, NULL);
    /* join at staggered moments while the writers publish */
    for (int i = 0; i < SUBS; i++) {
        subscribe(&s[i], 1, i == SUBS - 1 ? 50 : 0, 64, true, NULL);
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < WRITERS; i++) pthread_join(w[i], NULL);
    const size_t total = WRITERS * PER_WRITER;
    for (int i = 0; i < SUBS; i++) {
        size_t want = i == SUBS - 1 ? total - 50 : total;
        wait_for(&s[i], want);
        ck_assert_msg(s[i].closed_code == 0, "subscriber %d closed", i);
        ck_assert_msg(received(&s[i]) == want, "subscriber %d got %zu of %zu", i, received(&s[i]), want);
        ck_assert_msg(!s[i].dup_or_disorder, "subscriber %d: duplicate or out of order", i);
        ck_assert_uint_eq(s[i].got[0], i == SUBS - 1 ? 51 : 1);
        ck_assert_uint_eq(s[i].got[want - 1], total);
    }
    for (int i = 0; i < SUBS; i++) unsubscribe(&s[i], 1);
}
END_TEST

START_TEST(close_ends_subscribers_unavailable)
{
    subscriber s;
    subscribe(&s, 1, 0, 10, true, NULL);
    fb_alerts_close(al);
    al = NULL;
    ck_assert_int_eq(s.closed_code, FB_UNAVAILABLE);
    free(s.got);
    fb_err err;
    fb_alerts_opts ao = {.timer_ms = -1};
    ck_assert_int_eq(fb_alerts_open(&al, st, &ao, &err), FB_OK); /* for teardown */
}
END_TEST

/* The handoff step by step on a hub of its own (no pump thread): alerts
 * published while replaying are buffered and flushed after the replayed
 * ones; duplicates of replayed seqs are dropped; a buffer overflow keeps the
 * subscriber replaying from the log instead of losing anything. */
static Feedback__V1__Alert *mk(uint64_t seq)
{
    static Feedback__V1__Alert v[32];
    feedback__v1__alert__init(&v[seq]);
    v[seq].seq = seq;
    v[seq].severity = SEV(LOW);
    v[seq].kind = KIND(DETRACTOR);
    return &v[seq];
}

START_TEST(handoff_steps)
{
    fb_hub *h;
    fb_err err;
    ck_assert_int_eq(fb_hub_open(&h, 2, &err), FB_OK);
    subscriber s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    s.queue_max = 100, s.draining = true;
    fb_alert_filter f = {0};
    fb_sub_ops ops = {deliver, backlog, closed, 100};
    ck_assert_int_eq(fb_hub_subscribe(h, 7, &f, 0, &ops, &s, &s.sub, &err), FB_OK);
    fb_hub_publish(h, 7, mk(4));            /* committed before the pump's snapshot */
    fb_hub_publish(h, 7, mk(5));            /* after it */
    ck_assert_uint_eq(received(&s), 0);     /* buffered while replaying */
    fb_sub *p = fb_hub_next_replaying(h, 0);
    ck_assert_ptr_eq(p, s.sub);
    Feedback__V1__Alert *stored[] = {mk(1), mk(2), mk(3), mk(4)};
    fb_hub_replay(h, p, stored, 4, 4, true); /* end of the snapshot: go live */
    fb_hub_put(h, p);
    ck_assert_uint_eq(received(&s), 5);
    for (int i = 0; i < 5; i++) ck_assert_uint_eq(s.got[i], (uint64_t)i + 1);
    fb_hub_publish(h, 7, mk(5));            /* a repeat: dropped */
    fb_hub_publish(h, 7, mk(6));
    ck_assert_uint_eq(received(&s), 6);
    ck_assert(!s.dup_or_disorder);
    ck_assert_ptr_null(fb_hub_next_replaying(h, 0)); /* live: not in the pump's queue */

    /* overflow: the buffer (2) is dropped, the pump reads the log again */
    subscriber t;
    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.mu, NULL);
    t.queue_max = 100, t.draining = true;
    ck_assert_int_eq(fb_hub_subscribe(h, 7, &f, 3, &ops, &t, &t.sub, &err), FB_OK);
    fb_hub_publish(h, 7, mk(7));
    fb_hub_publish(h, 7, mk(8));
    fb_hub_publish(h, 7, mk(9));
    p = fb_hub_next_replaying(h, 0);
    Feedback__V1__Alert *first[] = {mk(4), mk(5), mk(6)};
    fb_hub_replay(h, p, first, 3, 6, true);  /* end of an older snapshot */
    fb_hub_put(h, p);
    ck_assert_uint_eq(received(&t), 3);
    p = fb_hub_next_replaying(h, 0);
    ck_assert_ptr_eq(p, t.sub);              /* still replaying */
    Feedback__V1__Alert *second[] = {mk(7), mk(8), mk(9)};
    fb_hub_replay(h, p, second, 3, 9, true);
    fb_hub_put(h, p);
    fb_hub_publish(h, 7, mk(10));
    ck_assert_uint_eq(received(&t), 7);
    for (int i = 0; i < 7; i++) ck_assert_uint_eq(t.got[i], (uint64_t)i + 4);
    ck_assert_uint_eq(received(&s), 10);
    ck_assert_uint_eq(fb_hub_count(h, 7), 2);
    ck_assert_ptr_eq(fb_hub_cancel(h, 7, detach, &s), &s);
    ck_assert_ptr_null(fb_hub_cancel(h, 7, detach, &s)); /* once */
    fb_hub_close(h);
    ck_assert_int_eq(t.closed_code, FB_UNAVAILABLE);
    ck_assert_uint_eq(t.closed_seq, 10);
    free(s.got);
    free(t.got);
}
END_TEST

static Suite *hub_suite(void)
{
    Suite *s = suite_create("hub");
    TCase *tc = tcase_create("hub");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, filter_matching);
    tcase_add_test(tc, handoff_steps);
    tcase_add_test(tc, replay_then_live_with_filter);
    tcase_add_test(tc, full_queue_closes_only_that_subscriber);
    tcase_add_test(tc, long_replay_is_paced_by_the_queue);
    tcase_add_test(tc, no_loss_no_duplicates_across_handoff);
    tcase_add_test(tc, close_ends_subscribers_unavailable);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(hub_suite)
