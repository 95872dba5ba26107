/* langid.c — stopword-profile language guessing.
 *
 * Why stopwords: function words are the most frequent and most
 * language-specific words, each lexicon already lists them, and counting
 * them costs one hash probe per word — far cheaper than the scoring that
 * follows. One shared table (word -> the languages it is a stopword in)
 * keeps that at one probe whatever the number of languages, and the early
 * stop bounds the work on long texts. Words that are stopwords in several
 * languages ("no", "a") count for each.
 *
 * Why this shape: a slot is the word's 64-bit hash (the tokenizer's, so
 * nothing is rehashed) and the counts it adds, one byte per language, so a
 * probe is one compare and counting is one add for all languages at once,
 * with no branch on which languages. A word is matched by its full 64-bit
 * hash, not its letters: a wrong match needs two different words with the
 * same 64-bit hash (the stem tag cache already trusts 40 bits). */
#include "langid.h"

#include <stdlib.h>
#include <string.h>

#include "strtab.h"

#define CLEAR_LEAD 3     /* stop counting once the leader is this far ahead */

struct fb_langid {
    const fb_lexicon *langs[FB_LANGID_MAX_LANGS];
    size_t n;
    uint64_t *hash;      /* per slot: a stopword's hash, 0 = empty (dense: 32 KiB stays in L1) */
    uint64_t *inc;       /* per slot: 1 << 8 * l for each language l it is a stopword of */
    size_t mask;         /* slots - 1 */
    size_t count;
};

typedef struct add_ctx { fb_langid *li; unsigned bit; int oom; } add_ctx;

/* The home slot of hash h (its high bits: the low bit is always 1). */
static size_t home(uint64_t h, size_t mask) { return (size_t)(h >> 40) & mask; }

static int grow_slots(fb_langid *li)
{
    size_t n = li->mask ? (li->mask + 1) * 2 : 256;
    uint64_t *hash = calloc(n, sizeof *hash), *inc = calloc(n, sizeof *inc);
    if (!hash || !inc) { free(hash); free(inc); return -1; }
    for (size_t i = 0; li->mask && i <= li->mask; i++) {
        if (!li->hash[i]) continue;
        size_t j = home(li->hash[i], n - 1);
        while (hash[j]) j = (j + 1) & (n - 1);
        hash[j] = li->hash[i];
        inc[j] = li->inc[i];
    }
    free(li->hash);
    free(li->inc);
    li->hash = hash;
    li->inc = inc;
    li->mask = n - 1;
    return 0;
}

static void add_word(const char *w, size_t n, void *ctx)
{
    add_ctx *a = ctx;
    fb_langid *li = a->li;
    if ((li->count + 1) * 2 > li->mask + 1 && grow_slots(li)) { a->oom = 1; return; }  /* load <= 1/2 */
    uint64_t h = fb_strtab_hash64(w, n);          /* never 0 */
    size_t j = home(h, li->mask);
    while (li->hash[j] && li->hash[j] != h) j = (j + 1) & li->mask;
    if (!li->hash[j]) { li->hash[j] = h; li->count++; }
    li->inc[j] |= 1ull << (8 * a->bit);           /* once per language, even if listed twice */
}

int fb_langid_build(fb_langid **out, const fb_lexicon *const *langs, size_t n, fb_err *err)
{
    *out = NULL;
    if (n > FB_LANGID_MAX_LANGS)
        return fb_err_set(err, FB_INVALID, "langid: at most %d languages, got %zu",
                          FB_LANGID_MAX_LANGS, n);
    fb_langid *li = calloc(1, sizeof *li);
    if (!li) return fb_err_set(err, FB_INTERNAL, "langid: out of memory");
    li->n = n;
    add_ctx a = { .li = li };
    for (size_t l = 0; l < n && !a.oom; l++) {
        li->langs[l] = langs[l];
        a.bit = (unsigned)l;
        fb_lexicon_each_stopword(langs[l], add_word, &a);
    }
    if (a.oom) {
        fb_langid_free(li);
        return fb_err_set(err, FB_INTERNAL, "langid: out of memory");
    }
    *out = li;
    return FB_OK;
}

void fb_langid_free(fb_langid *li)
{
    if (!li) return;
    free(li->hash);
    free(li->inc);
    free(li);
}

/* Hits of language l in packed counts (FB_LANGID_MAX_WORDS < 256: no
 * byte overflows into the next). */
static unsigned hits_of(uint64_t counts, size_t l) { return (unsigned)(counts >> (8 * l) & 0xFF); }

/* The leader is CLEAR_LEAD ahead of the rest (max and min: no branches). */
static int decided(uint64_t counts, size_t n)
{
    unsigned best = 0, second = 0;
    for (size_t l = 0; l < n; l++) {
        unsigned h = hits_of(counts, l);
        unsigned lo = h < best ? h : best;
        second = lo > second ? lo : second;
        best = h > best ? h : best;
    }
    return best >= second + CLEAR_LEAD;
}

static const fb_lexicon *pick(const fb_langid *li, uint64_t counts, const fb_lexicon *fallback)
{
    unsigned best = 0;
    for (size_t l = 0; l < li->n; l++)
        if (hits_of(counts, l) > best) best = hits_of(counts, l);
    if (best == 0) return fallback;
    const fb_lexicon *first = NULL;
    size_t tied = 0;
    for (size_t l = 0; l < li->n; l++) {
        if (hits_of(counts, l) != best) continue;
        if (li->langs[l] == fallback) return fallback;
        if (!first) first = li->langs[l];
        tied++;
    }
    return tied == 1 ? first : (fallback ? fallback : first);
}

/* The counts a word adds (0 if it is no stopword). The first three slots
 * of its probe sequence are looked at without branches (whether a word is
 * a stopword is data: about every other one is); only a longer sequence,
 * rare at this load, loops. A word is in at most one slot, and never past
 * an empty one. */
static uint64_t word_inc(const fb_langid *li, uint64_t h)
{
    size_t m = li->mask, j = home(h, m);
    size_t j1 = (j + 1) & m, j2 = (j + 2) & m;
    uint64_t h0 = li->hash[j], h1 = li->hash[j1], h2 = li->hash[j2];
    uint64_t inc = (li->inc[j] & -(uint64_t)(h0 == h)) | (li->inc[j1] & -(uint64_t)(h1 == h)) |
                   (li->inc[j2] & -(uint64_t)(h2 == h));      /* (loads unconditional: no branch) */
    if (inc | !h0 | !h1 | !h2) return inc;
    for (j = (j + 3) & m;; j = (j + 1) & m) {
        if (li->hash[j] == h) return li->inc[j];
        if (!li->hash[j]) return 0;
    }
}

const fb_lexicon *fb_langid_guess(const fb_langid *li, const fb_tokens *t,
                                  const fb_lexicon *fallback)
{
    uint64_t counts = 0;
    size_t words = 0;
    if (!li->mask) return fallback;          /* no stopwords at all */
    for (size_t i = 0; i < t->n && words < FB_LANGID_MAX_WORDS; i++) {
        const fb_token *k = &t->v[i];
        if (k->kind != FB_TOK_WORD) continue;
        words++;
        uint64_t inc = word_inc(li, k->hash);
        counts += inc;
        if (inc && decided(counts, li->n)) break;      /* only a hit can decide */
    }
    return pick(li, counts, fallback);
}
