/* score.c — VADER-class sentiment rules, extended for customer feedback.
 *
 * Design: two passes over the tokens, no allocation unless the text is
 * long. Pass one resolves every token once (surface entry, stem id), so
 * phrase matching and look-ahead are array reads. Pass two walks clauses
 * left to right with a little state — negation active, pending booster —
 * and emits items; clause and sentence weights are applied afterwards to
 * contiguous item ranges, so total work stays linear in the text.
 * Pass one also sums up each token in one info word (its entry's flags,
 * its stem's bits, its kind, whether a phrase may start there), computed
 * without branches, so the walk branches once per token on whether any
 * rule can act on it; most words are passed over at once. Which words act
 * is data no branch predictor learns: measured, mispredicted branches cost
 * this code more than its instructions do.
 *
 * Where this departs from VADER, and why:
 *  - negation reaches to the clause end (VADER: 3 words), so "not the
 *    worst place" and "never once disappointed" flip, but it is spent on
 *    the first sentiment word it flips, so run-on text ("not helpful
 *    frustrating experience") keeps the later words' own sign; negated
 *    negatives flip more weakly than negated positives ("not bad" is
 *    mildly good, "not good" is plainly bad);
 *  - every contrast word in contrast.txt splits a clause and weights both
 *    sides; a sentence-initial subordinator (one whose "before" weight is
 *    the larger, like "although") weights the clause it introduces with
 *    "after" and the main clause that follows with "before";
 *  - questions damp (VADER amplifies), positives more than negatives;
 *  - a negated clause without any sentiment word in customer text is an
 *    unmet expectation ("still hasn't arrived", "nobody called back") and
 *    scores mildly negative;
 *  - adjacent opposite words resolve to the negative: "a great
 *    disappointment" (intensifier), "the worst value" (judgement);
 *  - ratings ("8/10", "2/5") score by their ratio; emoji are never negated
 *    ("not again :(" stays sad); a word that is both booster and sentiment
 *    word is a booster only before another sentiment word.
 * The constants below were checked for sensitivity on labelled data: the
 * results are flat around these values, so they are not tuned to it. */
#include "score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CAPS_INCR 0.733f
#define NEG_OF_POS -0.74f      /* "not good" */
#define NEG_OF_NEG -0.4f       /* "not bad": mildly good */
#define Q_DAMP_POS 0.45f
#define Q_DAMP_NEG 0.85f
#define EXCL_INCR 0.292f
#define EXCL_MAX 4
#define UNMET_VALUE -1.3f
#define BOOST_WINDOW 3
#define NEG_ONE_ITEM 1       /* a negation ends with the first sentiment word it flips */
#define INTENSIFIER 0.5f     /* added to the negative of an adjacent opposite pair */

typedef struct walk {
    const fb_lexicon *lx;
    const fb_emojilex *el;
    const fb_tokens *t;
    fb_scored *s;
    const uint8_t *bits;            /* fb_lexicon_stem_bits */
    const uint64_t *bg_filter;      /* fb_lexicon_bigram_filter */
    int caps_diff;                  /* text mixes case: ALL-CAPS words stand out */
    uint32_t clause, extra, clause_start;
    uint32_t sent, sent_first;
    int neg_active, neg_content, neg_has_valence;
    uint32_t neg_tok, neg_ntok, items_after_neg;
    float neg_valence;                /* the negator's own valence, if any */
    const char *neg_key;
    float boost;
    uint32_t boost_end;
    int has_boost;
} walk;

static float signf(float v) { return v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f); }

double fb_score_normalize(double x)
{
    double c = x / sqrt(x * x + 15.0);
    return c < -1.0 ? -1.0 : (c > 1.0 ? 1.0 : c);
}

