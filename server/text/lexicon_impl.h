/* lexicon_impl.h — internals shared by lexicon.c (tables, queries) and
 * lexicon_load.c (file parsing). Not part of the public contract. */
#ifndef FB_LEXICON_IMPL_H
#define FB_LEXICON_IMPL_H

#include "lexicon.h"
#include "strtab.h"

struct fb_lexicon {
    char lang[8];
    fb_stemmer *stemmer;
    fb_strtab surf_tab, stem_tab, phrase_text;
    fb_lexent *surf, *stems;
    size_t surf_cap, stems_cap;
    fb_phrase *phrases;
    size_t n_phrases, phrases_cap;
    uint32_t *words;              /* phrase word stem ids */
    size_t n_words, words_cap;
    uint32_t num_count;           /* phrases that start with <num> */
    float contrast[256][2];       /* before/after weights, by fb_lexent.contrast */
    size_t n_contrast;
    /* (first, second word) -> run of phrases, longest first */
    struct bigram { uint64_t key; uint32_t first, count; } *bg;   /* key 0 = empty */
    size_t bg_mask;
    uint64_t bg_filter[FB_LEX_BG_FILTER_BITS / 64];   /* fb_lexicon_bigram_maybe */
    uint8_t *bits;                /* per stem id: FB_STEMBIT_* */
    int num_second;               /* <num> is the second word of some phrase */
    size_t n_aspect_phrases;
};

/* The surface / stem entry of a folded word, created if new; NULL: OOM.
 * fb_lex_stem_get stems w first and stores the stem id in *id. */
fb_lexent *fb_lex_surface_get(fb_lexicon *lx, const char *w, size_t n);
fb_lexent *fb_lex_stem_get(fb_lexicon *lx, const char *w, size_t n, uint32_t *id);

/* Adds a phrase of stem ids with its meaning; -1 on OOM. */
int fb_lex_add_phrase(fb_lexicon *lx, const uint32_t *ids, size_t n, const char *text,
                      const fb_lexent *meaning);

/* Indexes phrases and precomputes surface stems; call after loading.
 * Returns -1 if memory ran out. */
int fb_lex_finish(fb_lexicon *lx);

#endif
