/* score.h — the sentiment rules: from tokens to scored items.
 *
 * An item is one thing that carries sentiment: a word, a phrase, an emoji
 * or emoticon, an exclamation run's emphasis, or a negated neutral
 * predicate ("still hasn't arrived"). fb_score_tokens resolves every token
 * against the lexicon, walks the clauses applying word-level rules (phrases
 * first, negation to the clause end, boosters/dampeners, ALL-CAPS), then
 * clause-level weights (contrast words, questions) and sentence-level
 * emphasis ('!'). The item values sum to the raw score. Internal to the
 * text engine; used by sentiment.c. */
#ifndef FB_SCORE_H
#define FB_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "emojilex.h"
#include "lexicon.h"
#include "tokenize.h"

enum { FB_ITEM_WORD = 1, FB_ITEM_PHRASE, FB_ITEM_EMOJI, FB_ITEM_EMPHASIS, FB_ITEM_UNMET };

typedef struct fb_item {
    uint32_t tok, ntok;          /* token span */
    uint32_t clause, sent;
    float base;                  /* after word-level rules */
    float value;                 /* after clause and sentence weights */
    const char *key;             /* stem, phrase or form that matched */
    uint8_t kind;
    uint8_t negated;
} fb_item;

/* A contrast word ("but", "although") and the clause weights it sets. */
typedef struct fb_contrast {
    uint32_t tok, clause, sent;
    float before, after;
    uint8_t initial;             /* first word of its sentence */
} fb_contrast;

/* fb_scored.info bits above the lexical ones (flags, stem bits << 8). */
#define FB_INFO_PAIR 0x1000000   /* a phrase may start here (this word and the next pass
                                    fb_lexicon_phrase_at's first tests) */
#define FB_INFO_NUMBER 0x2000
#define FB_INFO_PUNCT 0x4000
#define FB_INFO_NONWORD 0x8000

#define FB_ASPECT_HEAD 0x40
#define FB_ASPECT_ID(a) ((int)((a) & 0x3F) - 1)

/* A run of non-punctuation tokens sharing a clause, in text order (the
 * clauses the aspect pass walks). */
typedef struct fb_run { uint32_t clause, first, last; } fb_run;

/* Per-call working memory; stack arrays first, heap for long texts. */
#define FB_SCORE_STACK_TOKENS 96

typedef struct fb_scored {
    fb_item *items;
    size_t n_items;
    uint32_t *ids;               /* per token: phrase-match id */
    const fb_lexent **surf;      /* per token: surface entry (&fb_lexent_none if none) */
    uint32_t *info;              /* per token: fb_lexicon_resolve_tokens' info | FB_INFO_* */
    uint32_t *ends;              /* sentence-ending punctuation tokens, in order */
    size_t n_ends;
    uint32_t *clause;            /* per token: clause index incl. contrast splits */
    uint8_t *aspect;             /* per token: (aspect id + 1, 0 = none) in the low
                                    bits, | FB_ASPECT_HEAD if an aspect phrase may start here */
    int any_aspect;              /* some token names (or may start) an aspect */
    uint32_t *asp;               /* the tokens with a nonzero aspect byte, in order */
    size_t n_asp;
    fb_run *runs;                /* clause runs (see fb_run), filled by the walk */
    size_t n_runs;
    size_t n_clauses;
    fb_contrast *pts;            /* contrast words in order */
    size_t n_pts;
    double sum;                  /* raw score: sum of item values */
    void *heap;
    /* stack storage */
    fb_item items_buf[FB_SCORE_STACK_TOKENS];
    uint32_t ids_buf[FB_SCORE_STACK_TOKENS];
    const fb_lexent *surf_buf[FB_SCORE_STACK_TOKENS];
    uint32_t info_buf[FB_SCORE_STACK_TOKENS];
    uint32_t ends_buf[FB_SCORE_STACK_TOKENS];
    uint32_t clause_buf[FB_SCORE_STACK_TOKENS];
    uint8_t aspect_buf[FB_SCORE_STACK_TOKENS];
    uint32_t asp_buf[FB_SCORE_STACK_TOKENS];
    fb_run runs_buf[FB_SCORE_STACK_TOKENS];
    fb_contrast pts_buf[FB_SCORE_STACK_TOKENS];
} fb_scored;

/* Scores t with lx and el into s (s need not be initialised). Returns 0, or
 * -1 if memory ran out. Free with fb_scored_free. */
int fb_score_tokens(const fb_lexicon *lx, const fb_emojilex *el, const fb_tokens *t,
                    fb_scored *s);
void fb_scored_free(fb_scored *s);

/* Normalises a raw score to (-1, 1) like VADER: x / sqrt(x^2 + 15). */
double fb_score_normalize(double x);

#endif
