/* test_nps.c — NPS, adjusted-Wald margin and the period z-test, checked
 * against values worked out by hand (steps in the comments). */
#include <math.h>

#include "fbtest.h"
#include "nps.h"

#define CLOSE(a, b) ck_assert_msg(fabs((a) - (b)) < 1e-6, "%.9f != %.9f", (double)(a), (double)(b))

START_TEST(forty_responses)
{
    /* P=20, passives=10, D=10, n=40: NPS = 100·(20−10)/40 = 25.
     * n' = 43, p' = 20.75/43 = 0.4825581, d' = 10.75/43 = 0.25
     * p'+d' = 0.7325581, (p'−d')² = 0.2325581² = 0.0540833
     * Var' = (0.7325581 − 0.0540833)/43 = 0.0157785, SE' = 0.1256124
     * margin = 1.96 · 0.1256124 · 100 = 24.6200381 → ci [0.3799619, 49.6200381] */
    fb_nps r;
    fb_nps_compute(20, 10, 10, &r);
    ck_assert_uint_eq(r.n, 40);
    CLOSE(r.nps, 25.0);
    CLOSE(r.se, 0.1256124393);
    CLOSE(r.margin_95, 24.6200381078);
    CLOSE(r.ci_low, 25.0 - 24.6200381078);
    CLOSE(r.ci_high, 25.0 + 24.6200381078);
}
END_TEST

START_TEST(empty_is_defined)
{
    /* n=0: n'=3, p'=d'=0.25, Var' = (0.5 − 0)/3 = 1/6, SE' = 0.4082483
     * margin = 1.96 · 40.82483 = 80.0166649; nps 0, ci [−80.017, 80.017] */
    fb_nps r;
    fb_nps_compute(0, 0, 0, &r);
    CLOSE(r.nps, 0.0);
    CLOSE(r.margin_95, 80.0166649309);
    CLOSE(r.ci_low, -80.0166649309);
    CLOSE(r.ci_high, 80.0166649309);
}
END_TEST

START_TEST(extremes_clamped)
{
    /* 30 promoters: nps 100. n'=33, p'=30.75/33=0.9318182, d'=0.75/33=0.0227273
     * Var' = (0.9545455 − 0.9090909²)/33 = (0.9545455 − 0.8264463)/33 = 0.0038818
     * SE' = 0.0623040, margin = 12.2115914; ci_high clamps to 100. */
    fb_nps r;
    fb_nps_compute(30, 0, 0, &r);
    CLOSE(r.nps, 100.0);
    CLOSE(r.margin_95, 12.2115914274);
    CLOSE(r.ci_high, 100.0);
    CLOSE(r.ci_low, 100.0 - 12.2115914274);
    fb_nps_compute(0, 0, 30, &r);
    CLOSE(r.nps, -100.0);
    CLOSE(r.ci_low, -100.0);
    CLOSE(r.ci_high, -100.0 + 12.2115914274);
}
END_TEST

START_TEST(change_not_significant)
{
    /* cur 50/30/20 (nps 30), prev 40/30/30 (nps 10): change +20.
     * cur: n'=103, p'=50.75/103, d'=20.75/103, p'−d' = 30/103 = 0.2912621,
     *      Var' = (71.5/103 − 0.2912621²)/103 = (0.6941748 − 0.0848336)/103
     *           = 0.0059159, SE' = 0.0769151
     * prev: p'−d' = 10/103 = 0.0970874, Var' = (71.5/103 − 0.0094260)/103
     *           = 0.0066480, SE' = 0.0815356
     * z = (0.2912621 − 0.0970874)/sqrt(0.0059159 + 0.0066480) = 0.1941748/0.1120890
     *   = 1.7323 < 1.96: not significant, despite 20 points. */
    fb_nps a, b;
    fb_nps_change c;
    fb_nps_compute(50, 30, 20, &a);
    fb_nps_compute(40, 30, 30, &b);
    fb_nps_compare(&a, &b, &c);
    CLOSE(c.change, 20.0);
    CLOSE(c.z, 1.7323241327);
    ck_assert(!c.significant);
}
END_TEST

START_TEST(change_significant)
{
    /* cur 450/300/250 (nps 20), prev 400/300/300 (nps 10), n = 1000 each:
     * cur p'−d' = 200/1003 = 0.1994018, SE' = 0.0256450
     * prev p'−d' = 100/1003 = 0.0997009, SE' = 0.0262183
     * z = 0.0997009/sqrt(0.0256450² + 0.0262183²) = 0.0997009/0.0366757 = 2.7185 */
    fb_nps a, b;
    fb_nps_change c;
    fb_nps_compute(450, 300, 250, &a);
    fb_nps_compute(400, 300, 300, &b);
    fb_nps_compare(&a, &b, &c);
    CLOSE(c.z, 2.7184860019);
    ck_assert(c.significant);
    fb_nps_compare(&b, &a, &c); /* a drop is significant too (two-sided) */
    CLOSE(c.z, -2.7184860019);
    CLOSE(c.change, -10.0);
    ck_assert(c.significant);
}
END_TEST

START_TEST(two_empty_periods)
{
    fb_nps a, b;
    fb_nps_change c;
    fb_nps_compute(0, 0, 0, &a);
    fb_nps_compute(0, 0, 0, &b);
    fb_nps_compare(&a, &b, &c);
    CLOSE(c.change, 0.0);
    CLOSE(c.z, 0.0);
    ck_assert(!c.significant);
}
END_TEST

static Suite *nps_suite(void)
{
    Suite *s = suite_create("nps");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, forty_responses);
    tcase_add_test(tc, empty_is_defined);
    tcase_add_test(tc, extremes_clamped);
    tcase_add_test(tc, change_not_significant);
    tcase_add_test(tc, change_significant);
    tcase_add_test(tc, two_empty_periods);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(nps_suite)
