/* alert_filter.c — a subscriber's filter: surveys, minimum severity, kinds,
 * held alerts. Survey names are compared by a 64-bit FNV-1a hash first, so
 * the hub's walk over thousands of subscribers per alert stays a few
 * nanoseconds each (the alert's hash is computed once per publication). */
#include <stdlib.h>
#include <string.h>

#include "hub.h"

int fb_alert_filter_from(const Feedback__V1__SubscribeRequest *req, fb_alert_filter *f, fb_err *err)
{
    memset(f, 0, sizeof *f);
    if (req->min_severity < 0 || req->min_severity > FEEDBACK__V1__SEVERITY__CRITICAL)
        return fb_err_set(err, FB_INVALID, "min_severity: must be LOW..CRITICAL, got %d", (int)req->min_severity);
    f->min_severity = req->min_severity;
    f->include_held = req->include_held;
    for (size_t i = 0; i < req->n_kinds; i++) {
        int k = req->kinds[i];
        if (k < 1 || k > FEEDBACK__V1__ALERT__KIND__SLA_BREACH)
            return fb_err_set(err, FB_INVALID, "kinds[%zu]: unknown alert kind %d", i, k);
        f->kinds |= 1u << k;
    }
    if (req->n_survey_ids) {
        f->survey_ids = calloc(req->n_survey_ids, sizeof *f->survey_ids);
        f->survey_hashes = calloc(req->n_survey_ids, sizeof *f->survey_hashes);
        if (!f->survey_ids || !f->survey_hashes) {
            fb_alert_filter_free(f);
            return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
        }
        for (size_t i = 0; i < req->n_survey_ids; i++) {
            if (!(f->survey_ids[i] = strdup(req->survey_ids[i]))) {
                fb_alert_filter_free(f);
                return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
            }
            f->survey_hashes[i] = fb_survey_hash(req->survey_ids[i]);
            f->n_survey_ids++;
        }
    }
    return FB_OK;
}

void fb_alert_filter_free(fb_alert_filter *f)
{
    for (size_t i = 0; i < f->n_survey_ids; i++) free(f->survey_ids[i]);
    free(f->survey_ids);
    free(f->survey_hashes);
    memset(f, 0, sizeof *f);
}

uint64_t fb_survey_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

bool fb_alert_filter_match(const fb_alert_filter *f, const Feedback__V1__Alert *a)
{
    return fb_alert_filter_match_h(f, a, f->n_survey_ids ? fb_survey_hash(a->survey_id) : 0);
}

bool fb_alert_filter_match_h(const fb_alert_filter *f, const Feedback__V1__Alert *a, uint64_t survey_hash)
{
    if (a->held && !f->include_held) return false;
    if ((int)a->severity < f->min_severity) return false;
    if (f->kinds) {
        bool any = (f->kinds >> a->kind) & 1u;
        for (size_t i = 0; i < a->n_kinds && !any; i++)
            any = (f->kinds >> a->kinds[i]) & 1u;
        if (!any) return false;
    }
    if (f->n_survey_ids) {
        const char *s = a->survey_id ? a->survey_id : "";
        for (size_t i = 0; i < f->n_survey_ids; i++)
            if (f->survey_hashes[i] == survey_hash && strcmp(f->survey_ids[i], s) == 0) return true;
        return false;
    }
    return true;
}

