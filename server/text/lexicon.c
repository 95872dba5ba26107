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
    p->second = n > 1 ? ids[1] : FB_LEX_NONE;
    memcpy(lx->words + lx->n_words, ids, n * sizeof *ids);
    lx->n_words += n;
    return 0;
}

static int phrase_cmp(const void *a, const void *b)
{
    const fb_phrase *x = a, *y = b;
    if (x->head != y->head) return x->head < y->head ? -1 : 1;
    if (x->second != y->second) return x->second < y->second ? -1 : 1;
    if (x->n_words != y->n_words) return x->n_words > y->n_words ? -1 : 1;
    return x->key < y->key ? -1 : (x->key > y->key);
}

#define bigram_key fb_lexicon_bigram_key
#define bigram_slot fb_lexicon_bigram_slot

/* Indexes runs of phrases sharing their first two words. -1 on OOM. */
static int index_bigrams(fb_lexicon *lx)
{
    size_t slots = 16;
    while (slots < lx->n_phrases * 2) slots *= 2;
    lx->bg = calloc(slots, sizeof *lx->bg);
    if (!lx->bg) return -1;
    lx->bg_mask = slots - 1;
    lx->bits = calloc(lx->stem_tab.count + 1, 1);
    if (!lx->bits) return -1;
    for (size_t i = 0; i < lx->stem_tab.count; i++)
        lx->bits[i] = (uint8_t)(((lx->stems[i].flags & FB_LEXF_VALENCE) ? FB_STEMBIT_VALENCE : 0) |
                                ((lx->stems[i].flags & FB_LEXF_ASPECT) ? FB_STEMBIT_ASPECT : 0));
    for (size_t i = 0; i < lx->n_phrases; i++) {
        const fb_phrase *p = &lx->phrases[i];
        int aspect = (p->ent.flags & FB_LEXF_ASPECT) != 0;
        if (p->second == FB_LEX_NUM) lx->num_second = 1;
        else lx->bits[p->second] |= FB_STEMBIT_SECOND;
        if (p->head != FB_LEX_NUM) lx->bits[p->head] |= FB_STEMBIT_HEAD | (aspect ? FB_STEMBIT_ASPECT_HEAD : 0);
        lx->n_aspect_phrases += aspect;
    }
    for (size_t i = 0; i < lx->n_phrases;) {
        const fb_phrase *p = &lx->phrases[i];
        size_t j = i;
        while (j < lx->n_phrases && lx->phrases[j].head == p->head &&
               lx->phrases[j].second == p->second) j++;
        uint64_t key = bigram_key(p->head, p->second);
        size_t f = bigram_slot(key, FB_LEX_BG_FILTER_BITS - 1);
        lx->bg_filter[f >> 6] |= 1ull << (f & 63);
        size_t s = bigram_slot(key, lx->bg_mask);
        while (lx->bg[s].key) s = (s + 1) & lx->bg_mask;
        lx->bg[s] = (struct bigram){ key, (uint32_t)i, (uint32_t)(j - i) };
        i = j;
    }
    return 0;
}

/* Sorts phrases by head, second word and length (runs sharing the first
 * two words, longest first, are what index_bigrams indexes). */
