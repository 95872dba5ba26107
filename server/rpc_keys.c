/* rpc_keys.c — feedback.v1.Admin CreateKey / ListKeys / RevokeKey.
 *
 * Thin glue over auth.h: the tenant is always the caller's (from its key),
 * so an admin can only see and change its own tenant's keys. A new key's
 * secret is in CreateKey's reply and nowhere else: it is wiped from our
 * memory right after the reply is packed, and never logged. The auth calls
 * wait for their durable write; that is fine on a worker thread (never on
 * the store's writer thread).
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "feedback/v1/admin.pb-c.h"
#include "rpc.h"
#include "server.h"

static void create_key(fb_call *call, const ProtobufCMessage *msg)
{
    const Feedback__V1__CreateKeyRequest *req = (const void *)msg;
    const fb_principal *p = fb_call_principal(call);
    unsigned role = fb_role_from_proto(req->role);
    if (!role) {
        fb_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                     "role: must be SUBMIT, READ, ALERTS or ADMIN, got %d", (int)req->role);
        return;
    }
    fb_new_key nk;
    fb_err err = {0};
    if (fb_key_create(fb_call_server(call)->auth, p->tenant_id, role, req->label, &nk, &err)) {
        fb_call_fail_err(call, &err);
        return;
    }
    Feedback__V1__Key out;
    fb_key_info_to_proto(&nk.info, &out);
    out.secret = nk.secret;
    fb_call_reply(call, &out.base);
    explicit_bzero(nk.secret, sizeof nk.secret);
}

static void list_keys(fb_call *call, const ProtobufCMessage *msg)
{
    (void)msg;
    const fb_principal *p = fb_call_principal(call);
    fb_key_info *keys = NULL;
    size_t n = 0;
    fb_err err = {0};
    if (fb_key_list(fb_call_server(call)->auth, p->tenant_id, &keys, &n, &err)) {
        fb_call_fail_err(call, &err);
        return;
    }
    Feedback__V1__Key *protos = calloc(n ? n : 1, sizeof *protos);
    Feedback__V1__Key **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    if (!protos || !ptrs) {
        free(protos);
        free(ptrs);
        free(keys);
        fb_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "keys: out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        fb_key_info_to_proto(&keys[i], &protos[i]);
        ptrs[i] = &protos[i];
    }
    Feedback__V1__KeyList list = FEEDBACK__V1__KEY_LIST__INIT;
    list.n_keys = n;
    list.keys = ptrs;
    fb_call_reply(call, &list.base);
    free(ptrs);
    free(protos);
    free(keys);
}

static void revoke_key(fb_call *call, const ProtobufCMessage *msg)
{
    const Feedback__V1__RevokeKeyRequest *req = (const void *)msg;
    const fb_principal *p = fb_call_principal(call);
    if (!req->id || !*req->id) {
        fb_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "id: required");
        return;
    }
    fb_key_info info;
    fb_err err = {0};
    if (fb_key_revoke(fb_call_server(call)->auth, p->tenant_id, req->id, &info, &err)) {
        fb_call_fail_err(call, &err);
        return;
    }
    Feedback__V1__Key out;
    fb_key_info_to_proto(&info, &out);
    fb_call_reply(call, &out.base);
}

const fb_method fb_keys_methods[] = {
    {.path = "/feedback.v1.Admin/CreateKey",
     .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_ADMIN,
     .request = &feedback__v1__create_key_request__descriptor,
     .on_request = create_key},
    {.path = "/feedback.v1.Admin/ListKeys",
     .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_ADMIN,
     .request = &feedback__v1__list_keys_request__descriptor,
     .on_request = list_keys},
    {.path = "/feedback.v1.Admin/RevokeKey",
     .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_ADMIN,
     .request = &feedback__v1__revoke_key_request__descriptor,
     .on_request = revoke_key},
    {.path = NULL},
};
