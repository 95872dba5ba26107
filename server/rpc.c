/* rpc.c — the gRPC server: lifecycle, worker threads, accepting calls,
 * authentication and dispatch to the handlers' method tables.
 *
 * Design. One completion queue, N worker threads blocked in
 * grpc_completion_queue_next; every event is a tag naming a call context and
 * what completed (see rpc_internal.h); the per-call state machine lives in
 * rpc_call.c. Every method of the tables is registered with the core
 * (registered calls skip a method lookup and, for unary and server-streaming
 * methods, arrive with their request already read: one completion fewer per
 * call). A few call requests are kept posted per method, and a few generic
 * ones so that a method nobody registered is answered UNIMPLEMENTED.
 *
 * Before any handler runs, the runtime authenticates the call (the
 * `authorization: Bearer <key>` metadata, fb_auth_check) and checks the
 * method's role bits, then decodes the request (INVALID_ARGUMENT if it
 * cannot). Handlers therefore only ever see an authorised principal and a
 * decoded message.
 *
 * Shutdown (fb_rpc_stop): mark stopping (health says NOT_SERVING, new calls
 * get UNAVAILABLE), grpc_server_shutdown_and_notify (stop accepting; posted
 * requests come back ok=0), on_cancel for every open stream so handlers end
 * them with UNAVAILABLE, wait for in-flight calls; after the grace period
 * cancel whatever is left, then shut the queue down, drain it and join.
 */
#include <grpc/grpc_security.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "rpc_internal.h"
#include "server.h"

enum {
    REQUESTS_PER_METHOD = 16,  /* calls that can arrive before a worker reposts */
    GENERIC_REQUESTS = 4,
    DEFAULT_STREAM_QUEUE = 1024,
    DEFAULT_MAX_MESSAGE = 1 << 20,
    DEFAULT_KEEPALIVE_MS = 30000,
    KEEPALIVE_TIMEOUT_MS = 10000,
    MIN_CLIENT_PING_MS = 10000, /* clients may ping this often without data */
    CANCEL_WAIT_MS = 1000,      /* after cancel_all_calls, before giving up */
};

/* ---- the list of live calls ---------------------------------------------- */

void rpc_live_add(fb_rpc *rpc, fb_call *c)
{
    pthread_mutex_lock(&rpc->mu);
    c->prev = NULL;
    c->next = rpc->live;
    if (rpc->live)
        rpc->live->prev = c;
    rpc->live = c;
    rpc->n_live++;
    pthread_mutex_unlock(&rpc->mu);
}

