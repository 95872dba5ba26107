/* alert_log.c — the per-tenant alert log and its indexes in LMDB.
 *
 * Design: the log is keyed by (tenant, seq) so a Subscribe replay is one
 * forward cursor walk and ListAlerts (newest first) one backward walk. The
 * seq counter lives in its own row, incremented in the caller's write
 * transaction: a rolled-back op gives its number back, a committed one never
 * reuses it, so seq is strictly increasing across restarts. An alert is
 * stored once, at its latest seq: when repeat feedback joins an alert it
 * moves to a new seq (old row deleted), so a resuming subscriber sees the
 * newest version exactly once. The id of an alert is derived from the first
 * seq it got ("al_" + 12 hex digits) and never changes.
 * The SLA index is keyed tenant|due|id so the timer reads only what is due
 * (one cursor seek per tenant).
 * NPS_DROP keeps one record per (tenant, survey, segment) with its last
 * evaluation day and, when feedback arrived since, the day it is due; the
 * due ones also sit in a queue keyed by that day, so the timer reads only
 * what is due, whatever the number of segments, and the ingest hook does a
 * single lookup per segment once a segment is queued.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_log.h"
#include "trends.h"

#define KEY_MAX 480 /* LMDB's default max key is 511 */

int fb_alert_mdb_err(int rc, const char *what, fb_err *err)
{
    if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL)
        return fb_err_set(err, FB_EXHAUSTED, "alerts: storage full writing %s", what);
    if (rc == MDB_NOTFOUND) return fb_err_set(err, FB_NOT_FOUND, "alerts: %s not found", what);
    return fb_err_set(err, FB_INTERNAL, "alerts: %s: %s", what, mdb_strerror(rc));
}

int fb_alert_log_open(fb_alert_log *l, fb_store *st, fb_err *err)
{
    int rc;
    if ((rc = fb_store_dbi(st, "alerts", &l->alerts, err))) return rc;
    if ((rc = fb_store_dbi(st, "alert_ids", &l->ids, err))) return rc;
    if ((rc = fb_store_dbi(st, "alert_meta", &l->meta, err))) return rc;
    if ((rc = fb_store_dbi(st, "alert_due", &l->due, err))) return rc;
    if ((rc = fb_store_dbi(st, "alert_resp", &l->resp, err))) return rc;
    if ((rc = fb_store_dbi(st, "alert_nps", &l->nps, err))) return rc;
    return fb_store_dbi(st, "alert_nps_due", &l->nps_due, err);
}

/* tenant|str (truncated to fit a key) */
static size_t str_key(unsigned char *k, uint32_t tenant, const char *s)
{
    size_t n = strlen(s);
    if (n > KEY_MAX - 4) n = KEY_MAX - 4;
    fb_put_be32(k, tenant);
    memcpy(k + 4, s, n);
    return 4 + n;
}

uint64_t fb_alert_log_last_seq(fb_alert_log *l, MDB_txn *txn, uint32_t tenant)
{
    unsigned char k[5];
    fb_put_be32(k, tenant);
    k[4] = 's';
    MDB_val key = {5, k}, val;
    if (mdb_get(txn, l->meta, &key, &val) != 0 || val.mv_size != 8) return 0;
    return fb_get_be64(val.mv_data);
}

static int put_alert_row(fb_alert_log *l, fb_txn *t, uint32_t tenant,
                         const Feedback__V1__Alert *a, fb_err *err)
{
    MDB_txn *txn = fb_txn_mdb(t);
    unsigned char k[12];
    fb_put_be32(k, tenant);
    fb_put_be64(k + 4, a->seq);
    size_t n = feedback__v1__alert__get_packed_size(a);
    MDB_val key = {12, k}, val = {n, NULL};
    int rc = mdb_put(txn, l->alerts, &key, &val, MDB_RESERVE);
    if (rc) return fb_txn_mdb_err(t, rc, "alert", err);
    feedback__v1__alert__pack(a, val.mv_data);
    return FB_OK;
}

