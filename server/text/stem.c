/* stem.c — a pool of Snowball stemmers behind a lock-free word cache.
 *
 * Why a pool: sb_stemmer keeps its working buffer inside the object, so two
 * threads may not share one. A pool of POOL_SIZE stemmers, each with its
 * own mutex, lets worker threads stem in parallel; a caller tries each
 * mutex once (trylock) starting from a rotating index and only blocks if
 * all are busy.
 *
 * Why a seqlock cache: most words in feedback repeat ("service", "food",
 * "waited"), and a Snowball run costs far more than a hash probe. Each slot
 * holds (hash, key, stem) in atomic 64-bit words guarded by a sequence
 * counter: a writer makes it odd, writes, makes it even; a reader copies the
 * words and retries nothing — if the counter moved, it is simply a miss.
 * Writers that lose a race skip caching. No locks on the hit path, fixed
 * memory, and no torn reads (every shared word is an atomic). */
#include "stem.h"

#include <libstemmer.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SIZE 8
#define CACHE_SLOTS 8192            /* power of two */
#define SLOT_WORDS 8                /* payload: 64 bytes */
#define SLOT_BYTES (SLOT_WORDS * 8)
#define TAG_UNSET UINT64_MAX

typedef struct slot {
    _Atomic uint32_t seq;
    uint32_t pad;
    _Atomic uint64_t hash;
    _Atomic uint64_t tag;           /* caller's tag for the stem, TAG_UNSET if none */
    _Atomic uint64_t w[SLOT_WORDS]; /* [klen][slen][key][stem] */
} slot;

typedef struct pooled {
    pthread_mutex_t mu;
    struct sb_stemmer *sb;
} pooled;

struct fb_stemmer {
    pooled pool[POOL_SIZE];
    _Atomic unsigned next;
    _Atomic size_t runs;
    slot *cache;
};

int fb_stemmer_open(fb_stemmer **out, const char *lang, fb_err *err)
{
    *out = NULL;
    fb_stemmer *st = calloc(1, sizeof *st);
    if (!st) return fb_err_set(err, FB_INTERNAL, "stemmer: out of memory");
    st->cache = calloc(CACHE_SLOTS, sizeof(slot));
    if (!st->cache) { free(st); return fb_err_set(err, FB_INTERNAL, "stemmer: out of memory"); }
    for (int i = 0; i < POOL_SIZE; i++) {
        pthread_mutex_init(&st->pool[i].mu, NULL);
        st->pool[i].sb = sb_stemmer_new(lang, "UTF_8");
        if (!st->pool[i].sb) {
            fb_stemmer_close(st);
            return fb_err_set(err, FB_INVALID, "stemmer: no Snowball algorithm for '%s'", lang);
        }
    }
    *out = st;
    return FB_OK;
}

void fb_stemmer_close(fb_stemmer *st)
{
    if (!st) return;
    for (int i = 0; i < POOL_SIZE; i++) {
        if (st->pool[i].sb) sb_stemmer_delete(st->pool[i].sb);
        pthread_mutex_destroy(&st->pool[i].mu);
    }
    free(st->cache);
    free(st);
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull), w;
    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
        s += 8; n -= 8;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h | 1;   /* never 0: 0 marks an empty slot */
}

/* Copies a slot consistently into buf; 0 if it was being written. */
static int slot_read(slot *sl, uint64_t *hash, uint64_t *tag, unsigned char *buf)
{
    uint32_t s1 = atomic_load_explicit(&sl->seq, memory_order_acquire);
    if (s1 & 1) return 0;
    *hash = atomic_load_explicit(&sl->hash, memory_order_relaxed);
    *tag = atomic_load_explicit(&sl->tag, memory_order_relaxed);
    for (int i = 0; i < SLOT_WORDS; i++) {
        uint64_t w = atomic_load_explicit(&sl->w[i], memory_order_relaxed);
        memcpy(buf + 8 * i, &w, 8);
    }
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&sl->seq, memory_order_relaxed) == s1;
}

