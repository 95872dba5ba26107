/* validate.c — the input rules of API.md (see validate.h).
 *
 * Design: one small checker per kind of rule (required, pattern, length,
 * UTF-8, range), each returning FB_INVALID with the message already in its
 * final "field: rule, got value" shape, and one function per request that
 * runs them in field order, so the first broken rule is the one reported.
 * Nothing here allocates or touches the store: validation runs on the
 * calling worker thread before any write is queued.
 */
#include "validate.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- UTF-8 ------------------------------------------------------------- */

int fb_utf8_check(const char *s, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c == 0xE0) { n = 2; lo = 0xA0; }          /* no overlongs */
        else if (c == 0xED) { n = 2; hi = 0x9F; }          /* no surrogates */
        else if (c >= 0xE1 && c <= 0xEF) n = 2;
        else if (c == 0xF0) { n = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) n = 3;
        else if (c == 0xF4) { n = 3; hi = 0x8F; }          /* at most U+10FFFF */
        else break;
        if (len - i <= n || p[i + 1] < lo || p[i + 1] > hi) break;
        size_t k = 2;
        while (k <= n && (p[i + k] & 0xC0) == 0x80) k++;
        if (k <= n) break;
        i += n + 1;
    }
    if (i == len) return 1;
    if (bad_offset) *bad_offset = i; /* start of the invalid sequence */
    return 0;
}

/* ---- small checkers ---------------------------------------------------- */

static bool in_class(unsigned char c, const char *extra, bool upper)
{
    if (c >= 'a' && c <= 'z') return true;
    if (c >= '0' && c <= '9') return true;
    if (upper && c >= 'A' && c <= 'Z') return true;
    return c && strchr(extra, c) != NULL;
}

/* Appends ", got "VALUE"" to a rule message when VALUE is safe to echo. */
static int fail_with_value(fb_err *err, const char *field, const char *rule, const char *v)
{
    size_t len = strlen(v);
    bool printable = len <= 40 && fb_utf8_check(v, len, NULL);
    for (size_t i = 0; printable && i < len; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == '"' || v[i] == '\\' || v[i] == 0x7f)
            printable = false;
    if (printable)
        return fb_err_set(err, FB_INVALID, "%s: %s, got \"%s\"", field, rule, v);
    return fb_err_set(err, FB_INVALID, "%s: %s", field, rule);
}

/* Pattern [class]{1,max}; empty is allowed only when !required. */
static int check_pattern(const char *field, const char *v, size_t max, const char *extra,
                         bool upper, const char *rule, bool required, fb_err *err)
{
    size_t len = strlen(v);
    if (len == 0) {
        if (required) return fb_err_set(err, FB_INVALID, "%s: required", field);
        return FB_OK;
    }
    bool ok = len <= max;
    for (size_t i = 0; ok && i < len; i++) ok = in_class((unsigned char)v[i], extra, upper);
    if (!ok) return fail_with_value(err, field, rule, v);
    return FB_OK;
}

/* Optional free text: valid UTF-8, at most max bytes. */
static int check_text(const char *field, const char *v, size_t max, fb_err *err)
{
    size_t len = strlen(v), bad;
    if (len > max)
        return fb_err_set(err, FB_INVALID, "%s: at most %zu bytes, got %zu", field, max, len);
    if (!fb_utf8_check(v, len, &bad))
        return fb_err_set(err, FB_INVALID, "%s: must be valid UTF-8 (invalid byte at offset %zu)",
                          field, bad);
    return FB_OK;
}

static int check_channel(const char *field, const char *v, bool required, fb_err *err)
{
    return check_pattern(field, v, FB_MAX_CHANNEL, "_", false, "must match [a-z0-9_]{1,32}",
                         required, err);
}

static int check_survey_id(const char *v, bool required, fb_err *err)
{
    return check_pattern("survey_id", v, FB_MAX_SURVEY_ID, "._-", true,
                         "must match [A-Za-z0-9._-]{1,64}", required, err);
}

static int check_submitted_at(int64_t t, int64_t now_ms, fb_err *err)
{
    if (t < 0)
        return fb_err_set(err, FB_INVALID, "submitted_at_ms: must not be negative, got %lld",
                          (long long)t);
    if (t > now_ms + FB_MAX_FUTURE_MS)
        return fb_err_set(err, FB_INVALID,
                          "submitted_at_ms: more than 5 minutes in the future (%lld ms ahead)",
                          (long long)(t - now_ms));
    return FB_OK;
}

/* A tags map given as parallel key/value accessors (the two request types
 * have distinct entry types with the same layout). */
typedef struct tag_view { const char *key, *value; } tag_view;

