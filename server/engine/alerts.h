/* alerts.h — staff alerts: rules, the durable alert log, acknowledgement,
 * SLA escalation, NPS drops and live subscribers.
 *
 * Contract
 * - Rules are evaluated in the feedback hook (fb_alerts_feedback_hook), inside
 *   the feedback's write transaction: the alert is in the log when the
 *   Submit reply goes out, so a crash cannot lose it. One feedback raises at
 *   most ONE alert: kind = the strongest rule, kinds = every rule matched,
 *   reason = one sentence naming them (see alert_rules.h).
 * - seq is per tenant and strictly increasing, across restarts. An alert is
 *   stored once, at its latest seq. Repeat feedback from the same respondent
 *   within repeat_window_ms joins their unresolved alert (occurrences++,
 *   feedback_ids appended): the alert is re-sequenced (new seq) and published
 *   again, so subscribers see the update and a resuming client gets it once.
 *   Ack and erasure redaction change an alert in place (same seq) and are not
 *   published: they are visible through ListAlerts and later replays.
 * - Held alerts (silence or quiet hours at creation/update time) are stored
 *   and listed with held = true, and not streamed — neither live nor on
 *   replay — unless the subscriber asked include_held. So a stream's content
 *   never depends on when it connected.
 * - SLA: an OPEN alert not acknowledged by created_ms + sla_ms raises one
 *   SLA_BREACH alert, one severity higher, escalates_id = the original
 *   (once per alert; escalations do not escalate). fb_alerts_tick does it
 *   for an explicit "now"; the module's timer thread calls it every
 *   timer_ms with the wall clock.
 * - NPS_DROP: per (survey, segment), segments as the dashboards keep them
 *   (all feedback, each channel, each tag key=value): the last 7 days' NPS
 *   is compared with the previous 28 days' (two-sided z-test at 95%, both
 *   periods with at least min_sample answers); a significant drop raises a
 *   HIGH alert naming the segment (channel in `channel`, a tag as the one
 *   entry of `tags`, neither for all feedback; the reason says which). A
 *   segment is evaluated only after feedback in it arrived since its last
 *   evaluation, and at most once per UTC day: the hook queues the segments
 *   of each feedback (a lookup each once queued), the timer evaluates the
 *   queue outside the feedback's transaction. Needs opts.nps; without it
 *   the rule is not evaluated.
 * - Subscribe: fb_alerts_subscribe registers with the hub first, then the
 *   module's replay pump streams the stored alerts after after_seq in chunks
 *   that keep the subscriber's queue at most half full, then switches it to
 *   live (see hub.h). No loss, no duplicates, in seq order.
 */
#ifndef FB_ALERTS_H
#define FB_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "error.h"
#include "feedback.h"
#include "hub.h"
#include "store.h"
#include "feedback/v1/admin.pb-c.h"
#include "feedback/v1/alerts.pb-c.h"

typedef struct fb_alerts fb_alerts;

/* The tenant's settings, read in txn (the write transaction when called
 * from the hook). *out is freed with feedback__v1__settings__free_unpacked;
 * *out = NULL means "all defaults". */
typedef int (*fb_alerts_settings_fn)(void *ctx, MDB_txn *txn, uint32_t tenant,
                                     Feedback__V1__Settings **out, fb_err *err);

/* Counts of answers of a survey, in one segment, in [from_ms, to_ms); zone:
 * the tenant's time zone (the aggregates are keyed by it). */
typedef struct fb_nps_counts {
    uint32_t n, promoters, detractors;
} fb_nps_counts;
typedef struct fb_nps_segment {
    const char *channel;                /* non-NULL: one channel */
    const char *tag_key, *tag_value;    /* non-NULL: one tag */
} fb_nps_segment;                       /* all NULL: all feedback */
typedef int (*fb_alerts_nps_fn)(void *ctx, uint32_t tenant, const char *zone, const char *survey_id,
                                const fb_nps_segment *segment, int64_t from_ms, int64_t to_ms,
                                fb_nps_counts *out, fb_err *err);

/* The server's providers: ctx = fb_settings * (settings.h, fb_settings_get)
 * and ctx = fb_trends * (trends.h, fb_trends_nps). */
int fb_alerts_settings_provider(void *ctx, MDB_txn *txn, uint32_t tenant,
                                Feedback__V1__Settings **out, fb_err *err);
