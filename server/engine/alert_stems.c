/* alert_stems.c — the watch list's stemming (alert_rules.h: fb_stemmers,
 * fb_stems_of, fb_stems_contain[_each]).
 *
 * KEYWORD alerts match on Snowball stems, word by word, so "refund" matches
 * "refunded"; this runs on the store's writer thread for every feedback with
 * text, so it caches twice: the stem of each word (a direct-mapped cache per
 * language) and each watch list already stemmed (a few slots keyed by the
 * list's bytes and language). Snowball stemmers are not reentrant: one mutex
 * guards the stemmers and both caches.
 */
#include <ctype.h>
#include <libstemmer.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alert_rules.h"

/* ---- stemmers ------------------------------------------------------------ */

static const char *const stem_langs[][2] = {
    {"en", "english"}, {"es", "spanish"}, {"fr", "french"},
    {"de", "german"},  {"pt", "portuguese"},
};
#define N_STEM_LANGS (sizeof stem_langs / sizeof stem_langs[0])

/* Words stemmed before, per language: a direct-mapped cache (a slot holds
 * one word and its stem; a colliding word replaces it). Stemming is a pure
 * function of (language, word), so the cache changes no result; it spares
 * the Snowball run that the same few hundred words (and the watch list's
 * words, once per feedback) would otherwise cost again and again. */
#define STEM_CACHE_SLOTS 1024
#define STEM_CACHE_BYTES 31
typedef struct stem_slot {
    uint32_t hash;
    unsigned char wl, sl;   /* wl 0: empty */
    char word[STEM_CACHE_BYTES], stem[STEM_CACHE_BYTES];
} stem_slot;

/* Watch lists stemmed before: matching stemmed every phrase of the list
 * again for every feedback, on the store's writer thread. A slot holds one
 * list as given (to confirm a hit) and its phrases' stems; a tenant's list
 * changes rarely, and a few slots serve several tenants. */
#define PHRASE_SLOTS 8
typedef struct phrase_slot {
    int lang;            /* stem_langs index; -1: no stemmer; -2: empty slot */
    uint64_t hash;
    size_t n, src_len;
    char *src;           /* the phrases as given, NUL-terminated each */
    char **stems;        /* per phrase: its stems, NUL-separated (NULL: none) */
    size_t *n_stems;
    uint32_t *first;     /* per phrase: word_hash of its first stem (a cheap pre-check) */
} phrase_slot;

struct fb_stemmers {
    pthread_mutex_t mu;
    struct sb_stemmer *by_lang[N_STEM_LANGS];
    stem_slot *cache[N_STEM_LANGS];
    phrase_slot phrases[PHRASE_SLOTS];
    unsigned next_phrase_slot;
};

static void phrase_slot_clear(phrase_slot *p)
{
    for (size_t i = 0; p->stems && i < p->n; i++) free(p->stems[i]);
    free(p->stems);
    free(p->n_stems);
    free(p->first);
    free(p->src);
    memset(p, 0, sizeof *p);
    p->lang = -2;
}

int fb_stemmers_open(fb_stemmers **out, fb_err *err)
{
    fb_stemmers *s = calloc(1, sizeof *s);
    if (!s) return fb_err_set(err, FB_INTERNAL, "alerts: out of memory");
    pthread_mutex_init(&s->mu, NULL);
    for (size_t i = 0; i < PHRASE_SLOTS; i++) s->phrases[i].lang = -2;
    *out = s;
    return FB_OK;
}

