/* rpc_internal.h — the runtime's private structures, shared by rpc.c (server
 * lifecycle, workers, accepting and dispatching calls) and rpc_call.c (one
 * call's state machine: batches, replies, streams, cancellation, logging).
 * Nothing outside the runtime includes this.
 */
#ifndef FB_RPC_INTERNAL_H
#define FB_RPC_INTERNAL_H

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "log.h"
#include "rpc.h"

/* What a completion-queue tag stands for. Each call context embeds one tag
 * per kind of batch it can have in flight (gRPC allows at most one operation
 * of each type at a time), so a tag needs no allocation. */
enum rpc_tag_kind {
    TAG_NEW_CALL,   /* a requested call arrived (or the request was cancelled) */
    TAG_CLOSE,      /* RECV_CLOSE_ON_SERVER: the call is over on the wire */
    TAG_RECV,       /* RECV_MESSAGE of a client stream */
    TAG_SEND,       /* one SEND_MESSAGE of a server stream */
    TAG_FINAL,      /* the final batch: [initial metadata] [message] status */
    TAG_HANDOFF,    /* an empty batch: brings the final batch onto a worker */
    TAG_SHUTDOWN,   /* grpc_server_shutdown_and_notify finished */
};

struct rpc_tag {
    enum rpc_tag_kind kind;
    void *ptr;      /* the fb_call, or the fb_rpc for TAG_SHUTDOWN */
};

/* One registered method: its table entry and gRPC's handle for it. */
struct rpc_method {
    const fb_method *m;
    void *handle;
};

/* A worker thread, its per-call log lines (see log.h) and its reader for
 * the key checks (auth.h; made on first use, freed when the worker ends). */
struct rpc_worker {
    fb_rpc *rpc;
    pthread_t thread;
    fb_auth_reader *auth;
    fb_logbuf log;
};

struct fb_rpc {
    fb_server *srv;
    grpc_server *server;
    grpc_completion_queue *cq;
    struct rpc_worker *workers;
    int n_workers;
    pthread_key_t worker_key; /* the calling worker's struct rpc_worker (NULL off the workers) */
    size_t max_message_bytes;
    size_t stream_queue_max;
    struct rpc_method *methods;
    size_t n_methods;
    atomic_bool stopping;
    struct rpc_tag shutdown_tag;

    /* Final batches handed to the workers (see rpc_final_locked):
     * a stack of calls waiting, and whether an empty batch is on its way
     * to drain them (or a worker is draining). */
    _Atomic(fb_call *) handoff;
    atomic_bool handoff_armed;
    pthread_mutex_t drain_mu;  /* the senders' FIFO of handed-off calls */
    fb_call *drain_head;

    pthread_mutex_t mu;      /* guards the fields below */
    pthread_cond_t cv;       /* signalled on shutdown_done and when n_live hits 0 */
    bool shutdown_done;
    fb_call *live;           /* started calls not yet freed (doubly linked) */
    size_t n_live;
};

struct fb_call {
    fb_rpc *rpc;
    const struct rpc_method *reg;  /* NULL: a generic call (unknown method) */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_call_details details;     /* generic calls only */
    grpc_byte_buffer *payload;     /* the request of a registered unary/server-stream call */
    grpc_byte_buffer *recv_buf;    /* the RECV_MESSAGE in flight (client streams) */
    grpc_byte_buffer *send_buf;    /* the SEND_MESSAGE in flight (server streams) */
    grpc_byte_buffer *final_buf;   /* the reply in the final batch */
    int close_cancelled;           /* out-parameter of RECV_CLOSE_ON_SERVER */
    bool close_in_final;           /* RECV_CLOSE_ON_SERVER is in the final batch (see rpc_call_start) */
    struct rpc_tag t_new, t_close, t_recv, t_send, t_final, t_handoff;

