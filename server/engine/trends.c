/* trends.c — the aggregates behind GetNps/GetTrend/TopTerms, kept at ingest.
 *
 * Why pre-aggregate: a dashboard must answer in milliseconds whether the
 * tenant has a thousand responses or ten million, so queries read counters
 * whose number follows the buckets asked for, never the feedback stored.
 *
 * Table "trends", one record per (tenant, survey, segment, level, bucket):
 *   key   tenant(4) 'A' slen(1) survey  segment  level(1) bucket(8, signed BE)
 *         segment = 'a'                          all feedback
 *                 | 'c' vlen(2) value            one channel
 *                 | 't' klen(1) key vlen(2) value  one tag key=value
 *         level   = 'q' bucket = UTC quarter-hour number (t div 15 min)
 *                 | 'd' bucket = local calendar day number in the zone of
 *                       the tenant's meta record (days since 1970-01-01)
 *   value 10 × int64 BE: promoters passives detractors reviews rating_sum
 *         texted sentiment_sum(micro-units) positive negative neutral
 *   key   tenant(4) 'M'  → the zone name the 'd' level is keyed in ("UTC"
 *         when absent)
 * Survey "" is the all-surveys rollup, so survey-less queries are one range.
 * Length prefixes keep each segment's records contiguous and let group_by
 * enumerate a dimension's values with one seek per value.
 *
 * Why two levels: a DAY/WEEK/MONTH bucket in the tenant's zone is a union of
 * local days, so a year of days reads ≤ 366 records per series whatever the
 * volume. HOUR buckets and the ragged edges of an NPS range need finer
 * pieces; UTC hours would not do, because zones with :30 and :45 offsets
 * (India, Nepal, Chatham) put local hour and day boundaries mid-hour, while
 * every zone offset in use since the 1970s is a multiple of 15 minutes. So
 * the fine level is the quarter-hour: HOUR trends read 4 per bucket
 * (≤ 40,000 for the maximum 10,000 buckets) and an NPS range reads
 * ≤ 2 × 96 quarter-hours plus one record per local day in between.
 * Records exist only where feedback does; reads are LMDB range scans.
 *
 * Writes per feedback: (1 or 2 surveys) × (1 + channel + tags) segments × 2
 * levels counter adds (fb_txn_add_counts, store.h): summed in memory per
 * batch and written once per record when the batch commits, so the
 * feedback of a batch that share a survey and day share the writes.
 * Changing the zone rebuilds the tenant's 'd' level from its 'q' level in
 * one write (fb_trends_set_zone); queries check the meta record and trigger
 * the rebuild themselves, so a crash between the settings update and the
 * rebuild heals on the next query.
 */
#include "trends.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "terms.h"
#include "trends_int.h"

/* ---- segments and keys ---- */

