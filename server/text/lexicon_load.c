/* lexicon_load.c — parsing lexicons/<lang>/ (*.txt) into an fb_lexicon.
 *
 * Design: every term goes through the same tokenizer the text goes
 * through, so folding, apostrophes and hyphens behave identically at load
 * and at scoring time ("top-notch" is the phrase "top notch", "Don’t" is
 * "don't"). A term of one word becomes a table entry; a term of several
 * words becomes a phrase of stem ids. Each file kind has one small line
 * handler; all share term parsing and number checks, and every rejection
 * names file:line. */
#include "lexicon_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexfile.h"
#include "tokenize.h"

#define MAX_PHRASE_WORDS 8
#define MAX_WORD_BYTES 256

typedef struct term {
    size_t n;                                   /* words */
    uint32_t ids[MAX_PHRASE_WORDS];             /* stem ids (phrases) */
    char word[MAX_WORD_BYTES];                  /* the folded word (n == 1) */
    size_t word_len;
    int kind;                                   /* token kind (n == 1) */
    int unmatchable;                            /* text could never produce it */
} term;

/* Appends the tokens of one space-separated part of a term. */
static int term_part(fb_lexicon *lx, const fb_lexline *line, const char *part,
                     size_t plen, term *t, fb_err *err)
{
    if (plen == 5 && memcmp(part, "<num>", 5) == 0) {
        if (t->n == MAX_PHRASE_WORDS) goto too_long;
        t->ids[t->n++] = FB_LEX_NUM;
        t->kind = FB_TOK_NUMBER;
        return FB_OK;
    }
    fb_token tb[16];
    char nb[512];
    fb_tokens toks;
    fb_tokens_init(&toks, tb, 16, nb, sizeof nb);
    if (fb_tokenize(part, plen, &toks)) {
        fb_tokens_free(&toks);
        return fb_err_set(err, FB_INTERNAL, "%s:%u: out of memory", line->path, line->lineno);
    }
    int rc = FB_OK;
    /* "a+" would load as "a" and fire on every "a": skip terms whose
     * characters the tokenizer drops (hyphens and slashes only separate) */
    size_t pos = 0;
    for (size_t k = 0; k <= toks.n; k++) {
        size_t end = k < toks.n ? toks.v[k].start : plen;
        for (; pos < end; pos++)
            if (part[pos] != '-' && part[pos] != '/') t->unmatchable = 1;
        if (k < toks.n) pos = toks.v[k].end;
    }
    for (size_t k = 0; k < toks.n && rc == FB_OK; k++) {
        const fb_token *tk = &toks.v[k];
        if (tk->kind == FB_TOK_PUNCT) continue;
        if (t->n == MAX_PHRASE_WORDS) { fb_tokens_free(&toks); goto too_long; }
        const char *w = fb_token_text(&toks, tk);
        if (tk->norm_len >= MAX_WORD_BYTES) {
            rc = fb_lexline_fail(line, err, "word too long");
            break;
        }
        memcpy(t->word, w, tk->norm_len + 1);
        t->word_len = tk->norm_len;
        t->kind = tk->kind;
        uint32_t id = 0;
        if (!fb_lex_stem_get(lx, w, tk->norm_len, &id))
            rc = fb_err_set(err, FB_INTERNAL, "%s:%u: out of memory", line->path, line->lineno);
        t->ids[t->n++] = id;
    }
    fb_tokens_free(&toks);
    return rc;
too_long:
    return fb_lexline_fail(line, err, "a phrase may have at most %d words", MAX_PHRASE_WORDS);
}

static int parse_term(fb_lexicon *lx, const fb_lexline *line, const char *s, term *t,
                      fb_err *err)
{
    memset(t, 0, sizeof *t);
    while (*s) {
        const char *sp = strchr(s, ' ');
        size_t plen = sp ? (size_t)(sp - s) : strlen(s);
        if (plen == 0) return fb_lexline_fail(line, err, "words must be separated by single spaces");
        int rc = term_part(lx, line, s, plen, t, err);
        if (rc) return rc;
        s += plen + (sp ? 1 : 0);
        if (sp && !*s) return fb_lexline_fail(line, err, "trailing space in term");
    }
    if (t->n == 0 && !t->unmatchable) return fb_lexline_fail(line, err, "term has no word in it");
    return FB_OK;
}

