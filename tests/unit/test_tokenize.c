/* test_tokenize.c — token kinds, normal forms, byte and code point spans,
 * clauses and sentences, and pathological input. */
#include "fbtest.h"
#include "text/tokenize.h"


static fb_tokens tok(const char *s)
{
    fb_tokens t;
    fb_tokens_init(&t, NULL, 0, NULL, 0);
    ck_assert_int_eq(fb_tokenize(s, strlen(s), &t), 0);
    return t;
}

static const char *txt(const fb_tokens *t, size_t i) { return fb_token_text(t, &t->v[i]); }

START_TEST(words_with_byte_and_code_point_offsets)
{
    fb_tokens t = tok("Café über naïve");
    ck_assert_uint_eq(t.n, 3);
    ck_assert_str_eq(txt(&t, 0), "café");
    ck_assert_uint_eq(t.v[0].start, 0); ck_assert_uint_eq(t.v[0].end, 5);
    ck_assert_uint_eq(t.v[0].cp_start, 0); ck_assert_uint_eq(t.v[0].cp_end, 4);
    ck_assert_uint_eq(t.v[1].start, 6); ck_assert_uint_eq(t.v[1].cp_start, 5);
    ck_assert_uint_eq(t.v[2].cp_start, 10); ck_assert_uint_eq(t.v[2].cp_end, 15);
    ck_assert_uint_eq(t.v[2].end, 18);
    fb_tokens_free(&t);
}
END_TEST

START_TEST(caps_flag_and_folding)
{
    fb_tokens t = tok("I LOVE it ÉTÉ Ok");
    ck_assert_str_eq(txt(&t, 1), "love");
    ck_assert(t.v[1].flags & FB_TOKF_CAPS);
    ck_assert(!(t.v[0].flags & FB_TOKF_CAPS));   /* one letter is not shouting */
    ck_assert(!(t.v[2].flags & FB_TOKF_CAPS));
    ck_assert_str_eq(txt(&t, 3), "été");
    ck_assert(t.v[3].flags & FB_TOKF_CAPS);
    ck_assert(!(t.v[4].flags & FB_TOKF_CAPS));
    fb_tokens_free(&t);
}
END_TEST

START_TEST(contractions_both_apostrophes)
{
    fb_tokens t = tok("don't don’t DON’T dont rock'n'roll 'quoted'");
    ck_assert_str_eq(txt(&t, 0), "don't");
    ck_assert_str_eq(txt(&t, 1), "don't");
    ck_assert_str_eq(txt(&t, 2), "don't");
    ck_assert_str_eq(txt(&t, 3), "dont");
    ck_assert_str_eq(txt(&t, 4), "rock'n'roll");
    ck_assert_str_eq(txt(&t, 5), "quoted");
    ck_assert_uint_eq(t.n, 6);
    fb_tokens_free(&t);
}
END_TEST

START_TEST(numbers)
{
    fb_tokens t = tok("waited 40 minutes, paid 12.50 at 10:30 for 100%");
    ck_assert_int_eq(t.v[1].kind, FB_TOK_NUMBER); ck_assert_str_eq(txt(&t, 1), "40");
    ck_assert_str_eq(txt(&t, 5), "12.50");
    ck_assert_str_eq(txt(&t, 7), "10:30");
    ck_assert_str_eq(txt(&t, 9), "100%");
    fb_tokens_free(&t);
}
END_TEST

START_TEST(emoticons)
{
    const char *cases[] = { ":)", ":-(", "<3", ":/", ":D", ";)", ":'(", ":(((", "XD", "^_^", "</3", ">:(" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "ok %s ok", cases[i]);
        fb_tokens t = tok(buf);
        ck_assert_msg(t.n == 3, "%s: %zu tokens", cases[i], t.n);
        ck_assert_int_eq(t.v[1].kind, FB_TOK_EMOTICON);
        ck_assert_str_eq(txt(&t, 1), cases[i]);
        fb_tokens_free(&t);
    }
    fb_tokens t = tok("see http://x.co/a:/b and note: Done");   /* no emoticons here */
    for (size_t i = 0; i < t.n; i++) ck_assert_int_ne(t.v[i].kind, FB_TOK_EMOTICON);
    fb_tokens_free(&t);
}
END_TEST

START_TEST(emoji_clusters)
{
    /* thumbs up + skin tone, ZWJ family, heart + VS16, a flag, keycap-free run */
    fb_tokens t = tok("👍🏽 👨‍👩‍👧 ❤️ 🇫🇷😡😡");
    ck_assert_uint_eq(t.n, 6);
    for (size_t i = 0; i < t.n; i++) ck_assert_int_eq(t.v[i].kind, FB_TOK_EMOJI);
    ck_assert_str_eq(txt(&t, 0), "👍");                 /* tone stripped from the key */
    ck_assert_uint_eq(t.v[0].cp_end - t.v[0].cp_start, 2);
    ck_assert_uint_eq(t.v[1].cp_end - t.v[1].cp_start, 5);
    ck_assert_str_eq(txt(&t, 1), "👨‍👩‍👧");
    ck_assert_str_eq(txt(&t, 2), "❤");
    ck_assert_uint_eq(t.v[3].cp_end - t.v[3].cp_start, 2);
    ck_assert_str_eq(txt(&t, 4), "😡");
    fb_tokens_free(&t);
}
END_TEST

