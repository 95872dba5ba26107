/* langid.h — a cheap language guess from stopword profiles.
 *
 * At open, every loaded language's stopwords.txt goes into one table that
 * maps a word to the set of languages it is a stopword in. A guess is one
 * probe per word over the start of the text: the language with the most
 * hits wins, and the count stops early once one language leads clearly.
 * Ties and texts without any stopword go to the fallback. Good enough for
 * choosing a lexicon for feedback in en/es/fr/de/pt; not a general
 * language identifier. Read-only and thread-safe after build. */
#ifndef FB_LANGID_H
#define FB_LANGID_H

#include "error.h"
#include "lexicon.h"
#include "tokenize.h"

/* Word tokens looked at, at most (the start of the text decides). */
#define FB_LANGID_MAX_WORDS 64
#define FB_LANGID_MAX_LANGS 8

typedef struct fb_langid fb_langid;

/* Builds the stopword table of langs[0..n) (n <= FB_LANGID_MAX_LANGS).
 * Errors: FB_INVALID (too many languages), FB_INTERNAL (out of memory). */
int fb_langid_build(fb_langid **out, const fb_lexicon *const *langs, size_t n, fb_err *err);
void fb_langid_free(fb_langid *li);

/* The best of the languages given to build for t, or fallback (may be
 * NULL) when no language has a stopword hit or the best ones tie (the
 * fallback wins a tie it is part of). */
const fb_lexicon *fb_langid_guess(const fb_langid *li, const fb_tokens *t,
                                  const fb_lexicon *fallback);

#endif
