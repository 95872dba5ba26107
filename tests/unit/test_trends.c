/* test_trends.c — randomised property test of the dashboard aggregates.
 *
 * A random stream (fixed seeds, bounded) of responses and reviews around
 * DST changes and month ends, in four tenants with different zones (one of
 * which changes zone midway), with channels, tags and erasures (sign −1), is
 * applied through fb_trends_hook into a real LMDB store. Then many random
 * GetNps and GetTrend queries are compared with a naive recomputation from
 * the list of live feedback; every number must agree exactly. The naive side
 * buckets with the C library's localtime_r (TZ set per query: fine in this
 * single-threaded test), an oracle independent of tz.c.
 * Finally the tables must equal, byte for byte, those of a fresh store fed
 * only the remaining feedback, and erasing everything must leave nothing.
 */
#include <time.h>

#include "dash_gen.h"
#include "nps.h"
#include "trends_int.h"

#define N_ITEMS 2500
#define N_TENANTS 4

static const char *zone_of(uint32_t tenant, int late)
{
    static const char *const z[] = {"America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London"};
    if (tenant == 4 && late) return "Asia/Kathmandu";
    return z[tenant - 1];
}

static void use_tz(const char *zone)
{
    setenv("TZ", zone, 1);
    tzset();
}

/* The calendar label of instant t (ms) at granularity g, via localtime_r. */
static int64_t label(fb_gran g, int64_t t)
{
    time_t s = (time_t)(t >= 0 ? t / 1000 : -((-t + 999) / 1000));
    struct tm lt;
    localtime_r(&s, &lt);
    int64_t days = fb_days_from_civil(lt.tm_year + 1900, (unsigned)lt.tm_mon + 1, (unsigned)lt.tm_mday);
    switch (g) {
    case FB_GRAN_HOUR: return days * 24 + lt.tm_hour;
    case FB_GRAN_DAY: return days;
    case FB_GRAN_WEEK: return days - ((days + 3) % 7 + 7) % 7;
    case FB_GRAN_MONTH: return (int64_t)(lt.tm_year + 1900) * 12 + lt.tm_mon;
    }
    return 0;
}

typedef struct naive { int64_t v[FB_TV_N]; } naive;

static void naive_add(naive *a, const g_item *it)
{
    g_msg m;
    g_build(it, &m);
    int64_t v[FB_TV_N];
    fb_trends_values(&m.fb, 1, v);
    for (int i = 0; i < FB_TV_N; i++) a->v[i] += v[i];
}

static void check_bucket(const Feedback__V1__TrendBucket *b, const naive *a, const char *what)
{
    fb_nps r;
    fb_nps_compute((uint64_t)a->v[0], (uint64_t)a->v[1], (uint64_t)a->v[2], &r);
    ck_assert_msg(b->promoters == a->v[0] && b->passives == a->v[1] && b->detractors == a->v[2],
                  "%s at %lld: P/A/D %u/%u/%u, naive %lld/%lld/%lld", what, (long long)b->start_ms,
                  b->promoters, b->passives, b->detractors, (long long)a->v[0], (long long)a->v[1], (long long)a->v[2]);
    ck_assert(b->n == r.n && b->nps == r.nps && b->margin_95 == r.margin_95);
    ck_assert(b->reviews == a->v[FB_TV_REVIEWS]);
    ck_assert(b->mean_rating == (a->v[FB_TV_REVIEWS] ? (double)a->v[FB_TV_RATING_SUM] / (double)a->v[FB_TV_REVIEWS] : 0.0));
    ck_assert(b->positive == a->v[FB_TV_POSITIVE] && b->negative == a->v[FB_TV_NEGATIVE] && b->neutral == a->v[FB_TV_NEUTRAL]);
    double ms = a->v[FB_TV_TEXTED] ? (double)a->v[FB_TV_SENT_SUM] / 1e6 / (double)a->v[FB_TV_TEXTED] : 0.0;
    ck_assert_msg(b->mean_sentiment == ms, "%s: mean sentiment %.9f vs %.9f", what, b->mean_sentiment, ms);
}

