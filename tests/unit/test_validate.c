/* test_validate.c — every input rule of API.md, at its boundaries. */
#include "fbtest.h"

#include "validate.h"

#define NOW 1700000000000LL

/* A request that passes; each test breaks one field. */
typedef struct resp_fixture {
    Feedback__V1__SubmitResponseRequest r;
    Feedback__V1__SubmitResponseRequest__TagsEntry e[20];
    Feedback__V1__SubmitResponseRequest__TagsEntry *ep[20];
    char keys[20][8];
} resp_fixture;

static void resp_init(resp_fixture *f)
{
    feedback__v1__submit_response_request__init(&f->r);
    f->r.survey_id = "onboarding-2024.q1_A";
    f->r.score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE;
    f->r.score = 7;
    f->r.comment = "Fine, thanks";
    for (int i = 0; i < 20; i++) {
        feedback__v1__submit_response_request__tags_entry__init(&f->e[i]);
        snprintf(f->keys[i], sizeof f->keys[i], "k%d", i);
        f->e[i].key = f->keys[i];
        f->e[i].value = "v";
        f->ep[i] = &f->e[i];
    }
    f->r.tags = f->ep;
    f->r.n_tags = 2;
}

static int check_resp(resp_fixture *f, fb_err *err)
{
    memset(err, 0, sizeof *err);
    return fb_validate_response(&f->r, NOW, NULL, err);
}

