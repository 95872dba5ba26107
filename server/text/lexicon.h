/* lexicon.h — one language's lexicon: valences, boosters, negators,
 * contrast words, stopwords, aspect terms and multi-word phrases.
 *
 * Loaded from lexicons/<lang>/ (*.txt) (format: lexicons/README.md) and
 * stemmed at load with the language's Snowball stemmer. Two tables:
 *   surface  folded word form -> entry (negators, boosters, contrast,
 *            stopwords, `exact` valences, and every listed word's own
 *            valence) plus that form's precomputed stem id;
 *   stems    stem -> entry (stemmed valences, aspects, phrase heads).
 * Looking up the surface form first means most tokens are resolved
 * without running the stemmer. Phrases are sequences of stem ids, indexed
 * by their first stem, longest first; the word `<num>` in a phrase matches
 * any number token (`waited <num> minutes`).
 *
 * Read-only and thread-safe after fb_lexicon_load. */
#ifndef FB_LEXICON_H
#define FB_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "stem.h"
#include "tokenize.h"

/* Token ids for phrase matching (see fb_lexicon_token_id): a stem id, or
 * FB_LEX_NUMBIT | stem id for a number whose digits are a known stem, or
 * FB_LEX_NUM for any other number, or FB_LEX_NONE. In a phrase, the word
 * FB_LEX_NUM (written `<num>`) matches any number token. */
#define FB_LEX_NONE UINT32_MAX
#define FB_LEX_NUM (UINT32_MAX - 1)
#define FB_LEX_NUMBIT 0x80000000u

enum {
    FB_LEXF_VALENCE = 1,
    FB_LEXF_BOOSTER = 2,
    FB_LEXF_NEGATOR = 4,
    FB_LEXF_CONTRAST = 8,
    FB_LEXF_STOPWORD = 16,
    FB_LEXF_ASPECT = 32,
};

#define FB_N_ASPECTS 9
/* "food", "service", "staff", "price", "cleanliness", "wait", "delivery",
 * "quality", "ambience" — static strings, index = aspect id. */
extern const char *const fb_aspect_names[FB_N_ASPECTS];

typedef struct fb_lexent {       /* 16 bytes: the scorer touches many */
    float valence;                /* FB_LEXF_VALENCE: -4..4 */
    float booster;                /* FB_LEXF_BOOSTER: added to |valence| */
    uint32_t stem;                /* surface entries: stem id or FB_LEX_NONE */
    uint16_t flags;
    int8_t aspect;                /* FB_LEXF_ASPECT: index into fb_aspect_names */
    uint8_t contrast;             /* FB_LEXF_CONTRAST: see fb_lexicon_contrast */
} fb_lexent;

typedef struct fb_phrase {
    fb_lexent ent;                /* what the phrase means */
    uint32_t words, n_words;      /* stem ids: fb_lexicon's word array */
    uint32_t key;                 /* phrase text, see fb_lexicon_phrase_text */
    uint32_t head, second;        /* first and second word's ids */
} fb_phrase;

typedef struct fb_lexicon fb_lexicon;

/* Loads dir/{lexicon,boosters,negators,contrast,stopwords,aspects}.txt for
 * lang (missing files count as empty). Errors: FB_INVALID (malformed line:
 * err names file:line; unknown language for Snowball), FB_INTERNAL. */
int fb_lexicon_load(fb_lexicon **out, const char *dir, const char *lang, fb_err *err);
void fb_lexicon_free(fb_lexicon *lx);

/* The language tag given to load ("en"), and its stemmer (thread-safe). */
const char *fb_lexicon_lang(const fb_lexicon *lx);
fb_stemmer *fb_lexicon_stemmer(const fb_lexicon *lx);

/* Resolves a folded word: *surf gets its surface entry (or NULL); returns
 * its stem id or FB_LEX_NONE if the stem is not in the lexicon. Runs the
 * stemmer only when the surface form is unknown. */
uint32_t fb_lexicon_resolve(const fb_lexicon *lx, const char *w, size_t n,
                            const fb_lexent **surf);
/* The same with h = fb_strtab_hash64(w, n) already computed. */
uint32_t fb_lexicon_resolve_h(const fb_lexicon *lx, const char *w, size_t n, uint64_t h,
                              const fb_lexent **surf);

/* An entry with no flags: what fb_lexicon_resolve_tokens gives instead of
 * NULL, so callers test flags without testing the pointer. */
extern const fb_lexent fb_lexent_none;

/* Resolves every token of t at once (what the scorer does first): for a
 * word, ids[i] and surf[i] as fb_lexicon_resolve gives them; for a number,
 * ids[i] = fb_lexicon_number_id and surf[i] its surface entry ("10/10");
 * for an emoji or emoticon, surf[i] its surface entry and ids[i] =
 * FB_LEX_NONE; for punctuation FB_LEX_NONE. A missing surface entry is
 * &fb_lexent_none, never NULL. info[i] = surf[i]->flags | the stem bits
 * (FB_STEMBIT_*) of a word's stem << 8 (all the scorer needs to know
 * whether a rule acts on the word) | FB_LEX_INFO_STEMLEN: for a word
 * without a lexicon stem whose stem is a prefix of it, that prefix's
 * length << 16 (0: unknown, ask the stemmer). Bits 13..15 and 24..31 are
 * left to the caller. Words seen before cost one cache load each (no call,
 * no stemming). */
