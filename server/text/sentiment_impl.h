/* sentiment_impl.h — output builders shared by sentiment.c and
 * sentiment_out.c (explain contributions, aspects, terms). Internal. */
#ifndef FB_SENTIMENT_IMPL_H
#define FB_SENTIMENT_IMPL_H

#include "score.h"
#include "sentiment.h"

/* Label for a compound (no MIXED). */
fb_label fb_label_for(double compound);

/* Each returns FB_OK or FB_INTERNAL (out of memory, err filled). */
int fb_out_contributions(const char *text, const fb_tokens *t, const fb_scored *s,
                         fb_sentiment *out, fb_err *err);
int fb_out_aspects(const fb_lexicon *lx, const fb_tokens *t, const fb_scored *s,
                   fb_sentiment *out, fb_err *err);
int fb_out_terms(const fb_lexicon *lx, const fb_tokens *t, const fb_scored *s,
                 fb_sentiment *out, fb_err *err);

/* Aspect mentioned by token i (a word or the head of an aspect phrase),
 * or -1; *span gets the tokens it covers. */
int fb_token_aspect(const fb_lexicon *lx, const fb_tokens *t, const fb_scored *s,
                    size_t i, uint32_t *span);

#endif