static int setup(fb_scored *s, size_t n)
{
    memset(s, 0, offsetof(fb_scored, items_buf));
    if (n <= FB_SCORE_STACK_TOKENS) {
        s->items = s->items_buf; s->ids = s->ids_buf; s->surf = s->surf_buf;
        s->info = s->info_buf; s->ends = s->ends_buf; s->asp = s->asp_buf; s->runs = s->runs_buf;
        s->clause = s->clause_buf; s->pts = s->pts_buf; s->aspect = s->aspect_buf;
        return 0;
    }
    size_t per = sizeof(fb_item) + sizeof(uint32_t) * 5 + sizeof(fb_lexent *) + sizeof(fb_contrast) +
                 sizeof(fb_run) + 1;
    char *h = malloc(n * per);
    if (!h) return -1;
    s->heap = h;
    s->items = (fb_item *)h;                       h += n * sizeof(fb_item);
    s->runs = (fb_run *)h;                         h += n * sizeof(fb_run);
    s->asp = (uint32_t *)h;                        h += n * sizeof(uint32_t);
    s->pts = (fb_contrast *)h;                     h += n * sizeof(fb_contrast);
    s->surf = (const fb_lexent **)h;               h += n * sizeof(fb_lexent *);
    s->ids = (uint32_t *)h;                        h += n * sizeof(uint32_t);
    s->clause = (uint32_t *)h;                     h += n * sizeof(uint32_t);
    s->ends = (uint32_t *)h;                       h += n * sizeof(uint32_t);
    s->info = (uint32_t *)h;                       h += n * sizeof(uint32_t);
    s->aspect = (uint8_t *)h;
    return 0;
}

void fb_scored_free(fb_scored *s)
{
    free(s->heap);
    s->heap = NULL;
}

#define INFO_ASPECT (FB_LEXF_ASPECT | (FB_STEMBIT_ASPECT | FB_STEMBIT_ASPECT_HEAD) << 8)

/* The aspect a word names and whether an aspect phrase may start at it
 * (only called for words with an aspect bit in their info). */
static void word_aspect(walk *w, size_t i, unsigned info)
{
    const fb_lexent *e = w->s->surf[i];
    int8_t a = -1;
    if (info & FB_LEXF_ASPECT) a = e->aspect;
    else if (info & FB_STEMBIT_ASPECT << 8) a = fb_lexicon_stem_entry(w->lx, w->s->ids[i])->aspect;
    int head = (info & FB_STEMBIT_ASPECT_HEAD << 8) != 0;
    w->s->aspect[i] = (uint8_t)((a + 1) | (head ? FB_ASPECT_HEAD : 0));
    if (a >= 0 || head) {
        w->s->any_aspect = 1;
        w->s->asp[w->s->n_asp++] = (uint32_t)i;
    }
}

/* The aspect bytes of the words noted as candidates (a few per text). */
static void resolve_aspects(walk *w, size_t n_cand)
{
    uint32_t *cand = w->s->asp;          /* rewritten in place: kept <= read */
    w->s->n_asp = 0;
    for (size_t c = 0; c < n_cand; c++) word_aspect(w, cand[c], w->s->info[cand[c]]);
}

/* Whether a phrase may start at token i, whose successor's info is nxi:
 * the tests fb_lexicon_phrase_at starts with (a phrase head followed by a
 * phrase's second word, either may be a number for <num>), and for two
 * words the bigram filter. Most words that may start a phrase ("the",
 * "not") are followed by a word that is no phrase's second word: noted
 * once here, those cost the walk nothing. Combined tests, not a chain of
 * branches: the outcome is data. */
static inline int may_pair(const walk *w, size_t i, unsigned nxi)
{
    uint32_t id = w->s->ids[i], nx = w->s->ids[i + 1];
    int two_words = (id < FB_LEX_NUMBIT) & (nx < FB_LEX_NUMBIT);
    return ((w->s->info[i] & (FB_STEMBIT_HEAD << 8 | FB_INFO_NUMBER)) != 0) &
           ((nxi & (FB_STEMBIT_SECOND << 8 | FB_INFO_NUMBER)) != 0) &
           ((two_words ^ 1) | fb_lexicon_bigram_maybe(w->bg_filter, id, nx));
}

/* The info bits of each token kind (a table: no branch on the kind). */
static const uint32_t kind_info[8] = {
    [FB_TOK_NUMBER] = FB_INFO_NONWORD | FB_INFO_NUMBER,
    [FB_TOK_EMOTICON] = FB_INFO_NONWORD,
    [FB_TOK_EMOJI] = FB_INFO_NONWORD,
    [FB_TOK_PUNCT] = FB_INFO_NONWORD | FB_INFO_PUNCT,
};

/* Resolves the tokens and notes, per token, what kind it is in its info
 * bits, so the walk branches once per token on one value. Written to be
 * free of data-dependent branches where it can: which tokens are words,
 * punctuation or ALL-CAPS follows no pattern a predictor could learn. */
