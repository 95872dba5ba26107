/* tokenize.c — one left-to-right pass over UTF-8 text producing tokens.
 *
 * Design: a single scanner walks the bytes once, decoding each code point
 * once and dispatching on its class; every branch consumes at least one code
 * point, so the time is linear in the input whatever it contains (8 KiB of
 * emoji, combining marks, one giant word). Normalised forms (case-folded
 * words, emoji keys without variation selectors or skin tones) are written
 * into one growing character buffer, so there is no allocation per token;
 * both arrays start on caller storage and spill to the heap only for long
 * texts. Clause and sentence indices are assigned here because punctuation
 * is only visible here; contrast words are a lexicon matter and are split
 * by the scorer. The rarer shapes (skipped URLs, emoticons) live in
 * tokenize_skip.c; the scanner state they share in tokenize_impl.h. */
#include "tokenize_impl.h"

#include <stdlib.h>
#include <string.h>

#include "strtab.h"

int fb_tok_grow(void **p, size_t *cap, int *own, size_t need, size_t elem)
{
    size_t nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *q = *own ? realloc(*p, nc * elem) : malloc(nc * elem);
    if (!q) return -1;
    if (!*own && *cap) memcpy(q, *p, *cap * elem);
    *p = q; *cap = nc; *own = 1;
    return 0;
}

void fb_tokens_init(fb_tokens *t, fb_token *buf, size_t cap, char *normbuf,
                    size_t normcap)
{
    memset(t, 0, sizeof *t);
    t->v = buf;
    t->cap = buf ? cap : 0;
    t->norm = normbuf;
    t->norm_cap = normbuf ? normcap : 0;
}

void fb_tokens_free(fb_tokens *t)
{
    if (t->own_v) free(t->v);
    if (t->own_norm) free(t->norm);
    t->v = NULL; t->norm = NULL;
    t->n = t->cap = t->norm_len = t->norm_cap = 0;
    t->own_v = t->own_norm = 0;
}

/* ---- words and numbers --------------------------------------------------- */

/* A lower-case letter of a script with case (so "ß" counts, "中" does not). */
static int is_lower_cased(uint32_t c)
{
    if (c < 0x80) return c >= 'a' && c <= 'z';
    return (c >= 0xDF && c <= 0x24F && c != 0xF7) || (c >= 0x3AC && c <= 0x3CE) ||
           (c >= 0x430 && c <= 0x45F) || fb_utf8_is_upper(c - 1);
}

enum { A_OTHER = 0, A_LOWER = 1, A_UPPER = 2, A_DIGIT = 4 };   /* bits */

/* Class of each ASCII byte for the word loops (one load, no branch chain). */
static const unsigned char ascii_class[256] = {     /* bytes >= 0x80: A_OTHER */
    ['0'] = A_DIGIT, ['1'] = A_DIGIT, ['2'] = A_DIGIT, ['3'] = A_DIGIT, ['4'] = A_DIGIT,
    ['5'] = A_DIGIT, ['6'] = A_DIGIT, ['7'] = A_DIGIT, ['8'] = A_DIGIT, ['9'] = A_DIGIT,
    ['a'] = A_LOWER, ['b'] = A_LOWER, ['c'] = A_LOWER, ['d'] = A_LOWER, ['e'] = A_LOWER,
    ['f'] = A_LOWER, ['g'] = A_LOWER, ['h'] = A_LOWER, ['i'] = A_LOWER, ['j'] = A_LOWER,
    ['k'] = A_LOWER, ['l'] = A_LOWER, ['m'] = A_LOWER, ['n'] = A_LOWER, ['o'] = A_LOWER,
    ['p'] = A_LOWER, ['q'] = A_LOWER, ['r'] = A_LOWER, ['s'] = A_LOWER, ['t'] = A_LOWER,
    ['u'] = A_LOWER, ['v'] = A_LOWER, ['w'] = A_LOWER, ['x'] = A_LOWER, ['y'] = A_LOWER,
    ['z'] = A_LOWER,
    ['A'] = A_UPPER, ['B'] = A_UPPER, ['C'] = A_UPPER, ['D'] = A_UPPER, ['E'] = A_UPPER,
    ['F'] = A_UPPER, ['G'] = A_UPPER, ['H'] = A_UPPER, ['I'] = A_UPPER, ['J'] = A_UPPER,
    ['K'] = A_UPPER, ['L'] = A_UPPER, ['M'] = A_UPPER, ['N'] = A_UPPER, ['O'] = A_UPPER,
    ['P'] = A_UPPER, ['Q'] = A_UPPER, ['R'] = A_UPPER, ['S'] = A_UPPER, ['T'] = A_UPPER,
    ['U'] = A_UPPER, ['V'] = A_UPPER, ['W'] = A_UPPER, ['X'] = A_UPPER, ['Y'] = A_UPPER,
    ['Z'] = A_UPPER,
};

