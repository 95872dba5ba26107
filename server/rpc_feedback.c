/* rpc_feedback.c — feedback.v1.Insights ListFeedback and Analyze.
 *
 * Thin glue: ListFeedback validates the query and hands it to
 * fb_feedback_list (a bounded walk of the time index, see
 * feedback_list.c); Analyze scores a text with the shared text engine
 * through fb_ingest_analyze, the same conversion the ingest replies use.
 * Both run on the worker thread with a short read transaction (or none).
 */
#include "feedback.h"
#include "feedback/v1/insights.pb-c.h"
#include "ingest.h"
#include "rpc.h"
#include "rpc_ingest.h"
#include "server.h"
#include "validate.h"

static void list_feedback(fb_call *call, const ProtobufCMessage *msg)
{
    const Feedback__V1__ListQuery *q = (const void *)msg;
    const fb_principal *p = fb_call_principal(call);
    Feedback__V1__FeedbackPage *page = NULL;
    fb_err err = {0};
    if (fb_validate_list_query(q, &err) ||
        fb_feedback_list(fb_call_server(call)->feedback, p->tenant_id, q, &page, &err)) {
        fb_call_fail_err(call, &err);
        return;
    }
    fb_call_reply(call, &page->base);
    feedback__v1__feedback_page__free_unpacked(page, NULL);
}

static void analyze(fb_call *call, const ProtobufCMessage *msg)
{
    const fb_principal *p = fb_call_principal(call);
    fb_rpc_ingest_env env;
    fb_rpc_ingest_env_init(&env, fb_call_server(call), p->tenant_id);
    Feedback__V1__Sentiment *s = NULL;
    fb_err err = {0};
    if (fb_ingest_analyze(&env.env, (const Feedback__V1__AnalyzeRequest *)msg, &s, &err)) {
        fb_call_fail_err(call, &err);
        return;
    }
    fb_call_reply(call, &s->base);
    feedback__v1__sentiment__free_unpacked(s, NULL);
}

const fb_method fb_feedback_methods[] = {
    {.path = "/feedback.v1.Insights/ListFeedback",
     .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_READ | FB_ROLE_ADMIN,
     .request = &feedback__v1__list_query__descriptor,
     .on_request = list_feedback},
    {.path = "/feedback.v1.Insights/Analyze",
     .kind = FB_RPC_UNARY,
     .roles = FB_ROLE_READ | FB_ROLE_ADMIN,
     .request = &feedback__v1__analyze_request__descriptor,
     .on_request = analyze},
    {.path = NULL},
};
