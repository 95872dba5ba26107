/* rpc_call.c — one call's state machine on the gRPC C core.
 *
 * Design. A call is a small context (struct fb_call) with a lock and an
 * atomic reference count. Every batch in flight holds one reference, the handler
 * holds one until it ends the call, and the worker that dispatches a
 * completion holds one while it runs code that may start batches. The last
 * unref writes the call's log line and frees it. This is what makes the
 * completions safe: several batches of one call complete concurrently on
 * different worker threads, and a handler may end a call from any thread
 * (a store done-callback, the alert hub).
 *
 * Batches: for a method with on_cancel (every stream) RECV_CLOSE_ON_SERVER
 * goes out alone when the call starts, so a client cancel or a passed
 * deadline is seen at once; for the others it rides in the final batch.
 * Ending a call starts one final batch: SEND_INITIAL_METADATA (if not sent
 * yet — a status without it hangs the client), the reply message if any,
 * [the close] and the status, started after the call's lock is released;
 * replies ended off the workers (the store's syncer) are handed off (see
 * rpc_final_locked). Server streams (their bounded outgoing queue, one
 * SEND_MESSAGE in flight) are in rpc_stream.c.
 */
#include <grpc/byte_buffer_reader.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc_internal.h"
#include "server.h"

static void call_free(fb_call *c);

/* ---- references ---------------------------------------------------------- */

void fb_call_ref(fb_call *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

bool rpc_call_try_ref(fb_call *c)
{
    int r = atomic_load(&c->refs);
    while (r > 0)
        if (atomic_compare_exchange_weak(&c->refs, &r, r + 1))
            return true;
    return false;
}

void fb_call_unref(fb_call *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        call_free(c);
}

fb_call *rpc_call_new(fb_rpc *rpc, const struct rpc_method *reg)
{
    fb_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->rpc = rpc;
    c->reg = reg;
    atomic_init(&c->refs, 1); /* the request tag's */
    pthread_mutex_init(&c->mu, NULL);
    grpc_metadata_array_init(&c->md);
    grpc_call_details_init(&c->details);
    c->t_new = (struct rpc_tag){TAG_NEW_CALL, c};
    c->t_close = (struct rpc_tag){TAG_CLOSE, c};
    c->t_recv = (struct rpc_tag){TAG_RECV, c};
    c->t_send = (struct rpc_tag){TAG_SEND, c};
    c->t_final = (struct rpc_tag){TAG_FINAL, c};
    c->t_handoff = (struct rpc_tag){TAG_HANDOFF, c};
    return c;
}

/* ---- small helpers ------------------------------------------------------- */

enum fb_method_kind rpc_call_kind(const fb_call *c)
{
    return c->reg ? c->reg->m->kind : FB_RPC_UNARY;
}

static const fb_method *call_method(const fb_call *c)
{
    return c->reg ? c->reg->m : NULL;
}

grpc_byte_buffer *rpc_pack(const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

ProtobufCMessage *rpc_decode(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return NULL;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s),
                                                      GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    return msg;
}

/* Starts a batch holding one reference for its tag. Called with c->mu held
 * (so batches of one call start in order); the caller holds a reference, so
 * a failure cannot free the call here. */
bool rpc_start_batch_locked(fb_call *c, const grpc_op *ops, size_t n, struct rpc_tag *tag)
{
    fb_call_ref(c);
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, tag, NULL);
    if (e != GRPC_CALL_OK) {
        atomic_fetch_sub(&c->refs, 1);
        fb_error("rpc: grpc_call_start_batch failed (%d) for tag kind %d", (int)e, (int)tag->kind);
        return false;
    }
    return true;
}

size_t rpc_add_initial_md_locked(fb_call *c, grpc_op *op)
{
    if (c->md_sent)
        return 0;
    memset(op, 0, sizeof *op);
    op->op = GRPC_OP_SEND_INITIAL_METADATA;
    c->md_sent = true;
    return 1;
}

