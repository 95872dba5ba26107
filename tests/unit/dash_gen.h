/* dash_gen.h — a random feedback stream for the dashboard property tests
 * (test_trends.c, test_terms.c): responses and reviews around DST changes
 * and month ends, several tenants and zones, channels, tags, terms and
 * respondents, applied through the real hook into a real LMDB store. */
#ifndef DASH_GEN_H
#define DASH_GEN_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fbtest.h"
#include "store.h"
#include "terms.h"
#include "trends.h"
#include "tz.h"

#define G_MAX_TAGS 2
#define G_MAX_TERMS 4

typedef struct g_item {
    uint32_t tenant;
    int review;
    char survey[8];
    int score, rating;
    char channel[8];
    int n_tags;
    char tk[G_MAX_TAGS][12], tv[G_MAX_TAGS][8];
    int64_t t;
    int has_text;
    double compound;
    int label;
    int resp;
    int live;
    int n_terms;
    int term[G_MAX_TERMS];
} g_item;

static const char *const g_stems[] = {"rude", "slow", "price", "clean", "friend", "wait", "cold", "love"};
static const char *const g_surfaces[][2] = {{"rude", "rudely"}, {"slow", "slowly"}, {"price", "prices"},
    {"clean", "cleaning"}, {"friendly", "friends"}, {"wait", "waiting"}, {"cold", "colder"}, {"love", "loved"}};
static const char *const g_aspects[] = {"staff", "wait", "price", "cleanliness", "staff", "wait", "food", NULL};
#define G_N_STEMS 8

static uint64_t g_rng;
static uint64_t g_next(void)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return g_rng >> 17;
}
static int64_t g_range(int64_t lo, int64_t hi) { return lo + (int64_t)(g_next() % (uint64_t)(hi - lo)); }

