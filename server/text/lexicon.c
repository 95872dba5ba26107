/* lexicon.c — building and querying one language's lexicon.
 *
 * Design: entries live in two interned tables (strtab.h) — surface forms
 * and stems — with payloads in parallel arrays indexed by id. Every phrase
 * word is interned as a stem so a phrase is just a short array of stem ids;
 * after loading, phrases are sorted by (first stem, length descending) so
 * the scorer tries the longest candidate first and stops at the first hit.
 * Finally each surface entry is given its stem id, so a text word that
 * hits the surface table needs no stemming at all. The file parsing lives
 * in lexicon_load.c. */
#include "lexicon_impl.h"

#include <stdlib.h>
#include <string.h>

const char *const fb_aspect_names[FB_N_ASPECTS] = {
    "food", "service", "staff", "price", "cleanliness",
    "wait", "delivery", "quality", "ambience",
};

static void ent_init(fb_lexent *e)
{
    memset(e, 0, sizeof *e);
    e->aspect = -1;
    e->stem = FB_LEX_NONE;
}

static fb_lexent *table_get(fb_strtab *tab, fb_lexent **arr, size_t *cap,
                            const char *s, size_t n)
{
    int created;
    int64_t id = fb_strtab_intern(tab, s, n, &created);
    if (id < 0) return NULL;
    if ((size_t)id >= *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        fb_lexent *a = realloc(*arr, nc * sizeof *a);
        if (!a) return NULL;
        *arr = a; *cap = nc;
    }
    if (created) ent_init(&(*arr)[id]);
    return &(*arr)[id];
}

fb_lexent *fb_lex_surface_get(fb_lexicon *lx, const char *w, size_t n)
{
    return table_get(&lx->surf_tab, &lx->surf, &lx->surf_cap, w, n);
}

fb_lexent *fb_lex_stem_get(fb_lexicon *lx, const char *w, size_t n, uint32_t *id)
{
    char stem[4 * FB_STEM_MAX_WORD + 8];
    size_t sn = fb_stem(lx->stemmer, w, n, stem, sizeof stem);
    fb_lexent *e = table_get(&lx->stem_tab, &lx->stems, &lx->stems_cap, stem, sn);
    if (e && id) *id = (uint32_t)(e - lx->stems);
    return e;
}

int fb_lex_add_phrase(fb_lexicon *lx, const uint32_t *ids, size_t n, const char *text,
                      const fb_lexent *meaning)
{
    if (lx->n_phrases == lx->phrases_cap) {
        size_t nc = lx->phrases_cap ? lx->phrases_cap * 2 : 64;
        fb_phrase *p = realloc(lx->phrases, nc * sizeof *p);
        if (!p) return -1;
        lx->phrases = p; lx->phrases_cap = nc;
    }
    if (lx->n_words + n > lx->words_cap) {
        size_t nc = lx->words_cap ? lx->words_cap * 2 : 256;
        while (nc < lx->n_words + n) nc *= 2;
        uint32_t *w = realloc(lx->words, nc * sizeof *w);
        if (!w) return -1;
        lx->words = w; lx->words_cap = nc;
    }
    int64_t key = fb_strtab_intern(&lx->phrase_text, text, strlen(text), NULL);
    if (key < 0) return -1;
    fb_phrase *p = &lx->phrases[lx->n_phrases++];
    p->ent = *meaning;
    p->words = (uint32_t)lx->n_words;
    p->n_words = (uint32_t)n;
    p->key = (uint32_t)key;
    p->head = ids[0];
    memcpy(lx->words + lx->n_words, ids, n * sizeof *ids);
    lx->n_words += n;
    return 0;
}

static int phrase_cmp(const void *a, const void *b)
{
    const fb_phrase *x = a, *y = b;
    if (x->head != y->head) return x->head < y->head ? -1 : 1;
    if (x->n_words != y->n_words) return x->n_words > y->n_words ? -1 : 1;
    return x->key < y->key ? -1 : (x->key > y->key);
}

/* Sorts phrases by head and length and points each head at its run. */
static void index_phrases(fb_lexicon *lx)
{
    if (lx->n_phrases) qsort(lx->phrases, lx->n_phrases, sizeof *lx->phrases, phrase_cmp);
    for (size_t i = 0; i < lx->n_phrases;) {
        uint32_t head = lx->phrases[i].head;
        size_t j = i;
        while (j < lx->n_phrases && lx->phrases[j].head == head) j++;
        if (head == FB_LEX_NUM) {
            lx->num_first = (uint32_t)i;
            lx->num_count = (uint32_t)(j - i);
        } else {
            lx->stems[head].phr_first = (uint32_t)i;
            lx->stems[head].phr_count = (uint32_t)(j - i);
        }
        i = j;
    }
}

static void resolve_surface_stems(fb_lexicon *lx)
{
    char stem[4 * FB_STEM_MAX_WORD + 8];
    for (size_t id = 0; id < lx->surf_tab.count; id++) {
        size_t n;
        const char *w = fb_strtab_key(&lx->surf_tab, (uint32_t)id, &n);
        size_t sn = fb_stem(lx->stemmer, w, n, stem, sizeof stem);
        int64_t sid = fb_strtab_find(&lx->stem_tab, stem, sn);
        lx->surf[id].stem = sid < 0 ? FB_LEX_NONE : (uint32_t)sid;
    }
}

void fb_lex_finish(fb_lexicon *lx)
{
    index_phrases(lx);
    resolve_surface_stems(lx);
}