/* Starts the final batch: [initial metadata] [c->final_buf] [close] status.
 * Without c->mu: once final_started is set (under the lock, which also
 * orders every earlier batch's updates before this) nothing else reads or
 * changes the fields used here, and no other batch of the call is started.
 * Holding the lock across grpc_call_start_batch, which runs the transport's
 * write (sendmsg) inline, made the worker that got the call's close
 * completion meanwhile block on it (a futex wait and wake per call). */
void rpc_send_final(fb_call *c)
{
    grpc_op ops[4];
    size_t n = rpc_add_initial_md_locked(c, &ops[0]);
    if (c->final_buf) {
        memset(&ops[n], 0, sizeof ops[n]);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = c->final_buf;
        n++;
    }
    if (c->close_in_final) {
        memset(&ops[n], 0, sizeof ops[n]);
        ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[n].data.recv_close_on_server.cancelled = &c->close_cancelled;
        n++;
    }
    memset(&ops[n], 0, sizeof ops[n]);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = c->status;
    grpc_slice details = grpc_empty_slice();
    if (c->status_msg) {
        details = grpc_slice_from_copied_string(c->status_msg);
        ops[n].data.send_status_from_server.status_details = &details;
    }
    n++;
    if (!rpc_start_batch_locked(c, ops, n, &c->t_final)) {
        if (c->final_buf) {
            grpc_byte_buffer_destroy(c->final_buf);
            c->final_buf = NULL;
        }
    }
    grpc_slice_unref(details); /* the core took its own reference */
}

/* The final batch of a call. On a worker it is started by the caller as
 * soon as it has released c->mu (FINAL_SEND). Off the workers (a reply from
 * the store's syncer, after the durable commit) the call is handed off
 * (FINAL_HANDED): pushed on the rpc's handoff stack (lock-free, so pushing
 * a store batch of replies never contends with their senders), and whoever
 * arms an unarmed stack starts an empty batch, whose tag the completion
 * queue delivers to a worker at once: that worker sends final batches
 * until none is left (rpc_drain_handoffs). The pushing thread itself then
 * sends one waiting final batch (rpc_final_finish), usually its own: the
 * replies start without waiting for a worker to wake, and the worker and
 * the pusher share the store batch instead of one of them sending every
 * reply in turn. */
enum rpc_final rpc_final_locked(fb_call *c, grpc_byte_buffer *reply)
{
    fb_rpc *rpc = c->rpc;
    c->final_started = true;
    c->final_buf = reply;
    if (pthread_getspecific(rpc->worker_key))
        return FINAL_SEND;
    fb_call_ref(c); /* the stack's reference */
    fb_call *head = atomic_load(&rpc->handoff);
    do {
        c->handoff_next = head;
    } while (!atomic_compare_exchange_weak(&rpc->handoff, &head, c));
    if (!atomic_exchange(&rpc->handoff_armed, true) &&
        !rpc_start_batch_locked(c, NULL, 0, &c->t_handoff)) {
        /* (an empty batch cannot fail in practice) the next call to be
         * handed off arms it again */
        atomic_store(&rpc->handoff_armed, false);
    }
    return FINAL_HANDED;
}

/* The oldest handed-off call, or NULL. The senders share a FIFO under
 * drain_mu, refilled from the stack (reversed: oldest first). */
static fb_call *handoff_pop(fb_rpc *rpc)
{
    pthread_mutex_lock(&rpc->drain_mu);
    fb_call *c = rpc->drain_head;
    if (!c) {
        fb_call *list = atomic_exchange(&rpc->handoff, NULL);
        while (list) {
            fb_call *next = list->handoff_next;
            list->handoff_next = c;
            c = list;
            list = next;
        }
    }
    if (c)
        rpc->drain_head = c->handoff_next;
    pthread_mutex_unlock(&rpc->drain_mu);
    return c;
}

