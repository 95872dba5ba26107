/* utf8.c — total UTF-8 decoding and coarse character classes.
 *
 * Design: the tokenizer calls these per code point in its hot loop, so they
 * are branchy range checks with an ASCII fast path and no tables to load.
 * The decoder is strict (rejects overlongs, surrogates, > U+10FFFF) and total
 * (bad bytes become U+FFFD of length 1), which is what makes every loop over
 * text in the engine provably advance. Case folding covers the scripts our
 * lexicons use; anything else passes through unchanged, which is harmless:
 * an unfolded word simply does not match a lexicon entry. */
#include "utf8.h"

size_t fb_utf8_decode(const char *str, size_t len, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    size_t n; uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; v = c & 0x07; min = 0x10000; }
    else { *cp = 0xFFFD; return 1; }
    if (len < n) { *cp = 0xFFFD; return 1; }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) { *cp = 0xFFFD; return 1; }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return n;
}

int fb_utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) { i++; continue; }
        uint32_t cp;
        size_t n = fb_utf8_decode(s + i, len - i, &cp);
        if (n == 1) return 0;   /* only ASCII decodes to length 1 validly */
        i += n;
    }
    return 1;
}

size_t fb_utf8_count(const char *s, size_t len)
{
    size_t i = 0, n = 0;
    while (i < len) {
        uint32_t cp;
        i += fb_utf8_decode(s + i, len - i, &cp);
        n++;
    }
    return n;
}

size_t fb_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Latin Extended-A: which code points are the upper half of a case pair. */
static int latin_ext_a_upper(uint32_t cp)
{
    if (cp == 0x178) return 1;
    if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177))
        return (cp & 1) == 0;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
        return (cp & 1) == 1;
    return 0;
}

static int cyrillic_pair_upper(uint32_t cp)
{
    if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) ||
        (cp >= 0x4D0 && cp <= 0x52F))
        return (cp & 1) == 0;
    if (cp >= 0x4C1 && cp <= 0x4CE) return (cp & 1) == 1;
    return 0;
}

int fb_utf8_is_upper(uint32_t cp)
{
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z';
    if (cp >= 0xC0 && cp <= 0xDE) return cp != 0xD7;
    if (cp >= 0x100 && cp <= 0x17F) return cp == 0x130 || latin_ext_a_upper(cp);
    if (cp >= 0x386 && cp <= 0x3AB)
        return cp != 0x387 && cp != 0x38B && cp != 0x38D && cp != 0x390 &&
               cp != 0x3A2;
    if (cp >= 0x400 && cp <= 0x42F) return 1;
    if (cp == 0x4C0) return 1;
    return cyrillic_pair_upper(cp);
}

uint32_t fb_utf8_fold(uint32_t cp)
{
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x2BC || cp == 0xB4) return '\'';
    if (!fb_utf8_is_upper(cp)) return cp == 0x3C2 ? 0x3C3 : cp;
    if (cp <= 0xDE) return cp + 32;
    if (cp == 0x130) return 'i';
    if (cp == 0x178) return 0xFF;
    if (cp <= 0x17F) return cp + 1;
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 63;
    if (cp >= 0x391 && cp <= 0x3AB) return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp == 0x4C0) return 0x4CF;
    return cp + 1;
}

int fb_utf8_is_space(uint32_t cp)
{
    if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

int fb_utf8_is_mark(uint32_t cp)
{
    return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x483 && cp <= 0x489) ||
           (cp >= 0x591 && cp <= 0x5BD) || (cp >= 0x610 && cp <= 0x61A) ||
           (cp >= 0x64B && cp <= 0x65F) || (cp >= 0x900 && cp <= 0x903) ||
           (cp >= 0x93A && cp <= 0x94F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) ||
           (cp >= 0x20D0 && cp <= 0x20FF && cp != 0x20E3) ||
           (cp >= 0xFE20 && cp <= 0xFE2F);
}

int fb_utf8_is_emoji_modifier(uint32_t cp)
{
    return cp == 0xFE0E || cp == 0xFE0F || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
           cp == 0x20E3 || (cp >= 0xE0020 && cp <= 0xE007F);
}

int fb_utf8_is_emoji(uint32_t cp)
{
    if (cp < 0x2000) return 0;
    if (cp >= 0x1F000 && cp <= 0x1FAFF) return !(cp >= 0x1F3FB && cp <= 0x1F3FF);
    return (cp >= 0x2600 && cp <= 0x27BF) || (cp >= 0x2300 && cp <= 0x23FF) ||
           (cp >= 0x2B00 && cp <= 0x2BFF) || (cp >= 0x25A0 && cp <= 0x25FF) ||
           (cp >= 0x2190 && cp <= 0x21FF) || cp == 0x203C || cp == 0x2049 ||
           cp == 0x2122 || cp == 0x2139 || cp == 0x3030 || cp == 0x303D ||
           cp == 0x3297 || cp == 0x3299;
}

static int punct_in_letter_block(uint32_t cp)
{
    return cp == 0x37E || cp == 0x387 || cp == 0x589 || cp == 0x5BE ||
           cp == 0x5C0 || cp == 0x5C3 || cp == 0x5C6 || cp == 0x5F3 ||
           cp == 0x5F4 || cp == 0x60C || cp == 0x61B || cp == 0x61F ||
           cp == 0x6D4 || cp == 0x964 || cp == 0x965;
}

int fb_utf8_is_letter(uint32_t cp)
{
    if (cp < 0x80) return (cp | 32) >= 'a' && (cp | 32) <= 'z';
    if (cp < 0xC0) return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
    if (cp < 0x370) return cp != 0xD7 && cp != 0xF7 && cp < 0x2B0;
    if (cp < 0x2000) return !fb_utf8_is_mark(cp) && !punct_in_letter_block(cp);
    return (cp >= 0x2C00 && cp <= 0x2DFF) || (cp >= 0x3040 && cp <= 0x318F) ||
           (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0xA000 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
           (cp >= 0xFF41 && cp <= 0xFF5A) || (cp >= 0xFF66 && cp <= 0xFFDC) ||
           (cp >= 0x20000 && cp <= 0x2FFFF);
}
