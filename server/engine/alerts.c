/* alerts.c — the alerts module: lifecycle, the feedback hook, publishing,
 * subscriptions and the replay pump.
 *
 * Design: everything that creates or changes an alert happens in a store
 * write transaction (the feedback's own for rules, a dedicated op for SLA
 * escalations, NPS drops and acks), so the alert log is exactly as durable as
 * the feedback. Publishing to live subscribers is an after-commit action on
 * the writer thread: subscribers never see an alert that could still be
 * rolled back, and they see them in seq order (one writer thread).
 *
 * The replay pump is one thread serving every subscriber that is catching
 * up: it reads at most replay_chunk alerts (and never more than keeps the
 * subscriber's queue half full) per turn in a short read transaction, hands
 * them to the hub, and moves on to the next subscriber, so a long replay
 * never holds a worker thread or a transaction for long, and a subscriber
 * that does not read only stalls itself.
 *
 * Ack/list/SLA/NPS live in alert_ops.c; pure rule logic in alert_rules.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_internal.h"

#define SEV(s) FEEDBACK__V1__SEVERITY__##s
#define EXCERPT_BYTES 240

/* ---- protobuf-c helpers ---------------------------------------------------------- */

bool fb_pb_set_str(char **field, const char *v)
{
    char *d = strdup(v ? v : "");
    if (!d) return false;
    if (*field && *field != protobuf_c_empty_string) free(*field);
    *field = d;
    return true;
}

bool fb_pb_push_str(char ***arr, size_t *n, const char *v)
{
    char **na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na) return false;
    *arr = na;
    if (!(na[*n] = strdup(v))) return false;
    (*n)++;
    return true;
}

/* ---- settings ---------------------------------------------------------------------- */

int fb_alerts_settings(fb_alerts *a, MDB_txn *txn, uint32_t tenant,
                       Feedback__V1__Settings **out, fb_err *err)
{
    *out = NULL;
    if (!a->opts.settings) return FB_OK;
    return a->opts.settings(a->opts.settings_ctx, txn, tenant, out, err);
}

void fb_alerts_settings_free(Feedback__V1__Settings *s)
{
    if (s) feedback__v1__settings__free_unpacked(s, NULL);
}

int fb_alerts_local_minute(fb_alerts *al, const char *zone, int64_t now_ms)
{
    const fb_tz *tz;
    if (al->tz && fb_tzcache_get(al->tz, zone, &tz, NULL) == FB_OK) {
        int64_t local_min = (now_ms + (int64_t)fb_tz_offset(tz, now_ms) * 1000) / 60000;
        return (int)(((local_min % 1440) + 1440) % 1440);
    }
    return fb_local_minute(zone, now_ms);
}

bool fb_alerts_is_held(fb_alerts *al, const fb_rules_view *rules, const Feedback__V1__Alert *a,
                       const char *text, int64_t now_ms)
{
    return fb_alert_quiet(rules, (int)a->severity, fb_alerts_local_minute(al, rules->timezone, now_ms)) ||
           fb_alert_silenced(rules, a, text, al->stem, now_ms);
}

/* ---- publishing --------------------------------------------------------------------- */

typedef struct publish_arg {
    fb_alerts *al;
    uint32_t tenant;
    Feedback__V1__Alert *a;
} publish_arg;

static void publish_free(void *p)
{
    publish_arg *pa = p;
    feedback__v1__alert__free_unpacked(pa->a, NULL);
    free(pa);
}

static void publish_run(void *p)
{
    publish_arg *pa = p;
    fb_hub_post(pa->al->hub, pa->tenant, pa->a); /* the hub owns the alert now */
    free(pa);
}

int fb_alerts_publish_after_commit(fb_alerts *al, fb_txn *txn, uint32_t tenant, Feedback__V1__Alert *a,
                            fb_err *err)
{
    publish_arg *pa = malloc(sizeof *pa);
    if (!pa) {
        feedback__v1__alert__free_unpacked(a, NULL);
        return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    }
    pa->al = al, pa->tenant = tenant, pa->a = a;
    int rc = fb_txn_after_commit(txn, publish_run, publish_free, pa);
    if (rc) /* pa was freed by the store */
        return fb_err_set(err, rc, "alerts: cannot schedule publication");
    return FB_OK;
}

