/* stem.h — thread-safe Snowball stemming with a bounded cache.
 *
 * One fb_stemmer per language. A Snowball sb_stemmer is not thread-safe, so
 * each fb_stemmer owns a small pool of them, each behind its own mutex; a
 * caller checks one out per word. In front of the pool sits a fixed-size,
 * lock-free cache (seqlock slots) from word to stem, so hot words are
 * stemmed once; its memory is fixed at open (about 1.3 MiB for stems and 1
 * MiB for word tags, touched lazily).
 *
 * Words are expected case-folded (see fb_utf8_fold). Words longer than
 * FB_STEM_MAX_WORD bytes are not stemmed (returned as they are, truncated to
 * fit), which keeps time linear on pathological input. */
#ifndef FB_STEM_H
#define FB_STEM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define FB_STEM_MAX_WORD 64

typedef struct fb_stemmer fb_stemmer;

/* Opens a stemmer for a language: a Snowball algorithm name or ISO code
 * ("english", "en", "es", …). Errors: FB_INVALID (no such algorithm),
 * FB_INTERNAL (out of memory). */
int fb_stemmer_open(fb_stemmer **out, const char *lang, fb_err *err);
void fb_stemmer_close(fb_stemmer *st);

/* Stems word[0..len) into out[0..cap) (NUL-terminated, cap >= 1) and returns
 * the stem's length. Safe to call from many threads at once. If the pool
 * cannot allocate, the word is returned unchanged. */
size_t fb_stem(fb_stemmer *st, const char *word, size_t len, char *out, size_t cap);
/* The same with h = fb_strtab_hash64(word, len) already computed (the
 * tokenizer hashes every word once). */
size_t fb_stem_h(fb_stemmer *st, const char *word, size_t len, uint64_t h, char *out,
                 size_t cap);

/* A cache of caller-defined 24-bit tags per word, next to the stems: the
 * lexicon tags each word with what it resolves to (its surface entry or its
 * stem's id), so a word seen before costs one atomic load (8 bytes a slot,
 * 1 MiB). fn(word) computes the tag on a miss (it may call fb_stem); it
 * must be a pure function of the word while the cache is in use (call
 * fb_stemmer_clear if it changes). Tags below 2^24 - 1 and UINT32_MAX are
 * cached; others, and words over FB_STEM_MAX_WORD bytes, are recomputed. */
typedef uint32_t (*fb_stem_tag_fn)(const char *word, size_t n, void *ctx);
uint32_t fb_stem_tag(fb_stemmer *st, const char *word, size_t len, fb_stem_tag_fn fn, void *ctx);
/* The same with h = fb_strtab_hash64(word, len) already computed. */
uint32_t fb_stem_tag_h(fb_stemmer *st, const char *word, size_t len, uint64_t h,
                       fb_stem_tag_fn fn, void *ctx);

/* The tag table's layout, for fb_stem_tag_probe: two-way sets. The word
 * hash h | 2^63 picks the pair of slots at ((h >> 7) & (SLOTS - 1)) & ~1
 * (16 bytes, one cache line); a slot holds a hash's high 40 bits and its
 * tag, the most recently stored in the pair's first slot. (Direct-mapped,
 * the eval vocabulary's collisions cost ~1% of words a fresh lookup.) */
#define FB_STEM_TAG_SLOTS 131072u     /* power of two; 8 bytes each */
#define FB_STEM_TAG_BITS 24
#define FB_STEM_TAG_MASK ((1ull << FB_STEM_TAG_BITS) - 1)

/* st's tag table (fixed for its lifetime). */
const _Atomic uint64_t *fb_stem_tags(const fb_stemmer *st);

/* A cache hit of fb_stem_tag_h without the call: 1 and *tag if h's tag is
 * cached in tags (fb_stem_tags), else 0 (then call fb_stem_tag_h). Inline:
 * the scorer probes once per word of every text. */
static inline int fb_stem_tag_probe(const _Atomic uint64_t *tags, uint64_t h, uint32_t *tag)
{
    h |= 1ull << 63;
    const _Atomic uint64_t *pair = &tags[(h >> 7) & (FB_STEM_TAG_SLOTS - 2)];
    uint64_t key = h & ~FB_STEM_TAG_MASK;        /* never 0: empty slots never match */
    uint64_t v0 = atomic_load_explicit(&pair[0], memory_order_relaxed);
    uint64_t v1 = atomic_load_explicit(&pair[1], memory_order_relaxed);
    uint64_t v = (v0 & ~FB_STEM_TAG_MASK) == key ? v0 : v1;   /* a select, not a branch */
    if ((v & ~FB_STEM_TAG_MASK) != key) return 0;
    uint32_t t = (uint32_t)(v & FB_STEM_TAG_MASK);
    *tag = t == FB_STEM_TAG_MASK ? UINT32_MAX : t;
    return 1;
}

/* Starts loading h's slot of tags into the cache. */
static inline void fb_stem_tag_prefetch(const _Atomic uint64_t *tags, uint64_t h)
{
    __builtin_prefetch((const void *)&tags[((h | 1ull << 63) >> 7) & (FB_STEM_TAG_SLOTS - 2)]);
}

/* Empties the caches (both, or only the word tags). Not thread-safe: only
 * while nobody else uses st. */
void fb_stemmer_clear(fb_stemmer *st);
void fb_stemmer_clear_tags(fb_stemmer *st);

/* Number of words actually run through Snowball since open (cache misses;
 * approximate under concurrency). */
size_t fb_stemmer_runs(const fb_stemmer *st);

#endif
