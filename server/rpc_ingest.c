/* rpc_ingest.c — feedback.v1.Ingest: thin glue from messages to ingest.h.
 *
 * SubmitResponse / SubmitReview hand the decoded request to the engine and
 * reply from the store's done callback, i.e. only after the record is
 * durable. Import is a client stream: each item is validated and scored on
 * the worker that received it and added to a batch; a full batch (256
 * items) becomes one store op. At most IMPORT_INFLIGHT batches are queued
 * per stream: a reader that gets ahead waits, which bounds the memory of a
 * stream and pushes back on the client through HTTP/2 flow control. The
 * summary goes out once the client half-closed and every batch is durable.
 *
 * Import's per-call state is shared by the reading worker, the store's
 * writer thread (batch done callbacks) and on_cancel, so it has a lock and
 * a reference count; whoever drops the last reference frees it. The call
 * itself holds one (fb_call_set_data_free): on_cancel may run just after a
 * batch callback ended the call, so the state must live as long as the call.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback/v1/ingest.pb-c.h"
#include "ingest.h"
#include "rpc.h"
#include "rpc_ingest.h"
#include "server.h"
#include "settings.h"
#include "validate.h"

void fb_rpc_ingest_env_init(fb_rpc_ingest_env *e, fb_server *srv, uint32_t tenant_id)
{
    e->default_language[0] = '\0';
    e->env.feedback = srv->feedback;
    e->env.text = srv->text;
    e->env.default_language = e->default_language;
    /* The tenant's default language; without it (no settings module, or a
     * damaged record) ingest falls back to guessing from the text. */
    fb_settings_snap *snap = NULL;
    if (srv->settings && fb_settings_acquire(srv->settings, NULL, tenant_id, &snap, NULL) == FB_OK) {
        const Feedback__V1__Settings *set = fb_settings_snap_msg(snap);
        snprintf(e->default_language, sizeof e->default_language, "%s",
                 set->default_language ? set->default_language : "");
        fb_settings_release(snap);
    }
}

/* ---- unary ------------------------------------------------------------------ */

static void submitted_done(void *arg, int rc, const fb_err *err, const fb_ingest_result *res)
{
    fb_call *call = arg;
    if (rc) {
        fb_call_fail_err(call, err);
        return;
    }
    Feedback__V1__Submitted out;
    fb_ingest_submitted(res, &out);
    fb_call_reply(call, &out.base);
}

static void submit_response(fb_call *call, const ProtobufCMessage *msg)
{
    const fb_principal *p = fb_call_principal(call);
    fb_rpc_ingest_env env;
    fb_rpc_ingest_env_init(&env, fb_call_server(call), p->tenant_id);
    fb_err err = {0};
    if (fb_ingest_submit_response(&env.env, p->tenant_id,
                                  (const Feedback__V1__SubmitResponseRequest *)msg, submitted_done,
                                  call, &err))
        fb_call_fail_err(call, &err);
}

static void submit_review(fb_call *call, const ProtobufCMessage *msg)
{
    const fb_principal *p = fb_call_principal(call);
    fb_rpc_ingest_env env;
    fb_rpc_ingest_env_init(&env, fb_call_server(call), p->tenant_id);
    fb_err err = {0};
    if (fb_ingest_submit_review(&env.env, p->tenant_id,
                                (const Feedback__V1__SubmitReviewRequest *)msg, submitted_done,
                                call, &err))
        fb_call_fail_err(call, &err);
}

/* ---- Import ----------------------------------------------------------------- */

enum { IMPORT_BATCH = 256, IMPORT_INFLIGHT = 2, IMPORT_MAX_REJECTIONS = 100 };

typedef struct import_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    fb_call *call;
    fb_rpc_ingest_env env;
    uint32_t tenant;
    fb_ingest_batch *batch;     /* being filled; reader thread only */
    uint32_t next_index;        /* reader thread only */
    int inflight;
    bool stream_done, cancelled, ended;
    bool store_closed;          /* a batch could not be queued: shutting down */
    uint32_t accepted, duplicates, rejected;
    size_t n_rej;
    Feedback__V1__Rejection rej[IMPORT_MAX_REJECTIONS];
    Feedback__V1__Rejection *rej_ptr[IMPORT_MAX_REJECTIONS];
    char rej_field[IMPORT_MAX_REJECTIONS][64];
    char rej_reason[IMPORT_MAX_REJECTIONS][256];
} import_state;

