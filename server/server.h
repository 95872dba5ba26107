/* server.h — the server's context: the one place with process-wide state.
 *
 * main() builds it (engine modules first, then the runtime) and tears it
 * down in reverse. Handlers reach it through fb_call_server(). Each engine
 * module is a handle; the gRPC glue never touches LMDB directly.
 */
#ifndef FB_SERVER_H
#define FB_SERVER_H

#include <stdbool.h>

#include "auth.h"
#include "store.h"

typedef struct fb_rpc fb_rpc;
typedef struct fb_feedback fb_feedback;
typedef struct fb_settings fb_settings;
typedef struct fb_trends fb_trends;
typedef struct fb_alerts fb_alerts;
typedef struct fb_textengine fb_textengine;

typedef struct fb_server {
    const char *data_dir;
    fb_store *store;
    fb_auth *auth;
    fb_feedback *feedback;
    fb_settings *settings;
    fb_trends *trends;        /* aggregates for NPS, trends, top terms */
    fb_alerts *alerts;        /* rules, alert log, live subscribers */
    fb_textengine *text;      /* lexicons and stemmers, shared read-only */
    fb_rpc *rpc;
} fb_server;

#endif