static bool handoff_pending(fb_rpc *rpc)
{
    pthread_mutex_lock(&rpc->drain_mu);
    bool any = rpc->drain_head || atomic_load(&rpc->handoff);
    pthread_mutex_unlock(&rpc->drain_mu);
    return any;
}

static bool handoff_send_one(fb_rpc *rpc)
{
    fb_call *c = handoff_pop(rpc);
    if (!c)
        return false;
    rpc_send_final(c);
    fb_call_unref(c); /* the stack's reference */
    return true;
}

void rpc_final_finish(fb_call *c, enum rpc_final how)
{
    if (how == FINAL_SEND)
        rpc_send_final(c);
    else if (how == FINAL_HANDED)
        handoff_send_one(c->rpc);
}

/* On a worker (the armed tag): sends handed-off final batches until there
 * are none. Disarming and then looking once more closes the race with a
 * push in between: either this worker sees that call, or its pusher arms
 * and posts a new tag. */
static void rpc_drain_handoffs(fb_rpc *rpc)
{
    for (;;) {
        while (handoff_send_one(rpc)) {
        }
        atomic_store(&rpc->handoff_armed, false);
        if (!handoff_pending(rpc) || atomic_exchange(&rpc->handoff_armed, true))
            return;
    }
}

/* Records the status (a runtime abort overrides the handler's choice). */
static void set_status_locked(fb_call *c, grpc_status_code code, const char *msg)
{
    c->ended = true;
    if (c->has_forced) {
        code = c->forced_status;
        msg = c->forced_msg;
    }
    c->status = code;
    free(c->status_msg);
    c->status_msg = msg && *msg ? strdup(msg) : NULL;
}

/* ---- call start and completions ------------------------------------------ */

/* RECV_CLOSE_ON_SERVER: on its own at the start for a method with
 * on_cancel (every stream), which must learn of a cancel or a passed
 * deadline at once; for the others (unary calls, unknown methods) it rides
 * in the final batch, which saves a batch and a completion per call (the
 * core enforces deadlines itself, and the log line still tells a cancelled
 * call from the status it reports). */
void rpc_call_start(fb_call *c)
{
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    rpc_live_add(c->rpc, c);
    const fb_method *m = call_method(c);
    c->close_in_final = !(m && m->on_cancel);
    pthread_mutex_lock(&c->mu);
    c->started = true;
    c->in_callback++; /* dispatching: on_cancel waits for rpc_call_leave */
    if (!c->close_in_final) {
        grpc_op op;
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        op.data.recv_close_on_server.cancelled = &c->close_cancelled;
        rpc_start_batch_locked(c, &op, 1, &c->t_close);
    }
    pthread_mutex_unlock(&c->mu);
}

void rpc_call_start_recv(fb_call *c)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->recv_buf;
    pthread_mutex_lock(&c->mu);
    if (!c->ended && !c->cancelled)
        rpc_start_batch_locked(c, &op, 1, &c->t_recv);
    pthread_mutex_unlock(&c->mu);
}

void rpc_call_notify_cancel(fb_call *c)
{
    const fb_method *m = call_method(c);
    pthread_mutex_lock(&c->mu);
    bool call_it = m && m->on_cancel && !c->ended && !c->cancel_notified;
    if (call_it && c->in_callback > 0) {
        c->cancel_deferred = true; /* rpc_call_leave calls it */
        call_it = false;
    } else if (call_it) {
        c->cancel_notified = true;
    }
    pthread_mutex_unlock(&c->mu);
    if (call_it)
        m->on_cancel(c);
}

bool rpc_call_enter(fb_call *c)
{
    pthread_mutex_lock(&c->mu);
    bool open = !c->cancel_notified && !c->ended;
    if (open)
        c->in_callback++;
    pthread_mutex_unlock(&c->mu);
    return open;
}

