/* test_utf8.c — decoding, validation, case folding and character classes. */
#include "fbtest.h"
#include "text/utf8.h"

START_TEST(decode_lengths_and_values)
{
    uint32_t cp;
    ck_assert_uint_eq(fb_utf8_decode("A", 1, &cp), 1); ck_assert_uint_eq(cp, 'A');
    ck_assert_uint_eq(fb_utf8_decode("\xC3\xA9", 2, &cp), 2); ck_assert_uint_eq(cp, 0xE9);
    ck_assert_uint_eq(fb_utf8_decode("\xE2\x80\x99", 3, &cp), 3); ck_assert_uint_eq(cp, 0x2019);
    ck_assert_uint_eq(fb_utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4); ck_assert_uint_eq(cp, 0x1F600);
}
END_TEST

START_TEST(decode_rejects_malformed_as_replacement)
{
    uint32_t cp;
    ck_assert_uint_eq(fb_utf8_decode("\xC0\x80", 2, &cp), 1); ck_assert_uint_eq(cp, 0xFFFD);     /* overlong */
    ck_assert_uint_eq(fb_utf8_decode("\xED\xA0\x80", 3, &cp), 1); ck_assert_uint_eq(cp, 0xFFFD); /* surrogate */
    ck_assert_uint_eq(fb_utf8_decode("\xE2\x80", 2, &cp), 1); ck_assert_uint_eq(cp, 0xFFFD);     /* truncated */
    ck_assert_uint_eq(fb_utf8_decode("\x80", 1, &cp), 1); ck_assert_uint_eq(cp, 0xFFFD);
    ck_assert(fb_utf8_valid("caf\xC3\xA9 \xF0\x9F\x91\x8D", 10));
    ck_assert(!fb_utf8_valid("caf\xC3", 4));
    ck_assert(!fb_utf8_valid("\xF4\x90\x80\x80", 4));   /* > U+10FFFF */
    ck_assert_uint_eq(fb_utf8_count("caf\xC3\xA9", 5), 4);
}
END_TEST

START_TEST(encode_round_trips)
{
    uint32_t cps[] = { 'x', 0xE9, 0x20AC, 0x1F44D };
    for (size_t i = 0; i < 4; i++) {
        char buf[4];
        uint32_t back;
        size_t n = fb_utf8_encode(cps[i], buf);
        ck_assert_uint_eq(fb_utf8_decode(buf, n, &back), n);
        ck_assert_uint_eq(back, cps[i]);
    }
}
END_TEST

START_TEST(fold_latin_greek_cyrillic)
{
    ck_assert_uint_eq(fb_utf8_fold('A'), 'a');
    ck_assert_uint_eq(fb_utf8_fold(0xC9), 0xE9);     /* É */
    ck_assert_uint_eq(fb_utf8_fold(0xD7), 0xD7);     /* × is not a letter */
    ck_assert_uint_eq(fb_utf8_fold(0x141), 0x142);   /* Ł */
    ck_assert_uint_eq(fb_utf8_fold(0x152), 0x153);   /* Œ */
    ck_assert_uint_eq(fb_utf8_fold(0x178), 0xFF);    /* Ÿ */
    ck_assert_uint_eq(fb_utf8_fold(0x3A3), 0x3C3);   /* Σ */
    ck_assert_uint_eq(fb_utf8_fold(0x3C2), 0x3C3);   /* final ς */
    ck_assert_uint_eq(fb_utf8_fold(0x386), 0x3AC);   /* Ά */
    ck_assert_uint_eq(fb_utf8_fold(0x414), 0x434);   /* Д */
    ck_assert_uint_eq(fb_utf8_fold(0x401), 0x451);   /* Ё */
    ck_assert_uint_eq(fb_utf8_fold(0x2019), '\'');   /* ’ */
    ck_assert_uint_eq(fb_utf8_fold(0xE9), 0xE9);
    ck_assert(fb_utf8_is_upper(0xC0));
    ck_assert(!fb_utf8_is_upper(0xE0));
    ck_assert(!fb_utf8_is_upper(0x390));
}
END_TEST

START_TEST(classes)
{
    uint32_t spaces[] = { ' ', '\t', '\n', 0x85, 0xA0, 0x2000, 0x2005, 0x200B, 0x3000 };
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) ck_assert(fb_utf8_is_space(spaces[i]));
    ck_assert(!fb_utf8_is_space('a'));
    ck_assert(fb_utf8_is_letter(0xF1));      /* ñ */
    ck_assert(fb_utf8_is_letter(0x436));     /* ж */
    ck_assert(!fb_utf8_is_letter('!'));
    ck_assert(fb_utf8_is_mark(0x301));
    ck_assert(fb_utf8_is_emoji(0x1F44D));
    ck_assert(fb_utf8_is_emoji(0x2764));
    ck_assert(!fb_utf8_is_emoji(0x1F3FD));  /* skin tone is a modifier */
    ck_assert(fb_utf8_is_emoji_modifier(0x1F3FD));
    ck_assert(fb_utf8_is_emoji_modifier(0xFE0F));
}
END_TEST

static Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, decode_lengths_and_values);
    tcase_add_test(tc, decode_rejects_malformed_as_replacement);
    tcase_add_test(tc, encode_round_trips);
    tcase_add_test(tc, fold_latin_greek_cyrillic);
    tcase_add_test(tc, classes);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(utf8_suite)