static int check_tags(const tag_view *tags, size_t n, fb_err *err)
{
    if (n > FB_MAX_TAGS)
        return fb_err_set(err, FB_INVALID, "tags: at most %d pairs, got %zu", FB_MAX_TAGS, n);
    for (size_t i = 0; i < n; i++) {
        const char *k = tags[i].key ? tags[i].key : "";
        size_t klen = strlen(k);
        bool ok = klen >= 1 && klen <= FB_MAX_TAG_KEY;
        for (size_t j = 0; ok && j < klen; j++) ok = in_class((unsigned char)k[j], "_", false);
        if (!ok) {
            if (klen <= 40 && fb_utf8_check(k, klen, NULL) && !strpbrk(k, "\"\\"))
                return fb_err_set(err, FB_INVALID, "tags: key \"%s\" must match [a-z0-9_]{1,32}", k);
            return fb_err_set(err, FB_INVALID, "tags: keys must match [a-z0-9_]{1,32}");
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(tags[j].key, k) == 0)
                return fb_err_set(err, FB_INVALID, "tags: key \"%s\" given twice", k);
        const char *v = tags[i].value ? tags[i].value : "";
        size_t vlen = strlen(v), bad;
        if (vlen > FB_MAX_TAG_VALUE)
            return fb_err_set(err, FB_INVALID, "tags[\"%s\"]: value at most %d bytes, got %zu", k,
                              FB_MAX_TAG_VALUE, vlen);
        if (!fb_utf8_check(v, vlen, &bad))
            return fb_err_set(err, FB_INVALID,
                              "tags[\"%s\"]: value must be valid UTF-8 (invalid byte at offset %zu)",
                              k, bad);
    }
    return FB_OK;
}

#define TAG_VIEWS(dst, entries, n)                                            \
    tag_view dst[FB_MAX_TAGS + 1];                                            \
    size_t dst##_n = (n) > FB_MAX_TAGS ? FB_MAX_TAGS + 1 : (n);               \
    for (size_t i_ = 0; i_ < dst##_n; i_++) {                                 \
        dst[i_].key = (entries)[i_]->key; dst[i_].value = (entries)[i_]->value; \
    }

/* ---- language ---------------------------------------------------------- */

static const char *const known_languages[] = {"en", "es", "fr", "de", "pt", "it", "nl", NULL};

int fb_validate_language(const char *lang, const fb_textengine *te, char out[8], fb_err *err)
{
    out[0] = '\0';
    if (!lang || !*lang) return FB_OK;
    /* primary tag: 2-3 letters; then optional -subtags of 1-8 alphanumerics */
    size_t n = 0;
    while (n < 4 && ((lang[n] | 0x20) >= 'a' && (lang[n] | 0x20) <= 'z')) n++;
    bool ok = n >= 2 && n <= 3;
    for (const char *p = lang + n; ok && *p;) {
        if (*p != '-' && *p != '_') { ok = false; break; }
        p++;
        size_t m = 0;
        while (p[m] && (((p[m] | 0x20) >= 'a' && (p[m] | 0x20) <= 'z') || (p[m] >= '0' && p[m] <= '9')))
            m++;
        ok = m >= 1 && m <= 8;
        p += m;
    }
    if (!ok || strlen(lang) > 35)
        return fail_with_value(err, "language", "must be a BCP-47 primary tag like \"en\"", lang);
    for (size_t i = 0; i < n; i++) out[i] = (char)(lang[i] | 0x20);
    out[n] = '\0';
    if (te && !fb_text_has_language(te, out)) {
        char list[64] = "";
        for (int i = 0; known_languages[i]; i++) {
            if (!fb_text_has_language(te, known_languages[i])) continue;
            if (list[0]) strcat(list, ", ");
            strcat(list, known_languages[i]);
        }
        fb_err_set(err, FB_INVALID, "language: \"%s\" is not supported (supported: %s)", out, list);
        out[0] = '\0';
        return FB_INVALID;
    }
    return FB_OK;
}

/* ---- the requests ------------------------------------------------------ */

static int check_common(const char *respondent_id, const char *channel, int64_t submitted_at,
                        const char *idem, const char *lang, int64_t now_ms,
                        const fb_textengine *te, fb_err *err)
{
    char norm[8];
    int rc;
    if ((rc = check_text("respondent_id", respondent_id, FB_MAX_RESPONDENT_ID, err))) return rc;
    if ((rc = check_channel("channel", channel, false, err))) return rc;
    if ((rc = check_submitted_at(submitted_at, now_ms, err))) return rc;
    if ((rc = check_text("idempotency_key", idem, FB_MAX_IDEMPOTENCY_KEY, err))) return rc;
    return fb_validate_language(lang, te, norm, err);
}

