/* echo_server.c — the ingest benchmark's ceiling: our own gRPC runtime
 * (server/rpc.c, rpc_call.c) with a handler that does no work.
 *
 * It serves /feedback.v1.Ingest/SubmitResponse with the same framing as
 * feedbackd — the runtime decodes the SubmitResponseRequest, the handler
 * answers a Submitted of the same shape a real reply has — but no key, no
 * validation, no store. tools/bench/ingest drives it and feedbackd with the
 * same h2load load, so the ratio of the two rates is the cost of ingest
 * itself. Health is served too, so readiness can be probed.
 *
 * With --test-methods it also serves three runtime test methods (used by
 * tests/e2e/test_runtime.py; the names are borrowed from the contract so
 * the descriptor set describes their messages, the behaviour is not the
 * contract's):
 *   Ingest/Import      client stream: counts items (accepted); an item whose
 *                      response.score is 99 makes the handler fail the call
 *                      with INVALID_ARGUMENT.
 *   Alerts/Subscribe   server stream: after_seq alerts (seq 1..n, excerpt of
 *                      survey_ids[0] bytes if numeric), then stays open until
 *                      cancelled or the server stops; a full queue ends it
 *                      with RESOURCE_EXHAUSTED; survey_ids[1] = "finish"
 *                      ends it with OK after the sends.
 *   Alerts/Ack         unary answered from another thread after `note`
 *                      milliseconds (an in-flight call at shutdown).
 * With --data-dir DIR (a feedbackd data directory) it opens the store and
 * auth modules and serves Alerts/ListAlerts with the roles alerts|admin,
 * answering an empty page and naming the caller's tenant in
 * next_page_token: the runtime's authentication, tested with real keys.
 *
 *   echo_server [--listen HOST:PORT] [--threads N] [--test-methods]
 *               [--stream-queue N] [--max-message-bytes N]
 * Prints "listening on HOST:PORT" (the bound port) on stdout, stops on
 * SIGINT/SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback/v1/alerts.pb-c.h"
#include "feedback/v1/ingest.pb-c.h"
#include "log.h"
#include "rpc.h"
#include "server.h"

static void echo_submit(fb_call *call, const ProtobufCMessage *msg)
{
    const Feedback__V1__SubmitResponseRequest *req = (const void *)msg;
    Feedback__V1__Submitted out = FEEDBACK__V1__SUBMITTED__INIT;
    Feedback__V1__Sentiment sentiment = FEEDBACK__V1__SENTIMENT__INIT;
    out.id = "01JECHOECHOECHOECHOECHOECH"; /* the size of a real id */
    int score = req->score_present_case == FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE
                    ? req->score : 0;
    out.category = score >= 9 ? FEEDBACK__V1__CATEGORY__PROMOTER
                   : score >= 7 ? FEEDBACK__V1__CATEGORY__PASSIVE
                                : FEEDBACK__V1__CATEGORY__DETRACTOR;
    sentiment.language = "en";
    out.sentiment = &sentiment;
    fb_call_reply(call, &out.base);
}

static const fb_method echo_methods[] = {
    {.path = "/feedback.v1.Ingest/SubmitResponse",
     .kind = FB_RPC_UNARY,
     .request = &feedback__v1__submit_response_request__descriptor,
     .on_request = echo_submit},
    {.path = NULL},
};

/* ---- test methods ---- */

typedef struct import_state {
    unsigned count;
} import_state;

static int import_message(fb_call *call, const ProtobufCMessage *msg)
{
    const Feedback__V1__ImportItem *item = (const void *)msg;
    import_state *st = fb_call_data(call);
    if (!st) {
        st = calloc(1, sizeof *st);
        fb_call_set_data(call, st);
    }
    if (item->item_case == FEEDBACK__V1__IMPORT_ITEM__ITEM_RESPONSE &&
        item->response->score_present_case == FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE &&
        item->response->score == 99) {
        unsigned n = st->count;
        free(st);
        fb_call_set_data(call, NULL);
        fb_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "item %u: score: 99 is refused here", n);
        return FB_INVALID;
    }
    st->count++;
    return FB_OK;
}

static void import_end(fb_call *call)
{
    import_state *st = fb_call_data(call);
    Feedback__V1__ImportSummary sum = FEEDBACK__V1__IMPORT_SUMMARY__INIT;
    sum.accepted = st ? st->count : 0;
    free(st);
    fb_call_set_data(call, NULL);
    fb_call_reply(call, &sum.base);
}

static void import_cancel(fb_call *call)
{
    free(fb_call_data(call));
    fb_call_set_data(call, NULL);
    fb_call_fail(call, GRPC_STATUS_CANCELLED, "import cancelled");
}

static void subscribe(fb_call *call, const ProtobufCMessage *msg)
{
    const Feedback__V1__SubscribeRequest *req = (const void *)msg;
    size_t excerpt_len = req->n_survey_ids > 0 ? (size_t)atol(req->survey_ids[0]) : 0;
    char *excerpt = calloc(1, excerpt_len + 1);
    memset(excerpt, 'x', excerpt_len);
    for (uint64_t seq = 1; seq <= req->after_seq; seq++) {
        Feedback__V1__Alert a = FEEDBACK__V1__ALERT__INIT;
        a.seq = seq;
        a.excerpt = excerpt;
        int rc = fb_call_send(call, &a.base);
        if (rc == FB_EXHAUSTED) {
            fb_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "stream queue full: resume from the last seq");
            free(excerpt);
            return;
        }
        if (rc != FB_OK)
            break; /* the call is over; on_cancel ends it */
    }
    free(excerpt);
    if (req->n_survey_ids > 1 && strcmp(req->survey_ids[1], "finish") == 0)
        fb_call_finish(call, GRPC_STATUS_OK, NULL);
    /* else: stays open, ended by on_cancel */
}

