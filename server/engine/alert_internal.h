/* alert_internal.h — state shared by alerts.c and alert_ops.c (not public). */
#ifndef FB_ALERT_INTERNAL_H
#define FB_ALERT_INTERNAL_H

#include <pthread.h>

#include "alert_log.h"
#include "alert_rules.h"
#include "alerts.h"
#include "tz.h"

struct fb_alerts {
    fb_store *st;
    fb_alert_log log;
    fb_hub *hub;
    fb_stemmers *stem;
    fb_tzcache *tz;            /* quiet hours in the tenant's zone */
    fb_alerts_opts opts;
    pthread_mutex_t mu;        /* stop flag + timer wait */
    pthread_cond_t cv;
    bool stop;
    bool timer_started, pump_started;
    pthread_t timer, pump;
};

/* The tenant's settings (NULL = defaults); free with settings_free. */
int fb_alerts_settings(fb_alerts *a, MDB_txn *txn, uint32_t tenant,
                       Feedback__V1__Settings **out, fb_err *err);
void fb_alerts_settings_free(Feedback__V1__Settings *s);

/* The tenant's settings for one evaluation, read-only; h->settings NULL
 * means defaults. With the server's own provider
 * (fb_alerts_settings_provider, alert_wiring.c) this borrows the settings
 * module's cached snapshot (no unpack, no copy per feedback); with any
 * other provider it calls the provider. Pair with fb_alerts_settings_drop. */
typedef struct fb_alerts_held_settings {
    const Feedback__V1__Settings *settings;
    Feedback__V1__Settings *owned;   /* from another provider */
    void *snap;                      /* a fb_settings_snap */
} fb_alerts_held_settings;
int fb_alerts_settings_hold(fb_alerts *a, MDB_txn *txn, uint32_t tenant,
                            fb_alerts_held_settings *h, fb_err *err);
void fb_alerts_settings_drop(fb_alerts_held_settings *h);

/* Appends a (new or updated) alert to the log and publishes a after commit;
 * takes ownership of a in every case. */
int fb_alerts_append_publish(fb_alerts *al, fb_txn *txn, uint32_t tenant,
                             Feedback__V1__Alert *a, fb_err *err);

/* Publishes an alert already in the log after the batch commits; takes
 * ownership of a in every case. */
int fb_alerts_publish_after_commit(fb_alerts *al, fb_txn *txn, uint32_t tenant,
                                   Feedback__V1__Alert *a, fb_err *err);

/* SLA escalations due at now (alert_ops.c); adds to *raised. */
int fb_alerts_tick_sla(fb_alerts *al, int64_t now, int *raised, fb_err *err);

/* NPS_DROP (alert_nps.c): queues the feedback's segments (all, channel,
 * each tag) of its survey for evaluation, from the feedback hook; and
 * converts a store's per-survey bookkeeping at open (a no-op read once
 * done). Errors: FB_EXHAUSTED, FB_UNAVAILABLE, FB_INTERNAL. */
int fb_alerts_nps_track(fb_alerts *al, fb_txn *txn, uint32_t tenant, const Feedback__V1__Feedback *fb,
                        int64_t now, fb_err *err);
int fb_alerts_nps_migrate(fb_alerts *al, fb_err *err);

/* Minutes after local midnight in zone (IANA; fixed offsets as fallback). */
int fb_alerts_local_minute(fb_alerts *al, const char *zone, int64_t now_ms);

/* held = silenced or quiet at now. */
bool fb_alerts_is_held(fb_alerts *al, const fb_rules_view *rules, const Feedback__V1__Alert *a,
                       const char *text, int64_t now_ms);

/* String and repeated-field helpers for protobuf-c messages built with the
 * default allocator. Return false on memory failure. */
bool fb_pb_set_str(char **field, const char *v);
bool fb_pb_push_str(char ***arr, size_t *n, const char *v);

#endif