static const char *group_value(const g_item *it, const char *gb)
{
    if (strcmp(gb, "channel") == 0) return it->channel[0] ? it->channel : NULL;
    for (int i = 0; i < it->n_tags; i++)
        if (strcmp(it->tk[i], gb + 4) == 0) return it->tv[i];
    return NULL;
}

static void check_series(const Feedback__V1__TrendSeries *s, const Feedback__V1__TrendQuery *q,
                         fb_gran g, g_item *items, size_t n, uint32_t tenant, const fb_seg *seg)
{
    size_t nb = s->n_buckets;
    ck_assert(nb >= 1);
    ck_assert(s->buckets[0]->start_ms <= q->from_ms && s->buckets[0]->end_ms > q->from_ms);
    ck_assert(s->buckets[nb - 1]->end_ms >= q->to_ms && s->buckets[nb - 1]->start_ms < q->to_ms);
    int64_t *labels = malloc(nb * sizeof *labels);
    naive *acc = calloc(nb, sizeof *acc);
    for (size_t i = 0; i < nb; i++) {
        if (i + 1 < nb) ck_assert(s->buckets[i]->end_ms == s->buckets[i + 1]->start_ms);
        labels[i] = label(g, s->buckets[i]->start_ms);
        if (i) ck_assert(labels[i] > labels[i - 1]);
    }
    const char *gb = q->group_by;
    for (size_t k = 0; k < n; k++) {
        const g_item *it = &items[k];
        if (!it->live || it->tenant != tenant || !g_match(it, q->survey_id, seg)) continue;
        if (gb[0]) {
            const char *v = group_value(it, gb);
            if (!v || strcmp(v, s->group) != 0) continue;
        }
        if (it->t < s->buckets[0]->start_ms || it->t >= s->buckets[nb - 1]->end_ms) continue;
        int64_t l = label(g, it->t);
        size_t i = 0;
        while (i < nb && labels[i] != l) i++;
        ck_assert_msg(i < nb, "no bucket for label %lld (t=%lld)", (long long)l, (long long)it->t);
        ck_assert(it->t >= s->buckets[i]->start_ms && it->t < s->buckets[i]->end_ms);
        naive_add(&acc[i], it);
    }
    for (size_t i = 0; i < nb; i++) check_bucket(s->buckets[i], &acc[i], "trend");
    free(labels);
    free(acc);
}

/* The groups a grouped trend must return: values with feedback in range. */
static size_t naive_groups(const char *gb, g_item *items, size_t n, uint32_t tenant, const char *survey,
                           int64_t lo, int64_t hi, const char **out)
{
    fb_seg all = {.type = 'a'};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const g_item *it = &items[i];
        if (!it->live || it->tenant != tenant || !g_match(it, survey, &all) || it->t < lo || it->t >= hi) continue;
        const char *v = group_value(it, gb);
        if (!v) continue;
        size_t j = 0;
        while (j < k && strcmp(out[j], v) != 0) j++;
        if (j == k) out[k++] = v;
    }
    for (size_t a = 1; a < k; a++) /* sort */
        for (size_t b = a; b > 0 && strcmp(out[b - 1], out[b]) > 0; b--) {
            const char *x = out[b]; out[b] = out[b - 1]; out[b - 1] = x;
        }
    return k;
}

