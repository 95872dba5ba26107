/* ingest.h — from a submitted request to a durable feedback record.
 *
 * Engine only (no gRPC): the caller (rpc_ingest.c) hands over a decoded
 * request and a done callback; the reply is built in that callback, which
 * the store calls after the batch holding the record is durable.
 *
 * Per request, on the calling thread: validate (validate.h), derive the NPS
 * category, resolve the language (request, else the tenant default, else a
 * guess), score the sentiment with its terms, hash the canonical payload.
 * Then one async store write runs fb_feedback_put_txn on the writer thread
 * (idempotency, id, hooks, record, indexes).
 */
#ifndef FB_INGEST_H
#define FB_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "feedback.h"
#include "sentiment.h"
#include "feedback/v1/ingest.pb-c.h"
#include "feedback/v1/insights.pb-c.h"

/* What ingest needs; the caller builds it from the server's modules. */
typedef struct fb_ingest_env {
    fb_feedback *feedback;
    const fb_textengine *text;      /* NULL: records carry no sentiment */
    const char *default_language;   /* the tenant's; NULL or "": guess */
} fb_ingest_env;

typedef struct fb_ingest_result {
    const Feedback__V1__Feedback *record; /* the stored record; when duplicate,
                                             the first request's record */
    bool duplicate;
} fb_ingest_result;

/* Called once on the store's writer thread: rc FB_OK (res valid for the
 * duration of the call only) or the error (FB_EXISTS, FB_EXHAUSTED, a hook's
 * error, FB_UNAVAILABLE, FB_INTERNAL; res NULL). Keep it short. */
typedef void (*fb_ingest_done_fn)(void *arg, int rc, const fb_err *err, const fb_ingest_result *res);

/* Validates, scores and queues the write. Returns FB_OK when queued (done
 * will be called exactly once), else the error (FB_INVALID, FB_UNAVAILABLE,
 * FB_INTERNAL; done is not called). */
int fb_ingest_submit_response(const fb_ingest_env *env, uint32_t tenant_id,
                              const Feedback__V1__SubmitResponseRequest *req,
                              fb_ingest_done_fn done, void *arg, fb_err *err);
int fb_ingest_submit_review(const fb_ingest_env *env, uint32_t tenant_id,
                            const Feedback__V1__SubmitReviewRequest *req,
                            fb_ingest_done_fn done, void *arg, fb_err *err);

/* Fills a Submitted reply that points into res->record (no allocation:
 * valid while res is; free nothing but alert_ids is shared too). */
void fb_ingest_submitted(const fb_ingest_result *res, Feedback__V1__Submitted *out);

/* ---- batches (Import) ---- */

typedef struct fb_ingest_batch fb_ingest_batch;

/* The outcome of one item after its batch was written. */
typedef struct fb_ingest_outcome {
    uint32_t index;      /* the item's position in the stream */
    int rc;              /* FB_OK (accepted or duplicate) or why it was rejected */
    bool duplicate;
    fb_err err;
} fb_ingest_outcome;

typedef void (*fb_ingest_batch_done_fn)(void *arg, int rc, const fb_err *err,
                                        const fb_ingest_outcome *items, size_t n);

/* A batch of up to cap items for one store op. NULL: out of memory. */
fb_ingest_batch *fb_ingest_batch_new(const fb_ingest_env *env, uint32_t tenant_id, size_t cap);
/* Validates and scores one item and adds it. FB_INVALID (err names the
 * field; the item is not added), FB_EXHAUSTED (batch full), FB_INTERNAL. */
int fb_ingest_batch_add(fb_ingest_batch *b, const Feedback__V1__ImportItem *item, uint32_t index,
                        fb_err *err);
size_t fb_ingest_batch_size(const fb_ingest_batch *b);
/* Queues the batch as one store op and gives it away: done is called once
 * (rc != FB_OK: the whole batch failed, e.g. FB_EXHAUSTED) and the batch is
 * freed after it. Returns FB_OK, or FB_UNAVAILABLE (the batch is freed, done
 * not called). */
int fb_ingest_batch_submit(fb_ingest_batch *b, fb_ingest_batch_done_fn done, void *arg);
void fb_ingest_batch_free(fb_ingest_batch *b);

/* ---- derived values ---- */

/* NPS category: score 9-10 PROMOTER, 7-8 PASSIVE, 0-6 DETRACTOR. */
Feedback__V1__Category fb_category_of_score(int score);
/* Stars: 5 PROMOTER, 4 PASSIVE, 1-3 DETRACTOR. */
Feedback__V1__Category fb_category_of_rating(int rating);

/* A malloc'd Sentiment message from a score (contributions when explain;
 * aspects always). Free with feedback__v1__sentiment__free_unpacked(m, NULL).
 * NULL: out of memory. */
Feedback__V1__Sentiment *fb_sentiment_to_msg(const fb_sentiment *s, bool explain);

/* Insights.Analyze: validates (text at most 8 KiB valid UTF-8, language)
 * and scores without storing. Errors: FB_INVALID, FB_INTERNAL. */
int fb_ingest_analyze(const fb_ingest_env *env, const Feedback__V1__AnalyzeRequest *req,
                      Feedback__V1__Sentiment **out, fb_err *err);

#endif
