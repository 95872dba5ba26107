/* query_load.c — fills a data directory for tools/bench/query, fast.
 *
 *   query_load DATA_DIR N [SEED]
 *
 * Links the engine directly (no gRPC): creates tenant "bench" (its keys go to
 * DATA_DIR/bench-keys, "role<TAB>key" lines, mode 0600), then pushes N
 * responses through the real ingest path — validation, sentiment scoring,
 * the feedback record and its indexes, and the dashboard hooks — in Import
 * batches of 1,000 (at most 4 in flight), exactly as the server would store
 * them. Times are spread over the 400 days before now; 3 surveys, 4
 * channels, a location tag on half, comments from a fixed phrase list.
 * Then it times the engine alone (no RPC) on the loaded store: GetTrend of
 * 365 daily buckets and GetNps of the same year, 2,000 times each, and
 * prints p50/p99 in microseconds. Every loop is bounded by N or a constant.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth.h"
#include "feedback.h"
#include "ingest.h"
#include "sentiment.h"
#include "store.h"
#include "trends.h"

#define BATCH 1000
#define INFLIGHT 4
#define QUERIES 2000
#define DAY_MS 86400000LL

static const char *const phrases[] = {
    "The staff was rude and the wait was far too long",
    "Great food, lovely staff, we will come back",
    "Slow service and the soup was cold",
    "Terrible experience, the waiter ignored us",
    "Nice place with fair prices",
    "Clean tables and friendly people",
    "The delivery was late and the pizza arrived cold",
    "Excellent coffee, but the music was too loud",
    "Overpriced and bland",
    "Quick, friendly and delicious",
    "",
    "Bathrooms were dirty and nobody cared",
};

typedef struct gate { pthread_mutex_t mu; pthread_cond_t cv; int inflight; int failed; } gate;

static void batch_done(void *arg, int rc, const fb_err *err, const fb_ingest_outcome *items, size_t n)
{
    gate *g = arg;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += items[i].rc != FB_OK;
    pthread_mutex_lock(&g->mu);
    if (rc != FB_OK || bad) {
        if (!g->failed) fprintf(stderr, "query_load: batch: %s (%zu rejected)\n", rc ? err->msg : "items", bad);
        g->failed = 1;
    }
    g->inflight--;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void fill_item(Feedback__V1__ImportItem *it, Feedback__V1__SubmitResponseRequest *r,
                      Feedback__V1__SubmitResponseRequest__TagsEntry *te,
                      Feedback__V1__SubmitResponseRequest__TagsEntry **tp, char *bufs, int64_t now, uint64_t i)
{
    static const char *const surveys[] = {"checkout", "support", "visit"};
    static const char *const chans[] = {"web", "email", "sms", "in_store"};
    static const char *const locs[] = {"north", "south", "east", "west", "centre"};
    feedback__v1__import_item__init(it);
    feedback__v1__submit_response_request__init(r);
    it->item_case = FEEDBACK__V1__IMPORT_ITEM__ITEM_RESPONSE;
    it->response = r;
    r->survey_id = (char *)surveys[next() % 3];
    r->score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE;
    r->score = (int32_t)(next() % 11);
    r->comment = (char *)phrases[next() % (sizeof phrases / sizeof *phrases)];
    snprintf(bufs, 24, "r%llu", (unsigned long long)(i % 100000));
    r->respondent_id = bufs;
    r->channel = (char *)chans[next() % 4];
    r->language = (char *)"en";
    r->submitted_at_ms = now - 60000 - (int64_t)(next() % (uint64_t)(400 * DAY_MS));
    if (next() % 2) {
        feedback__v1__submit_response_request__tags_entry__init(te);
        te->key = (char *)"location";
        te->value = (char *)locs[next() % 5];
        tp[0] = te;
        r->n_tags = 1;
        r->tags = tp;
    }
}

static int load(fb_feedback *fbk, const fb_textengine *te, uint32_t tenant, uint64_t n, int64_t now)
{
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    fb_ingest_env env = {.feedback = fbk, .text = te, .default_language = "en"};
    fb_err err = {0};
    for (uint64_t done = 0; done < n && !g.failed;) {
        fb_ingest_batch *b = fb_ingest_batch_new(&env, tenant, BATCH);
        if (!b) return 1;
        for (uint32_t k = 0; k < BATCH && done < n; k++, done++) {
            Feedback__V1__ImportItem it;
            Feedback__V1__SubmitResponseRequest r;
            Feedback__V1__SubmitResponseRequest__TagsEntry tag, *tp[1];
            char rid[24];
            fill_item(&it, &r, &tag, tp, rid, now, done);
            if (fb_ingest_batch_add(b, &it, k, &err) != FB_OK) {
                fprintf(stderr, "query_load: item %llu: %s\n", (unsigned long long)done, err.msg);
                fb_ingest_batch_free(b);
                return 1;
            }
        }
        pthread_mutex_lock(&g.mu);
        while (g.inflight >= INFLIGHT) pthread_cond_wait(&g.cv, &g.mu);
        g.inflight++;
        pthread_mutex_unlock(&g.mu);
        if (fb_ingest_batch_submit(b, batch_done, &g) != FB_OK) return 1;
    }
    pthread_mutex_lock(&g.mu);
    while (g.inflight > 0) pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    return g.failed;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *t)
{
    qsort(t, QUERIES, sizeof *t, cmp_d);
    printf("engine %-28s p50 %8.1f us  p99 %8.1f us\n", what, t[QUERIES / 2], t[QUERIES * 99 / 100]);
}

static int time_engine(fb_trends *tr, uint32_t tenant, int64_t now)
{
    static double t[QUERIES];
    int64_t to = (now / DAY_MS) * DAY_MS, from = to - 365 * DAY_MS;
    fb_trends_ctx c = {.tenant = tenant, .timezone = "UTC", .min_sample = 30, .now_ms = now};
    fb_err err = {0};
    Feedback__V1__TrendQuery q;
    feedback__v1__trend_query__init(&q);
    q.from_ms = from; q.to_ms = to; q.granularity = FEEDBACK__V1__GRANULARITY__DAY;
    for (int i = 0; i < QUERIES; i++) {
        Feedback__V1__Trend out;
        double t0 = now_us();
        if (fb_trends_trend(tr, &c, &q, &out, &err) != FB_OK) { fprintf(stderr, "%s\n", err.msg); return 1; }
        t[i] = now_us() - t0;
        if (i == 0) printf("trend: %zu buckets\n", out.series[0]->n_buckets);
        fb_trends_trend_clear(&out);
    }
    report("GetTrend 365 x DAY", t);
    Feedback__V1__NpsQuery nq;
    feedback__v1__nps_query__init(&nq);
    nq.from_ms = from + 3600000 + 60000; nq.to_ms = to - 7 * 60000; /* ragged edges: quarter-hours read too */
    for (int i = 0; i < QUERIES; i++) {
        Feedback__V1__NpsSummary out;
        double t0 = now_us();
        if (fb_trends_nps(tr, &c, &nq, &out, &err) != FB_OK) { fprintf(stderr, "%s\n", err.msg); return 1; }
        t[i] = now_us() - t0;
        if (i == 0) printf("nps: n=%u nps=%.2f margin=%.2f\n", out.n, out.nps, out.margin_95);
        fb_trends_nps_clear(&out);
    }
    report("GetNps 1 year", t);
    return 0;
}

