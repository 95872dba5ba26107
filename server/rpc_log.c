/* rpc_log.c — the one log line per call (time, method, tenant, status,
 * latency), written when the call is freed, the status names it uses, and
 * the mapping from engine error codes to statuses.
 * On a worker thread the line goes to that worker's own buffer (log.h:
 * fb_logbuf, formatted by fb_log_rpc without printf); elsewhere straight to
 * stderr. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "rpc_internal.h"

const char *rpc_status_name(grpc_status_code code)
{
    static const char *const names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };
    if ((unsigned)code < sizeof names / sizeof names[0])
        return names[code];
    return "UNKNOWN";
}

grpc_status_code fb_status_of(int fb_code)
{
    switch (fb_code) {
    case FB_OK: return GRPC_STATUS_OK;
    case FB_INVALID: return GRPC_STATUS_INVALID_ARGUMENT;
    case FB_NOT_FOUND: return GRPC_STATUS_NOT_FOUND;
    case FB_EXISTS: return GRPC_STATUS_ALREADY_EXISTS;
    case FB_EXHAUSTED: return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case FB_UNAUTH: return GRPC_STATUS_UNAUTHENTICATED;
    case FB_DENIED: return GRPC_STATUS_PERMISSION_DENIED;
    case FB_UNAVAILABLE: return GRPC_STATUS_UNAVAILABLE;
    case FB_CANCELLED: return GRPC_STATUS_CANCELLED;
    default: return GRPC_STATUS_INTERNAL;
    }
}

void rpc_log_call(fb_call *c)
{
    if (!fb_log_enabled(FB_LOG_INFO))
        return;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long ns = (long long)(t1.tv_sec - c->t0.tv_sec) * 1000000000LL + (t1.tv_nsec - c->t0.tv_nsec);
    const char *status;
    if (c->cancelled) {
        status = fb_call_deadline_left_ms(c) == 0 ? "DEADLINE_EXCEEDED" : "CANCELLED";
    } else {
        status = c->ended ? rpc_status_name(c->status) : "UNKNOWN";
    }
    char generic[128], msg[200] = "";
    if (c->status_msg && !c->cancelled && c->status != GRPC_STATUS_OK) {
        /* " msg=..." on one line: control characters (client input) become '?' */
        snprintf(msg, sizeof msg, " msg=%s", c->status_msg);
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    }
    const char *path;
    if (c->reg) {
        path = c->reg->m->path + 1;
    } else {
        size_t n = GRPC_SLICE_LENGTH(c->details.method);
        if (n >= sizeof generic)
            n = sizeof generic - 1;
        memcpy(generic, GRPC_SLICE_START_PTR(c->details.method), n);
        generic[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (generic[i] < 0x20 || generic[i] == 0x7f)
                generic[i] = '?';
        path = generic[0] == '/' ? generic + 1 : generic;
    }
    const char *tenant = c->has_principal ? c->principal.tenant : "-";
    struct rpc_worker *w = pthread_getspecific(c->rpc->worker_key);
    if (w)
        fb_log_rpc(&w->log, path, tenant, status, msg, ns);
    else
        fb_info("rpc %s tenant=%s status=%s%s %.2fms", path, tenant, status, msg, (double)ns / 1e6);
}