int fb_alerts_append_publish(fb_alerts *al, fb_txn *txn, uint32_t tenant,
                             Feedback__V1__Alert *a, fb_err *err)
{
    int rc = fb_alert_log_append(&al->log, txn, tenant, a, err);
    if (rc) {
        feedback__v1__alert__free_unpacked(a, NULL);
        return rc;
    }
    return fb_alerts_publish_after_commit(al, txn, tenant, a, err);
}

/* ---- building alerts from feedback -------------------------------------------------- */

static char *excerpt_of(const char *text)
{
    size_t n = strlen(text);
    if (n <= EXCERPT_BYTES) return strdup(text);
    size_t cut = EXCERPT_BYTES;
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--; /* UTF-8 boundary */
    char *s = malloc(cut + 4);
    if (!s) return NULL;
    memcpy(s, text, cut);
    memcpy(s + cut, "\xE2\x80\xA6", 4); /* … */
    return s;
}

static Feedback__V1__Sentiment *sentiment_copy(const Feedback__V1__Sentiment *src)
{
    Feedback__V1__Sentiment *s = malloc(sizeof *s);
    if (!s) return NULL;
    feedback__v1__sentiment__init(s);
    if (src) {
        s->compound = src->compound, s->label = src->label;
        s->positive = src->positive, s->negative = src->negative, s->neutral = src->neutral;
        if (src->language && *src->language && !fb_pb_set_str(&s->language, src->language)) {
            free(s);
            return NULL;
        }
    }
    return s;
}

static bool copy_tags(Feedback__V1__Alert *a, const Feedback__V1__Feedback *fb)
{
    if (!fb->n_tags) return true;
    if (!(a->tags = calloc(fb->n_tags, sizeof *a->tags))) return false;
    for (size_t i = 0; i < fb->n_tags; i++) {
        Feedback__V1__Alert__TagsEntry *e = malloc(sizeof *e);
        if (!e) return false;
        feedback__v1__alert__tags_entry__init(e);
        a->tags[a->n_tags++] = e;
        if (!fb_pb_set_str(&e->key, fb->tags[i]->key) || !fb_pb_set_str(&e->value, fb->tags[i]->value))
            return false;
    }
    return true;
}

/* Fills the parts of an alert that come from the feedback's latest state. */
static bool set_from_eval(Feedback__V1__Alert *a, const fb_alert_eval *e, const Feedback__V1__Feedback *fb,
                          const char *text)
{
    a->kind = e->kind;
    a->severity = e->severity;
    free(a->kinds);
    a->kinds = NULL, a->n_kinds = 0;
    for (int k = 1; k <= FEEDBACK__V1__ALERT__KIND__SLA_BREACH; k++) {
        if (!(e->kinds >> k & 1u)) continue;
        Feedback__V1__Alert__Kind *nk = realloc(a->kinds, (a->n_kinds + 1) * sizeof *nk);
        if (!nk) return false;
        a->kinds = nk;
        a->kinds[a->n_kinds++] = k;
    }
    for (size_t i = 0; i < a->n_matched; i++) free(a->matched[i]);
    free(a->matched);
    a->matched = NULL, a->n_matched = 0;
    for (size_t i = 0; i < e->n_matched; i++)
        if (!fb_pb_push_str(&a->matched, &a->n_matched, e->matched[i])) return false;
    char *ex = excerpt_of(text);
    if (!ex) return false;
    if (a->excerpt && a->excerpt != protobuf_c_empty_string) free(a->excerpt);
    a->excerpt = ex;
    if (a->sentiment) feedback__v1__sentiment__free_unpacked(a->sentiment, NULL);
    if (!(a->sentiment = sentiment_copy(fb->sentiment))) return false;
    return fb_pb_set_str(&a->reason, e->reason);
}

