/* textengine.h — the fb_textengine internals shared by the text modules:
 * the loaded languages and the common emoji table. Not a public contract;
 * other layers use sentiment.h. */
#ifndef FB_TEXTENGINE_H
#define FB_TEXTENGINE_H

#include "emojilex.h"
#include "langid.h"
#include "lexicon.h"
#include "sentiment.h"

#define FB_TEXT_MAX_LANGS 5

struct fb_textengine {
    fb_lexicon *langs[FB_TEXT_MAX_LANGS];
    size_t n_langs;
    fb_emojilex *emoji;
    fb_langid *langid;          /* stopword profiles of all languages */
};

/* The lexicon for a primary tag ("en"; "en-GB" matches "en"), or NULL. */
const fb_lexicon *fb_text_lexicon(const fb_textengine *te, const char *lang);

#endif
