/* alert_stream.c — the alerts module's lifecycle, its two threads (replay
 * pump and SLA/NPS timer) and subscriptions.
 *
 * Design: the pump takes one replaying subscriber at a time from the hub's
 * queue, reads the next chunk of the log after its last_seq in a fresh read
 * transaction (at most replay_chunk alerts and never more than the room left
 * in half its queue), hands it to the hub and re-queues it; a subscriber whose
 * queue is full is skipped until it drains, with a short sleep when no one
 * made progress. So replay is paced by the client's reading, holds no
 * transaction across turns, and is fair between subscribers.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_internal.h"
#include "pbutil.h"

#define SCAN_ROWS_MAX 4096 /* rows read per turn, matching or not */

/* ---- replay pump ----------------------------------------------------------------- */

typedef struct chunk {
    const fb_alert_filter *filter;
    Feedback__V1__Alert **v;
    size_t n, cap;
    bool oom;
} chunk;

static int collect(void *arg, const Feedback__V1__Alert *a)
{
    chunk *c = arg;
    if (!fb_alert_filter_match(c->filter, a)) return 0;
    /* the scan frees its message: keep a copy */
    Feedback__V1__Alert *copy = (Feedback__V1__Alert *)fb_pb_clone(&a->base);
    if (!copy) { c->oom = true; return 1; }
    c->v[c->n++] = copy;
    return c->n == c->cap;
}

/* One turn for one subscriber. Returns true if it made progress. */
static bool replay_turn(fb_alerts *al, fb_sub *s)
{
    uint32_t tenant;
    uint64_t last;
    size_t room;
    if (!fb_hub_replay_state(al->hub, s, &tenant, &last, &room)) return false;
    if (room == 0) { /* its queue is busy: come back later */
        fb_hub_replay(al->hub, s, NULL, 0, 0, false);
        return false;
    }
    size_t want = room < al->opts.replay_chunk ? room : al->opts.replay_chunk;
    chunk c = {fb_hub_sub_filter(s), calloc(want, sizeof(Feedback__V1__Alert *)), 0, want, false};
    MDB_txn *txn;
    uint64_t scanned = last;
    bool at_end = false;
    if (!c.v || fb_store_read_begin(al->st, &txn, NULL) != FB_OK) {
        free(c.v);
        fb_hub_replay(al->hub, s, NULL, 0, 0, false);
        return false;
    }
    int rc = fb_alert_log_scan(&al->log, txn, tenant, last, 0, false, SCAN_ROWS_MAX,
                               collect, &c, &scanned, &at_end, NULL);
    fb_store_read_end(al->st, txn);
    if (rc || c.oom) at_end = false, scanned = last; /* retry the turn later */
    if (rc || c.oom) {
        for (size_t i = 0; i < c.n; i++) feedback__v1__alert__free_unpacked(c.v[i], NULL);
        c.n = 0;
    }
    fb_hub_replay(al->hub, s, c.v, c.n, scanned, at_end);
    for (size_t i = 0; i < c.n; i++) feedback__v1__alert__free_unpacked(c.v[i], NULL);
    free(c.v);
    return c.n > 0 || at_end || scanned > last;
}

static bool stopping(fb_alerts *al)
{
    pthread_mutex_lock(&al->mu);
    bool s = al->stop;
    pthread_mutex_unlock(&al->mu);
    return s;
}

static void *pump_main(void *arg)
{
    fb_alerts *al = arg;
    int idle_turns = 0;
    while (!stopping(al)) {
        fb_sub *s = fb_hub_next_replaying(al->hub, idle_turns > 64 ? 2 : 100);
        if (!s) { idle_turns = 0; continue; }
        bool progress = replay_turn(al, s);
        fb_hub_put(al->hub, s);
        idle_turns = progress ? 0 : idle_turns + 1;
        if (idle_turns > 64) { /* everyone is waiting on their client */
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            idle_turns = 0;
        }
    }
    return NULL;
}

/* ---- timer ------------------------------------------------------------------------ */