static void resolve(walk *w)
{
    const fb_tokens *t = w->t;
    uint32_t *info = w->s->info;
    fb_lexicon_resolve_tokens(w->lx, t, w->s->ids, w->s->surf, info);
    int caps_diff = 0;
    size_t n_cand = 0;
    for (size_t i = 0; i < t->n; i++) {
        const fb_token *k = &t->v[i];
        unsigned f = info[i] | kind_info[k->kind & 7];
        info[i] = f;
        if (i > 0) info[i - 1] |= (uint32_t)may_pair(w, i - 1, f) * FB_INFO_PAIR;
        caps_diff |= (k->flags & (FB_TOKF_HAS_CASED | FB_TOKF_CAPS)) == FB_TOKF_HAS_CASED;
        w->s->aspect[i] = 0;
        w->s->asp[n_cand] = (uint32_t)i;                   /* a candidate, kept if a word */
        n_cand += ((f & INFO_ASPECT) != 0) & ((f & FB_INFO_NONWORD) == 0);   /* with aspect bits */
    }
    w->caps_diff = caps_diff;
    resolve_aspects(w, n_cand);
}

/* A rating such as "8/10" or "2/5": valence from the ratio, 55% neutral. */
static int rating_valence(const char *num, float *v)
{
    char *end;
    double a = strtod(num, &end);
    if (*end != '/') return 0;
    double b = strtod(end + 1, &end);
    if (*end || (b != 10 && b != 5 && b != 100) || a < 0 || a > b) return 0;
    double r = (a / b - 0.55) * 8.0;
    *v = (float)(r > 3.5 ? 3.5 : (r < -3.5 ? -3.5 : r));
    return *v != 0.0f;
}

/* Valence of single token i; 1 if it has one. *key gets what matched. */
static inline int token_valence(const walk *w, size_t i, float *v, const char **key)
{
    const fb_token *k = &w->t->v[i];
    const char *txt = fb_token_text(w->t, k);
    const fb_lexent *surf = w->s->surf[i];
    if (k->kind == FB_TOK_WORD) {
        /* fb_lexicon_valence, spelled out: this runs for most words and
         * most have none, which the stem bits tell without a call */
        uint32_t id = w->s->ids[i];
        if (surf && (surf->flags & FB_LEXF_VALENCE)) { *v = surf->valence; *key = txt; return 1; }
        if (id >= FB_LEX_NUMBIT || !(w->bits[id] & FB_STEMBIT_VALENCE)) return 0;
        *v = fb_lexicon_stem_entry(w->lx, id)->valence;
        *key = fb_lexicon_stem_text(w->lx, id);
        return 1;
    }
    if (k->kind == FB_TOK_EMOJI || k->kind == FB_TOK_EMOTICON || k->kind == FB_TOK_NUMBER) {
        *key = txt;
        if (surf && (surf->flags & FB_LEXF_VALENCE)) { *v = surf->valence; return 1; }
        if (k->kind == FB_TOK_NUMBER) return rating_valence(txt, v);
        return w->el && fb_emojilex_valence(w->el, txt, k->norm_len, v);
    }
    return 0;
}

/* 1 if the next word-like token after i carries sentiment (for words that
 * are both boosters and sentiment words: "super helpful" vs "it was super"). */
static int next_has_valence(const walk *w, size_t i)
{
    if (i >= w->t->n || w->t->v[i].kind == FB_TOK_PUNCT) return 0;
    float v;
    const char *key;
    const fb_lexent *e = w->s->surf[i];
    return token_valence(w, i, &v, &key) || (e && (e->flags & FB_LEXF_BOOSTER));
}

static int next_is_word(const walk *w, size_t i)
{
    return i < w->t->n && w->t->v[i].kind == FB_TOK_WORD &&
           w->t->v[i].clause == w->t->v[i - 1].clause;
}

static void push_item(walk *w, uint32_t tok, uint32_t ntok, float v, const char *key,
                      int kind, int negated)
{
    fb_item *it = &w->s->items[w->s->n_items++];
    it->tok = tok;
    it->ntok = ntok;
    it->clause = w->clause;
    it->sent = w->t->v[tok].sent;
    it->base = it->value = v;
    it->key = key;
    it->kind = (uint8_t)kind;
    it->negated = (uint8_t)negated;
}

