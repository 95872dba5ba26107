/* alert_rules.c — evaluating the alert rules on one feedback.
 *
 * Design: pure functions of (feedback, rules, clock) so every rule and every
 * reason sentence is testable without a store. The watch list is matched on
 * Snowball stems (alert_stems.c: the same stemmers the text engine uses), word by word, so
 * "refund" matches "refunded" and "food poisoning" matches "food poisoned";
 * a phrase must appear as consecutive words. Stop words are kept here (unlike
 * the text engine's terms) because phrases such as "cancel my account" and
 * "never again" are made of them.
 *
 * Severity per rule (the alert takes the maximum):
 *   DETRACTOR   score 0-2: HIGH with negative text, else MEDIUM;
 *               3-4: MEDIUM with negative text, else LOW; 5-6: LOW
 *               (MEDIUM with very negative text)
 *   LOW_RATING  1 star: HIGH with negative text, else MEDIUM; 2: MEDIUM/LOW
 *   NEGATIVE_TEXT  MEDIUM at compound <= -0.75, else LOW
 *   SCORE_TEXT_MISMATCH  MEDIUM
 *   KEYWORD     HIGH; CRITICAL when the score/rating rule is HIGH as well
 * "negative text" is compound <= -0.05 (the label threshold); "very" <= -0.6.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_rules.h"

#define KIND(k) FEEDBACK__V1__ALERT__KIND__##k
#define SEV(s) FEEDBACK__V1__SEVERITY__##s
#define BIT(k) (1u << (k))

/* ---- rules in effect ----------------------------------------------------- */

static const char *const default_keywords[] = {
    "refund", "lawyer", "food poisoning", "never again", "sick",
    "cancel my account", "chargeback", "lawsuit", "scam",
};

void fb_rules_view_of(const Feedback__V1__Settings *settings, fb_rules_view *v)
{
    const Feedback__V1__AlertRules *r = settings ? settings->alert_rules : NULL;
    memset(v, 0, sizeof *v);
    v->timezone = settings && settings->timezone && *settings->timezone ? settings->timezone : "UTC";
    if (!r) {
        v->detractor = v->negative_text = v->low_rating = v->mismatch = v->nps_drop = true;
    } else {
        v->detractor = r->detractor;
        v->negative_text = r->negative_text;
        v->low_rating = r->low_rating;
        v->mismatch = r->score_text_mismatch;
        v->nps_drop = r->nps_drop;
    }
    if (!r) { /* no settings at all: the documented defaults */
        v->detractor_max = FB_ALERT_DEFAULT_DETRACTOR_MAX;
        v->low_rating_max = FB_ALERT_DEFAULT_LOW_RATING_MAX;
        v->negative_threshold = FB_ALERT_DEFAULT_NEGATIVE_TEXT;
        v->mismatch_threshold = FB_ALERT_DEFAULT_MISMATCH;
        v->sla_ms = FB_ALERT_DEFAULT_SLA_MS;
        v->repeat_window_ms = FB_ALERT_DEFAULT_REPEAT_MS;
        v->keywords = default_keywords;
        v->n_keywords = sizeof default_keywords / sizeof default_keywords[0];
    } else { /* settings are complete records (settings.h): 0 means 0 / off */
        v->detractor_max = r->detractor_max_score;
        v->low_rating_max = r->low_rating_max;
        v->negative_threshold = r->negative_text_threshold;
        v->mismatch_threshold = r->mismatch_threshold;
        v->sla_ms = r->sla_ms;
        v->repeat_window_ms = r->repeat_window_ms;
        v->keywords = (const char *const *)r->keywords;
        v->n_keywords = r->n_keywords;
    }
    if (r) {
        v->silences = r->silences;
        v->n_silences = r->n_silences;
        v->quiet = r->quiet_hours;
    }
}

char *fb_alert_text(const Feedback__V1__Feedback *fb)
{
    const char *a = fb->comment ? fb->comment : "";
    const char *t = fb->title ? fb->title : "";
    const char *b = fb->text ? fb->text : "";
    size_t n = strlen(a) + strlen(t) + strlen(b) + 3;
    char *s = malloc(n);
    if (!s) return NULL;
    snprintf(s, n, "%s%s%s%s%s", a, *a && (*t || *b) ? " " : "", t, *t && *b ? " " : "", b);
    return s;
}

/* ---- names ----------------------------------------------------------------- */

int fb_severity_up(int severity)
{
    return severity >= SEV(CRITICAL) ? SEV(CRITICAL) : severity + 1;
}

const char *fb_severity_name(int severity)
{
    static const char *const names[] = {"UNSPECIFIED", "LOW", "MEDIUM", "HIGH", "CRITICAL"};
    return severity >= 0 && severity <= 4 ? names[severity] : "UNSPECIFIED";
}

