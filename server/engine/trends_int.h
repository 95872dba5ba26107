/* trends_int.h — internals shared by trends.c, trends_query.c and terms.c
 * (not a public contract: only the dashboard modules include it). */
#ifndef FB_TRENDS_INT_H
#define FB_TRENDS_INT_H

#include <lmdb.h>
#include <stdint.h>

#include "store.h"
#include "trends.h"
#include "tz.h"

#define FB_QUARTER_MS (15 * 60 * 1000LL)
#define FB_DAY_MS (86400 * 1000LL)

/* Value layout of a "trends" record (int64 each). */
enum {
    FB_TV_PROMOTERS, FB_TV_PASSIVES, FB_TV_DETRACTORS, FB_TV_REVIEWS, FB_TV_RATING_SUM,
    FB_TV_TEXTED, FB_TV_SENT_SUM, FB_TV_POSITIVE, FB_TV_NEGATIVE, FB_TV_NEUTRAL, FB_TV_N
};

struct fb_trends {
    fb_store *st;
    MDB_dbi agg, terms;
    fb_tzcache *tzc;
};

static inline int64_t fb_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The feedback's contribution to a trends record, times sign. */
void fb_trends_values(const Feedback__V1__Feedback *fb, int sign, int64_t v[FB_TV_N]);
/* submitted_at_ms, or received_ms when unset. */
int64_t fb_feedback_time(const Feedback__V1__Feedback *fb);
/* Has scored text (counts in sentiment means and label counts). */
int fb_feedback_has_text(const Feedback__V1__Feedback *fb);

/* The zone the tenant's day level is keyed in (meta record; "UTC" if none). */
int fb_trends_zone_name(fb_trends *t, MDB_txn *m, uint32_t tenant, char out[130], fb_err *err);
int fb_trends_zone(fb_trends *t, MDB_txn *m, uint32_t tenant, const fb_tz **tz, fb_err *err);

/* Opens a read transaction in which the tenant's day level is keyed in
 * zone (rebuilding it first if needed); *tz gets the parsed zone. */
int fb_trends_read_begin(fb_trends *t, uint32_t tenant, const char *zone, MDB_txn **m,
                         const fb_tz **tz, fb_err *err);

#endif