void fb_stemmers_close(fb_stemmers *s)
{
    if (!s) return;
    for (size_t i = 0; i < N_STEM_LANGS; i++) {
        if (s->by_lang[i]) sb_stemmer_delete(s->by_lang[i]);
        free(s->cache[i]);
    }
    for (size_t i = 0; i < PHRASE_SLOTS; i++) phrase_slot_clear(&s->phrases[i]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* The stemmer for lang and its cache (caller holds s->mu); NULL if none. */
static struct sb_stemmer *stemmer_for(fb_stemmers *s, const char *lang, stem_slot **cache)
{
    *cache = NULL;
    if (!lang || !*lang) lang = "en";
    for (size_t i = 0; i < N_STEM_LANGS; i++) {
        if (strncmp(lang, stem_langs[i][0], 2) != 0) continue;
        if (!s->by_lang[i]) s->by_lang[i] = sb_stemmer_new(stem_langs[i][1], "UTF_8");
        if (!s->cache[i]) s->cache[i] = calloc(STEM_CACHE_SLOTS, sizeof *s->cache[i]);
        *cache = s->cache[i]; /* NULL when out of memory: no caching */
        return s->by_lang[i];
    }
    return NULL;
}

static uint32_t word_hash(const char *w, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

/* The stem of word (w bytes), through the cache; *len gets its length. The
 * result stays valid until the next call (caller holds s->mu). */
static const char *stem_word(struct sb_stemmer *stem, stem_slot *cache, const char *word, size_t w,
                             size_t *len)
{
    uint32_t h = word_hash(word, w);
    stem_slot *sl = cache && w <= STEM_CACHE_BYTES ? &cache[h & (STEM_CACHE_SLOTS - 1)] : NULL;
    if (sl && sl->wl == w && sl->hash == h && memcmp(sl->word, word, w) == 0) {
        *len = sl->sl;
        return sl->stem;
    }
    const sb_symbol *r = sb_stemmer_stem(stem, (const sb_symbol *)word, (int)w);
    if (!r) { *len = w; return word; }
    size_t n = (size_t)sb_stemmer_length(stem);
    if (sl && n <= STEM_CACHE_BYTES) {
        sl->hash = h, sl->wl = (unsigned char)w, sl->sl = (unsigned char)n;
        memcpy(sl->word, word, w);
        memcpy(sl->stem, r, n);
    }
    *len = n;
    return (const char *)r;
}

static bool is_word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

void fb_stems_free(char **stems, size_t n)
{
    (void)n; /* one allocation: the pointers, then the strings */
    free(stems);
}

/* The stems being collected: NUL-separated, on the stack until they
 * outgrow it (a comment or a watch-list phrase rarely does). */
typedef struct stem_buf {
    char *p;
    size_t len, cap;
    char local[512];
} stem_buf;

/* Appends n bytes and a NUL. */
static bool buf_add(stem_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap * 2;
        while (b->len + n + 1 > nc) nc *= 2;
        char *nb = b->p == b->local ? malloc(nc) : realloc(b->p, nc);
        if (!nb) return false;
        if (b->p == b->local) memcpy(nb, b->local, b->len);
        b->p = nb, b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->p[b->len + n] = 0;
    b->len += n + 1;
    return true;
}

/* Appends the stems of text to b (NUL-separated; caller holds s->mu);
 * *count gets how many. False when out of memory. */
static bool stem_into(struct sb_stemmer *stem, stem_slot *cache, const char *text, stem_buf *b,
                      size_t *count)
{
    char word[256];
    bool ok = true;
    *count = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && ok) {
        while (*p && !is_word_byte(*p)) p++;
        size_t w = 0;
        /* a word: letters, digits, UTF-8, and apostrophes inside it */
        while (*p && (is_word_byte(*p) || ((*p == '\'') && is_word_byte(p[1]) && w))) {
            if (w < sizeof word - 1) word[w++] = (char)tolower(*p);
            p++;
        }
        if (!w) continue;
        word[w] = 0;
        const char *res = word;
        size_t rl = w;
        if (stem) res = stem_word(stem, cache, word, w, &rl);
        ok = buf_add(b, res, rl);
        (*count)++;
    }
    return ok;
}

int fb_stems_of(fb_stemmers *s, const char *text, const char *lang, char ***out, size_t *n)
{
    stem_buf b;
    b.p = b.local, b.len = 0, b.cap = sizeof b.local;
    size_t count;
    pthread_mutex_lock(&s->mu);
    stem_slot *cache;
    struct sb_stemmer *stem = stemmer_for(s, lang, &cache);
    bool ok = stem_into(stem, cache, text, &b, &count);
    pthread_mutex_unlock(&s->mu);
    char **v = ok ? malloc(count * sizeof *v + b.len + 1) : NULL;
    if (v) {
        char *str = (char *)(v + count);
        if (b.len) memcpy(str, b.p, b.len);
        for (size_t i = 0, off = 0; i < count; i++) {
            v[i] = str + off;
            off += strlen(str + off) + 1;
        }
    }
    if (b.p != b.local) free(b.p);
    if (!v) return FB_INTERNAL;
    *out = v, *n = count;
    return FB_OK;
}

/* True if the n_ph stems in ph (NUL-separated) occur consecutively in
 * text_stems. th (may be NULL): word_hash of each text stem, and first:
 * of ph's first stem, so most positions are ruled out without a strcmp. */
static bool seq_contains(char *const *text_stems, const uint32_t *th, size_t n_text, const char *ph,
                         size_t n_ph, uint32_t first)
{
    for (size_t i = 0; n_ph && i + n_ph <= n_text; i++) {
        if (th && th[i] != first) continue;
        const char *w = ph;
        size_t j = 0;
        while (j < n_ph && strcmp(text_stems[i + j], w) == 0) w += strlen(w) + 1, j++;
        if (j == n_ph) return true;
    }
    return false;
}

/* The slot holding phrases[0..n) stemmed for lang, filled on a miss
 * (caller holds s->mu); NULL when out of memory. */
static phrase_slot *stemmed_phrases(fb_stemmers *s, const char *const *phrases, size_t n, const char *lang)
{
    stem_slot *cache;
    struct sb_stemmer *stem = stemmer_for(s, lang, &cache);
    int li = -1;
    for (size_t i = 0; stem && i < N_STEM_LANGS; i++)
        if (stem == s->by_lang[i]) li = (int)i;
    uint64_t h = 1469598103934665603ULL;
    size_t src_len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = phrases[i] ? phrases[i] : "";
        size_t l = strlen(p) + 1;
        for (size_t j = 0; j < l; j++) h = (h ^ (unsigned char)p[j]) * 1099511628211ULL;
        src_len += l;
    }
    for (size_t k = 0; k < PHRASE_SLOTS; k++) {
        phrase_slot *p = &s->phrases[k];
        if (p->lang != li || p->hash != h || p->n != n || p->src_len != src_len) continue;
        size_t off = 0, i = 0;
        for (; i < n; i++) {
            const char *q = phrases[i] ? phrases[i] : "";
            size_t l = strlen(q) + 1;
            if (memcmp(p->src + off, q, l) != 0) break;
            off += l;
        }
        if (i == n) return p;
    }
    phrase_slot *p = &s->phrases[s->next_phrase_slot++ % PHRASE_SLOTS];
    phrase_slot_clear(p);
    p->src = malloc(src_len ? src_len : 1);
    p->stems = calloc(n ? n : 1, sizeof *p->stems);
    p->n_stems = calloc(n ? n : 1, sizeof *p->n_stems);
    p->first = calloc(n ? n : 1, sizeof *p->first);
    if (!p->src || !p->stems || !p->n_stems || !p->first) { phrase_slot_clear(p); return NULL; }
    p->n = n, p->src_len = src_len, p->hash = h, p->lang = li;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const char *q = phrases[i] ? phrases[i] : "";
        size_t l = strlen(q) + 1;
        memcpy(p->src + off, q, l);
        off += l;
        if (!phrases[i]) continue; /* never found */
        stem_buf b;
        b.p = b.local, b.len = 0, b.cap = sizeof b.local;
        if (!stem_into(stem, cache, phrases[i], &b, &p->n_stems[i]) ||
            !(p->stems[i] = malloc(b.len ? b.len : 1))) {
            if (b.p != b.local) free(b.p);
            phrase_slot_clear(p);
            return NULL;
        }
        memcpy(p->stems[i], b.p, b.len);
        if (b.p != b.local) free(b.p);
        if (p->n_stems[i]) p->first[i] = word_hash(p->stems[i], strlen(p->stems[i]));
    }
    return p;
}

