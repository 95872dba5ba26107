/* test_stem.c — Snowball stemming through the pool and cache, across threads. */
#include <pthread.h>

#include "fbtest.h"
#include "text/stem.h"
#include "text/strtab.h"

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

/* The tag table pair a word falls in (stem.h's layout). */
static size_t tag_pair(const char *w)
{
    uint64_t h = fb_strtab_hash64(w, strlen(w)) | 1ull << 63;
    return (size_t)(h >> 7) & (FB_STEM_TAG_SLOTS - 2);
}

/* Finds n distinct words "w<i>" that share one tag pair (deterministic:
 * the first such set in counting order). */
static void words_sharing_a_pair(char words[][16], size_t n)
{
    enum { TRY = 200000 };
    static uint32_t first_of[FB_STEM_TAG_SLOTS / 2];
    static uint8_t count_of[FB_STEM_TAG_SLOTS / 2];
    memset(count_of, 0, sizeof count_of);
    for (uint32_t i = 0; i < TRY; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%u", i);
        size_t p = tag_pair(w) / 2;
        if (count_of[p]++ == 0) first_of[p] = i;
        if (count_of[p] < n) continue;
        size_t k = 0;                       /* collect them again, in order */
        for (uint32_t j = first_of[p]; j <= i && k < n; j++) {
            snprintf(w, sizeof w, "w%u", j);
            if (tag_pair(w) / 2 == p) snprintf(words[k++], 16, "%s", w);
        }
        return;
    }
    ck_abort_msg("no %zu words share a tag pair among %d", n, TRY);
}

START_TEST(colliding_word_tags_both_stay_cached)
{
    char w[3][16];
    words_sharing_a_pair(w, 3);
    fb_stemmer *st = open_en();
    int calls = 0;
    for (int round = 0; round < 3; round++)       /* two words of one pair: both kept */
        for (int i = 0; i < 2; i++)
            ck_assert_uint_eq(fb_stem_tag(st, w[i], strlen(w[i]), len_tag, &calls),
                              strlen(w[i]) * 10);
    ck_assert_int_eq(calls, 2);
    /* a third pushes out the one stored least recently (w[0]), keeps w[1] */
    fb_stem_tag(st, w[2], strlen(w[2]), len_tag, &calls);
    fb_stem_tag(st, w[1], strlen(w[1]), len_tag, &calls);
    ck_assert_int_eq(calls, 3);
    fb_stem_tag(st, w[0], strlen(w[0]), len_tag, &calls);
    ck_assert_int_eq(calls, 4);
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
    tcase_add_test(tc, colliding_word_tags_both_stay_cached);
    tcase_add_test(tc, long_words_pass_through);
    tcase_add_test(tc, unknown_language_is_invalid);
    tcase_add_test(tc, threads_share_a_stemmer);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(stem_suite)
