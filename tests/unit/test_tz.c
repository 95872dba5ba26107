/* test_tz.c — time-zone math against hand-checked calendar facts and, as an
 * independent oracle, the C library's localtime_r (safe here: this test is
 * single-threaded, which is exactly what the server cannot assume). */
#include <stdint.h>
#include <time.h>

#include "fbtest.h"
#include "tz.h"

static fb_tz *load(const char *name)
{
    fb_tz *tz = NULL;
    fb_err err = {0};
    ck_assert_msg(fb_tz_load(&tz, NULL, name, &err) == FB_OK, "%s: %s", name, err.msg);
    return tz;
}

/* ms of a UTC civil time */
static int64_t utc(int64_t y, unsigned mo, unsigned d, int h, int mi)
{
    return (fb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

START_TEST(civil_roundtrip)
{
    for (int64_t z = -800000; z < 800000; z += 37) {
        int64_t y; unsigned m, d;
        fb_civil_from_days(z, &y, &m, &d);
        ck_assert_int_eq(fb_days_from_civil(y, m, d), z);
    }
    ck_assert_int_eq(fb_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(fb_days_from_civil(2000, 3, 1), 11017);
}
END_TEST

START_TEST(names_validated)
{
    ck_assert(fb_tz_name_ok("America/New_York"));
    ck_assert(fb_tz_name_ok("Etc/GMT+5"));
    ck_assert(!fb_tz_name_ok("../etc/passwd"));
    ck_assert(!fb_tz_name_ok("/etc/passwd"));
    ck_assert(!fb_tz_name_ok("America/../../etc"));
    ck_assert(!fb_tz_name_ok(""));
    ck_assert(!fb_tz_name_ok("America/"));
    fb_tz *tz = NULL;
    fb_err err = {0};
    ck_assert_int_eq(fb_tz_load(&tz, NULL, "Mars/Olympus_Mons", &err), FB_INVALID);
    ck_assert(strstr(err.msg, "timezone") != NULL);
    /* a file that exists but is not TZif */
    ck_assert_int_eq(fb_tz_load(&tz, NULL, "zone1970.tab", &err), FB_INVALID);
    ck_assert_int_eq(fb_tz_load(&tz, NULL, "America", &err), FB_INVALID); /* a directory */
}
END_TEST

START_TEST(new_york_dst_days)
{
    fb_tz *tz = load("America/New_York");
    /* 2026-03-08: spring forward at 02:00 EST → 03:00 EDT. Day starts at
     * 05:00Z (EST −5) and the next at 04:00Z (EDT −4): 23 hours. */
    int64_t d = fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2026, 3, 8, 12, 0));
    ck_assert_int_eq(d, utc(2026, 3, 8, 5, 0));
    int64_t n = fb_tz_bucket_next(tz, FB_GRAN_DAY, d);
    ck_assert_int_eq(n, utc(2026, 3, 9, 4, 0));
    ck_assert_int_eq((n - d) / 3600000, 23);
    /* 2026-11-01: fall back at 02:00 EDT → 01:00 EST: 25 hours. */
    d = fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2026, 11, 1, 12, 0));
    ck_assert_int_eq(d, utc(2026, 11, 1, 4, 0));
    n = fb_tz_bucket_next(tz, FB_GRAN_DAY, d);
    ck_assert_int_eq((n - d) / 3600000, 25);
    /* hours on the spring day: 23 buckets; on the fall day: 24, one of 2 h. */
    int count = 0;
    int64_t two_hour = 0;
    for (int64_t h = fb_tz_bucket_start(tz, FB_GRAN_HOUR, utc(2026, 3, 8, 5, 0));
         h < utc(2026, 3, 9, 4, 0); h = fb_tz_bucket_next(tz, FB_GRAN_HOUR, h)) count++;
    ck_assert_int_eq(count, 23);
    count = 0;
    for (int64_t h = utc(2026, 11, 1, 4, 0); h < utc(2026, 11, 2, 5, 0);) {
        int64_t nx = fb_tz_bucket_next(tz, FB_GRAN_HOUR, h);
        if (nx - h == 7200000) two_hour = h;
        count++;
        h = nx;
    }
    ck_assert_int_eq(count, 24);
    ck_assert_int_eq(two_hour, utc(2026, 11, 1, 5, 0)); /* 01:00 EDT */
    /* 01:30 EST (second occurrence) is in the 01:00 bucket */
    ck_assert_int_eq(fb_tz_bucket_start(tz, FB_GRAN_HOUR, utc(2026, 11, 1, 6, 30)), utc(2026, 11, 1, 5, 0));
    ck_assert_int_eq(fb_tz_offset(tz, utc(2026, 7, 1, 0, 0)), -4 * 3600);
    ck_assert_int_eq(fb_tz_offset(tz, utc(2026, 1, 1, 0, 0)), -5 * 3600);
    /* far future: from the footer rule (EST5EDT,M3.2.0,M11.1.0) */
    ck_assert_int_eq(fb_tz_offset(tz, utc(2090, 7, 1, 0, 0)), -4 * 3600);
    ck_assert_int_eq(fb_tz_offset(tz, utc(2090, 12, 1, 0, 0)), -5 * 3600);
    fb_tz_free(tz);
}
END_TEST

