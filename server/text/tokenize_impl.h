/* tokenize_impl.h — the scanner state and token emitters shared by
 * tokenize.c (words, numbers, emoji, punctuation, the scan loop) and
 * tokenize_skip.c (URLs, @mentions, HTML entities, emoticons). Internal to
 * the tokenizer. */
#ifndef FB_TOKENIZE_IMPL_H
#define FB_TOKENIZE_IMPL_H

#include <string.h>

#include "tokenize.h"
#include "utf8.h"

typedef struct scan {
    const char *s;
    size_t len, i;
    uint32_t cpi;          /* code point index of s[i] */
    uint32_t sent, clause;
    uint32_t last_cp;      /* previous code point (0 at start) */
    fb_tokens *t;
    int err;
} scan;

/* Grows *p (cap elements of elem bytes, owned if *own) to hold need;
 * moves caller storage to the heap. 0, or -1 if memory ran out. */
int fb_tok_grow(void **p, size_t *cap, int *own, size_t need, size_t elem);

static inline uint32_t peek(const scan *sc, size_t at, size_t *n)
{
    uint32_t cp = 0;
    if (at >= sc->len) { *n = 0; return 0; }
    unsigned char b = (unsigned char)sc->s[at];
    if (b < 0x80) { *n = 1; return b; }            /* ASCII: nothing to decode */
    *n = fb_utf8_decode(sc->s + at, sc->len - at, &cp);
    return cp;
}

/* Advances over n bytes that hold exactly k code points. */
static inline void adv(scan *sc, size_t n, uint32_t k, uint32_t last)
{
    sc->i += n;
    sc->cpi += k;
    sc->last_cp = last;
}

/* always_inline: called once per token from several emitters, so GCC
 * keeps it out of line; inlined, the common path is a few stores. */
static inline __attribute__((always_inline)) fb_token *push(scan *sc, uint8_t kind, size_t start,
                                                           uint32_t cp_start, size_t normroom)
{
    fb_tokens *t = sc->t;
    if (t->n == t->cap &&
        fb_tok_grow((void **)&t->v, &t->cap, &t->own_v, t->n + 1, sizeof(fb_token))) {
        sc->err = 1;
        return NULL;
    }
    if (t->norm_len + normroom + 1 > t->norm_cap &&
        fb_tok_grow((void **)&t->norm, &t->norm_cap, &t->own_norm,
             t->norm_len + normroom + 1, 1)) {
        sc->err = 1;
        return NULL;
    }
    fb_token *k = &t->v[t->n++];
    *k = (fb_token){ .kind = kind, .start = (uint32_t)start, .cp_start = cp_start,
                     .norm = (uint32_t)t->norm_len, .sent = sc->sent, .clause = sc->clause };
    return k;
}

static inline void finish(scan *sc, fb_token *k, size_t normlen)
{
    fb_tokens *t = sc->t;
    t->n_words += k->kind == FB_TOK_WORD;
    k->end = (uint32_t)sc->i;
    k->cp_end = sc->cpi;
    k->norm_len = (uint32_t)normlen;
    t->norm[t->norm_len + normlen] = '\0';
    t->norm_len += normlen + 1;
}

static inline int is_ascii_alnum(uint32_t c)
{
    return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

static inline int is_apostrophe(uint32_t c)
{
    return c == '\'' || c == 0x2019 || c == 0x2BC;
}

/* Skips a URL, @mention or HTML entity at sc->i (c is the code point
 * there): 1 if it did. */
int fb_tok_skip_url_or_mention(scan *sc, uint32_t c);

/* 1 if c at sc->i may start an emoticon (a cheap first test, inline: it
 * runs for every punctuation mark). */
static inline int fb_tok_may_start_emoticon(const scan *sc, uint32_t c)
{
    switch (c) {
    case ':': case ';': case '=': case '<': case '>': case '^': case '-':
        return 1;
    case 'T': case 'O': case 'o':       /* T_T o_O O_o o.O: rare, check cheaply */
        return sc->i + 1 < sc->len && (sc->s[sc->i + 1] == '_' || sc->s[sc->i + 1] == '.');
    default:
        return 0;
    }
}

/* Length in bytes of an emoticon at sc->i, or 0. */
size_t fb_tok_match_emoticon(const scan *sc);

/* Emits the n bytes at sc->i as an emoticon; -1 if memory ran out. */
int fb_tok_emit_emoticon(scan *sc, size_t n);

#endif