static void subscribe_cancel(fb_call *call)
{
    if (fb_rpc_stopping(fb_call_server(call)->rpc))
        fb_call_finish(call, GRPC_STATUS_UNAVAILABLE, "server shutting down");
    else
        fb_call_finish(call, GRPC_STATUS_CANCELLED, "cancelled");
}

typedef struct slow_reply {
    fb_call *call;
    long ms;
} slow_reply;

static void *slow_reply_main(void *arg)
{
    slow_reply *r = arg;
    struct timespec ts = {r->ms / 1000, (r->ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    Feedback__V1__Alert a = FEEDBACK__V1__ALERT__INIT;
    a.id = "acked";
    fb_call_reply(r->call, &a.base); /* from a thread that is not a worker */
    free(r);
    return NULL;
}

static void ack(fb_call *call, const ProtobufCMessage *msg)
{
    const Feedback__V1__AckRequest *req = (const void *)msg;
    slow_reply *r = malloc(sizeof *r);
    r->call = call;
    r->ms = req->note ? atol(req->note) : 0;
    pthread_t t;
    if (pthread_create(&t, NULL, slow_reply_main, r) != 0) {
        free(r);
        fb_call_fail(call, GRPC_STATUS_INTERNAL, "cannot start a thread");
        return;
    }
    pthread_detach(t);
}

static const fb_method test_methods[] = {
    {.path = "/feedback.v1.Ingest/Import",
     .kind = FB_RPC_CLIENT_STREAM,
     .request = &feedback__v1__import_item__descriptor,
     .on_message = import_message,
     .on_end = import_end,
     .on_cancel = import_cancel},
    {.path = "/feedback.v1.Alerts/Subscribe",
     .kind = FB_RPC_SERVER_STREAM,
     .request = &feedback__v1__subscribe_request__descriptor,
     .on_request = subscribe,
     .on_cancel = subscribe_cancel},
    {.path = "/feedback.v1.Alerts/Ack",
     .kind = FB_RPC_UNARY,
     .request = &feedback__v1__ack_request__descriptor,
     .on_request = ack},
    {.path = NULL},
};

static void list_alerts(fb_call *call, const ProtobufCMessage *msg)
{
    (void)msg;
    Feedback__V1__AlertPage page = FEEDBACK__V1__ALERT_PAGE__INIT;
    page.next_page_token = (char *)fb_call_principal(call)->tenant;
    fb_call_reply(call, &page.base);
}

static const fb_method auth_methods[] = {
    {.path = "/feedback.v1.Alerts/ListAlerts",
     .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_ALERTS | FB_ROLE_ADMIN,
     .request = &feedback__v1__alert_query__descriptor,
     .on_request = list_alerts},
    {.path = NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: echo_server [--listen HOST:PORT] [--threads N] [--test-methods]\n"
               "                   [--stream-queue N] [--max-message-bytes N] [--data-dir DIR]\n");
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0";
    int threads = 0;
    bool test = false;
    size_t stream_queue = 0, max_message = 0;
    const char *data_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if (strcmp(argv[i], "--test-methods") == 0) {
            test = true;
        } else if (strcmp(argv[i], "--stream-queue") == 0 && i + 1 < argc) {
            stream_queue = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--max-message-bytes") == 0 && i + 1 < argc) {
            max_message = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    fb_log_set_level(FB_LOG_WARN); /* no per-call lines: measure the runtime, not stderr */

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    fb_server srv = {.data_dir = data_dir};
    fb_err err = {0};
    if (data_dir && (fb_store_open(&srv.store, data_dir, NULL, &err) != FB_OK ||
                     fb_auth_open(&srv.auth, srv.store, &err) != FB_OK)) {
        fprintf(stderr, "echo_server: %s\n", err.msg);
        if (srv.store)
            fb_store_close(srv.store);
        return 1;
    }
    const fb_method *tables[5] = {echo_methods, fb_health_methods};
    int n_tables = 2;
    if (test)
        tables[n_tables++] = test_methods;
    if (data_dir)
        tables[n_tables++] = auth_methods;
    tables[n_tables] = NULL;
    fb_rpc_opts opts = {.listen = listen, .threads = threads, .stream_queue_max = stream_queue,
                        .max_message_bytes = max_message};
    int port = 0;
    if (fb_rpc_start(&srv.rpc, &srv, &opts, tables, &port, &err) != FB_OK) {
        fprintf(stderr, "echo_server: %s\n", err.msg);
        if (srv.auth)
            fb_auth_close(srv.auth);
        if (srv.store)
            fb_store_close(srv.store);
        return 1;
    }
    char host[256];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    printf("listening on %s:%d\n", host, port);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    fb_rpc_stop(srv.rpc, 2000);
    if (srv.auth)
        fb_auth_close(srv.auth);
    if (srv.store)
        fb_store_close(srv.store);
    return 0;
}