static void index_phrases(fb_lexicon *lx)
{
    if (lx->n_phrases) qsort(lx->phrases, lx->n_phrases, sizeof *lx->phrases, phrase_cmp);
    for (size_t i = 0; i < lx->n_phrases; i++)
        if (lx->phrases[i].head == FB_LEX_NUM) lx->num_count++;
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

int fb_lex_finish(fb_lexicon *lx)
{
    index_phrases(lx);
    resolve_surface_stems(lx);
    fb_stemmer_clear_tags(lx->stemmer);   /* word tags name entries: drop any from loading */
    return index_bigrams(lx);
}

void fb_lexicon_free(fb_lexicon *lx)
{
    if (!lx) return;
    fb_stemmer_close(lx->stemmer);
    fb_strtab_free(&lx->surf_tab);
    fb_strtab_free(&lx->stem_tab);
    fb_strtab_free(&lx->phrase_text);
    free(lx->surf); free(lx->stems); free(lx->phrases); free(lx->words);
    free(lx->bg); free(lx->bits);
    free(lx);
}

const char *fb_lexicon_lang(const fb_lexicon *lx) { return lx->lang; }
fb_stemmer *fb_lexicon_stemmer(const fb_lexicon *lx) { return lx->stemmer; }

#define TAG_SURFACE 0x400000u      /* word tag: a surface entry id, not a stem id */
#define TAG_PREFIX 0x800000u       /* word tag: no lexicon stem, and the word's stem is
                                      its first (tag & 0xFF) bytes (for terms) */

/* A cached word tag (see word_tag) to a stem id and surface entry. */
static inline uint32_t tag_to_id(const fb_lexicon *lx, uint32_t tag, const fb_lexent **surf)
{
    if (tag == FB_LEX_NONE || (tag & TAG_PREFIX)) return FB_LEX_NONE;
    if (tag & TAG_SURFACE) {
        *surf = &lx->surf[tag & ~TAG_SURFACE];
        return (*surf)->stem;
    }
    return tag;
}

/* tag_to_id without branches, for the scorer's loop: which kind of tag a
 * word has is data, and a mispredicted branch per word costs more than
 * selecting both ways. *surf gets &fb_lexent_none if no surface entry.
 * (tag != FB_LEX_NONE - 1.) */
static inline uint32_t tag_decode(const fb_lexicon *lx, uint32_t tag, const fb_lexent **surf)
{
    uintptr_t is_surf = (tag & (TAG_SURFACE | TAG_PREFIX)) == TAG_SURFACE && tag < TAG_PREFIX;
    uintptr_t m = (uintptr_t)0 - is_surf;
    uintptr_t at = (uintptr_t)lx->surf + (uintptr_t)(tag & (TAG_SURFACE - 1)) * sizeof *lx->surf;
    const fb_lexent *e = (const fb_lexent *)((at & m) | ((uintptr_t)&fb_lexent_none & ~m));
    *surf = e;
    uint32_t via = e->stem, is_stem = (uint32_t)0 - (tag < TAG_SURFACE);   /* none's: FB_LEX_NONE */
    return (tag & is_stem) | (via & ~is_stem);
}

/* What a word resolves to, as a tag for the stemmer's word cache: its
 * surface entry (TAG_SURFACE | id), else its stem's id, else (no entry)
 * TAG_PREFIX | the stem's length if the stem is a prefix of the word, as
 * most are ("waiting" -> "wait"; not "happy" -> "happi"), else
 * FB_LEX_NONE. TopTerms needs the stem of every content word: with the
 * prefix length it is read off the word, without asking the stemmer. */
static uint32_t word_tag(const char *w, size_t n, void *ctx)
{
    const fb_lexicon *lx = ctx;
    int64_t id = fb_strtab_find(&lx->surf_tab, w, n);
    if (id >= 0) return id < TAG_SURFACE ? TAG_SURFACE | (uint32_t)id : FB_LEX_NONE - 1;
    if (lx->stem_tab.count == 0) return FB_LEX_NONE;
    char stem[4 * FB_STEM_MAX_WORD + 8];
    size_t sn = fb_stem(lx->stemmer, w, n, stem, sizeof stem);
    int64_t sid = fb_strtab_find(&lx->stem_tab, stem, sn);
    if (sid >= 0) return sid >= TAG_SURFACE ? FB_LEX_NONE : (uint32_t)sid;
    if (sn >= 1 && sn <= n && n <= FB_STEM_MAX_WORD && memcmp(stem, w, sn) == 0)
        return TAG_PREFIX | (uint32_t)sn;
    return FB_LEX_NONE;
}

uint32_t fb_lexicon_resolve(const fb_lexicon *lx, const char *w, size_t n,
                            const fb_lexent **surf)
{
    return fb_lexicon_resolve_h(lx, w, n, fb_strtab_hash64(w, n), surf);
}

/* The tag of a word (cached when it can be). */
static uint32_t word_tag_of(const fb_lexicon *lx, const char *w, size_t n, uint64_t h)
{
    return fb_stem_tag_h(lx->stemmer, w, n, h, word_tag, (void *)lx);
}

/* A word whose surface id does not fit a tag: looked up every time. */
static uint32_t resolve_direct(const fb_lexicon *lx, const char *w, size_t n, const fb_lexent **surf)
{
    int64_t id = fb_strtab_find(&lx->surf_tab, w, n);
    if (id >= 0) { *surf = &lx->surf[id]; return lx->surf[id].stem; }
    return FB_LEX_NONE;
}

uint32_t fb_lexicon_resolve_h(const fb_lexicon *lx, const char *w, size_t n, uint64_t h,
                              const fb_lexent **surf)
{
    uint32_t tag = word_tag_of(lx, w, n, h);
    *surf = NULL;
    if (tag == FB_LEX_NONE - 1) return resolve_direct(lx, w, n, surf);
    return tag_to_id(lx, tag, surf);
}

/* The tag table (1 MiB) misses the cache for the rarer words: ask for
 * every token's slot at once (non-words have hash 0: a harmless load), so
 * the misses overlap instead of queueing. */
void fb_lexicon_prefetch_words(const fb_lexicon *lx, const fb_tokens *t)
{
    const _Atomic uint64_t *tags = fb_stem_tags(lx->stemmer);
    for (size_t i = 0; i < t->n; i++) fb_stem_tag_prefetch(tags, t->v[i].hash);
}

const fb_lexent fb_lexent_none = { .aspect = -1, .stem = FB_LEX_NONE };

void fb_lexicon_resolve_tokens(const fb_lexicon *lx, const fb_tokens *t, uint32_t *ids,
                               const fb_lexent **surf, uint32_t *info)
{
    const _Atomic uint64_t *tags = fb_stem_tags(lx->stemmer);
    uint32_t none = (uint32_t)lx->stem_tab.count;      /* bits[none] is 0 */
    fb_lexicon_prefetch_words(lx, t);
    for (size_t i = 0; i < t->n; i++) {
        const fb_token *k = &t->v[i];
        const char *txt = fb_token_text(t, k);
        const fb_lexent *e = NULL;
        uint32_t tag, id = FB_LEX_NONE;
        if (k->kind == FB_TOK_WORD) {
            /* the hit path of fb_lexicon_resolve_h, inline (long words are
             * never cached: they take the call) */
            if (!(k->norm_len <= FB_STEM_MAX_WORD && fb_stem_tag_probe(tags, k->hash, &tag)))
                tag = word_tag_of(lx, txt, k->norm_len, k->hash);
            if (tag == FB_LEX_NONE - 1) {
                id = resolve_direct(lx, txt, k->norm_len, &e);
                if (!e) e = &fb_lexent_none;
            } else {
                id = tag_decode(lx, tag, &e);
            }
            info[i] = e->flags | (uint32_t)lx->bits[id < none ? id : none] << 8 |
                      (uint32_t)((tag & ~0xFFu) == TAG_PREFIX) * ((tag & 0xFF) << 16);
        } else {
            if (k->kind == FB_TOK_NUMBER) id = fb_lexicon_number_id(lx, txt, k->norm_len);
            if (k->kind != FB_TOK_PUNCT) e = fb_lexicon_surface(lx, txt, k->norm_len);  /* "10/10", emoji */
            if (!e) e = &fb_lexent_none;
            info[i] = e->flags;
        }
        ids[i] = id;
        surf[i] = e;
    }
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

const char *fb_lexicon_stem_key(const fb_lexicon *lx, uint32_t id, size_t *n)
{
    return fb_strtab_key(&lx->stem_tab, id, n);
}

const uint8_t *fb_lexicon_stem_bits(const fb_lexicon *lx) { return lx->bits; }

const uint64_t *fb_lexicon_bigram_filter(const fb_lexicon *lx) { return lx->bg_filter; }

int fb_lexicon_valence(const fb_lexicon *lx, const fb_lexent *surf, uint32_t stem, float *v)
{
    if (surf && (surf->flags & FB_LEXF_VALENCE)) { *v = surf->valence; return 1; }
    if (stem < FB_LEX_NUMBIT && (lx->bits[stem] & FB_STEMBIT_VALENCE)) {
        *v = lx->stems[stem].valence;
        return 1;
    }
    return 0;
}

void fb_lexicon_contrast(const fb_lexicon *lx, const fb_lexent *e, float *before, float *after)
{
    *before = lx->contrast[e->contrast][0];
    *after = lx->contrast[e->contrast][1];
}

size_t fb_lexicon_stem(const fb_lexicon *lx, const char *w, size_t n, char *out, size_t cap)
{
    return fb_stem(lx->stemmer, w, n, out, cap);
}

size_t fb_lexicon_stem_h(const fb_lexicon *lx, const char *w, size_t n, uint64_t h,
                         char *out, size_t cap)
{
    return fb_stem_h(lx->stemmer, w, n, h, out, cap);
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

static const fb_phrase *longest_in(const fb_lexicon *lx, uint32_t a, uint32_t b,
                                   const uint32_t *ids, size_t n, size_t i, int mask)
{
    if (!fb_lexicon_bigram_maybe(lx->bg_filter, a, b)) return NULL;
    uint64_t key = bigram_key(a, b);
    for (size_t s = bigram_slot(key, lx->bg_mask); lx->bg[s].key; s = (s + 1) & lx->bg_mask) {
        if (lx->bg[s].key != key) continue;
        for (uint32_t k = 0; k < lx->bg[s].count; k++) {
            const fb_phrase *p = &lx->phrases[lx->bg[s].first + k];
            if ((p->ent.flags & mask) && phrase_matches(lx, p, ids, n, i)) return p;
        }
        return NULL;
    }
    return NULL;
}

/* The literal and wildcard ids a token can match as a phrase word. */
static size_t alternatives(const fb_lexicon *lx, uint32_t tok, int head, uint32_t out[2])
{
    size_t k = 0;
    if (tok == FB_LEX_NONE) return 0;
    if (tok != FB_LEX_NUM) {
        uint32_t id = tok & ~FB_LEX_NUMBIT;
        if (lx->bits[id] & (head ? FB_STEMBIT_HEAD : FB_STEMBIT_SECOND)) out[k++] = id;
    }
    if ((tok & FB_LEX_NUMBIT) && (head ? lx->num_count != 0 : lx->num_second)) out[k++] = FB_LEX_NUM;
    return k;
}

const fb_phrase *fb_lexicon_phrase_at(const fb_lexicon *lx, const uint32_t *ids,
                                      size_t n, size_t i, int mask)
{
    if (i + 1 >= n || !lx->n_phrases) return NULL;
    uint32_t t0 = ids[i], t1 = ids[i + 1];
    if (mask == FB_LEXF_ASPECT && t0 < FB_LEX_NUMBIT && !(lx->bits[t0] & FB_STEMBIT_ASPECT_HEAD)) return NULL;
    if (t0 < FB_LEX_NUMBIT && t1 < FB_LEX_NUMBIT) {     /* two words: one pair to try */
        if (!(lx->bits[t0] & FB_STEMBIT_HEAD) || !(lx->bits[t1] & FB_STEMBIT_SECOND)) return NULL;
        return longest_in(lx, t0, t1, ids, n, i, mask);
    }
    uint32_t heads[2], seconds[2];
    size_t nh = alternatives(lx, ids[i], 1, heads);
    if (!nh) return NULL;
    size_t ns = alternatives(lx, ids[i + 1], 0, seconds);
    if (!ns) return NULL;
    const fb_phrase *best = NULL;
    for (size_t a = 0; a < nh; a++)
        for (size_t b = 0; b < ns; b++) {
            const fb_phrase *p = longest_in(lx, heads[a], seconds[b], ids, n, i, mask);
            if (p && (!best || p->n_words > best->n_words)) best = p;
        }
    return best;
}

const char *fb_lexicon_phrase_text(const fb_lexicon *lx, const fb_phrase *p)
{
    return fb_strtab_key(&lx->phrase_text, p->key, NULL);
}

void fb_lexicon_each_stopword(const fb_lexicon *lx,
                              void (*fn)(const char *w, size_t n, void *ctx), void *ctx)
{
    for (size_t id = 0; id < lx->surf_tab.count; id++) {
        if (!(lx->surf[id].flags & FB_LEXF_STOPWORD)) continue;
        size_t n;
        const char *w = fb_strtab_key(&lx->surf_tab, (uint32_t)id, &n);
        fn(w, n, ctx);
    }
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

int fb_lexicon_has_aspect_phrases(const fb_lexicon *lx) { return lx->n_aspect_phrases > 0; }

int fb_lexicon_may_start_aspect(const fb_lexicon *lx, uint32_t id)
{
    return id < FB_LEX_NUMBIT && lx->bits && (lx->bits[id] & FB_STEMBIT_ASPECT_HEAD);
}
