/* rpc.h — the gRPC runtime's contract with the handlers.
 *
 * The runtime (rpc.c) owns everything gRPC: the completion queue, worker
 * threads, one small state machine per call, registered methods, deadlines,
 * cancellation, message size limits, authentication and per-call logging.
 * Handlers (rpc_ingest.c, rpc_insights.c, rpc_alerts.c, rpc_admin.c,
 * rpc_health.c) see only decoded protobuf-c messages and this API: they are
 * thin glue from messages to engine calls and from fb_err codes to statuses.
 *
 * Lifetime: the runtime gives a handler one reference to the call. The
 * handler ends a unary or client-streaming call exactly once with
 * fb_call_reply() or fb_call_fail*() — at once, or later from any thread
 * (e.g. a store done-callback); that consumes the reference. A server stream
 * is ended with fb_call_finish(), which also consumes it. Anyone else holding
 * the call (a subscriber list) takes its own fb_call_ref() and drops it with
 * fb_call_unref().
 */
#ifndef FB_RPC_H
#define FB_RPC_H

#include <grpc/grpc.h>
#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "error.h"

typedef struct fb_server fb_server;
typedef struct fb_call fb_call;

enum fb_method_kind {
    FB_RPC_UNARY,
    FB_RPC_CLIENT_STREAM,
    FB_RPC_SERVER_STREAM,
};

typedef struct fb_method {
    const char *path;                /* "/feedback.v1.Ingest/SubmitResponse" */
    enum fb_method_kind kind;
    unsigned roles;                  /* allowed FB_ROLE_* bits; 0: no key needed */
    const ProtobufCMessageDescriptor *request;
    /* UNARY, SERVER_STREAM: the decoded request (freed by the runtime after
     * the handler returns: copy what you keep). */
    void (*on_request)(fb_call *call, const ProtobufCMessage *req);
    /* CLIENT_STREAM: each message in order, then on_end once the client has
     * half-closed. Return FB_OK to go on; anything else stops reading (the
     * handler must then end the call itself). */
    int (*on_message)(fb_call *call, const ProtobufCMessage *msg);
    void (*on_end)(fb_call *call);
    /* Optional for unary methods, required for streams (fb_rpc_start refuses
     * a stream without it). The client cancelled or the deadline passed, or the server is
     * shutting down. Never runs while this call's on_request/on_message/
     * on_end runs (it waits until that returns). Called once, on a worker
     * thread (at shutdown: the stopping thread); the handler should drop
     * any reference it keeps and end the call if it has not (for a stream,
     * fb_call_finish). */
    void (*on_cancel)(fb_call *call);
} fb_method;

/* ---- what a handler can ask ---- */
fb_server *fb_call_server(fb_call *call);
const fb_principal *fb_call_principal(fb_call *call); /* NULL when roles == 0 */
void fb_call_set_data(fb_call *call, void *data);       /* handler's per-call state */
void *fb_call_data(fb_call *call);
/* Like fb_call_set_data, and free_fn(data) runs when the call's last
 * reference is dropped: after every callback (on_cancel included) has
 * returned and the handler's reference has been consumed. State reachable
 * from both on_cancel and another thread (a store done-callback) then lives
 * exactly as long as the call, whichever of them ends it. A later
 * fb_call_set_data* replaces data and free_fn (without calling free_fn). */
void fb_call_set_data_free(fb_call *call, void *data, void (*free_fn)(void *data));
bool fb_call_is_cancelled(fb_call *call);
/* Milliseconds until the deadline, or -1 for none. */
long fb_call_deadline_left_ms(fb_call *call);

