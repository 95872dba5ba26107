/* rpc_stream.c — server streams: a bounded outgoing queue per call with
 * exactly one SEND_MESSAGE in flight (gRPC allows one operation of each type
 * at a time per call).
 *
 * fb_call_send packs the message at once (the caller may free it);
 * fb_call_send_packed shares one packing among many streams (the alert hub
 * packs an alert once for all its subscribers). Either then
 * starts the send or appends the packed buffer to a ring that grows by
 * doubling up to fb_rpc_opts.stream_queue_max, so an idle stream holds no
 * buffer at all and a slow reader can hold at most the bound; beyond it the
 * caller gets FB_EXHAUSTED and ends the stream (the client resumes from its
 * last seq). Each completed send starts the next; when the handler has
 * ended the stream (fb_call_finish) the status goes out after the ring has
 * drained. A failed send means the stream is dead: the ring is dropped.
 * No thread per stream: everything runs on the completion queue's workers.
 *
 * Not used: GRPC_WRITE_BUFFER_HINT. In chttp2 (1.51) a hinted message does
 * not make its stream writable, and its SEND_MESSAGE completes only once its
 * bytes are written; with one send in flight per call the next (unhinted)
 * send would wait for that completion, so the stream would stall until the
 * 64 KiB write buffer filled. Writes of different streams of one connection
 * are coalesced by the transport anyway while a write is in progress.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc_internal.h"

void rpc_start_send_locked(fb_call *c, grpc_byte_buffer *bb)
{
    grpc_op ops[2];
    size_t n = rpc_add_initial_md_locked(c, &ops[0]);
    memset(&ops[n], 0, sizeof ops[n]);
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n].data.send_message.send_message = bb;
    n++;
    c->send_buf = bb;
    c->send_busy = true;
    if (!rpc_start_batch_locked(c, ops, n, &c->t_send)) {
        c->send_buf = NULL;
        c->send_busy = false;
        grpc_byte_buffer_destroy(bb);
    }
}

void rpc_drop_queue_locked(fb_call *c)
{
    while (c->q_len > 0) {
        grpc_byte_buffer_destroy(c->queue[c->q_head]);
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
    }
}

void rpc_on_send_done(fb_call *c, bool ok)
{
    enum rpc_final how = FINAL_NONE;
    pthread_mutex_lock(&c->mu);
    grpc_byte_buffer_destroy(c->send_buf);
    c->send_buf = NULL;
    c->send_busy = false;
    if (!ok)
        rpc_drop_queue_locked(c); /* the stream is dead: nothing more can be written */
    if (c->q_len > 0) {
        grpc_byte_buffer *next = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        rpc_start_send_locked(c, next);
    } else if (c->ended && !c->final_started) {
        how = rpc_final_locked(c, NULL);
    }
    pthread_mutex_unlock(&c->mu);
    rpc_final_finish(c, how);
}

static bool queue_push_locked(fb_call *c, grpc_byte_buffer *bb)
{
    size_t max = c->rpc->stream_queue_max;
    if (c->q_len >= max)
        return false;
    if (c->q_len == c->q_cap) { /* grow by doubling, up to the bound */
        size_t cap = c->q_cap ? c->q_cap * 2 : 8;
        if (cap > max)
            cap = max;
        grpc_byte_buffer **q = malloc(cap * sizeof *q);
        if (!q)
            return false;
        for (size_t i = 0; i < c->q_len; i++)
            q[i] = c->queue[(c->q_head + i) % c->q_cap];
        free(c->queue);
        c->queue = q;
        c->q_cap = cap;
        c->q_head = 0;
    }
    c->queue[(c->q_head + c->q_len) % c->q_cap] = bb;
    c->q_len++;
    return true;
}

/* Queues bb (taking it) or starts its send. */
static int send_buffer(fb_call *c, grpc_byte_buffer *bb)
{
    int rc = FB_OK;
    pthread_mutex_lock(&c->mu);
    if (c->ended || c->cancelled || c->closed || rpc_call_kind(c) != FB_RPC_SERVER_STREAM) {
        rc = FB_UNAVAILABLE;
    } else if (!c->send_busy) {
        rpc_start_send_locked(c, bb);
        bb = NULL;
    } else if (queue_push_locked(c, bb)) {
        bb = NULL;
    } else {
        rc = FB_EXHAUSTED;
    }
    pthread_mutex_unlock(&c->mu);
    if (bb)
        grpc_byte_buffer_destroy(bb);
    return rc;
}

int fb_call_send(fb_call *c, const ProtobufCMessage *msg)
{
    return send_buffer(c, rpc_pack(msg));
}

/* An fb_packed is a raw byte buffer holding one slice; each stream sends a
 * copy of the buffer, which shares the slice (a reference, not the bytes). */
fb_packed *fb_pack(const ProtobufCMessage *msg)
{
    return (fb_packed *)rpc_pack(msg);
}

void fb_packed_free(fb_packed *p)
{
    if (p)
        grpc_byte_buffer_destroy((grpc_byte_buffer *)p);
}

int fb_call_send_packed(fb_call *c, const fb_packed *p)
{
    grpc_byte_buffer *bb = grpc_byte_buffer_copy((grpc_byte_buffer *)p);
    if (!bb)
        return FB_UNAVAILABLE;
    return send_buffer(c, bb);
}

size_t fb_call_send_backlog(fb_call *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->q_len + (c->send_busy ? 1 : 0);
    pthread_mutex_unlock(&c->mu);
    return n;
}

void fb_call_finish(fb_call *c, grpc_status_code code, const char *msg)
{
    rpc_call_end(c, code, msg);
    fb_call_unref(c);
}