static int ascii_word_byte(unsigned char b)
{
    return ascii_class[b] != A_OTHER;
}

static int letter_at(const scan *sc, size_t j)
{
    size_t n;
    uint32_t c = peek(sc, j, &n);
    return n && fb_utf8_is_letter(c);
}

/* "XD", "xD", "XP" standing alone are emoticons, not words. */
static int is_xd(const scan *sc)
{
    const char *s = sc->s + sc->i;
    size_t left = sc->len - sc->i;
    return left >= 2 && (s[0] == 'X' || s[0] == 'x') && (s[1] == 'D' || s[1] == 'P') &&
           (left == 2 || !ascii_word_byte((unsigned char)s[2]));
}

static void word_flags(fb_token *k, unsigned upper, unsigned lower, int hashtag)
{
    if (upper + lower > 0) k->flags |= FB_TOKF_HAS_CASED;
    if (upper >= 2 && lower == 0) k->flags |= FB_TOKF_CAPS;
    if (hashtag) k->flags |= FB_TOKF_HASHTAG;
}

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* High bit of each byte of lo7 (7-bit bytes) that is >= c: no byte carries
 * into the next, as lo7 + 0x80 - c <= 0xFF. */
#define BYTES_GE(lo7, c) (((lo7) + (0x80 - (c)) * ONES) & HIGH)

/* Each ASCII letter and digit folded to lower case, 0 for other bytes. */
static const unsigned char ascii_fold[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5',
    ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
    ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g',
    ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n',
    ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u',
    ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g',
    ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n',
    ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u',
    ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z',
};

/* The common word, plain ASCII letters and digits ended by an ASCII byte
 * that is no apostrophe, folded as it is copied. Anything else (an accent, an
 * inner apostrophe) may continue the word, so it is left to emit_word,
 * which starts over: 0 then, 1 once emitted, -1 if memory ran out.
 * sc->s[sc->i] is an ASCII letter. */
static int ascii_word(scan *sc)
{
    const unsigned char *s = (const unsigned char *)sc->s;
    char *out = sc->t->norm + sc->t->norm_len;     /* room reserved by fb_tokenize */
    size_t start = sc->i, i = start, len = sc->len;
    unsigned upper = 0, lower = 0;                 /* upper: counted up to 2 per block */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* 8 bytes at a time (SWAR): most words fit one block, so the loop's
     * exit is predictable where a byte loop's is not */
    for (size_t r = 8; r == 8 && i + 8 <= len; i += r) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t lo7 = x & ~HIGH, ascii = ~x & HIGH;
        uint64_t up = BYTES_GE(lo7, 'A') & ~BYTES_GE(lo7, 'Z' + 1) & ascii;
        uint64_t lw = BYTES_GE(lo7, 'a') & ~BYTES_GE(lo7, 'z' + 1) & ascii;
        uint64_t dg = BYTES_GE(lo7, '0') & ~BYTES_GE(lo7, '9' + 1) & ascii;
        uint64_t stop = ~(up | lw | dg) & HIGH;
        r = stop ? (size_t)__builtin_ctzll(stop) / 8 : 8;
        uint64_t keep = r == 8 ? ~0ull : (1ull << (8 * r)) - 1;
        up &= keep;
        uint64_t f = (x | up >> 2) & keep;         /* 0x80 >> 2 = 'a' - 'A' */
        memcpy(out + (i - start), &f, 8);          /* bytes past r are overwritten later */
        upper += (up != 0) + ((up & (up - 1)) != 0);
        lower |= (lw & keep) != 0;
    }
