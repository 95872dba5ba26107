/* rpc_health.c — grpc.health.v1.Health, served for real.
 *
 * Check answers SERVING for the whole server ("") and for each service of
 * feedback.v1, NOT_SERVING once shutdown has begun, and NOT_FOUND for a
 * service this server does not have (as the health protocol says).
 * Watch is a server stream: it sends the current status at once and stays
 * open. The status only changes when the server stops, and then the runtime
 * calls on_cancel for every open stream: Watch sends NOT_SERVING and ends
 * with UNAVAILABLE. So no watcher list is needed and an idle watcher costs
 * only its call context. No key is needed (roles 0): load balancers and
 * orchestrators probe without one.
 */
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "rpc.h"
#include "server.h"

static const char *const known_services[] = {
    "",
    "grpc.health.v1.Health",
    "feedback.v1.Ingest",
    "feedback.v1.Insights",
    "feedback.v1.Alerts",
    "feedback.v1.Admin",
};

static bool known_service(const char *name)
{
    for (size_t i = 0; i < sizeof known_services / sizeof known_services[0]; i++)
        if (strcmp(name, known_services[i]) == 0)
            return true;
    return false;
}

static Grpc__Health__V1__HealthCheckResponse__ServingStatus serving_status(fb_call *call)
{
    return fb_rpc_stopping(fb_call_server(call)->rpc)
               ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
               : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

static void check(fb_call *call, const ProtobufCMessage *msg)
{
    const Grpc__Health__V1__HealthCheckRequest *req = (const void *)msg;
    const char *service = req->service ? req->service : "";
    if (!known_service(service)) {
        fb_call_fail(call, GRPC_STATUS_NOT_FOUND, "service '%s': unknown to this server", service);
        return;
    }
    Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = serving_status(call);
    fb_call_reply(call, &resp.base);
}

static void send_status(fb_call *call, Grpc__Health__V1__HealthCheckResponse__ServingStatus status)
{
    Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = status;
    fb_call_send(call, &resp.base);
}

static void watch(fb_call *call, const ProtobufCMessage *msg)
{
    const Grpc__Health__V1__HealthCheckRequest *req = (const void *)msg;
    const char *service = req->service ? req->service : "";
    if (!known_service(service)) {
        /* the protocol: an unknown service is reported, not an error */
        send_status(call, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN);
        return; /* stays open; ended by on_cancel */
    }
    send_status(call, serving_status(call));
    /* The handler keeps its reference until on_cancel ends the stream. */
}

static void watch_cancel(fb_call *call)
{
    if (fb_rpc_stopping(fb_call_server(call)->rpc) && !fb_call_is_cancelled(call)) {
        send_status(call, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
        fb_call_finish(call, GRPC_STATUS_UNAVAILABLE, "server shutting down");
    } else {
        fb_call_finish(call, GRPC_STATUS_CANCELLED, "cancelled");
    }
}

const fb_method fb_health_methods[] = {
    {.path = "/grpc.health.v1.Health/Check",
     .kind = FB_RPC_UNARY,
     .roles = 0,
     .request = &grpc__health__v1__health_check_request__descriptor,
     .on_request = check},
    {.path = "/grpc.health.v1.Health/Watch",
     .kind = FB_RPC_SERVER_STREAM,
     .roles = 0,
     .request = &grpc__health__v1__health_check_request__descriptor,
     .on_request = watch,
     .on_cancel = watch_cancel},
    {.path = NULL},
};
