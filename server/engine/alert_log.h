/* alert_log.h — the durable per-tenant alert log (internal to alerts).
 *
 * Every function works inside a caller's transaction (writes: the store's
 * fb_txn, so a full map is reported to the writer and grown), so an alert is
 * written in the same transaction as the feedback that raised it. Tables
 * (every key starts with the tenant's 4-byte big-endian id):
 *   alerts      tenant|seq(8)        -> packed feedback.v1.Alert
 *   alert_ids   tenant|id            -> seq(8)            (id -> current seq)
 *   alert_meta  tenant|'s'           -> last seq(8)       (strictly increasing)
 *   alert_due   tenant|due_ms(8)|id  -> ""                (open alerts by SLA due time)
 *   alert_resp  tenant|respondent    -> id                (respondent's joinable alert)
 *   alert_nps   subject              -> eval_day(8) pending_day(8)
 *   alert_nps_due  pending_day(8)|subject -> ""           (NPS_DROP queue)
 *   alert_meta  "nps-format"         -> 2                 (alert_nps is keyed by subject)
 * An NPS subject is one (tenant, survey, segment): the bytes
 * fb_seg_prefix(key, tenant, FB_ALERT_NPS_TAG, survey, seg) writes
 * (trends.h), tenant first. Days are UTC days since the epoch.
 */
#ifndef FB_ALERT_LOG_H
#define FB_ALERT_LOG_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"
#include "feedback/v1/alerts.pb-c.h"

typedef struct fb_alert_log {
    MDB_dbi alerts, ids, meta, due, resp, nps, nps_due;
} fb_alert_log;

/* Opens the tables. Errors: FB_INTERNAL. */
int fb_alert_log_open(fb_alert_log *l, fb_store *st, fb_err *err);

/* Assigns the next seq to a (a->seq), writes it and its id mapping. If the
 * alert already had a seq (an update), its old entry is removed first, so
 * the log holds each alert once, at its latest seq. Errors: FB_EXHAUSTED
 * (map full), FB_INTERNAL. */
int fb_alert_log_append(fb_alert_log *l, fb_txn *txn, uint32_t tenant,
                        Feedback__V1__Alert *a, fb_err *err);

/* Rewrites an alert in place at its current seq (ack, redaction): live
 * subscribers are not told. Errors: FB_EXHAUSTED, FB_INTERNAL. */
int fb_alert_log_put(fb_alert_log *l, fb_txn *txn, uint32_t tenant,
                     const Feedback__V1__Alert *a, fb_err *err);

/* Highest seq written for the tenant (0: none). */
uint64_t fb_alert_log_last_seq(fb_alert_log *l, MDB_txn *txn, uint32_t tenant);

/* The alert with this id. *out: free with feedback__v1__alert__free_unpacked.
 * Errors: FB_NOT_FOUND (message names the id), FB_INTERNAL (corrupt). */
int fb_alert_log_get(fb_alert_log *l, MDB_txn *txn, uint32_t tenant, const char *id,
                     Feedback__V1__Alert **out, fb_err *err);

/* Calls fn for each stored alert of the tenant in seq order, starting after
 * after_seq (forward) or before before_seq (backward, 0 = from the newest),
 * until fn returns non-zero or max_rows rows were read (0: no limit).
 * *last_seq (may be NULL) gets the seq of the last row read, *at_end whether
 * the log was exhausted. fn owns nothing: it must copy what it keeps. */
typedef int (*fb_alert_scan_fn)(void *arg, const Feedback__V1__Alert *a);
int fb_alert_log_scan(fb_alert_log *l, MDB_txn *txn, uint32_t tenant, uint64_t after_seq,
                      uint64_t before_seq, bool backward, size_t max_rows,
                      fb_alert_scan_fn fn, void *arg, uint64_t *last_seq, bool *at_end,
                      fb_err *err);

/* SLA index. */
int fb_alert_due_put(fb_alert_log *l, fb_txn *txn, uint32_t tenant, int64_t due_ms,
                     const char *id, fb_err *err);