void rpc_live_remove(fb_rpc *rpc, fb_call *c)
{
    pthread_mutex_lock(&rpc->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        rpc->live = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (--rpc->n_live == 0)
        pthread_cond_broadcast(&rpc->cv);
    pthread_mutex_unlock(&rpc->mu);
}

/* ---- posting call requests ----------------------------------------------- */

static void post_request(fb_rpc *rpc, const struct rpc_method *reg)
{
    fb_call *c = rpc_call_new(rpc, reg);
    if (!c) {
        fb_error("rpc: out of memory posting a call request");
        return;
    }
    grpc_call_error e;
    if (reg) {
        bool has_payload = reg->m->kind != FB_RPC_CLIENT_STREAM;
        e = grpc_server_request_registered_call(rpc->server, reg->handle, &c->call, &c->deadline,
                                                &c->md, has_payload ? &c->payload : NULL,
                                                rpc->cq, rpc->cq, &c->t_new);
    } else {
        e = grpc_server_request_call(rpc->server, &c->call, &c->details, &c->md, rpc->cq,
                                     rpc->cq, &c->t_new);
    }
    if (e != GRPC_CALL_OK) {
        if (!atomic_load(&rpc->stopping))
            fb_error("rpc: cannot request calls (%d)", (int)e);
        fb_call_unref(c);
    }
}

/* ---- authentication ------------------------------------------------------ */

static void roles_text(unsigned roles, char *buf, size_t size)
{
    buf[0] = '\0';
    size_t used = 0;
    for (unsigned bit = 1; bit <= FB_ROLE_ADMIN; bit <<= 1) {
        if (!(roles & bit))
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? " or " : "", fb_role_name(bit));
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

/* Finds the key in `authorization: Bearer <key>`; false if absent or malformed. */
static bool bearer_key(const grpc_metadata_array *md, const char **key, size_t *len)
{
    for (size_t i = 0; i < md->count; i++) {
        if (grpc_slice_str_cmp(md->metadata[i].key, "authorization") != 0)
            continue;
        const char *v = (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value);
        size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
        if (n < 7 || strncasecmp(v, "bearer ", 7) != 0)
            return false;
        v += 7;
        n -= 7;
        while (n > 0 && *v == ' ') {
            v++;
            n--;
        }
        while (n > 0 && v[n - 1] == ' ')
            n--;
        *key = v;
        *len = n;
        return n > 0;
    }
    return false;
}

bool rpc_authorize(fb_call *c)
{
    const fb_method *m = c->reg->m;
    if (m->roles == 0)
        return true;
    const char *key;
    size_t len;
    if (!bearer_key(&c->md, &key, &len)) {
        rpc_call_end(c, GRPC_STATUS_UNAUTHENTICATED,
                     "missing authorization metadata: send 'authorization: Bearer <api-key>'");
        return false;
    }
    fb_auth *auth = c->rpc->srv->auth;
    if (!auth) {
        rpc_call_end(c, GRPC_STATUS_INTERNAL, "authentication is not configured on this server");
        return false;
    }
    fb_err err = {0};
    struct rpc_worker *w = pthread_getspecific(c->rpc->worker_key);
    if (w && !w->auth)
        w->auth = fb_auth_reader_new(auth);
    int rc = w && w->auth ? fb_auth_check_with(w->auth, key, len, &c->principal, &err)
                          : fb_auth_check(auth, key, len, &c->principal, &err);
    if (rc != FB_OK) {
        rpc_call_end(c, fb_status_of(rc), err.msg[0] ? err.msg : "unknown or revoked API key");
        return false;
    }
    c->has_principal = true;
    if (!(c->principal.role & m->roles)) {
        char needs[64], msg[256];
        roles_text(m->roles, needs, sizeof needs);
        const char *role = fb_role_name(c->principal.role);
        snprintf(msg, sizeof msg, "role '%s' may not call %s; needs %s", role ? role : "?",
                 m->path + 1, needs);
        rpc_call_end(c, GRPC_STATUS_PERMISSION_DENIED, msg);
        return false;
    }
    return true;
}

/* ---- a call arrived ------------------------------------------------------ */

static void dispatch(fb_call *c)
{
    fb_rpc *rpc = c->rpc;
    if (!c->reg) {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown method %.*s",
                 (int)(GRPC_SLICE_LENGTH(c->details.method) > 150 ? 150 : GRPC_SLICE_LENGTH(c->details.method)),
                 (const char *)GRPC_SLICE_START_PTR(c->details.method));
        rpc_call_end(c, GRPC_STATUS_UNIMPLEMENTED, msg);
        return;
    }
    if (atomic_load(&rpc->stopping)) {
        rpc_call_end(c, GRPC_STATUS_UNAVAILABLE, "server shutting down");
        return;
    }
    if (!rpc_authorize(c))
        return;
    const fb_method *m = c->reg->m;
    if (m->kind == FB_RPC_CLIENT_STREAM) {
        fb_call_ref(c); /* the handler's */
        rpc_call_start_recv(c);
        return;
    }
    if (!c->payload) {
        rpc_call_end(c, GRPC_STATUS_INVALID_ARGUMENT, "request: missing request message");
        return;
    }
    ProtobufCMessage *req = rpc_decode(m->request, c->payload);
    grpc_byte_buffer_destroy(c->payload);
    c->payload = NULL;
    if (!req) {
        char msg[160];
        snprintf(msg, sizeof msg, "request: cannot decode %s", m->request->name);
        rpc_call_end(c, GRPC_STATUS_INVALID_ARGUMENT, msg);
        return;
    }
    fb_call_ref(c); /* the handler's */
    m->on_request(c, req);
    protobuf_c_message_free_unpacked(req, NULL);
}

static void on_new_call(fb_call *c, bool ok)
{
    fb_rpc *rpc = c->rpc;
    if (!ok) { /* the server is shutting down: the request was never matched */
        fb_call_unref(c);
        return;
    }
    if (!atomic_load(&rpc->stopping))
        post_request(rpc, c->reg);
    if (!c->reg)
        c->deadline = c->details.deadline;
    /* From here until dispatch returns, on_cancel (a client cancel, or
     * fb_rpc_stop) is deferred: the handler has not got its reference yet. */
    rpc_call_start(c);
    dispatch(c);
    rpc_call_leave(c);
    fb_call_unref(c); /* the request tag's reference, held while dispatching */
}

/* ---- workers ------------------------------------------------------------- */

/* The next event; before waiting for one, the worker's buffered log lines
 * are written (a zero-deadline poll first tells whether it would wait). */
static grpc_event next_event(struct rpc_worker *w)
{
    if (w->log.len) {
        grpc_event ev = grpc_completion_queue_next(w->rpc->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type != GRPC_QUEUE_TIMEOUT)
            return ev;
        fb_logbuf_flush(&w->log);
    }
    return grpc_completion_queue_next(w->rpc->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
}

static void *worker_main(void *arg)
{
    struct rpc_worker *w = arg;
    fb_rpc *rpc = w->rpc;
    pthread_setname_np(pthread_self(), "fb-worker");
    pthread_setspecific(rpc->worker_key, w);
    for (;;) {
        grpc_event ev = next_event(w);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct rpc_tag *tag = ev.tag;
        switch (tag->kind) {
        case TAG_NEW_CALL:
            on_new_call(tag->ptr, ev.success != 0);
            break;
        case TAG_SHUTDOWN:
            pthread_mutex_lock(&rpc->mu);
            rpc->shutdown_done = true;
            pthread_cond_broadcast(&rpc->cv);
            pthread_mutex_unlock(&rpc->mu);
            break;
        default:
            rpc_call_complete(tag, ev.success != 0);
            break;
        }
    }
    fb_logbuf_flush(&w->log);
    fb_auth_reader_free(w->auth);
    return NULL;
}

/* ---- start --------------------------------------------------------------- */

/* "host:port" with a port 0..65535 and a non-empty host. */
static bool valid_listen(const char *s)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (!colon || colon == s || colon[1] == '\0')
        return false;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return *end == '\0' && port >= 0 && port <= 65535;
}

static int register_tables(fb_rpc *rpc, const fb_method *const *tables, fb_err *err)
{
    size_t n = 0;
    for (size_t t = 0; tables && tables[t]; t++)
        for (const fb_method *m = tables[t]; m->path; m++)
            n++;
    rpc->methods = calloc(n ? n : 1, sizeof *rpc->methods);
    if (!rpc->methods)
        return fb_err_set(err, FB_INTERNAL, "out of memory");
    for (size_t t = 0; tables && tables[t]; t++) {
        for (const fb_method *m = tables[t]; m->path; m++) {
            for (size_t i = 0; i < rpc->n_methods; i++)
                if (strcmp(rpc->methods[i].m->path, m->path) == 0)
                    return fb_err_set(err, FB_INVALID, "method %s: registered twice", m->path);
            bool ok = m->path[0] == '/' && m->request &&
                      (m->kind == FB_RPC_CLIENT_STREAM ? m->on_message && m->on_end : m->on_request != NULL);
            if (!ok)
                return fb_err_set(err, FB_INVALID, "method %s: incomplete table entry", m->path);
            if (m->kind != FB_RPC_UNARY && !m->on_cancel)
                return fb_err_set(err, FB_INVALID, "method %s: a stream needs on_cancel", m->path);
            grpc_server_register_method_payload_handling payload =
                m->kind == FB_RPC_CLIENT_STREAM ? GRPC_SRM_PAYLOAD_NONE
                                                : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER;
            void *h = grpc_server_register_method(rpc->server, m->path, NULL, payload, 0);
            if (!h)
                return fb_err_set(err, FB_INTERNAL, "method %s: gRPC refused to register it", m->path);
            rpc->methods[rpc->n_methods++] = (struct rpc_method){m, h};
        }
    }
    return FB_OK;
}

static grpc_server *create_server(const fb_rpc_opts *opts, size_t max_msg)
{
    int keepalive = opts->keepalive_ms > 0 ? opts->keepalive_ms : DEFAULT_KEEPALIVE_MS;
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = (int)max_msg}},
        {GRPC_ARG_INTEGER, GRPC_ARG_ALLOW_REUSEPORT, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = keepalive}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
         {.integer = keepalive < KEEPALIVE_TIMEOUT_MS ? keepalive : KEEPALIVE_TIMEOUT_MS}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, {.integer = 1}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
         {.integer = MIN_CLIENT_PING_MS}},
    };
    grpc_channel_args ch = {sizeof args / sizeof args[0], args};
    return grpc_server_create(&ch, NULL);
}