START_TEST(london_and_kolkata)
{
    fb_tz *tz = load("Europe/London");
    /* BST begins 2026-03-29 01:00Z; day 29 starts 00:00Z, 30th at 23:00Z on 29 */
    int64_t d = fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2026, 3, 29, 10, 0));
    ck_assert_int_eq(d, utc(2026, 3, 29, 0, 0));
    ck_assert_int_eq(fb_tz_bucket_next(tz, FB_GRAN_DAY, d), utc(2026, 3, 29, 23, 0));
    ck_assert_int_eq(fb_tz_offset(tz, utc(2026, 6, 1, 0, 0)), 3600);
    fb_tz_free(tz);

    tz = load("Asia/Kolkata");
    ck_assert_int_eq(fb_tz_offset(tz, utc(2026, 6, 1, 0, 0)), 5 * 3600 + 1800);
    /* local midnight 2026-06-01 = 2026-05-31 18:30Z */
    ck_assert_int_eq(fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2026, 6, 1, 0, 0)), utc(2026, 5, 31, 18, 30));
    ck_assert_int_eq(fb_tz_bucket_start(tz, FB_GRAN_HOUR, utc(2026, 6, 1, 0, 10)), utc(2026, 5, 31, 23, 30));
    fb_tz_free(tz);
}
END_TEST

START_TEST(lord_howe_half_hour_dst)
{
    fb_tz *tz = load("Australia/Lord_Howe");
    /* +10:30 standard, +11 in summer; DST ends first Sunday of April 2026
     * (2026-04-05) at 02:00 local DST → 01:30 standard: a 24.5 h day. */
    ck_assert_int_eq(fb_tz_offset(tz, utc(2026, 1, 15, 0, 0)), 11 * 3600);
    ck_assert_int_eq(fb_tz_offset(tz, utc(2026, 6, 15, 0, 0)), 10 * 3600 + 1800);
    int64_t d = fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2026, 4, 5, 6, 0));
    ck_assert_int_eq(d, utc(2026, 4, 4, 13, 0)); /* 00:00 +11 */
    int64_t n = fb_tz_bucket_next(tz, FB_GRAN_DAY, d);
    ck_assert_int_eq(n, utc(2026, 4, 5, 13, 30)); /* 00:00 +10:30 */
    /* DST starts 2026-10-04 02:00 → 02:30: a 23.5 h day */
    d = fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2026, 10, 4, 6, 0));
    n = fb_tz_bucket_next(tz, FB_GRAN_DAY, d);
    ck_assert_int_eq(n - d, (23 * 3600 + 1800) * 1000LL);
    fb_tz_free(tz);
}
END_TEST

START_TEST(weeks_and_months)
{
    fb_tz *tz = load("America/New_York");
    /* 2026-03-11 is a Wednesday; its ISO week starts Monday 2026-03-09 00:00 EDT */
    int64_t w = fb_tz_bucket_start(tz, FB_GRAN_WEEK, utc(2026, 3, 11, 15, 0));
    ck_assert_int_eq(w, utc(2026, 3, 9, 4, 0));
    /* the week containing the spring-forward Sunday is 167 hours */
    int64_t w0 = fb_tz_bucket_start(tz, FB_GRAN_WEEK, utc(2026, 3, 8, 12, 0));
    ck_assert_int_eq(w0, utc(2026, 3, 2, 5, 0));
    ck_assert_int_eq((fb_tz_bucket_next(tz, FB_GRAN_WEEK, w0) - w0) / 3600000, 167);
    /* month ends: Feb 2028 (leap) has 29 days; 2026-01-31 23:30 local is January */
    int64_t m = fb_tz_bucket_start(tz, FB_GRAN_MONTH, utc(2028, 2, 15, 0, 0));
    ck_assert_int_eq(m, utc(2028, 2, 1, 5, 0));
    ck_assert_int_eq(fb_tz_bucket_next(tz, FB_GRAN_MONTH, m), utc(2028, 3, 1, 5, 0));
    ck_assert_int_eq(fb_tz_bucket_start(tz, FB_GRAN_MONTH, utc(2026, 2, 1, 4, 30)), utc(2026, 1, 1, 5, 0));
    ck_assert_int_eq(fb_tz_bucket_next(tz, FB_GRAN_MONTH, utc(2026, 12, 1, 5, 0)), utc(2027, 1, 1, 5, 0));
    fb_tz_free(tz);
}
END_TEST

