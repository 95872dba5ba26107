/* rpc_ingest.h — what rpc_ingest.c shares with rpc_feedback.c: the ingest
 * environment of a call (the server's modules plus the tenant's default
 * language, looked up once per call). */
#ifndef FB_RPC_INGEST_H
#define FB_RPC_INGEST_H

#include <stdint.h>

#include "ingest.h"
#include "server.h"

typedef struct fb_rpc_ingest_env {
    fb_ingest_env env;
    char default_language[16];
} fb_rpc_ingest_env;

/* Fills e for a call of tenant_id on srv (env.default_language points into e). */
void fb_rpc_ingest_env_init(fb_rpc_ingest_env *e, fb_server *srv, uint32_t tenant_id);

#endif
