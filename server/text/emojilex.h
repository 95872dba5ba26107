/* emojilex.h — valences of emoji and emoticons, shared by all languages.
 *
 * Loaded from lexicons/common/emoji.txt (`sequence<TAB>valence`). Emoji are
 * keyed without variation selectors and skin tones (fb_emoji_key), so 👍,
 * 👍️ and 👍🏽 share one entry; emoticons are keyed as written. A ZWJ
 * sequence not listed falls back to its first emoji. Read-only and
 * thread-safe after load. */
#ifndef FB_EMOJILEX_H
#define FB_EMOJILEX_H

#include <stddef.h>

#include "error.h"

typedef struct fb_emojilex fb_emojilex;

/* Loads path; a missing file gives an empty table. Errors: FB_INVALID
 * (malformed line, err names file:line), FB_INTERNAL. */
int fb_emojilex_load(fb_emojilex **out, const char *path, fb_err *err);
void fb_emojilex_free(fb_emojilex *el);

/* Valence of a token's normalised form (fb_token_text of an EMOJI or
 * EMOTICON token). Returns 1 and sets *v if known. */
int fb_emojilex_valence(const fb_emojilex *el, const char *key, size_t n, float *v);

size_t fb_emojilex_count(const fb_emojilex *el);

#endif