static int tag_key_ok(const char *k, size_t len)
{
    if (len < 1 || len > 32) return 0;
    for (size_t i = 0; i < len; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_')) return 0;
    return 1;
}

int fb_seg_from_filter(const Feedback__V1__Filter *f, fb_seg *out, fb_err *err)
{
    memset(out, 0, sizeof *out);
    out->type = 'a';
    if (!f) return FB_OK;
    int has_channel = f->channel && f->channel[0];
    if (has_channel + (int)f->n_tags > 1)
        return fb_err_set(err, FB_INVALID,
                          "filter: at most one of channel or one tag can be filtered on at a time "
                          "(got %s%zu tag(s)); aggregates are kept per single dimension",
                          has_channel ? "channel and " : "", f->n_tags);
    if (has_channel) {
        out->type = 'c';
        out->val = f->channel;
        out->vlen = strlen(f->channel);
        if (out->vlen > 1024) return fb_err_set(err, FB_INVALID, "filter.channel: at most 1024 bytes");
    } else if (f->n_tags == 1) {
        const char *k = f->tags[0]->key ? f->tags[0]->key : "";
        const char *v = f->tags[0]->value ? f->tags[0]->value : "";
        if (!tag_key_ok(k, strlen(k)))
            return fb_err_set(err, FB_INVALID, "filter.tags: key must match [a-z0-9_]{1,32}, got '%.40s'", k);
        if (strlen(v) > 1024) return fb_err_set(err, FB_INVALID, "filter.tags: value at most 1024 bytes");
        out->type = 't';
        out->key = k; out->klen = strlen(k);
        out->val = v; out->vlen = strlen(v);
    }
    return FB_OK;
}

size_t fb_seg_of_feedback(const Feedback__V1__Feedback *fb, fb_seg *out)
{
    size_t n = 0;
    out[n++] = (fb_seg){.type = 'a'};
    if (fb->channel && fb->channel[0])
        out[n++] = (fb_seg){.type = 'c', .val = fb->channel, .vlen = strlen(fb->channel)};
    for (size_t i = 0; i < fb->n_tags; i++) {
        const char *k = fb->tags[i]->key ? fb->tags[i]->key : "";
        const char *v = fb->tags[i]->value ? fb->tags[i]->value : "";
        size_t kl = strlen(k), vl = strlen(v);
        if (kl < 1 || kl > FB_SEG_KEY_MAX) continue; /* validated at ingest; keys stay bounded */
        out[n++] = (fb_seg){.type = 't', .key = k, .klen = kl, .val = v, .vlen = vl};
    }
    return n;
}

size_t fb_seg_prefix(unsigned char *buf, uint32_t tenant, char tag, const char *survey, const fb_seg *seg)
{
    size_t n = 0, sl = strlen(survey);
    if (sl > 64) sl = 64;
    fb_put_be32(buf, tenant); n += 4;
    if (tag) buf[n++] = (unsigned char)tag;
    buf[n++] = (unsigned char)sl;
    memcpy(buf + n, survey, sl); n += sl;
    buf[n++] = (unsigned char)seg->type;
    if (seg->type == 't') {
        size_t kl = seg->klen > FB_SEG_KEY_MAX ? FB_SEG_KEY_MAX : seg->klen;
        buf[n++] = (unsigned char)kl;
        if (kl) memcpy(buf + n, seg->key, kl);
        n += kl;
    }
    if (seg->type != 'a') {
        /* LMDB keys are at most 511 bytes: values past FB_SEG_VAL_MAX bytes
         * are cut (ingest limits tag values to 128 bytes anyway) */
        size_t vl = seg->vlen > FB_SEG_VAL_MAX ? FB_SEG_VAL_MAX : seg->vlen;
        buf[n++] = (unsigned char)(vl >> 8); buf[n++] = (unsigned char)vl;
        if (vl) memcpy(buf + n, seg->val, vl);
        n += vl;
    }
    return n;
}

size_t fb_seg_parse(const unsigned char *buf, size_t len, char tag, uint32_t *tenant,
                    char survey[65], fb_seg *seg)
{
    size_t n = 4 + (tag ? 1 : 0);
    if (len < n + 2 || (tag && buf[4] != (unsigned char)tag)) return 0;
    size_t sl = buf[n++];
    if (sl > 64 || n + sl + 1 > len) return 0;
    *tenant = fb_get_be32(buf);
    memcpy(survey, buf + n, sl);
    survey[sl] = 0;
    n += sl;
    memset(seg, 0, sizeof *seg);
    seg->type = (char)buf[n++];
    if (seg->type == 'a') return n;
    if (seg->type == 't') {
        if (n >= len || buf[n] < 1 || buf[n] > FB_SEG_KEY_MAX || n + 1 + buf[n] > len) return 0;
        seg->klen = buf[n++];
        seg->key = (const char *)buf + n;
        n += seg->klen;
    } else if (seg->type != 'c') return 0;
    if (n + 2 > len) return 0;
    seg->vlen = (size_t)buf[n] << 8 | buf[n + 1];
    n += 2;
    if (seg->vlen > FB_SEG_VAL_MAX || n + seg->vlen > len) return 0;
    seg->val = (const char *)buf + n;
    return n + seg->vlen;
}

int fb_check_survey(const char *s, fb_err *err)
{
    size_t len = strlen(s);
    if (len > 64) return fb_err_set(err, FB_INVALID, "survey_id: at most 64 characters, got %zu", len);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return fb_err_set(err, FB_INVALID, "survey_id: must match [A-Za-z0-9._-]{1,64}");
    }
    return FB_OK;
}

