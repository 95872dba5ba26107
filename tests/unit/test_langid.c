/* test_langid.c — language guessing from stopword profiles, and the
 * fallback when the text gives no evidence. Uses small lexicons in a
 * temporary directory so the test does not depend on other languages'
 * lexicon files. */
#include "fbtest.h"
#include "text/sentiment.h"

static void put(const char *dir, const char *lang, const char *name, const char *body)
{
    char path[8200];
    snprintf(path, sizeof path, "%s/%s", dir, lang);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/%s", dir, lang, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(body, f);
    fclose(f);
}

static fb_textengine *te;

static void setup(void)
{
    const char *dir = fb_test_tmpdir("langid");
    put(dir, "en", "stopwords.txt", "the\nand\nwas\nis\nit\nof\nwe\nno\n");
    put(dir, "en", "lexicon.txt", "good\t1.9\nbad\t-2.5\n");
    put(dir, "es", "stopwords.txt", "el\nla\ny\nes\nde\nlos\nmuy\nno\n");
    put(dir, "es", "lexicon.txt", "bueno\t1.9\nmalo\t-2.5\n");
    put(dir, "fr", "stopwords.txt", "le\nla\net\nest\nde\nles\ntrès\nne\n");
    put(dir, "fr", "lexicon.txt", "bon\t1.9\nmauvais\t-2.5\n");
    fb_err err = { 0 };
    ck_assert_msg(fb_text_open(&te, dir, &err) == FB_OK, "%s", err.msg);
}

static void teardown(void) { fb_text_close(te); }

static const char *guess(const char *text, const char *fallback, double *compound)
{
    static fb_sentiment s;
    fb_err err;
    ck_assert_int_eq(fb_sentiment_analyze(te, text, strlen(text), NULL, fallback, 0, &s, &err), FB_OK);
    if (compound) *compound = s.compound;
    fb_sentiment_free(&s);
    return s.language;
}

START_TEST(guesses_from_stopwords)
{
    double c;
    ck_assert_str_eq(guess("The food was bad and the service was slow", NULL, &c), "en");
    ck_assert(c < 0);
    ck_assert_str_eq(guess("La comida es muy mala y el servicio de los camareros", NULL, &c), "es");
    ck_assert_str_eq(guess("Le repas est très mauvais et les serveurs", NULL, &c), "fr");
    ck_assert(c < 0);                    /* scored with the French lexicon */
}
END_TEST

START_TEST(falls_back_without_evidence)
{
    ck_assert_str_eq(guess("Pizza!", NULL, NULL), "en");
    ck_assert_str_eq(guess("Pizza!", "fr", NULL), "fr");
    ck_assert_str_eq(guess("", "es", NULL), "es");
    ck_assert_str_eq(guess("no", "es", NULL), "es");      /* a tie includes the fallback */
    ck_assert_str_eq(guess("Pizza!", "de", NULL), "en");  /* unsupported fallback: en */
}
END_TEST

START_TEST(explicit_language_wins)
{
    fb_sentiment s;
    fb_err err;
    const char *t = "the the the bueno";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "es", NULL, 0, &s, &err), FB_OK);
    ck_assert_str_eq(s.language, "es");
    ck_assert(s.compound > 0);
    fb_sentiment_free(&s);
    ck_assert(fb_text_has_language(te, "fr"));
    ck_assert(!fb_text_has_language(te, "pt"));
}
END_TEST

static Suite *langid_suite(void)
{
    Suite *s = suite_create("langid");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, guesses_from_stopwords);
    tcase_add_test(tc, falls_back_without_evidence);
    tcase_add_test(tc, explicit_language_wins);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(langid_suite)