static void one_trend_query(fb_trends *tr, g_item *items, size_t n, int late)
{
    static const char *const gbs[] = {"", "", "channel", "tag:location", "tag:product"};
    static const char *const surveys[] = {"", "s1", "s2"};
    uint32_t tenant = 1 + (uint32_t)(g_next() % N_TENANTS);
    Feedback__V1__TrendQuery q;
    feedback__v1__trend_query__init(&q);
    fb_gran g = (fb_gran)(1 + g_next() % 4);
    q.granularity = (Feedback__V1__Granularity)g;
    q.survey_id = (char *)surveys[g_next() % 3];
    q.group_by = (char *)gbs[g_next() % 5];
    Feedback__V1__Filter f;
    Feedback__V1__Filter__TagsEntry te, *tp[1];
    char vbuf[8];
    if (!q.group_by[0]) { g_random_filter(&f, &te, tp, vbuf); q.filter = &f; }
    q.from_ms = g_anchor() + g_range(-6 * 86400000LL, 3 * 86400000LL);
    int64_t len = g == FB_GRAN_HOUR ? g_range(1, 6 * 86400000LL) : g_range(1, 70 * 86400000LL);
    q.to_ms = q.from_ms + len;
    fb_trends_ctx c = {.tenant = tenant, .timezone = zone_of(tenant, late), .min_sample = 30, .now_ms = INT64_MAX / 4};
    Feedback__V1__Trend out;
    fb_err err = {0};
    ck_assert_msg(fb_trends_trend(tr, &c, &q, &out, &err) == FB_OK, "trend: %s", err.msg);
    ck_assert_str_eq(out.timezone, zone_of(tenant, late));
    use_tz(zone_of(tenant, late));
    fb_seg seg;
    ck_assert_int_eq(fb_seg_from_filter(q.filter, &seg, &err), FB_OK);
    if (!q.group_by[0]) {
        ck_assert_uint_eq(out.n_series, 1);
        check_series(out.series[0], &q, g, items, n, tenant, &seg);
    } else {
        const char *groups[32];
        ck_assert(out.n_series >= 1 || 1);
        int64_t lo = out.n_series ? out.series[0]->buckets[0]->start_ms : 0;
        int64_t hi = out.n_series ? out.series[0]->buckets[out.series[0]->n_buckets - 1]->end_ms : 0;
        size_t ng = out.n_series ? naive_groups(q.group_by, items, n, tenant, q.survey_id, lo, hi, groups) : 0;
        ck_assert_uint_eq(out.n_series, ng);
        for (size_t i = 0; i < ng; i++) {
            ck_assert_str_eq(out.series[i]->group, groups[i]);
            check_series(out.series[i], &q, g, items, n, tenant, &seg);
        }
    }
    fb_trends_trend_clear(&out);
}

static void naive_nps(g_item *items, size_t n, uint32_t tenant, const char *survey, const fb_seg *seg,
                      int64_t lo, int64_t hi, naive *a)
{
    memset(a, 0, sizeof *a);
    for (size_t i = 0; i < n; i++)
        if (items[i].live && items[i].tenant == tenant && g_match(&items[i], survey, seg) &&
            items[i].t >= lo && items[i].t < hi)
            naive_add(a, &items[i]);
}

static void check_summary(const Feedback__V1__NpsSummary *s, const naive *a)
{
    fb_nps r;
    fb_nps_compute((uint64_t)a->v[0], (uint64_t)a->v[1], (uint64_t)a->v[2], &r);
    ck_assert_msg(s->promoters == a->v[0] && s->passives == a->v[1] && s->detractors == a->v[2],
                  "nps [%lld,%lld): %u/%u/%u vs naive %lld/%lld/%lld", (long long)s->from_ms, (long long)s->to_ms,
                  s->promoters, s->passives, s->detractors, (long long)a->v[0], (long long)a->v[1], (long long)a->v[2]);
    ck_assert(s->n == r.n && s->nps == r.nps && s->margin_95 == r.margin_95 && s->ci_low == r.ci_low);
    ck_assert(s->sufficient == (r.n >= 30));
    double ms = a->v[FB_TV_TEXTED] ? (double)a->v[FB_TV_SENT_SUM] / 1e6 / (double)a->v[FB_TV_TEXTED] : 0.0;
    ck_assert(s->mean_sentiment == ms);
}

