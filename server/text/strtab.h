/* strtab.h — string interning with open addressing.
 *
 * Maps byte strings to dense ids 0..count-1 (assigned in insertion order),
 * so owners keep their payloads in plain arrays indexed by id. Keys are
 * copied into one arena (NUL-terminated). Lookups never allocate; the
 * table is read-only safe for many threads once building is done. */
#ifndef FB_STRTAB_H
#define FB_STRTAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct fb_strslot {
    uint64_t prefix;     /* the key's first 8 bytes, zero-padded */
    uint32_t id1;        /* id + 1, 0 = empty */
    uint32_t check;      /* high 24 bits of the hash | min(key length, 255) */
} fb_strslot;

typedef struct fb_strtab {
    fb_strslot *slots;
    size_t mask;         /* slots - 1 (power of two), 0 before first insert */
    size_t count;
    uint32_t *key_off;   /* per id: offset into arena */
    uint32_t *key_len;
    size_t ids_cap;
    char *arena;
    size_t arena_len, arena_cap;
} fb_strtab;

void fb_strtab_init(fb_strtab *t);
void fb_strtab_free(fb_strtab *t);

/* The id of s[0..n), inserting it if new (*created = 1 then; may be NULL).
 * Returns -1 only if memory ran out. */
int64_t fb_strtab_intern(fb_strtab *t, const char *s, size_t n, int *created);

/* The id of s[0..n), or -1 if absent. */
int64_t fb_strtab_find(const fb_strtab *t, const char *s, size_t n);

/* The same with h = fb_strtab_hash64(s, n) already computed (callers that
 * probe several tables with one word hash it once). */
int64_t fb_strtab_find_h(const fb_strtab *t, const char *s, size_t n, uint64_t h);

/* The key of id (NUL-terminated); *n gets its length if n is not NULL.
 * Inline: terms read a stem per content word. */
static inline const char *fb_strtab_key(const fb_strtab *t, uint32_t id, size_t *n)
{
    if (n) *n = t->key_len[id];
    return t->arena + t->key_off[id];
}

/* Bytes of heap memory held. */
size_t fb_strtab_bytes(const fb_strtab *t);

/* The last n < 8 bytes of s as a little-endian number (on little-endian
 * hosts: the bytes zero-padded), with a few overlapping loads instead of a
 * byte loop. always_inline: it runs for every word hashed and probed. */
static inline __attribute__((always_inline)) uint64_t fb_strtab_tail(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);                        /* byte order: any, */
        return lo | (uint64_t)hi << (8 * (n - 4));         /* as long as it is fixed */
    }
    if (n == 0) return 0;
    return (uint64_t)u[0] | (uint64_t)u[n / 2] << (8 * (n / 2)) | (uint64_t)u[n - 1] << (8 * (n - 1));
}

/* fb_strtab_hash64 of a key of n < 8 bytes given as one number v: its
 * bytes in little-endian order, zero-padded (the tokenizer has a short
 * word in a register already). */
static inline uint64_t fb_strtab_hash_short(uint64_t v, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h | 1;
}

/* The table's hash function (64-bit; never 0): 8 bytes per step, then a
 * final avalanche. Inline: words are short and every one is hashed. */
static inline uint64_t fb_strtab_hash64(const char *s, size_t n)
{
    if (n < 8) return fb_strtab_hash_short(fb_strtab_tail(s, n), n);
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull), w;
    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
        s += 8; n -= 8;
    }
    w = fb_strtab_tail(s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h | 1;
}

#endif
