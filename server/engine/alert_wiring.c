/* alert_wiring.c — the alerts module's providers backed by the server's own
 * modules: settings (settings.h) and the dashboards' aggregates (trends.h).
 * Kept apart so the alerts engine itself depends only on two callbacks, and
 * main.c wires it with one line each. */
#include <string.h>

#include "alerts.h"
#include "settings.h"
#include "trends.h"

int fb_alerts_settings_provider(void *ctx, MDB_txn *txn, uint32_t tenant,
                                Feedback__V1__Settings **out, fb_err *err)
{
    return fb_settings_get(ctx, txn, tenant, out, err);
}

int fb_alerts_nps_provider(void *ctx, uint32_t tenant, const char *zone, const char *survey_id,
                           int64_t from_ms, int64_t to_ms, fb_nps_counts *out, fb_err *err)
{
    fb_trends_ctx c = {.tenant = tenant, .timezone = zone ? zone : "",
                       .min_sample = 1, .now_ms = to_ms};
    Feedback__V1__NpsQuery q = FEEDBACK__V1__NPS_QUERY__INIT;
    Feedback__V1__NpsSummary s = FEEDBACK__V1__NPS_SUMMARY__INIT;
    q.survey_id = (char *)survey_id;
    q.from_ms = from_ms;
    q.to_ms = to_ms;
    int rc = fb_trends_nps(ctx, &c, &q, &s, err);
    if (rc) return rc;
    out->n = s.n;
    out->promoters = s.promoters;
    out->detractors = s.detractors;
    fb_trends_nps_clear(&s);
    return FB_OK;
}