static void one_nps_query(fb_trends *tr, g_item *items, size_t n, int late)
{
    static const char *const surveys[] = {"", "s1", "s2"};
    uint32_t tenant = 1 + (uint32_t)(g_next() % N_TENANTS);
    Feedback__V1__NpsQuery q;
    feedback__v1__nps_query__init(&q);
    q.survey_id = (char *)surveys[g_next() % 3];
    Feedback__V1__Filter f;
    Feedback__V1__Filter__TagsEntry te, *tp[1];
    char vbuf[8];
    g_random_filter(&f, &te, tp, vbuf);
    q.filter = &f;
    q.from_ms = g_anchor() + g_range(-6 * 86400000LL, 3 * 86400000LL);
    q.to_ms = q.from_ms + g_range(1, 12 * 86400000LL);
    q.compare_previous = g_next() % 2;
    fb_trends_ctx c = {.tenant = tenant, .timezone = zone_of(tenant, late), .min_sample = 30, .now_ms = INT64_MAX / 4};
    Feedback__V1__NpsSummary out;
    fb_err err = {0};
    ck_assert_msg(fb_trends_nps(tr, &c, &q, &out, &err) == FB_OK, "nps: %s", err.msg);
    ck_assert(out.from_ms == fb_floor_div(q.from_ms, FB_QUARTER_MS) * FB_QUARTER_MS);
    ck_assert(out.to_ms == (fb_floor_div(q.to_ms - 1, FB_QUARTER_MS) + 1) * FB_QUARTER_MS);
    fb_seg seg;
    ck_assert_int_eq(fb_seg_from_filter(q.filter, &seg, &err), FB_OK);
    naive a, p;
    naive_nps(items, n, tenant, q.survey_id, &seg, out.from_ms, out.to_ms, &a);
    check_summary(&out, &a);
    if (q.compare_previous) {
        ck_assert_ptr_nonnull(out.previous);
        ck_assert(out.previous->to_ms == out.from_ms && out.previous->from_ms == 2 * out.from_ms - out.to_ms);
        naive_nps(items, n, tenant, q.survey_id, &seg, out.previous->from_ms, out.previous->to_ms, &p);
        check_summary(out.previous, &p);
        fb_nps rc, rp;
        fb_nps_change ch;
        fb_nps_compute((uint64_t)a.v[0], (uint64_t)a.v[1], (uint64_t)a.v[2], &rc);
        fb_nps_compute((uint64_t)p.v[0], (uint64_t)p.v[1], (uint64_t)p.v[2], &rp);
        fb_nps_compare(&rc, &rp, &ch);
        ck_assert(out.change == ch.change && out.change_significant == ch.significant);
    }
    fb_trends_nps_clear(&out);
}

static void erase_respondent(fb_store *st, fb_trends *tr, g_item *items, size_t n)
{
    uint32_t tenant = 1 + (uint32_t)(g_next() % N_TENANTS);
    int resp = (int)(g_next() % 20);
    g_item **gone = malloc(n * sizeof *gone);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].live && items[i].tenant == tenant && items[i].resp == resp) {
            items[i].live = 0;
            gone[k++] = &items[i];
        }
    if (k) g_apply(st, tr, gone, k, -1);
    free(gone);
}

/* Every record of the store's two dashboard tables, concatenated. */
static size_t dump(fb_store *st, fb_trends *tr, unsigned char **out)
{
    MDB_txn *m;
    fb_err err;
    ck_assert_int_eq(fb_store_read_begin(st, &m, &err), FB_OK);
    size_t len = 0, cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    MDB_dbi dbis[2] = {tr->agg, tr->terms};
    for (int d = 0; d < 2; d++) {
        MDB_cursor *c;
        ck_assert_int_eq(mdb_cursor_open(m, dbis[d], &c), 0);
        MDB_val k, v;
        for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            while (len + k.mv_size + v.mv_size + 16 > cap) buf = realloc(buf, cap *= 2);
            memcpy(buf + len, &k.mv_size, sizeof k.mv_size); len += sizeof k.mv_size;
            memcpy(buf + len, k.mv_data, k.mv_size); len += k.mv_size;
            memcpy(buf + len, v.mv_data, v.mv_size); len += v.mv_size;
        }
        mdb_cursor_close(c);
    }
    fb_store_read_end(st, m);
    *out = buf;
    return len;
}

