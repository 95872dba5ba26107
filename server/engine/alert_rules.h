/* alert_rules.h — which alert rules a piece of feedback matches (pure logic).
 *
 * Internal to the alerts module (alerts.c, tests). No storage here: given a
 * feedback record and the tenant's AlertRules, decide the kinds it matched,
 * the strongest kind, the severity, the matched watch-list entries and a
 * one-sentence human reason. Also the noise controls that depend only on the
 * rules and the clock: silences and quiet hours.
 *
 * One alert per feedback: a feedback that matches several rules raises ONE
 * alert whose `kind` is the strongest rule (highest severity; ties broken in
 * the order KEYWORD, SCORE_TEXT_MISMATCH, DETRACTOR, LOW_RATING,
 * NEGATIVE_TEXT), whose `kinds` lists every rule matched, and whose reason
 * mentions all of them. Staff are paged once per unhappy customer.
 */
#ifndef FB_ALERT_RULES_H
#define FB_ALERT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "feedback/v1/admin.pb-c.h"
#include "feedback/v1/alerts.pb-c.h"
#include "feedback/v1/common.pb-c.h"

/* Default rule values (used when the settings leave a field at 0). */
#define FB_ALERT_DEFAULT_DETRACTOR_MAX 6
#define FB_ALERT_DEFAULT_NEGATIVE_TEXT (-0.5)
#define FB_ALERT_DEFAULT_LOW_RATING_MAX 2
#define FB_ALERT_DEFAULT_MISMATCH (-0.5)
#define FB_ALERT_DEFAULT_SLA_MS (24LL * 3600 * 1000)
#define FB_ALERT_DEFAULT_REPEAT_MS (24LL * 3600 * 1000)

/* Snowball stemmers per language, created on first use. Thread-safe (one
 * mutex: the stemmers themselves are not reentrant). */
typedef struct fb_stemmers fb_stemmers;
int fb_stemmers_open(fb_stemmers **out, fb_err *err);
void fb_stemmers_close(fb_stemmers *s);

/* Splits text into lower-cased word stems (language: primary tag, "" = en;
 * unknown languages are not stemmed, only lower-cased). *out is an array of
 * n strings in one allocation; free with fb_stems_free (never free the
 * strings one by one). Words already stemmed are served from a bounded
 * per-language cache. Errors: FB_INTERNAL (memory). */
int fb_stems_of(fb_stemmers *s, const char *text, const char *lang, char ***out, size_t *n);
void fb_stems_free(char **stems, size_t n);

/* True if the phrase (one or more words) occurs in the stemmed text as
 * consecutive stems. */
bool fb_stems_contain(fb_stemmers *s, char *const *text_stems, size_t n_text,
                      const char *phrase, const char *lang);
/* found[i] = fb_stems_contain(..., phrases[i], ...) for n phrases (a NULL
 * phrase is never found); the list's stems are cached per language, so a
 * watch list is stemmed once, not once per feedback. Out of memory: none
 * found. */
void fb_stems_contain_each(fb_stemmers *s, char *const *text_stems, size_t n_text,
                           const char *const *phrases, size_t n, const char *lang, bool *found);

/* The outcome of evaluating the rules on one feedback. */
typedef struct fb_alert_eval {
    unsigned kinds;        /* bit (1u << FEEDBACK__V1__ALERT__KIND__*) per rule matched */
    int kind;              /* the strongest (0: nothing matched) */
    int severity;          /* FEEDBACK__V1__SEVERITY__* */
    char **matched;        /* watch-list entries found, as written in the list */
    size_t n_matched;
    char reason[512];
} fb_alert_eval;

/* The rules in effect. settings NULL (or without alert_rules): the defaults
 * above and the default watch list. Otherwise the values as stored — the
 * settings module returns complete records, so 0 means 0: sla_ms 0 is "no
 * SLA", repeat_window_ms 0 "never join", an empty watch list "no keywords".
 * Never fails; the result points into settings or static data. */
typedef struct fb_rules_view {
    bool detractor, negative_text, low_rating, mismatch, nps_drop;
    int detractor_max, low_rating_max;
    double negative_threshold, mismatch_threshold;
    int64_t sla_ms, repeat_window_ms;
    const char *const *keywords; size_t n_keywords;
    Feedback__V1__Silence **silences; size_t n_silences;
    const Feedback__V1__QuietHours *quiet;
    const char *timezone;
} fb_rules_view;
void fb_rules_view_of(const Feedback__V1__Settings *settings, fb_rules_view *out);

/* The text a feedback carries (comment, or review title and text joined).
 * Returns a malloc'd string (may be empty) or NULL on memory failure. */
char *fb_alert_text(const Feedback__V1__Feedback *fb);

/* Evaluates every rule. text = fb_alert_text(fb). Errors: FB_INTERNAL. */
int fb_alert_rules_eval(const Feedback__V1__Feedback *fb, const char *text,
                        const fb_rules_view *rules, fb_stemmers *st,
                        fb_alert_eval *out, fb_err *err);
void fb_alert_eval_free(fb_alert_eval *e);

/* One severity higher (CRITICAL stays CRITICAL). */
int fb_severity_up(int severity);
const char *fb_severity_name(int severity);
const char *fb_alert_kind_name(int kind);

/* True if an active silence (expires_ms > now) matches the alert: survey,
 * channel, kinds (any of the alert's kinds), and matcher (a word or phrase
 * the text contains, on stems). */
bool fb_alert_silenced(const fb_rules_view *rules, const Feedback__V1__Alert *a,
                       const char *text, fb_stemmers *st, int64_t now_ms);

/* Minutes after local midnight at now_ms for a fixed-offset zone: "UTC",
 * "+HH:MM"/"-HH:MM"/"UTC+H", "Etc/GMT-N" (POSIX sign); anything else is read
 * as UTC. The fallback when the zone database has no such zone (alerts.c
 * uses the dashboards' tz module for IANA names). */
int fb_local_minute(const char *tz, int64_t now_ms);

/* True if quiet hours are on at local_minute (minutes after local midnight)
 * and hold back this severity (severity <= max_held_severity, default
 * HIGH). The window may wrap midnight (start > end). */
bool fb_alert_quiet(const fb_rules_view *rules, int severity, int local_minute);

#endif