START_TEST(missing_midnight)
{
    /* America/Sao_Paulo 2018-11-04: clocks went 00:00 → 01:00; the day
     * starts at 01:00 local = 03:00Z. */
    fb_tz *tz = load("America/Sao_Paulo");
    int64_t d = fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2018, 11, 4, 15, 0));
    ck_assert_int_eq(d, utc(2018, 11, 4, 3, 0));
    ck_assert_int_eq(fb_tz_bucket_next(tz, FB_GRAN_DAY, fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2018, 11, 3, 15, 0))), d);
    fb_tz_free(tz);
    /* Pacific/Apia skipped 2011-12-30 entirely: Dec 29 → Dec 31 */
    tz = load("Pacific/Apia");
    int64_t d29 = fb_tz_bucket_start(tz, FB_GRAN_DAY, utc(2011, 12, 30, 0, 0));
    int64_t d31 = fb_tz_bucket_next(tz, FB_GRAN_DAY, d29);
    ck_assert_int_eq((d31 - d29) / 3600000, 24);
    ck_assert_int_eq(fb_tz_local_day(tz, d31), fb_days_from_civil(2011, 12, 31));
    fb_tz_free(tz);
}
END_TEST

/* Offsets and day boundaries agree with the C library on random instants. */
START_TEST(agrees_with_libc)
{
    static const char *zones[] = {"America/New_York", "Europe/London", "Asia/Kolkata",
        "Australia/Lord_Howe", "Asia/Kathmandu", "America/Sao_Paulo", "Pacific/Chatham",
        "Europe/Dublin", "America/Nuuk", "UTC", "Africa/Casablanca", "America/Santiago"};
    uint64_t s = 42;
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        fb_tz *tz = load(zones[z]);
        setenv("TZ", zones[z], 1);
        tzset();
        for (int i = 0; i < 20000; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            /* 1975 .. 2075 */
            time_t t = (time_t)(157766400 + (int64_t)((s >> 20) % 3155760000ULL));
            struct tm lt;
            localtime_r(&t, &lt);
            ck_assert_msg(fb_tz_offset(tz, (int64_t)t * 1000) == lt.tm_gmtoff,
                          "%s at %lld: %d vs %ld", zones[z], (long long)t,
                          fb_tz_offset(tz, (int64_t)t * 1000), lt.tm_gmtoff);
            int64_t day = fb_tz_local_day(tz, (int64_t)t * 1000);
            ck_assert_int_eq(day, fb_days_from_civil(lt.tm_year + 1900, (unsigned)lt.tm_mon + 1, (unsigned)lt.tm_mday));
            int64_t hs = fb_tz_bucket_start(tz, FB_GRAN_HOUR, (int64_t)t * 1000);
            ck_assert(hs <= (int64_t)t * 1000 && fb_tz_bucket_next(tz, FB_GRAN_HOUR, hs) > (int64_t)t * 1000);
        }
        fb_tz_free(tz);
    }
    unsetenv("TZ");
}
END_TEST

START_TEST(cache_shares)
{
    fb_tzcache *c = NULL;
    fb_err err = {0};
    ck_assert_int_eq(fb_tzcache_open(&c, NULL, &err), FB_OK);
    const fb_tz *a = NULL, *b = NULL;
    ck_assert_int_eq(fb_tzcache_get(c, "Europe/Paris", &a, &err), FB_OK);
    ck_assert_int_eq(fb_tzcache_get(c, "Europe/Paris", &b, &err), FB_OK);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(fb_tzcache_get(c, "", &a, &err), FB_OK);
    ck_assert_str_eq(fb_tz_name(a), "UTC");
    ck_assert_int_eq(fb_tzcache_get(c, "No/Such", &a, &err), FB_INVALID);
    fb_tzcache_close(c);
}
END_TEST

static Suite *tz_suite(void)
{
    Suite *s = suite_create("tz");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, civil_roundtrip);
    tcase_add_test(tc, names_validated);
    tcase_add_test(tc, new_york_dst_days);
    tcase_add_test(tc, london_and_kolkata);
    tcase_add_test(tc, lord_howe_half_hour_dst);
    tcase_add_test(tc, weeks_and_months);
    tcase_add_test(tc, missing_midnight);
    tcase_add_test(tc, agrees_with_libc);
    tcase_add_test(tc, cache_shares);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(tz_suite)