static void feed(fb_store *st, fb_trends *tr, g_item *items, size_t lo, size_t hi, int live_only)
{
    g_item *batch[64];
    size_t k = 0;
    for (size_t i = lo; i < hi; i++) {
        if (live_only && !items[i].live) continue;
        batch[k++] = &items[i];
        if (k == 64) { g_apply(st, tr, batch, k, 1); k = 0; }
    }
    if (k) g_apply(st, tr, batch, k, 1);
}

static void set_zones(fb_trends *tr, int late)
{
    fb_err err = {0};
    for (uint32_t t = 1; t <= N_TENANTS; t++)
        ck_assert_msg(fb_trends_set_zone(tr, t, zone_of(t, late), &err) == FB_OK, "%s", err.msg);
}

static void run_seed(uint64_t seed)
{
    g_rng = seed;
    fb_store *st;
    fb_trends *tr;
    g_open("trends", &st, &tr);
    set_zones(tr, 0);
    g_item *items = calloc(N_ITEMS, sizeof *items);
    for (size_t i = 0; i < N_ITEMS; i++) g_random_item(&items[i], N_TENANTS);
    size_t half = N_ITEMS / 2;
    for (size_t i = 0; i < half; i += 250) {
        feed(st, tr, items, i, i + 250, 0);
        erase_respondent(st, tr, items, i + 250);
    }
    for (int i = 0; i < 60; i++) one_trend_query(tr, items, half, 0);
    for (int i = 0; i < 60; i++) one_nps_query(tr, items, half, 0);
    /* tenant 4 moves to a +5:45 zone: its day level is rebuilt (the query
     * itself triggers the rebuild, as after a settings change) */
    for (size_t i = half; i < N_ITEMS; i += 250) {
        if (i == half) { one_nps_query(tr, items, i, 1); set_zones(tr, 1); }
        feed(st, tr, items, i, i + 250, 0);
        erase_respondent(st, tr, items, i + 250);
    }
    for (int i = 0; i < 200; i++) one_trend_query(tr, items, N_ITEMS, 1);
    for (int i = 0; i < 200; i++) one_nps_query(tr, items, N_ITEMS, 1);

    /* byte-for-byte equal to a fresh store fed only the remaining feedback */
    fb_store *st2;
    fb_trends *tr2;
    g_open("trends-fresh", &st2, &tr2);
    set_zones(tr2, 1);
    feed(st2, tr2, items, 0, N_ITEMS, 1);
    unsigned char *d1, *d2;
    size_t l1 = dump(st, tr, &d1), l2 = dump(st2, tr2, &d2);
    ck_assert_msg(l1 == l2 && memcmp(d1, d2, l1) == 0, "tables differ from a fresh store (%zu vs %zu bytes)", l1, l2);
    free(d1);
    free(d2);

    /* erasing everything leaves only the zone meta records */
    g_item **all = malloc(N_ITEMS * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < N_ITEMS; i++) if (items[i].live) { items[i].live = 0; all[k++] = &items[i]; }
    g_apply(st, tr, all, k, -1);
    free(all);
    l1 = dump(st, tr, &d1);
    ck_assert_uint_eq(l1, N_TENANTS * (sizeof(size_t) + 5) + strlen("America/New_York") + strlen("Asia/Kolkata") +
                          strlen("Australia/Lord_Howe") + strlen("Asia/Kathmandu"));
    free(d1);
    fb_trends_close(tr2);
    fb_store_close(st2);
    free(items);
    fb_trends_close(tr);
    fb_store_close(st);
    unsetenv("TZ");
}

START_TEST(property_seed) { run_seed(0x5eed0000ULL + (uint64_t)_i * 7919); }
END_TEST

