/* sentiment_out.c — the optional parts of a result: per-item
 * contributions (explain), aspect sentiment, and content terms.
 *
 * Aspects: a clause is about every aspect it names (aspects.txt: single
 * words by stem, phrases by stem sequence). A clause that names an aspect
 * but holds no opinion lends its aspects to the next opinionated clause of
 * the same sentence that names none ("The service, however, was awful"),
 * or, if none follows, takes the last opinion before it in the sentence
 * ("We love the food, drinks and atmosphere").
 * Each aspect's compound normalises the sum of its clauses' item values.
 *
 * Terms: distinct stems of non-stopword words (deduplicated with a bit
 * filter over hashed stems, the kept terms scanned only on a hit), capped
 * so a giant text stays linear and bounded. Ingest asks for terms on every
 * text, so they are cheap: a word the scorer already resolved to a lexicon
 * stem points at that stem's string (no stemming, no copy), other stems
 * are mostly the word's first bytes (the scorer's info says how many), and
 * all terms of a text are one allocation. */
#include "sentiment_impl.h"

#include <stdlib.h>
#include <string.h>

#include "lexicon_impl.h"   /* the stem table, read inline on the terms path */
#include "strtab.h"

#define MAX_TERMS 256

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = '\0'; }
    return d;
}

static int oom(fb_err *err) { return fb_err_set(err, FB_INTERNAL, "sentiment: out of memory"); }

int fb_out_contributions(const char *text, const fb_tokens *t, const fb_scored *s,
                         fb_sentiment *out, fb_err *err)
{
    if (!s->n_items) return FB_OK;
    out->contributions = calloc(s->n_items, sizeof *out->contributions);
    if (!out->contributions) return oom(err);
    for (size_t j = 0; j < s->n_items; j++) {
        const fb_item *it = &s->items[j];
        const fb_token *a = &t->v[it->tok], *b = &t->v[it->tok + it->ntok - 1];
        fb_contribution *c = &out->contributions[out->n_contributions++];
        c->start = a->cp_start;
        c->end = b->cp_end;
        c->value = it->value;
        c->token = dup_n(text + a->start, b->end - a->start);
        c->stem = dup_n(it->key ? it->key : "", it->key ? strlen(it->key) : 0);
        if (!c->token || !c->stem) return oom(err);
    }
    return FB_OK;
}

int fb_token_aspect(const fb_lexicon *lx, const fb_tokens *t, const fb_scored *s,
                    size_t i, uint32_t *span)
{
    *span = 1;
    uint8_t a = s->aspect[i];
    /* the scorer's cheap tests first: a next word that can be a phrase's
     * second word, and a bigram the phrase filter does not rule out */
    uint32_t nx = i + 1 < t->n ? s->ids[i + 1] : FB_LEX_NONE;
    if ((a & FB_ASPECT_HEAD) &&
        !((i + 1 < t->n ? s->info[i + 1] : 0) & (FB_STEMBIT_SECOND << 8 | FB_INFO_NUMBER)))
        a &= (uint8_t)~FB_ASPECT_HEAD;
    if ((a & FB_ASPECT_HEAD) && s->ids[i] < FB_LEX_NUMBIT && nx < FB_LEX_NUMBIT &&
        !fb_lexicon_bigram_maybe(fb_lexicon_bigram_filter(lx), s->ids[i], nx))
        a &= (uint8_t)~FB_ASPECT_HEAD;
    if (a & FB_ASPECT_HEAD) {
        const fb_phrase *p = fb_lexicon_phrase_at(lx, s->ids, t->n, i, FB_LEXF_ASPECT);
        if (p) { *span = p->n_words; return p->ent.aspect; }
    }
    return FB_ASPECT_ID(a);
}

typedef struct clause_info {
    uint32_t mask;            /* aspects named */
    double sum;               /* item values */
    int opinion;
    uint32_t cp_start, cp_end, sent;
} clause_info;

/* Aspect totals, and every credited clause span in credit order (one log
 * for all aspects): the result is then built as one allocation, not a
 * growing span array per aspect. */
typedef struct span_rec { uint32_t aspect, start, end; } span_rec;

typedef struct aspect_acc {
    double sum[FB_N_ASPECTS];
    size_t n[FB_N_ASPECTS];
    span_rec *log;
    size_t n_log, cap;
    span_rec buf[64];          /* on the stack: enough for ordinary texts */
} aspect_acc;

