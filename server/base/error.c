/* error.c — see error.h. */
#include "error.h"

#include <stdio.h>

int fb_err_vset(fb_err *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int fb_err_set(fb_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fb_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

const char *fb_err_name(int code)
{
    switch (code) {
    case FB_OK: return "OK";
    case FB_INVALID: return "INVALID_ARGUMENT";
    case FB_NOT_FOUND: return "NOT_FOUND";
    case FB_EXISTS: return "ALREADY_EXISTS";
    case FB_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case FB_UNAUTH: return "UNAUTHENTICATED";
    case FB_DENIED: return "PERMISSION_DENIED";
    case FB_UNAVAILABLE: return "UNAVAILABLE";
    case FB_CANCELLED: return "CANCELLED";
    default: return "INTERNAL";
    }
}
