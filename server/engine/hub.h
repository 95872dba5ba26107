/* hub.h — live fan-out of alerts to subscribers (no gRPC, no storage).
 *
 * Per tenant a list of subscribers, each {filter, deliver callback, ctx,
 * last_seq, mode}. fb_hub_post (called on the store's writer thread after
 * the alert's batch is durable) hands the alert to the hub's dispatcher
 * thread, which walks only that tenant's list under that tenant's mutex and
 * calls deliver, which must only queue (never block):
 * a subscriber whose queue is full answers FB_EXHAUSTED and is closed at
 * once, so a slow subscriber never slows ingest or the others.
 *
 * A new subscriber starts REPLAYING: published alerts are buffered (bounded;
 * on overflow the buffer is dropped, which loses nothing because every
 * published alert is already in the log) while the replay pump feeds it the
 * stored alerts with fb_hub_replay. When the pump reaches the end of the log
 * it switches the subscriber to LIVE, flushing the buffer. Deliveries of
 * both kinds skip seq <= last_seq, so the stream has no duplicate and no gap.
 *
 * Every callback (deliver, backlog, closed) runs under the tenant's mutex, so
 * they are serialised with each other and with fb_hub_cancel; they must not
 * call back into the hub.
 */
#ifndef FB_HUB_H
#define FB_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "feedback/v1/alerts.pb-c.h"

typedef struct fb_hub fb_hub;
typedef struct fb_sub fb_sub;

typedef struct fb_alert_filter {
    char **survey_ids;     /* empty: every survey */
    uint64_t *survey_hashes; /* FNV-1a of each, compared before the strings */
    size_t n_survey_ids;
    int min_severity;      /* 0: any */
    unsigned kinds;        /* bit (1u << kind); 0: every kind */
    bool include_held;
} fb_alert_filter;

/* Copies a SubscribeRequest's filter. Errors: FB_INVALID (a kind or severity
 * out of range; the message names the field), FB_INTERNAL (memory). */
int fb_alert_filter_from(const Feedback__V1__SubscribeRequest *req, fb_alert_filter *out, fb_err *err);
void fb_alert_filter_free(fb_alert_filter *f);
/* Survey in the list, severity >= min, any of the alert's kinds wanted, not
 * held unless include_held. */
bool fb_alert_filter_match(const fb_alert_filter *f, const Feedback__V1__Alert *a);
/* The same with the alert's survey hash computed once by the caller. */
uint64_t fb_survey_hash(const char *survey_id);
bool fb_alert_filter_match_h(const fb_alert_filter *f, const Feedback__V1__Alert *a, uint64_t survey_hash);

/* One alert on its way to the subscribers of one fan-out, with room for an
 * encoding made by the first subscriber that needs it and shared by the
 * others (a gRPC server packs the alert once, not once per stream). */
typedef struct fb_hub_msg {
    const Feedback__V1__Alert *alert;
    void *shared;                      /* NULL until a deliver sets it */
    void (*shared_free)(void *shared); /* set with it; the hub calls it after the fan-out */
} fb_hub_msg;

/* For deliver (under the tenant's mutex): the fan-out in progress to s, whose
 * alert is the one deliver was given; deliver may cache an encoding of it in
 * shared for the next subscribers. NULL outside a deliver. */
fb_hub_msg *fb_hub_shared(fb_sub *s);

typedef struct fb_sub_ops {
    /* Queue one alert: FB_OK, FB_EXHAUSTED (queue full), FB_UNAVAILABLE (gone). */
    int (*deliver)(void *ctx, const Feedback__V1__Alert *a);
    /* Messages queued and not yet written (NULL: always 0). */
    size_t (*backlog)(void *ctx);
    /* The hub ended the subscription (code FB_EXHAUSTED or FB_UNAVAILABLE);
     * last_seq is where the client resumes. Called once; after it the hub
     * never touches ctx again. Also called by fb_hub_close. */
    void (*closed)(void *ctx, int code, uint64_t last_seq);
    size_t queue_max;      /* the subscriber's queue bound (replay keeps half free) */
} fb_sub_ops;

/* max_buffer: alerts buffered per replaying subscriber (0: 1024).
 * Errors: FB_INTERNAL. */
int fb_hub_open(fb_hub **out, size_t max_buffer, fb_err *err);
/* Ends every subscriber (closed with FB_UNAVAILABLE) and frees the hub. */
void fb_hub_close(fb_hub *h);

/* Registers a subscriber in REPLAYING mode with last_seq = after_seq. The
 * filter is moved into the hub (f is zeroed). *slot is set under the
 * tenant's lock, before any callback can run; the hub clears it when it ends
 * the subscription. Errors: FB_UNAVAILABLE (hub closing), FB_INTERNAL. */
int fb_hub_subscribe(fb_hub *h, uint32_t tenant, fb_alert_filter *f, uint64_t after_seq,
                     const fb_sub_ops *ops, void *ctx, fb_sub **slot, fb_err *err);

/* The owner ends a subscription. Under the tenant's lock, detach(arg) must
 * return the owner's subscription and forget it (or NULL if the hub already
 * ended it). Returns the subscription's ctx if this call ended it (no
 * callback runs for it afterwards), NULL otherwise. */
void *fb_hub_cancel(fb_hub *h, uint32_t tenant, fb_sub *(*detach)(void *arg), void *arg);

/* Fan-out on the calling thread: O(subscribers of the tenant), never blocks
 * on I/O. */
void fb_hub_publish(fb_hub *h, uint32_t tenant, const Feedback__V1__Alert *a);
/* Queues a for fan-out on the hub's dispatcher thread (FIFO, so seq order is
 * kept) and takes ownership of it: O(1) for the caller (the store's writer
 * thread). Waits only if 65,536 alerts are already queued. */
void fb_hub_post(fb_hub *h, uint32_t tenant, Feedback__V1__Alert *a);
/* Waits until every posted alert has been fanned out (tests). */
void fb_hub_flush(fb_hub *h);

/* Live subscribers of a tenant (for tests and stats). */
size_t fb_hub_count(fb_hub *h, uint32_t tenant);

/* ---- for the replay pump (alerts.c) ---- */
/* Waits up to ms for a replaying subscriber; returns one (with a reference:
 * release with fb_hub_put), rotating fairly, or NULL. */
fb_sub *fb_hub_next_replaying(fb_hub *h, int ms);
void fb_hub_put(fb_hub *h, fb_sub *s);
/* Snapshot of a replaying subscriber: false if it has ended. room: how many
 * alerts the pump may send now (half the queue minus the backlog). */
bool fb_hub_replay_state(fb_hub *h, fb_sub *s, uint32_t *tenant, uint64_t *last_seq, size_t *room);
const fb_alert_filter *fb_hub_sub_filter(const fb_sub *s); /* immutable */
/* Delivers stored alerts (in seq order, already filtered) and advances
 * last_seq to scanned_to. at_end: the log had nothing after scanned_to in
 * the pump's snapshot: switch to LIVE (flushing the buffer) unless the buffer
 * overflowed, in which case the pump goes on from the log. */
void fb_hub_replay(fb_hub *h, fb_sub *s, Feedback__V1__Alert *const *alerts, size_t n,
                   uint64_t scanned_to, bool at_end);
/* Wakes the pump (after fb_hub_close begins or for tests). */
void fb_hub_wake(fb_hub *h);

#endif
