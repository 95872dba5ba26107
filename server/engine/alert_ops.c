/* alert_ops.c — acknowledging, listing, SLA escalation and NPS drops.
 *
 * Design: acks and escalations are store write ops (durable before the
 * caller hears back). The SLA timer reads the due index (tenant|due|id) in a
 * read transaction, so an idle tick costs one cursor seek per tenant, then
 * escalates what is due in one write op that re-checks each alert (it may
 * have been acknowledged in between). ListAlerts walks the log newest first;
 * its AckStats walk the whole matching set once, on the first page only.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_internal.h"
#include "pbutil.h"

#define STATE(s) FEEDBACK__V1__ALERT_STATE__##s
#define DUE_BATCH 256
#define LIST_MAX_SCAN 10000 /* rows a page reads at most; then a shorter page with a token */

/* ---- Ack --------------------------------------------------------------------------- */

typedef struct ack_op {
    fb_alerts *al;
    const fb_principal *who;
    const Feedback__V1__AckRequest *req;
    int64_t now;
    Feedback__V1__Alert *result;
} ack_op;

static int ack_write(fb_txn *txn, void *arg, fb_err *err)
{
    ack_op *op = arg;
    MDB_txn *mt = fb_txn_mdb(txn);
    if (op->result) { /* a second run of the op (store.h) */
        feedback__v1__alert__free_unpacked(op->result, NULL);
        op->result = NULL;
    }
    uint32_t tenant = op->who->tenant_id;
    Feedback__V1__Alert *a;
    int rc = fb_alert_log_get(&op->al->log, mt, tenant, op->req->alert_id, &a, err);
    if (rc) return rc;
    int want = op->req->state;
    if (want == STATE(ACKNOWLEDGED) && a->state == STATE(RESOLVED)) {
        fb_err_set(err, FB_INVALID, "state: alert %s is already RESOLVED", a->id);
        feedback__v1__alert__free_unpacked(a, NULL);
        return FB_INVALID;
    }
    bool ok = true;
    if (a->state == STATE(OPEN)) { /* first acknowledgement (resolving acknowledges too) */
        a->acked_ms = op->now;
        ok = fb_pb_set_str(&a->acked_by, op->who->label);
        fb_alert_due_del(&op->al->log, txn, tenant, a->sla_due_ms, a->id);
        a->state = STATE(ACKNOWLEDGED);
    }
    if (want == STATE(RESOLVED) && a->state != STATE(RESOLVED)) {
        a->state = STATE(RESOLVED);
        a->resolved_ms = op->now;
        ok = ok && fb_pb_set_str(&a->resolved_by, op->who->label);
        char id[64];
        if (a->respondent_id && *a->respondent_id &&
            fb_alert_resp_get(&op->al->log, mt, tenant, a->respondent_id, id, sizeof id) == FB_OK &&
            strcmp(id, a->id) == 0)
            fb_alert_resp_del(&op->al->log, txn, tenant, a->respondent_id);
    }
    if (ok && op->req->note && *op->req->note) ok = fb_pb_set_str(&a->note, op->req->note);
    rc = ok ? fb_alert_log_put(&op->al->log, txn, tenant, a, err)
            : fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    if (rc) feedback__v1__alert__free_unpacked(a, NULL);
    else op->result = a;
    return rc;
}

int fb_alerts_ack(fb_alerts *al, const fb_principal *who, const Feedback__V1__AckRequest *req,
                  int64_t now_ms, Feedback__V1__Alert **out, fb_err *err)
{
    if (req->state != STATE(ACKNOWLEDGED) && req->state != STATE(RESOLVED))
        return fb_err_set(err, FB_INVALID, "state: must be ACKNOWLEDGED or RESOLVED, got %d", (int)req->state);
    if (!req->alert_id || !*req->alert_id)
        return fb_err_set(err, FB_INVALID, "alert_id: required");
    if (strlen(req->alert_id) > 63)
        return fb_err_set(err, FB_NOT_FOUND, "alert_id: no alert %.63s…", req->alert_id);
    ack_op op = {al, who, req, now_ms, NULL};
    int rc = fb_store_write(al->st, ack_write, &op, err);
    if (rc) {
        if (op.result) feedback__v1__alert__free_unpacked(op.result, NULL);
        return rc;
    }
    *out = op.result;
    return FB_OK;
}

/* ---- ListAlerts -------------------------------------------------------------------------- */

