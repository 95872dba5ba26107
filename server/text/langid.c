/* langid.c — stopword-profile language guessing.
 *
 * Why stopwords: function words are the most frequent and most
 * language-specific words, each lexicon already lists them, and counting
 * them costs one hash probe per word per language on a bounded prefix of
 * the text — far cheaper than the scoring that follows. Words that are
 * stopwords in several languages ("no", "a") count for each. */
#include "langid.h"

#include "textengine.h"

const fb_lexicon *fb_langid_guess(const fb_lexicon *const *langs, size_t n,
                                  const fb_tokens *t, const fb_lexicon *fallback)
{
    unsigned hits[FB_TEXT_MAX_LANGS] = { 0 };
    if (n > FB_TEXT_MAX_LANGS) n = FB_TEXT_MAX_LANGS;
    size_t words = 0;
    for (size_t i = 0; i < t->n && words < FB_LANGID_MAX_WORDS; i++) {
        const fb_token *k = &t->v[i];
        if (k->kind != FB_TOK_WORD) continue;
        words++;
        for (size_t l = 0; l < n; l++)
            hits[l] += (unsigned)fb_lexicon_is_stopword(langs[l], fb_token_text(t, k), k->norm_len);
    }
    unsigned best = 0;
    for (size_t l = 0; l < n; l++)
        if (hits[l] > best) best = hits[l];
    if (best == 0) return fallback;
    const fb_lexicon *pick = NULL;
    size_t tied = 0;
    for (size_t l = 0; l < n; l++) {
        if (hits[l] != best) continue;
        if (langs[l] == fallback) return fallback;
        if (!pick) pick = langs[l];
        tied++;
    }
    return tied == 1 ? pick : (fallback ? fallback : pick);
}