static void import_unref(import_state *st)
{
    pthread_mutex_lock(&st->mu);
    bool last = --st->refs == 0;
    pthread_mutex_unlock(&st->mu);
    if (!last) return;
    fb_ingest_batch_free(st->batch);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

static void import_state_free(void *st) /* the call's last reference is gone */
{
    import_unref(st);
}

static void reject_locked(import_state *st, uint32_t index, const char *msg)
{
    st->rejected++;
    if (st->n_rej == IMPORT_MAX_REJECTIONS) return;
    size_t i = st->n_rej++;
    feedback__v1__rejection__init(&st->rej[i]);
    fb_validate_split(msg, st->rej_field[i], sizeof st->rej_field[i], st->rej_reason[i],
                      sizeof st->rej_reason[i]);
    st->rej[i].index = index;
    st->rej[i].field = st->rej_field[i];
    st->rej[i].reason = st->rej_reason[i];
    st->rej_ptr[i] = &st->rej[i];
}

/* Ends the call once nothing is in flight and the stream is over. Called
 * with the lock held; returns true if the caller must send the reply (after
 * unlocking) — the state's "call" reference then goes with it. */
static bool should_end_locked(import_state *st)
{
    if (st->ended || st->inflight > 0 || !(st->stream_done || st->cancelled)) return false;
    st->ended = true;
    return true;
}

static void end_call(import_state *st)
{
    if (st->store_closed) {
        fb_call_fail(st->call, GRPC_STATUS_UNAVAILABLE,
                     "import: server shutting down after %u items were stored", st->accepted);
    } else if (st->cancelled) {
        fb_call_fail(st->call, GRPC_STATUS_CANCELLED, "import cancelled");
    } else {
        Feedback__V1__ImportSummary sum = FEEDBACK__V1__IMPORT_SUMMARY__INIT;
        sum.accepted = st->accepted;
        sum.duplicates = st->duplicates;
        sum.rejected = st->rejected;
        sum.n_rejections = st->n_rej;
        sum.rejections = st->rej_ptr;
        fb_call_reply(st->call, &sum.base);
    }
}

static void finish(import_state *st);

static void batch_done(void *arg, int rc, const fb_err *err, const fb_ingest_outcome *items, size_t n)
{
    import_state *st = arg;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < n; i++) {
        if (rc) reject_locked(st, items[i].index, err ? err->msg : "storage: write failed");
        else if (items[i].rc) reject_locked(st, items[i].index, items[i].err.msg);
        else if (items[i].duplicate) st->duplicates++;
        else st->accepted++;
    }
    st->inflight--;
    pthread_cond_broadcast(&st->cv);
    bool end = should_end_locked(st);
    pthread_mutex_unlock(&st->mu);
    if (end) finish(st);
    import_unref(st); /* the batch's reference */
}

/* Queues the current batch, waiting while too many are in flight. Returns
 * false when the stream was cancelled meanwhile. */
static bool flush_batch(import_state *st)
{
    fb_ingest_batch *b = st->batch;
    st->batch = NULL;
    if (!b) return true;
    if (fb_ingest_batch_size(b) == 0) {
        fb_ingest_batch_free(b);
        return true;
    }
    pthread_mutex_lock(&st->mu);
    while (st->inflight >= IMPORT_INFLIGHT && !st->cancelled) pthread_cond_wait(&st->cv, &st->mu);
    bool go = !st->cancelled;
    if (go) {
        st->inflight++;
        st->refs++;
    }
    pthread_mutex_unlock(&st->mu);
    if (!go) {
        fb_ingest_batch_free(b);
        return false;
    }
    if (fb_ingest_batch_submit(b, batch_done, st) != FB_OK) {
        /* the store is closing: everything of this batch is rejected */
        pthread_mutex_lock(&st->mu);
        st->inflight--;
        st->refs--;
        st->cancelled = true; /* stop reading */
        st->store_closed = true;
        pthread_mutex_unlock(&st->mu);
        return false;
    }
    return true;
}