#define FB_LEX_INFO_STEMLEN(info) (((info) >> 16) & 0xFF)
void fb_lexicon_resolve_tokens(const fb_lexicon *lx, const fb_tokens *t, uint32_t *ids,
                               const fb_lexent **surf, uint32_t *info);

/* Starts loading the word cache slots fb_lexicon_resolve_tokens will read
 * for t's words (a hint: no effect on results). */
void fb_lexicon_prefetch_words(const fb_lexicon *lx, const fb_tokens *t);

/* The surface entry of a folded form (word, emoji key, emoticon), or NULL. */
const fb_lexent *fb_lexicon_surface(const fb_lexicon *lx, const char *w, size_t n);

/* The phrase-matching id of a number token's digits. */
uint32_t fb_lexicon_number_id(const fb_lexicon *lx, const char *digits, size_t n);

/* A dense byte per stem id summarising its entry, so the scorer can skip
 * fetching entries (and probing phrases) that cannot matter. */
enum {
    FB_STEMBIT_HEAD = 1,          /* some phrase starts with this stem */
    FB_STEMBIT_SECOND = 2,        /* ... has it as second word */
    FB_STEMBIT_ASPECT_HEAD = 4,   /* some aspect phrase starts with it */
    FB_STEMBIT_VALENCE = 8,       /* the entry has FB_LEXF_VALENCE */
    FB_STEMBIT_ASPECT = 16,       /* the entry has FB_LEXF_ASPECT */
};
const uint8_t *fb_lexicon_stem_bits(const fb_lexicon *lx);

/* The entry of a stem id (id < FB_LEX_NUMBIT). */
const fb_lexent *fb_lexicon_stem_entry(const fb_lexicon *lx, uint32_t id);
/* The stem string of a stem id (NUL-terminated, lives as long as lx). */
const char *fb_lexicon_stem_text(const fb_lexicon *lx, uint32_t id);
/* The same, with its length in *n. */
const char *fb_lexicon_stem_key(const fb_lexicon *lx, uint32_t id, size_t *n);

/* Valence of a resolved word: the surface entry's if it has one, else the
 * stem's. Returns 1 and sets *v if there is one. */
int fb_lexicon_valence(const fb_lexicon *lx, const fb_lexent *surf, uint32_t stem, float *v);

/* The clause weights of a contrast entry (FB_LEXF_CONTRAST). */
void fb_lexicon_contrast(const fb_lexicon *lx, const fb_lexent *e, float *before, float *after);

/* Stems a folded word into out (cap bytes). */
size_t fb_lexicon_stem(const fb_lexicon *lx, const char *w, size_t n, char *out, size_t cap);
/* The same with h = fb_strtab_hash64(w, n) already computed. */
size_t fb_lexicon_stem_h(const fb_lexicon *lx, const char *w, size_t n, uint64_t h,
                         char *out, size_t cap);

/* The longest phrase starting at ids[i] whose meaning has a flag in mask
 * (ids: one token id per token, see above), or NULL. */
const fb_phrase *fb_lexicon_phrase_at(const fb_lexicon *lx, const uint32_t *ids,
                                      size_t n, size_t i, int mask);
/* A one-bit-per-hashed-bigram filter over the phrases' first two words:
 * fb_lexicon_bigram_maybe(f, a, b) == 0 means no phrase starts with the
 * stem ids a, b (so fb_lexicon_phrase_at would find none there). Inline:
 * the scorer asks at most words that may start a phrase, and most get a
 * cheap no. Also used by lexicon.c to build and probe its bigram index. */
#define FB_LEX_BG_FILTER_BITS 65536
const uint64_t *fb_lexicon_bigram_filter(const fb_lexicon *lx);

static inline uint64_t fb_lexicon_bigram_key(uint32_t a, uint32_t b)
{
    return ((uint64_t)a << 32 | b) + 1;
}

static inline size_t fb_lexicon_bigram_slot(uint64_t key, size_t mask)
{
    key *= 0x9E3779B97F4A7C15ull;
    return (size_t)(key >> 32) & mask;
}

static inline int fb_lexicon_bigram_maybe(const uint64_t *filter, uint32_t a, uint32_t b)
{
    size_t f = fb_lexicon_bigram_slot(fb_lexicon_bigram_key(a, b), FB_LEX_BG_FILTER_BITS - 1);
    return (int)(filter[f >> 6] >> (f & 63) & 1);
}

/* The phrase as written in its file (folded), for explanations. */
const char *fb_lexicon_phrase_text(const fb_lexicon *lx, const fb_phrase *p);

/* Calls fn for every stopword. */
void fb_lexicon_each_stopword(const fb_lexicon *lx,
                              void (*fn)(const char *w, size_t n, void *ctx), void *ctx);

/* 1 if the folded word is a stopword. */
int fb_lexicon_is_stopword(const fb_lexicon *lx, const char *w, size_t n);

/* Counts, for tests and diagnostics. */
size_t fb_lexicon_count(const fb_lexicon *lx, int flag);
size_t fb_lexicon_phrases(const fb_lexicon *lx);
/* 1 if any aspect term is a phrase (aspect matching must try phrases). */
int fb_lexicon_has_aspect_phrases(const fb_lexicon *lx);
/* 1 if some aspect phrase starts with stem id. */
int fb_lexicon_may_start_aspect(const fb_lexicon *lx, uint32_t id);

#endif
