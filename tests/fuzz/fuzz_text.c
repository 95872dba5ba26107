/* fuzz_text.c — libFuzzer target over the tokenizer and the scorer.
 *
 * Build: ./tools/build fuzz   Run: build-fuzz/fuzz_text -max_total_time=600 tests/fuzz/seed
 * Inputs that are not valid UTF-8 are skipped (the server rejects them
 * before they reach the engine). Every valid input is tokenized (checking
 * span invariants) and scored with explain and terms on, with the language
 * given and guessed. The engine is loaded once, from $FB_LEXICON_DIR or the
 * source tree's lexicons/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sentiment.h"
#include "tokenize.h"
#include "utf8.h"

static fb_textengine *engine;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    fb_err err = { 0 };
    if (fb_text_open(&engine, NULL, &err) != FB_OK) {
        fprintf(stderr, "fuzz_text: %s\n", err.msg);
        abort();
    }
    return 0;
}

static void check_tokens(const char *s, size_t n)
{
    fb_token buf[32];
    char norm[256];
    fb_tokens t;
    fb_tokens_init(&t, buf, 32, norm, sizeof norm);
    if (fb_tokenize(s, n, &t) != 0) abort();
    size_t cps = fb_utf8_count(s, n);
    for (size_t i = 0; i < t.n; i++) {
        const fb_token *k = &t.v[i];
        if (k->start >= k->end || k->end > n || k->cp_start >= k->cp_end || k->cp_end > cps) abort();
        if (i && k->start < t.v[i - 1].end) abort();
    }
    fb_tokens_free(&t);
}

static void check_score(const char *s, size_t n, const char *lang)
{
    fb_sentiment r;
    fb_err err;
    if (fb_sentiment_analyze(engine, s, n, lang, NULL, FB_SENT_EXPLAIN | FB_SENT_TERMS, &r, &err))
        abort();
    if (!(r.compound >= -1.0 && r.compound <= 1.0)) abort();
    size_t cps = fb_utf8_count(s, n);
    for (size_t i = 0; i < r.n_contributions; i++)
        if (r.contributions[i].start >= r.contributions[i].end || r.contributions[i].end > cps) abort();
    fb_sentiment_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    if (!fb_utf8_valid(s, size)) return 0;
    check_tokens(s, size);
    check_score(s, size, "en");
    check_score(s, size, NULL);
    return 0;
}