static Feedback__V1__Alert *alert_from_feedback(const Feedback__V1__Feedback *fb, const fb_alert_eval *e,
                                                const char *text, int64_t now, int64_t sla_ms)
{
    Feedback__V1__Alert *a = malloc(sizeof *a);
    if (!a) return NULL;
    feedback__v1__alert__init(a);
    a->created_ms = a->updated_ms = now;
    a->state = FEEDBACK__V1__ALERT_STATE__OPEN;
    a->occurrences = 1;
    a->sla_due_ms = sla_ms > 0 ? now + sla_ms : 0;
    if (fb->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW) a->rating = fb->rating;
    else a->score_present_case = FEEDBACK__V1__ALERT__SCORE_PRESENT_SCORE, a->score = fb->score;
    bool ok = set_from_eval(a, e, fb, text) && fb_pb_set_str(&a->feedback_id, fb->id) &&
              fb_pb_set_str(&a->survey_id, fb->survey_id) &&
              fb_pb_set_str(&a->respondent_id, fb->respondent_id) &&
              fb_pb_set_str(&a->channel, fb->channel) && copy_tags(a, fb) &&
              fb_pb_push_str(&a->feedback_ids, &a->n_feedback_ids, fb->id ? fb->id : "");
    if (!ok) {
        feedback__v1__alert__free_unpacked(a, NULL);
        return NULL;
    }
    return a;
}

/* Joins repeat feedback into the respondent's alert. Returns true if joined. */
static bool join_alert(Feedback__V1__Alert *a, const fb_alert_eval *e, const Feedback__V1__Feedback *fb,
                       const char *text, int64_t now, bool *oom)
{
    fb_alert_eval merged = *e;
    for (size_t i = 0; i < a->n_kinds; i++) merged.kinds |= 1u << a->kinds[i];
    if ((int)a->severity > e->severity) { /* keep the stronger headline */
        merged.severity = a->severity;
        merged.kind = a->kind;
        snprintf(merged.reason, sizeof merged.reason, "%s", a->reason);
    }
    a->occurrences++;
    a->updated_ms = now;
    *oom = !set_from_eval(a, &merged, fb, text) ||
           !fb_pb_push_str(&a->feedback_ids, &a->n_feedback_ids, fb->id ? fb->id : "");
    return !*oom;
}

/* The respondent's joinable alert (unresolved, from a feedback rule, created
 * within the window), or NULL. */
static Feedback__V1__Alert *joinable(fb_alerts *al, MDB_txn *mt, uint32_t tenant,
                                     const char *respondent, int64_t now, int64_t window)
{
    char id[64];
    Feedback__V1__Alert *a = NULL;
    if (!respondent || !*respondent) return NULL;
    if (fb_alert_resp_get(&al->log, mt, tenant, respondent, id, sizeof id) != FB_OK) return NULL;
    if (fb_alert_log_get(&al->log, mt, tenant, id, &a, NULL) != FB_OK) return NULL;
    bool ok = a->state != FEEDBACK__V1__ALERT_STATE__RESOLVED && now - a->created_ms <= window &&
              a->kind != FEEDBACK__V1__ALERT__KIND__SLA_BREACH && a->kind != FEEDBACK__V1__ALERT__KIND__NPS_DROP;
    if (!ok) {
        feedback__v1__alert__free_unpacked(a, NULL);
        return NULL;
    }
    return a;
}

/* Adds id to the feedback's alert_ids unless there already (the store may
 * run an op twice: see store.h). */
static int note_alert_id(Feedback__V1__Feedback *fb, const char *id, fb_err *err)
{
    for (size_t i = 0; i < fb->n_alert_ids; i++)
        if (strcmp(fb->alert_ids[i], id) == 0) return FB_OK;
    if (!fb_pb_push_str(&fb->alert_ids, &fb->n_alert_ids, id))
        return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    return FB_OK;
}

