/* trends.h — dashboard aggregates: NPS, trends and top terms, maintained at
 * ingest and read without touching raw feedback.
 *
 * Ingest: fb_trends_hook is a feedback hook (feedback.h). It runs inside the
 * write transaction of the feedback record, with sign +1 on insert and −1 on
 * erase, and adds or subtracts the feedback's share of every aggregate
 * exactly (integer counts; sentiment in integer micro-units). A record that
 * reaches all zeros is deleted, so after an erasure the tables are byte for
 * byte what a store fed only the remaining feedback would hold.
 *
 * Buckets (details and read costs in trends.c): each feedback is counted per
 * survey (its own and the "" all-surveys rollup) × segment ("all", its
 * channel, each of its tags) in two levels: the UTC quarter-hour, and the
 * local calendar day in the tenant's time zone. DAY/WEEK/MONTH trends and
 * the middle of an NPS range read day records; HOUR trends and the edges of
 * an NPS range read quarter-hours. When the tenant's zone changes, the day
 * level is rebuilt from the quarter-hours (fb_trends_set_zone).
 *
 * Segments and filters: one dimension at a time. A filter may name a channel
 * or one tag (key=value), not both and not two tags; group_by ("channel" or
 * "tag:<key>") cannot be combined with a filter. Other combinations cannot
 * be answered exactly from the aggregates and are FB_INVALID, saying so.
 *
 * What is counted: n = promoters + passives + detractors over responses and
 * reviews alike (a review has a category: 5★ promoter, 4★ passive, 1–3★
 * detractor); reviews and mean_rating over reviews only. Sentiment figures
 * (mean_sentiment, positive/negative/neutral) cover feedback with scored
 * text only: POSITIVE and VERY_POSITIVE count as positive, NEGATIVE and
 * VERY_NEGATIVE as negative, NEUTRAL and MIXED as neutral. A feedback's time
 * is submitted_at_ms (received_ms if unset).
 *
 * Thread safety: queries run on any thread (read transactions); the hook and
 * fb_trends_set_zone run on the store's writer thread.
 */
#ifndef FB_TRENDS_H
#define FB_TRENDS_H

#include <stdint.h>

#include "error.h"
#include "feedback.h"
#include "store.h"
#include "tz.h"
#include "feedback/v1/insights.pb-c.h"

typedef struct fb_trends fb_trends;

/* Opens the tables "trends" and "terms" (creating them) and a zone cache.
 * tzdir: zone database directory (NULL: /usr/share/zoneinfo).
 * Errors: FB_INTERNAL. */
int fb_trends_open(fb_trends **out, fb_store *st, const char *tzdir, fb_err *err);
void fb_trends_close(fb_trends *t);

/* The feedback hook; ctx is the fb_trends. Register it with the feedback
 * module. Errors: FB_EXHAUSTED (map full), FB_INTERNAL. */
int fb_trends_hook(fb_txn *txn, const fb_feedback_event *ev, void *ctx, fb_err *err);

/* Makes the tenant's day-level aggregates follow zone (an IANA name; "" is
 * UTC): if they are keyed by another zone, rebuilds them from the
 * quarter-hours in one write (cost: the tenant's quarter-hour records).
 * A no-op read when nothing changed. Errors: FB_INVALID (unknown zone),
 * FB_EXHAUSTED, FB_UNAVAILABLE (store closing), FB_INTERNAL. */
int fb_trends_set_zone(fb_trends *t, uint32_t tenant, const char *zone, fb_err *err);

/* The tenant's settings a query needs. */
typedef struct fb_trends_ctx {
    uint32_t tenant;
    const char *timezone;   /* the tenant's zone; "" is UTC */
    uint32_t min_sample;    /* NpsSummary.sufficient threshold */
    int64_t now_ms;         /* to_ms = 0 means now */
} fb_trends_ctx;