int fb_alert_log_append(fb_alert_log *l, fb_txn *t, uint32_t tenant,
                        Feedback__V1__Alert *a, fb_err *err)
{
    MDB_txn *txn = fb_txn_mdb(t);
    unsigned char k[12], mk[5];
    uint64_t seq = fb_alert_log_last_seq(l, txn, tenant) + 1;
    int rc;
    if (a->seq) { /* an update moves to the new seq */
        fb_put_be32(k, tenant);
        fb_put_be64(k + 4, a->seq);
        MDB_val old = {12, k};
        rc = mdb_del(txn, l->alerts, &old, NULL);
        if (rc && rc != MDB_NOTFOUND) return fb_txn_mdb_err(t, rc, "old alert row", err);
    }
    fb_put_be32(mk, tenant);
    mk[4] = 's';
    unsigned char sv[8];
    fb_put_be64(sv, seq);
    MDB_val mkey = {5, mk}, mval = {8, sv};
    if ((rc = mdb_put(txn, l->meta, &mkey, &mval, 0))) return fb_txn_mdb_err(t, rc, "alert seq", err);
    a->seq = seq;
    if (!a->id || !*a->id) {
        char id[32];
        snprintf(id, sizeof id, "al_%012" PRIx64, seq);
        char *dup = strdup(id);
        if (!dup) return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
        if (a->id && a->id != protobuf_c_empty_string) free(a->id);
        a->id = dup;
    }
    if ((rc = put_alert_row(l, t, tenant, a, err))) return rc;
    unsigned char ik[KEY_MAX];
    MDB_val ikey = {str_key(ik, tenant, a->id), ik}, ival = {8, sv};
    if ((rc = mdb_put(txn, l->ids, &ikey, &ival, 0))) return fb_txn_mdb_err(t, rc, "alert id", err);
    return FB_OK;
}

int fb_alert_log_put(fb_alert_log *l, fb_txn *t, uint32_t tenant,
                     const Feedback__V1__Alert *a, fb_err *err)
{
    return put_alert_row(l, t, tenant, a, err);
}

static int unpack_row(const MDB_val *val, Feedback__V1__Alert **out, fb_err *err)
{
    *out = feedback__v1__alert__unpack(NULL, val->mv_size, val->mv_data);
    if (!*out) return fb_err_set(err, FB_INTERNAL, "alerts: corrupt alert record");
    return FB_OK;
}

int fb_alert_log_get(fb_alert_log *l, MDB_txn *txn, uint32_t tenant, const char *id,
                     Feedback__V1__Alert **out, fb_err *err)
{
    unsigned char ik[KEY_MAX], k[12];
    MDB_val ikey = {str_key(ik, tenant, id), ik}, ival, val;
    int rc = mdb_get(txn, l->ids, &ikey, &ival);
    if (rc == MDB_NOTFOUND || (rc == 0 && ival.mv_size != 8))
        return fb_err_set(err, FB_NOT_FOUND, "alert_id: no alert %s", id);
    if (rc) return fb_alert_mdb_err(rc, "alert id", err);
    fb_put_be32(k, tenant);
    memcpy(k + 4, ival.mv_data, 8);
    MDB_val key = {12, k};
    rc = mdb_get(txn, l->alerts, &key, &val);
    if (rc == MDB_NOTFOUND) return fb_err_set(err, FB_NOT_FOUND, "alert_id: no alert %s", id);
    if (rc) return fb_alert_mdb_err(rc, "alert", err);
    return unpack_row(&val, out, err);
}