static void expect_resp(resp_fixture *f, int rc, const char *msg)
{
    fb_err err;
    int got = check_resp(f, &err);
    ck_assert_int_eq(got, rc);
    if (msg) ck_assert_str_eq(err.msg, msg);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

START_TEST(valid_response_passes)
{
    resp_fixture f;
    resp_init(&f);
    expect_resp(&f, FB_OK, NULL);
    f.r.score = 0;
    expect_resp(&f, FB_OK, NULL);
    f.r.score = 10;
    expect_resp(&f, FB_OK, NULL);
}
END_TEST

START_TEST(score_rules)
{
    resp_fixture f;
    resp_init(&f);
    f.r.score = 11;
    expect_resp(&f, FB_INVALID, "score: must be 0..10, got 11");
    f.r.score = -1;
    expect_resp(&f, FB_INVALID, "score: must be 0..10, got -1");
    f.r.score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT__NOT_SET;
    f.r.score = 0;
    expect_resp(&f, FB_INVALID, "score: required");
}
END_TEST

START_TEST(survey_id_rules)
{
    resp_fixture f;
    resp_init(&f);
    f.r.survey_id = "";
    expect_resp(&f, FB_INVALID, "survey_id: required");
    f.r.survey_id = "has space";
    expect_resp(&f, FB_INVALID, "survey_id: must match [A-Za-z0-9._-]{1,64}, got \"has space\"");
    char *s64 = repeat('a', 64), *s65 = repeat('a', 65);
    f.r.survey_id = s64;
    expect_resp(&f, FB_OK, NULL);
    f.r.survey_id = s65;
    expect_resp(&f, FB_INVALID, "survey_id: must match [A-Za-z0-9._-]{1,64}");
    f.r.survey_id = "caf\xc3\xa9";
    expect_resp(&f, FB_INVALID, "survey_id: must match [A-Za-z0-9._-]{1,64}, got \"caf\xc3\xa9\"");
    free(s64);
    free(s65);
}
END_TEST

START_TEST(comment_rules)
{
    resp_fixture f;
    resp_init(&f);
    char *c8192 = repeat('x', 8192), *c9000 = repeat('x', 9000);
    f.r.comment = c8192;
    expect_resp(&f, FB_OK, NULL);
    f.r.comment = c9000;
    expect_resp(&f, FB_INVALID, "comment: at most 8192 bytes, got 9000");
    char bad[] = "seventeen bytes!!\xff rest";
    f.r.comment = bad;
    expect_resp(&f, FB_INVALID, "comment: must be valid UTF-8 (invalid byte at offset 17)");
    free(c8192);
    free(c9000);
}
END_TEST

START_TEST(utf8_decoder)
{
    size_t off = 99;
    ck_assert(fb_utf8_check("", 0, &off));
    ck_assert(fb_utf8_check("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, &off)); /* é € 😀 */
    ck_assert(fb_utf8_check("\xf4\x8f\xbf\xbf", 4, &off));                       /* U+10FFFF */
    ck_assert(!fb_utf8_check("\xc0\xaf", 2, &off));                                /* overlong */
    ck_assert_uint_eq(off, 0);
    ck_assert(!fb_utf8_check("ab\xe0\x80\xaf", 5, &off));                          /* overlong 3 */
    ck_assert_uint_eq(off, 2);
    ck_assert(!fb_utf8_check("\xed\xa0\x80", 3, &off));                            /* surrogate */
    ck_assert(!fb_utf8_check("\xf4\x90\x80\x80", 4, &off));                        /* > U+10FFFF */
    ck_assert(!fb_utf8_check("abc\xe2\x82", 5, &off));                             /* truncated */
    ck_assert_uint_eq(off, 3);
    ck_assert(!fb_utf8_check("x\x80", 2, &off));                                   /* stray continuation */
    ck_assert_uint_eq(off, 1);
    ck_assert(!fb_utf8_check("\xe2\x28\xa1", 3, &off));                            /* bad 2nd byte */
    ck_assert(!fb_utf8_check("\xf5\x80\x80\x80", 4, &off));
}
END_TEST

START_TEST(tag_rules)
{
    resp_fixture f;
    resp_init(&f);
    f.r.n_tags = 16;
    expect_resp(&f, FB_OK, NULL);
    f.r.n_tags = 17;
    expect_resp(&f, FB_INVALID, "tags: at most 16 pairs, got 17");
    f.r.n_tags = 2;
    f.e[1].key = "Bad Key";
    expect_resp(&f, FB_INVALID, "tags: key \"Bad Key\" must match [a-z0-9_]{1,32}");
    f.e[1].key = "";
    expect_resp(&f, FB_INVALID, "tags: key \"\" must match [a-z0-9_]{1,32}");
    char *k32 = repeat('k', 32), *k33 = repeat('k', 33);
    f.e[1].key = k32;
    expect_resp(&f, FB_OK, NULL);
    f.e[1].key = k33;
    expect_resp(&f, FB_INVALID, "tags: key \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\" must match [a-z0-9_]{1,32}");
    f.e[1].key = "x";
    char *v128 = repeat('v', 128), *v129 = repeat('v', 129);
    f.e[1].value = v128;
    expect_resp(&f, FB_OK, NULL);
    f.e[1].value = v129;
    expect_resp(&f, FB_INVALID, "tags[\"x\"]: value at most 128 bytes, got 129");
    f.e[1].value = "\xff";
    expect_resp(&f, FB_INVALID, "tags[\"x\"]: value must be valid UTF-8 (invalid byte at offset 0)");
    f.e[1].value = "v";
    f.e[1].key = "k0";
    expect_resp(&f, FB_INVALID, "tags: key \"k0\" given twice");
    free(k32); free(k33); free(v128); free(v129);
}
END_TEST

START_TEST(time_and_idempotency_rules)
{
    resp_fixture f;
    resp_init(&f);
    f.r.submitted_at_ms = NOW + 5 * 60 * 1000;
    expect_resp(&f, FB_OK, NULL);
    f.r.submitted_at_ms = NOW + 5 * 60 * 1000 + 1;
    expect_resp(&f, FB_INVALID, "submitted_at_ms: more than 5 minutes in the future (300001 ms ahead)");
    f.r.submitted_at_ms = -1;
    expect_resp(&f, FB_INVALID, "submitted_at_ms: must not be negative, got -1");
    f.r.submitted_at_ms = 1;
    expect_resp(&f, FB_OK, NULL);
    char *k128 = repeat('i', 128), *k129 = repeat('i', 129);
    f.r.idempotency_key = k128;
    expect_resp(&f, FB_OK, NULL);
    f.r.idempotency_key = k129;
    expect_resp(&f, FB_INVALID, "idempotency_key: at most 128 bytes, got 129");
    f.r.idempotency_key = "\xc3";
    expect_resp(&f, FB_INVALID, "idempotency_key: must be valid UTF-8 (invalid byte at offset 0)");
    free(k128);
    free(k129);
}
END_TEST

START_TEST(respondent_channel_language_rules)
{
    resp_fixture f;
    resp_init(&f);
    char *r128 = repeat('r', 128), *r129 = repeat('r', 129);
    f.r.respondent_id = r128;
    expect_resp(&f, FB_OK, NULL);
    f.r.respondent_id = r129;
    expect_resp(&f, FB_INVALID, "respondent_id: at most 128 bytes, got 129");
    f.r.respondent_id = "cust\xfe";
    expect_resp(&f, FB_INVALID, "respondent_id: must be valid UTF-8 (invalid byte at offset 4)");
    f.r.respondent_id = "";
    f.r.channel = "in_store";
    expect_resp(&f, FB_OK, NULL);
    f.r.channel = "Web";
    expect_resp(&f, FB_INVALID, "channel: must match [a-z0-9_]{1,32}, got \"Web\"");
    char *c32 = repeat('c', 32), *c33 = repeat('c', 33);
    f.r.channel = c32;
    expect_resp(&f, FB_OK, NULL);
    f.r.channel = c33;
    expect_resp(&f, FB_INVALID, NULL);
    f.r.channel = "";
    f.r.language = "en";
    expect_resp(&f, FB_OK, NULL);
    f.r.language = "pt-BR";
    expect_resp(&f, FB_OK, NULL);
    f.r.language = "english";
    expect_resp(&f, FB_INVALID, "language: must be a BCP-47 primary tag like \"en\", got \"english\"");
    f.r.language = "e";
    expect_resp(&f, FB_INVALID, NULL);
    f.r.language = "en-";
    expect_resp(&f, FB_INVALID, NULL);
    char norm[8];
    fb_err err;
    ck_assert_int_eq(fb_validate_language("PT-br", NULL, norm, &err), FB_OK);
    ck_assert_str_eq(norm, "pt");
    ck_assert_int_eq(fb_validate_language("", NULL, norm, &err), FB_OK);
    ck_assert_str_eq(norm, "");
    free(r128); free(r129); free(c32); free(c33);
}
END_TEST

/* ---- reviews ---- */

static void review_init(Feedback__V1__SubmitReviewRequest *r)
{
    feedback__v1__submit_review_request__init(r);
    r->source = "google";
    r->external_id = "ChIJ:123-abc.X_y";
    r->rating = 4;
    r->title = "Nice";
    r->text = "Good food";
}

static void expect_review(Feedback__V1__SubmitReviewRequest *r, int rc, const char *msg)
{
    fb_err err;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(fb_validate_review(r, NOW, NULL, &err), rc);
    if (msg) ck_assert_str_eq(err.msg, msg);
}

START_TEST(review_rules)
{
    Feedback__V1__SubmitReviewRequest r;
    review_init(&r);
    expect_review(&r, FB_OK, NULL);
    r.rating = 0;
    expect_review(&r, FB_INVALID, "rating: must be 1..5, got 0");
    r.rating = 6;
    expect_review(&r, FB_INVALID, "rating: must be 1..5, got 6");
    r.rating = 1;
    expect_review(&r, FB_OK, NULL);
    r.rating = 5;
    r.source = "";
    expect_review(&r, FB_INVALID, "source: required");
    r.source = "google";
    r.external_id = "";
    expect_review(&r, FB_INVALID, "external_id: required");
    r.external_id = "a b";
    expect_review(&r, FB_INVALID, "external_id: must match [A-Za-z0-9._:-]{1,128}, got \"a b\"");
    char *e128 = repeat('e', 128), *e129 = repeat('e', 129);
    r.external_id = e128;
    expect_review(&r, FB_OK, NULL);
    r.external_id = e129;
    expect_review(&r, FB_INVALID, "external_id: must match [A-Za-z0-9._:-]{1,128}");
    r.external_id = "x1";
    char *t1024 = repeat('t', 1024), *t1025 = repeat('t', 1025);
    r.title = t1024;
    expect_review(&r, FB_OK, NULL);
    r.title = t1025;
    expect_review(&r, FB_INVALID, "title: at most 1024 bytes, got 1025");
    r.title = "";
    r.text = "ok\xc3\x28";
    expect_review(&r, FB_INVALID, "text: must be valid UTF-8 (invalid byte at offset 2)");
    r.text = "";
    r.survey_id = "bad id";
    expect_review(&r, FB_INVALID, "survey_id: must match [A-Za-z0-9._-]{1,64}, got \"bad id\"");
    r.survey_id = "";
    expect_review(&r, FB_OK, NULL); /* survey is optional on reviews */
    free(e128); free(e129); free(t1024); free(t1025);
}
END_TEST

START_TEST(import_item_rules)
{
    Feedback__V1__ImportItem it;
    feedback__v1__import_item__init(&it);
    fb_err err;
    ck_assert_int_eq(fb_validate_import_item(&it, NOW, NULL, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "item: required (a response or a review)");
    Feedback__V1__SubmitReviewRequest r;
    review_init(&r);
    r.rating = 9;
    it.item_case = FEEDBACK__V1__IMPORT_ITEM__ITEM_REVIEW;
    it.review = &r;
    ck_assert_int_eq(fb_validate_import_item(&it, NOW, NULL, &err), FB_INVALID);
    char field[64], reason[256];
    fb_validate_split(err.msg, field, sizeof field, reason, sizeof reason);
    ck_assert_str_eq(field, "rating");
    ck_assert_str_eq(reason, "must be 1..5, got 9");
    fb_validate_split("tags[\"x\"]: value at most 128 bytes, got 129", field, sizeof field, reason,
                      sizeof reason);
    ck_assert_str_eq(field, "tags[\"x\"]");
    ck_assert_str_eq(reason, "value at most 128 bytes, got 129");
}
END_TEST

START_TEST(list_and_analyze_rules)
{
    Feedback__V1__ListQuery q;
    feedback__v1__list_query__init(&q);
    fb_err err;
    ck_assert_int_eq(fb_validate_list_query(&q, &err), FB_OK);
    q.from_ms = 10;
    q.to_ms = 10;
    ck_assert_int_eq(fb_validate_list_query(&q, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "to_ms: must be after from_ms (10), got 10");
    q.to_ms = 11;
    ck_assert_int_eq(fb_validate_list_query(&q, &err), FB_OK);
    q.category = 7;
    ck_assert_int_eq(fb_validate_list_query(&q, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "category: unknown value 7");
    q.category = 0;
    q.channel = "UPPER";
    ck_assert_int_eq(fb_validate_list_query(&q, &err), FB_INVALID);

    Feedback__V1__AnalyzeRequest a;
    feedback__v1__analyze_request__init(&a);
    a.text = "good";
    ck_assert_int_eq(fb_validate_analyze(&a, NULL, &err), FB_OK);
    char *big = repeat('a', 8193);
    a.text = big;
    ck_assert_int_eq(fb_validate_analyze(&a, NULL, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "text: at most 8192 bytes, got 8193");
    a.text = "\x80";
    ck_assert_int_eq(fb_validate_analyze(&a, NULL, &err), FB_INVALID);
    free(big);
}
END_TEST

static Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, valid_response_passes);
    tcase_add_test(tc, score_rules);
    tcase_add_test(tc, survey_id_rules);
    tcase_add_test(tc, comment_rules);
    tcase_add_test(tc, utf8_decoder);
    tcase_add_test(tc, tag_rules);
    tcase_add_test(tc, time_and_idempotency_rules);
    tcase_add_test(tc, respondent_channel_language_rules);
    tcase_add_test(tc, review_rules);
    tcase_add_test(tc, import_item_rules);
    tcase_add_test(tc, list_and_analyze_rules);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(validate_suite)