static void *timer_main(void *arg)
{
    fb_alerts *al = arg;
    pthread_mutex_lock(&al->mu);
    while (!al->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += al->opts.timer_ms / 1000;
        ts.tv_nsec += (long)(al->opts.timer_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&al->cv, &al->mu, &ts);
        if (al->stop) break;
        pthread_mutex_unlock(&al->mu);
        fb_alerts_tick(al, fb_now_ms(), NULL, NULL);
        pthread_mutex_lock(&al->mu);
    }
    pthread_mutex_unlock(&al->mu);
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

int fb_alerts_open(fb_alerts **out, fb_store *st, const fb_alerts_opts *opts, fb_err *err)
{
    fb_alerts *al = calloc(1, sizeof *al);
    if (!al) return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    if (opts) al->opts = *opts;
    if (!al->opts.timer_ms) al->opts.timer_ms = 1000;
    if (!al->opts.replay_chunk) al->opts.replay_chunk = 256;
    al->st = st;
    pthread_mutex_init(&al->mu, NULL);
    pthread_cond_init(&al->cv, NULL);
    int rc = fb_alert_log_open(&al->log, st, err);
    if (!rc) rc = fb_alerts_nps_migrate(al, err);
    if (!rc) rc = fb_stemmers_open(&al->stem, err);
    if (!rc) rc = fb_tzcache_open(&al->tz, NULL, err);
    if (!rc) rc = fb_hub_open(&al->hub, al->opts.hub_buffer, err);
    if (!rc && pthread_create(&al->pump, NULL, pump_main, al) != 0)
        rc = fb_err_set(err, FB_INTERNAL, "alerts: cannot start the replay thread");
    else if (!rc) al->pump_started = true;
    if (!rc && al->opts.timer_ms > 0) {
        if (pthread_create(&al->timer, NULL, timer_main, al) != 0)
            rc = fb_err_set(err, FB_INTERNAL, "alerts: cannot start the timer thread");
        else al->timer_started = true;
    }
    if (rc) {
        fb_alerts_close(al);
        return rc;
    }
    *out = al;
    return FB_OK;
}

void fb_alerts_close(fb_alerts *al)
{
    if (!al) return;
    pthread_mutex_lock(&al->mu);
    al->stop = true;
    pthread_cond_broadcast(&al->cv);
    pthread_mutex_unlock(&al->mu);
    if (al->hub) fb_hub_wake(al->hub);
    if (al->timer_started) pthread_join(al->timer, NULL);
    if (al->pump_started) pthread_join(al->pump, NULL);
    if (al->hub) fb_hub_close(al->hub);
    fb_stemmers_close(al->stem);
    if (al->tz) fb_tzcache_close(al->tz);
    pthread_cond_destroy(&al->cv);
    pthread_mutex_destroy(&al->mu);
    free(al);
}

fb_hub *fb_alerts_hub(fb_alerts *al)
{
    return al->hub;
}

int fb_alerts_subscribe(fb_alerts *al, uint32_t tenant, const Feedback__V1__SubscribeRequest *req,
                        const fb_sub_ops *ops, void *ctx, fb_sub **slot, fb_err *err)
{
    MDB_txn *txn;
    int rc = fb_store_read_begin(al->st, &txn, err);
    if (rc) return rc;
    uint64_t newest = fb_alert_log_last_seq(&al->log, txn, tenant);
    fb_store_read_end(al->st, txn);
    if (req->after_seq > newest) /* a seq this tenant never had: the client would skip alerts */
        return fb_err_set(err, FB_INVALID, "after_seq: %" PRIu64 " is beyond the newest alert (%" PRIu64 ")",
                          req->after_seq, newest);
    fb_alert_filter f;
    rc = fb_alert_filter_from(req, &f, err);
    if (rc) return rc;
    if (stopping(al)) {
        fb_alert_filter_free(&f);
        return fb_err_set(err, FB_UNAVAILABLE, "alerts: server is shutting down");
    }
    rc = fb_hub_subscribe(al->hub, tenant, &f, req->after_seq, ops, ctx, slot, err);
    fb_alert_filter_free(&f); /* empty unless subscribe failed */
    return rc;
}

int fb_alerts_get(fb_alerts *al, uint32_t tenant, const char *id, Feedback__V1__Alert **out,
                  fb_err *err)
{
    MDB_txn *txn;
    int rc = fb_store_read_begin(al->st, &txn, err);
    if (rc) return rc;
    rc = fb_alert_log_get(&al->log, txn, tenant, id, out, err);
    fb_store_read_end(al->st, txn);
    return rc;
}