static int acc_add(aspect_acc *acc, int a, const clause_info *c)
{
    if (acc->n_log == acc->cap) {
        size_t nc = acc->cap * 2;
        span_rec *l = malloc(nc * sizeof *l);
        if (!l) return -1;
        memcpy(l, acc->log, acc->n_log * sizeof *l);
        if (acc->log != acc->buf) free(acc->log);
        acc->log = l; acc->cap = nc;
    }
    acc->log[acc->n_log++] = (span_rec){ (uint32_t)a, c->cp_start, c->cp_end };
    acc->n[a]++;
    acc->sum[a] += c->sum;
    return 0;
}

/* State across clauses: aspects named without an opinion wait ("carry")
 * for the next opinion in their sentence ("The service, however, was
 * awful"); if none comes, they take the sentence's last opinion before
 * them ("We love the food, drinks and atmosphere"). */
typedef struct aspect_walk {
    clause_info carry;        /* pending aspects (mask 0: none), spans merged */
    clause_info last;         /* the last opinionated clause */
    int has_last;
} aspect_walk;

/* (over the set bits only: a clause names one aspect or two, and which
 * ones is data a per-aspect branch would mispredict) */
static int credit(aspect_acc *acc, uint32_t mask, const clause_info *c)
{
    for (uint32_t m = mask; m; m &= m - 1)
        if (acc_add(acc, __builtin_ctz(m), c)) return -1;
    return 0;
}

/* Pending aspects at a sentence end take the last opinion before them. */
static int settle_carry(aspect_walk *w, aspect_acc *acc)
{
    int rc = 0;
    if (w->carry.mask && w->has_last && w->last.sent == w->carry.sent) {
        w->carry.sum = w->last.sum;
        rc = credit(acc, w->carry.mask, &w->carry);
    }
    w->carry.mask = 0;
    return rc;
}

static int close_clause(clause_info *c, aspect_walk *w, aspect_acc *acc)
{
    if (w->carry.mask && w->carry.sent != c->sent && settle_carry(w, acc)) return -1;
    if (c->mask && !c->opinion) {
        if (!w->carry.mask) w->carry = *c;
        else { w->carry.mask |= c->mask; w->carry.cp_end = c->cp_end; }
        return 0;
    }
    if (!c->opinion) return 0;
    uint32_t mask = c->mask;
    if (!mask && w->carry.mask) mask = w->carry.mask;
    w->carry.mask = 0;
    w->last = *c;
    w->has_last = 1;
    return credit(acc, mask, c);
}

/* The aspects (in aspect-id order) and all their spans: one block, freed
 * by fb_sentiment_free with one free. */
static int emit_aspects(aspect_acc *acc, fb_sentiment *out)
{
    size_t n = 0;
    uint32_t named = 0;                 /* the aspects with spans */
    for (int a = 0; a < FB_N_ASPECTS; a++) named |= (uint32_t)(acc->n[a] > 0) << a;
    n = (size_t)__builtin_popcount(named);
    if (!n) return 0;
    fb_aspect_score *as = malloc(n * sizeof *as + acc->n_log * sizeof(uint32_t[2]));
    if (!as) return -1;
    uint32_t (*spans)[2] = (uint32_t (*)[2])(as + n);
    uint32_t (*at[FB_N_ASPECTS])[2];
    size_t k = 0;
    for (uint32_t m = named; m; m &= m - 1) {
        int a = __builtin_ctz(m);
        as[k].aspect = fb_aspect_names[a];
        as[k].compound = fb_score_normalize(acc->sum[a]);
        as[k].label = fb_label_for(as[k].compound);
        as[k].n_spans = acc->n[a];
        as[k].spans = at[a] = spans;
        spans += acc->n[a];
        k++;
    }
    for (size_t i = 0; i < acc->n_log; i++) {
        const span_rec *r = &acc->log[i];
        (*at[r->aspect])[0] = r->start;
        (*at[r->aspect])[1] = r->end;
        at[r->aspect]++;
    }
    out->aspects = as;
    out->n_aspects = n;
    return 0;
}

/* Folds the clause runs the walk recorded into clauses, visiting tokens
 * as a left-to-right pass would: every non-punctuation token, except that
 * an aspect phrase's later words are skipped (its span still extends the
 * clause). Only the runs, the aspect tokens and the items are touched, not
 * every token: items go to the clause of the last token visited at or
 * after them, aspects to the clause that visits their first word. */
