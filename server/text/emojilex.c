/* emojilex.c — the emoji/emoticon valence table.
 *
 * Keys are normalised exactly as the tokenizer normalises emoji tokens
 * (fb_emoji_key), so a lookup is one probe of an interned table. Lookups
 * that miss on a ZWJ sequence retry with its first component, because a
 * family or profession variant rarely changes the feeling of its base;
 * emoticons that miss retry without a nose (":-)" -> ":)") and with a
 * repeated mouth collapsed (":)))" -> ":)"). */
#include "emojilex.h"

#include <stdlib.h>
#include <string.h>

#include "lexfile.h"
#include "strtab.h"
#include "tokenize.h"
#include "utf8.h"

struct fb_emojilex {
    fb_strtab tab;
    float *val;
    size_t cap;
};

static int on_line(const fb_lexline *line, void *ctx, fb_err *err)
{
    fb_emojilex *el = ctx;
    double v;
    int rc = fb_lexline_number(line, 1, -4.0, 4.0, &v, err);
    if (rc) return rc;
    const char *s = line->field[0];
    size_t n = strlen(s);
    char *key = malloc(n + 1);
    if (!key) return fb_err_set(err, FB_INTERNAL, "emoji: out of memory");
    size_t kn = fb_emoji_key(s, n, key);
    int created;
    int64_t id = fb_strtab_intern(&el->tab, key, kn, &created);
    free(key);
    if (id < 0) return fb_err_set(err, FB_INTERNAL, "emoji: out of memory");
    if ((size_t)id >= el->cap) {
        size_t nc = el->cap ? el->cap * 2 : 256;
        float *a = realloc(el->val, nc * sizeof *a);
        if (!a) return fb_err_set(err, FB_INTERNAL, "emoji: out of memory");
        el->val = a; el->cap = nc;
    }
    if (created) el->val[id] = (float)v;
    return FB_OK;
}

int fb_emojilex_load(fb_emojilex **out, const char *path, fb_err *err)
{
    *out = NULL;
    fb_emojilex *el = calloc(1, sizeof *el);
    if (!el) return fb_err_set(err, FB_INTERNAL, "emoji: out of memory");
    fb_strtab_init(&el->tab);
    int rc = fb_lexfile_read(path, 2, 2, on_line, el, err);
    if (rc == FB_NOT_FOUND) rc = FB_OK;
    if (rc) { fb_emojilex_free(el); return rc; }
    *out = el;
    return FB_OK;
}

void fb_emojilex_free(fb_emojilex *el)
{
    if (!el) return;
    fb_strtab_free(&el->tab);
    free(el->val);
    free(el);
}

static int find(const fb_emojilex *el, const char *k, size_t n, float *v)
{
    int64_t id = fb_strtab_find(&el->tab, k, n);
    if (id < 0) return 0;
    *v = el->val[id];
    return 1;
}

/* ":-)" -> ":)", ":)))" -> ":)"; 0 if nothing changed. */
static size_t simplify_emoticon(const char *k, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < 15; i++) {
        if (i > 0 && i + 1 < n && (k[i] == '-' || k[i] == 'o' || k[i] == '^') &&
            strchr(":;=", k[i - 1]))
            continue;
        if (o > 0 && out[o - 1] == k[i] && (k[i] == ')' || k[i] == '(')) continue;
        out[o++] = k[i];
    }
    return o == n ? 0 : o;
}

int fb_emojilex_valence(const fb_emojilex *el, const char *key, size_t n, float *v)
{
    if (find(el, key, n, v)) return 1;
    uint32_t cp;
    size_t first = n ? fb_utf8_decode(key, n, &cp) : 0;
    if (first > 1 && first < n) {           /* a multi-code-point emoji */
        for (size_t i = first; i < n;) {    /* base = up to the first ZWJ */
            size_t m = fb_utf8_decode(key + i, n - i, &cp);
            if (cp == FB_UTF8_ZWJ) return find(el, key, i, v);
            i += m;
        }
        return find(el, key, first, v);
    }
    if (first == 1 && n < 16) {
        char s[16];
        size_t sn = simplify_emoticon(key, n, s);
        if (sn && find(el, s, sn, v)) return 1;
    }
    return 0;
}

size_t fb_emojilex_count(const fb_emojilex *el) { return el->tab.count; }
