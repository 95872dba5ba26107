/* test_tokenize.c — token kinds, normal forms, byte and code point spans,
 * clauses and sentences, and pathological input. */
#include "fbtest.h"
#include "text/strtab.h"
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

/* ASCII words take a fast path (8 bytes at a time): every length around
 * the block size, in every case mix, ended by the text, a space,
 * punctuation, an accent or an apostrophe, must come out as the general
 * path defines them: one word, folded, its hash the table's hash of it. */
START_TEST(ascii_words_of_every_length_and_ending)
{
    const char *ends[] = { "", " x", ", x", "\xC3\xA9", "'s", "\xE2\x80\x99s", "9" };
    for (size_t len = 1; len <= 20; len++)
        for (int kase = 0; kase < 3; kase++)           /* lower, UPPER, Capitalised */
            for (size_t e = 0; e < sizeof ends / sizeof ends[0]; e++) {
                char word[32], lower[32], text[64];
                for (size_t i = 0; i < len; i++) {
                    char c = (char)('a' + (i * 7 + len) % 26);
                    if (c == 'h' || c == 'w' || c == 'x' || c == 'o') c = 'k';  /* no URL/emoticon starts */
                    lower[i] = c;
                    word[i] = kase == 1 || (kase == 2 && i == 0) ? (char)(c - 32) : c;
                }
                lower[len] = word[len] = '\0';
                snprintf(text, sizeof text, "%s%s", word, ends[e]);
                fb_tokens t = tok(text);
                ck_assert_uint_ge(t.n, 1);
                const fb_token *k = &t.v[0];
                ck_assert_int_eq(k->kind, FB_TOK_WORD);
                const char *n = txt(&t, 0);
                ck_assert_msg(strncmp(n, lower, len) == 0, "%s -> %s", text, n);
                ck_assert_uint_eq(k->hash, fb_strtab_hash64(n, k->norm_len));
                ck_assert_uint_eq(k->norm_len, strlen(n));
                /* ALL-CAPS unless the ending adds a lower-case letter */
                int caps = kase == 1 && len >= 2 && (e <= 2 || e == 6);
                ck_assert_int_eq(!!(k->flags & FB_TOKF_CAPS), caps);
                ck_assert(k->flags & FB_TOKF_HAS_CASED);
                if (e <= 2) {                            /* the word ends where its letters do */
                    ck_assert_uint_eq(k->norm_len, len);
                    ck_assert_uint_eq(k->end, len);
                    ck_assert_uint_eq(k->cp_end, len);
                } else if (e == 6) {
                    ck_assert_uint_eq(k->norm_len, len + 1);   /* digits continue a word */
                } else {
                    ck_assert_uint_gt(k->norm_len, len);       /* é and 's belong to it */
                }
                ck_assert_uint_eq(t.n_words, e == 1 || e == 2 ? 2 : 1);
                fb_tokens_free(&t);
            }
}
END_TEST

/* Words starting with the letters that may start a URL or an emoticon are
 * still words unless what follows makes them more. */
START_TEST(url_and_emoticon_letters_start_words)
{
    fb_tokens t = tok("have what xylophone Those Other over hTml Wwise XDa x");
    ck_assert_uint_eq(t.n, 10);
    const char *want[] = { "have", "what", "xylophone", "those", "other", "over", "html",
                           "wwise", "xda", "x" };
    for (size_t i = 0; i < 10; i++) {
        ck_assert_int_eq(t.v[i].kind, FB_TOK_WORD);
        ck_assert_str_eq(txt(&t, i), want[i]);
    }
    fb_tokens_free(&t);
    t = tok("http://a.b/c www.x.y XD o_O T_T ok");
    ck_assert_uint_eq(t.n, 4);
    ck_assert_int_eq(t.v[0].kind, FB_TOK_EMOTICON);
    ck_assert_int_eq(t.v[1].kind, FB_TOK_EMOTICON);
    ck_assert_int_eq(t.v[2].kind, FB_TOK_EMOTICON);
    ck_assert_str_eq(txt(&t, 3), "ok");
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
    tcase_add_test(tc, ascii_words_of_every_length_and_ending);
    tcase_add_test(tc, url_and_emoticon_letters_start_words);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(tokenize_suite)
