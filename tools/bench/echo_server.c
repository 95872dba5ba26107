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
 *   echo_server [--listen HOST:PORT] [--threads N]
 * Prints "listening on HOST:PORT" (the bound port) on stdout, stops on
 * SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void usage(FILE *f)
{
    fprintf(f, "usage: echo_server [--listen HOST:PORT] [--threads N]\n");
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0";
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
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

    fb_server srv = {0};
    const fb_method *const tables[] = {echo_methods, fb_health_methods, NULL};
    fb_rpc_opts opts = {.listen = listen, .threads = threads};
    fb_err err = {0};
    int port = 0;
    if (fb_rpc_start(&srv.rpc, &srv, &opts, tables, &port, &err) != FB_OK) {
        fprintf(stderr, "echo_server: %s\n", err.msg);
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
    return 0;
}