static bool query_match(const Feedback__V1__AlertQuery *q, const Feedback__V1__Alert *a)
{
    if (q->state && a->state != q->state) return false;
    if (q->min_severity && a->severity < q->min_severity) return false;
    if (q->from_ms && a->created_ms < q->from_ms) return false;
    if (q->to_ms && a->created_ms >= q->to_ms) return false;
    if (q->survey_id && *q->survey_id && strcmp(q->survey_id, a->survey_id ? a->survey_id : "")) return false;
    if (q->kind) {
        bool any = a->kind == q->kind;
        for (size_t i = 0; i < a->n_kinds && !any; i++) any = a->kinds[i] == q->kind;
        if (!any) return false;
    }
    return true;
}

typedef struct page_scan {
    const Feedback__V1__AlertQuery *q;
    Feedback__V1__AlertPage *page;
    size_t want;
    bool oom;
} page_scan;

static int page_collect(void *arg, const Feedback__V1__Alert *a)
{
    page_scan *ps = arg;
    if (!query_match(ps->q, a)) return 0;
    Feedback__V1__Alert *copy = (Feedback__V1__Alert *)fb_pb_clone(&a->base);
    if (!copy) { ps->oom = true; return 1; }
    ps->page->alerts[ps->page->n_alerts++] = copy;
    return ps->page->n_alerts == ps->want;
}

typedef struct stats_scan {
    const Feedback__V1__AlertQuery *q;
    int64_t now;
    double *ack, *res;
    size_t n_ack, n_res, cap;
    uint32_t total, acked, resolved, sla_eligible, sla_met;
    bool oom;
} stats_scan;

static int stats_collect(void *arg, const Feedback__V1__Alert *a)
{
    stats_scan *ss = arg;
    if (!query_match(ss->q, a)) return 0;
    if (ss->n_ack == ss->cap) {
        size_t nc = ss->cap ? ss->cap * 2 : 256;
        double *na = realloc(ss->ack, nc * sizeof *na), *nr = na ? realloc(ss->res, nc * sizeof *nr) : NULL;
        if (na) ss->ack = na;
        if (nr) ss->res = nr;
        if (!na || !nr) { ss->oom = true; return 1; }
        ss->cap = nc;
    }
    ss->total++;
    if (a->acked_ms > 0) {
        ss->acked++;
        ss->ack[ss->n_ack++] = (double)(a->acked_ms - a->created_ms);
    }
    if (a->state == STATE(RESOLVED)) {
        ss->resolved++;
        ss->res[ss->n_res++] = (double)(a->resolved_ms - a->created_ms);
    }
    if (a->sla_due_ms > 0 && (a->acked_ms > 0 || ss->now > a->sla_due_ms)) {
        ss->sla_eligible++;
        if (a->acked_ms > 0 && a->acked_ms <= a->sla_due_ms) ss->sla_met++;
    }
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Nearest-rank percentile of a sorted array (p in (0, 100]). */
static double percentile(const double *v, size_t n, double p)
{
    if (!n) return 0;
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1) rank = 1;
    return v[rank - 1];
}

static int fill_stats(fb_alerts *al, MDB_txn *txn, uint32_t tenant, const Feedback__V1__AlertQuery *q,
                      int64_t now, Feedback__V1__AckStats *st, fb_err *err)
{
    stats_scan ss = {.q = q, .now = now};
    int rc = fb_alert_log_scan(&al->log, txn, tenant, 0, 0, true, 0, stats_collect, &ss, NULL, NULL, err);
    if (!rc && ss.oom) rc = fb_err_set(err, FB_INTERNAL, "alerts: out of memory computing stats");
    if (!rc) {
        if (ss.n_ack) qsort(ss.ack, ss.n_ack, sizeof *ss.ack, cmp_double);
        if (ss.n_res) qsort(ss.res, ss.n_res, sizeof *ss.res, cmp_double);
        st->total = ss.total, st->acknowledged = ss.acked, st->resolved = ss.resolved;
        st->median_ack_ms = percentile(ss.ack, ss.n_ack, 50);
        st->p90_ack_ms = percentile(ss.ack, ss.n_ack, 90);
        st->median_resolve_ms = percentile(ss.res, ss.n_res, 50);
        st->within_sla_share = ss.sla_eligible ? (double)ss.sla_met / ss.sla_eligible : 0;
    }
    free(ss.ack);
    free(ss.res);
    return rc;
}

