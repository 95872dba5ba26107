/* rpc_alerts.c — feedback.v1.Alerts: Subscribe (server stream), Ack,
 * ListAlerts. Role alerts or admin.
 *
 * Thin glue: a Subscribe call becomes a hub subscriber whose deliver is
 * fb_call_send_packed of the alert packed once per fan-out (never blocks;
 * FB_EXHAUSTED when the stream's bounded queue is full) and whose backlog paces the replay pump. Ending a stream can start on
 * two sides at once: the hub (queue full, shutdown) calls closed() under the
 * tenant's lock, and the runtime calls on_cancel (client gone, deadline,
 * server stopping). Both go through the tenant's lock and the call's data
 * slot, which the first of them clears, so exactly one ends the call and
 * frees the per-stream state (see fb_hub_cancel).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "alerts.h"
#include "rpc.h"
#include "server.h"
#include "feedback/v1/alerts.pb-c.h"

/* The runtime's default stream_queue_max (rpc.h): replay keeps the queue at
 * most half full of it. A smaller configured bound still works: the stream
 * is then closed with RESOURCE_EXHAUSTED and the client resumes. */
#define STREAM_QUEUE 1024

typedef struct stream {
    fb_call *call;
    fb_sub *sub;
    uint64_t last_sent;  /* the resume point we tell the client */
} stream;

static void packed_free(void *p)
{
    fb_packed_free(p);
}

/* The alert is packed by the first subscriber of a fan-out and its bytes
 * shared by the others (fb_hub_shared): no packing per stream. */
static int st_deliver(void *ctx, const Feedback__V1__Alert *a)
{
    stream *s = ctx;
    fb_hub_msg *m = fb_hub_shared(s->sub);
    if (m && m->alert == a && !m->shared && (m->shared = fb_pack(&a->base)))
        m->shared_free = packed_free;
    int rc = m && m->alert == a && m->shared ? fb_call_send_packed(s->call, m->shared)
                                             : fb_call_send(s->call, &a->base);
    if (rc == FB_OK) s->last_sent = a->seq;
    return rc;
}

static size_t st_backlog(void *ctx)
{
    stream *s = ctx;
    return fb_call_send_backlog(s->call);
}

static void end_stream(stream *s, grpc_status_code code, const char *why, uint64_t resume)
{
    char msg[160];
    snprintf(msg, sizeof msg, "%s: resume with after_seq=%" PRIu64, why, resume);
    fb_call_finish(s->call, code, msg);
    free(s);
}

/* The hub ended the subscription (under the tenant's lock). */
static void st_closed(void *ctx, int code, uint64_t last_seq)
{
    stream *s = ctx;
    fb_call_set_data(s->call, NULL);
    if (code == FB_EXHAUSTED)
        end_stream(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "subscriber too slow", last_seq);
    else
        end_stream(s, GRPC_STATUS_UNAVAILABLE, "server is shutting down", last_seq);
}

static void subscribe(fb_call *call, const ProtobufCMessage *msg)
{
    const Feedback__V1__SubscribeRequest *req = (const Feedback__V1__SubscribeRequest *)msg;
    fb_server *srv = fb_call_server(call);
    const fb_principal *who = fb_call_principal(call);
    stream *s = calloc(1, sizeof *s);
    if (!s) {
        fb_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "alerts: out of memory");
        return;
    }
    s->call = call;
    s->last_sent = req->after_seq;
    fb_call_set_data(call, s);
    fb_sub_ops ops = {st_deliver, st_backlog, st_closed, STREAM_QUEUE};
    fb_err err = {0};
    if (fb_alerts_subscribe(srv->alerts, who->tenant_id, req, &ops, s, &s->sub, &err) != FB_OK) {
        fb_call_set_data(call, NULL);
        free(s);
        fb_call_finish(call, fb_status_of(err.code), err.msg);
    }
}

/* Under the tenant's lock: the call's stream, if the hub has not ended it. */
static fb_sub *detach(void *arg)
{
    fb_call *call = arg;
    stream *s = fb_call_data(call);
    if (!s) return NULL;
    fb_call_set_data(call, NULL);
    return s->sub;
}

static void subscribe_cancel(fb_call *call)
{
    fb_server *srv = fb_call_server(call);
    const fb_principal *who = fb_call_principal(call);
    stream *s = fb_hub_cancel(fb_alerts_hub(srv->alerts), who->tenant_id, detach, call);
    if (!s) return; /* the hub ended it already */
    if (srv->rpc && fb_rpc_stopping(srv->rpc))
        end_stream(s, GRPC_STATUS_UNAVAILABLE, "server is shutting down", s->last_sent);
    else
        end_stream(s, GRPC_STATUS_CANCELLED, "stream cancelled", s->last_sent);
}

static void ack(fb_call *call, const ProtobufCMessage *msg)
{
    fb_server *srv = fb_call_server(call);
    Feedback__V1__Alert *a = NULL;
    fb_err err = {0};
    if (fb_alerts_ack(srv->alerts, fb_call_principal(call), (const Feedback__V1__AckRequest *)msg,
                      fb_now_ms(), &a, &err) != FB_OK) {
        fb_call_fail_err(call, &err);
        return;
    }
    fb_call_reply(call, &a->base);
    feedback__v1__alert__free_unpacked(a, NULL);
}

static void list_alerts(fb_call *call, const ProtobufCMessage *msg)
{
    fb_server *srv = fb_call_server(call);
    Feedback__V1__AlertPage *page = NULL;
    fb_err err = {0};
    if (fb_alerts_list(srv->alerts, fb_call_principal(call)->tenant_id,
                       (const Feedback__V1__AlertQuery *)msg, fb_now_ms(), &page, &err) != FB_OK) {
        fb_call_fail_err(call, &err);
        return;
    }
    fb_call_reply(call, &page->base);
    feedback__v1__alert_page__free_unpacked(page, NULL);
}

const fb_method fb_alerts_methods[] = {
    {.path = "/feedback.v1.Alerts/Subscribe", .kind = FB_RPC_SERVER_STREAM,
     .roles = FB_ROLE_ALERTS | FB_ROLE_ADMIN, .request = &feedback__v1__subscribe_request__descriptor,
     .on_request = subscribe, .on_cancel = subscribe_cancel},
    {.path = "/feedback.v1.Alerts/Ack", .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_ALERTS | FB_ROLE_ADMIN, .request = &feedback__v1__ack_request__descriptor,
     .on_request = ack},
    {.path = "/feedback.v1.Alerts/ListAlerts", .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_ALERTS | FB_ROLE_ADMIN, .request = &feedback__v1__alert_query__descriptor,
     .on_request = list_alerts},
    {.path = NULL},
};
