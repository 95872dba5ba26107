/* alert_nps.c — NPS_DROP: the last 7 days against the previous 28, per
 * (survey, segment), at most once a day; and fb_alerts_tick (SLA + NPS).
 *
 * Segments are the dashboards' (trends.h): all feedback, its channel, each
 * of its tags. A drop confined to one channel or one location is what staff
 * need to hear about, and it is diluted away in the survey's overall NPS.
 *
 * Design: the work is split so ingest pays almost nothing.
 * - The feedback hook (fb_alerts_nps_track, in the feedback's transaction)
 *   queues each of the feedback's segments for evaluation unless it is
 *   already queued (alert_log.h: one lookup per segment; two small writes
 *   the first time after an evaluation, so at most once a day per segment).
 *   No NPS query runs in the ingest path.
 * - The timer (tick_nps) takes the due queue entries in batches, asks the
 *   aggregates (opts.nps, the dashboards' counts) for both periods outside
 *   any transaction, then records the whole batch — evaluation day, and the
 *   alert when the drop is significant — in one write op.
 * So a segment is evaluated on the first tick after its first feedback of
 * the day (or, when it was already evaluated today, after midnight UTC);
 * one that gets no feedback is not evaluated again, so the daily cost
 * follows the segments that are active, not every segment ever seen.
 * The test is the dashboards' (nps.h: adjusted Wald, two-sided z-test at
 * 95%): a drop is an alert when it is significant, the NPS went down, and
 * both periods have at least the tenant's min_sample answers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_internal.h"
#include "nps.h"
#include "trends.h"

#define DAY_MS 86400000LL
#define NPS_BATCH 64          /* queue entries per write op */
#define NPS_ROUNDS 4          /* batches per tick at most (the rest waits a tick) */
#define MAX_TAGS 64

/* ---- the hook side -------------------------------------------------------------- */

int fb_alerts_nps_track(fb_alerts *al, fb_txn *txn, uint32_t tenant, const Feedback__V1__Feedback *fb,
                        int64_t now, fb_err *err)
{
    const char *survey = fb->survey_id;
    if (!al->opts.nps || !survey || !*survey || strlen(survey) > 64 || fb->n_tags > MAX_TAGS) return FB_OK;
    fb_seg segs[2 + MAX_TAGS];
    size_t n = fb_seg_of_feedback(fb, segs);
    unsigned char key[FB_SEG_PREFIX_MAX];
    for (size_t i = 0; i < n; i++) {
        size_t len = fb_seg_prefix(key, tenant, FB_ALERT_NPS_TAG, survey, &segs[i]);
        int rc = fb_alert_nps_mark(&al->log, txn, key, len, now / DAY_MS, err);
        if (rc) return rc;
    }
    return FB_OK;
}

static int migrate_write(fb_txn *txn, void *arg, fb_err *err)
{
    fb_alerts *al = arg;
    return fb_alert_nps_migrate(&al->log, txn, err);
}

int fb_alerts_nps_migrate(fb_alerts *al, fb_err *err)
{
    MDB_txn *txn;
    int rc = fb_store_read_begin(al->st, &txn, err);
    if (rc) return rc;
    bool needed = fb_alert_nps_needs_migration(&al->log, txn);
    fb_store_read_end(al->st, txn);
    return needed ? fb_store_write(al->st, migrate_write, al, err) : FB_OK;
}

/* ---- evaluation ----------------------------------------------------------------- */

/* One queue entry, decoded, and the outcome of its evaluation. */
typedef struct nps_subject {
    uint32_t tenant;
    char type;                 /* 'a', 'c', 't'; 0: not a subject (dropped) */
    char survey[65];
    char key[FB_SEG_KEY_MAX + 1], value[FB_SEG_VAL_MAX + 1];
    bool drop;
    double before, after, z;
} nps_subject;

typedef struct nps_batch {
    fb_alert_nps_due due[NPS_BATCH];
    nps_subject s[NPS_BATCH];
} nps_batch;

/* What the evaluation needs of a tenant's settings. */
typedef struct tenant_info {
    uint32_t tenant;
    bool known, enabled;
    uint32_t min_sample;
    char zone[130];
} tenant_info;