int fb_alert_due_del(fb_alert_log *l, fb_txn *txn, uint32_t tenant, int64_t due_ms,
                     const char *id);
/* Up to max entries due at or before now_ms, across all tenants. */
typedef struct fb_alert_due {
    uint32_t tenant;
    int64_t due_ms;
    char id[64];
} fb_alert_due;
size_t fb_alert_due_scan(fb_alert_log *l, MDB_txn *txn, int64_t now_ms,
                         fb_alert_due *out, size_t max);

/* Respondent index: the id of the respondent's joinable alert. */
int fb_alert_resp_get(fb_alert_log *l, MDB_txn *txn, uint32_t tenant, const char *respondent,
                      char *id, size_t cap);
int fb_alert_resp_put(fb_alert_log *l, fb_txn *txn, uint32_t tenant, const char *respondent,
                      const char *id, fb_err *err);
void fb_alert_resp_del(fb_alert_log *l, fb_txn *txn, uint32_t tenant, const char *respondent);

/* ---- NPS_DROP bookkeeping (see alert_nps.c for the why) ----
 * A subject is "pending" from the first feedback after its last evaluation
 * until it is evaluated again; it is due on pending_day, which is never the
 * day of its last evaluation (at most one evaluation per UTC day). */
#define FB_ALERT_NPS_TAG '\x01'  /* no survey id starts with it: old keys are told apart */
#define FB_ALERT_NPS_KEY_MAX 300 /* FB_SEG_PREFIX_MAX */

typedef struct fb_alert_nps_state {
    int64_t eval_day;     /* last evaluation; -1: never */
    int64_t pending_day;  /* due from this day on; -1: not pending */
} fb_alert_nps_state;

/* The subject's state ({-1, -1} when it has none). */
void fb_alert_nps_get(fb_alert_log *l, MDB_txn *txn, const unsigned char *subject, size_t len,
                      fb_alert_nps_state *out);

/* Feedback for the subject arrived on `today`: unless it is already
 * pending, it becomes pending (due today, or tomorrow if it was evaluated
 * today). One lookup when pending; else two small writes. Errors:
 * FB_EXHAUSTED, FB_INTERNAL. */
int fb_alert_nps_mark(fb_alert_log *l, fb_txn *txn, const unsigned char *subject, size_t len,
                      int64_t today, fb_err *err);

/* One queue entry: the subject and the day it was queued for. */
typedef struct fb_alert_nps_due {
    int64_t day;
    size_t len;
    unsigned char subject[FB_ALERT_NPS_KEY_MAX];
} fb_alert_nps_due;

/* Up to max queue entries due on or before `today`, across tenants, oldest
 * day first. */
size_t fb_alert_nps_due_scan(fb_alert_log *l, MDB_txn *txn, int64_t today,
                             fb_alert_nps_due *out, size_t max);

/* Takes the entry off the queue and, if it is still the subject's pending
 * entry and due, records the evaluation on `today` and sets *evaluate;
 * otherwise (a stale entry) only removes it. Errors: FB_EXHAUSTED,
 * FB_INTERNAL. */
int fb_alert_nps_done(fb_alert_log *l, fb_txn *txn, const fb_alert_nps_due *d, int64_t today,
                      bool *evaluate, fb_err *err);

/* Whether alert_nps still needs fb_alert_nps_migrate (a store written by a
 * version that kept one record per survey). */
bool fb_alert_nps_needs_migration(fb_alert_log *l, MDB_txn *txn);

/* Converts the per-survey records (tenant|survey -> last day) to the
 * survey's "all" subject, pending the day after that last evaluation (when
 * the old version would have evaluated it again), then marks the format.
 * Errors: FB_EXHAUSTED, FB_INTERNAL. */
int fb_alert_nps_migrate(fb_alert_log *l, fb_txn *txn, fb_err *err);

/* Maps an LMDB return code to an fb_err. */
int fb_alert_mdb_err(int rc, const char *what, fb_err *err);

#endif
