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
 * memory, and no torn reads (every shared word is an atomic).
 *
 * The scorer mostly needs not the stem but what the lexicon knows about the
 * word (its entry or its stem's id), so a second, denser table maps a
 * word's hash straight to a caller's 24-bit tag in one atomic word: one
 * load per word seen before. */
#include "stem.h"

#include "strtab.h"

#include <libstemmer.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SIZE 8
#define CACHE_SLOTS 16384           /* power of two; 80 bytes each. Ingest stems every
                                       content word for its terms: 8192 slots thrashed
                                       on the eval vocabulary (36k distinct words) */
#define SLOT_WORDS 8                /* payload: 64 bytes */
#define SLOT_BYTES (SLOT_WORDS * 8)

typedef struct slot {
    _Atomic uint32_t seq;
    uint32_t pad;
    _Atomic uint64_t hash;
    _Atomic uint64_t w[SLOT_WORDS]; /* [klen][slen][key][stem] */
} slot;

typedef struct pooled {
    pthread_mutex_t mu;
    struct sb_stemmer *sb;
} pooled;

#define TAG_SLOTS FB_STEM_TAG_SLOTS
#define TAG_MASK FB_STEM_TAG_MASK

struct fb_stemmer {
    pooled pool[POOL_SIZE];
    _Atomic unsigned next;
    _Atomic size_t runs;
    slot *cache;                     /* word -> stem string */
    _Atomic uint64_t *tags;          /* word hash (high 40 bits) | tag (low 24) */
    _Atomic int tags_dirty;          /* a tag was stored since open/clear */
};

int fb_stemmer_open(fb_stemmer **out, const char *lang, fb_err *err)
{
    *out = NULL;
    fb_stemmer *st = calloc(1, sizeof *st);
    if (!st) return fb_err_set(err, FB_INTERNAL, "stemmer: out of memory");
    st->cache = calloc(CACHE_SLOTS, sizeof(slot));
    st->tags = calloc(TAG_SLOTS, sizeof *st->tags);
    if (!st->cache || !st->tags) {
        free(st->cache); free((void *)st->tags); free(st);
        return fb_err_set(err, FB_INTERNAL, "stemmer: out of memory");
    }
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
    free((void *)st->tags);
    free(st);
}

/* Copies a slot consistently into buf; 0 if it was being written. */
static int slot_read(slot *sl, uint64_t *hash, unsigned char *buf)
{
    uint32_t s1 = atomic_load_explicit(&sl->seq, memory_order_acquire);
    if (s1 & 1) return 0;
    /* acquire loads: if one saw a concurrent writer's (release) store, the
     * re-read below sees that writer's odd sequence number */
    *hash = atomic_load_explicit(&sl->hash, memory_order_acquire);
    for (int i = 0; i < SLOT_WORDS; i++) {
        uint64_t w = atomic_load_explicit(&sl->w[i], memory_order_acquire);
        memcpy(buf + 8 * i, &w, 8);
    }
    return atomic_load_explicit(&sl->seq, memory_order_relaxed) == s1;
}

static void slot_write(slot *sl, uint64_t hash, const unsigned char *buf)
{
    uint32_t s = atomic_load_explicit(&sl->seq, memory_order_relaxed);
    if ((s & 1) || !atomic_compare_exchange_strong_explicit(
                       &sl->seq, &s, s + 1, memory_order_acquire, memory_order_relaxed))
        return;   /* another writer is here: skip caching */
    /* release stores: none can be seen before the odd sequence number */
    atomic_store_explicit(&sl->hash, hash, memory_order_release);
    for (int i = 0; i < SLOT_WORDS; i++) {
        uint64_t w;
        memcpy(&w, buf + 8 * i, 8);
        atomic_store_explicit(&sl->w[i], w, memory_order_release);
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

/* The string cache in front of Snowball. */
static size_t stem_cached(fb_stemmer *st, const char *word, size_t len, uint64_t h, char *out,
                          size_t cap)
{
    slot *sl = &st->cache[h & (CACHE_SLOTS - 1)];
    unsigned char buf[SLOT_BYTES];
    uint64_t sh;
    if (slot_read(sl, &sh, buf) && sh == h && buf[0] == len && memcmp(buf + 2, word, len) == 0)
        return copy_out((const char *)buf + 2 + len, buf[1], out, cap);
    atomic_fetch_add_explicit(&st->runs, 1, memory_order_relaxed);
    char tmp[4 * FB_STEM_MAX_WORD + 1];
    size_t n = run_snowball(st, word, len, tmp, sizeof tmp);
    if (2 + len + n <= SLOT_BYTES) {
        memset(buf, 0, sizeof buf);
        buf[0] = (unsigned char)len;
        buf[1] = (unsigned char)n;
        memcpy(buf + 2, word, len);
        memcpy(buf + 2 + len, tmp, n);
        slot_write(sl, h, buf);
    }
    return copy_out(tmp, n, out, cap);
}

size_t fb_stem(fb_stemmer *st, const char *word, size_t len, char *out, size_t cap)
{
    if (len == 0 || len > FB_STEM_MAX_WORD) return copy_out(word, len, out, cap);
    return stem_cached(st, word, len, fb_strtab_hash64(word, len), out, cap);
}

size_t fb_stem_h(fb_stemmer *st, const char *word, size_t len, uint64_t h, char *out,
                 size_t cap)
{
    if (len == 0 || len > FB_STEM_MAX_WORD) return copy_out(word, len, out, cap);
    return stem_cached(st, word, len, h, out, cap);
}

/* Tags live in their own table of single atomic words: the high 40 bits
 * of the word's hash and a 24-bit tag, in two-way sets (stem.h). Two
 * loads from one cache line, no key compare (a false hit needs a 40-bit
 * hash collision within one pair), no torn reads. */
uint32_t fb_stem_tag(fb_stemmer *st, const char *word, size_t len, fb_stem_tag_fn fn, void *ctx)
{
    return fb_stem_tag_h(st, word, len, fb_strtab_hash64(word, len), fn, ctx);
}

const _Atomic uint64_t *fb_stem_tags(const fb_stemmer *st) { return st->tags; }

uint32_t fb_stem_tag_h(fb_stemmer *st, const char *word, size_t len, uint64_t h,
                       fb_stem_tag_fn fn, void *ctx)
{
    uint32_t tag;
    if (fb_stem_tag_probe(st->tags, h, &tag)) return tag;
    h |= 1ull << 63;
    _Atomic uint64_t *pair = &st->tags[(h >> 7) & (TAG_SLOTS - 2)];
    tag = fn(word, len, ctx);
    if (len <= FB_STEM_MAX_WORD && (tag == UINT32_MAX || tag < TAG_MASK)) {
        /* the new word goes first, the pair's previous first second (the
         * previous second is dropped). Each store is one atomic word: a
         * reader in between sees a word twice or misses one, never a
         * wrong tag (every slot carries its own hash). */
        uint64_t first = atomic_load_explicit(&pair[0], memory_order_relaxed);
        if (first) atomic_store_explicit(&pair[1], first, memory_order_relaxed);
        atomic_store_explicit(&pair[0], (h & ~TAG_MASK) | (tag == UINT32_MAX ? TAG_MASK : tag),
                              memory_order_relaxed);
        if (!atomic_load_explicit(&st->tags_dirty, memory_order_relaxed))
            atomic_store_explicit(&st->tags_dirty, 1, memory_order_relaxed);
    }
    return tag;
}

void fb_stemmer_clear_tags(fb_stemmer *st)
{
    if (!atomic_load_explicit(&st->tags_dirty, memory_order_relaxed)) return;  /* untouched pages stay unmapped */
    for (size_t i = 0; i < TAG_SLOTS; i++) atomic_store_explicit(&st->tags[i], 0, memory_order_relaxed);
    atomic_store_explicit(&st->tags_dirty, 0, memory_order_relaxed);
}

void fb_stemmer_clear(fb_stemmer *st)
{
    memset(st->cache, 0, CACHE_SLOTS * sizeof(slot));
    fb_stemmer_clear_tags(st);
}

size_t fb_stemmer_runs(const fb_stemmer *st)
{
    return atomic_load_explicit(&((fb_stemmer *)st)->runs, memory_order_relaxed);
}