static void tenant_info_of(fb_alerts *al, uint32_t tenant, tenant_info *ti)
{
    if (ti->known && ti->tenant == tenant) return;
    MDB_txn *txn;
    Feedback__V1__Settings *s = NULL;
    fb_rules_view rules;
    ti->tenant = tenant, ti->known = true, ti->enabled = true, ti->min_sample = 30;
    snprintf(ti->zone, sizeof ti->zone, "UTC");
    if (fb_store_read_begin(al->st, &txn, NULL) != FB_OK) return;
    if (fb_alerts_settings(al, txn, tenant, &s, NULL) == FB_OK) {
        fb_rules_view_of(s, &rules);
        ti->enabled = rules.nps_drop;
        if (s && s->min_sample) ti->min_sample = s->min_sample;
        if (s && s->timezone && *s->timezone) snprintf(ti->zone, sizeof ti->zone, "%s", s->timezone);
    }
    fb_store_read_end(al->st, txn);
    fb_alerts_settings_free(s);
}

static void decode(const fb_alert_nps_due *d, nps_subject *s)
{
    fb_seg seg;
    memset(s, 0, sizeof *s);
    if (fb_seg_parse(d->subject, d->len, FB_ALERT_NPS_TAG, &s->tenant, s->survey, &seg) != d->len) return;
    s->type = seg.type;
    memcpy(s->key, seg.key ? seg.key : "", seg.klen);
    memcpy(s->value, seg.val ? seg.val : "", seg.vlen);
}

static int evaluate(fb_alerts *al, nps_subject *s, const tenant_info *ti, int64_t now, fb_err *err)
{
    fb_nps_counts recent = {0}, prior = {0};
    fb_nps_segment seg = {0};
    if (s->type == 'c') seg.channel = s->value;
    if (s->type == 't') seg.tag_key = s->key, seg.tag_value = s->value;
    int rc = al->opts.nps(al->opts.nps_ctx, s->tenant, ti->zone, s->survey, &seg, now - 7 * DAY_MS, now,
                          &recent, err);
    if (!rc) rc = al->opts.nps(al->opts.nps_ctx, s->tenant, ti->zone, s->survey, &seg, now - 35 * DAY_MS,
                               now - 7 * DAY_MS, &prior, err);
    if (rc) return rc;
    if (recent.n < ti->min_sample || prior.n < ti->min_sample) return FB_OK;
    fb_nps cur, prev;
    fb_nps_change ch;
    fb_nps_compute(recent.promoters, recent.n - recent.promoters - recent.detractors, recent.detractors, &cur);
    fb_nps_compute(prior.promoters, prior.n - prior.promoters - prior.detractors, prior.detractors, &prev);
    fb_nps_compare(&cur, &prev, &ch);
    s->before = prev.nps, s->after = cur.nps, s->z = ch.z;
    s->drop = ch.significant && ch.change < 0;
    return FB_OK;
}

/* ", channel email," / ", tag location=paris," / "" */
static void segment_words(const nps_subject *s, char *out, size_t cap)
{
    if (s->type == 'c') snprintf(out, cap, ", channel %s,", s->value);
    else if (s->type == 't') snprintf(out, cap, ", tag %s=%s,", s->key, s->value);
    else out[0] = 0;
}

static bool set_segment(Feedback__V1__Alert *a, const nps_subject *s)
{
    if (s->type == 'c') return fb_pb_set_str(&a->channel, s->value);
    if (s->type != 't') return true;
    Feedback__V1__Alert__TagsEntry *e = malloc(sizeof *e);
    if (!e || !(a->tags = malloc(sizeof *a->tags))) {
        free(e);
        return false;
    }
    feedback__v1__alert__tags_entry__init(e);
    a->tags[a->n_tags++] = e;
    return fb_pb_set_str(&e->key, s->key) && fb_pb_set_str(&e->value, s->value);
}

static Feedback__V1__Alert *drop_alert(const nps_subject *s, int64_t now, int64_t sla_ms)
{
    Feedback__V1__Alert *a = malloc(sizeof *a);
    if (!a) return NULL;
    feedback__v1__alert__init(a);
    char reason[512], words[256];
    segment_words(s, words, sizeof words);
    snprintf(reason, sizeof reason,
             "NPS for survey %s%s fell from %.0f over the previous 28 days to %.0f over the last 7 days "
             "(significant at 95%%, z = %.2f).", s->survey, words, s->before, s->after, s->z);
    a->kind = FEEDBACK__V1__ALERT__KIND__NPS_DROP;
    a->severity = FEEDBACK__V1__SEVERITY__HIGH;
    a->created_ms = a->updated_ms = now;
    a->sla_due_ms = sla_ms > 0 ? now + sla_ms : 0;
    a->state = FEEDBACK__V1__ALERT_STATE__OPEN;
    a->occurrences = 1;
    a->kinds = malloc(sizeof *a->kinds);
    if (!a->kinds || !fb_pb_set_str(&a->survey_id, s->survey) || !fb_pb_set_str(&a->reason, reason) ||
        !set_segment(a, s)) {
        feedback__v1__alert__free_unpacked(a, NULL);
        return NULL;
    }
    a->kinds[0] = FEEDBACK__V1__ALERT__KIND__NPS_DROP;
    a->n_kinds = 1;
    return a;
}