/* ---- ending a call (each consumes the handler's reference) ---- */
void fb_call_reply(fb_call *call, const ProtobufCMessage *reply);
void fb_call_fail(fb_call *call, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps an engine error code to its status (FB_INVALID -> INVALID_ARGUMENT...). */
void fb_call_fail_err(fb_call *call, const fb_err *err);
grpc_status_code fb_status_of(int fb_code);

/* ---- server streams ---- */
/* Queues one message for sending (packed at once, so msg may be freed after
 * the call). At most one send is in flight; the queue is bounded. Returns
 * FB_OK, FB_EXHAUSTED (queue full: the caller should fb_call_finish with
 * RESOURCE_EXHAUSTED so the client resumes from its last seq), or
 * FB_UNAVAILABLE (the call is over). Thread-safe. */
int fb_call_send(fb_call *call, const ProtobufCMessage *msg);
/* A message packed once, to be sent on many streams (an alert fanned out to
 * every subscriber): each fb_call_send_packed shares its bytes (a reference,
 * no copy). fb_pack returns NULL if out of memory. fb_packed_free drops the
 * packer's reference; streams keep theirs until their write completes. */
typedef struct fb_packed fb_packed;
fb_packed *fb_pack(const ProtobufCMessage *msg);
void fb_packed_free(fb_packed *p);
/* fb_call_send with an already packed message; same results. Thread-safe. */
int fb_call_send_packed(fb_call *call, const fb_packed *p);
/* Number of messages queued and not yet written. */
size_t fb_call_send_backlog(fb_call *call);
/* Ends a stream after the queued messages are written. Thread-safe; later
 * calls are ignored. Consumes one reference. */
void fb_call_finish(fb_call *call, grpc_status_code code, const char *msg);

void fb_call_ref(fb_call *call);
void fb_call_unref(fb_call *call);

/* ---- the server ---- */
typedef struct fb_rpc_opts {
    const char *listen;        /* "127.0.0.1:50051" */
    int threads;               /* worker threads; 0: number of cores */
    size_t max_message_bytes;  /* 0: 1 MiB */
    size_t stream_queue_max;   /* messages per server stream; 0: 1024 */
    int keepalive_ms;          /* HTTP/2 pings to find dead peers; 0: 30 s */
} fb_rpc_opts;

typedef struct fb_rpc fb_rpc;

/* Binds, registers every method of the NULL-path-terminated tables, starts
 * workers. Errors: FB_INVALID (bad address; a method twice, an incomplete
 * entry, a stream without on_cancel), FB_UNAVAILABLE (port taken),
 * FB_INTERNAL. *bound_port gets the port (useful with port 0). */
int fb_rpc_start(fb_rpc **out, fb_server *srv, const fb_rpc_opts *opts,
                 const fb_method *const *tables, int *bound_port, fb_err *err);
/* Stops accepting calls, lets unary calls finish, ends streams with
 * UNAVAILABLE (via on_cancel), joins workers, frees. Bounded by grace_ms. */
void fb_rpc_stop(fb_rpc *rpc, int grace_ms);
/* True once fb_rpc_stop has begun (health answers NOT_SERVING). */
bool fb_rpc_stopping(const fb_rpc *rpc);

/* ---- the method tables (each defined in its rpc_*.c; main.c lists them) ----
 * Notes for handler authors (runtime behaviour):
 * - fb_rpc_start sets srv->rpc before the first call can arrive.
 * - Every call ends with exactly one status; ending it again is ignored, but
 *   each ending call still consumes the reference it was given.
 * - Streams (client or server) must set on_cancel: it is how they learn of
 *   a client cancel, a deadline, a
 *   broken client stream (the runtime's status then wins over the one the
 *   handler picks) and of shutdown (then end with UNAVAILABLE). During
 *   fb_rpc_stop it is called from the stopping thread.
 * - on_cancel is decided under the call's lock and called outside it: if a
 *   handler ends the call from another thread (a store callback) at that
 *   moment, on_cancel may still run after the call has ended. A handler must
 *   therefore keep its own "ended" flag (under its own lock) and not end the
 *   call twice, and its per-call state must outlive on_cancel: tie it to the
 *   call with fb_call_set_data_free rather than freeing it when it ends the
 *   call. */
extern const fb_method fb_health_methods[];   /* rpc_health.c (runtime) */
extern const fb_method fb_ingest_methods[];   /* rpc_ingest.c */
extern const fb_method fb_keys_methods[];     /* rpc_keys.c */
extern const fb_method fb_feedback_methods[]; /* rpc_feedback.c */
extern const fb_method fb_dash_methods[];     /* rpc_dash.c */
extern const fb_method fb_alerts_methods[];   /* rpc_alerts.c */

#endif