#endif
    for (; i < len; i++) {                         /* the last bytes of the text */
        unsigned char b = s[i], c = ascii_class[b];
        if (!c) break;
        upper += c == A_UPPER;
        lower |= c == A_LOWER;
        out[i - start] = (char)ascii_fold[b];
    }
    if (i < len && (s[i] >= 0x80 || s[i] == '\'')) return 0;
    fb_token *k = push(sc, FB_TOK_WORD, start, sc->cpi, 0);
    if (!k) return -1;
    size_t o = i - start;
    sc->i = i;
    sc->cpi += (uint32_t)o;
    sc->last_cp = (unsigned char)out[o - 1];
    word_flags(k, upper, lower, 0);
    /* hashed once, probed in several tables. A word of < 8 bytes is hashed
     * from one load of its folded bytes, the rest masked off (the norm
     * buffer has room: fb_tokenize reserved twice the text, plus 16) */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (o < 8) {
        uint64_t v;
        memcpy(&v, out, 8);
        k->hash = fb_strtab_hash_short(v & ((1ull << (8 * o)) - 1), o);
    } else
#endif
        k->hash = fb_strtab_hash64(out, o);
    finish(sc, k, o);
    return 1;
}

/* The general word: it continues over letters, digits, marks and inner
 * apostrophes, and is folded into the norm buffer as it is scanned
 * (fb_tokenize reserved room for every normal form up front). */
static int emit_word(scan *sc, int hashtag)
{
    if (!hashtag && is_xd(sc)) return fb_tok_emit_emoticon(sc, 2);
    fb_token *k = push(sc, FB_TOK_WORD, sc->i, sc->cpi, 0);
    if (!k) return -1;
    const unsigned char *s = (const unsigned char *)sc->s;
    char *out = sc->t->norm + sc->t->norm_len;
    size_t i = sc->i, len = sc->len, o = 0;
    unsigned upper = 0, lower = 0;
    uint32_t cps = 0, prev = 0;
    while (i < len) {
        unsigned char b = s[i];
        if (b < 0x80) {
            unsigned char cls = ascii_class[b];
            if (cls == A_UPPER) { upper++; b += 32; }
            else if (cls == A_LOWER) lower++;
            else if (cls != A_DIGIT &&
                     !(b == '\'' && fb_utf8_is_letter(prev) && letter_at(sc, i + 1)))
                break;
            out[o++] = (char)b;
            i++; cps++; prev = b;
            continue;
        }
        size_t m;
        uint32_t c = peek(sc, i, &m);
        if (fb_utf8_is_letter(c) || fb_utf8_is_mark(c)) {
            if (fb_utf8_is_upper(c)) upper++;
            else if (is_lower_cased(c)) lower++;
            o += fb_utf8_encode(fb_utf8_fold(c), out + o);
        } else if (is_apostrophe(c) && fb_utf8_is_letter(prev) && letter_at(sc, i + m)) {
            out[o++] = '\'';
        } else {
            break;
        }
        i += m; cps++; prev = c;
    }
    sc->i = i;
    sc->cpi += cps;
    sc->last_cp = prev;
    word_flags(k, upper, lower, hashtag);
    k->hash = fb_strtab_hash64(out, o);
    finish(sc, k, o);
    return 0;
}

static int emit_number(scan *sc)
{
    size_t j = sc->i;
    while (j < sc->len) {
        char c = sc->s[j];
        if (c >= '0' && c <= '9') { j++; continue; }
        if ((c == '.' || c == ',' || c == ':' || c == '/') && j + 1 < sc->len &&
            sc->s[j + 1] >= '0' && sc->s[j + 1] <= '9') { j += 2; continue; }
        break;
    }
    if (j < sc->len && sc->s[j] == '%') j++;
    size_t n = j - sc->i;
    fb_token *k = push(sc, FB_TOK_NUMBER, sc->i, sc->cpi, n);
    if (!k) return -1;
    memcpy(sc->t->norm + sc->t->norm_len, sc->s + sc->i, n);
    adv(sc, n, (uint32_t)n, (unsigned char)sc->s[j - 1]);
    finish(sc, k, n);
    return 0;
}

/* ---- emoji --------------------------------------------------------------- */