void rpc_call_leave(fb_call *c)
{
    pthread_mutex_lock(&c->mu);
    bool deferred = --c->in_callback == 0 && c->cancel_deferred;
    if (deferred)
        c->cancel_deferred = false;
    pthread_mutex_unlock(&c->mu);
    if (deferred)
        rpc_call_notify_cancel(c);
}

static void on_close(fb_call *c)
{
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    if (c->close_cancelled) {
        c->cancelled = true;
        rpc_drop_queue_locked(c);
    }
    bool cancelled = c->cancelled;
    pthread_mutex_unlock(&c->mu);
    if (cancelled)
        rpc_call_notify_cancel(c);
}

/* A client stream was aborted by the runtime (undecodable message, dead
 * stream): the handler learns it through on_cancel (required for streams,
 * see register_tables) and ends the call, and the status recorded here wins
 * over the one it chooses. Without on_cancel the runtime would end the call
 * on the handler's behalf, with its reference. */
static void abort_client_stream(fb_call *c, grpc_status_code code, const char *msg)
{
    const fb_method *m = call_method(c);
    pthread_mutex_lock(&c->mu);
    if (!c->ended && !c->has_forced) {
        c->has_forced = true;
        c->forced_status = code;
        c->forced_msg = strdup(msg);
    }
    pthread_mutex_unlock(&c->mu);
    if (m->on_cancel) {
        rpc_call_notify_cancel(c);
    } else {
        if (rpc_call_end(c, code, msg))
            fb_call_unref(c);
    }
}

