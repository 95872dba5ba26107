/* test_terms.c — TopTerms: a hand-worked ranking, and a randomised
 * comparison (fixed seeds, bounded) against a naive recount from the raw
 * stream, including erasures, filters, by_aspect and both directions. */
#include "dash_gen.h"
#include "trends_int.h"

static const int64_t DAY = 86400000LL;

/* ---- hand-worked ---- */

static g_item mk(int64_t t, double compound, int label, int t0, int t1)
{
    g_item it;
    memset(&it, 0, sizeof it);
    it.tenant = 1;
    strcpy(it.survey, "s1");
    it.score = 3;
    it.t = t;
    it.has_text = 1;
    it.compound = compound;
    it.label = label;
    it.term[it.n_terms++] = t0;
    if (t1 >= 0) it.term[it.n_terms++] = t1;
    it.live = 1;
    return it;
}

START_TEST(hand_ranking)
{
    fb_store *st;
    fb_trends *tr;
    g_open("terms-hand", &st, &tr);
    int64_t t0 = g_utc(2026, 5, 4, 12, 0);
    /* rude (0): twice in strongly negative feedback (−0.8, −0.6) → mean −0.7,
     *   score = 2 × (1 + 0.7)/2 = 1.7
     * slow (1): twice in mildly negative feedback (−0.1 ×2) → mean −0.1,
     *   score = 2 × 1.1/2 = 1.1
     * love (7): in −0.1 (negative) and 0.9 feedback → mean 0.4; as a negative
     *   driver 1 × 0.6/2 = 0.3; as a positive one 1 × 1.4/2 = 0.7
     * surface of rude: "rude" once, "rudely" once → tie → the smaller, "rude" */
    g_item items[6] = {
        mk(t0, -0.8, 1, 0, -1), mk(t0 + 1000, -0.6, 2, 8 /* rudely */, -1),
        mk(t0 + 2000, -0.1, 2, 1, -1), mk(t0 + DAY, -0.1, 2, 1, 7),
        mk(t0 + DAY, 0.9, 5, 7, -1), mk(t0 + 3 * DAY, 0.0, 3, 3, -1),
    };
    items[5].has_text = 0; /* no text: counted in total only */
    items[5].n_terms = 0;
    g_item *p[6];
    for (int i = 0; i < 6; i++) p[i] = &items[i];
    g_apply(st, tr, p, 6, 1);

    fb_trends_ctx c = {.tenant = 1, .timezone = "UTC", .now_ms = t0 + 10 * DAY};
    Feedback__V1__TermsQuery q;
    feedback__v1__terms_query__init(&q);
    q.from_ms = t0 - DAY;
    q.to_ms = t0 + 5 * DAY;
    Feedback__V1__TermsReply r;
    fb_err err = {0};
    ck_assert_int_eq(fb_trends_top_terms(tr, &c, &q, &r, &err), FB_OK);
    ck_assert_uint_eq(r.total, 6);
    ck_assert_uint_eq(r.n_terms, 3);
    ck_assert_str_eq(r.terms[2]->stem, "love");
    ck_assert_str_eq(r.terms[0]->stem, "rude");
    ck_assert_str_eq(r.terms[0]->surface, "rude");
    ck_assert_uint_eq(r.terms[0]->mentions, 2);
    ck_assert(fabs(r.terms[0]->mean_sentiment - -0.7) < 1e-9);
    ck_assert(fabs(r.terms[0]->share - 2.0 / 6.0) < 1e-12);
    ck_assert_str_eq(r.terms[1]->stem, "slow");
    ck_assert_uint_eq(r.terms[1]->mentions, 2);
    fb_trends_terms_clear(&r);

    q.direction = FEEDBACK__V1__TERMS_QUERY__DIRECTION__POSITIVE;
    ck_assert_int_eq(fb_trends_top_terms(tr, &c, &q, &r, &err), FB_OK);
    ck_assert_uint_eq(r.n_terms, 1);
    ck_assert_str_eq(r.terms[0]->stem, "love");
    ck_assert_uint_eq(r.terms[0]->mentions, 2); /* mentioned twice, once positive */
    fb_trends_terms_clear(&r);

    q.direction = 0;
    q.by_aspect = 1; /* rude → staff, slow → wait, love → none */
    ck_assert_int_eq(fb_trends_top_terms(tr, &c, &q, &r, &err), FB_OK);
    ck_assert_uint_eq(r.n_terms, 2);
    ck_assert_str_eq(r.terms[0]->aspect, "staff");
    ck_assert_str_eq(r.terms[1]->aspect, "wait");
    fb_trends_terms_clear(&r);

    /* erase the "rude" (surface "rude") feedback: surface becomes "rudely" */
    g_apply(st, tr, p, 1, -1);
    q.by_aspect = 0;
    q.limit = 1;
    ck_assert_int_eq(fb_trends_top_terms(tr, &c, &q, &r, &err), FB_OK);
    ck_assert_uint_eq(r.total, 5);
    ck_assert_uint_eq(r.n_terms, 1);
    ck_assert_str_eq(r.terms[0]->stem, "slow"); /* 2 × 1.1/2 = 1.1 > rude 1 × 1.6/2 = 0.8 */
    fb_trends_terms_clear(&r);
    q.limit = 0;
    ck_assert_int_eq(fb_trends_top_terms(tr, &c, &q, &r, &err), FB_OK);
    ck_assert_str_eq(r.terms[1]->surface, "rudely");
    fb_trends_terms_clear(&r);

    q.from_ms = q.to_ms;
    ck_assert_int_eq(fb_trends_top_terms(tr, &c, &q, &r, &err), FB_INVALID);
    fb_trends_close(tr);
    fb_store_close(st);
}
END_TEST