static int on_insert(fb_alerts *al, fb_txn *txn, const fb_feedback_event *ev, fb_err *err)
{
    MDB_txn *mt = fb_txn_mdb(txn);
    Feedback__V1__Feedback *fb = ev->fb;
    fb_alerts_held_settings settings;
    fb_rules_view rules;
    fb_alert_eval e;
    int rc = fb_alerts_settings_hold(al, mt, ev->tenant_id, &settings, err);
    if (rc) return rc;
    fb_rules_view_of(settings.settings, &rules);
    char *text = fb_alert_text(fb);
    if (!text) { rc = fb_err_set(err, FB_INTERNAL, "alerts: out of memory"); goto out; }
    if (rules.nps_drop && (rc = fb_alerts_nps_track(al, txn, ev->tenant_id, fb, ev->now_ms, err))) goto out;
    if ((rc = fb_alert_rules_eval(fb, text, &rules, al->stem, &e, err)) || !e.kinds) goto out;
    bool oom = false, joined = false;
    Feedback__V1__Alert *a = joinable(al, mt, ev->tenant_id, fb->respondent_id, ev->now_ms, rules.repeat_window_ms);
    if (a) joined = join_alert(a, &e, fb, text, ev->now_ms, &oom);
    else if (!(a = alert_from_feedback(fb, &e, text, ev->now_ms, rules.sla_ms))) oom = true;
    fb_alert_eval_free(&e);
    if (oom) {
        if (a) feedback__v1__alert__free_unpacked(a, NULL);
        rc = fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
        goto out;
    }
    a->held = fb_alerts_is_held(al, &rules, a, text, ev->now_ms);
    if ((rc = fb_alert_log_append(&al->log, txn, ev->tenant_id, a, err)) ||
        (rc = note_alert_id(fb, a->id, err)) ||
        (!joined && a->sla_due_ms && (rc = fb_alert_due_put(&al->log, txn, ev->tenant_id, a->sla_due_ms, a->id, err))) ||
        (!joined && fb->respondent_id && *fb->respondent_id &&
         (rc = fb_alert_resp_put(&al->log, txn, ev->tenant_id, fb->respondent_id, a->id, err)))) {
        feedback__v1__alert__free_unpacked(a, NULL);
        goto out;
    }
    rc = fb_alerts_publish_after_commit(al, txn, ev->tenant_id, a, err);
out:
    free(text);
    fb_alerts_settings_drop(&settings);
    return rc;
}

/* Erasure: keep the alerts, remove what the person wrote. */
static int on_erase(fb_alerts *al, fb_txn *txn, const fb_feedback_event *ev, fb_err *err)
{
    MDB_txn *mt = fb_txn_mdb(txn);
    const Feedback__V1__Feedback *fb = ev->fb;
    if (fb->respondent_id && *fb->respondent_id)
        fb_alert_resp_del(&al->log, txn, ev->tenant_id, fb->respondent_id);
    for (size_t i = 0; i < fb->n_alert_ids; i++) {
        Feedback__V1__Alert *a;
        int rc = fb_alert_log_get(&al->log, mt, ev->tenant_id, fb->alert_ids[i], &a, err);
        if (rc == FB_NOT_FOUND) continue;
        if (rc) return rc;
        /* a joined alert holds several of the person's feedback: count it once */
        bool fresh = (a->excerpt && *a->excerpt) || (a->respondent_id && *a->respondent_id);
        bool ok = fb_pb_set_str(&a->excerpt, "") && fb_pb_set_str(&a->respondent_id, "");
        rc = !fresh ? FB_OK
           : ok ? fb_alert_log_put(&al->log, txn, ev->tenant_id, a, err)
                : fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
        feedback__v1__alert__free_unpacked(a, NULL);
        if (rc) return rc;
        if (fresh && ev->erase) ev->erase->alerts_redacted++;
    }
    return FB_OK;
}

int fb_alerts_feedback_hook(fb_txn *txn, const fb_feedback_event *ev, void *ctx, fb_err *err)
{
    fb_alerts *al = ctx;
    return ev->sign > 0 ? on_insert(al, txn, ev, err) : on_erase(al, txn, ev, err);
}