int fb_check_range(int64_t from, int64_t *to, int64_t now_ms, fb_err *err)
{
    if (*to == 0) *to = now_ms;
    /* ±8.64e15 ms (±273,790 years, as ECMAScript dates): keeps every bucket
     * computation far from int64 overflow */
    const int64_t lim = 8640000000000000LL;
    if (from < -lim || from > lim)
        return fb_err_set(err, FB_INVALID, "from_ms: must be within ±8.64e15, got %lld", (long long)from);
    if (*to < -lim || *to > lim)
        return fb_err_set(err, FB_INVALID, "to_ms: must be within ±8.64e15, got %lld", (long long)*to);
    if (from >= *to)
        return fb_err_set(err, FB_INVALID, "from_ms: must be before to_ms (got from_ms=%lld, to_ms=%lld)",
                          (long long)from, (long long)*to);
    return FB_OK;
}

int64_t fb_feedback_time(const Feedback__V1__Feedback *fb)
{
    return fb->submitted_at_ms ? fb->submitted_at_ms : fb->received_ms;
}

int fb_feedback_has_text(const Feedback__V1__Feedback *fb)
{
    return fb->sentiment && ((fb->comment && fb->comment[0]) || (fb->text && fb->text[0]) ||
                             (fb->title && fb->title[0]));
}

static int category_of(const Feedback__V1__Feedback *fb)
{
    if (fb->category >= 1 && fb->category <= 3) return (int)fb->category;
    if (fb->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW)
        return fb->rating >= 5 ? 1 : fb->rating == 4 ? 2 : 3;
    return fb->score >= 9 ? 1 : fb->score >= 7 ? 2 : 3;
}

void fb_trends_values(const Feedback__V1__Feedback *fb, int sign, int64_t v[FB_TV_N])
{
    memset(v, 0, sizeof(int64_t) * FB_TV_N);
    v[FB_TV_PROMOTERS + category_of(fb) - 1] = sign;
    if (fb->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW) {
        v[FB_TV_REVIEWS] = sign;
        v[FB_TV_RATING_SUM] = sign * (int64_t)fb->rating;
    }
    if (fb_feedback_has_text(fb)) {
        v[FB_TV_TEXTED] = sign;
        v[FB_TV_SENT_SUM] = sign * (int64_t)llround(fb->sentiment->compound * 1e6);
        switch (fb->sentiment->label) {
        case FEEDBACK__V1__LABEL__POSITIVE: case FEEDBACK__V1__LABEL__VERY_POSITIVE:
            v[FB_TV_POSITIVE] = sign; break;
        case FEEDBACK__V1__LABEL__NEGATIVE: case FEEDBACK__V1__LABEL__VERY_NEGATIVE:
            v[FB_TV_NEGATIVE] = sign; break;
        default: v[FB_TV_NEUTRAL] = sign; break;
        }
    }
}

/* ---- open / close ---- */

int fb_trends_open(fb_trends **out, fb_store *st, const char *tzdir, fb_err *err)
{
    fb_trends *t = calloc(1, sizeof *t);
    if (!t) return fb_err_set(err, FB_INTERNAL, "trends: out of memory");
    t->st = st;
    int rc = fb_store_dbi(st, "trends", &t->agg, err);
    if (rc == FB_OK) rc = fb_store_dbi(st, "terms", &t->terms, err);
    if (rc == FB_OK) rc = fb_tzcache_open(&t->tzc, tzdir, err);
    if (rc != FB_OK) {
        free(t);
        return rc;
    }
    *out = t;
    return FB_OK;
}

void fb_trends_close(fb_trends *t)
{
    if (!t) return;
    fb_tzcache_close(t->tzc);
    free(t);
}

/* ---- zone of the day level ---- */

int fb_trends_zone_name(fb_trends *t, MDB_txn *m, uint32_t tenant, char out[130], fb_err *err)
{
    unsigned char kb[5];
    fb_put_be32(kb, tenant);
    kb[4] = 'M';
    MDB_val k = {5, kb}, v;
    int rc = mdb_get(m, t->agg, &k, &v);
    if (rc == MDB_NOTFOUND || (rc == 0 && (v.mv_size == 0 || v.mv_size > 128))) {
        strcpy(out, "UTC");
        return FB_OK;
    }
    if (rc != 0) return fb_err_set(err, FB_INTERNAL, "trends: read zone: %s", mdb_strerror(rc));
    memcpy(out, v.mv_data, v.mv_size);
    out[v.mv_size] = '\0';
    return FB_OK;
}

