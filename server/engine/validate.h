/* validate.h — the input rules of API.md, as pure functions.
 *
 * Every function checks a decoded request against the contract and returns
 * FB_OK or FB_INVALID with err->msg of the form "FIELD: RULE[, got VALUE]",
 * e.g. "score: must be 0..10, got 11". The part before the first ": " is the
 * field path (Import reports it separately: fb_validate_split). Offending
 * values are echoed only when they are short, valid UTF-8 and printable.
 *
 * protobuf-c does not check that string fields are UTF-8, so every string
 * field is checked here. now_ms is the server clock (for the "not in the
 * future" rule); te (may be NULL: skip the check) says which languages the
 * text engine supports.
 */
#ifndef FB_VALIDATE_H
#define FB_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sentiment.h"
#include "feedback/v1/ingest.pb-c.h"
#include "feedback/v1/insights.pb-c.h"

/* Limits of API.md. */
enum {
    FB_MAX_SURVEY_ID = 64,
    FB_MAX_COMMENT = 8192,
    FB_MAX_TITLE = 1024,
    FB_MAX_RESPONDENT_ID = 128,
    FB_MAX_CHANNEL = 32,
    FB_MAX_TAGS = 16,
    FB_MAX_TAG_KEY = 32,
    FB_MAX_TAG_VALUE = 128,
    FB_MAX_IDEMPOTENCY_KEY = 128,
    FB_MAX_SOURCE = 32,
    FB_MAX_EXTERNAL_ID = 128,
    FB_MAX_ANALYZE_TEXT = 8192,
    FB_MAX_FUTURE_MS = 5 * 60 * 1000,
};

/* Returns 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF); else 0 and *bad_offset (if not NULL) = offset of the first bad byte. */
int fb_utf8_check(const char *s, size_t len, size_t *bad_offset);

/* SubmitResponse / SubmitReview / one Import item. Errors: FB_INVALID. */
int fb_validate_response(const Feedback__V1__SubmitResponseRequest *r, int64_t now_ms,
                         const fb_textengine *te, fb_err *err);
int fb_validate_review(const Feedback__V1__SubmitReviewRequest *r, int64_t now_ms,
                       const fb_textengine *te, fb_err *err);
int fb_validate_import_item(const Feedback__V1__ImportItem *it, int64_t now_ms,
                            const fb_textengine *te, fb_err *err);

/* Checks an optional language field and writes its lower-case primary tag
 * ("en" for "en-GB") to out, or "" when the field is empty. Unsupported
 * languages (te given and without a lexicon) are FB_INVALID listing the
 * supported ones. Errors: FB_INVALID. */
int fb_validate_language(const char *lang, const fb_textengine *te, char out[8], fb_err *err);

/* Insights.Analyze: text at most 8 KiB of valid UTF-8, language as above. */
int fb_validate_analyze(const Feedback__V1__AnalyzeRequest *r, const fb_textengine *te,
                        fb_err *err);

/* Insights.ListFeedback filters (range, enums, channel, tags, page_size is
 * clamped by the lister, page_token checked by the lister). Errors: FB_INVALID. */
int fb_validate_list_query(const Feedback__V1__ListQuery *q, fb_err *err);

/* Splits "field: reason" into its parts (field_out gets "" when there is no
 * ": "). Writes at most cap bytes, NUL-terminated, into each. */
void fb_validate_split(const char *msg, char *field_out, size_t field_cap,
                       char *reason_out, size_t reason_cap);

#endif
