/* test_ids.c — ids sort by time, are unique across threads, survive a clock
 * stepping back, and parse back to their millisecond. */
#include <pthread.h>

#include "fbtest.h"
#include "ids.h"
#include "store.h"

START_TEST(ids_sort_and_parse)
{
    fb_idgen g;
    fb_idgen_init(&g);
    char prev[FB_ID_LEN + 1] = "", id[FB_ID_LEN + 1];
    int64_t base = fb_now_ms();
    for (int i = 0; i < 20000; i++) {
        int64_t now = base + i / 100; /* 100 ids per millisecond */
        int64_t used = fb_id_next(&g, now, id);
        ck_assert_int_eq(used, now);
        ck_assert_uint_eq(strlen(id), FB_ID_LEN);
        ck_assert(fb_id_valid(id));
        ck_assert_msg(strcmp(prev, id) < 0, "%s !< %s", prev, id);
        int64_t ms = -1;
        ck_assert_int_eq(fb_id_parse_ms(id, &ms), 0);
        ck_assert_int_eq(ms, now);
        memcpy(prev, id, sizeof id);
    }
    fb_idgen_destroy(&g);
}
END_TEST

START_TEST(clock_stepping_back_stays_monotonic)
{
    fb_idgen g;
    fb_idgen_init(&g);
    char a[FB_ID_LEN + 1], b[FB_ID_LEN + 1], c[FB_ID_LEN + 1];
    ck_assert_int_eq(fb_id_next(&g, 1700000000000, a), 1700000000000);
    ck_assert_int_eq(fb_id_next(&g, 1699999999000, b), 1700000000000); /* clock went back 1 s */
    ck_assert_int_eq(fb_id_next(&g, 1700000000001, c), 1700000000001);
    ck_assert_int_lt(strcmp(a, b), 0);
    ck_assert_int_lt(strcmp(b, c), 0);
    fb_idgen_destroy(&g);
}
END_TEST

START_TEST(parse_known_and_malformed)
{
    int64_t ms = 0;
    /* the ULID specification's example timestamp */
    ck_assert_int_eq(fb_id_parse_ms("01ARYZ6S41TSV4RRFFQ69G5FAV", &ms), 0);
    ck_assert_int_eq(ms, 1469918176385);
    ck_assert_int_eq(fb_id_parse_ms("01aryz6s41tsv4rrffq69g5fav", &ms), 0); /* lower case */
    ck_assert_int_eq(ms, 1469918176385);
    ck_assert_int_eq(fb_id_parse_ms("01ARYZ6S41TSV4RRFFQ69G5FA", &ms), -1);   /* 25 chars */
    ck_assert_int_eq(fb_id_parse_ms("01ARYZ6S41TSV4RRFFQ69G5FAVX", &ms), -1); /* 27 chars */
    ck_assert_int_eq(fb_id_parse_ms("01ARYZ6S41TSV4RRFFQ69G5FAU", &ms), -1);  /* U is not a digit */
    ck_assert_int_eq(fb_id_parse_ms("81ARYZ6S41TSV4RRFFQ69G5FAV", &ms), -1);  /* > 128 bits */
    ck_assert_int_eq(fb_id_parse_ms("", &ms), -1);
    ck_assert(!fb_id_valid(NULL));
}
END_TEST

enum { THREADS = 8, PER_THREAD = 5000 };

typedef struct idjob {
    fb_idgen *g;
    char (*ids)[FB_ID_LEN + 1];
    int ordered;
} idjob;

static void *make_ids(void *p)
{
    idjob *j = p;
    j->ordered = 1;
    for (int i = 0; i < PER_THREAD; i++) {
        fb_id_next(j->g, fb_now_ms(), j->ids[i]);
        if (i && strcmp(j->ids[i - 1], j->ids[i]) >= 0) j->ordered = 0;
    }
    return NULL;
}

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

START_TEST(unique_across_threads)
{
    fb_idgen g;
    fb_idgen_init(&g);
    static char ids[THREADS * PER_THREAD][FB_ID_LEN + 1];
    pthread_t th[THREADS];
    idjob jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (idjob){&g, ids + t * PER_THREAD, 0};
        pthread_create(&th[t], NULL, make_ids, &jobs[t]);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        ck_assert(jobs[t].ordered);
    }
    qsort(ids, THREADS * PER_THREAD, sizeof ids[0], cmp_id);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        ck_assert_msg(strcmp(ids[i - 1], ids[i]) != 0, "duplicate id %s", ids[i]);
    fb_idgen_destroy(&g);
}
END_TEST

START_TEST(two_generators_do_not_collide)
{
    /* Two processes = two generators in the same millisecond. */
    fb_idgen a, b;
    fb_idgen_init(&a);
    fb_idgen_init(&b);
    char x[FB_ID_LEN + 1], y[FB_ID_LEN + 1];
    for (int i = 0; i < 1000; i++) {
        fb_id_next(&a, 1700000000000 + i, x);
        fb_id_next(&b, 1700000000000 + i, y);
        ck_assert_str_ne(x, y);
        ck_assert_int_eq(strncmp(x, y, 10), 0); /* same time prefix */
    }
    fb_idgen_destroy(&a);
    fb_idgen_destroy(&b);
}
END_TEST

static Suite *ids_suite(void)
{
    Suite *s = suite_create("ids");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ids_sort_and_parse);
    tcase_add_test(tc, clock_stepping_back_stays_monotonic);
    tcase_add_test(tc, parse_known_and_malformed);
    tcase_add_test(tc, unique_across_threads);
    tcase_add_test(tc, two_generators_do_not_collide);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(ids_suite)