/* GetNps. The range is widened to whole UTC quarter-hours (the resolution
 * of the aggregates) and returned in out->from_ms/to_ms. out is filled with
 * allocated sub-messages: release with fb_trends_nps_clear.
 * Errors: FB_INVALID (from_ms >= to_ms, bad survey_id, filter combination),
 * the errors of fb_trends_set_zone, FB_INTERNAL. */
int fb_trends_nps(fb_trends *t, const fb_trends_ctx *c, const Feedback__V1__NpsQuery *q,
                  Feedback__V1__NpsSummary *out, fb_err *err);
void fb_trends_nps_clear(Feedback__V1__NpsSummary *out);

/* GetTrend. Buckets are whole calendar buckets in the tenant's zone: the
 * first contains from_ms, the last contains to_ms − 1; empty buckets are
 * included (n = 0). With group_by, one series per value that has feedback
 * in the range, ordered by value. Release with fb_trends_trend_clear.
 * Errors: FB_INVALID (from_ms >= to_ms, unknown granularity, more than
 * 10,000 buckets, bad group_by, group_by with a filter, too many series),
 * FB_INTERNAL. */
int fb_trends_trend(fb_trends *t, const fb_trends_ctx *c, const Feedback__V1__TrendQuery *q,
                    Feedback__V1__Trend *out, fb_err *err);
void fb_trends_trend_clear(Feedback__V1__Trend *out);

/* TopTerms (implemented in terms.c): see terms.h. */

/* ---- shared with terms.c: segment and key encoding ---- */

typedef struct fb_seg {
    char type;               /* 'a' all, 'c' channel, 't' tag */
    const char *key; size_t klen;   /* tag key */
    const char *val; size_t vlen;   /* channel or tag value */
} fb_seg;

/* Resolves a filter (may be NULL) to the one segment it names.
 * Errors: FB_INVALID (channel with tags, several tags, bad tag key). */
int fb_seg_from_filter(const Feedback__V1__Filter *f, fb_seg *out, fb_err *err);

/* The segments one piece of feedback counts in: all, channel, each tag.
 * out must hold 2 + n_tags entries; returns the count. */
size_t fb_seg_of_feedback(const Feedback__V1__Feedback *fb, fb_seg *out);

/* Writes tenant(4) | tag | slen(1) survey | segment encoding into buf
 * (at least FB_SEG_PREFIX_MAX bytes); returns its length. */
#define FB_SEG_KEY_MAX 64      /* tag key bytes kept */
#define FB_SEG_VAL_MAX 128     /* channel / tag value bytes kept */
#define FB_SEG_PREFIX_MAX 300  /* 4+1+1+64+1+1+64+2+128 = 266 */
size_t fb_seg_prefix(unsigned char *buf, uint32_t tenant, char tag, const char *survey,
                     const fb_seg *seg);

/* The inverse of fb_seg_prefix (with the same tag): reads tenant, survey
 * (copied, NUL-terminated) and the segment (seg->key/val point into buf,
 * not NUL-terminated) from the start of buf. Returns the bytes read, or 0
 * when buf does not start with such a prefix. */
size_t fb_seg_parse(const unsigned char *buf, size_t len, char tag, uint32_t *tenant,
                    char survey[65], fb_seg *seg);

/* Checks survey_id in a query: "" or [A-Za-z0-9._-]{1,64}. */
int fb_check_survey(const char *survey, fb_err *err);

/* Range defaults: to_ms 0 is now; from_ms must be < to_ms; both within
 * ±8.64e15 ms. Errors: FB_INVALID naming the field. */
int fb_check_range(int64_t from, int64_t *to, int64_t now_ms, fb_err *err);

/* Order-preserving encodings of signed numbers for keys. */
static inline void fb_put_s64(unsigned char *p, int64_t v) { fb_put_be64(p, (uint64_t)v ^ (1ULL << 63)); }
static inline int64_t fb_get_s64(const unsigned char *p) { return (int64_t)(fb_get_be64(p) ^ (1ULL << 63)); }

#endif
