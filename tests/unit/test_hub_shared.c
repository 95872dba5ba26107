/* test_hub_shared.c — one encoding per fan-out (fb_hub_shared): every
 * subscriber of a publish sees the same fan-out, the first one encodes the
 * alert and the others reuse those bytes, the hub frees the encoding once
 * after the fan-out, subscribers whose filter does not match never cause an
 * encoding, and replayed alerts (one subscriber each) get a fan-out of their
 * own. The rpc layer's use of it (the bytes on the wire) is covered by
 * tests/e2e/test_runtime_races.py. */
#include <pthread.h>

#include "fbtest.h"
#include "hub.h"

#define N_SUBS 30
#define N_ALERTS 5

typedef struct bytes {
    size_t len;
    unsigned char *data;
} bytes;

typedef struct counters {
    int encoded, freed;
} counters;

typedef struct sub {
    fb_sub *sub;
    counters *cnt;
    bool share;                 /* false: ignores fb_hub_shared (a plain deliver) */
    int n;
    uint64_t seq[N_ALERTS + 4];
    const void *shared[N_ALERTS + 4];
    bool bad_msg;               /* fb_hub_shared did not describe the alert given */
} sub;

static counters *freeing; /* shared_free has no context: the test's counters */

static void bytes_free(void *p)
{
    bytes *b = p;
    freeing->freed++;
    free(b->data);
    free(b);
}

static int deliver(void *ctx, const Feedback__V1__Alert *a)
{
    sub *s = ctx;
    fb_hub_msg *m = fb_hub_shared(s->sub);
    if (!m || m->alert != a) s->bad_msg = true;
    const void *enc = NULL;
    if (s->share && m) {
        if (!m->shared) {
            bytes *b = malloc(sizeof *b);
            b->len = feedback__v1__alert__get_packed_size(a);
            b->data = malloc(b->len ? b->len : 1);
            feedback__v1__alert__pack(a, b->data);
            m->shared = b;
            m->shared_free = bytes_free;
            s->cnt->encoded++;
        }
        enc = m->shared;
    }
    s->seq[s->n] = a->seq;
    s->shared[s->n] = enc;
    s->n++;
    return FB_OK;
}

static size_t backlog(void *ctx)
{
    (void)ctx;
    return 0;
}

static void closed(void *ctx, int code, uint64_t last_seq)
{
    (void)ctx, (void)code, (void)last_seq;
}

static Feedback__V1__Alert *mk(Feedback__V1__Alert *a, uint64_t seq, int severity)
{
    feedback__v1__alert__init(a);
    a->seq = seq;
    a->severity = severity;
    a->kind = FEEDBACK__V1__ALERT__KIND__DETRACTOR;
    a->survey_id = "s1";
    a->reason = "Detractor score 1.";
    return a;
}

/* Subscribes s and takes it through an empty replay, so it is LIVE. */
static void go_live(fb_hub *h, sub *s, int min_severity)
{
    fb_err err = {0};
    fb_alert_filter f = {0};
    f.min_severity = min_severity;
    fb_sub_ops ops = {deliver, backlog, closed, 100};
    ck_assert_int_eq(fb_hub_subscribe(h, 7, &f, 0, &ops, s, &s->sub, &err), FB_OK);
    fb_sub *p = fb_hub_next_replaying(h, 0);
    ck_assert_ptr_eq(p, s->sub);
    fb_hub_replay(h, p, NULL, 0, 0, true);
    fb_hub_put(h, p);
}