static int parse_token(const char *tok, uint64_t *before, fb_err *err)
{
    *before = 0;
    if (!tok || !*tok) return FB_OK;
    char *end;
    unsigned long long v = strtoull(tok + 1, &end, 10);
    if (tok[0] != 's' || *end || v == 0)
        return fb_err_set(err, FB_INVALID, "page_token: not a token from a previous AlertPage");
    *before = v;
    return FB_OK;
}

static int check_query(const Feedback__V1__AlertQuery *q, fb_err *err)
{
    if (q->state < 0 || q->state > STATE(RESOLVED))
        return fb_err_set(err, FB_INVALID, "state: unknown alert state %d", (int)q->state);
    if (q->kind < 0 || q->kind > FEEDBACK__V1__ALERT__KIND__SLA_BREACH)
        return fb_err_set(err, FB_INVALID, "kind: unknown alert kind %d", (int)q->kind);
    if (q->min_severity < 0 || q->min_severity > FEEDBACK__V1__SEVERITY__CRITICAL)
        return fb_err_set(err, FB_INVALID, "min_severity: must be LOW..CRITICAL, got %d", (int)q->min_severity);
    if (q->from_ms < 0 || q->to_ms < 0)
        return fb_err_set(err, FB_INVALID, "%s: must be >= 0", q->from_ms < 0 ? "from_ms" : "to_ms");
    if (q->to_ms && q->from_ms >= q->to_ms)
        return fb_err_set(err, FB_INVALID, "to_ms: must be greater than from_ms (%" PRId64 "), got %" PRId64,
                          q->from_ms, q->to_ms);
    return FB_OK;
}

int fb_alerts_list(fb_alerts *al, uint32_t tenant, const Feedback__V1__AlertQuery *q,
                   int64_t now_ms, Feedback__V1__AlertPage **out, fb_err *err)
{
    uint64_t before;
    int rc = check_query(q, err);
    if (!rc) rc = parse_token(q->page_token, &before, err);
    if (rc) return rc;
    size_t want = q->page_size ? q->page_size : 50;
    if (want > 500) want = 500;
    Feedback__V1__AlertPage *page = malloc(sizeof *page);
    Feedback__V1__AckStats *st = malloc(sizeof *st);
    if (page) feedback__v1__alert_page__init(page);
    if (st) feedback__v1__ack_stats__init(st);
    if (page) page->alerts = calloc(want, sizeof *page->alerts);
    if (!page || !st || !page->alerts) {
        free(st);
        if (page) feedback__v1__alert_page__free_unpacked(page, NULL);
        return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    }
    page->stats = st;
    MDB_txn *txn;
    if ((rc = fb_store_read_begin(al->st, &txn, err))) goto fail;
    page_scan ps = {q, page, want, false};
    uint64_t last = 0;
    bool at_end = true;
    rc = fb_alert_log_scan(&al->log, txn, tenant, 0, before, true, LIST_MAX_SCAN, page_collect, &ps, &last,
                           &at_end, err);
    if (!rc && ps.oom) rc = fb_err_set(err, FB_INTERNAL, "alerts: out of memory listing alerts");
    if (!rc && !before) rc = fill_stats(al, txn, tenant, q, now_ms, st, err);
    fb_store_read_end(al->st, txn);
    if (rc) goto fail;
    if (!at_end && last > 1) {
        char tok[32];
        snprintf(tok, sizeof tok, "s%" PRIu64, last);
        if (!fb_pb_set_str(&page->next_page_token, tok)) {
            rc = fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
            goto fail;
        }
    }
    *out = page;
    return FB_OK;
fail:
    feedback__v1__alert_page__free_unpacked(page, NULL);
    return rc;
}

/* ---- SLA escalation ------------------------------------------------------------------------ */

static void fmt_duration(char *buf, size_t cap, int64_t ms)
{
    if (ms % 3600000 == 0) snprintf(buf, cap, "%" PRId64 " h", ms / 3600000);
    else if (ms % 60000 == 0) snprintf(buf, cap, "%" PRId64 " min", ms / 60000);
    else if (ms % 1000 == 0) snprintf(buf, cap, "%" PRId64 " s", ms / 1000);
    else snprintf(buf, cap, "%" PRId64 " ms", ms);
}

