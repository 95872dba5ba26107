/* tz.h — IANA time zones without the C library's global TZ state.
 *
 * localtime()/setenv("TZ") share process-wide state and are not safe in a
 * threaded server, so this module reads the system's compiled zone files
 * (/usr/share/zoneinfo/NAME, RFC 8536 TZif) itself: the version 2+ 64-bit
 * transition table, and the POSIX TZ footer rule for instants after the last
 * transition. A parsed zone is immutable, so it can be shared across threads;
 * fb_tzcache parses each name once and keeps it until closed.
 *
 * Calendar buckets. A bucket boundary is a local civil time B (midnight, the
 * top of an hour, Monday midnight, the 1st of a month). Its start instant is
 * the first UTC instant whose local time is >= B:
 *   - a skipped local time (spring forward, or a zone whose midnight does not
 *     exist on a change day) starts at the transition instant;
 *   - a repeated local time (fall back) starts at its first occurrence, so a
 *     fall-back day is 25 hours long and a spring-forward day 23 hours; in
 *     HOUR granularity the repeated clock hour is one bucket of two real hours
 *     and a skipped clock hour has no bucket.
 * Buckets are the half-open UTC intervals between consecutive starts, so they
 * tile the time line without gaps or overlaps. A calendar day a zone skipped
 * entirely (Pacific/Apia, 2011-12-30) has an empty interval; callers skip it.
 * All instants here are milliseconds since the epoch, UTC.
 */
#ifndef FB_TZ_H
#define FB_TZ_H

#include <stdint.h>

#include "error.h"

typedef struct fb_tz fb_tz;

typedef enum fb_gran {
    FB_GRAN_HOUR = 1,   /* same numbers as feedback.v1.Granularity */
    FB_GRAN_DAY = 2,
    FB_GRAN_WEEK = 3,   /* ISO: Monday 00:00 */
    FB_GRAN_MONTH = 4,
} fb_gran;

/* True if name is a plausible zone name: 1..128 bytes of [A-Za-z0-9/_+-.],
 * not starting with '/', no "..", no empty path component. */
int fb_tz_name_ok(const char *name);

/* Parses the zone file of name under dir (NULL: /usr/share/zoneinfo).
 * Errors: FB_INVALID ("timezone: unknown zone 'X'" — a bad name, a missing
 * file, or a file that is not TZif). */
int fb_tz_load(fb_tz **out, const char *dir, const char *name, fb_err *err);
void fb_tz_free(fb_tz *tz);
const char *fb_tz_name(const fb_tz *tz);

/* Offset local − UTC in seconds in effect at instant t_ms. */
int32_t fb_tz_offset(const fb_tz *tz, int64_t t_ms);

/* Start instant (ms) of the local civil time given as seconds since
 * 1970-01-01T00:00 on the local clock (see the rule above). */
int64_t fb_tz_civil_start(const fb_tz *tz, int64_t local_s);

/* Start of the bucket of granularity g containing instant t_ms. */
int64_t fb_tz_bucket_start(const fb_tz *tz, fb_gran g, int64_t t_ms);
/* Start of the bucket after the one starting at start_ms (a value returned
 * by fb_tz_bucket_start or fb_tz_bucket_next). Always > start_ms. */
int64_t fb_tz_bucket_next(const fb_tz *tz, fb_gran g, int64_t start_ms);

/* The local calendar day (days since 1970-01-01 on the local clock) that
 * instant t_ms falls in, by the bucket rule above (DAY buckets). */
int64_t fb_tz_local_day(const fb_tz *tz, int64_t t_ms);

/* ---- civil calendar helpers (proleptic Gregorian) ---- */
int64_t fb_days_from_civil(int64_t y, unsigned m, unsigned d);
void fb_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* ---- a cache of parsed zones, shared by threads ---- */
typedef struct fb_tzcache fb_tzcache;
int fb_tzcache_open(fb_tzcache **out, const char *dir, fb_err *err);
void fb_tzcache_close(fb_tzcache *c);
/* The parsed zone (owned by the cache, valid until close). "" means "UTC".
 * Errors: FB_INVALID (unknown zone), FB_INTERNAL (out of memory). */
int fb_tzcache_get(fb_tzcache *c, const char *name, const fb_tz **out, fb_err *err);

#endif