int fb_trends_zone(fb_trends *t, MDB_txn *m, uint32_t tenant, const fb_tz **tz, fb_err *err)
{
    char name[130];
    int rc = fb_trends_zone_name(t, m, tenant, name, err);
    if (rc != FB_OK) return rc;
    rc = fb_tzcache_get(t->tzc, name, tz, err);
    if (rc == FB_INVALID) /* the zone file vanished from the system: keep serving in UTC */
        rc = fb_tzcache_get(t->tzc, "UTC", tz, err);
    return rc;
}

/* ---- the hook ---- */

int fb_trends_hook(fb_txn *txn, const fb_feedback_event *ev, void *ctx, fb_err *err)
{
    fb_trends *t = ctx;
    MDB_txn *m = fb_txn_mdb(txn);
    const Feedback__V1__Feedback *fb = ev->fb;
    const fb_tz *tz = NULL;
    int rc = fb_trends_zone(t, m, ev->tenant_id, &tz, err);
    if (rc != FB_OK) return rc;

    int64_t v[FB_TV_N];
    fb_trends_values(fb, ev->sign, v);
    int64_t when = fb_feedback_time(fb);
    int64_t quarter = fb_floor_div(when, FB_QUARTER_MS);
    int64_t day = fb_tz_local_day(tz, when);
    const char *surveys[2] = {"", fb->survey_id ? fb->survey_id : ""};
    int n_surveys = surveys[1][0] ? 2 : 1;
    fb_seg segs[2 + 64];
    size_t n_segs = fb_seg_of_feedback(fb, segs);
    if (fb->n_tags > 64) n_segs = 2 + 64;

    unsigned char key[FB_SEG_PREFIX_MAX + 9];
    for (int s = 0; s < n_surveys && rc == FB_OK; s++) {
        for (size_t g = 0; g < n_segs && rc == FB_OK; g++) {
            size_t n = fb_seg_prefix(key, ev->tenant_id, 'A', surveys[s], &segs[g]);
            key[n] = 'd';
            fb_put_s64(key + n + 1, day);
            rc = fb_txn_add_counts(txn, t->agg, key, n + 9, v, FB_TV_N, 3, err);
            if (rc != FB_OK) break;
            key[n] = 'q';
            fb_put_s64(key + n + 1, quarter);
            rc = fb_txn_add_counts(txn, t->agg, key, n + 9, v, FB_TV_N, 3, err);
        }
    }
    if (rc == FB_OK) rc = fb_terms_apply(txn, t->terms, ev, err);
    return rc;
}

/* ---- zone change: rebuild the day level from quarter-hours ---- */

typedef struct day_acc { int64_t day; int64_t v[FB_TV_N]; } day_acc;

typedef struct rebucket {
    fb_trends *t;
    uint32_t tenant;
    const fb_tz *tz;
    day_acc *acc;
    size_t n, cap;
} rebucket;

static int delete_day_level(fb_txn *txn, MDB_dbi dbi, const unsigned char *pre, fb_err *err)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(fb_txn_mdb(txn), dbi, &c);
    if (rc != 0) return fb_txn_mdb_err(txn, rc, "trends: cursor", err);
    MDB_val k = {5, (void *)pre}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 14 || memcmp(k.mv_data, pre, 5) != 0) break;
        if (((const unsigned char *)k.mv_data)[k.mv_size - 9] == 'd' && (rc = mdb_cursor_del(c, 0)) != 0) break;
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND) return fb_txn_mdb_err(txn, rc, "trends: rebuild", err);
    return FB_OK;
}

static int flush_days(rebucket *r, fb_txn *m, const unsigned char *seg, size_t slen, fb_err *err)
{
    unsigned char key[FB_SEG_PREFIX_MAX + 9];
    int rc = FB_OK;
    memcpy(key, seg, slen);
    key[slen] = 'd';
    for (size_t i = 0; i < r->n && rc == FB_OK; i++) {
        fb_put_s64(key + slen + 1, r->acc[i].day);
        rc = fb_txn_add_counts(m, r->t->agg, key, slen + 9, r->acc[i].v, FB_TV_N, 3, err);
    }
    r->n = 0;
    return rc;
}