static int64_t g_utc(int64_t y, unsigned mo, unsigned d, int h, int mi)
{
    return (fb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

/* DST changes of the test zones and month ends */
static int64_t g_anchor(void)
{
    const int64_t a[] = {g_utc(2026, 3, 8, 7, 0), g_utc(2026, 11, 1, 6, 0), g_utc(2026, 3, 29, 1, 0),
        g_utc(2026, 10, 25, 1, 0), g_utc(2026, 4, 4, 15, 0), g_utc(2026, 10, 3, 15, 30),
        g_utc(2026, 1, 31, 23, 0), g_utc(2026, 2, 28, 22, 0), g_utc(2026, 12, 31, 20, 0),
        g_utc(2026, 6, 30, 18, 0)};
    return a[g_next() % (sizeof a / sizeof *a)];
}

static void g_random_item(g_item *it, uint32_t n_tenants)
{
    static const char *const chans[] = {"", "web", "email", "sms"};
    static const char *const surveys[] = {"s1", "s2"};
    memset(it, 0, sizeof *it);
    it->tenant = 1 + (uint32_t)(g_next() % n_tenants);
    it->review = g_next() % 4 == 0;
    if (!it->review || g_next() % 2) strcpy(it->survey, surveys[g_next() % 2]);
    it->score = (int)(g_next() % 11);
    it->rating = 1 + (int)(g_next() % 5);
    strcpy(it->channel, chans[g_next() % 4]);
    if (g_next() % 2) { it->n_tags = 1; strcpy(it->tk[0], "location"); snprintf(it->tv[0], 8, "%c", 'a' + (int)(g_next() % 3)); }
    if (g_next() % 3 == 0) { strcpy(it->tk[it->n_tags], "product"); snprintf(it->tv[it->n_tags], 8, "p%d", (int)(g_next() % 2)); it->n_tags++; }
    it->t = g_anchor() + g_range(-4 * 86400000LL, 4 * 86400000LL);
    it->has_text = g_next() % 4 != 0;
    if (it->has_text) {
        it->compound = (double)g_range(-1000000, 1000001) / 1e6 + 1e-9 * (double)(g_next() % 7);
        it->label = it->compound <= -0.6 ? 1 : it->compound <= -0.05 ? 2 : it->compound < 0.05 ? 3
                  : it->compound < 0.6 ? 4 : 5;
        if (g_next() % 10 == 0) it->label = 6; /* MIXED */
        int want = (int)(g_next() % (G_MAX_TERMS + 1));
        for (int i = 0; i < want; i++) { /* distinct stems, as the text engine gives */
            int x = (int)(g_next() % (G_N_STEMS * 2)), dup = 0;
            for (int j = 0; j < it->n_terms; j++) dup |= it->term[j] % G_N_STEMS == x % G_N_STEMS;
            if (!dup) it->term[it->n_terms++] = x;
        }
    }
    it->resp = (int)(g_next() % 20);
    it->live = 1;
}

/* ---- feeding the hook ---- */

typedef struct g_msg {
    Feedback__V1__Feedback fb;
    Feedback__V1__Sentiment s;
    Feedback__V1__Feedback__TagsEntry te[G_MAX_TAGS], *tp[G_MAX_TAGS];
    fb_term terms[G_MAX_TERMS];
} g_msg;

static void g_build(const g_item *it, g_msg *m)
{
    feedback__v1__feedback__init(&m->fb);
    m->fb.kind = it->review ? FEEDBACK__V1__FEEDBACK_KIND__REVIEW : FEEDBACK__V1__FEEDBACK_KIND__RESPONSE;
    m->fb.survey_id = (char *)it->survey;
    if (it->review) m->fb.rating = it->rating; else m->fb.score = it->score;
    m->fb.category = it->review ? (it->rating == 5 ? 1 : it->rating == 4 ? 2 : 3)
                                : (it->score >= 9 ? 1 : it->score >= 7 ? 2 : 3);
    m->fb.channel = (char *)it->channel;
    for (int i = 0; i < it->n_tags; i++) {
        feedback__v1__feedback__tags_entry__init(&m->te[i]);
        m->te[i].key = (char *)it->tk[i];
        m->te[i].value = (char *)it->tv[i];
        m->tp[i] = &m->te[i];
    }
    m->fb.n_tags = (size_t)it->n_tags;
    m->fb.tags = m->tp;
    m->fb.submitted_at_ms = it->t;
    if (it->has_text) {
        feedback__v1__sentiment__init(&m->s);
        m->s.compound = it->compound;
        m->s.label = (Feedback__V1__Label)it->label;
        m->fb.sentiment = &m->s;
        if (it->review) m->fb.text = (char *)"some text"; else m->fb.comment = (char *)"some text";
    }
    for (int i = 0; i < it->n_terms; i++) {
        int s = it->term[i] % G_N_STEMS, f = it->term[i] / G_N_STEMS;
        m->terms[i].stem = (char *)g_stems[s];
        m->terms[i].surface = (char *)g_surfaces[s][f];
        m->terms[i].aspect = g_aspects[s];
    }
}

typedef struct g_batch { fb_trends *tr; g_item **items; size_t n; int sign; } g_batch;

static int g_apply_op(fb_txn *txn, void *arg, fb_err *err)
{
    g_batch *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        g_msg m;
        g_build(b->items[i], &m);
        fb_feedback_event ev = {.tenant_id = b->items[i]->tenant, .fb = &m.fb, .sign = b->sign,
                                .terms = m.terms, .n_terms = (size_t)b->items[i]->n_terms};
        int rc = fb_trends_hook(txn, &ev, b->tr, err);
        if (rc != FB_OK) return rc;
    }
    return FB_OK;
}

static void g_apply(fb_store *st, fb_trends *tr, g_item **items, size_t n, int sign)
{
    g_batch b = {tr, items, n, sign};
    fb_err err = {0};
    ck_assert_msg(fb_store_write(st, g_apply_op, &b, &err) == FB_OK, "apply: %s", err.msg);
}

static void g_open(const char *name, fb_store **st, fb_trends **tr)
{
    fb_err err = {0};
    fb_store_opts o = {.no_sync = 1};
    ck_assert_msg(fb_store_open(st, fb_test_tmpdir(name), &o, &err) == FB_OK, "%s", err.msg);
    ck_assert_msg(fb_trends_open(tr, *st, NULL, &err) == FB_OK, "%s", err.msg);
}

/* item matches the query's survey and single-dimension segment */
static int g_match(const g_item *it, const char *survey, const fb_seg *seg)
{
    if (survey[0] && strcmp(survey, it->survey) != 0) return 0;
    if (seg->type == 'c') return strlen(it->channel) == seg->vlen && memcmp(it->channel, seg->val, seg->vlen) == 0;
    if (seg->type == 't') {
        for (int i = 0; i < it->n_tags; i++)
            if (strlen(it->tk[i]) == seg->klen && memcmp(it->tk[i], seg->key, seg->klen) == 0 &&
                strlen(it->tv[i]) == seg->vlen && memcmp(it->tv[i], seg->val, seg->vlen) == 0) return 1;
        return 0;
    }
    return 1;
}

static void g_random_filter(Feedback__V1__Filter *f, Feedback__V1__Filter__TagsEntry *te,
                            Feedback__V1__Filter__TagsEntry **tp, char *vbuf)
{
    feedback__v1__filter__init(f);
    int k = (int)(g_next() % 4);
    if (k == 1) {
        static const char *const chans[] = {"web", "email", "sms", "fax"};
        f->channel = (char *)chans[g_next() % 4];
    } else if (k >= 2) {
        feedback__v1__filter__tags_entry__init(te);
        te->key = k == 2 ? (char *)"location" : (char *)"product";
        snprintf(vbuf, 8, k == 2 ? "%c" : "p%d", k == 2 ? 'a' + (int)(g_next() % 4) : (int)(g_next() % 3));
        te->value = vbuf;
        tp[0] = te;
        f->n_tags = 1;
        f->tags = tp;
    }
}

#endif