START_TEST(invalid_queries)
{
    fb_store *st;
    fb_trends *tr;
    g_open("trends-invalid", &st, &tr);
    fb_trends_ctx c = {.tenant = 1, .timezone = "UTC", .min_sample = 30, .now_ms = g_utc(2026, 6, 1, 0, 0)};
    Feedback__V1__TrendQuery q;
    Feedback__V1__Trend out;
    fb_err err = {0};
    feedback__v1__trend_query__init(&q);
    q.granularity = FEEDBACK__V1__GRANULARITY__DAY;
    q.from_ms = 1000; q.to_ms = 1000;
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "from_ms") != NULL);
    q.to_ms = 1000 + 10001LL * 3600000; q.granularity = FEEDBACK__V1__GRANULARITY__HOUR;
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "10000") != NULL);
    q.to_ms = 1000 + 9999LL * 3600000; /* 10,000 hour buckets (from is mid-hour) */
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_OK);
    ck_assert_uint_eq(out.series[0]->n_buckets, 10000);
    fb_trends_trend_clear(&out);
    q.granularity = 7;
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "granularity") != NULL);
    q.granularity = FEEDBACK__V1__GRANULARITY__DAY;
    q.group_by = (char *)"colour";
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "group_by") != NULL);
    q.group_by = (char *)"tag:Bad Key";
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_INVALID);
    Feedback__V1__Filter f;
    feedback__v1__filter__init(&f);
    f.channel = (char *)"web";
    q.group_by = (char *)"tag:location";
    q.filter = &f;
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "filter") != NULL);
    Feedback__V1__Filter__TagsEntry te, *tp[1] = {&te};
    feedback__v1__filter__tags_entry__init(&te);
    te.key = (char *)"location"; te.value = (char *)"a";
    f.n_tags = 1; f.tags = tp;
    q.group_by = (char *)"";
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_INVALID); /* channel + tag */
    Feedback__V1__NpsQuery nq;
    Feedback__V1__NpsSummary ns;
    feedback__v1__nps_query__init(&nq);
    nq.from_ms = 5; nq.to_ms = 4;
    ck_assert_int_eq(fb_trends_nps(tr, &c, &nq, &ns, &err), FB_INVALID);
    nq.from_ms = 0; nq.to_ms = 0; /* to = now */
    nq.survey_id = (char *)"bad survey!";
    ck_assert_int_eq(fb_trends_nps(tr, &c, &nq, &ns, &err), FB_INVALID);
    nq.survey_id = (char *)"";
    ck_assert_int_eq(fb_trends_nps(tr, &c, &nq, &ns, &err), FB_OK);
    ck_assert_uint_eq(ns.n, 0);
    ck_assert(ns.margin_95 > 80.0 && ns.margin_95 < 80.02);
    ck_assert(!ns.sufficient);
    fb_trends_nps_clear(&ns);
    /* an unknown zone in the settings keeps the stored (UTC) bucketing */
    c.timezone = "Nowhere/Land";
    ck_assert_int_eq(fb_trends_nps(tr, &c, &nq, &ns, &err), FB_OK);
    fb_trends_nps_clear(&ns);
    ck_assert_int_eq(fb_trends_set_zone(tr, 1, "Nowhere/Land", &err), FB_INVALID);
    /* extreme ranges: refused or answered, never overflowing (UBSan build) */
    nq.from_ms = INT64_MIN; nq.to_ms = INT64_MAX;
    ck_assert_int_eq(fb_trends_nps(tr, &c, &nq, &ns, &err), FB_INVALID);
    nq.from_ms = -8640000000000000LL; nq.to_ms = 8640000000000000LL; nq.compare_previous = 1;
    c.timezone = "America/New_York";
    ck_assert_int_eq(fb_trends_nps(tr, &c, &nq, &ns, &err), FB_OK);
    fb_trends_nps_clear(&ns);
    q.filter = NULL;
    q.from_ms = -8640000000000000LL; q.to_ms = 8640000000000000LL;
    for (int g = 1; g <= 4; g++) {
        q.granularity = (Feedback__V1__Granularity)g;
        ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_INVALID);
    }
    q.to_ms = q.from_ms + 400LL * 86400000;
    q.granularity = FEEDBACK__V1__GRANULARITY__MONTH;
    ck_assert_int_eq(fb_trends_trend(tr, &c, &q, &out, &err), FB_OK);
    fb_trends_trend_clear(&out);
    fb_trends_close(tr);
    fb_store_close(st);
}
END_TEST

static Suite *trends_suite(void)
{
    Suite *s = suite_create("trends");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, property_seed, 0, 3);
    tcase_add_test(tc, invalid_queries);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(trends_suite)