static void on_recv(fb_call *c, bool ok)
{
    const fb_method *m = call_method(c);
    grpc_byte_buffer *bb = c->recv_buf;
    c->recv_buf = NULL;
    pthread_mutex_lock(&c->mu);
    bool ended = c->ended;
    pthread_mutex_unlock(&c->mu);
    if (ended) {
        if (bb)
            grpc_byte_buffer_destroy(bb);
        return;
    }
    if (!ok || (!bb && grpc_call_failed_before_recv_message(c->call))) {
        if (bb)
            grpc_byte_buffer_destroy(bb);
        abort_client_stream(c, GRPC_STATUS_CANCELLED, "the client stream failed");
        return;
    }
    if (!bb) { /* the client half-closed */
        if (rpc_call_enter(c)) {
            m->on_end(c);
            rpc_call_leave(c);
        }
        return;
    }
    ProtobufCMessage *msg = rpc_decode(m->request, bb);
    grpc_byte_buffer_destroy(bb);
    if (!msg) {
        char why[160];
        snprintf(why, sizeof why, "request: cannot decode %s", m->request->name);
        abort_client_stream(c, GRPC_STATUS_INVALID_ARGUMENT, why);
        return;
    }
    int rc = FB_CANCELLED;
    if (rpc_call_enter(c)) {
        rc = m->on_message(c, msg);
        rpc_call_leave(c);
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    if (rc == FB_OK)
        rpc_call_start_recv(c);
}

void rpc_call_complete(struct rpc_tag *tag, bool ok)
{
    fb_call *c = tag->ptr;
    switch (tag->kind) {
    case TAG_CLOSE: on_close(c); break;
    case TAG_RECV: on_recv(c, ok); break;
    case TAG_SEND: rpc_on_send_done(c, ok); break;
    case TAG_FINAL:
        if (c->close_in_final)
            on_close(c);
        break;
    case TAG_HANDOFF: rpc_drain_handoffs(c->rpc); break;
    default: break;
    }
    fb_call_unref(c); /* the batch's reference */
}

/* ---- freeing (the call's log line: rpc_log.c) ----------------------------- */

static void call_free(fb_call *c)
{
    if (c->started) {
        rpc_log_call(c);
        rpc_live_remove(c->rpc, c);
    }
    if (c->call)
        grpc_call_unref(c->call);
    grpc_metadata_array_destroy(&c->md);
    grpc_call_details_destroy(&c->details);
    if (c->payload)
        grpc_byte_buffer_destroy(c->payload);
    if (c->recv_buf)
        grpc_byte_buffer_destroy(c->recv_buf);
    if (c->send_buf)
        grpc_byte_buffer_destroy(c->send_buf);
    if (c->final_buf)
        grpc_byte_buffer_destroy(c->final_buf);
    if (c->queue) {
        rpc_drop_queue_locked(c);
        free(c->queue);
    }
    free(c->status_msg);
    free(c->forced_msg);
    if (c->data_free)
        c->data_free(c->data); /* no callback can run any more: no one else holds the call */
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- what a handler can ask ---------------------------------------------- */

fb_server *fb_call_server(fb_call *c) { return c->rpc->srv; }

const fb_principal *fb_call_principal(fb_call *c) { return c->has_principal ? &c->principal : NULL; }

void fb_call_set_data(fb_call *c, void *data)
{
    fb_call_set_data_free(c, data, NULL);
}

void fb_call_set_data_free(fb_call *c, void *data, void (*free_fn)(void *data))
{
    pthread_mutex_lock(&c->mu);
    c->data = data;
    c->data_free = free_fn;
    pthread_mutex_unlock(&c->mu);
}

void *fb_call_data(fb_call *c)
{
    pthread_mutex_lock(&c->mu);
    void *d = c->data;
    pthread_mutex_unlock(&c->mu);
    return d;
}

bool fb_call_is_cancelled(fb_call *c)
{
    pthread_mutex_lock(&c->mu);
    bool v = c->cancelled;
    pthread_mutex_unlock(&c->mu);
    return v;
}

long fb_call_deadline_left_ms(fb_call *c)
{
    if (gpr_time_cmp(c->deadline, gpr_inf_future(c->deadline.clock_type)) == 0)
        return -1;
    gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
    gpr_timespec dl = gpr_convert_clock_type(c->deadline, GPR_CLOCK_MONOTONIC);
    if (gpr_time_cmp(dl, now) <= 0)
        return 0;
    gpr_timespec left = gpr_time_sub(dl, now);
    return (long)left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

/* ---- ending a call ------------------------------------------------------- */

bool rpc_call_end(fb_call *c, grpc_status_code code, const char *msg)
{
    pthread_mutex_lock(&c->mu);
    bool was_open = !c->ended;
    enum rpc_final how = FINAL_NONE;
    if (was_open) {
        set_status_locked(c, code, msg);
        if (!c->send_busy && c->q_len == 0)
            how = rpc_final_locked(c, NULL);
        /* else rpc_on_send_done starts it once the queue has drained */
    }
    pthread_mutex_unlock(&c->mu);
    rpc_final_finish(c, how);
    return was_open;
}

void fb_call_reply(fb_call *c, const ProtobufCMessage *reply)
{
    if (rpc_call_kind(c) == FB_RPC_SERVER_STREAM) {
        fb_call_send(c, reply);
        fb_call_finish(c, GRPC_STATUS_OK, NULL);
        return;
    }
    grpc_byte_buffer *bb = rpc_pack(reply);
    enum rpc_final how = FINAL_NONE;
    pthread_mutex_lock(&c->mu);
    if (!c->ended) {
        set_status_locked(c, GRPC_STATUS_OK, NULL);
        if (c->has_forced) {
            grpc_byte_buffer_destroy(bb); /* an aborted call gets no reply */
            bb = NULL;
        }
        how = rpc_final_locked(c, bb);
    } else {
        grpc_byte_buffer_destroy(bb);
    }
    pthread_mutex_unlock(&c->mu);
    rpc_final_finish(c, how);
    fb_call_unref(c);
}

void fb_call_fail(fb_call *c, grpc_status_code code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rpc_call_end(c, code, msg);
    fb_call_unref(c);
}

void fb_call_fail_err(fb_call *c, const fb_err *err)
{
    fb_call_fail(c, fb_status_of(err->code), "%s", err->msg[0] ? err->msg : fb_err_name(err->code));
}
