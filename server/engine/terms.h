/* terms.h — TopTerms: the stems (or aspects) that drive negative or positive
 * feedback, maintained at ingest.
 *
 * Table "terms" (key layout in terms.c): per tenant × survey (own and the ""
 * rollup) × segment (as in trends.h) × UTC day × stem × surface form: the
 * feedback mentioning it, their sentiment sum (micro-units), and how many of
 * them were labelled negative / positive; the same per aspect; and per day
 * the number of feedback (the denominator of share). Records are added with
 * the feedback's sign and deleted at zero, so erasure is exact as long as the
 * text engine gives the same stems on erase as on insert.
 *
 * Query cost: one range read per query over days × distinct (stem, surface)
 * pairs seen on those days — bounded by the vocabulary, not by the number of
 * feedback. Ranges are widened to whole UTC days.
 */
#ifndef FB_TERMS_H
#define FB_TERMS_H

#include <lmdb.h>

#include "error.h"
#include "feedback.h"
#include "trends.h"
#include "feedback/v1/insights.pb-c.h"

#define FB_TERMS_STEM_MAX 96   /* bytes of a stem / surface kept (cut at a character) */

/* Adds (sign +1) or subtracts (−1) the event's terms, inside the feedback's
 * write transaction. Errors: FB_EXHAUSTED, FB_INTERNAL. */
int fb_terms_apply(fb_txn *m, MDB_dbi dbi, const fb_feedback_event *ev, fb_err *err);

/* TopTerms. Ranking (direction NEGATIVE, the default): terms with at least
 * one negative mention, by score = negative_mentions × (1 − mean)/2 where
 * mean is the mean compound of the feedback mentioning the term (so a term
 * in strongly negative feedback outranks one in mildly negative feedback
 * with the same count); ties by mentions, then stem. POSITIVE mirrors it
 * with positive mentions × (1 + mean)/2. surface is the most frequent
 * surface form in the range (ties: the smallest). share = mentions / total,
 * total = feedback in the range (segment and survey applied). limit: default
 * 20, at most 200 (larger values are capped). by_aspect: one entry per
 * aspect (stem = surface = aspect). Release out with fb_trends_terms_clear.
 * Errors: FB_INVALID (from_ms >= to_ms, survey_id, filter), FB_INTERNAL. */
int fb_trends_top_terms(fb_trends *t, const fb_trends_ctx *c, const Feedback__V1__TermsQuery *q,
                        Feedback__V1__TermsReply *out, fb_err *err);
void fb_trends_terms_clear(Feedback__V1__TermsReply *out);

#endif
