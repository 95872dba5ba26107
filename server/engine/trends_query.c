/* trends_query.c — GetNps and GetTrend over the aggregates of trends.c.
 *
 * Both reduce to range reads of one segment's records at one level, each
 * record added into the bucket whose bounds (in that level's units: UTC
 * quarter-hour numbers or local day numbers) contain it. Read cost:
 *   GetNps   ≤ 2 × 96 quarter-hours (ragged edges) + one record per local
 *            day strictly inside the range; twice that with compare_previous.
 *   GetTrend DAY/WEEK/MONTH: one record per local day in the buckets;
 *            HOUR: ≤ 4 quarter-hours per bucket. Per series.
 * Only records that exist are read (buckets without feedback cost nothing
 * but their place in the reply).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nps.h"
#include "trends.h"
#include "trends_int.h"

#define MAX_BUCKETS 10000
#define MAX_REPLY_BUCKETS 100000

typedef struct tvals { int64_t v[FB_TV_N]; } tvals;

int fb_trends_read_begin(fb_trends *t, uint32_t tenant, const char *zone, MDB_txn **m,
                         const fb_tz **tz, fb_err *err)
{
    const fb_tz *want = NULL;
    fb_err ignored;
    if (fb_tzcache_get(t->tzc, zone, &want, &ignored) != FB_OK) want = NULL; /* keep the stored zone */
    for (int attempt = 0; attempt < 3; attempt++) {
        int rc = fb_store_read_begin(t->st, m, err);
        if (rc != FB_OK) return rc;
        char cur[130];
        rc = fb_trends_zone_name(t, *m, tenant, cur, err);
        if (rc == FB_OK && (!want || strcmp(cur, fb_tz_name(want)) == 0))
            rc = fb_trends_zone(t, *m, tenant, tz, err);
        else if (rc == FB_OK)
            rc = -1;
        if (rc == FB_OK) return FB_OK;
        fb_store_read_end(t->st, *m);
        if (rc != -1) return rc;
        if ((rc = fb_trends_set_zone(t, tenant, fb_tz_name(want), err)) != FB_OK) return rc;
    }
    return fb_err_set(err, FB_INTERNAL, "trends: the time zone keeps changing; try again");
}

/* Adds every record of level in [bounds[0], bounds[nb]) to acc[i] where
 * bounds[i] <= bucket < bounds[i+1]. key holds the segment prefix (pre). */
static int scan_level(MDB_txn *m, MDB_dbi dbi, unsigned char *key, size_t pre, char level,
                      const int64_t *bounds, size_t nb, tvals *acc, fb_err *err)
{
    if (bounds[0] >= bounds[nb]) return FB_OK;
    MDB_cursor *c;
    int rc = mdb_cursor_open(m, dbi, &c);
    if (rc != 0) return fb_err_set(err, FB_INTERNAL, "trends: cursor: %s", mdb_strerror(rc));
    key[pre] = (unsigned char)level;
    fb_put_s64(key + pre + 1, bounds[0]);
    MDB_val k = {pre + 9, key}, v;
    size_t i = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != pre + 9 || memcmp(k.mv_data, key, pre + 1) != 0) break;
        int64_t b = fb_get_s64((const unsigned char *)k.mv_data + pre + 1);
        if (b >= bounds[nb]) break;
        while (i < nb && b >= bounds[i + 1]) i++;
        if (v.mv_size != FB_TV_N * 8) continue;
        for (int x = 0; x < FB_TV_N; x++)
            acc[i].v[x] += (int64_t)fb_get_be64((const unsigned char *)v.mv_data + 8 * x);
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND) return fb_err_set(err, FB_INTERNAL, "trends: read: %s", mdb_strerror(rc));
    return FB_OK;
}