static void destroy_unstarted(fb_rpc *rpc)
{
    if (rpc->server)
        grpc_server_destroy(rpc->server);
    if (rpc->cq) {
        grpc_completion_queue_shutdown(rpc->cq);
        while (grpc_completion_queue_next(rpc->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_completion_queue_destroy(rpc->cq);
    }
    free(rpc->methods);
    pthread_mutex_destroy(&rpc->mu);
    pthread_cond_destroy(&rpc->cv);
    pthread_key_delete(rpc->worker_key);
    pthread_mutex_destroy(&rpc->drain_mu);
    free(rpc);
    grpc_shutdown();
}

int fb_rpc_start(fb_rpc **out, fb_server *srv, const fb_rpc_opts *opts,
                 const fb_method *const *tables, int *bound_port, fb_err *err)
{
    *out = NULL;
    if (!valid_listen(opts->listen))
        return fb_err_set(err, FB_INVALID, "listen: must be HOST:PORT, got '%s'",
                          opts->listen ? opts->listen : "");
    fb_rpc *rpc = calloc(1, sizeof *rpc);
    if (!rpc)
        return fb_err_set(err, FB_INTERNAL, "out of memory");
    grpc_init();
    rpc->srv = srv;
    rpc->max_message_bytes = opts->max_message_bytes ? opts->max_message_bytes : DEFAULT_MAX_MESSAGE;
    if (rpc->max_message_bytes > INT32_MAX)
        rpc->max_message_bytes = INT32_MAX;
    rpc->stream_queue_max = opts->stream_queue_max ? opts->stream_queue_max : DEFAULT_STREAM_QUEUE;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    rpc->n_workers = opts->threads > 0 ? opts->threads : (cores > 0 ? (int)cores : 2);
    atomic_init(&rpc->stopping, false);
    rpc->shutdown_tag = (struct rpc_tag){TAG_SHUTDOWN, rpc};
    pthread_mutex_init(&rpc->mu, NULL);
    pthread_cond_init(&rpc->cv, NULL);
    pthread_key_create(&rpc->worker_key, NULL);
    atomic_init(&rpc->handoff, NULL);
    atomic_init(&rpc->handoff_armed, false);
    pthread_mutex_init(&rpc->drain_mu, NULL);

    rpc->server = create_server(opts, rpc->max_message_bytes);
    rpc->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(rpc->server, rpc->cq, NULL);
    int rc = register_tables(rpc, tables, err);
    if (rc != FB_OK) {
        destroy_unstarted(rpc);
        return rc;
    }
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(rpc->server, opts->listen, creds);
    grpc_server_credentials_release(creds);
    if (port == 0) {
        destroy_unstarted(rpc);
        return fb_err_set(err, FB_UNAVAILABLE,
                          "listen: cannot bind %s (port in use, or not a local address)", opts->listen);
    }
    if (srv)
        srv->rpc = rpc; /* before the first call can arrive: health reads it */
    grpc_server_start(rpc->server);
    for (size_t i = 0; i < rpc->n_methods; i++)
        for (int k = 0; k < REQUESTS_PER_METHOD; k++)
            post_request(rpc, &rpc->methods[i]);
    for (int k = 0; k < GENERIC_REQUESTS; k++)
        post_request(rpc, NULL);

    rpc->workers = calloc((size_t)rpc->n_workers, sizeof *rpc->workers);
    for (int i = 0; rpc->workers && i < rpc->n_workers; i++) {
        rpc->workers[i].rpc = rpc;
        if (pthread_create(&rpc->workers[i].thread, NULL, worker_main, &rpc->workers[i]) != 0) {
            rpc->n_workers = i;
            break;
        }
    }
    if (!rpc->workers || rpc->n_workers == 0) {
        /* cannot serve without workers: stop what was started */
        if (!rpc->workers)
            rpc->n_workers = 0;
        fb_rpc_stop(rpc, 0);
        if (srv)
            srv->rpc = NULL;
        return fb_err_set(err, FB_INTERNAL, "cannot start worker threads");
    }
    if (bound_port)
        *bound_port = port;
    *out = rpc;
    return FB_OK;
}

/* ---- stop ---------------------------------------------------------------- */

bool fb_rpc_stopping(const fb_rpc *rpc)
{
    return rpc && atomic_load((atomic_bool *)&rpc->stopping);
}

/* on_cancel for every open stream, so handlers end them (UNAVAILABLE). */
static void cancel_streams(fb_rpc *rpc)
{
    pthread_mutex_lock(&rpc->mu);
    size_t n = 0, cap = rpc->n_live;
    fb_call **calls = cap ? malloc(cap * sizeof *calls) : NULL;
    for (fb_call *c = rpc->live; calls && c && n < cap; c = c->next)
        if (c->reg && c->reg->m->kind != FB_RPC_UNARY && rpc_call_try_ref(c))
            calls[n++] = c;
    pthread_mutex_unlock(&rpc->mu);
    for (size_t i = 0; i < n; i++) {
        rpc_call_notify_cancel(calls[i]);
        fb_call_unref(calls[i]);
    }
    free(calls);
}

static struct timespec deadline_in(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Waits until the server has shut down and every call is freed. */
static bool wait_drained(fb_rpc *rpc, int ms)
{
    struct timespec until = deadline_in(ms);
    pthread_mutex_lock(&rpc->mu);
    while (!(rpc->shutdown_done && rpc->n_live == 0))
        if (pthread_cond_timedwait(&rpc->cv, &rpc->mu, &until) != 0)
            break;
    bool done = rpc->shutdown_done && rpc->n_live == 0;
    pthread_mutex_unlock(&rpc->mu);
    return done;
}

void fb_rpc_stop(fb_rpc *rpc, int grace_ms)
{
    if (!rpc)
        return;
    atomic_store(&rpc->stopping, true);
    grpc_server_shutdown_and_notify(rpc->server, rpc->cq, &rpc->shutdown_tag);
    cancel_streams(rpc);
    bool drained = rpc->n_workers > 0 && wait_drained(rpc, grace_ms > 0 ? grace_ms : 0);
    if (!drained && rpc->n_workers > 0) {
        pthread_mutex_lock(&rpc->mu);
        size_t left = rpc->n_live;
        pthread_mutex_unlock(&rpc->mu);
        fb_info("rpc: grace period over, cancelling %zu call(s)", left);
        grpc_server_cancel_all_calls(rpc->server);
        drained = wait_drained(rpc, CANCEL_WAIT_MS);
    }
    if (!drained && rpc->n_workers > 0) {
        /* A handler still holds a call; its next batch would touch a
         * destroyed queue. Leave the runtime running: the process is
         * about to exit anyway. */
        fb_error("rpc: calls still held by handlers after shutdown; not freeing the runtime");
        return;
    }
    grpc_completion_queue_shutdown(rpc->cq);
    if (rpc->n_workers == 0) {
        while (grpc_completion_queue_next(rpc->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN) {
        }
    }
    for (int i = 0; i < rpc->n_workers; i++)
        pthread_join(rpc->workers[i].thread, NULL);
    grpc_server_destroy(rpc->server);
    grpc_completion_queue_destroy(rpc->cq);
    if (rpc->srv && rpc->srv->rpc == rpc)
        rpc->srv->rpc = NULL;
    free(rpc->workers);
    free(rpc->methods);
    pthread_mutex_destroy(&rpc->mu);
    pthread_cond_destroy(&rpc->cv);
    pthread_key_delete(rpc->worker_key);
    pthread_mutex_destroy(&rpc->drain_mu);
    free(rpc);
    grpc_shutdown();
}