static void end_clause(walk *w)
{
    if (w->neg_active && w->items_after_neg == 0) {
        if (w->neg_has_valence)     /* "the atmosphere is lacking" */
            push_item(w, w->neg_tok, w->neg_ntok, w->neg_valence, w->neg_key, FB_ITEM_WORD, 0);
        else if (w->neg_content)
            push_item(w, w->neg_tok, w->neg_ntok, UNMET_VALUE, "(unmet expectation)", FB_ITEM_UNMET, 1);
    }
    w->neg_active = w->neg_content = 0;
    w->has_boost = 0;
    w->boost = 0;
}

static void new_clause(walk *w, uint32_t clause, uint32_t at)
{
    end_clause(w);
    w->clause = clause;
    w->clause_start = at;
}

static void mark(walk *w, size_t i, size_t span)
{
    for (size_t k = i; k < i + span && k < w->t->n; k++) w->s->clause[k] = w->clause;
}

static float apply_word_rules(walk *w, size_t i, uint32_t span, float v, int negate)
{
    int caps = 0;
    for (uint32_t m = 0; m < span; m++) caps |= w->t->v[i + m].flags & FB_TOKF_CAPS;
    if (w->caps_diff && caps) v += signf(v) * CAPS_INCR;
    if (w->has_boost && i >= w->boost_end && i - w->boost_end < BOOST_WINDOW) {
        float decay = 1.0f - 0.05f * (float)(i - w->boost_end);
        float nv = v + signf(v) * w->boost * decay;
        if (signf(nv) == signf(v)) v = nv;    /* a dampener never flips */
        else v *= 0.1f;
    }
    w->has_boost = 0;
    w->boost = 0;
    if (negate) v *= v > 0 ? NEG_OF_POS : NEG_OF_NEG;
    return v;
}

static void on_contrast(walk *w, size_t i, const fb_lexent *e)
{
    if (i > w->clause_start) {
        new_clause(w, w->clause + 1, (uint32_t)i);
        w->extra++;
    }
    fb_contrast *p = &w->s->pts[w->s->n_pts++];
    p->tok = (uint32_t)i;
    p->clause = w->clause;
    p->sent = w->t->v[i].sent;
    fb_lexicon_contrast(w->lx, e, &p->before, &p->after);
    p->initial = i == w->sent_first;
}

/* Adjacent words of opposite sign where the negative one wins:
 * "a great disappointment", "a real mess" (a positive word used as an
 * intensifier) and "the worst value", "poor quality" (a negative word
 * judging a positive noun). The pair becomes one stronger negative item. */
static float absorb_adjacent(walk *w, size_t i, float v, int kind)
{
    fb_scored *s = w->s;
    if (!s->n_items) return v;
    fb_item *prev = &s->items[s->n_items - 1];
    if (prev->tok + prev->ntok != i || prev->clause != w->clause || prev->negated)
        return v;
    if (v < 0 && prev->base > 0 && prev->kind == FB_ITEM_WORD) {
        s->n_items--;
        return v - INTENSIFIER;
    }
    if (v > 0 && prev->base < 0 && kind != FB_ITEM_EMOJI &&
        (prev->kind == FB_ITEM_WORD || prev->kind == FB_ITEM_PHRASE)) {
        prev->base -= INTENSIFIER;
        prev->value = prev->base;
        return 0.0f;
    }
    return v;
}