int fb_validate_response(const Feedback__V1__SubmitResponseRequest *r, int64_t now_ms,
                         const fb_textengine *te, fb_err *err)
{
    int rc;
    if ((rc = check_survey_id(r->survey_id, true, err))) return rc;
    if (r->score_present_case != FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE)
        return fb_err_set(err, FB_INVALID, "score: required");
    if (r->score < 0 || r->score > 10)
        return fb_err_set(err, FB_INVALID, "score: must be 0..10, got %d", (int)r->score);
    if ((rc = check_text("comment", r->comment, FB_MAX_COMMENT, err))) return rc;
    TAG_VIEWS(tags, r->tags, r->n_tags);
    if ((rc = check_tags(tags, r->n_tags, err))) return rc;
    return check_common(r->respondent_id, r->channel, r->submitted_at_ms, r->idempotency_key,
                        r->language, now_ms, te, err);
}

int fb_validate_review(const Feedback__V1__SubmitReviewRequest *r, int64_t now_ms,
                       const fb_textengine *te, fb_err *err)
{
    int rc;
    if ((rc = check_pattern("source", r->source, FB_MAX_SOURCE, "_", false,
                            "must match [a-z0-9_]{1,32}", true, err)))
        return rc;
    if ((rc = check_pattern("external_id", r->external_id, FB_MAX_EXTERNAL_ID, "._:-", true,
                            "must match [A-Za-z0-9._:-]{1,128}", true, err)))
        return rc;
    if (r->rating < 1 || r->rating > 5)
        return fb_err_set(err, FB_INVALID, "rating: must be 1..5, got %d", (int)r->rating);
    if ((rc = check_text("title", r->title, FB_MAX_TITLE, err))) return rc;
    if ((rc = check_text("text", r->text, FB_MAX_COMMENT, err))) return rc;
    if ((rc = check_survey_id(r->survey_id, false, err))) return rc;
    TAG_VIEWS(tags, r->tags, r->n_tags);
    if ((rc = check_tags(tags, r->n_tags, err))) return rc;
    return check_common(r->respondent_id, r->channel, r->submitted_at_ms, r->idempotency_key,
                        r->language, now_ms, te, err);
}

int fb_validate_import_item(const Feedback__V1__ImportItem *it, int64_t now_ms,
                            const fb_textengine *te, fb_err *err)
{
    switch (it->item_case) {
    case FEEDBACK__V1__IMPORT_ITEM__ITEM_RESPONSE:
        return fb_validate_response(it->response, now_ms, te, err);
    case FEEDBACK__V1__IMPORT_ITEM__ITEM_REVIEW:
        return fb_validate_review(it->review, now_ms, te, err);
    default:
        return fb_err_set(err, FB_INVALID, "item: required (a response or a review)");
    }
}

int fb_validate_analyze(const Feedback__V1__AnalyzeRequest *r, const fb_textengine *te,
                        fb_err *err)
{
    char norm[8];
    int rc = check_text("text", r->text, FB_MAX_ANALYZE_TEXT, err);
    if (rc) return rc;
    return fb_validate_language(r->language, te, norm, err);
}

int fb_validate_list_query(const Feedback__V1__ListQuery *q, fb_err *err)
{
    int rc;
    if ((rc = check_survey_id(q->survey_id, false, err))) return rc;
    if (q->from_ms < 0)
        return fb_err_set(err, FB_INVALID, "from_ms: must not be negative, got %lld",
                          (long long)q->from_ms);
    if (q->to_ms < 0)
        return fb_err_set(err, FB_INVALID, "to_ms: must not be negative, got %lld",
                          (long long)q->to_ms);
    if (q->to_ms && q->to_ms <= q->from_ms)
        return fb_err_set(err, FB_INVALID, "to_ms: must be after from_ms (%lld), got %lld",
                          (long long)q->from_ms, (long long)q->to_ms);
    if ((int)q->category < 0 || q->category > FEEDBACK__V1__CATEGORY__DETRACTOR)
        return fb_err_set(err, FB_INVALID, "category: unknown value %d", (int)q->category);
    if ((int)q->label < 0 || q->label > FEEDBACK__V1__LABEL__MIXED)
        return fb_err_set(err, FB_INVALID, "label: unknown value %d", (int)q->label);
    if ((int)q->kind < 0 || q->kind > FEEDBACK__V1__FEEDBACK_KIND__REVIEW)
        return fb_err_set(err, FB_INVALID, "kind: unknown value %d", (int)q->kind);
    if ((rc = check_channel("channel", q->channel, false, err))) return rc;
    if ((rc = check_text("respondent_id", q->respondent_id, FB_MAX_RESPONDENT_ID, err))) return rc;
    TAG_VIEWS(tags, q->tags, q->n_tags);
    return check_tags(tags, q->n_tags, err);
}

void fb_validate_split(const char *msg, char *field_out, size_t field_cap, char *reason_out,
                       size_t reason_cap)
{
    const char *sep = strstr(msg, ": ");
    if (!sep) {
        snprintf(field_out, field_cap, "%s", "");
        snprintf(reason_out, reason_cap, "%s", msg);
        return;
    }
    snprintf(field_out, field_cap, "%.*s", (int)(sep - msg), msg);
    snprintf(reason_out, reason_cap, "%s", sep + 2);
}