static int add_quarter(rebucket *r, const MDB_val *k, const MDB_val *v, fb_err *err)
{
    int64_t q = fb_get_s64((const unsigned char *)k->mv_data + k->mv_size - 8);
    int64_t day = fb_tz_local_day(r->tz, q * FB_QUARTER_MS);
    if (r->n == 0 || r->acc[r->n - 1].day != day) {
        if (r->n == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 256;
            day_acc *a = realloc(r->acc, cap * sizeof *a);
            if (!a) return fb_err_set(err, FB_INTERNAL, "trends: out of memory");
            r->acc = a;
            r->cap = cap;
        }
        memset(&r->acc[r->n], 0, sizeof r->acc[r->n]);
        r->acc[r->n++].day = day;
    }
    for (int i = 0; i < FB_TV_N && v->mv_size == FB_TV_N * 8; i++)
        r->acc[r->n - 1].v[i] += (int64_t)fb_get_be64((const unsigned char *)v->mv_data + 8 * i);
    return FB_OK;
}

static int rebuild_days(rebucket *r, fb_txn *m, const unsigned char *pre, fb_err *err)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(fb_txn_mdb(m), r->t->agg, &c);
    if (rc != 0) return fb_txn_mdb_err(m, rc, "trends: cursor", err);
    unsigned char seg[FB_SEG_PREFIX_MAX + 9], resume[FB_SEG_PREFIX_MAX + 9];
    size_t slen = 0;
    MDB_val k = {5, (void *)pre}, v;
    int frc = FB_OK;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (frc == FB_OK) {
        int at_end = rc != 0 || k.mv_size < 14 || memcmp(k.mv_data, pre, 5) != 0;
        int new_seg = !at_end && (k.mv_size - 9 != slen || memcmp(k.mv_data, seg, slen) != 0);
        if ((at_end || new_seg) && r->n > 0) {
            size_t rl = at_end ? 0 : k.mv_size;
            if (!at_end) memcpy(resume, k.mv_data, rl);
            frc = flush_days(r, m, seg, slen, err);
            if (frc != FB_OK || at_end) break;
            MDB_val rk = {rl, resume};
            k = rk;
            rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
            continue;
        }
        if (at_end) break;
        if (new_seg) {
            slen = k.mv_size - 9;
            memcpy(seg, k.mv_data, slen);
        }
        if (((const unsigned char *)k.mv_data)[k.mv_size - 9] == 'q') frc = add_quarter(r, &k, &v, err);
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    return frc;
}

static int rebucket_op(fb_txn *txn, void *arg, fb_err *err)
{
    rebucket *r = arg;
    MDB_txn *m = fb_txn_mdb(txn);
    r->n = 0; /* the op may run again after a map growth */
    char cur[130];
    /* the batch's pending sums first: this op reads the quarter-hours */
    int rc = fb_txn_flush_counts(txn, err);
    if (rc == FB_OK) rc = fb_trends_zone_name(r->t, m, r->tenant, cur, err);
    if (rc != FB_OK || strcmp(cur, fb_tz_name(r->tz)) == 0) return rc;
    unsigned char pre[5];
    fb_put_be32(pre, r->tenant);
    pre[4] = 'A';
    if ((rc = delete_day_level(txn, r->t->agg, pre, err)) != FB_OK) return rc;
    if ((rc = rebuild_days(r, txn, pre, err)) != FB_OK) return rc;
    unsigned char kb[5];
    memcpy(kb, pre, 4);
    kb[4] = 'M';
    MDB_val k = {5, kb}, v = {strlen(fb_tz_name(r->tz)), (void *)fb_tz_name(r->tz)};
    rc = mdb_put(m, r->t->agg, &k, &v, 0);
    return rc ? fb_txn_mdb_err(txn, rc, "trends: write zone", err) : FB_OK;
}

int fb_trends_set_zone(fb_trends *t, uint32_t tenant, const char *zone, fb_err *err)
{
    const fb_tz *tz = NULL;
    int rc = fb_tzcache_get(t->tzc, zone, &tz, err);
    if (rc != FB_OK) return rc;
    MDB_txn *m;
    char cur[130];
    if ((rc = fb_store_read_begin(t->st, &m, err)) != FB_OK) return rc;
    rc = fb_trends_zone_name(t, m, tenant, cur, err);
    fb_store_read_end(t->st, m);
    if (rc != FB_OK || strcmp(cur, fb_tz_name(tz)) == 0) return rc;
    rebucket r = {.t = t, .tenant = tenant, .tz = tz};
    rc = fb_store_write(t->st, rebucket_op, &r, err);
    free(r.acc);
    return rc;
}