int fb_out_aspects(const fb_lexicon *lx, const fb_tokens *t, const fb_scored *s,
                   fb_sentiment *out, fb_err *err)
{
    /* no aspect named, or no opinion anywhere for one to take: nothing to report */
    if (!s->any_aspect || !s->n_items) return FB_OK;
    aspect_acc accs;
    aspect_acc *acc = &accs;
    memset(acc->sum, 0, sizeof acc->sum);
    memset(acc->n, 0, sizeof acc->n);
    acc->log = acc->buf;
    acc->n_log = 0;
    acc->cap = sizeof acc->buf / sizeof *acc->buf;
    aspect_walk w = { 0 };
    size_t j = 0, q = 0;           /* next item, next aspect token */
    uint32_t pos = 0;              /* next token to visit (after an aspect phrase: its end) */
    int rc = 0;
    for (size_t r = 0; r < s->n_runs && rc == 0; r++) {
        const fb_run *run = &s->runs[r];
        if (pos < run->first) pos = run->first;
        if (pos > run->last) continue;            /* all inside an earlier aspect phrase */
        clause_info c = { .cp_start = t->v[pos].cp_start, .sent = t->v[pos].sent };
        uint32_t visited = pos;
        for (; q < s->n_asp && s->asp[q] <= run->last; q++) {
            uint32_t i = s->asp[q], span = 1;
            if (i < pos) continue;
            int a = fb_token_aspect(lx, t, s, i, &span);
            if (a >= 0) c.mask |= 1u << a;
            visited = i;
            c.cp_end = t->v[i + span - 1].cp_end;
            pos = i + span;
        }
        if (pos <= run->last) {                   /* plain tokens up to the run's end */
            visited = run->last;
            c.cp_end = t->v[run->last].cp_end;
            pos = run->last + 1;
        }
        for (; j < s->n_items && s->items[j].tok <= visited; j++) {
            if (s->items[j].kind == FB_ITEM_EMPHASIS) continue;
            c.sum += s->items[j].value;
            c.opinion = 1;
        }
        rc = close_clause(&c, &w, acc);
    }
    if (rc == 0) rc = settle_carry(&w, acc);
    if (rc == 0) rc = emit_aspects(acc, out);
    if (acc->log != acc->buf) free(acc->log);
    return rc ? oom(err) : FB_OK;
}

/* ---- terms --------------------------------------------------------------- */

/* A word that is no stopword, negator, booster or contrast word (from
 * the info bits the scorer keeps per token: a dense array, so gathering
 * reads 4 bytes a token); content words must also have two letters or
 * more, checked when they are handled. */
static int is_content_info(const fb_scored *s, size_t i)
{
    return (s->info[i] & (FB_INFO_NONWORD | FB_LEXF_STOPWORD | FB_LEXF_NEGATOR |
                          FB_LEXF_BOOSTER | FB_LEXF_CONTRAST)) == 0;
}

/* The aspect a word names, or -1: the scorer's aspect byte (its surface
 * entry's aspect, else its stem's), already in a dense per-token array. */
static int term_aspect(const fb_scored *s, size_t i)
{
    return FB_ASPECT_ID(s->aspect[i]);
}

/* One candidate term while collecting: its stem either lives in the
 * lexicon (a known stem id: no stemming needed) or in the scratch buffer. */
typedef struct term_cand {
    const char *lex_stem;      /* a stem outside the lexicon that is the word's first n
                                  bytes; NULL: a lexicon stem (id) or scratch + off */
    uint32_t off, n, tok;      /* n: stem bytes (0 for a lexicon stem: not needed) */
    uint32_t id;               /* its lexicon stem id, or FB_LEX_NONE */
    int aspect;
} term_cand;


typedef struct term_scratch {
    char buf[4096];            /* stems of words the lexicon does not know */
    char *heap;                /* used instead of buf once it is full */
    size_t len, cap;
} term_scratch;

/* Room for n more bytes in the scratch; NULL if memory ran out. */
static char *scratch_room(term_scratch *sc, size_t n)
{
    char *base = sc->heap ? sc->heap : sc->buf;
    size_t cap = sc->heap ? sc->cap : sizeof sc->buf;
    if (sc->len + n <= cap) return base + sc->len;
    size_t nc = cap * 2;
    while (nc < sc->len + n) nc *= 2;
    char *h = malloc(nc);
    if (!h) return NULL;
    memcpy(h, base, sc->len);
    free(sc->heap);
    sc->heap = h;
    sc->cap = nc;
    return h + sc->len;
}

static const char *cand_stem(const term_scratch *sc, const term_cand *c)
{
    return c->lex_stem ? c->lex_stem : (sc->heap ? sc->heap : sc->buf) + c->off;
}

/* Same stem? A lexicon stem is equal only to itself (no other word's stem
 * spells it, or that word would have resolved to it; lexicon.c's word tags
 * hold stem ids below 2^22, far above any lexicon's size): ids decide, and
 * only two stems from outside the lexicon need their letters compared. */