void fb_lexicon_free(fb_lexicon *lx)
{
    if (!lx) return;
    fb_stemmer_close(lx->stemmer);
    fb_strtab_free(&lx->surf_tab);
    fb_strtab_free(&lx->stem_tab);
    fb_strtab_free(&lx->phrase_text);
    free(lx->surf); free(lx->stems); free(lx->phrases); free(lx->words);
    free(lx);
}

const char *fb_lexicon_lang(const fb_lexicon *lx) { return lx->lang; }
fb_stemmer *fb_lexicon_stemmer(const fb_lexicon *lx) { return lx->stemmer; }

uint32_t fb_lexicon_resolve(const fb_lexicon *lx, const char *w, size_t n,
                            const fb_lexent **surf)
{
    int64_t id = fb_strtab_find(&lx->surf_tab, w, n);
    if (id >= 0) {
        *surf = &lx->surf[id];
        return lx->surf[id].stem;
    }
    *surf = NULL;
    if (lx->stem_tab.count == 0) return FB_LEX_NONE;
    char stem[4 * FB_STEM_MAX_WORD + 8];
    size_t sn = fb_stem(lx->stemmer, w, n, stem, sizeof stem);
    int64_t sid = fb_strtab_find(&lx->stem_tab, stem, sn);
    return sid < 0 ? FB_LEX_NONE : (uint32_t)sid;
}

const fb_lexent *fb_lexicon_surface(const fb_lexicon *lx, const char *w, size_t n)
{
    int64_t id = fb_strtab_find(&lx->surf_tab, w, n);
    return id < 0 ? NULL : &lx->surf[id];
}

const fb_lexent *fb_lexicon_stem_entry(const fb_lexicon *lx, uint32_t id)
{
    return &lx->stems[id];
}

const char *fb_lexicon_stem_text(const fb_lexicon *lx, uint32_t id)
{
    return fb_strtab_key(&lx->stem_tab, id, NULL);
}

int fb_lexicon_valence(const fb_lexicon *lx, const fb_lexent *surf, uint32_t stem, float *v)
{
    if (surf && (surf->flags & FB_LEXF_VALENCE)) { *v = surf->valence; return 1; }
    if (stem < FB_LEX_NUMBIT && (lx->stems[stem].flags & FB_LEXF_VALENCE)) {
        *v = lx->stems[stem].valence;
        return 1;
    }
    return 0;
}

size_t fb_lexicon_stem(const fb_lexicon *lx, const char *w, size_t n, char *out, size_t cap)
{
    return fb_stem(lx->stemmer, w, n, out, cap);
}

uint32_t fb_lexicon_number_id(const fb_lexicon *lx, const char *digits, size_t n)
{
    int64_t id = fb_strtab_find(&lx->stem_tab, digits, n);
    return id < 0 ? FB_LEX_NUM : (FB_LEX_NUMBIT | (uint32_t)id);
}

static int word_matches(uint32_t want, uint32_t tok)
{
    if (tok == FB_LEX_NONE) return 0;
    if (want == FB_LEX_NUM) return (tok & FB_LEX_NUMBIT) != 0;
    return want == (tok & ~FB_LEX_NUMBIT) && tok != FB_LEX_NUM;
}

static int phrase_matches(const fb_lexicon *lx, const fb_phrase *p, const uint32_t *ids,
                          size_t n, size_t i)
{
    if (i + p->n_words > n) return 0;
    const uint32_t *w = lx->words + p->words;
    for (uint32_t k = 1; k < p->n_words; k++)
        if (!word_matches(w[k], ids[i + k])) return 0;
    return 1;
}

static const fb_phrase *longest_in(const fb_lexicon *lx, uint32_t first, uint32_t count,
                                   const uint32_t *ids, size_t n, size_t i, int mask)
{
    for (uint32_t k = 0; k < count; k++) {
        const fb_phrase *p = &lx->phrases[first + k];
        if ((p->ent.flags & mask) && phrase_matches(lx, p, ids, n, i)) return p;
    }
    return NULL;
}

const fb_phrase *fb_lexicon_phrase_at(const fb_lexicon *lx, const uint32_t *ids,
                                      size_t n, size_t i, int mask)
{
    uint32_t tok = ids[i];
    if (tok == FB_LEX_NONE) return NULL;
    const fb_phrase *best = NULL;
    if (tok != FB_LEX_NUM) {
        const fb_lexent *e = &lx->stems[tok & ~FB_LEX_NUMBIT];
        best = longest_in(lx, e->phr_first, e->phr_count, ids, n, i, mask);
    }
    if (tok & FB_LEX_NUMBIT) {
        const fb_phrase *p = longest_in(lx, lx->num_first, lx->num_count, ids, n, i, mask);
        if (p && (!best || p->n_words > best->n_words)) best = p;
    }
    return best;
}

const char *fb_lexicon_phrase_text(const fb_lexicon *lx, const fb_phrase *p)
{
    return fb_strtab_key(&lx->phrase_text, p->key, NULL);
}

int fb_lexicon_is_stopword(const fb_lexicon *lx, const char *w, size_t n)
{
    int64_t id = fb_strtab_find(&lx->surf_tab, w, n);
    return id >= 0 && (lx->surf[id].flags & FB_LEXF_STOPWORD);
}

size_t fb_lexicon_count(const fb_lexicon *lx, int flag)
{
    size_t c = 0;
    for (size_t i = 0; i < lx->surf_tab.count; i++) c += (lx->surf[i].flags & flag) != 0;
    for (size_t i = 0; i < lx->stem_tab.count; i++) c += (lx->stems[i].flags & flag) != 0;
    return c;
}

size_t fb_lexicon_phrases(const fb_lexicon *lx) { return lx->n_phrases; }