typedef struct nps_op {
    fb_alerts *al;
    nps_batch *b;
    size_t n;
    int64_t now;
    int raised;
} nps_op;

static int raise_drop(fb_alerts *al, fb_txn *txn, const nps_subject *s, int64_t now, fb_err *err)
{
    Feedback__V1__Settings *settings;
    int rc = fb_alerts_settings(al, fb_txn_mdb(txn), s->tenant, &settings, err);
    if (rc) return rc;
    fb_rules_view rules;
    fb_rules_view_of(settings, &rules);
    Feedback__V1__Alert *a = drop_alert(s, now, rules.sla_ms);
    if (!a) rc = fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    else {
        a->held = fb_alerts_is_held(al, &rules, a, "", now);
        rc = fb_alert_log_append(&al->log, txn, s->tenant, a, err);
        if (!rc && a->sla_due_ms) rc = fb_alert_due_put(&al->log, txn, s->tenant, a->sla_due_ms, a->id, err);
        if (!rc) rc = fb_alerts_publish_after_commit(al, txn, s->tenant, a, err);
        else feedback__v1__alert__free_unpacked(a, NULL);
    }
    fb_alerts_settings_free(settings);
    return rc;
}

static int nps_write(fb_txn *txn, void *arg, fb_err *err)
{
    nps_op *op = arg;
    op->raised = 0; /* the store may run an op again after a rollback */
    for (size_t i = 0; i < op->n; i++) {
        bool evaluate;
        int rc = fb_alert_nps_done(&op->al->log, txn, &op->b->due[i], op->now / DAY_MS, &evaluate, err);
        if (rc) return rc;
        if (!evaluate || !op->b->s[i].drop) continue;
        if ((rc = raise_drop(op->al, txn, &op->b->s[i], op->now, err))) return rc;
        op->raised++;
    }
    return FB_OK;
}

/* One batch of due subjects: evaluate, then record. Sets *n to the number taken. */
static int nps_round(fb_alerts *al, nps_batch *b, int64_t now, size_t *n, int *raised, fb_err *err)
{
    MDB_txn *txn;
    int rc = fb_store_read_begin(al->st, &txn, err);
    if (rc) return rc;
    *n = fb_alert_nps_due_scan(&al->log, txn, now / DAY_MS, b->due, NPS_BATCH);
    fb_store_read_end(al->st, txn);
    tenant_info ti = {0};
    for (size_t i = 0; i < *n; i++) {
        nps_subject *s = &b->s[i];
        decode(&b->due[i], s);
        if (!s->type) continue; /* not ours: dropped from the queue below */
        tenant_info_of(al, s->tenant, &ti);
        if (!ti.enabled) continue;
        rc = evaluate(al, s, &ti, now, err);
        if (rc == FB_INVALID) s->drop = false, rc = FB_OK; /* a segment the aggregates cannot answer */
        if (rc) return rc;                                  /* left queued: retried next tick */
    }
    if (*n == 0) return FB_OK;
    nps_op op = {al, b, *n, now, 0};
    rc = fb_store_write(al->st, nps_write, &op, err);
    if (!rc) *raised += op.raised;
    return rc;
}

static int tick_nps(fb_alerts *al, int64_t now, int *raised, fb_err *err)
{
    if (!al->opts.nps) return FB_OK;
    nps_batch *b = malloc(sizeof *b);
    if (!b) return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    int rc = FB_OK;
    size_t n = NPS_BATCH;
    for (int round = 0; round < NPS_ROUNDS && n == NPS_BATCH && !rc; round++)
        rc = nps_round(al, b, now, &n, raised, err);
    free(b);
    return rc;
}

int fb_alerts_tick(fb_alerts *al, int64_t now_ms, int *raised, fb_err *err)
{
    int n = 0;
    int rc = fb_alerts_tick_sla(al, now_ms, &n, err);
    if (!rc) rc = tick_nps(al, now_ms, &n, err);
    if (raised) *raised = n;
    return rc;
}