int fb_alert_log_scan(fb_alert_log *l, MDB_txn *txn, uint32_t tenant, uint64_t after_seq,
                      uint64_t before_seq, bool backward, size_t max_rows,
                      fb_alert_scan_fn fn, void *arg, uint64_t *last_seq, bool *at_end,
                      fb_err *err)
{
    MDB_cursor *c;
    unsigned char k[12];
    int rc = mdb_cursor_open(txn, l->alerts, &c);
    if (rc) return fb_alert_mdb_err(rc, "alert cursor", err);
    fb_put_be32(k, tenant);
    MDB_val key = {12, k}, val;
    if (backward) {
        /* position on the first row >= (tenant, before_seq), then step back */
        uint64_t start = before_seq ? before_seq : UINT64_MAX;
        fb_put_be64(k + 4, start);
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
        rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &key, &val, MDB_LAST)
                                : mdb_cursor_get(c, &key, &val, MDB_PREV);
        /* MDB_LAST may land on the exact UINT64_MAX row: never written */
    } else {
        fb_put_be64(k + 4, after_seq + 1);
        rc = after_seq == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
    }
    size_t rows = 0;
    int stop = 0;
    bool end = true;
    while (rc == 0) {
        if (key.mv_size != 12 || fb_get_be32(key.mv_data) != tenant) break;
        uint64_t seq = fb_get_be64((unsigned char *)key.mv_data + 4);
        if (backward && seq <= after_seq) break;
        if (max_rows && rows == max_rows) { end = false; break; }
        Feedback__V1__Alert *a;
        if ((rc = unpack_row(&val, &a, err))) { mdb_cursor_close(c); return rc; }
        stop = fn(arg, a);
        feedback__v1__alert__free_unpacked(a, NULL);
        rows++;
        if (last_seq) *last_seq = seq;
        if (stop) { end = false; break; }
        rc = mdb_cursor_get(c, &key, &val, backward ? MDB_PREV : MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (rc && rc != MDB_NOTFOUND) return fb_alert_mdb_err(rc, "alert scan", err);
    if (at_end) *at_end = end;
    return FB_OK;
}

/* ---- SLA index ---------------------------------------------------------------- */

static size_t due_key(unsigned char *k, uint32_t tenant, int64_t due_ms, const char *id)
{
    size_t n = strlen(id);
    if (n > 63) n = 63;
    fb_put_be32(k, tenant);
    fb_put_be64(k + 4, (uint64_t)due_ms);
    memcpy(k + 12, id, n);
    return 12 + n;
}

int fb_alert_due_put(fb_alert_log *l, fb_txn *t, uint32_t tenant, int64_t due_ms,
                     const char *id, fb_err *err)
{
    MDB_txn *txn = fb_txn_mdb(t);
    unsigned char k[80];
    MDB_val key = {due_key(k, tenant, due_ms, id), k}, val = {0, ""};
    int rc = mdb_put(txn, l->due, &key, &val, 0);
    return rc ? fb_txn_mdb_err(t, rc, "SLA index", err) : FB_OK;
}

int fb_alert_due_del(fb_alert_log *l, fb_txn *t, uint32_t tenant, int64_t due_ms,
                     const char *id)
{
    MDB_txn *txn = fb_txn_mdb(t);
    unsigned char k[80];
    MDB_val key = {due_key(k, tenant, due_ms, id), k};
    int rc = mdb_del(txn, l->due, &key, NULL);
    return rc == 0 || rc == MDB_NOTFOUND ? FB_OK : FB_INTERNAL;
}

size_t fb_alert_due_scan(fb_alert_log *l, MDB_txn *txn, int64_t now_ms,
                         fb_alert_due *out, size_t max)
{
    MDB_cursor *c;
    if (mdb_cursor_open(txn, l->due, &c)) return 0;
    size_t n = 0;
    MDB_val key, val;
    int rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);
    while (rc == 0 && n < max) {
        if (key.mv_size < 12) break;
        uint32_t tenant = fb_get_be32(key.mv_data);
        int64_t due = (int64_t)fb_get_be64((unsigned char *)key.mv_data + 4);
        unsigned char k[12];
        if (due <= now_ms) {
            out[n].tenant = tenant;
            out[n].due_ms = due;
            size_t idn = key.mv_size - 12;
            memcpy(out[n].id, (unsigned char *)key.mv_data + 12, idn);
            out[n].id[idn] = 0;
            n++;
            rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
            continue;
        }
        if (tenant == UINT32_MAX) break;
        fb_put_be32(k, tenant + 1); /* nothing more due here: next tenant */
        memset(k + 4, 0, 8);
        key.mv_size = 12, key.mv_data = k;
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
    }
    mdb_cursor_close(c);
    return n;
}

/* ---- respondent index ----------------------------------------------------------- */

int fb_alert_resp_get(fb_alert_log *l, MDB_txn *txn, uint32_t tenant, const char *respondent,
                      char *id, size_t cap)
{
    unsigned char k[KEY_MAX];
    MDB_val key = {str_key(k, tenant, respondent), k}, val;
    if (mdb_get(txn, l->resp, &key, &val) != 0 || val.mv_size >= cap) return FB_NOT_FOUND;
    memcpy(id, val.mv_data, val.mv_size);
    id[val.mv_size] = 0;
    return FB_OK;
}