size_t fb_emoji_key(const char *s, size_t len, char *out)
{
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t c;
        size_t n = fb_utf8_decode(s + i, len - i, &c);
        if (!(c == 0xFE0E || c == 0xFE0F || (c >= 0x1F3FB && c <= 0x1F3FF))) {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    return o;
}

static int is_regional(uint32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }

static int emit_emoji(scan *sc, uint32_t base, size_t n0)
{
    size_t start = sc->i;
    uint32_t cps = 1, c = base;
    size_t j = start + n0, n;
    if (is_regional(base)) {
        c = peek(sc, j, &n);
        if (is_regional(c)) { j += n; cps++; }
    } else {
        for (;;) {
            c = peek(sc, j, &n);
            if (n && fb_utf8_is_emoji_modifier(c)) { j += n; cps++; continue; }
            if (n && c == FB_UTF8_ZWJ) {
                size_t n2;
                uint32_t c2 = peek(sc, j + n, &n2);
                if (n2 && fb_utf8_is_emoji(c2)) { j += n + n2; cps += 2; continue; }
            }
            break;
        }
    }
    fb_token *k = push(sc, FB_TOK_EMOJI, start, sc->cpi, j - start);
    if (!k) return -1;
    size_t o = fb_emoji_key(sc->s + start, j - start, sc->t->norm + sc->t->norm_len);
    adv(sc, j - start, cps, c);
    finish(sc, k, o);
    return 0;
}

/* ---- punctuation --------------------------------------------------------- */

#define DASH 0xFF

/* The ASCII punctuation classes in a table (a switch is a chain of
 * branches on data); DASH needs its context. */
static const unsigned char ascii_punct[128] = {
    ['.'] = FB_TOKF_SENT_END | FB_TOKF_CLAUSE_END, ['!'] = FB_TOKF_SENT_END | FB_TOKF_CLAUSE_END,
    ['?'] = FB_TOKF_SENT_END | FB_TOKF_CLAUSE_END,
    [','] = FB_TOKF_CLAUSE_END, [';'] = FB_TOKF_CLAUSE_END, [':'] = FB_TOKF_CLAUSE_END,
    ['('] = FB_TOKF_CLAUSE_END, [')'] = FB_TOKF_CLAUSE_END, ['-'] = DASH,
};

static int punct_class(const scan *sc, uint32_t c, size_t at)
{
    if (c < 0x80 && ascii_punct[c] != DASH) return ascii_punct[c];
    switch (c) {
    case '.': case '!': case '?': case 0x2026: case 0x3002: case 0x61F:
        return FB_TOKF_SENT_END | FB_TOKF_CLAUSE_END;
    case ',': case ';': case ':': case 0xA1: case 0xBF: case 0x2013: case 0x2014:
    case '(': case ')':
        return FB_TOKF_CLAUSE_END;
    case '-': {
        /* a dash standing alone between spaces separates clauses */
        if (at != sc->i || !(sc->i == 0 || fb_utf8_is_space(sc->last_cp))) return 0;
        size_t n;
        uint32_t nx = peek(sc, at + 1, &n);
        return (n == 0 || fb_utf8_is_space(nx) || nx == '-') ? FB_TOKF_CLAUSE_END : 0;
    }
    default:
        return 0;
    }
}

static int emit_punct(scan *sc)
{
    size_t start = sc->i, j = sc->i, n;
    uint32_t cps = 0, last = 0;
    int flags = 0;
    unsigned excl = 0, quest = 0;
    for (;;) {
        uint32_t c = peek(sc, j, &n);
        if (!n) break;
        int f = (c == '-' && j != start) ? (last == '-' ? FB_TOKF_CLAUSE_END : 0)
                                         : punct_class(sc, c, j);
        if (!f) break;
        flags |= f;
        excl += c == '!';
        quest += c == '?';
        j += n; cps++; last = c;
    }
    fb_token *k = push(sc, FB_TOK_PUNCT, start, sc->cpi, j - start);
    if (!k) return -1;
    memcpy(sc->t->norm + sc->t->norm_len, sc->s + start, j - start);
    adv(sc, j - start, cps, last);
    k->flags = (uint8_t)flags;
    k->n_excl = (uint8_t)(excl > 255 ? 255 : excl);
    k->n_quest = (uint8_t)(quest > 255 ? 255 : quest);
    finish(sc, k, j - start);
    if (flags & FB_TOKF_CLAUSE_END) sc->clause++;
    if (flags & FB_TOKF_SENT_END) sc->sent++;
    return 0;
}

/* ---- the scanner --------------------------------------------------------- */

static int is_line_break(uint32_t c)
{
    return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029;
}

/* ASCII letters that start neither a URL nor an emoticon: the common case.
 * One look at the next byte rules out "http", "www." and "XD" for most
 * words; the rest go the general way (step). */
/* The next bytes that make a letter more than a word's start: "ht"
 * (http), "ww" (www.), "XD"/"XP", and "T_", "o.", … (emoticons). 0 for
 * the other letters: only a NUL byte after them takes the general way,
 * which is correct anyway. */
static const unsigned char next_a[256] = {
    ['h'] = 't', ['w'] = 'w', ['x'] = 'D', ['X'] = 'D', ['T'] = '_', ['O'] = '_', ['o'] = '_',
};
static const unsigned char next_b[256] = {
    ['h'] = 'T', ['w'] = 'W', ['x'] = 'P', ['X'] = 'P', ['T'] = '.', ['O'] = '.', ['o'] = '.',
};

/* ASCII letters that start neither a URL nor an emoticon: the common case.
 * One look at the next byte, in tables: no branch on which letter (which
 * follows no pattern); the few that may start more go the general way
 * (step). */
static inline int plain_ascii_letter(const scan *sc, unsigned char b)
{
    if (!(ascii_class[b] & (A_LOWER | A_UPPER))) return 0;
    unsigned char nb = sc->i + 1 < sc->len ? (unsigned char)sc->s[sc->i + 1] : 0xFF;  /* no UTF-8 byte */
    return (nb != next_a[b]) & (nb != next_b[b]);
}

static int step(scan *sc)
{
    unsigned char b = (unsigned char)sc->s[sc->i];
    if (b == ' ') { adv(sc, 1, 1, b); return 0; }
    if (plain_ascii_letter(sc, b)) return emit_word(sc, 0);
    size_t n;
    uint32_t c = peek(sc, sc->i, &n);
    if (c < 0x80 ? c == ' ' || (c >= 0x09 && c <= 0x0D) : fb_utf8_is_space(c)) {   /* ASCII inline */
        if (is_line_break(c) && sc->t->n && !(sc->t->v[sc->t->n - 1].flags & FB_TOKF_SENT_END)) {
            sc->sent++;
            sc->clause++;
        }
        adv(sc, n, 1, c);
        return 0;
    }
    if ((c == 'h' || c == 'w' || c == '@' || c == '&') && fb_tok_skip_url_or_mention(sc, c))
        return 0;                       /* (the only first bytes it skips from) */
    size_t emo = fb_tok_may_start_emoticon(sc, c) ? fb_tok_match_emoticon(sc) : 0;
    if (emo) return fb_tok_emit_emoticon(sc, emo);
    if (c == '#' && sc->i + 1 < sc->len) {
        size_t n2;
        uint32_t c2 = peek(sc, sc->i + 1, &n2);
        if (fb_utf8_is_letter(c2)) {
            adv(sc, 1, 1, c);
            return emit_word(sc, 1);
        }
    }
    /* (ASCII tested inline: punctuation comes this way, and no ASCII byte
     * is an emoji) */
    if (c < 0x80 ? (ascii_class[c] & (A_LOWER | A_UPPER)) != 0 : fb_utf8_is_letter(c))
        return emit_word(sc, 0);
    if (c >= '0' && c <= '9') return emit_number(sc);
    if (c >= 0x80 && fb_utf8_is_emoji(c)) return emit_emoji(sc, c, n);
    if (punct_class(sc, c, sc->i)) return emit_punct(sc);
    adv(sc, n, 1, c);       /* anything else: a separator */
    return 0;
}

int fb_tokenize(const char *text, size_t len, fb_tokens *t)
{
    t->n = t->n_words = 0;
    t->norm_len = 0;
    if (len >= (1u << 31)) return -1;
    scan sc = { .s = text, .len = len, .t = t };
    /* normal forms never outgrow the text plus one NUL per token */
    if (2 * len + 16 > t->norm_cap &&
        fb_tok_grow((void **)&t->norm, &t->norm_cap, &t->own_norm, 2 * len + 16, 1))
        return -1;
    while (sc.i < sc.len && !sc.err) {
        unsigned char b = (unsigned char)text[sc.i];
        if (b == ' ') {                     /* the most common byte: no dispatch */
            sc.i++; sc.cpi++; sc.last_cp = ' ';
            continue;
        }
        if (plain_ascii_letter(&sc, b)) {   /* the next most common: an ASCII word */
            int r = ascii_word(&sc);
            if (r < 0) sc.err = 1;
            if (r) continue;
        }
        if (step(&sc)) sc.err = 1;
    }
    if (sc.err) { t->n = t->n_words = 0; t->norm_len = 0; return -1; }
    return 0;
}
