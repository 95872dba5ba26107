/* tokenize_skip.c — the tokenizer's rarer shapes: spans it skips (URLs,
 * @mentions, HTML entities) and ASCII emoticons.
 *
 * Kept apart from the word loop in tokenize.c because none of it is on the
 * common path: each is tried only after a cheap first-byte test fails to
 * rule it out ("h"/"w" followed by "t"/"w", "@", "&", ":", ";", "<" …). */
#include "tokenize_impl.h"

/* ---- skipped spans: URLs, @mentions, HTML entities ----------------------- */

static int starts_with(const scan *sc, const char *lit)
{
    size_t n = strlen(lit);
    if (sc->len - sc->i < n) return 0;
    for (size_t k = 0; k < n; k++)
        if ((sc->s[sc->i + k] | 32) != lit[k]) return 0;
    return 1;
}

/* Skips up to the next space; returns 1 if it skipped. */
static void skip_to_space(scan *sc)
{
    while (sc->i < sc->len) {
        size_t n;
        uint32_t c = peek(sc, sc->i, &n);
        if (fb_utf8_is_space(c)) break;
        adv(sc, n, 1, c);
    }
}

int fb_tok_skip_url_or_mention(scan *sc, uint32_t c)
{
    if ((c == 'h' && (starts_with(sc, "http://") || starts_with(sc, "https://"))) ||
        (c == 'w' && starts_with(sc, "www.") && !is_ascii_alnum(sc->last_cp))) {
        skip_to_space(sc);
        return 1;
    }
    if (c == '@' && !is_ascii_alnum(sc->last_cp) && sc->i + 1 < sc->len &&
        (is_ascii_alnum((unsigned char)sc->s[sc->i + 1]) || sc->s[sc->i + 1] == '_')) {
        adv(sc, 1, 1, c);
        while (sc->i < sc->len) {
            unsigned char b = (unsigned char)sc->s[sc->i];
            if (!is_ascii_alnum(b) && b != '_') break;
            adv(sc, 1, 1, b);
        }
        return 1;
    }
    if (c == '&') {     /* &amp; &#39; &quot; … */
        size_t k = sc->i + 1, end = sc->i + 10 < sc->len ? sc->i + 10 : sc->len;
        if (k < end && sc->s[k] == '#') k++;
        size_t body = k;
        while (k < end && is_ascii_alnum((unsigned char)sc->s[k])) k++;
        if (k < end && sc->s[k] == ';' && k - body >= 2) {
            adv(sc, k + 1 - sc->i, (uint32_t)(k + 1 - sc->i), ';');
            return 1;
        }
    }
    return 0;
}

/* ---- emoticons ----------------------------------------------------------- */

static const char *const fixed_emoticons[] = {
    "</3", "<3", "^_^", "^.^", "^^", "-_-", "T_T", ">_<", "o_O", "O_o", "o.O",
    ":'(", ":')", ":'-(", NULL,
};

static int mouth_char(char c)
{
    return c && strchr(")(]D[pP/\\|*oO3$@}{", c) != NULL;
}

/* Length in bytes of an emoticon at s[i], or 0. */
size_t fb_tok_match_emoticon(const scan *sc)
{
    const char *s = sc->s + sc->i;
    size_t left = sc->len - sc->i;
    for (int f = 0; fixed_emoticons[f]; f++) {
        if (fixed_emoticons[f][0] != s[0]) continue;      /* most: no call below */
        size_t n = strlen(fixed_emoticons[f]);
        if (n <= left && memcmp(s, fixed_emoticons[f], n) == 0 &&
            (n == left || !is_ascii_alnum((unsigned char)s[n])) &&
            !is_ascii_alnum(sc->last_cp)) {
            while (n < left && (s[n] == '3' && s[0] == '<')) n++;
            return n;
        }
    }
    size_t k = 0;
    if (k < left && s[k] == '>') k++;
    if (k >= left || !strchr(":;=", s[k])) return 0;
    k++;
    if (k < left && strchr("-o^", s[k]) && k + 1 < left && mouth_char(s[k + 1])) k++;
    if (k >= left || !mouth_char(s[k])) return 0;
    char mouth = s[k++];
    while (k < left && s[k] == mouth && (mouth == ')' || mouth == '(')) k++;
    int paren = mouth == ')' || mouth == '(';
    if (k < left && is_ascii_alnum((unsigned char)s[k])) return 0;
    if (mouth == '/' && k < left && s[k] == '/') return 0;
    if (!paren && (is_ascii_alnum(sc->last_cp) || sc->last_cp == ':')) return 0;
    return k;
}

int fb_tok_emit_emoticon(scan *sc, size_t n)
{
    fb_token *k = push(sc, FB_TOK_EMOTICON, sc->i, sc->cpi, n);
    if (!k) return -1;
    memcpy(sc->t->norm + sc->t->norm_len, sc->s + sc->i, n);
    adv(sc, n, (uint32_t)n, (unsigned char)sc->s[sc->i + n - 1]);
    finish(sc, k, n);
    return 0;
}