static Feedback__V1__Alert *escalation_of(const Feedback__V1__Alert *o)
{
    /* a copy of the original, then the escalation's own fields */
    size_t len = feedback__v1__alert__get_packed_size(o);
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) return NULL;
    feedback__v1__alert__pack(o, buf);
    Feedback__V1__Alert *a = feedback__v1__alert__unpack(NULL, len, buf);
    free(buf);
    if (!a) return NULL;
    char dur[32], reason[600];
    fmt_duration(dur, sizeof dur, o->sla_due_ms - o->created_ms);
    snprintf(reason, sizeof reason, "%s alert %s not acknowledged within %s: %s",
             fb_severity_name((int)o->severity), o->id, dur, o->reason ? o->reason : "");
    a->seq = 0;
    a->kind = FEEDBACK__V1__ALERT__KIND__SLA_BREACH;
    a->kinds[0] = FEEDBACK__V1__ALERT__KIND__SLA_BREACH; /* n_kinds >= 1 for stored alerts */
    a->n_kinds = a->n_kinds ? 1 : 0;
    a->severity = fb_severity_up((int)o->severity);
    a->state = STATE(OPEN);
    a->acked_ms = a->resolved_ms = a->sla_due_ms = 0;
    a->occurrences = 1;
    /* the escalation points at the original instead of copying what the
     * customer wrote: erasing the respondent redacts one place */
    bool ok = fb_pb_set_str(&a->id, "") && fb_pb_set_str(&a->escalates_id, o->id) &&
              fb_pb_set_str(&a->excerpt, "") && fb_pb_set_str(&a->respondent_id, "") &&
              fb_pb_set_str(&a->reason, reason) && fb_pb_set_str(&a->acked_by, "") &&
              fb_pb_set_str(&a->resolved_by, "") && fb_pb_set_str(&a->note, "");
    if (!ok) {
        feedback__v1__alert__free_unpacked(a, NULL);
        return NULL;
    }
    return a;
}

typedef struct due_op {
    fb_alerts *al;
    fb_alert_due *due;
    size_t n;
    int64_t now;
    int raised;
} due_op;

static int escalate_one(due_op *op, fb_txn *txn, const fb_alert_due *d, fb_err *err)
{
    MDB_txn *mt = fb_txn_mdb(txn);
    Feedback__V1__Alert *o;
    fb_alert_due_del(&op->al->log, txn, d->tenant, d->due_ms, d->id);
    int rc = fb_alert_log_get(&op->al->log, mt, d->tenant, d->id, &o, err);
    if (rc == FB_NOT_FOUND) return FB_OK;
    if (rc) return rc;
    Feedback__V1__Alert *a = NULL;
    if (o->state == STATE(OPEN) && o->kind != FEEDBACK__V1__ALERT__KIND__SLA_BREACH && o->n_kinds)
        a = escalation_of(o);
    if (!a) {
        feedback__v1__alert__free_unpacked(o, NULL);
        return FB_OK; /* acknowledged meanwhile: nothing to raise */
    }
    a->created_ms = a->updated_ms = op->now;
    Feedback__V1__Settings *settings;
    if ((rc = fb_alerts_settings(op->al, mt, d->tenant, &settings, err))) goto out;
    fb_rules_view rules;
    fb_rules_view_of(settings, &rules);
    a->held = fb_alerts_is_held(op->al, &rules, a, o->excerpt, op->now);
    fb_alerts_settings_free(settings);
    rc = fb_alerts_append_publish(op->al, txn, d->tenant, a, err);
    a = NULL;
    if (!rc) op->raised++;
out:
    if (a) feedback__v1__alert__free_unpacked(a, NULL);
    feedback__v1__alert__free_unpacked(o, NULL);
    return rc;
}

static int due_write(fb_txn *txn, void *arg, fb_err *err)
{
    due_op *op = arg;
    op->raised = 0;
    for (size_t i = 0; i < op->n; i++) {
        int rc = escalate_one(op, txn, &op->due[i], err);
        if (rc) return rc;
    }
    return FB_OK;
}

int fb_alerts_tick_sla(fb_alerts *al, int64_t now, int *raised, fb_err *err)
{
    fb_alert_due due[DUE_BATCH];
    for (;;) {
        MDB_txn *txn;
        int rc = fb_store_read_begin(al->st, &txn, err);
        if (rc) return rc;
        size_t n = fb_alert_due_scan(&al->log, txn, now, due, DUE_BATCH);
        fb_store_read_end(al->st, txn);
        if (!n) return FB_OK;
        due_op op = {al, due, n, now, 0};
        if ((rc = fb_store_write(al->st, due_write, &op, err))) return rc;
        *raised += op.raised;
        if (n < DUE_BATCH) return FB_OK;
    }
}