START_TEST(punctuation_runs)
{
    fb_tokens t = tok("great!!! really?! ok...");
    ck_assert_int_eq(t.v[1].kind, FB_TOK_PUNCT);
    ck_assert_str_eq(txt(&t, 1), "!!!");
    ck_assert_uint_eq(t.v[1].n_excl, 3);
    ck_assert_str_eq(txt(&t, 3), "?!");
    ck_assert_uint_eq(t.v[3].n_quest, 1);
    ck_assert_uint_eq(t.v[3].n_excl, 1);
    ck_assert(t.v[5].flags & FB_TOKF_SENT_END);
    fb_tokens_free(&t);
}
END_TEST

START_TEST(unicode_spaces_separate)
{
    fb_tokens t = tok("good\xC2\xA0" "food\xC2\x85" "nice\xE2\x80\x83" "staff\xE2\x80\x8B" "x");
    ck_assert_uint_eq(t.n, 5);
    ck_assert_str_eq(txt(&t, 1), "food");
    ck_assert_str_eq(txt(&t, 3), "staff");
    fb_tokens_free(&t);
}
END_TEST

START_TEST(sentences_and_clauses)
{
    fb_tokens t = tok("Good food, bad service. Nice - really\nthen more");
    /* good food | , | bad service | . | nice | - | really | then more */
    ck_assert_uint_eq(t.v[0].sent, 0);
    ck_assert_uint_eq(t.v[0].clause, t.v[1].clause);
    ck_assert_uint_eq(t.v[3].clause, t.v[0].clause + 1);   /* after the comma */
    ck_assert_uint_eq(t.v[3].sent, 0);
    ck_assert_uint_eq(t.v[6].sent, 1);                      /* after the full stop */
    ck_assert_int_eq(t.v[7].kind, FB_TOK_PUNCT);            /* the spaced dash */
    ck_assert_uint_eq(t.v[8].clause, t.v[6].clause + 1);
    ck_assert_uint_eq(t.v[9].sent, 2);                      /* a line break ends a sentence */
    fb_tokens_free(&t);
}
END_TEST

START_TEST(skips_urls_mentions_entities)
{
    fb_tokens t = tok("@united #fail &amp; https://t.co/x ok");
    ck_assert_uint_eq(t.n, 2);
    ck_assert_str_eq(txt(&t, 0), "fail");
    ck_assert(t.v[0].flags & FB_TOKF_HASHTAG);
    ck_assert_str_eq(txt(&t, 1), "ok");
    fb_tokens_free(&t);
}
END_TEST

START_TEST(stack_buffers_spill_to_heap)
{
    fb_token tb[2];
    char nb[8];
    fb_tokens t;
    fb_tokens_init(&t, tb, 2, nb, sizeof nb);
    const char *s = "one two three four five six";
    ck_assert_int_eq(fb_tokenize(s, strlen(s), &t), 0);
    ck_assert_uint_eq(t.n, 6);
    ck_assert_str_eq(fb_token_text(&t, &t.v[5]), "six");
    ck_assert(t.own_v && t.own_norm);
    fb_tokens_free(&t);
}
END_TEST

static void pathological(const char *unit, size_t reps, size_t expect_min_tokens)
{
    size_t n = strlen(unit);
    char *s = malloc(n * reps + 1);
    for (size_t i = 0; i < reps; i++) memcpy(s + i * n, unit, n);
    s[n * reps] = '\0';
    fb_tokens t;
    fb_tokens_init(&t, NULL, 0, NULL, 0);
    ck_assert_int_eq(fb_tokenize(s, n * reps, &t), 0);
    ck_assert_uint_ge(t.n, expect_min_tokens);
    if (t.n) ck_assert_uint_le(t.v[t.n - 1].end, n * reps);
    fb_tokens_free(&t);
    free(s);
}

START_TEST(pathological_inputs)
{
    pathological("😡", 2048, 2048);                 /* 8 KiB of emoji */
    pathological("👨‍👩‍👧", 400, 400);                 /* ZWJ sequences */
    pathological("a\xCC\x81\xCC\x82", 1800, 1);     /* combining marks: one giant word */
    pathological("x", 65536, 1);                    /* one giant word */
    pathological("\xEF\xB8\x8F", 3000, 0);          /* lone variation selectors */
    pathological("!?", 5000, 1);
    pathological(":(", 4000, 4000);
}
END_TEST

START_TEST(malformed_bytes_do_not_crash)
{
    const char s[] = "ok \xFF\xFE bad \xE2\x80 end \xF0\x9F";
    fb_tokens t;
    fb_tokens_init(&t, NULL, 0, NULL, 0);
    ck_assert_int_eq(fb_tokenize(s, sizeof s - 1, &t), 0);
    ck_assert_str_eq(fb_token_text(&t, &t.v[0]), "ok");
    fb_tokens_free(&t);
}
END_TEST

static Suite *tokenize_suite(void)
{
    Suite *s = suite_create("tokenize");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, words_with_byte_and_code_point_offsets);
    tcase_add_test(tc, caps_flag_and_folding);
    tcase_add_test(tc, contractions_both_apostrophes);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, emoticons);
    tcase_add_test(tc, emoji_clusters);
    tcase_add_test(tc, punctuation_runs);
    tcase_add_test(tc, unicode_spaces_separate);
    tcase_add_test(tc, sentences_and_clauses);
    tcase_add_test(tc, skips_urls_mentions_entities);
    tcase_add_test(tc, stack_buffers_spill_to_heap);
    tcase_add_test(tc, pathological_inputs);
    tcase_add_test(tc, malformed_bytes_do_not_crash);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(tokenize_suite)