static int write_keys(const char *dir, const fb_new_key *keys)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-keys", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    chmod(path, 0600);
    for (int i = 0; i < FB_TENANT_KEYS; i++)
        fprintf(f, "%s\t%s\n", fb_role_name(keys[i].info.role), keys[i].secret);
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: query_load DATA_DIR N [SEED]\n");
        return 2;
    }
    uint64_t n = strtoull(argv[2], NULL, 10);
    if (argc > 3) rng = strtoull(argv[3], NULL, 10) | 1;
    const char *lex = getenv("FB_LEXICON_DIR");
    fb_store *st = NULL; fb_auth *au = NULL; fb_textengine *te = NULL; fb_feedback *fbk = NULL; fb_trends *tr = NULL;
    fb_err err = {0};
    mkdir(argv[1], 0700);
    int rc = fb_store_open(&st, argv[1], NULL, &err);
    if (rc == FB_OK) rc = fb_auth_open(&au, st, &err);
    if (rc == FB_OK) rc = fb_text_open(&te, lex && *lex ? lex : FB_LEXICON_DIR, &err);
    if (rc == FB_OK) rc = fb_feedback_open(&fbk, st, &err);
    if (rc == FB_OK) rc = fb_trends_open(&tr, st, NULL, &err);
    if (rc == FB_OK) rc = fb_feedback_add_hook(fbk, fb_trends_hook, tr, &err);
    fb_tenant_info ti;
    fb_new_key keys[FB_TENANT_KEYS];
    if (rc == FB_OK) rc = fb_tenant_create(au, "bench", &ti, keys, &err);
    if (rc == FB_OK && write_keys(argv[1], keys)) rc = fb_err_set(&err, FB_INTERNAL, "cannot write bench-keys");
    int64_t now = fb_now_ms();
    double t0 = now_us();
    if (rc == FB_OK && load(fbk, te, ti.id, n, now)) rc = fb_err_set(&err, FB_INTERNAL, "load failed");
    if (rc == FB_OK) {
        double s = (now_us() - t0) / 1e6;
        printf("loaded %llu responses in %.1f s (%.0f/s)\n", (unsigned long long)n, s, (double)n / s);
        rc = time_engine(tr, ti.id, now) ? FB_INTERNAL : FB_OK;
    } else {
        fprintf(stderr, "query_load: %s\n", err.msg);
    }
    if (tr) fb_trends_close(tr);
    if (fbk) fb_feedback_close(fbk);
    if (te) fb_text_close(te);
    if (au) fb_auth_close(au);
    if (st) fb_store_close(st);
    return rc == FB_OK ? 0 : 1;
}
