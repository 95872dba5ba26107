/* alert_wiring.c — the alerts module's providers backed by the server's own
 * modules: settings (settings.h) and the dashboards' aggregates (trends.h).
 * Kept apart so the alerts engine itself depends only on two callbacks, and
 * main.c wires it with one line each.
 * fb_alerts_settings_hold is the exception that keeps ingest cheap: the
 * rules are read for every feedback on the writer thread, so when the
 * provider is the server's own (backed by fb_settings) the hook borrows the
 * settings module's cached snapshot instead of receiving a fresh copy. */
#include <string.h>

#include "alert_internal.h"
#include "alerts.h"
#include "settings.h"
#include "trends.h"

int fb_alerts_settings_provider(void *ctx, MDB_txn *txn, uint32_t tenant,
                                Feedback__V1__Settings **out, fb_err *err)
{
    return fb_settings_get(ctx, txn, tenant, out, err);
}

int fb_alerts_nps_provider(void *ctx, uint32_t tenant, const char *zone, const char *survey_id,
                           const fb_nps_segment *segment, int64_t from_ms, int64_t to_ms,
                           fb_nps_counts *out, fb_err *err)
{
    fb_trends_ctx c = {.tenant = tenant, .timezone = zone ? zone : "",
                       .min_sample = 1, .now_ms = to_ms};
    Feedback__V1__NpsQuery q = FEEDBACK__V1__NPS_QUERY__INIT;
    Feedback__V1__NpsSummary s = FEEDBACK__V1__NPS_SUMMARY__INIT;
    Feedback__V1__Filter filter = FEEDBACK__V1__FILTER__INIT;
    Feedback__V1__Filter__TagsEntry tag = FEEDBACK__V1__FILTER__TAGS_ENTRY__INIT, *tags[1] = {&tag};
    q.survey_id = (char *)survey_id;
    q.from_ms = from_ms;
    q.to_ms = to_ms;
    if (segment && segment->channel) {
        filter.channel = (char *)segment->channel;
        q.filter = &filter;
    } else if (segment && segment->tag_key) {
        tag.key = (char *)segment->tag_key;
        tag.value = (char *)(segment->tag_value ? segment->tag_value : "");
        filter.tags = tags;
        filter.n_tags = 1;
        q.filter = &filter;
    }
    int rc = fb_trends_nps(ctx, &c, &q, &s, err);
    if (rc) return rc;
    out->n = s.n;
    out->promoters = s.promoters;
    out->detractors = s.detractors;
    fb_trends_nps_clear(&s);
    return FB_OK;
}

int fb_alerts_settings_hold(fb_alerts *a, MDB_txn *txn, uint32_t tenant,
                            fb_alerts_held_settings *h, fb_err *err)
{
    memset(h, 0, sizeof *h);
    if (a->opts.settings == fb_alerts_settings_provider && a->opts.settings_ctx) {
        fb_settings_snap *snap;
        int rc = fb_settings_acquire(a->opts.settings_ctx, txn, tenant, &snap, err);
        if (rc) return rc;
        h->snap = snap;
        h->settings = fb_settings_snap_msg(snap);
        return FB_OK;
    }
    int rc = fb_alerts_settings(a, txn, tenant, &h->owned, err);
    h->settings = h->owned;
    return rc;
}

void fb_alerts_settings_drop(fb_alerts_held_settings *h)
{
    fb_settings_release(h->snap);
    fb_alerts_settings_free(h->owned);
    memset(h, 0, sizeof *h);
}
