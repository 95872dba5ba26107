/* rpc_dash.c — feedback.v1.Insights GetNps/GetTrend/TopTerms and
 * feedback.v1.Admin GetSettings/UpdateSettings/EraseRespondent: thin glue
 * from messages to trends.h, terms.h, settings.h and feedback.h.
 *
 * Queries read the tenant's settings (zone, min_sample) and hand them to the
 * engine, which answers from the aggregates in one read transaction and,
 * should the zone in the settings differ from the one the day-level
 * aggregates are keyed in, rebuilds them first. UpdateSettings triggers that
 * rebuild at once when the timezone changed, so the next query is fast; if
 * the rebuild fails the settings stand and the next query retries it.
 * EraseRespondent runs the feedback module's erasure (every hook with sign
 * −1, one durable write) and waits for it on this worker.
 */
#include <string.h>

#include "feedback.h"
#include "feedback/v1/admin.pb-c.h"
#include "feedback/v1/insights.pb-c.h"
#include "log.h"
#include "rpc.h"
#include "server.h"
#include "settings.h"
#include "terms.h"
#include "trends.h"

/* The caller's tenant settings as a query context; *s is freed by the caller. */
static int query_ctx(fb_call *call, fb_trends_ctx *c, Feedback__V1__Settings **s, fb_err *err)
{
    fb_server *srv = fb_call_server(call);
    const fb_principal *p = fb_call_principal(call);
    int rc = fb_settings_get(srv->settings, NULL, p->tenant_id, s, err);
    if (rc != FB_OK) return rc;
    c->tenant = p->tenant_id;
    c->timezone = (*s)->timezone ? (*s)->timezone : "";
    c->min_sample = (*s)->min_sample;
    c->now_ms = fb_now_ms();
    return FB_OK;
}

static void get_nps(fb_call *call, const ProtobufCMessage *req)
{
    fb_trends_ctx c;
    Feedback__V1__Settings *s = NULL;
    Feedback__V1__NpsSummary out;
    fb_err err = {0};
    int rc = query_ctx(call, &c, &s, &err);
    if (rc == FB_OK) rc = fb_trends_nps(fb_call_server(call)->trends, &c, (const Feedback__V1__NpsQuery *)req, &out, &err);
    if (s) feedback__v1__settings__free_unpacked(s, NULL);
    if (rc != FB_OK) {
        fb_call_fail_err(call, &err);
        return;
    }
    fb_call_reply(call, &out.base);
    fb_trends_nps_clear(&out);
}

static void get_trend(fb_call *call, const ProtobufCMessage *req)
{
    fb_trends_ctx c;
    Feedback__V1__Settings *s = NULL;
    Feedback__V1__Trend out;
    fb_err err = {0};
    int rc = query_ctx(call, &c, &s, &err);
    if (rc == FB_OK) rc = fb_trends_trend(fb_call_server(call)->trends, &c, (const Feedback__V1__TrendQuery *)req, &out, &err);
    if (s) feedback__v1__settings__free_unpacked(s, NULL);
    if (rc != FB_OK) {
        fb_call_fail_err(call, &err);
        return;
    }
    fb_call_reply(call, &out.base);
    fb_trends_trend_clear(&out);
}

static void top_terms(fb_call *call, const ProtobufCMessage *req)
{
    fb_trends_ctx c;
    Feedback__V1__Settings *s = NULL;
    Feedback__V1__TermsReply out;
    fb_err err = {0};
    int rc = query_ctx(call, &c, &s, &err);
    if (rc == FB_OK) rc = fb_trends_top_terms(fb_call_server(call)->trends, &c, (const Feedback__V1__TermsQuery *)req, &out, &err);
    if (s) feedback__v1__settings__free_unpacked(s, NULL);
    if (rc != FB_OK) {
        fb_call_fail_err(call, &err);
        return;
    }
    fb_call_reply(call, &out.base);
    fb_trends_terms_clear(&out);
}

static void get_settings(fb_call *call, const ProtobufCMessage *req)
{
    (void)req;
    Feedback__V1__Settings *s = NULL;
    fb_err err = {0};
    if (fb_settings_get(fb_call_server(call)->settings, NULL, fb_call_principal(call)->tenant_id, &s, &err) != FB_OK) {
        fb_call_fail_err(call, &err);
        return;
    }
    fb_call_reply(call, &s->base);
    feedback__v1__settings__free_unpacked(s, NULL);
}

static void update_settings(fb_call *call, const ProtobufCMessage *req)
{
    fb_server *srv = fb_call_server(call);
    uint32_t tenant = fb_call_principal(call)->tenant_id;
    Feedback__V1__Settings *s = NULL;
    fb_err err = {0};
    if (fb_settings_update(srv->settings, tenant, (const Feedback__V1__UpdateSettingsRequest *)req, &s, &err) != FB_OK) {
        fb_call_fail_err(call, &err);
        return;
    }
    /* the day-level aggregates follow the zone now (a no-op if unchanged) */
    if (fb_trends_set_zone(srv->trends, tenant, s->timezone ? s->timezone : "", &err) != FB_OK)
        fb_warn("tenant %u: trends will be rebucketed on the next query: %s", tenant, err.msg);
    fb_call_reply(call, &s->base);
    feedback__v1__settings__free_unpacked(s, NULL);
}

static void erase_respondent(fb_call *call, const ProtobufCMessage *req)
{
    const Feedback__V1__EraseRespondentRequest *r = (const Feedback__V1__EraseRespondentRequest *)req;
    fb_server *srv = fb_call_server(call);
    fb_erase_summary sum = {0};
    fb_err err = {0};
    if (fb_feedback_erase_respondent(srv->feedback, fb_call_principal(call)->tenant_id,
                                     r->respondent_id ? r->respondent_id : "", srv->text, &sum, &err) != FB_OK) {
        fb_call_fail_err(call, &err);
        return;
    }
    Feedback__V1__EraseSummary out;
    feedback__v1__erase_summary__init(&out);
    out.feedback_erased = sum.feedback_erased;
    out.alerts_redacted = sum.alerts_redacted;
    fb_call_reply(call, &out.base);
}

#define INSIGHTS(name, desc, fn)                                                                   \
    {.path = "/feedback.v1.Insights/" name, .kind = FB_RPC_UNARY, .roles = FB_ROLE_READ | FB_ROLE_ADMIN, \
     .request = &desc, .on_request = fn}
#define ADMIN(name, desc, fn)                                                                      \
    {.path = "/feedback.v1.Admin/" name, .kind = FB_RPC_UNARY, .roles = FB_ROLE_ADMIN,            \
     .request = &desc, .on_request = fn}

const fb_method fb_dash_methods[] = {
    INSIGHTS("GetNps", feedback__v1__nps_query__descriptor, get_nps),
    INSIGHTS("GetTrend", feedback__v1__trend_query__descriptor, get_trend),
    INSIGHTS("TopTerms", feedback__v1__terms_query__descriptor, top_terms),
    ADMIN("GetSettings", feedback__v1__get_settings_request__descriptor, get_settings),
    ADMIN("UpdateSettings", feedback__v1__update_settings_request__descriptor, update_settings),
    ADMIN("EraseRespondent", feedback__v1__erase_respondent_request__descriptor, erase_respondent),
    {.path = NULL},
};