/* ---- randomised against a naive recount ---- */

#define N_ITEMS 1500

typedef struct nterm { const char *stem; int64_t v[4]; int64_t forms[2]; double score; } nterm;

static int cmp_nterm(const void *a, const void *b)
{
    const nterm *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->v[0] != y->v[0]) return x->v[0] > y->v[0] ? -1 : 1;
    return strcmp(x->stem, y->stem);
}

static int aspect_index(const char *a)
{
    for (int s = 0; s < G_N_STEMS; s++) if (g_aspects[s] && strcmp(g_aspects[s], a) == 0) return s;
    return -1;
}

static void check_query(fb_trends *tr, g_item *items, size_t n)
{
    static const char *const surveys[] = {"", "s1", "s2"};
    Feedback__V1__TermsQuery q;
    feedback__v1__terms_query__init(&q);
    uint32_t tenant = 1 + (uint32_t)(g_next() % 2);
    q.survey_id = (char *)surveys[g_next() % 3];
    q.from_ms = g_anchor() + g_range(-6 * DAY, 3 * DAY);
    q.to_ms = q.from_ms + g_range(1, 10 * DAY);
    q.direction = (Feedback__V1__TermsQuery__Direction)(g_next() % 3);
    q.by_aspect = g_next() % 3 == 0;
    q.limit = (uint32_t)(g_next() % 8);
    Feedback__V1__Filter f;
    Feedback__V1__Filter__TagsEntry te, *tp[1];
    char vbuf[8];
    g_random_filter(&f, &te, tp, vbuf);
    q.filter = &f;
    fb_seg seg;
    fb_err err = {0};
    ck_assert_int_eq(fb_seg_from_filter(&f, &seg, &err), FB_OK);
    int64_t lo = fb_floor_div(q.from_ms, DAY) * DAY, hi = (fb_floor_div(q.to_ms - 1, DAY) + 1) * DAY;
    nterm nt[G_N_STEMS];
    memset(nt, 0, sizeof nt);
    int64_t total = 0;
    int positive = q.direction == 2;
    for (size_t i = 0; i < n; i++) {
        const g_item *it = &items[i];
        if (!it->live || it->tenant != tenant || !g_match(it, q.survey_id, &seg) || it->t < lo || it->t >= hi) continue;
        total++;
        int seen_aspect[G_N_STEMS] = {0};
        for (int k = 0; k < it->n_terms; k++) {
            int s = it->term[k] % G_N_STEMS, form = it->term[k] / G_N_STEMS;
            int slot = s;
            if (q.by_aspect) {
                if (!g_aspects[s]) continue;
                slot = aspect_index(g_aspects[s]);
                if (seen_aspect[slot]++) continue;
            }
            nt[slot].stem = q.by_aspect ? g_aspects[s] : g_stems[s];
            nt[slot].v[0]++;
            nt[slot].v[1] += llround(it->compound * 1e6);
            nt[slot].v[2] += it->label <= 2;
            nt[slot].v[3] += it->label == 4 || it->label == 5;
            nt[slot].forms[form]++;
        }
    }
    nterm out[G_N_STEMS];
    size_t k = 0;
    for (int s = 0; s < G_N_STEMS; s++) {
        if (!nt[s].v[0]) continue;
        double mean = (double)nt[s].v[1] / 1e6 / (double)nt[s].v[0];
        int64_t d = positive ? nt[s].v[3] : nt[s].v[2];
        if (d <= 0) continue;
        nt[s].score = (double)d * (positive ? 1.0 + mean : 1.0 - mean) / 2.0;
        out[k++] = nt[s];
    }
    qsort(out, k, sizeof *out, cmp_nterm);
    size_t limit = q.limit ? q.limit : 20;
    if (k > limit) k = limit;

    Feedback__V1__TermsReply r;
    fb_trends_ctx c = {.tenant = tenant, .timezone = "UTC", .now_ms = INT64_MAX / 4};
    ck_assert_msg(fb_trends_top_terms(tr, &c, &q, &r, &err) == FB_OK, "%s", err.msg);
    ck_assert_int_eq(r.total, total);
    ck_assert_uint_eq(r.n_terms, k);
    for (size_t i = 0; i < k; i++) {
        ck_assert_str_eq(r.terms[i]->stem, out[i].stem);
        ck_assert_uint_eq(r.terms[i]->mentions, out[i].v[0]);
        ck_assert(r.terms[i]->mean_sentiment == (double)out[i].v[1] / 1e6 / (double)out[i].v[0]);
        ck_assert(r.terms[i]->share == (double)out[i].v[0] / (double)total);
        if (!q.by_aspect) {
            int s = 0;
            while (strcmp(g_stems[s], out[i].stem) != 0) s++;
            const char *want = out[i].forms[1] > out[i].forms[0] ||
                               (out[i].forms[1] == out[i].forms[0] && strcmp(g_surfaces[s][1], g_surfaces[s][0]) < 0)
                               ? g_surfaces[s][1] : g_surfaces[s][0];
            ck_assert_str_eq(r.terms[i]->surface, want);
        }
    }
    fb_trends_terms_clear(&r);
}