    atomic_int refs;               /* the last unref frees the call */
    pthread_mutex_t mu;            /* guards everything below */
    bool started;                  /* the call arrived and is in rpc->live */
    bool md_sent;                  /* SEND_INITIAL_METADATA has been started */
    bool ended;                    /* the handler (or runtime) chose the status */
    bool final_started;            /* the status batch has been started (or handed off) */
    fb_call *handoff_next;         /* in rpc->handoff's stack */
    bool closed;                   /* RECV_CLOSE_ON_SERVER completed */
    bool cancelled;                /* ... with cancelled = 1 (client, deadline, shutdown) */
    bool cancel_notified;          /* on_cancel has been called */
    int in_callback;               /* dispatch, on_request/on_message/on_end running (nesting count) */
    bool cancel_deferred;          /* on_cancel waits for that callback to return */
    bool send_busy;                /* a SEND_MESSAGE is in flight */
    bool has_forced;               /* the runtime aborted the call: this status wins */
    grpc_status_code status, forced_status;
    char *status_msg, *forced_msg;
    grpc_byte_buffer **queue;      /* ring of packed messages waiting to be sent */
    size_t q_head, q_len, q_cap;

    fb_principal principal;
    bool has_principal;
    void *data;
    void (*data_free)(void *data); /* called from call_free */
    struct timespec t0;            /* when the call arrived (CLOCK_MONOTONIC) */
    fb_call *prev, *next;          /* rpc->live */
};

/* rpc_call.c */
fb_call *rpc_call_new(fb_rpc *rpc, const struct rpc_method *reg);
void rpc_call_complete(struct rpc_tag *tag, bool ok);   /* TAG_CLOSE, RECV, SEND, FINAL */
/* The call arrived: live list, RECV_CLOSE batch; on_cancel is deferred
 * until rpc_call_leave (the end of dispatch). */
void rpc_call_start(fb_call *c);
void rpc_call_start_recv(fb_call *c);     /* next RECV_MESSAGE of a client stream */
/* Ends the call with this status without consuming a reference. Returns
 * false if it had already ended (nothing changed). */
bool rpc_call_end(fb_call *c, grpc_status_code code, const char *msg);
/* Calls the method's on_cancel once, unless the call has already ended;
 * never while one of the call's other callbacks runs (it is deferred until
 * that callback returns). */
void rpc_call_notify_cancel(fb_call *c);
/* Marks a handler callback running / returned (for the deferral above).
 * rpc_call_enter returns false (and marks nothing) when on_cancel has
 * already run or the call has ended: skip the callback then. */
bool rpc_call_enter(fb_call *c);
void rpc_call_leave(fb_call *c);
/* Unpacks a byte buffer into the method's request type; NULL on failure. */
ProtobufCMessage *rpc_decode(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb);
/* Takes a reference unless the context is already being freed. */
bool rpc_call_try_ref(fb_call *c);
const char *rpc_status_name(grpc_status_code code);
/* rpc_log.c: the call's log line (once, when it is freed). */
void rpc_log_call(fb_call *c);
enum fb_method_kind rpc_call_kind(const fb_call *c);
grpc_byte_buffer *rpc_pack(const ProtobufCMessage *msg);
/* Batches; called with c->mu held (except rpc_send_final). */
bool rpc_start_batch_locked(fb_call *c, const grpc_op *ops, size_t n, struct rpc_tag *tag);
size_t rpc_add_initial_md_locked(fb_call *c, grpc_op *op);
/* Marks the call's final batch started (reply: its message, or NULL) and
 * says how it goes out: FINAL_SEND on a worker, FINAL_HANDED elsewhere (the
 * store's syncer: handed to the workers). The caller then releases c->mu
 * and calls rpc_final_finish (still holding its reference to c). */
enum rpc_final { FINAL_NONE, FINAL_SEND, FINAL_HANDED };
enum rpc_final rpc_final_locked(fb_call *c, grpc_byte_buffer *reply);
void rpc_final_finish(fb_call *c, enum rpc_final how);
void rpc_send_final(fb_call *c);

/* rpc_stream.c */
void rpc_start_send_locked(fb_call *c, grpc_byte_buffer *bb);
void rpc_drop_queue_locked(fb_call *c);
void rpc_on_send_done(fb_call *c, bool ok);     /* TAG_SEND completed */

/* rpc.c */
void rpc_live_add(fb_rpc *rpc, fb_call *c);
void rpc_live_remove(fb_rpc *rpc, fb_call *c);
bool rpc_authorize(fb_call *c);           /* false: the call has been failed */

#endif
