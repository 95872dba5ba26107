/* test_stem.c — Snowball stemming through the pool and cache, across threads. */
#include <pthread.h>

#include "fbtest.h"
#include "text/stem.h"

static fb_stemmer *open_en(void)
{
    fb_stemmer *st;
    fb_err err;
    ck_assert_int_eq(fb_stemmer_open(&st, "en", &err), FB_OK);
    return st;
}

static const char *stem(fb_stemmer *st, const char *w)
{
    static char out[128];
    fb_stem(st, w, strlen(w), out, sizeof out);
    return out;
}

START_TEST(inflections_share_a_stem)
{
    fb_stemmer *st = open_en();
    const char *forms[] = { "disappoint", "disappointing", "disappointed", "disappoints" };
    for (size_t i = 0; i < 4; i++) ck_assert_str_eq(stem(st, forms[i]), "disappoint");
    ck_assert_str_eq(stem(st, "waiting"), "wait");
    ck_assert_str_eq(stem(st, "pizzas"), "pizza");
    fb_stemmer_close(st);
}
END_TEST

START_TEST(cache_avoids_restemming)
{
    fb_stemmer *st = open_en();
    size_t before = fb_stemmer_runs(st);
    stem(st, "cancellations");
    ck_assert_uint_eq(fb_stemmer_runs(st), before + 1);
    for (int i = 0; i < 10; i++) ck_assert_str_eq(stem(st, "cancellations"), "cancel");
    ck_assert_uint_eq(fb_stemmer_runs(st), before + 1);
    fb_stemmer_clear(st);
    stem(st, "cancellations");
    ck_assert_uint_eq(fb_stemmer_runs(st), before + 2);
    fb_stemmer_close(st);
}
END_TEST

static uint32_t len_tag(const char *s, size_t n, void *ctx)
{
    (*(int *)ctx)++;
    (void)s;
    return (uint32_t)n * 10;
}

START_TEST(word_tags_are_cached)
{
    fb_stemmer *st = open_en();
    int calls = 0;
    ck_assert_uint_eq(fb_stem_tag(st, "running", 7, len_tag, &calls), 70);
    ck_assert_uint_eq(fb_stem_tag(st, "running", 7, len_tag, &calls), 70);
    ck_assert_uint_eq(fb_stem_tag(st, "runs", 4, len_tag, &calls), 40);
    ck_assert_int_eq(calls, 2);
    fb_stemmer_clear(st);
    ck_assert_uint_eq(fb_stem_tag(st, "running", 7, len_tag, &calls), 70);
    ck_assert_int_eq(calls, 3);
    fb_stemmer_close(st);
}
END_TEST

START_TEST(long_words_pass_through)
{
    fb_stemmer *st = open_en();
    char w[200];
    memset(w, 'a', sizeof w - 1);
    w[sizeof w - 1] = '\0';
    char out[300];
    ck_assert_uint_eq(fb_stem(st, w, strlen(w), out, sizeof out), strlen(w));
    ck_assert_uint_eq(fb_stem(st, w, strlen(w), out, 8), 7);   /* truncated to fit */
    fb_stemmer_close(st);
}
END_TEST

START_TEST(unknown_language_is_invalid)
{
    fb_stemmer *st;
    fb_err err;
    ck_assert_int_eq(fb_stemmer_open(&st, "klingon", &err), FB_INVALID);
    ck_assert_ptr_null(st);
    ck_assert(strstr(err.msg, "klingon"));
}
END_TEST

static const char *words[] = { "disappointing", "waiting", "cancelled", "refunds", "pizzas",
                               "delivered", "rudeness", "cleanliness", "crashing", "ignored" };
static char expect[10][128];

static void *worker(void *arg)
{
    fb_stemmer *st = arg;
    for (int r = 0; r < 20000; r++) {
        char out[128], w[64];
        int i = r % 10;
        /* vary the words so the cache also sees misses and overwrites */
        snprintf(w, sizeof w, "%s", words[i]);
        fb_stem(st, w, strlen(w), out, sizeof out);
        if (strcmp(out, expect[i]) != 0) return (void *)1;
        snprintf(w, sizeof w, "x%dy", r);
        fb_stem(st, w, strlen(w), out, sizeof out);
    }
    return NULL;
}

START_TEST(threads_share_a_stemmer)
{
    fb_stemmer *st = open_en();
    for (int i = 0; i < 10; i++) snprintf(expect[i], sizeof expect[i], "%s", stem(st, words[i]));
    fb_stemmer_clear(st);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, st);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        ck_assert_ptr_null(rc);
    }
    fb_stemmer_close(st);
}
END_TEST

static Suite *stem_suite(void)
{
    Suite *s = suite_create("stem");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, inflections_share_a_stem);
    tcase_add_test(tc, cache_avoids_restemming);
    tcase_add_test(tc, word_tags_are_cached);
    tcase_add_test(tc, long_words_pass_through);
    tcase_add_test(tc, unknown_language_is_invalid);
    tcase_add_test(tc, threads_share_a_stemmer);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(stem_suite)
