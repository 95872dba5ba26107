/* langid.h — a cheap language guess from stopword profiles.
 *
 * Counts, for each loaded language, how many of the text's first words are
 * in its stopwords.txt, and picks the language with the most hits. Ties
 * and texts without any stopword go to the fallback. Good enough for
 * choosing a lexicon for feedback in en/es/fr/de/pt; not a general
 * language identifier. */
#ifndef FB_LANGID_H
#define FB_LANGID_H

#include "lexicon.h"
#include "tokenize.h"

/* Word tokens looked at (the start of the text decides). */
#define FB_LANGID_MAX_WORDS 64

/* The best lexicon among langs[0..n) for t, or fallback (may be NULL) when
 * no language has a stopword hit or the best ones tie (fallback wins a tie
 * it is part of). */
const fb_lexicon *fb_langid_guess(const fb_lexicon *const *langs, size_t n,
                                  const fb_tokens *t, const fb_lexicon *fallback);

#endif