const char *fb_alert_kind_name(int kind)
{
    static const char *const names[] = {"KIND_UNSPECIFIED", "DETRACTOR", "NEGATIVE_TEXT",
                                        "KEYWORD", "LOW_RATING", "SCORE_TEXT_MISMATCH",
                                        "NPS_DROP", "SLA_BREACH"};
    return kind >= 0 && kind <= 7 ? names[kind] : "KIND_UNSPECIFIED";
}

/* ---- evaluation ------------------------------------------------------------ */

static const char *tone_of(double c, int label)
{
    if (label == FEEDBACK__V1__LABEL__MIXED) return "mixed";
    if (c <= -0.6) return "very negative";
    if (c <= -0.05) return "negative";
    if (c >= 0.6) return "very positive";
    if (c >= 0.05) return "positive";
    return "neutral";
}

/* Appends the matched entries as "a", "a and b", "a, b and c". */
static void append_list(char *buf, size_t cap, char **items, size_t n)
{
    size_t len = strlen(buf);
    for (size_t i = 0; i < n && len < cap; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", sep, items[i]);
    }
}

static void build_reason(const Feedback__V1__Feedback *fb, bool has_text, double c,
                         fb_alert_eval *e)
{
    bool review = fb->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW;
    int label = fb->sentiment ? fb->sentiment->label : 0;
    char *r = e->reason;
    size_t cap = sizeof e->reason;
    if (e->kinds & BIT(KIND(SCORE_TEXT_MISMATCH)))
        snprintf(r, cap, review ? "%d-star review" : "Promoter score %d", review ? fb->rating : fb->score);
    else if (e->kinds & BIT(KIND(DETRACTOR)))
        snprintf(r, cap, "Detractor score %d", fb->score);
    else if (review)
        snprintf(r, cap, "%d-star review", fb->rating);
    else
        snprintf(r, cap, "Score %d", fb->score);
    size_t len = strlen(r);
    if (has_text) {
        const char *link = e->kinds & BIT(KIND(SCORE_TEXT_MISMATCH)) ? "but" : "with";
        len += (size_t)snprintf(r + len, cap - len, " %s %s %s", link, tone_of(c, label),
                                review ? "text" : "comment");
    }
    if (e->n_matched && len < cap) {
        snprintf(r + len, cap - len, " mentioning ");
        append_list(r, cap, e->matched, e->n_matched);
    }
    len = strlen(r);
    if (len < cap - 1) r[len] = '.', r[len + 1] = 0;
}

static void rule(fb_alert_eval *e, int kind, int severity, int *best_rank)
{
    /* tie order: lower rank wins */
    static const int rank[8] = {9, 2, 4, 0, 3, 1, 5, 6};
    e->kinds |= BIT(kind);
    if (severity > e->severity || (severity == e->severity && rank[kind] < *best_rank)) {
        e->severity = severity;
        e->kind = kind;
        *best_rank = rank[kind];
    }
}

static int match_keywords(const Feedback__V1__Feedback *fb, const char *text,
                          const fb_rules_view *rules, fb_stemmers *st, fb_alert_eval *e)
{
    const char *lang = fb->language ? fb->language : "";
    char **stems;
    size_t n;
    if (fb_stems_of(st, text, lang, &stems, &n) != FB_OK) return FB_INTERNAL;
    int rc = FB_OK;
    enum { CHUNK = 64 };
    bool found[CHUNK];
    for (size_t i0 = 0; i0 < rules->n_keywords && rc == FB_OK; i0 += CHUNK) {
        size_t m = rules->n_keywords - i0 < CHUNK ? rules->n_keywords - i0 : CHUNK;
        fb_stems_contain_each(st, stems, n, rules->keywords + i0, m, lang, found);
        for (size_t i = 0; i < m && rc == FB_OK; i++) {
            const char *kw = rules->keywords[i0 + i];
            if (!kw || !*kw || !found[i]) continue;
            char **nm = realloc(e->matched, (e->n_matched + 1) * sizeof *nm);
            if (nm) e->matched = nm;
            if (!nm || !(nm[e->n_matched] = strdup(kw))) rc = FB_INTERNAL;
            else e->n_matched++;
        }
    }
    fb_stems_free(stems, n);
    return rc;
}