static void slot_write(slot *sl, uint64_t hash, uint64_t tag, const unsigned char *buf)
{
    uint32_t s = atomic_load_explicit(&sl->seq, memory_order_relaxed);
    if ((s & 1) || !atomic_compare_exchange_strong_explicit(
                       &sl->seq, &s, s + 1, memory_order_acquire, memory_order_relaxed))
        return;   /* another writer is here: skip caching */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&sl->hash, hash, memory_order_relaxed);
    atomic_store_explicit(&sl->tag, tag, memory_order_relaxed);
    for (int i = 0; i < SLOT_WORDS; i++) {
        uint64_t w;
        memcpy(&w, buf + 8 * i, 8);
        atomic_store_explicit(&sl->w[i], w, memory_order_relaxed);
    }
    atomic_store_explicit(&sl->seq, s + 2, memory_order_release);
}

static size_t copy_out(const char *src, size_t n, char *out, size_t cap)
{
    if (n >= cap) n = cap - 1;
    memcpy(out, src, n);
    out[n] = '\0';
    return n;
}

static size_t run_snowball(fb_stemmer *st, const char *word, size_t len,
                           char *out, size_t cap)
{
    unsigned start = atomic_fetch_add_explicit(&st->next, 1, memory_order_relaxed);
    pooled *p = NULL;
    for (int i = 0; i < POOL_SIZE && !p; i++) {
        pooled *c = &st->pool[(start + i) % POOL_SIZE];
        if (pthread_mutex_trylock(&c->mu) == 0) p = c;
    }
    if (!p) {
        p = &st->pool[start % POOL_SIZE];
        pthread_mutex_lock(&p->mu);
    }
    const sb_symbol *r = sb_stemmer_stem(p->sb, (const sb_symbol *)word, (int)len);
    size_t n = r ? copy_out((const char *)r, (size_t)sb_stemmer_length(p->sb), out, cap)
                 : copy_out(word, len, out, cap);
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* The cache in front of Snowball: fills out (if cap) and *tag (if fn). */
static size_t stem_cached(fb_stemmer *st, const char *word, size_t len, char *out,
                          size_t cap, fb_stem_tag_fn fn, void *ctx, uint32_t *tag)
{
    uint64_t h = hash_bytes(word, len);
    slot *sl = &st->cache[h & (CACHE_SLOTS - 1)];
    unsigned char buf[SLOT_BYTES];
    uint64_t sh, stag;
    if (slot_read(sl, &sh, &stag, buf) && sh == h && buf[0] == len &&
        memcmp(buf + 2, word, len) == 0) {
        const char *stem = (const char *)buf + 2 + len;
        if (fn) *tag = stag != TAG_UNSET ? (uint32_t)stag : fn(stem, buf[1], ctx);
        return cap ? copy_out(stem, buf[1], out, cap) : buf[1];
    }
    atomic_fetch_add_explicit(&st->runs, 1, memory_order_relaxed);
    char tmp[4 * FB_STEM_MAX_WORD + 1];
    size_t n = run_snowball(st, word, len, tmp, sizeof tmp);
    uint64_t t = TAG_UNSET;
    if (fn) *tag = (uint32_t)(t = fn(tmp, n, ctx));
    if (2 + len + n <= SLOT_BYTES) {
        memset(buf, 0, sizeof buf);
        buf[0] = (unsigned char)len;
        buf[1] = (unsigned char)n;
        memcpy(buf + 2, word, len);
        memcpy(buf + 2 + len, tmp, n);
        slot_write(sl, h, t, buf);
    }
    return cap ? copy_out(tmp, n, out, cap) : n;
}

size_t fb_stem(fb_stemmer *st, const char *word, size_t len, char *out, size_t cap)
{
    if (len == 0 || len > FB_STEM_MAX_WORD) return copy_out(word, len, out, cap);
    return stem_cached(st, word, len, out, cap, NULL, NULL, NULL);
}

uint32_t fb_stem_tag(fb_stemmer *st, const char *word, size_t len, fb_stem_tag_fn fn, void *ctx)
{
    if (len == 0 || len > FB_STEM_MAX_WORD) return fn(word, len, ctx);
    uint32_t tag = 0;
    stem_cached(st, word, len, NULL, 0, fn, ctx, &tag);
    return tag;
}

void fb_stemmer_clear(fb_stemmer *st)
{
    memset(st->cache, 0, CACHE_SLOTS * sizeof(slot));
}

size_t fb_stemmer_runs(const fb_stemmer *st)
{
    return atomic_load_explicit(&((fb_stemmer *)st)->runs, memory_order_relaxed);
}