static int oom(const fb_lexline *line, fb_err *err)
{
    return fb_err_set(err, FB_INTERNAL, "%s:%u: out of memory", line->path, line->lineno);
}

/* Applies meaning m to a term: a surface entry (single word) or a phrase. */
static int apply(fb_lexicon *lx, const fb_lexline *line, const term *t, const fb_lexent *m,
                 int on_stem, fb_err *err)
{
    if (t->n > 1) {
        return fb_lex_add_phrase(lx, t->ids, t->n, line->field[m->flags & FB_LEXF_ASPECT ? 1 : 0], m)
                   ? oom(line, err) : FB_OK;
    }
    fb_lexent *e = on_stem ? &lx->stems[t->ids[0]] : fb_lex_surface_get(lx, t->word, t->word_len);
    if (!e) return oom(line, err);
    if ((m->flags & FB_LEXF_VALENCE) && !(e->flags & FB_LEXF_VALENCE)) e->valence = m->valence;
    if (m->flags & FB_LEXF_BOOSTER) e->booster = m->booster;
    if (m->flags & FB_LEXF_CONTRAST) e->contrast = m->contrast;
    if ((m->flags & FB_LEXF_ASPECT) && e->aspect < 0) e->aspect = m->aspect;
    e->flags |= m->flags;
    return FB_OK;
}

static void meaning(fb_lexent *m, int flags)
{
    memset(m, 0, sizeof *m);
    m->flags = (uint16_t)flags;
    m->aspect = -1;
    m->stem = FB_LEX_NONE;
}

/* Flags are comma-separated; the only one is `exact`. */
static int parse_flags(const fb_lexline *line, int *exact, fb_err *err)
{
    const char *f = line->field[2];
    while (*f) {
        size_t n = strcspn(f, ",");
        if (n == 5 && memcmp(f, "exact", 5) == 0) *exact = 1;
        else return fb_lexline_fail(line, err, "unknown flag '%.*s' (known: exact)", (int)n, f);
        f += n + (f[n] == ',');
    }
    return FB_OK;
}

static int on_valence(const fb_lexline *line, void *ctx, fb_err *err)
{
    fb_lexicon *lx = ctx;
    double v;
    int exact = 0;
    int rc = fb_lexline_number(line, 1, -4.0, 4.0, &v, err);
    if (rc) return rc;
    if (line->n_fields == 3 && (rc = parse_flags(line, &exact, err))) return rc;
    term t;
    if ((rc = parse_term(lx, line, line->field[0], &t, err))) return rc;
    if (t.unmatchable) return FB_OK;
    fb_lexent m;
    meaning(&m, FB_LEXF_VALENCE);
    m.valence = (float)v;
    if ((rc = apply(lx, line, &t, &m, 0, err))) return rc;   /* own surface form */
    if (t.n == 1 && !exact && t.kind == FB_TOK_WORD) rc = apply(lx, line, &t, &m, 1, err);
    return rc;
}

static int on_booster(const fb_lexline *line, void *ctx, fb_err *err)
{
    fb_lexicon *lx = ctx;
    double v;
    term t;
    int rc = fb_lexline_number(line, 1, -4.0, 4.0, &v, err);
    if (rc || (rc = parse_term(lx, line, line->field[0], &t, err))) return rc;
    if (t.unmatchable) return FB_OK;
    fb_lexent m;
    meaning(&m, FB_LEXF_BOOSTER);
    m.booster = (float)v;
    return apply(lx, line, &t, &m, 0, err);
}

static int on_flag(const fb_lexline *line, fb_lexicon *lx, int flag, fb_err *err)
{
    term t;
    int rc = parse_term(lx, line, line->field[0], &t, err);
    if (rc) return rc;
    if (t.unmatchable || (flag == FB_LEXF_STOPWORD && t.n > 1)) return FB_OK;   /* stopwords are single words */
    fb_lexent m;
    meaning(&m, flag);
    return apply(lx, line, &t, &m, 0, err);
}

