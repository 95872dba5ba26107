/* langid.c — stopword-profile language guessing.
 *
 * Why stopwords: function words are the most frequent and most
 * language-specific words, each lexicon already lists them, and counting
 * them costs one hash probe per word — far cheaper than the scoring that
 * follows. One shared table (word -> bitmask of languages) keeps that at
 * one probe whatever the number of languages, and the early stop bounds
 * the work on long texts. Words that are stopwords in several languages
 * ("no", "a") count for each. */
#include "langid.h"

#include <stdlib.h>
#include <string.h>

#include "strtab.h"

#define CLEAR_LEAD 3     /* stop counting once the leader is this far ahead */

struct fb_langid {
    const fb_lexicon *langs[FB_LANGID_MAX_LANGS];
    size_t n;
    fb_strtab tab;
    uint8_t *mask;       /* per word id: bit l = stopword of langs[l] */
    size_t cap;
};

typedef struct add_ctx { fb_langid *li; unsigned bit; int oom; } add_ctx;

static void add_word(const char *w, size_t n, void *ctx)
{
    add_ctx *a = ctx;
    fb_langid *li = a->li;
    int64_t id = fb_strtab_intern(&li->tab, w, n, NULL);
    if (id < 0) { a->oom = 1; return; }
    if ((size_t)id >= li->cap) {
        size_t nc = li->cap ? li->cap * 2 : 256;
        uint8_t *m = realloc(li->mask, nc);
        if (!m) { a->oom = 1; return; }
        memset(m + li->cap, 0, nc - li->cap);
        li->mask = m;
        li->cap = nc;
    }
    li->mask[id] |= (uint8_t)(1u << a->bit);
}

int fb_langid_build(fb_langid **out, const fb_lexicon *const *langs, size_t n, fb_err *err)
{
    *out = NULL;
    if (n > FB_LANGID_MAX_LANGS)
        return fb_err_set(err, FB_INVALID, "langid: at most %d languages, got %zu",
                          FB_LANGID_MAX_LANGS, n);
    fb_langid *li = calloc(1, sizeof *li);
    if (!li) return fb_err_set(err, FB_INTERNAL, "langid: out of memory");
    fb_strtab_init(&li->tab);
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
    fb_strtab_free(&li->tab);
    free(li->mask);
    free(li);
}

static int decided(const unsigned *hits, size_t n)
{
    unsigned best = 0, second = 0;
    for (size_t l = 0; l < n; l++) {
        if (hits[l] > best) { second = best; best = hits[l]; }
        else if (hits[l] > second) second = hits[l];
    }
    return best >= second + CLEAR_LEAD;
}

static const fb_lexicon *pick(const fb_langid *li, const unsigned *hits, const fb_lexicon *fallback)
{
    unsigned best = 0;
    for (size_t l = 0; l < li->n; l++)
        if (hits[l] > best) best = hits[l];
    if (best == 0) return fallback;
    const fb_lexicon *first = NULL;
    size_t tied = 0;
    for (size_t l = 0; l < li->n; l++) {
        if (hits[l] != best) continue;
        if (li->langs[l] == fallback) return fallback;
        if (!first) first = li->langs[l];
        tied++;
    }
    return tied == 1 ? first : (fallback ? fallback : first);
}

const fb_lexicon *fb_langid_guess(const fb_langid *li, const fb_tokens *t,
                                  const fb_lexicon *fallback)
{
    unsigned hits[FB_LANGID_MAX_LANGS] = { 0 };
    size_t words = 0;
    for (size_t i = 0; i < t->n && words < FB_LANGID_MAX_WORDS; i++) {
        const fb_token *k = &t->v[i];
        if (k->kind != FB_TOK_WORD) continue;
        words++;
        int64_t id = fb_strtab_find_h(&li->tab, fb_token_text(t, k), k->norm_len, k->hash);
        if (id < 0) continue;
        for (unsigned m = li->mask[id]; m; m &= m - 1)   /* only the languages it is in */
            hits[__builtin_ctz(m)]++;
        if (decided(hits, li->n)) break;
    }
    return pick(li, hits, fallback);
}
