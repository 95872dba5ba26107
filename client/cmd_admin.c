/* cmd_admin.c — health, keys, settings, erase: one unary call each, the
 * reply printed for a person (or as JSON). Secrets of new keys are printed
 * once, as the server returns them only once. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "feedback/v1/admin.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "json.h"
#include "fieldpath.h"
#include "msgutil.h"

static void print_health(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    const Grpc__Health__V1__HealthCheckResponse *r = (const Grpc__Health__V1__HealthCheckResponse *)m;
    printf("%s\n", fbc_enum_name(&grpc__health__v1__health_check_response__serving_status__descriptor, r->status));
}

int cmd_health(fbc_ctx *c, int argc, char **argv)
{
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, NULL))) return rc;
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    if (a.npos) req.service = (char *)a.pos[0];
    ProtobufCMessage *resp;
    fbc_status st;
    if (fbc_unary(&c->conn, "/grpc.health.v1.Health/Check", &req.base,
                  &grpc__health__v1__health_check_response__descriptor, &resp, &st) != GRPC_STATUS_OK)
        return fbc_fail(c, &st);
    const Grpc__Health__V1__HealthCheckResponse *r = (const Grpc__Health__V1__HealthCheckResponse *)resp;
    int serving = r->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    if (c->json) { fbc_json_print(stdout, resp); fputc('\n', stdout); }
    else print_health(c, resp);
    protobuf_c_message_free_unpacked(resp, NULL);
    return serving ? 0 : 1;
}

static void print_key_line(const Feedback__V1__Key *k)
{
    char when[32];
    fbc_format_time(k->created_ms, when, sizeof when);
    printf("%-28s %-7s %-24s created %s%s  %s…\n", k->id, fbc_enum_name(&feedback__v1__role__descriptor, k->role),
           *k->label ? k->label : "-", when, k->revoked ? "  REVOKED" : "", k->prefix);
}

static void print_key(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    const Feedback__V1__Key *k = (const Feedback__V1__Key *)m;
    print_key_line(k);
    if (k->secret && *k->secret)
        printf("secret (shown once, store it now): %s\n", k->secret);
}

static void print_keys(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    const Feedback__V1__KeyList *l = (const Feedback__V1__KeyList *)m;
    for (size_t i = 0; i < l->n_keys; i++) print_key_line(l->keys[i]);
    if (!l->n_keys) printf("no keys\n");
}

int cmd_keys(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"role", "label", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    const char *sub = a.npos ? a.pos[0] : "";
    if (strcmp(sub, "create") == 0) {
        Feedback__V1__CreateKeyRequest req = FEEDBACK__V1__CREATE_KEY_REQUEST__INIT;
        const char *role = fbc_arg(&a, "role");
        int e = role ? fbc_enum_value(&feedback__v1__role__descriptor, role) : -1;
        if (e <= 0) return fbc_usage("keys create --role submit|read|alerts|admin");
        req.role = (Feedback__V1__Role)e;
        const char *label = fbc_arg(&a, "label");
        if (label) req.label = (char *)label;
        return fbc_call_print(c, "/feedback.v1.Admin/CreateKey", &req.base, &feedback__v1__key__descriptor, print_key);
    }
    if (strcmp(sub, "list") == 0) {
        Feedback__V1__ListKeysRequest req = FEEDBACK__V1__LIST_KEYS_REQUEST__INIT;
        return fbc_call_print(c, "/feedback.v1.Admin/ListKeys", &req.base, &feedback__v1__key_list__descriptor,
                              print_keys);
    }
    if (strcmp(sub, "revoke") == 0 && a.npos == 2) {
        Feedback__V1__RevokeKeyRequest req = FEEDBACK__V1__REVOKE_KEY_REQUEST__INIT;
        req.id = (char *)a.pos[1];
        return fbc_call_print(c, "/feedback.v1.Admin/RevokeKey", &req.base, &feedback__v1__key__descriptor, print_key);
    }
    return fbc_usage("keys create --role R [--label L] | keys list | keys revoke KEY_ID");
}

/* settings: get prints NAME = VALUE lines, set takes NAME=VALUE with the
 * same names (fieldpath.c); a name that is not a Settings field but is an
 * alert rule (sla_ms, keywords, ...) means alert_rules.NAME. */
