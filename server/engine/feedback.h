/* feedback.h — stored feedback: put (with idempotency), get, list, erase.
 *
 * A record is the packed feedback.v1.Feedback message. Other modules keep
 * derived data (aggregates, terms, alerts) consistent through hooks that run
 * inside the same write transaction as the record: on insert with sign +1,
 * on erase with sign -1. A hook that fails rolls the whole op back.
 * (Key layout: see feedback.c.)
 */
#ifndef FB_FEEDBACK_H
#define FB_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"
#include "feedback/v1/common.pb-c.h"
#include "sentiment.h"

typedef struct fb_feedback_event {
    uint32_t tenant_id;
    Feedback__V1__Feedback *fb;   /* on insert a hook may append alert_ids */
    int sign;                     /* +1 insert, -1 erase */
    const fb_term *terms;         /* distinct stems (fb_sentiment.terms), computed
                                     off the writer thread; on erase recomputed */
    size_t n_terms;
    int64_t now_ms;
} fb_feedback_event;

typedef int (*fb_feedback_hook)(fb_txn *txn, const fb_feedback_event *ev, void *ctx, fb_err *err);

#endif
