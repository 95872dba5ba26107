/* utf8.h — small UTF-8 and code point helpers for the text engine.
 *
 * Text reaching the engine is already valid UTF-8 (the server rejects
 * anything else), but every decoder here is total: a malformed byte decodes
 * as U+FFFD with length 1, so no input can make a caller loop or overrun.
 * Character classes are deliberately coarse (enough to tokenize feedback
 * text in Latin, Greek and Cyrillic scripts and to recognise emoji), not a
 * full Unicode database. */
#ifndef FB_UTF8_H
#define FB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s[0..len); stores it in *cp and returns its byte
 * length (1..4). len must be > 0. Malformed or truncated: *cp = U+FFFD, 1. */
size_t fb_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* 1 if s[0..len) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int fb_utf8_valid(const char *s, size_t len);

/* Number of code points in s[0..len) (malformed bytes count one each). */
size_t fb_utf8_count(const char *s, size_t len);

/* Writes cp as UTF-8 into out (room for 4) and returns the byte count. */
size_t fb_utf8_encode(uint32_t cp, char *out);

/* Simple case folding (to lower case) for ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic basics; other code points are returned unchanged.
 * Also folds U+2019/U+2018/U+02BC (typographic apostrophes) to '\''. */
uint32_t fb_utf8_fold(uint32_t cp);

/* 1 if cp is an upper-case letter in the scripts fb_utf8_fold handles. */
int fb_utf8_is_upper(uint32_t cp);

/* Space: ASCII whitespace, U+0085, U+00A0, U+1680, U+2000..U+200B,
 * U+2028/2029, U+202F, U+205F, U+3000, U+FEFF. */
int fb_utf8_is_space(uint32_t cp);

/* Letter-like: part of a word (letters of any script, digits excluded). */
int fb_utf8_is_letter(uint32_t cp);

/* Combining mark (joins the previous letter or emoji). */
int fb_utf8_is_mark(uint32_t cp);

/* Emoji base code point (pictographs, dingbats, symbols commonly used as
 * emoji, regional indicators). */
int fb_utf8_is_emoji(uint32_t cp);

/* Emoji modifiers that belong to the previous emoji: variation selectors
 * U+FE0E/FE0F, skin tones U+1F3FB..1F3FF, keycap U+20E3, tags U+E0020..7F. */
int fb_utf8_is_emoji_modifier(uint32_t cp);

#define FB_UTF8_ZWJ 0x200Du

#endif
