/* sentiment.h — the text engine's public contract: score a text.
 *
 * fb_textengine holds every language's lexicon (stemmed at load) and a
 * stemmer pool. After fb_text_open it is safe to share across threads (only
 * its internal word caches change, lock-free); fb_sentiment_analyze
 * allocates only per call, and nothing for short texts without EXPLAIN,
 * TERMS or aspects.
 *
 * Scoring (details in score.c): tokens are matched against the lexicon
 * (multi-word phrases first, then stems); valences are shifted by negation
 * (scope: to the clause boundary, spent on the first sentiment word it
 * flips), boosters/dampeners, ALL-CAPS and exclamation emphasis, question
 * damping; clauses after a contrast word ("but", "however", …) dominate; a
 * negated clause with no sentiment word is an unmet expectation ("still
 * hasn't arrived"). compound = normalised sum in [-1, 1].
 * Labels: |compound| < 0.05 NEUTRAL; ±0.05.. NEGATIVE/POSITIVE; beyond ±0.6
 * VERY_*; MIXED when strong positive and strong negative clauses coexist.
 */
#ifndef FB_SENTIMENT_H
#define FB_SENTIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Same numbers as feedback.v1.Label. */
typedef enum fb_label {
    FB_LABEL_VERY_NEGATIVE = 1,
    FB_LABEL_NEGATIVE = 2,
    FB_LABEL_NEUTRAL = 3,
    FB_LABEL_POSITIVE = 4,
    FB_LABEL_VERY_POSITIVE = 5,
    FB_LABEL_MIXED = 6,
} fb_label;

typedef struct fb_contribution {
    uint32_t start, end;        /* code point span, half-open */
    char *token;                /* surface form */
    char *stem;                 /* stem or phrase key that matched */
    double value;               /* signed contribution after all rules */
} fb_contribution;

typedef struct fb_aspect_score {
    const char *aspect;         /* static string: "food", "service", … */
    double compound;
    fb_label label;
    size_t n_spans;
    uint32_t (*spans)[2];       /* code point spans of the clauses */
} fb_aspect_score;

/* A distinct content stem of the text (stopwords excluded), for TopTerms.
 * Read-only strings, valid until fb_sentiment_free and while the engine
 * is open (a stem the lexicon knows is the lexicon's own string). */
typedef struct fb_term {
    char *stem;
    char *surface;              /* the first surface form seen */
    const char *aspect;         /* static, or NULL */
} fb_term;

typedef struct fb_sentiment {
    double compound;
    fb_label label;
    double positive, negative, neutral;  /* shares, sum 1 (all 0 text: neutral 1) */
    char language[8];                    /* the language used */
    fb_contribution *contributions; size_t n_contributions; /* FB_SENT_EXPLAIN */
    fb_aspect_score *aspects; size_t n_aspects;
    fb_term *terms; size_t n_terms;      /* FB_SENT_TERMS */
} fb_sentiment;

enum {
    FB_SENT_EXPLAIN = 1,   /* fill contributions */
    FB_SENT_TERMS = 2,     /* fill terms */
};

typedef struct fb_textengine fb_textengine;

/* Loads every lexicon under dir (en, es, fr, de, pt). Errors: FB_INVALID
 * (a malformed lexicon line: err names file:line), FB_INTERNAL. */
int fb_text_open(fb_textengine **out, const char *lexicon_dir, fb_err *err);
void fb_text_close(fb_textengine *te);

/* True if the engine has a lexicon for this primary language tag. */
int fb_text_has_language(const fb_textengine *te, const char *lang);

/* Scores text (valid UTF-8, checked by the caller; len bytes). lang: a
 * primary tag, or NULL/"" to guess from stopword profiles, falling back to
 * fallback_lang (NULL: "en"). An unsupported lang is FB_INVALID.
 * out must be freed with fb_sentiment_free. */
int fb_sentiment_analyze(const fb_textengine *te, const char *text, size_t len,
                         const char *lang, const char *fallback_lang, int flags,
                         fb_sentiment *out, fb_err *err);
void fb_sentiment_free(fb_sentiment *s);

/* "VERY_NEGATIVE" … "MIXED". */
const char *fb_label_name(fb_label l);

#endif