int fb_alert_rules_eval(const Feedback__V1__Feedback *fb, const char *text,
                        const fb_rules_view *rules, fb_stemmers *st,
                        fb_alert_eval *e, fb_err *err)
{
    memset(e, 0, sizeof *e);
    bool review = fb->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW;
    bool has_text = text && *text;
    double c = fb->sentiment && has_text ? fb->sentiment->compound : 0.0;
    bool neg = has_text && c <= -0.05, very = has_text && c <= -0.6;
    int best = 99, base = 0;

    if (!review && rules->detractor && fb->score <= rules->detractor_max) {
        int s = fb->score <= 2 ? (neg ? SEV(HIGH) : SEV(MEDIUM))
              : fb->score <= 4 ? (neg ? SEV(MEDIUM) : SEV(LOW))
              : (very ? SEV(MEDIUM) : SEV(LOW));
        rule(e, KIND(DETRACTOR), s, &best);
        base = s;
    }
    if (review && rules->low_rating && fb->rating >= 1 && fb->rating <= rules->low_rating_max) {
        int s = fb->rating <= 1 ? (neg ? SEV(HIGH) : SEV(MEDIUM)) : (neg ? SEV(MEDIUM) : SEV(LOW));
        rule(e, KIND(LOW_RATING), s, &best);
        if (s > base) base = s;
    }
    if (has_text && rules->negative_text && c <= rules->negative_threshold)
        rule(e, KIND(NEGATIVE_TEXT), c <= -0.75 ? SEV(MEDIUM) : SEV(LOW), &best);
    bool promoter = review ? fb->rating >= 5 : fb->score >= 9;
    if (has_text && rules->mismatch && promoter && c <= rules->mismatch_threshold)
        rule(e, KIND(SCORE_TEXT_MISMATCH), SEV(MEDIUM), &best);
    if (has_text && rules->n_keywords) {
        if (match_keywords(fb, text, rules, st, e) != FB_OK) {
            fb_alert_eval_free(e);
            return fb_err_set(err, FB_INTERNAL, "alerts: out of memory matching keywords");
        }
        if (e->n_matched)
            rule(e, KIND(KEYWORD), base >= SEV(HIGH) ? SEV(CRITICAL) : SEV(HIGH), &best);
    }
    if (e->kinds) build_reason(fb, has_text, c, e);
    return FB_OK;
}

void fb_alert_eval_free(fb_alert_eval *e)
{
    for (size_t i = 0; i < e->n_matched; i++) free(e->matched[i]);
    free(e->matched);
    e->matched = NULL;
    e->n_matched = 0;
}

/* ---- noise control --------------------------------------------------------- */

static bool kinds_overlap(const Feedback__V1__Silence *s, const Feedback__V1__Alert *a)
{
    if (!s->n_kinds) return true;
    for (size_t i = 0; i < s->n_kinds; i++) {
        if ((int)s->kinds[i] == (int)a->kind) return true;
        for (size_t j = 0; j < a->n_kinds; j++)
            if (s->kinds[i] == a->kinds[j]) return true;
    }
    return false;
}

bool fb_alert_silenced(const fb_rules_view *rules, const Feedback__V1__Alert *a,
                       const char *text, fb_stemmers *st, int64_t now_ms)
{
    for (size_t i = 0; i < rules->n_silences; i++) {
        const Feedback__V1__Silence *s = rules->silences[i];
        if (!s || s->expires_ms <= now_ms) continue;
        if (s->survey_id && *s->survey_id && strcmp(s->survey_id, a->survey_id ? a->survey_id : "")) continue;
        if (s->channel && *s->channel && strcmp(s->channel, a->channel ? a->channel : "")) continue;
        if (!kinds_overlap(s, a)) continue;
        if (s->matcher && *s->matcher) {
            char **stems;
            size_t n;
            if (!text || fb_stems_of(st, text, "", &stems, &n) != FB_OK) continue;
            bool hit = fb_stems_contain(st, stems, n, s->matcher, "");
            fb_stems_free(stems, n);
            if (!hit) continue;
        }
        return true;
    }
    return false;
}

/* Offset in minutes east of UTC for the zones fb_local_minute understands. */
static int tz_offset_minutes(const char *tz)
{
    if (!tz) return 0;
    if (strncmp(tz, "Etc/GMT", 7) == 0 && (tz[7] == '+' || tz[7] == '-'))
        return (tz[7] == '+' ? -60 : 60) * atoi(tz + 8); /* POSIX: sign inverted */
    if (strncmp(tz, "UTC", 3) == 0 || strncmp(tz, "GMT", 3) == 0) tz += 3;
    if (*tz != '+' && *tz != '-') return 0;
    int sign = *tz == '-' ? -1 : 1;
    int h = atoi(tz + 1), m = 0;
    const char *colon = strchr(tz, ':');
    if (colon) m = atoi(colon + 1);
    else if (strlen(tz + 1) == 4) h /= 100, m = atoi(tz + 1) % 100;
    return sign * (h * 60 + m);
}

int fb_local_minute(const char *tz, int64_t now_ms)
{
    int64_t min = now_ms / 60000 + tz_offset_minutes(tz);
    int64_t day = 24 * 60;
    return (int)(((min % day) + day) % day);
}

bool fb_alert_quiet(const fb_rules_view *rules, int severity, int local_minute)
{
    const Feedback__V1__QuietHours *q = rules->quiet;
    if (!q || !q->enabled || q->start_minute == q->end_minute) return false;
    int max_held = q->max_held_severity ? (int)q->max_held_severity : SEV(HIGH);
    if (severity > max_held) return false;
    unsigned m = (unsigned)local_minute;
    if (q->start_minute < q->end_minute) return m >= q->start_minute && m < q->end_minute;
    return m >= q->start_minute || m < q->end_minute; /* wraps midnight */
}
