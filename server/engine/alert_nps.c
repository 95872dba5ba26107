/* alert_nps.c — NPS_DROP: the last 7 days against the previous 28, once a
 * day per survey, and fb_alerts_tick (SLA + NPS).
 *
 * Design: the hook records every survey it sees once (alert_nps table, day
 * = yesterday, so it is due today). The timer picks the surveys not yet
 * evaluated today, asks the aggregates (opts.nps, the dashboards' counts) for
 * both periods outside any transaction, and records the day — with the alert
 * if the drop is significant — in one write op. The test is the dashboards'
 * (nps.h: adjusted Wald, two-sided z-test at 95%): a drop is an alert when
 * it is significant, the NPS went down, and both periods have at least the
 * tenant's min_sample answers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_internal.h"
#include "nps.h"

#define DAY_MS 86400000LL
#define NPS_BATCH 64

typedef struct nps_result {
    bool drop;
    double before, after, z;
} nps_result;

static int evaluate(fb_alerts *al, uint32_t tenant, const char *survey, const char *zone,
                    int64_t now, uint32_t min_sample, nps_result *r, fb_err *err)
{
    fb_nps_counts recent = {0}, prior = {0};
    int rc = al->opts.nps(al->opts.nps_ctx, tenant, zone, survey, now - 7 * DAY_MS, now, &recent, err);
    if (!rc) rc = al->opts.nps(al->opts.nps_ctx, tenant, zone, survey, now - 35 * DAY_MS, now - 7 * DAY_MS,
                               &prior, err);
    if (rc) return rc;
    memset(r, 0, sizeof *r);
    if (recent.n < min_sample || prior.n < min_sample) return FB_OK;
    fb_nps cur, prev;
    fb_nps_change ch;
    fb_nps_compute(recent.promoters, recent.n - recent.promoters - recent.detractors, recent.detractors, &cur);
    fb_nps_compute(prior.promoters, prior.n - prior.promoters - prior.detractors, prior.detractors, &prev);
    fb_nps_compare(&cur, &prev, &ch);
    r->before = prev.nps, r->after = cur.nps, r->z = ch.z;
    r->drop = ch.significant && ch.change < 0;
    return FB_OK;
}

typedef struct nps_op {
    fb_alerts *al;
    uint32_t tenant;
    const char *survey;
    int64_t now;
    const nps_result *r;
    int raised;
} nps_op;

static Feedback__V1__Alert *drop_alert(const nps_op *op, int64_t sla_ms)
{
    Feedback__V1__Alert *a = malloc(sizeof *a);
    if (!a) return NULL;
    feedback__v1__alert__init(a);
    char reason[256];
    snprintf(reason, sizeof reason,
             "NPS for survey %s fell from %.0f over the previous 28 days to %.0f over the last 7 days "
             "(significant at 95%%, z = %.2f).", op->survey, op->r->before, op->r->after, op->r->z);
    a->kind = FEEDBACK__V1__ALERT__KIND__NPS_DROP;
    a->severity = FEEDBACK__V1__SEVERITY__HIGH;
    a->created_ms = a->updated_ms = op->now;
    a->sla_due_ms = sla_ms > 0 ? op->now + sla_ms : 0;
    a->state = FEEDBACK__V1__ALERT_STATE__OPEN;
    a->occurrences = 1;
    a->kinds = malloc(sizeof *a->kinds);
    if (!a->kinds || !fb_pb_set_str(&a->survey_id, op->survey) || !fb_pb_set_str(&a->reason, reason)) {
        feedback__v1__alert__free_unpacked(a, NULL);
        return NULL;
    }
    a->kinds[0] = FEEDBACK__V1__ALERT__KIND__NPS_DROP;
    a->n_kinds = 1;
    return a;
}

static int nps_write(fb_txn *txn, void *arg, fb_err *err)
{
    nps_op *op = arg;
    MDB_txn *mt = fb_txn_mdb(txn);
    int64_t day = op->now / DAY_MS;
    op->raised = 0;
    if (fb_alert_nps_day(&op->al->log, mt, op->tenant, op->survey) >= day) return FB_OK; /* raced */
    int rc = fb_alert_nps_set_day(&op->al->log, txn, op->tenant, op->survey, day, err);
    if (rc || !op->r->drop) return rc;
    Feedback__V1__Settings *settings;
    if ((rc = fb_alerts_settings(op->al, mt, op->tenant, &settings, err))) return rc;
    fb_rules_view rules;
    fb_rules_view_of(settings, &rules);
    Feedback__V1__Alert *a = drop_alert(op, rules.sla_ms);
    if (!a) rc = fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    else {
        a->held = fb_alerts_is_held(op->al, &rules, a, "", op->now);
        rc = fb_alert_log_append(&op->al->log, txn, op->tenant, a, err);
        if (!rc && a->sla_due_ms) rc = fb_alert_due_put(&op->al->log, txn, op->tenant, a->sla_due_ms, a->id, err);
        if (!rc) {
            rc = fb_alerts_publish_after_commit(op->al, txn, op->tenant, a, err);
            a = NULL;
            if (!rc) op->raised = 1;
        }
        if (a) feedback__v1__alert__free_unpacked(a, NULL);
    }
    fb_alerts_settings_free(settings);
    return rc;
}

/* The tenant's zone (copied into zone) and minimum sample. */
static uint32_t zone_and_min_sample(fb_alerts *al, uint32_t tenant, char *zone, size_t cap)
{
    MDB_txn *txn;
    Feedback__V1__Settings *s = NULL;
    uint32_t v = 30;
    snprintf(zone, cap, "UTC");
    if (fb_store_read_begin(al->st, &txn, NULL) != FB_OK) return v;
    if (fb_alerts_settings(al, txn, tenant, &s, NULL) == FB_OK && s) {
        if (s->min_sample) v = s->min_sample;
        if (s->timezone && *s->timezone) snprintf(zone, cap, "%s", s->timezone);
    }
    fb_store_read_end(al->st, txn);
    fb_alerts_settings_free(s);
    return v;
}

static int tick_nps(fb_alerts *al, int64_t now, int *raised, fb_err *err)
{
    if (!al->opts.nps) return FB_OK;
    uint32_t tenants[NPS_BATCH];
    char surveys[NPS_BATCH][65];
    MDB_txn *txn;
    int rc = fb_store_read_begin(al->st, &txn, err);
    if (rc) return rc;
    size_t n = fb_alert_nps_due(&al->log, txn, now / DAY_MS, tenants, surveys, NPS_BATCH);
    fb_store_read_end(al->st, txn);
    for (size_t i = 0; i < n; i++) {
        nps_result r;
        char zone[130];
        uint32_t min_sample = zone_and_min_sample(al, tenants[i], zone, sizeof zone);
        if ((rc = evaluate(al, tenants[i], surveys[i], zone, now, min_sample, &r, err))) return rc;
        nps_op op = {al, tenants[i], surveys[i], now, &r, 0};
        if ((rc = fb_store_write(al->st, nps_write, &op, err))) return rc;
        *raised += op.raised;
    }
    return FB_OK;
}

int fb_alerts_tick(fb_alerts *al, int64_t now_ms, int *raised, fb_err *err)
{
    int n = 0;
    int rc = fb_alerts_tick_sla(al, now_ms, &n, err);
    if (!rc) rc = tick_nps(al, now_ms, &n, err);
    if (raised) *raised = n;
    return rc;
}