int fb_alert_resp_put(fb_alert_log *l, fb_txn *t, uint32_t tenant, const char *respondent,
                      const char *id, fb_err *err)
{
    MDB_txn *txn = fb_txn_mdb(t);
    unsigned char k[KEY_MAX];
    MDB_val key = {str_key(k, tenant, respondent), k}, val = {strlen(id), (void *)id};
    int rc = mdb_put(txn, l->resp, &key, &val, 0);
    return rc ? fb_txn_mdb_err(t, rc, "respondent index", err) : FB_OK;
}

void fb_alert_resp_del(fb_alert_log *l, fb_txn *t, uint32_t tenant, const char *respondent)
{
    MDB_txn *txn = fb_txn_mdb(t);
    unsigned char k[KEY_MAX];
    MDB_val key = {str_key(k, tenant, respondent), k};
    mdb_del(txn, l->resp, &key, NULL);
}

/* ---- NPS_DROP bookkeeping ----------------------------------------------------------- */

#define NPS_FORMAT_KEY "nps-format" /* alert_meta; tenant keys there are 5 bytes */
#define NPS_FORMAT 2

void fb_alert_nps_get(fb_alert_log *l, MDB_txn *txn, const unsigned char *subject, size_t len,
                      fb_alert_nps_state *out)
{
    MDB_val key = {len, (void *)subject}, val;
    out->eval_day = out->pending_day = -1;
    if (mdb_get(txn, l->nps, &key, &val) != 0 || val.mv_size != 16) return;
    out->eval_day = fb_get_s64(val.mv_data);
    out->pending_day = fb_get_s64((unsigned char *)val.mv_data + 8);
}

/* pending_day(8)|subject */
static size_t queue_key(unsigned char *k, int64_t day, const unsigned char *subject, size_t len)
{
    fb_put_s64(k, day);
    memcpy(k + 8, subject, len);
    return 8 + len;
}

static int nps_put(fb_alert_log *l, fb_txn *t, const unsigned char *subject, size_t len,
                   const fb_alert_nps_state *st, fb_err *err)
{
    unsigned char v[16];
    fb_put_s64(v, st->eval_day);
    fb_put_s64(v + 8, st->pending_day);
    MDB_val key = {len, (void *)subject}, val = {16, v};
    int rc = mdb_put(fb_txn_mdb(t), l->nps, &key, &val, 0);
    if (!rc && st->pending_day >= 0) {
        unsigned char q[8 + FB_ALERT_NPS_KEY_MAX];
        MDB_val qk = {queue_key(q, st->pending_day, subject, len), q}, empty = {0, ""};
        rc = mdb_put(fb_txn_mdb(t), l->nps_due, &qk, &empty, 0);
    }
    return rc ? fb_txn_mdb_err(t, rc, "NPS bookkeeping", err) : FB_OK;
}

int fb_alert_nps_mark(fb_alert_log *l, fb_txn *txn, const unsigned char *subject, size_t len,
                      int64_t today, fb_err *err)
{
    if (len > FB_ALERT_NPS_KEY_MAX) return fb_err_set(err, FB_INTERNAL, "alerts: NPS subject too long");
    fb_alert_nps_state st;
    fb_alert_nps_get(l, fb_txn_mdb(txn), subject, len, &st);
    if (st.pending_day >= 0) return FB_OK; /* already queued: the common case */
    st.pending_day = st.eval_day >= today ? st.eval_day + 1 : today;
    return nps_put(l, txn, subject, len, &st, err);
}

size_t fb_alert_nps_due_scan(fb_alert_log *l, MDB_txn *txn, int64_t today,
                             fb_alert_nps_due *out, size_t max)
{
    MDB_cursor *c;
    if (mdb_cursor_open(txn, l->nps_due, &c)) return 0;
    size_t n = 0;
    MDB_val key, val;
    int rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);
    for (; rc == 0 && n < max; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
        if (key.mv_size <= 8 || key.mv_size > 8 + FB_ALERT_NPS_KEY_MAX) continue;
        int64_t day = fb_get_s64(key.mv_data);
        if (day > today) break; /* ordered by day */
        out[n].day = day;
        out[n].len = key.mv_size - 8;
        memcpy(out[n].subject, (unsigned char *)key.mv_data + 8, out[n].len);
        n++;
    }
    mdb_cursor_close(c);
    return n;
}