static int same_stem(const term_scratch *sc, const term_cand *a, const term_cand *b)
{
    if (a->id != FB_LEX_NONE || b->id != FB_LEX_NONE) return a->id == b->id;
    return a->n == b->n && memcmp(cand_stem(sc, a), cand_stem(sc, b), a->n) == 0;
}

/* Up to this many bytes of normal forms, a text's whole normal-form buffer
 * is copied into the terms block at once and the surfaces point into it
 * (one copy instead of one per term); longer texts copy each surface. */
#define NORM_WHOLE 1024

/* Hands the collected terms out as ONE allocation (array, then strings),
 * freed by fb_sentiment_free with one free: a text's terms cost one malloc
 * instead of two per term plus a zeroed array of MAX_TERMS. A lexicon
 * stem is not copied: the term points at the lexicon's own string (it
 * lives as long as the engine). Surfaces come from one copy of the text's
 * normal forms (each NUL-terminated there) when that is short.
 * stem_bytes: what the stems outside the lexicon need, NULs included. */
static int emit_terms(const fb_lexicon *lx, const fb_tokens *t, const term_scratch *sc,
                      const term_cand *cand, size_t n, size_t stem_bytes, fb_sentiment *out)
{
    if (!n) return 0;
    int whole = t->norm_len <= NORM_WHOLE;
    size_t bytes = n * sizeof(fb_term) + (whole ? t->norm_len : 0) + stem_bytes;
    if (!whole)
        for (size_t i = 0; i < n; i++) bytes += t->v[cand[i].tok].norm_len + 1;
    fb_term *tm = malloc(bytes);
    if (!tm) return -1;
    char *str = (char *)(tm + n), *norm = str;
    if (whole) {
        memcpy(norm, t->norm, t->norm_len);
        str += t->norm_len;
    }
    for (size_t i = 0; i < n; i++) {
        const fb_token *k = &t->v[cand[i].tok];
        if (cand[i].id != FB_LEX_NONE) {
            tm[i].stem = (char *)fb_strtab_key(&lx->stem_tab, cand[i].id, NULL);
        } else {
            tm[i].stem = str;
            memcpy(str, cand_stem(sc, &cand[i]), cand[i].n);
            str[cand[i].n] = '\0';
            str += cand[i].n + 1;
        }
        if (whole) {
            tm[i].surface = norm + k->norm;
        } else {
            tm[i].surface = str;
            memcpy(str, fb_token_text(t, k), k->norm_len + 1);   /* with its NUL */
            str += k->norm_len + 1;
        }
        /* the name, or NULL, selected without a branch (aspects are data) */
        int a = cand[i].aspect;
        uintptr_t named = (uintptr_t)0 - (uintptr_t)(a >= 0);
        tm[i].aspect = (const char *)((uintptr_t)fb_aspect_names[a + (a < 0)] & named);
    }
    out->terms = tm;
    out->n_terms = n;
    return 0;
}

/* Dedup hash of a stem outside the lexicon. Any function will do as long
 * as equal stems hash equal, so the choice depends on the length alone:
 * up to 16 bytes (nearly all), two masked 8-byte loads and no branch on
 * the length (which is data); longer, fb_strtab_hash64. p[0..16) must be
 * readable (the caller copies the stem out if it cannot promise that). */
#define SHORT_STEM 16
static inline uint64_t stem_hash_short(const char *p, size_t n)
{
    uint64_t w0, w1;
    memcpy(&w0, p, 8);
    memcpy(&w1, p + 8, 8);
    size_t n0 = n < 8 ? n : 8, n1 = n - n0;
    /* the low n0 / n1 bytes (little-endian loads); shifts stay below 64 */
    uint64_t m0 = ((1ull << (4 * n0)) << (4 * n0)) - 1, m1 = ((1ull << (4 * n1)) << (4 * n1)) - 1;
    uint64_t h = (w0 & m0) * 0xc4ceb9fe1a85ec53ull ^ (w1 & m1) * 0x9E3779B97F4A7C15ull ^
                 n * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h;
}

/* The hash of the n-byte stem at p; readable: p[0..SHORT_STEM) may be read. */
static uint64_t stem_hash(const char *p, size_t n, int readable)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n <= SHORT_STEM) {
        if (__builtin_expect(readable, 1)) return stem_hash_short(p, n);
        char pad[SHORT_STEM] = { 0 };
        memcpy(pad, p, n);
        return stem_hash_short(pad, n);
    }
#else
    (void)readable;
#endif
    return fb_strtab_hash64(p, n);
}