static int on_negator(const fb_lexline *line, void *ctx, fb_err *err)
{
    return on_flag(line, ctx, FB_LEXF_NEGATOR, err);
}

static int on_stopword(const fb_lexline *line, void *ctx, fb_err *err)
{
    return on_flag(line, ctx, FB_LEXF_STOPWORD, err);
}

static int on_contrast(const fb_lexline *line, void *ctx, fb_err *err)
{
    fb_lexicon *lx = ctx;
    double before, after;
    term t;
    int rc = fb_lexline_number(line, 1, 0.0, 4.0, &before, err);
    if (rc || (rc = fb_lexline_number(line, 2, 0.0, 4.0, &after, err))) return rc;
    if ((rc = parse_term(lx, line, line->field[0], &t, err))) return rc;
    if (t.unmatchable) return FB_OK;
    if (lx->n_contrast == 256) return fb_lexline_fail(line, err, "more than 256 contrast entries");
    fb_lexent m;
    meaning(&m, FB_LEXF_CONTRAST);
    m.contrast = (uint8_t)lx->n_contrast;
    lx->contrast[lx->n_contrast][0] = (float)before;
    lx->contrast[lx->n_contrast][1] = (float)after;
    lx->n_contrast++;
    return apply(lx, line, &t, &m, 0, err);
}

static int on_aspect(const fb_lexline *line, void *ctx, fb_err *err)
{
    fb_lexicon *lx = ctx;
    int a = -1;
    for (int i = 0; i < FB_N_ASPECTS; i++)
        if (strcmp(line->field[0], fb_aspect_names[i]) == 0) a = i;
    if (a < 0)
        return fb_lexline_fail(line, err, "unknown aspect '%s' (known: food, service, staff, "
                               "price, cleanliness, wait, delivery, quality, ambience)",
                               line->field[0]);
    term t;
    int rc = parse_term(lx, line, line->field[1], &t, err);
    if (rc || t.unmatchable) return rc;
    fb_lexent m;
    meaning(&m, FB_LEXF_ASPECT);
    m.aspect = (int8_t)a;
    if (t.n > 1) return apply(lx, line, &t, &m, 0, err);
    return apply(lx, line, &t, &m, t.kind == FB_TOK_WORD, err);
}

typedef struct file_kind {
    const char *name;
    size_t min_f, max_f;
    fb_lexline_fn fn;
} file_kind;

static const file_kind kinds[] = {
    { "stopwords.txt", 1, 1, on_stopword },
    { "negators.txt", 1, 1, on_negator },
    { "boosters.txt", 2, 2, on_booster },
    { "contrast.txt", 3, 3, on_contrast },
    { "lexicon.txt", 2, 3, on_valence },
    { "aspects.txt", 2, 2, on_aspect },
};

int fb_lexicon_load(fb_lexicon **out, const char *dir, const char *lang, fb_err *err)
{
    *out = NULL;
    fb_lexicon *lx = calloc(1, sizeof *lx);
    if (!lx) return fb_err_set(err, FB_INTERNAL, "lexicon: out of memory");
    snprintf(lx->lang, sizeof lx->lang, "%s", lang);
    int rc = fb_stemmer_open(&lx->stemmer, lang, err);
    for (size_t k = 0; rc == FB_OK && k < sizeof kinds / sizeof kinds[0]; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, kinds[k].name);
        rc = fb_lexfile_read(path, kinds[k].min_f, kinds[k].max_f, kinds[k].fn, lx, err);
        if (rc == FB_NOT_FOUND) rc = FB_OK;     /* a missing file is an empty one */
    }
    if (rc == FB_OK && fb_lex_finish(lx)) rc = fb_err_set(err, FB_INTERNAL, "lexicon: out of memory");
    if (rc) { fb_lexicon_free(lx); return rc; }
    *out = lx;
    return FB_OK;
}