int fb_alerts_nps_provider(void *ctx, uint32_t tenant, const char *zone, const char *survey_id,
                           const fb_nps_segment *segment, int64_t from_ms, int64_t to_ms,
                           fb_nps_counts *out, fb_err *err);

typedef struct fb_alerts_opts {
    fb_alerts_settings_fn settings; void *settings_ctx; /* NULL: defaults */
    fb_alerts_nps_fn nps; void *nps_ctx;                /* NULL: no NPS_DROP */
    int timer_ms;          /* SLA/NPS timer period; 0: 1000; < 0: no timer thread */
    size_t replay_chunk;   /* alerts per replay step at most; 0: 256 */
    size_t hub_buffer;     /* live alerts buffered per replaying subscriber; 0: 1024 */
} fb_alerts_opts;

/* Opens the tables, the hub, and starts the replay pump and the timer.
 * Errors: FB_INTERNAL. */
int fb_alerts_open(fb_alerts **out, fb_store *st, const fb_alerts_opts *opts, fb_err *err);
/* Stops the threads, ends every subscriber (closed with FB_UNAVAILABLE) and
 * frees. Call after the runtime stopped and before the store closes. */
void fb_alerts_close(fb_alerts *a);
fb_hub *fb_alerts_hub(fb_alerts *a);

/* The feedback hook (ctx = fb_alerts *). sign +1: evaluate, append or join,
 * add the alert's id to ev->fb->alert_ids (malloc'd, as protobuf-c's default
 * allocator), publish after commit. sign -1: redact the excerpt and
 * respondent of every alert in ev->fb->alert_ids.
 * Errors: FB_EXHAUSTED (storage full), FB_INTERNAL. */
int fb_alerts_feedback_hook(fb_txn *txn, const fb_feedback_event *ev, void *ctx, fb_err *err);

/* Raises due SLA escalations and NPS drops as of now_ms (waits until they
 * are durable). *raised (may be NULL) gets how many alerts were raised.
 * Errors: FB_UNAVAILABLE (store closing), FB_INTERNAL. */
int fb_alerts_tick(fb_alerts *a, int64_t now_ms, int *raised, fb_err *err);

/* Ack: state ACKNOWLEDGED or RESOLVED, recording who->label and now_ms
 * (RESOLVED also acknowledges an OPEN alert). *out: the updated alert (free
 * with feedback__v1__alert__free_unpacked). Errors: FB_INVALID (state not
 * ACKNOWLEDGED/RESOLVED, or acknowledging a RESOLVED alert), FB_NOT_FOUND
 * (no such alert in the caller's tenant), FB_UNAVAILABLE, FB_INTERNAL. */
int fb_alerts_ack(fb_alerts *a, const fb_principal *who, const Feedback__V1__AckRequest *req,
                  int64_t now_ms, Feedback__V1__Alert **out, fb_err *err);

/* ListAlerts: newest first, filtered by state, kind (any of the alert's
 * kinds), created_ms in [from_ms, to_ms), survey, min_severity; page_size
 * default 50, at most 500; page_token is opaque. A page reads at most
 * 10,000 alerts, so a selective query may return a short (even empty) page
 * that still has a next_page_token. stats (first page only)
 * summarise every alert the query matches: median/p90 time to acknowledge,
 * share acknowledged within the SLA (among alerts acknowledged or past due
 * at now_ms), median time to resolve. *out: free with
 * feedback__v1__alert_page__free_unpacked. Errors: FB_INVALID (bad token,
 * field named), FB_INTERNAL. */
int fb_alerts_list(fb_alerts *a, uint32_t tenant, const Feedback__V1__AlertQuery *q,
                   int64_t now_ms, Feedback__V1__AlertPage **out, fb_err *err);

/* The alert with this id. Errors: FB_NOT_FOUND, FB_INTERNAL. */
int fb_alerts_get(fb_alerts *a, uint32_t tenant, const char *id, Feedback__V1__Alert **out,
                  fb_err *err);

/* Subscribes (see hub.h for ops and slot). The request's filter is copied.
 * Errors: FB_INVALID (filter; after_seq beyond the tenant's newest alert,
 * which would silently skip alerts), FB_UNAVAILABLE (closing), FB_INTERNAL. */
int fb_alerts_subscribe(fb_alerts *a, uint32_t tenant, const Feedback__V1__SubscribeRequest *req,
                        const fb_sub_ops *ops, void *ctx, fb_sub **slot, fb_err *err);

#endif