/* Sums [f, t) (quarter-aligned ms): days in the middle, quarter-hours at the edges. */
static int sum_range(MDB_txn *m, MDB_dbi dbi, unsigned char *key, size_t pre, const fb_tz *tz,
                     int64_t f, int64_t t, tvals *acc, fb_err *err)
{
    int64_t ds = fb_tz_bucket_start(tz, FB_GRAN_DAY, f);
    int64_t d1 = ds == f ? f : fb_tz_bucket_next(tz, FB_GRAN_DAY, ds);
    int64_t d2 = fb_tz_bucket_start(tz, FB_GRAN_DAY, t);
    int rc;
    if (d1 < d2 && d1 % FB_QUARTER_MS == 0 && d2 % FB_QUARTER_MS == 0) {
        int64_t q1[2] = {f / FB_QUARTER_MS, d1 / FB_QUARTER_MS};
        int64_t dd[2] = {fb_tz_local_day(tz, d1), fb_tz_local_day(tz, d2)};
        int64_t q2[2] = {d2 / FB_QUARTER_MS, t / FB_QUARTER_MS};
        if ((rc = scan_level(m, dbi, key, pre, 'q', q1, 1, acc, err)) != FB_OK) return rc;
        if ((rc = scan_level(m, dbi, key, pre, 'd', dd, 1, acc, err)) != FB_OK) return rc;
        return scan_level(m, dbi, key, pre, 'q', q2, 1, acc, err);
    }
    int64_t q[2] = {f / FB_QUARTER_MS, t / FB_QUARTER_MS};
    return scan_level(m, dbi, key, pre, 'q', q, 1, acc, err);
}

static double mean_sentiment(const tvals *a)
{
    return a->v[FB_TV_TEXTED] > 0 ? (double)a->v[FB_TV_SENT_SUM] / 1e6 / (double)a->v[FB_TV_TEXTED] : 0.0;
}