int fb_out_terms(const fb_lexicon *lx, const fb_tokens *t, const fb_scored *s,
                 fb_sentiment *out, fb_err *err)
{
    /* Dedup: a bit per hashed stem says "maybe seen"; only then are the
     * kept terms' keys scanned (a repeat, or a rare false hit). Ordinary
     * texts (up to 32 words) zero 32 bytes, no memset, and take no
     * data-dependent probe loop; 8+ bits per word (a term per word at
     * most) keep false hits rare for long texts too. */
    enum { FILTER_WORDS = 64 };    /* 4096 bits */
    uint64_t filter[FILTER_WORDS];
    size_t fwords = 4;
    while (fwords * 64 < 8 * t->n_words && fwords < FILTER_WORDS) fwords *= 2;
    filter[0] = filter[1] = filter[2] = filter[3] = 0;    /* plain stores, not rep stos */
    if (fwords > 4) memset(filter + 4, 0, (fwords - 4) * sizeof *filter);
    size_t fmask = fwords * 64 - 1;
    uint32_t keys[MAX_TERMS];      /* low hash bits of each kept term */
    term_cand cand[MAX_TERMS];
    term_scratch sc;
    sc.heap = NULL;
    sc.len = sc.cap = 0;
    size_t n_cand = 0, stem_bytes = 0;
    int rc = 0;
    /* Content words are gathered 64 tokens at a time without a branch per
     * token (which tokens are content words is data), then handled. */
    uint32_t idx[64];
    size_t next = 0, m = 0, q = 0;
    while (n_cand < MAX_TERMS) {
        if (q == m) {                              /* gather the next 64 tokens' */
            if (next >= t->n) break;
            size_t end = next + 64 < t->n ? next + 64 : t->n;
            for (m = q = 0; next < end; next++) {
                idx[m] = (uint32_t)next;
                m += (size_t)is_content_info(s, next);
            }
            continue;
        }
        size_t i = idx[q++];
        const fb_token *k = &t->v[i];
        if (k->cp_end - k->cp_start < 2) continue;    /* a one-letter word: rare */
        term_cand c = { .tok = (uint32_t)i, .id = FB_LEX_NONE };
        uint32_t id = s->ids[i];
        size_t prefix = FB_LEX_INFO_STEMLEN(s->info[i]);    /* 0 for a lexicon stem */
        const char *txt = fb_token_text(t, k);
        uint64_t h;
        if (id < FB_LEX_NUMBIT || prefix) {
            /* A lexicon stem (the scorer resolved the word to it: that
             * string is exactly what the stemmer returns, see resolve; it
             * is fetched only if kept), or a stem known to be the word's
             * first bytes. Which one is data: selected, not branched. */
            int lex = id < FB_LEX_NUMBIT;
            uint64_t hp = stem_hash(txt, prefix, k->norm + SHORT_STEM <= t->norm_cap);
            c.id = lex ? id : FB_LEX_NONE;
            c.lex_stem = lex ? NULL : txt;
            c.n = (uint32_t)prefix;
            h = lex ? id * 0x9E3779B97F4A7C15ull : hp;
        } else {
            char *room = scratch_room(&sc, 4 * FB_STEM_MAX_WORD + 8);   /* >= SHORT_STEM */
            if (!room) { rc = -1; break; }
            c.off = (uint32_t)sc.len;
            c.n = (uint32_t)fb_lexicon_stem_h(lx, txt, k->norm_len, k->hash,
                                              room, 4 * FB_STEM_MAX_WORD + 8);
            h = stem_hash(room, c.n, 1);
        }
        size_t b = (size_t)(h >> 32) & fmask;
        uint64_t bit = 1ull << (b & 63);
        if (filter[b >> 6] & bit) {                /* maybe seen */
            size_t j = 0;
            while (j < n_cand && !(keys[j] == (uint32_t)h && same_stem(&sc, &cand[j], &c))) j++;
            if (j < n_cand) continue;              /* a repeat */
        }
        filter[b >> 6] |= bit;
        if (!c.lex_stem && c.id == FB_LEX_NONE) sc.len += c.n + 1;     /* keep it */
        c.aspect = term_aspect(s, i);
        /* its string's offset is read when the terms are handed out:
         * start that load now, so the misses overlap */
        if (c.id != FB_LEX_NONE) __builtin_prefetch(&lx->stem_tab.key_off[c.id]);
        stem_bytes += (size_t)(c.id == FB_LEX_NONE) * (c.n + 1);
        keys[n_cand] = (uint32_t)h;
        cand[n_cand++] = c;
    }
    if (rc == 0) rc = emit_terms(lx, t, &sc, cand, n_cand, stem_bytes, out);
    free(sc.heap);
    return rc ? oom(err) : FB_OK;
}