/* Handles the token(s) at i; returns how many were consumed. */
static uint32_t step(walk *w, size_t i)
{
    const fb_phrase *p = NULL;
    if (w->s->info[i] & FB_INFO_PAIR)                          /* see may_pair */
        p = fb_lexicon_phrase_at(w->lx, w->s->ids, w->t->n, i,
                                 FB_LEXF_VALENCE | FB_LEXF_BOOSTER | FB_LEXF_NEGATOR | FB_LEXF_CONTRAST);
    const fb_lexent *e = p ? &p->ent : w->s->surf[i];
    uint32_t span = p ? p->n_words : 1;
    int flags = e ? e->flags : 0;
    if (flags & FB_LEXF_CONTRAST) { on_contrast(w, i, e); return span; }
    if (flags & FB_LEXF_NEGATOR) {
        w->neg_active = 1; w->neg_content = 0; w->items_after_neg = 0;
        w->neg_tok = (uint32_t)i; w->neg_ntok = span;
        w->neg_has_valence = (flags & FB_LEXF_VALENCE) && e->valence != 0.0f;
        w->neg_valence = e->valence;
        w->neg_key = p ? fb_lexicon_phrase_text(w->lx, p) : fb_token_text(w->t, &w->t->v[i]);
        return span;
    }
    if ((flags & FB_LEXF_BOOSTER) && (flags & FB_LEXF_VALENCE) && !next_is_word(w, i + span))
        return span;    /* "good too." — a booster/valence word needs a word after it */
    if ((flags & FB_LEXF_BOOSTER) && (!(flags & FB_LEXF_VALENCE) || next_has_valence(w, i + span))) {
        float b = e->booster;
        if (w->caps_diff && span == 1 && (w->t->v[i].flags & FB_TOKF_CAPS)) b += signf(b) * CAPS_INCR;
        w->boost = w->has_boost && i - w->boost_end < BOOST_WINDOW ? w->boost + b : b;
        w->has_boost = 1;
        w->boost_end = (uint32_t)(i + span);
        return span;
    }
    float v;
    const char *key = NULL;
    int has = p ? ((flags & FB_LEXF_VALENCE) ? (v = p->ent.valence, key = fb_lexicon_phrase_text(w->lx, p), 1) : 0)
                : token_valence(w, i, &v, &key);
    if (!has || v == 0.0f) {
        const fb_token *k = &w->t->v[i];
        if (has || (k->kind == FB_TOK_WORD && !(flags & FB_LEXF_STOPWORD))) w->neg_content = 1;
        if (has && v == 0.0f) w->items_after_neg++;    /* a neutralising phrase */
        return span;
    }
    int kind = p ? FB_ITEM_PHRASE : (w->t->v[i].kind == FB_TOK_WORD ? FB_ITEM_WORD : FB_ITEM_EMOJI);
    int negated = w->neg_active && kind != FB_ITEM_EMOJI;    /* "not again :(" stays sad */
    v = apply_word_rules(w, i, span, v, negated);
    v = absorb_adjacent(w, i, v, kind);
    if (v != 0.0f) push_item(w, (uint32_t)i, span, v, key, kind, negated);
    w->items_after_neg++;
    if (negated && NEG_ONE_ITEM) w->neg_active = 0;
    return span;
}

/* What makes a word one the rules act on: an entry that acts (valence,
 * booster, negator, contrast) or a stem that may start a phrase here or has a
 * valence. Most words have none, and step would only note them as content
 * for an unmet expectation. */
#define INFO_ACTS (FB_LEXF_VALENCE | FB_LEXF_BOOSTER | FB_LEXF_NEGATOR | FB_LEXF_CONTRAST | \
                   FB_STEMBIT_VALENCE << 8 | FB_INFO_PAIR | FB_INFO_NONWORD)

/* Tokens first..last (no punctuation) belong to the current clause. */
static inline void note_run(walk *w, size_t first, size_t last)
{
    fb_scored *s = w->s;
    if (s->n_runs && s->runs[s->n_runs - 1].clause == w->clause)
        s->runs[s->n_runs - 1].last = (uint32_t)last;
    else
        s->runs[s->n_runs++] = (fb_run){ w->clause, (uint32_t)first, (uint32_t)last };
}

static void walk_tokens(walk *w)
{
    const fb_tokens *t = w->t;
    w->sent = UINT32_MAX;
    for (size_t i = 0; i < t->n;) {
        const fb_token *k = &t->v[i];
        uint32_t clause = k->clause + w->extra;
        if (clause != w->clause) new_clause(w, clause, (uint32_t)i);
        if (k->sent != w->sent && k->kind != FB_TOK_PUNCT) { w->sent = k->sent; w->sent_first = (uint32_t)i; }
        unsigned info = w->s->info[i];
        if (!(info & INFO_ACTS)) {          /* a plain word: step's outcome, cheaply */
            w->neg_content |= !(info & FB_LEXF_STOPWORD);
            note_run(w, i, i);
            w->s->clause[i++] = w->clause;
            continue;
        }
        if (info & FB_INFO_PUNCT) {
            if (k->flags & FB_TOKF_SENT_END) w->s->ends[w->s->n_ends++] = (uint32_t)i;
            w->s->clause[i++] = w->clause;
            continue;
        }
        uint32_t span = step(w, i);
        mark(w, i, span);
        note_run(w, i, i + span - 1);
        i += span;
    }
    end_clause(w);
    w->s->n_clauses = t->n ? (size_t)w->clause + 1 : 0;
}