static import_state *import_state_get(fb_call *call)
{
    import_state *st = fb_call_data(call);
    if (st) return st;
    st = calloc(1, sizeof *st);
    if (!st) return NULL;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    st->refs = 1; /* the call's: dropped when the call is freed */
    st->call = call;
    st->tenant = fb_call_principal(call)->tenant_id;
    fb_rpc_ingest_env_init(&st->env, fb_call_server(call), st->tenant);
    fb_call_set_data_free(call, st, import_state_free);
    return st;
}

/* Ends the call (should_end_locked said so). The caller holds a reference
 * to st, or runs in on_cancel (the runtime holds the call, which holds st). */
static void finish(import_state *st)
{
    end_call(st);
}

/* The reader callbacks hold a reference while they run (they may wait). */
static import_state *import_hold(fb_call *call)
{
    import_state *st = import_state_get(call);
    if (!st) return NULL;
    pthread_mutex_lock(&st->mu);
    st->refs++;
    pthread_mutex_unlock(&st->mu);
    return st;
}

static int import_message(fb_call *call, const ProtobufCMessage *msg)
{
    import_state *st = import_hold(call);
    if (!st) {
        fb_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "import: out of memory");
        return FB_INTERNAL;
    }
    uint32_t index = st->next_index++;
    if (!st->batch && !(st->batch = fb_ingest_batch_new(&st->env.env, st->tenant, IMPORT_BATCH))) {
        pthread_mutex_lock(&st->mu);
        reject_locked(st, index, "item: server out of memory");
        pthread_mutex_unlock(&st->mu);
        import_unref(st);
        return FB_OK;
    }
    fb_err err = {0};
    int rc = fb_ingest_batch_add(st->batch, (const Feedback__V1__ImportItem *)msg, index, &err);
    if (rc) {
        pthread_mutex_lock(&st->mu);
        reject_locked(st, index, err.msg);
        pthread_mutex_unlock(&st->mu);
    }
    if (fb_ingest_batch_size(st->batch) == IMPORT_BATCH && !flush_batch(st)) {
        pthread_mutex_lock(&st->mu);
        bool end = should_end_locked(st);
        pthread_mutex_unlock(&st->mu);
        if (end) finish(st);
        import_unref(st);
        return FB_CANCELLED;
    }
    import_unref(st);
    return FB_OK;
}

static void import_end(fb_call *call)
{
    import_state *st = import_hold(call);
    if (!st) {
        fb_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "import: out of memory");
        return;
    }
    flush_batch(st);
    pthread_mutex_lock(&st->mu);
    st->stream_done = true;
    bool end = should_end_locked(st);
    pthread_mutex_unlock(&st->mu);
    if (end) finish(st);
    import_unref(st);
}

static void import_cancel(fb_call *call)
{
    import_state *st = fb_call_data(call); /* alive: the runtime holds the call */
    if (!st) { /* nothing received yet */
        fb_call_fail(call, GRPC_STATUS_CANCELLED, "import cancelled");
        return;
    }
    pthread_mutex_lock(&st->mu);
    if (st->ended) { /* a batch callback ended it a moment ago */
        pthread_mutex_unlock(&st->mu);
        return;
    }
    st->cancelled = true;
    pthread_cond_broadcast(&st->cv);
    bool end = should_end_locked(st);
    pthread_mutex_unlock(&st->mu);
    if (end) finish(st);
}

const fb_method fb_ingest_methods[] = {
    {.path = "/feedback.v1.Ingest/SubmitResponse",
     .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_SUBMIT | FB_ROLE_ADMIN,
     .request = &feedback__v1__submit_response_request__descriptor,
     .on_request = submit_response},
    {.path = "/feedback.v1.Ingest/SubmitReview",
     .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_SUBMIT | FB_ROLE_ADMIN,
     .request = &feedback__v1__submit_review_request__descriptor,
     .on_request = submit_review},
    {.path = "/feedback.v1.Ingest/Import",
     .kind = FB_RPC_CLIENT_STREAM,
     .roles = FB_ROLE_SUBMIT | FB_ROLE_ADMIN,
     .request = &feedback__v1__import_item__descriptor,
     .on_message = import_message,
     .on_end = import_end,
     .on_cancel = import_cancel},
    {.path = NULL},
};
