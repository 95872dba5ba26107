/* sentiment.c — fb_sentiment_analyze: tokenize, pick a language, score,
 * and build the result.
 *
 * Design: the hot path (tokenize + score + compound/label) runs on stack
 * buffers and allocates nothing for ordinary texts; explain, aspects and
 * terms allocate only what they return. The rules themselves live in
 * score.c, the optional outputs in sentiment_out.c. Label bands: |c| <
 * 0.05 NEUTRAL, beyond 0.6 VERY_*, and MIXED when one clause is strongly
 * positive and another strongly negative (judged before contrast weights,
 * so "great food but rude staff" is MIXED while its compound leans to the
 * clause after "but"). */
#include "sentiment_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "langid.h"
#include "textengine.h"

#define MIXED_CLAUSE 1.5    /* a clause this strong (raw valence) counts as "strong" */
#define TOKENS_ON_STACK 128
#define NORM_ON_STACK 2048

fb_label fb_label_for(double c)
{
    if (c >= 0.6) return FB_LABEL_VERY_POSITIVE;
    if (c >= 0.05) return FB_LABEL_POSITIVE;
    if (c <= -0.6) return FB_LABEL_VERY_NEGATIVE;
    if (c <= -0.05) return FB_LABEL_NEGATIVE;
    return FB_LABEL_NEUTRAL;
}

static int is_mixed(const fb_scored *s)
{
    double best = 0, worst = 0, cur = 0;
    for (size_t j = 0; j < s->n_items; j++) {
        if (j > 0 && s->items[j].clause != s->items[j - 1].clause) cur = 0;
        if (s->items[j].kind == FB_ITEM_EMPHASIS) continue;
        cur += s->items[j].base;
        if (cur > best) best = cur;
        if (cur < worst) worst = cur;
    }
    return best >= MIXED_CLAUSE && worst <= -MIXED_CLAUSE;
}

static void shares(const fb_tokens *t, const fb_scored *s, fb_sentiment *out)
{
    double pos = 0, neg = 0, neu = 0;
    size_t covered = 0;
    for (size_t j = 0; j < s->n_items; j++) {
        double v = s->items[j].value;
        if (v > 0) pos += v; else neg -= v;
        if (s->items[j].kind != FB_ITEM_EMPHASIS) covered += s->items[j].ntok;
    }
    neu = (double)t->n_words;
    neu = neu > (double)covered ? neu - (double)covered : 0;
    double total = pos + neg + neu;
    if (total <= 0) { out->neutral = 1; return; }
    out->positive = pos / total;
    out->negative = neg / total;
    out->neutral = neu / total;
}

static int pick_language(const fb_textengine *te, const char *lang, const char *fallback,
                         const fb_tokens *t, const fb_lexicon **lx, fb_err *err)
{
    if (lang && *lang) {
        *lx = fb_text_lexicon(te, lang);
        if (!*lx) {
            char list[64] = "";
            for (size_t i = 0; i < te->n_langs; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                         fb_lexicon_lang(te->langs[i]));
            }
            return fb_err_set(err, FB_INVALID, "lang: unsupported language '%.16s' (supported: %s)",
                              lang, list);
        }
        return FB_OK;
    }
    const fb_lexicon *fb = fb_text_lexicon(te, fallback && *fallback ? fallback : "en");
    if (!fb) fb = fb_text_lexicon(te, "en");
    if (!fb) fb = te->langs[0];
    /* the fallback is the likely answer: its word cache lines load while
     * the guess runs (wasted, harmlessly, if another language wins) */
    if (te->n_langs > 1) fb_lexicon_prefetch_words(fb, t);
    *lx = te->n_langs > 1 ? fb_langid_guess(te->langid, t, fb) : fb;
    return FB_OK;
}

static int build(const fb_lexicon *lx, const char *text, const fb_tokens *t,
                 const fb_scored *s, int flags, fb_sentiment *out, fb_err *err)
{
    out->compound = fb_score_normalize(s->sum);
    out->label = is_mixed(s) ? FB_LABEL_MIXED : fb_label_for(out->compound);
    shares(t, s, out);
    const char *lang = fb_lexicon_lang(lx);      /* < 8 bytes by construction */
    size_t ln = strnlen(lang, sizeof out->language - 1);
    memcpy(out->language, lang, ln);
    out->language[ln] = '\0';
    int rc = FB_OK;
    if (flags & FB_SENT_EXPLAIN) rc = fb_out_contributions(text, t, s, out, err);
    if (rc == FB_OK) rc = fb_out_aspects(lx, t, s, out, err);
    if (rc == FB_OK && (flags & FB_SENT_TERMS)) rc = fb_out_terms(lx, t, s, out, err);
    return rc;
}

int fb_sentiment_analyze(const fb_textengine *te, const char *text, size_t len,
                         const char *lang, const char *fallback_lang, int flags,
                         fb_sentiment *out, fb_err *err)
{
    memset(out, 0, sizeof *out);
    out->label = FB_LABEL_NEUTRAL;
    out->neutral = 1;
    if (!te) return fb_err_set(err, FB_INVALID, "text engine: not open");
    if (!text && len) return fb_err_set(err, FB_INVALID, "text: NULL with length %zu", len);
    fb_token tb[TOKENS_ON_STACK];
    char nb[NORM_ON_STACK];
    fb_tokens t;
    fb_tokens_init(&t, tb, TOKENS_ON_STACK, nb, sizeof nb);
    if (fb_tokenize(text ? text : "", len, &t)) {
        fb_tokens_free(&t);
        return fb_err_set(err, len >= (1u << 31) ? FB_INVALID : FB_INTERNAL,
                          "text: cannot tokenize %zu bytes", len);
    }
    const fb_lexicon *lx = NULL;
    int rc = pick_language(te, lang, fallback_lang, &t, &lx, err);
    fb_scored s;       /* ~10 KiB of stack scratch: no allocation for short texts */
    if (rc == FB_OK) {
        if (fb_score_tokens(lx, te->emoji, &t, &s))
            rc = fb_err_set(err, FB_INTERNAL, "sentiment: out of memory");
        else
            rc = build(lx, text, &t, &s, flags, out, err);
        fb_scored_free(&s);
    }
    fb_tokens_free(&t);
    if (rc) fb_sentiment_free(out);
    return rc;
}

void fb_sentiment_free(fb_sentiment *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_contributions; i++) {
        free(s->contributions[i].token);
        free(s->contributions[i].stem);
    }
    free(s->contributions);
    free(s->aspects);      /* one block: the array and its spans (fb_out_aspects) */
    free(s->terms);        /* one block: the array and its strings (fb_out_terms) */
    s->contributions = NULL; s->aspects = NULL; s->terms = NULL;
    s->n_contributions = s->n_aspects = s->n_terms = 0;
}
