/* ids.h — server-assigned ids: unique, and sorting by creation time.
 *
 * An id is 26 characters of Crockford base32 (0-9 A-Z without I L O U),
 * encoding 128 bits: a 48-bit millisecond timestamp followed by 80 bits that
 * are random for the first id of a millisecond and incremented by one for
 * each further id in the same millisecond (the ULID layout). So ids compare
 * (strcmp) in the order they were made, and ids made by two processes at
 * once (the server and `feedbackd tenant create`) still differ.
 *
 * Monotonic within a generator even if the wall clock steps back: the
 * generator never goes below the last timestamp it used.
 * A generator is a value with a lock; the process has one (fb_store_ids()).
 */
#ifndef FB_IDS_H
#define FB_IDS_H

#include <pthread.h>
#include <stdint.h>

#define FB_ID_LEN 26

typedef struct fb_idgen {
    pthread_mutex_t mu;
    int64_t last_ms;
    uint16_t rand_hi;  /* the 80 low bits: 16 + 64 */
    uint64_t rand_lo;
} fb_idgen;

/* Initialises g (no failure). Destroy with fb_idgen_destroy. */
void fb_idgen_init(fb_idgen *g);
void fb_idgen_destroy(fb_idgen *g);

/* Writes the next id and a NUL into out (FB_ID_LEN + 1 bytes), for the time
 * now_ms (normally fb_now_ms()); returns the millisecond actually encoded
 * (>= now_ms unless the clock stepped back). Thread-safe. */
int64_t fb_id_next(fb_idgen *g, int64_t now_ms, char out[FB_ID_LEN + 1]);

/* The millisecond an id encodes. Returns 0 and sets *ms, or -1 if s is not a
 * well-formed id (length, alphabet; lower case accepted). */
int fb_id_parse_ms(const char *s, int64_t *ms);

/* 1 if s is a well-formed id, else 0. */
int fb_id_valid(const char *s);

#endif