/* ---- clause and sentence weights ---------------------------------------- */

static size_t first_item_at(const fb_scored *s, size_t n, uint32_t tok)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->items[mid].tok < tok) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* "Although X, Y": does the contrast word's sentence go on past its clause? */
static int has_later_clause(const fb_tokens *t, const fb_scored *s, const fb_contrast *p)
{
    for (size_t j = p->tok; j < t->n && t->v[j].sent == p->sent; j++)
        if (s->clause[j] > p->clause && t->v[j].kind != FB_TOK_PUNCT) return 1;
    return 0;
}

static void scale_tok_range(fb_scored *s, size_t n, uint32_t from, uint32_t to, float f)
{
    for (size_t j = first_item_at(s, n, from); j < n && s->items[j].tok < to; j++)
        s->items[j].value *= f;
}

static void apply_contrast(const fb_tokens *t, fb_scored *s)
{
    size_t n = s->n_items;
    for (size_t k = 0; k < s->n_pts; k++) {
        const fb_contrast *p = &s->pts[k];
        if (p->initial && p->before > p->after && has_later_clause(t, s, p)) {
            /* "Although X, Y": X is what the word introduces, Y the main clause */
            for (size_t j = first_item_at(s, n, p->tok); j < n && s->items[j].sent == p->sent; j++)
                s->items[j].value *= s->items[j].clause == p->clause ? p->after : p->before;
            continue;
        }
        uint32_t prev = k ? s->pts[k - 1].tok : 0;
        uint32_t next = k + 1 < s->n_pts ? s->pts[k + 1].tok : UINT32_MAX;
        scale_tok_range(s, n, prev, p->tok, p->before);
        scale_tok_range(s, n, p->tok, next, p->after);
    }
}

static void add_emphasis(const fb_tokens *t, fb_scored *s, size_t i, size_t lo, size_t hi)
{
    const fb_token *k = &t->v[i];
    double sum = 0;
    for (size_t j = lo; j < hi; j++) sum += s->items[j].value;
    if (sum == 0) return;
    unsigned n = k->n_excl > EXCL_MAX ? EXCL_MAX : k->n_excl;
    fb_item *it = &s->items[s->n_items++];
    memset(it, 0, sizeof *it);
    it->tok = (uint32_t)i;
    it->ntok = 1;
    it->clause = s->clause[i];
    it->sent = k->sent;
    it->base = it->value = (sum > 0 ? 1.0f : -1.0f) * EXCL_INCR * (float)n;
    it->key = "!";
    it->kind = FB_ITEM_EMPHASIS;
}

static void apply_sentences(const fb_tokens *t, fb_scored *s)
{
    size_t n = s->n_items, j = 0;
    for (size_t e = 0; e < s->n_ends; e++) {
        size_t i = s->ends[e];
        const fb_token *k = &t->v[i];
        while (j < n && s->items[j].sent < k->sent) j++;
        size_t lo = j;
        while (j < n && s->items[j].sent == k->sent) j++;
        if (k->n_quest > 0 && k->n_quest >= k->n_excl)
            for (size_t m = lo; m < j; m++)
                s->items[m].value *= s->items[m].value > 0 ? Q_DAMP_POS : Q_DAMP_NEG;
        if (k->n_excl > 0) add_emphasis(t, s, i, lo, j);
    }
}

static int item_cmp(const void *a, const void *b)
{
    const fb_item *x = a, *y = b;
    return x->tok < y->tok ? -1 : (x->tok > y->tok);
}

int fb_score_tokens(const fb_lexicon *lx, const fb_emojilex *el, const fb_tokens *t,
                    fb_scored *s)
{
    if (setup(s, t->n)) return -1;
    walk w = { .lx = lx, .el = el, .t = t, .s = s, .bits = fb_lexicon_stem_bits(lx),
               .bg_filter = fb_lexicon_bigram_filter(lx) };
    resolve(&w);
    walk_tokens(&w);
    apply_contrast(t, s);
    size_t before = s->n_items;
    apply_sentences(t, s);
    if (s->n_items != before) qsort(s->items, s->n_items, sizeof *s->items, item_cmp);
    s->sum = 0;
    for (size_t j = 0; j < s->n_items; j++) s->sum += s->items[j].value;
    return 0;
}