START_TEST(random_vs_naive)
{
    g_rng = 0x7e57ULL + (uint64_t)_i * 104729;
    fb_store *st;
    fb_trends *tr;
    g_open("terms-rand", &st, &tr);
    g_item *items = calloc(N_ITEMS, sizeof *items);
    g_item **p = malloc(N_ITEMS * sizeof *p);
    for (size_t i = 0; i < N_ITEMS; i++) { g_random_item(&items[i], 2); p[i] = &items[i]; }
    for (size_t i = 0; i < N_ITEMS; i += 100) g_apply(st, tr, p + i, 100, 1);
    for (int e = 0; e < 6; e++) { /* erase respondents */
        int resp = (int)(g_next() % 20);
        size_t k = 0;
        for (size_t i = 0; i < N_ITEMS; i++)
            if (items[i].live && items[i].resp == resp) { items[i].live = 0; p[k++] = &items[i]; }
        if (k) g_apply(st, tr, p, k, -1);
    }
    for (int i = 0; i < 300; i++) check_query(tr, items, N_ITEMS);
    free(p);
    free(items);
    fb_trends_close(tr);
    fb_store_close(st);
}
END_TEST

static Suite *terms_suite(void)
{
    Suite *s = suite_create("terms");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, hand_ranking);
    tcase_add_loop_test(tc, random_vs_naive, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(terms_suite)
