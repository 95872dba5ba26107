/* feedback.h — stored feedback: put (with idempotency), get, list, erase.
 *
 * A record is the packed feedback.v1.Feedback message. Other modules keep
 * derived data (aggregates, terms, alerts) consistent through hooks that run
 * inside the same write transaction as the record: on insert with sign +1,
 * on erase with sign -1. A hook that fails rolls the whole op back.
 * (Key layout: see feedback.c.)
 *
 * Messages handed out (fb_feedback_get, pages, put results) are allocated
 * with malloc in protobuf-c's layout: free them with
 * feedback__v1__feedback__free_unpacked(msg, NULL) /
 * feedback__v1__feedback_page__free_unpacked(page, NULL).
 */
#ifndef FB_FEEDBACK_H
#define FB_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ids.h"
#include "store.h"
#include "feedback/v1/common.pb-c.h"
#include "feedback/v1/insights.pb-c.h"
#include "sentiment.h"

typedef struct fb_feedback fb_feedback;

/* What an erasure did; hooks add the alerts they redacted. */
typedef struct fb_erase_summary {
    uint32_t feedback_erased;
    uint32_t alerts_redacted;
} fb_erase_summary;

typedef struct fb_feedback_event {
    uint32_t tenant_id;
    Feedback__V1__Feedback *fb;   /* on insert a hook may append alert_ids
                                     (malloc'd strings, realloc'd array) */
    int sign;                     /* +1 insert, -1 erase */
    const fb_term *terms;         /* distinct stems (fb_sentiment.terms), computed
                                     off the writer thread; on erase recomputed */
    size_t n_terms;
    int64_t now_ms;
    fb_erase_summary *erase;      /* sign -1: hooks add to alerts_redacted; else NULL */
} fb_feedback_event;

typedef int (*fb_feedback_hook)(fb_txn *txn, const fb_feedback_event *ev, void *ctx, fb_err *err);

enum { FB_FEEDBACK_MAX_HOOKS = 8 };

/* Opens the feedback tables. Errors: FB_INTERNAL. */
int fb_feedback_open(fb_feedback **out, fb_store *st, fb_err *err);
void fb_feedback_close(fb_feedback *fb);
fb_store *fb_feedback_store(fb_feedback *fb);

/* Registers a hook; call at start, before serving (not thread-safe). Hooks
 * run in registration order on insert and in reverse order on erase.
 * Errors: FB_EXHAUSTED (more than FB_FEEDBACK_MAX_HOOKS). */
int fb_feedback_add_hook(fb_feedback *fb, fb_feedback_hook fn, void *ctx, fb_err *err);

/* ---- put: one record inside a write op (writer thread) ---- */

/* The idempotency identity of a request: the optional idempotency_key and,
 * for reviews, the natural key (source, external_id); and the SHA-256 of the
 * canonical payload (see fb_feedback_payload_hash). */
typedef struct fb_feedback_put {
    uint32_t tenant_id;
    Feedback__V1__Feedback *rec;   /* the record to store; id and received_ms
                                      are filled here. Stays the caller's. */
    const fb_term *terms;          /* for the hooks */
    size_t n_terms;
    unsigned char payload_hash[32];
    /* out */
    bool duplicate;                /* an earlier request with the same key and payload */
    Feedback__V1__Feedback *existing; /* when duplicate: the stored record (caller frees) */
} fb_feedback_put;

/* Inside a write op: checks the idempotency keys, then (if new) assigns id
 * and received_ms, runs the hooks (+1) and writes the record and its
 * indexes. Errors: FB_EXISTS (a key already used for a different request:
 * nothing written), a hook's error, FB_EXHAUSTED (map full), FB_INTERNAL. */
int fb_feedback_put_txn(fb_feedback *fb, fb_txn *txn, fb_feedback_put *put, fb_err *err);

/* SHA-256 over a canonical serialisation of the record's client-given fields
 * (kind, survey, score/rating, texts, respondent, channel, tags sorted by
 * key, submitted_at_ms as given, language as given), without idempotency_key
 * and without anything the server derives. */
void fb_feedback_payload_hash(const Feedback__V1__Feedback *rec, unsigned char out[32]);
/* True if the record has an idempotency identity (an idempotency_key, or a
 * review's source + external_id): only then is its payload hash used. */
bool fb_feedback_has_idem_key(const Feedback__V1__Feedback *rec);

/* ---- reads ---- */

/* The record with this id. Errors: FB_NOT_FOUND, FB_INTERNAL. */
int fb_feedback_get(fb_feedback *fb, uint32_t tenant_id, const char *id,
                    Feedback__V1__Feedback **out, fb_err *err);

/* One page, newest submitted_at_ms first, matching every filter of q
 * (validated by fb_validate_list_query). page_size: default 50, at most 500.
 * A page may hold fewer items than asked (a scan stops after
 * FB_LIST_MAX_SCAN non-matching records, or at FB_LIST_MAX_BYTES of items)
 * yet still carry a next_page_token.
 * Errors: FB_INVALID ("page_token: ..."), FB_INTERNAL. */
enum { FB_LIST_DEFAULT = 50, FB_LIST_MAX = 500, FB_LIST_MAX_SCAN = 10000,
       FB_LIST_MAX_BYTES = 900 * 1024 /* a page stays under 1 MiB */ };
int fb_feedback_list(fb_feedback *fb, uint32_t tenant_id, const Feedback__V1__ListQuery *q,
                     Feedback__V1__FeedbackPage **out, fb_err *err);

/* Counts a tenant's records (tests, diagnostics). Errors: FB_INTERNAL. */
int fb_feedback_count(fb_feedback *fb, uint32_t tenant_id, uint64_t *out, fb_err *err);

/* ---- erase ---- */

/* Removes every record of respondent_id in the tenant, in one durable write:
 * for each record the hooks run with sign -1 (terms recomputed with te; te
 * may be NULL: no terms), then the record, its indexes and its idempotency
 * entries are deleted. summary gets the counts. Errors: FB_INVALID (empty
 * respondent_id), FB_UNAVAILABLE, a hook's error, FB_INTERNAL. */
int fb_feedback_erase_respondent(fb_feedback *fb, uint32_t tenant_id, const char *respondent_id,
                                 const fb_textengine *te, fb_erase_summary *summary, fb_err *err);

/* The text a record's sentiment is computed from: the comment (responses)
 * or title + ". " + text (reviews). Returns a malloc'd string (NULL: no memory). */
char *fb_feedback_text(const Feedback__V1__Feedback *rec, size_t *len);

#endif
