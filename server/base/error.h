/* error.h — errors are values.
 *
 * Every engine function that can fail returns an int code from this list and,
 * where a person will read it, fills an fb_err with a message that names the
 * field and the rule ("score: must be 0..10, got 11"). The gRPC glue maps the
 * codes one-to-one to status codes; nothing in the engine knows gRPC. */
#ifndef FB_ERROR_H
#define FB_ERROR_H

#include <stdarg.h>

enum {
    FB_OK = 0,
    FB_INVALID,      /* INVALID_ARGUMENT: bad input; msg names the field and rule */
    FB_NOT_FOUND,    /* NOT_FOUND */
    FB_EXISTS,       /* ALREADY_EXISTS: e.g. idempotency key reused, other payload */
    FB_EXHAUSTED,    /* RESOURCE_EXHAUSTED: storage full, queue full, too large */
    FB_UNAUTH,       /* UNAUTHENTICATED */
    FB_DENIED,       /* PERMISSION_DENIED */
    FB_UNAVAILABLE,  /* UNAVAILABLE: shutting down */
    FB_CANCELLED,    /* the caller went away */
    FB_INTERNAL,     /* INTERNAL: I/O error, corruption, bug */
};

typedef struct fb_err {
    int code;
    char msg[256];
} fb_err;

/* Sets err (if not NULL) and returns code, so `return fb_err_set(...)` works. */
int fb_err_set(fb_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int fb_err_vset(fb_err *err, int code, const char *fmt, va_list ap);

/* Stable upper-case name of a code ("INVALID_ARGUMENT"), for logs. */
const char *fb_err_name(int code);

#endif