int fb_alert_nps_done(fb_alert_log *l, fb_txn *txn, const fb_alert_nps_due *d, int64_t today,
                      bool *evaluate, fb_err *err)
{
    MDB_txn *mt = fb_txn_mdb(txn);
    unsigned char q[8 + FB_ALERT_NPS_KEY_MAX];
    MDB_val qk = {queue_key(q, d->day, d->subject, d->len), q};
    int rc = mdb_del(mt, l->nps_due, &qk, NULL);
    *evaluate = false;
    if (rc && rc != MDB_NOTFOUND) return fb_txn_mdb_err(txn, rc, "NPS queue", err);
    fb_alert_nps_state st;
    fb_alert_nps_get(l, mt, d->subject, d->len, &st);
    if (rc == MDB_NOTFOUND || st.pending_day != d->day || d->day > today || st.eval_day >= today)
        return FB_OK; /* stale: someone else took it, or it moved */
    *evaluate = true;
    st.eval_day = today;
    st.pending_day = -1;
    return nps_put(l, txn, d->subject, d->len, &st, err);
}

bool fb_alert_nps_needs_migration(fb_alert_log *l, MDB_txn *txn)
{
    MDB_val key = {sizeof NPS_FORMAT_KEY - 1, NPS_FORMAT_KEY}, val;
    return mdb_get(txn, l->meta, &key, &val) != 0 || val.mv_size != 8 ||
           fb_get_be64(val.mv_data) < NPS_FORMAT;
}

typedef struct old_nps {
    uint32_t tenant;
    int64_t day;
    char survey[65];
} old_nps;

/* The per-survey records of the first format: tenant|survey -> day(8). */
static int collect_old(fb_alert_log *l, MDB_txn *mt, old_nps **out, size_t *n)
{
    MDB_cursor *c;
    size_t cap = 0;
    *out = NULL, *n = 0;
    int rc = mdb_cursor_open(mt, l->nps, &c);
    if (rc) return rc;
    MDB_val key, val;
    for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
        const unsigned char *k = key.mv_data;
        if (val.mv_size != 8 || key.mv_size < 5 || key.mv_size > 4 + 64 || k[4] == (unsigned char)FB_ALERT_NPS_TAG)
            continue;
        if (*n == cap) {
            old_nps *g = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *g);
            if (!g) { rc = ENOMEM; break; }
            *out = g;
        }
        old_nps *o = &(*out)[(*n)++];
        o->tenant = fb_get_be32(k);
        o->day = (int64_t)fb_get_be64(val.mv_data);
        memcpy(o->survey, k + 4, key.mv_size - 4);
        o->survey[key.mv_size - 4] = 0;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int fb_alert_nps_migrate(fb_alert_log *l, fb_txn *txn, fb_err *err)
{
    MDB_txn *mt = fb_txn_mdb(txn);
    if (!fb_alert_nps_needs_migration(l, mt)) return FB_OK; /* ran twice (see store.h) */
    old_nps *old;
    size_t n;
    int rc = collect_old(l, mt, &old, &n);
    if (rc) {
        free(old);
        return rc == ENOMEM ? fb_err_set(err, FB_INTERNAL, "alerts: out of memory")
                            : fb_txn_mdb_err(txn, rc, "NPS bookkeeping migration", err);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char k[KEY_MAX], subject[FB_SEG_PREFIX_MAX];
        MDB_val key = {str_key(k, old[i].tenant, old[i].survey), k};
        if ((rc = mdb_del(mt, l->nps, &key, NULL))) {
            rc = fb_txn_mdb_err(txn, rc, "NPS bookkeeping migration", err);
            break;
        }
        fb_seg all = {.type = 'a'};
        size_t len = fb_seg_prefix(subject, old[i].tenant, FB_ALERT_NPS_TAG, old[i].survey, &all);
        fb_alert_nps_state st = {old[i].day, old[i].day + 1};
        rc = nps_put(l, txn, subject, len, &st, err);
    }
    free(old);
    if (rc) return rc;
    unsigned char v[8];
    fb_put_be64(v, NPS_FORMAT);
    MDB_val key = {sizeof NPS_FORMAT_KEY - 1, NPS_FORMAT_KEY}, val = {8, v};
    if ((rc = mdb_put(mt, l->meta, &key, &val, 0))) return fb_txn_mdb_err(txn, rc, "NPS bookkeeping", err);
    return FB_OK;
}