/* found[i]: phrases[i] occurs in text_stems as consecutive stems (as
 * fb_stems_contain), for n phrases stemmed under one lock (once per list
 * and language: stemmed_phrases). Out of memory: nothing is found. */
void fb_stems_contain_each(fb_stemmers *s, char *const *text_stems, size_t n_text,
                          const char *const *phrases, size_t n, const char *lang, bool *found)
{
    uint32_t local[64];
    uint32_t *th = n_text <= 64 ? local : malloc(n_text * sizeof *th); /* NULL: compare all */
    for (size_t i = 0; th && i < n_text; i++) th[i] = word_hash(text_stems[i], strlen(text_stems[i]));
    pthread_mutex_lock(&s->mu);
    phrase_slot *p = stemmed_phrases(s, phrases, n, lang);
    for (size_t i = 0; i < n; i++)
        found[i] = p && p->stems[i] &&
                   seq_contains(text_stems, th, n_text, p->stems[i], p->n_stems[i], p->first[i]);
    pthread_mutex_unlock(&s->mu);
    if (th != local) free(th);
}

bool fb_stems_contain(fb_stemmers *s, char *const *text_stems, size_t n_text,
                      const char *phrase, const char *lang)
{
    bool found;
    fb_stems_contain_each(s, text_stems, n_text, &phrase, 1, lang, &found);
    return found;
}