static void print_settings(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    fbc_fields_print(stdout, m, "");
}

static void full_name(const char *name, size_t len, char *out, size_t outlen)
{
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(name, "."), name);
    if (!protobuf_c_message_descriptor_get_field_by_name(&feedback__v1__settings__descriptor, first) &&
        protobuf_c_message_descriptor_get_field_by_name(&feedback__v1__alert_rules__descriptor, first))
        snprintf(out, outlen, "alert_rules.%.*s", (int)len, name);
    else
        snprintf(out, outlen, "%.*s", (int)len, name);
}

static int settings_set(fbc_ctx *c, const fbc_args *a)
{
    Feedback__V1__Settings *s = calloc(1, sizeof *s);
    if (!s) return fbc_usage("out of memory");
    feedback__v1__settings__init(s);
    Feedback__V1__UpdateSettingsRequest req = FEEDBACK__V1__UPDATE_SETTINGS_REQUEST__INIT;
    char *mask[64], names[64][128];
    int rc = 0;
    for (int i = 1; i < a->npos && i < 64 && !rc; i++) {
        const char *eq = strchr(a->pos[i], '=');
        size_t len = eq ? (size_t)(eq - a->pos[i]) : 0;
        if (!eq || len == 0 || len >= 100) {
            rc = fbc_usage("settings set takes NAME=VALUE, got '%s' (settings get lists the names)", a->pos[i]);
            break;
        }
        full_name(a->pos[i], len, names[i], sizeof names[i]);
        char why[256];
        if (fbc_field_set(&s->base, names[i], eq + 1, why, sizeof why) != 0)
            rc = fbc_usage("settings set: %s (settings get lists the names)", why);
        else
            mask[req.n_update_mask++] = names[i];
    }
    if (!rc) {
        req.settings = s;
        req.update_mask = mask;
        rc = fbc_call_print(c, "/feedback.v1.Admin/UpdateSettings", &req.base, &feedback__v1__settings__descriptor,
                            print_settings);
    }
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return rc;
}

int cmd_settings(fbc_ctx *c, int argc, char **argv)
{
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, NULL))) return rc;
    if (a.npos == 1 && strcmp(a.pos[0], "get") == 0) {
        Feedback__V1__GetSettingsRequest req = FEEDBACK__V1__GET_SETTINGS_REQUEST__INIT;
        return fbc_call_print(c, "/feedback.v1.Admin/GetSettings", &req.base, &feedback__v1__settings__descriptor,
                              print_settings);
    }
    if (a.npos < 2 || strcmp(a.pos[0], "set") != 0)
        return fbc_usage("settings get | settings set NAME=VALUE ... (see feedbackctl settings --help)");
    return settings_set(c, &a);
}

static void print_erase(const fbc_ctx *c, const ProtobufCMessage *m)
{
    (void)c;
    const Feedback__V1__EraseSummary *e = (const Feedback__V1__EraseSummary *)m;
    printf("erased %u pieces of feedback; redacted %u alerts\n", e->feedback_erased, e->alerts_redacted);
}

int cmd_erase(fbc_ctx *c, int argc, char **argv)
{
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, NULL))) return rc;
    if (a.npos != 1) return fbc_usage("erase RESPONDENT_ID");
    Feedback__V1__EraseRespondentRequest req = FEEDBACK__V1__ERASE_RESPONDENT_REQUEST__INIT;
    req.respondent_id = (char *)a.pos[0];
    return fbc_call_print(c, "/feedback.v1.Admin/EraseRespondent", &req.base, &feedback__v1__erase_summary__descriptor,
                          print_erase);
}