static uint32_t u32(int64_t v) { return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

static void fill_summary(Feedback__V1__NpsSummary *s, const tvals *a, const fb_nps *r, uint32_t min_sample,
                         int64_t f, int64_t t)
{
    s->n = u32((int64_t)r->n);
    s->promoters = u32(a->v[FB_TV_PROMOTERS]);
    s->passives = u32(a->v[FB_TV_PASSIVES]);
    s->detractors = u32(a->v[FB_TV_DETRACTORS]);
    s->nps = r->nps;
    s->margin_95 = r->margin_95;
    s->ci_low = r->ci_low;
    s->ci_high = r->ci_high;
    s->sufficient = r->n >= min_sample;
    s->mean_sentiment = mean_sentiment(a);
    s->from_ms = f;
    s->to_ms = t;
    s->min_sample = min_sample;
}

static void nps_of(const tvals *a, fb_nps *r)
{
    fb_nps_compute((uint64_t)(a->v[FB_TV_PROMOTERS] > 0 ? a->v[FB_TV_PROMOTERS] : 0),
                   (uint64_t)(a->v[FB_TV_PASSIVES] > 0 ? a->v[FB_TV_PASSIVES] : 0),
                   (uint64_t)(a->v[FB_TV_DETRACTORS] > 0 ? a->v[FB_TV_DETRACTORS] : 0), r);
}

int fb_trends_nps(fb_trends *t, const fb_trends_ctx *c, const Feedback__V1__NpsQuery *q,
                  Feedback__V1__NpsSummary *out, fb_err *err)
{
    feedback__v1__nps_summary__init(out);
    int64_t to = q->to_ms;
    fb_seg seg;
    const char *survey = q->survey_id ? q->survey_id : "";
    int rc = fb_check_range(q->from_ms, &to, c->now_ms, err);
    if (rc == FB_OK) rc = fb_check_survey(survey, err);
    if (rc == FB_OK) rc = fb_seg_from_filter(q->filter, &seg, err);
    if (rc != FB_OK) return rc;
    int64_t f = fb_floor_div(q->from_ms, FB_QUARTER_MS) * FB_QUARTER_MS;
    int64_t e = (fb_floor_div(to - 1, FB_QUARTER_MS) + 1) * FB_QUARTER_MS;
    unsigned char key[FB_SEG_PREFIX_MAX + 9];
    size_t pre = fb_seg_prefix(key, c->tenant, 'A', survey, &seg);
    MDB_txn *m;
    const fb_tz *tz;
    if ((rc = fb_trends_read_begin(t, c->tenant, c->timezone, &m, &tz, err)) != FB_OK) return rc;
    tvals cur = {{0}}, prev = {{0}};
    rc = sum_range(m, t->agg, key, pre, tz, f, e, &cur, err);
    if (rc == FB_OK && q->compare_previous)
        rc = sum_range(m, t->agg, key, pre, tz, f - (e - f), f, &prev, err);
    fb_store_read_end(t->st, m);
    if (rc != FB_OK) return rc;
    fb_nps rc_cur, rc_prev;
    nps_of(&cur, &rc_cur);
    fill_summary(out, &cur, &rc_cur, c->min_sample, f, e);
    if (q->compare_previous) {
        Feedback__V1__NpsSummary *p = malloc(sizeof *p);
        if (!p) return fb_err_set(err, FB_INTERNAL, "trends: out of memory");
        feedback__v1__nps_summary__init(p);
        nps_of(&prev, &rc_prev);
        fill_summary(p, &prev, &rc_prev, c->min_sample, f - (e - f), f);
        out->previous = p;
        fb_nps_change ch;
        fb_nps_compare(&rc_cur, &rc_prev, &ch);
        out->change = ch.change;
        out->change_significant = ch.significant;
    }
    return FB_OK;
}

void fb_trends_nps_clear(Feedback__V1__NpsSummary *out)
{
    free(out->previous);
    feedback__v1__nps_summary__init(out);
}

/* ---- GetTrend ---- */

typedef struct trend_plan {
    fb_gran g;
    size_t nb;          /* buckets */
    int64_t *starts;    /* nb + 1 instants (ms) */
    int64_t *bounds;    /* nb + 1 in level units */
    char level;
    char group;         /* 0, 'c' or 't' */
    const char *gkey;   /* tag key of group_by */
} trend_plan;

static int parse_group_by(const char *gb, trend_plan *p, fb_err *err)
{
    p->group = 0;
    if (!gb || !*gb) return FB_OK;
    if (strcmp(gb, "channel") == 0) { p->group = 'c'; return FB_OK; }
    if (strncmp(gb, "tag:", 4) == 0) {
        const char *k = gb + 4;
        size_t len = strlen(k);
        int ok = len >= 1 && len <= 32;
        for (size_t i = 0; ok && i < len; i++)
            ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_';
        if (ok) { p->group = 't'; p->gkey = k; return FB_OK; }
    }
    return fb_err_set(err, FB_INVALID, "group_by: must be empty, \"channel\" or \"tag:<key>\" with key [a-z0-9_]{1,32}, got '%.64s'", gb);
}

static int plan_buckets(trend_plan *p, const fb_tz *tz, int64_t from, int64_t to, fb_err *err)
{
    size_t cap = 64;
    p->starts = malloc((cap + 1) * sizeof *p->starts);
    if (!p->starts) return fb_err_set(err, FB_INTERNAL, "trends: out of memory");
    p->nb = 0;
    for (int64_t b = fb_tz_bucket_start(tz, p->g, from); b < to; b = fb_tz_bucket_next(tz, p->g, b)) {
        if (p->nb == MAX_BUCKETS)
            return fb_err_set(err, FB_INVALID, "range: more than %d buckets at this granularity; "
                              "shorten the range or use a coarser granularity", MAX_BUCKETS);
        if (p->nb == cap) {
            cap *= 2;
            int64_t *s = realloc(p->starts, (cap + 1) * sizeof *s);
            if (!s) return fb_err_set(err, FB_INTERNAL, "trends: out of memory");
            p->starts = s;
        }
        p->starts[p->nb++] = b;
    }
    p->starts[p->nb] = fb_tz_bucket_next(tz, p->g, p->starts[p->nb - 1]);
    p->bounds = malloc((p->nb + 1) * sizeof *p->bounds);
    if (!p->bounds) return fb_err_set(err, FB_INTERNAL, "trends: out of memory");
    p->level = p->g == FB_GRAN_HOUR ? 'q' : 'd';
    for (size_t i = 0; i <= p->nb; i++)
        p->bounds[i] = p->level == 'q' ? fb_floor_div(p->starts[i] + FB_QUARTER_MS - 1, FB_QUARTER_MS)
                                       : fb_tz_local_day(tz, p->starts[i]);
    return FB_OK;
}

static int add_series(Feedback__V1__Trend *out, const trend_plan *p, const tvals *acc, const char *group,
                      size_t glen, fb_err *err)
{
    if ((out->n_series + 1) * p->nb > MAX_REPLY_BUCKETS)
        return fb_err_set(err, FB_INVALID, "group_by: more than %d buckets across all groups; "
                          "shorten the range or use a coarser granularity", MAX_REPLY_BUCKETS);
    Feedback__V1__TrendSeries *s = calloc(1, sizeof *s);
    Feedback__V1__TrendBucket *b = calloc(p->nb, sizeof *b);
    Feedback__V1__TrendBucket **bp = calloc(p->nb, sizeof *bp);
    char *g = malloc(glen + 1);
    Feedback__V1__TrendSeries **arr = realloc(out->series, (out->n_series + 1) * sizeof *arr);
    if (arr) out->series = arr;
    if (!s || !b || !bp || !g || !arr) {
        free(s); free(b); free(bp); free(g);
        return fb_err_set(err, FB_INTERNAL, "trends: out of memory");
    }
    feedback__v1__trend_series__init(s);
    memcpy(g, group, glen);
    g[glen] = '\0';
    s->group = g;
    s->n_buckets = p->nb;
    s->buckets = bp;
    for (size_t i = 0; i < p->nb; i++) {
        const tvals *a = &acc[i];
        fb_nps r;
        nps_of(a, &r);
        feedback__v1__trend_bucket__init(&b[i]);
        bp[i] = &b[i];
        b[i].start_ms = p->starts[i];
        b[i].end_ms = p->starts[i + 1];
        b[i].n = u32((int64_t)r.n);
        b[i].promoters = u32(a->v[FB_TV_PROMOTERS]);
        b[i].passives = u32(a->v[FB_TV_PASSIVES]);
        b[i].detractors = u32(a->v[FB_TV_DETRACTORS]);
        b[i].nps = r.nps;
        b[i].margin_95 = r.margin_95;
        b[i].mean_sentiment = mean_sentiment(a);
        b[i].positive = u32(a->v[FB_TV_POSITIVE]);
        b[i].negative = u32(a->v[FB_TV_NEGATIVE]);
        b[i].neutral = u32(a->v[FB_TV_NEUTRAL]);
        b[i].reviews = u32(a->v[FB_TV_REVIEWS]);
        b[i].mean_rating = a->v[FB_TV_REVIEWS] > 0 ? (double)a->v[FB_TV_RATING_SUM] / (double)a->v[FB_TV_REVIEWS] : 0.0;
    }
    out->series[out->n_series++] = s;
    return FB_OK;
}

/* One series for the segment whose prefix is key[0..pre). */
static int series_of(MDB_txn *m, MDB_dbi dbi, unsigned char *key, size_t pre, const trend_plan *p,
                     const char *group, size_t glen, int keep_empty, Feedback__V1__Trend *out, fb_err *err)
{
    tvals *acc = calloc(p->nb, sizeof *acc);
    if (!acc) return fb_err_set(err, FB_INTERNAL, "trends: out of memory");
    int rc = scan_level(m, dbi, key, pre, p->level, p->bounds, p->nb, acc, err);
    int any = 0;
    for (size_t i = 0; i < p->nb && !any; i++)
        any = acc[i].v[FB_TV_PROMOTERS] + acc[i].v[FB_TV_PASSIVES] + acc[i].v[FB_TV_DETRACTORS] > 0;
    if (rc == FB_OK && (any || keep_empty)) rc = add_series(out, p, acc, group, glen, err);
    free(acc);
    return rc;
}

static int cmp_series(const void *a, const void *b)
{
    const Feedback__V1__TrendSeries *const *x = a, *const *y = b;
    return strcmp((*x)->group, (*y)->group);
}

/* One series per value of the group_by dimension: seek to each distinct
 * segment in turn (one seek per value). */
static int grouped(MDB_txn *m, MDB_dbi dbi, uint32_t tenant, const char *survey, const trend_plan *p,
                   Feedback__V1__Trend *out, fb_err *err)
{
    fb_seg dim = {.type = p->group, .key = p->gkey, .klen = p->gkey ? strlen(p->gkey) : 0};
    unsigned char base[FB_SEG_PREFIX_MAX + 9], key[FB_SEG_PREFIX_MAX + 9];
    size_t bl = fb_seg_prefix(base, tenant, 'A', survey, &dim) - 2; /* without the empty value's vlen */
    MDB_cursor *c;
    int rc = mdb_cursor_open(m, dbi, &c);
    if (rc != 0) return fb_err_set(err, FB_INTERNAL, "trends: cursor: %s", mdb_strerror(rc));
    MDB_val k = {bl, base}, v;
    int frc = FB_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && frc == FB_OK;
         rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) {
        const unsigned char *kp = k.mv_data;
        if (k.mv_size < bl + 2 + 9 || memcmp(kp, base, bl) != 0) break;
        size_t vl = (size_t)kp[bl] << 8 | kp[bl + 1];
        size_t pre = bl + 2 + vl;
        if (k.mv_size != pre + 9) break;
        memcpy(key, kp, pre);
        frc = series_of(m, dbi, key, pre, p, (const char *)key + bl + 2, vl, 0, out, err);
        key[pre] = 0xFF; /* past every level of this segment */
        k.mv_size = pre + 1;
        k.mv_data = key;
    }
    mdb_cursor_close(c);
    /* keys order values by length first; the reply orders them by value */
    if (frc == FB_OK && out->n_series > 1) qsort(out->series, out->n_series, sizeof *out->series, cmp_series);
    return frc;
}