START_TEST(one_encoding_per_fanout)
{
    fb_hub *h;
    fb_err err = {0};
    ck_assert_int_eq(fb_hub_open(&h, 0, &err), FB_OK);
    counters cnt = {0};
    freeing = &cnt;
    static sub subs[N_SUBS];
    memset(subs, 0, sizeof subs);
    for (int i = 0; i < N_SUBS; i++) {
        subs[i].cnt = &cnt;
        subs[i].share = i != 3;  /* one plain deliver among them */
        go_live(h, &subs[i], i == 5 ? FEEDBACK__V1__SEVERITY__HIGH : 0);
    }
    ck_assert_ptr_null(fb_hub_shared(subs[0].sub)); /* outside a deliver */

    Feedback__V1__Alert a[N_ALERTS];
    for (int k = 0; k < N_ALERTS; k++) {
        fb_hub_publish(h, 7, mk(&a[k], (uint64_t)k + 1, FEEDBACK__V1__SEVERITY__LOW));
        ck_assert_int_eq(cnt.encoded, k + 1);   /* once, not once per subscriber */
        ck_assert_int_eq(cnt.freed, k + 1);     /* and freed when the fan-out ended */
    }
    for (int i = 0; i < N_SUBS; i++) {
        sub *s = &subs[i];
        ck_assert_msg(!s->bad_msg, "subscriber %d: fb_hub_shared is not the alert delivered", i);
        if (i == 5) { /* wants HIGH: never delivered, never encoded for */
            ck_assert_int_eq(s->n, 0);
            continue;
        }
        ck_assert_int_eq(s->n, N_ALERTS);
        for (int k = 0; k < N_ALERTS; k++) {
            ck_assert_uint_eq(s->seq[k], (uint64_t)k + 1);
            if (s->share) ck_assert_ptr_eq(s->shared[k], subs[0].shared[k]); /* the same bytes */
            else ck_assert_ptr_null(s->shared[k]);
        }
    }

    fb_hub_close(h); /* ends them all; then a fresh hub for the replay case */
    ck_assert_int_eq(cnt.encoded, N_ALERTS);
    ck_assert_int_eq(cnt.freed, N_ALERTS);

    /* replayed alerts: each gets a fan-out of its own (one subscriber) */
    ck_assert_int_eq(fb_hub_open(&h, 0, &err), FB_OK);
    sub r = {.cnt = &cnt, .share = true};
    fb_alert_filter f = {0};
    fb_sub_ops ops = {deliver, backlog, closed, 100};
    ck_assert_int_eq(fb_hub_subscribe(h, 7, &f, 0, &ops, &r, &r.sub, &err), FB_OK);
    fb_sub *p = fb_hub_next_replaying(h, 0);
    Feedback__V1__Alert *stored[] = {&a[0], &a[1], &a[2]};
    fb_hub_replay(h, p, stored, 3, 3, true);
    fb_hub_put(h, p);
    ck_assert(!r.bad_msg);
    ck_assert_int_eq(r.n, 3);
    ck_assert_int_eq(cnt.encoded, N_ALERTS + 3);
    ck_assert_int_eq(cnt.freed, N_ALERTS + 3);
    fb_hub_close(h);
}
END_TEST

START_TEST(nobody_matching_encodes_nothing)
{
    fb_hub *h;
    fb_err err = {0};
    ck_assert_int_eq(fb_hub_open(&h, 0, &err), FB_OK);
    counters cnt = {0};
    freeing = &cnt;
    sub s = {.cnt = &cnt, .share = true};
    go_live(h, &s, FEEDBACK__V1__SEVERITY__CRITICAL);
    Feedback__V1__Alert a;
    for (uint64_t seq = 1; seq <= 3; seq++) fb_hub_publish(h, 7, mk(&a, seq, FEEDBACK__V1__SEVERITY__LOW));
    ck_assert_int_eq(s.n, 0);
    ck_assert_int_eq(cnt.encoded, 0);
    ck_assert_int_eq(cnt.freed, 0);
    fb_hub_publish(h, 7, mk(&a, 4, FEEDBACK__V1__SEVERITY__CRITICAL));
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(cnt.encoded, 1);
    ck_assert_int_eq(cnt.freed, 1);
    fb_hub_close(h);
}
END_TEST

static Suite *hub_shared_suite(void)
{
    Suite *s = suite_create("hub_shared");
    TCase *tc = tcase_create("hub_shared");
    tcase_add_test(tc, one_encoding_per_fanout);
    tcase_add_test(tc, nobody_matching_encodes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(hub_shared_suite)
