/* ids.c — time-sorted unique ids (see ids.h).
 *
 * Design: the ULID layout, because it gives three properties with no
 * coordination: ids sort by time as plain strings (base32 digits are in
 * ASCII order and the timestamp comes first), two processes cannot collide
 * (80 random bits per millisecond), and one process is strictly monotonic
 * (within a millisecond the random part is incremented, and a clock that
 * steps back is ignored by reusing the last millisecond). Randomness comes
 * from getrandom(2) once per new millisecond, so ids are cheap in bursts.
 */
#include "ids.h"

#include <string.h>
#include <sys/random.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void fb_idgen_init(fb_idgen *g)
{
    pthread_mutex_init(&g->mu, NULL);
    g->last_ms = -1;
    g->rand_hi = 0;
    g->rand_lo = 0;
}

void fb_idgen_destroy(fb_idgen *g)
{
    pthread_mutex_destroy(&g->mu);
}

/* Fresh random low bits. The top bit is cleared so that a long burst in one
 * millisecond has 2^79 increments of room before it would carry out. */
static void reseed(fb_idgen *g, int64_t ms)
{
    unsigned char b[10];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got < sizeof b) { /* no entropy source: still unique within the process */
        uint64_t x = (uint64_t)ms * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)g;
        memcpy(b, &x, 8);
        b[8] = b[9] = 0;
    }
    g->rand_hi = (uint16_t)((b[0] << 8 | b[1]) & 0x7FFF);
    g->rand_lo = 0;
    for (int i = 2; i < 10; i++) g->rand_lo = g->rand_lo << 8 | b[i];
}

/* Encodes the 128-bit value hi:lo as 26 base32 digits, most significant first. */
static void encode(uint64_t hi, uint64_t lo, char out[FB_ID_LEN + 1])
{
    for (int i = FB_ID_LEN - 1; i >= 0; i--) {
        out[i] = crockford[lo & 31];
        lo = lo >> 5 | hi << 59;
        hi >>= 5;
    }
    out[FB_ID_LEN] = '\0';
}

int64_t fb_id_next(fb_idgen *g, int64_t now_ms, char out[FB_ID_LEN + 1])
{
    if (now_ms < 0) now_ms = 0;
    if (now_ms > (int64_t)0xFFFFFFFFFFFF) now_ms = (int64_t)0xFFFFFFFFFFFF;
    pthread_mutex_lock(&g->mu);
    if (now_ms > g->last_ms) {
        g->last_ms = now_ms;
        reseed(g, now_ms);
    } else if (++g->rand_lo == 0 && ++g->rand_hi == 0) {
        g->last_ms++; /* 2^80 ids in one millisecond: borrow the next one */
        reseed(g, g->last_ms);
    }
    int64_t ms = g->last_ms;
    uint64_t hi = (uint64_t)ms << 16 | g->rand_hi;
    uint64_t lo = g->rand_lo;
    pthread_mutex_unlock(&g->mu);
    encode(hi, lo, out);
    return ms;
}

static int digit(char c)
{
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    const char *p = c ? strchr(crockford, c) : NULL;
    return p ? (int)(p - crockford) : -1;
}

int fb_id_valid(const char *s)
{
    if (!s || strlen(s) != FB_ID_LEN) return 0;
    if (digit(s[0]) < 0 || digit(s[0]) > 7) return 0; /* 130 bits hold 128 */
    for (int i = 1; i < FB_ID_LEN; i++)
        if (digit(s[i]) < 0) return 0;
    return 1;
}

int fb_id_parse_ms(const char *s, int64_t *ms)
{
    if (!fb_id_valid(s)) return -1;
    /* The first 10 digits are the top 50 of the 130 bits: 2 zero bits and
     * then the 48-bit timestamp, so their value is the timestamp. */
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) v = v << 5 | (uint64_t)digit(s[i]);
    *ms = (int64_t)v;
    return 0;
}