int fb_trends_trend(fb_trends *t, const fb_trends_ctx *c, const Feedback__V1__TrendQuery *q,
                    Feedback__V1__Trend *out, fb_err *err)
{
    feedback__v1__trend__init(out);
    trend_plan p = {0};
    int64_t to = q->to_ms;
    fb_seg seg;
    const char *survey = q->survey_id ? q->survey_id : "";
    int rc = fb_check_range(q->from_ms, &to, c->now_ms, err);
    if (rc == FB_OK && (q->granularity < 1 || q->granularity > 4))
        rc = fb_err_set(err, FB_INVALID, "granularity: must be HOUR, DAY, WEEK or MONTH, got %d", (int)q->granularity);
    if (rc == FB_OK) rc = fb_check_survey(survey, err);
    if (rc == FB_OK) rc = parse_group_by(q->group_by, &p, err);
    if (rc == FB_OK) rc = fb_seg_from_filter(q->filter, &seg, err);
    if (rc == FB_OK && p.group && seg.type != 'a')
        rc = fb_err_set(err, FB_INVALID, "filter: cannot be combined with group_by (aggregates are kept "
                        "per single dimension); drop the filter or the grouping");
    if (rc != FB_OK) return rc;
    p.g = (fb_gran)q->granularity;
    MDB_txn *m;
    const fb_tz *tz;
    if ((rc = fb_trends_read_begin(t, c->tenant, c->timezone, &m, &tz, err)) != FB_OK) return rc;
    rc = plan_buckets(&p, tz, q->from_ms, to, err);
    if (rc == FB_OK && p.group) {
        rc = grouped(m, t->agg, c->tenant, survey, &p, out, err);
    } else if (rc == FB_OK) {
        unsigned char key[FB_SEG_PREFIX_MAX + 9];
        size_t pre = fb_seg_prefix(key, c->tenant, 'A', survey, &seg);
        rc = series_of(m, t->agg, key, pre, &p, "", 0, 1, out, err);
    }
    fb_store_read_end(t->st, m);
    free(p.starts);
    free(p.bounds);
    out->granularity = q->granularity;
    out->timezone = rc == FB_OK ? strdup(fb_tz_name(tz)) : NULL;
    if (rc == FB_OK && !out->timezone) rc = fb_err_set(err, FB_INTERNAL, "trends: out of memory");
    if (rc != FB_OK) fb_trends_trend_clear(out);
    return rc;
}

void fb_trends_trend_clear(Feedback__V1__Trend *out)
{
    for (size_t i = 0; i < out->n_series; i++) {
        Feedback__V1__TrendSeries *s = out->series[i];
        if (s->n_buckets) free(s->buckets[0]);
        free(s->buckets);
        free(s->group);
        free(s);
    }
    free(out->series);
    if (out->timezone != protobuf_c_empty_string) free(out->timezone);
    feedback__v1__trend__init(out);
}
