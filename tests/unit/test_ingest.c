/* test_ingest.c — from request to durable record with the real text engine
 * and a real LMDB directory: NPS categories, sentiment on every record and
 * reply, language resolution, idempotent retries through the async path,
 * validation errors before anything is queued, Import batches, Analyze. */
#include <pthread.h>

#include "fbtest.h"

#include "ingest.h"
#include "validate.h"

#define T1 1u

static const char *lexicon_dir(void)
{
    const char *d = getenv("FB_LEXICON_DIR");
    return d && *d ? d : FB_LEXICON_DIR;
}

typedef struct env {
    fb_store *st;
    fb_feedback *fb;
    fb_textengine *te;
    fb_ingest_env ie;
} env;

static void env_open(env *e, const char *name)
{
    fb_err err = {0};
    fb_store_opts o = {.no_sync = 1};
    ck_assert_int_eq(fb_store_open(&e->st, fb_test_tmpdir(name), &o, &err), FB_OK);
    ck_assert_int_eq(fb_feedback_open(&e->fb, e->st, &err), FB_OK);
    int rc = fb_text_open(&e->te, lexicon_dir(), &err);
    ck_assert_msg(rc == FB_OK, "text: %s", err.msg);
    e->ie = (fb_ingest_env){.feedback = e->fb, .text = e->te, .default_language = "en"};
}

static void env_close(env *e)
{
    fb_feedback_close(e->fb);
    fb_store_close(e->st);
    fb_text_close(e->te);
}

/* The done callback's view, copied out (res is only valid during the call). */
typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, rc;
    bool duplicate;
    char id[FB_ID_LEN + 1];
    char msg[256];
    Feedback__V1__Category category;
    bool has_sentiment;
    double compound;
    Feedback__V1__Label label;
    char language[8];
    char channel[40];
} waiter;

static void on_done(void *arg, int rc, const fb_err *err, const fb_ingest_result *res)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    if (rc) {
        snprintf(w->msg, sizeof w->msg, "%s", err ? err->msg : "");
    } else {
        Feedback__V1__Submitted s;
        fb_ingest_submitted(res, &s);
        snprintf(w->id, sizeof w->id, "%s", s.id);
        w->duplicate = s.duplicate;
        w->category = s.category;
        w->has_sentiment = s.sentiment != NULL;
        if (s.sentiment) {
            w->compound = s.sentiment->compound;
            w->label = s.sentiment->label;
            snprintf(w->language, sizeof w->language, "%s", s.sentiment->language);
        }
        snprintf(w->channel, sizeof w->channel, "%s", res->record->channel);
    }
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void wait_done(waiter *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static int submit(env *e, const Feedback__V1__SubmitResponseRequest *r, waiter *w, fb_err *err)
{
    *w = (waiter){.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    int rc = fb_ingest_submit_response(&e->ie, T1, r, on_done, w, err);
    if (rc == FB_OK) {
        wait_done(w);
        rc = w->rc;
    }
    return rc;
}

static void response_init(Feedback__V1__SubmitResponseRequest *r, int score, const char *comment)
{
    feedback__v1__submit_response_request__init(r);
    r->survey_id = "s1";
    r->score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE;
    r->score = score;
    r->comment = (char *)comment;
}

START_TEST(categories)
{
    for (int s = 0; s <= 6; s++) ck_assert_int_eq(fb_category_of_score(s), FEEDBACK__V1__CATEGORY__DETRACTOR);
    ck_assert_int_eq(fb_category_of_score(7), FEEDBACK__V1__CATEGORY__PASSIVE);
    ck_assert_int_eq(fb_category_of_score(8), FEEDBACK__V1__CATEGORY__PASSIVE);
    ck_assert_int_eq(fb_category_of_score(9), FEEDBACK__V1__CATEGORY__PROMOTER);
    ck_assert_int_eq(fb_category_of_score(10), FEEDBACK__V1__CATEGORY__PROMOTER);
    for (int r = 1; r <= 3; r++) ck_assert_int_eq(fb_category_of_rating(r), FEEDBACK__V1__CATEGORY__DETRACTOR);
    ck_assert_int_eq(fb_category_of_rating(4), FEEDBACK__V1__CATEGORY__PASSIVE);
    ck_assert_int_eq(fb_category_of_rating(5), FEEDBACK__V1__CATEGORY__PROMOTER);
}
END_TEST

START_TEST(submit_response_carries_category_and_sentiment)
{
    env e;
    env_open(&e, "ing-submit");
    Feedback__V1__SubmitResponseRequest r;
    waiter w;
    fb_err err = {0};
    response_init(&r, 2, "The staff were rude and the food came back cold. Never again.");
    ck_assert_int_eq(submit(&e, &r, &w, &err), FB_OK);
    ck_assert_uint_eq(strlen(w.id), FB_ID_LEN);
    ck_assert(!w.duplicate);
    ck_assert_int_eq(w.category, FEEDBACK__V1__CATEGORY__DETRACTOR);
    ck_assert(w.has_sentiment);
    ck_assert_msg(w.compound < -0.05, "compound %f", w.compound);
    ck_assert_str_eq(w.language, "en");

    response_init(&r, 10, "Wonderful service, friendly staff, I love it!");
    ck_assert_int_eq(submit(&e, &r, &w, &err), FB_OK);
    ck_assert_int_eq(w.category, FEEDBACK__V1__CATEGORY__PROMOTER);
    ck_assert_msg(w.compound > 0.05, "compound %f", w.compound);

    /* the stored record carries the same sentiment */
    Feedback__V1__Feedback *got;
    ck_assert_int_eq(fb_feedback_get(e.fb, T1, w.id, &got, &err), FB_OK);
    ck_assert_ptr_nonnull(got->sentiment);
    ck_assert(got->sentiment->compound == w.compound);
    ck_assert_str_eq(got->language, "en");
    ck_assert_int_gt(got->submitted_at_ms, 0); /* defaulted to now */
    feedback__v1__feedback__free_unpacked(got, NULL);

    /* an empty comment is neutral, not an error */
    response_init(&r, 8, "");
    ck_assert_int_eq(submit(&e, &r, &w, &err), FB_OK);
    ck_assert_int_eq(w.category, FEEDBACK__V1__CATEGORY__PASSIVE);
    ck_assert_int_eq(w.label, FEEDBACK__V1__LABEL__NEUTRAL);
    env_close(&e);
}
END_TEST

/* A record bigger than one block of its arena (a long comment with many
 * aspects, many tags): stored and read back whole (and, in the asan
 * build, built and freed without a leak or a stray free). */
START_TEST(large_record_round_trips)
{
    env e;
    env_open(&e, "ing-large");
    static char comment[4001];
    const char *part = "The delivery was late and the staff were rude, but the food was great. ";
    comment[0] = 0;
    while (strlen(comment) + strlen(part) < sizeof comment) strcat(comment, part);
    Feedback__V1__SubmitResponseRequest r;
    response_init(&r, 3, comment);
    enum { N_TAGS = FB_MAX_TAGS };
    Feedback__V1__SubmitResponseRequest__TagsEntry tags[N_TAGS], *tp[N_TAGS];
    char keys[N_TAGS][16], vals[N_TAGS][16];
    for (int i = 0; i < N_TAGS; i++) {
        feedback__v1__submit_response_request__tags_entry__init(&tags[i]);
        snprintf(keys[i], sizeof keys[i], "k%02d", N_TAGS - 1 - i); /* reverse order: stored sorted */
        snprintf(vals[i], sizeof vals[i], "value%d", i);
        tags[i].key = keys[i];
        tags[i].value = vals[i];
        tp[i] = &tags[i];
    }
    r.tags = tp;
    r.n_tags = N_TAGS;
    r.channel = "web";
    waiter w;
    fb_err err = {0};
    ck_assert_msg(submit(&e, &r, &w, &err) == FB_OK, "%s", err.msg);
    ck_assert(w.has_sentiment);
    Feedback__V1__Feedback *got;
    ck_assert_int_eq(fb_feedback_get(e.fb, T1, w.id, &got, &err), FB_OK);
    ck_assert_str_eq(got->comment, comment);
    ck_assert_str_eq(got->channel, "web");
    ck_assert_uint_eq(got->n_tags, N_TAGS);
    for (int i = 0; i < N_TAGS; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%02d", i);
        ck_assert_str_eq(got->tags[i]->key, k);
    }
    ck_assert_ptr_nonnull(got->sentiment);
    ck_assert_uint_gt(got->sentiment->n_aspects, 0);
    ck_assert(got->sentiment->compound == w.compound);
    feedback__v1__feedback__free_unpacked(got, NULL);
    env_close(&e);
}
END_TEST

START_TEST(invalid_requests_fail_before_queueing)
{
    env e;
    env_open(&e, "ing-invalid");
    Feedback__V1__SubmitResponseRequest r;
    fb_err err = {0};
    waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    response_init(&r, 11, "x");
    ck_assert_int_eq(fb_ingest_submit_response(&e.ie, T1, &r, on_done, &w, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "score: must be 0..10, got 11");
    response_init(&r, 5, "x");
    r.language = "xx";
    ck_assert_int_eq(fb_ingest_submit_response(&e.ie, T1, &r, on_done, &w, &err), FB_INVALID);
    ck_assert_msg(strstr(err.msg, "language: \"xx\" is not supported (supported: ") == err.msg, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "en") != NULL, "%s", err.msg);
    ck_assert_int_eq(w.done, 0); /* done never called for a synchronous error */
    uint64_t n;
    ck_assert_int_eq(fb_feedback_count(e.fb, T1, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 0);
    env_close(&e);
}
END_TEST

START_TEST(idempotent_retry_through_ingest)
{
    env e;
    env_open(&e, "ing-idem");
    Feedback__V1__SubmitResponseRequest r;
    waiter w1, w2;
    fb_err err = {0};
    response_init(&r, 6, "ok I guess");
    r.idempotency_key = "form-42";
    r.submitted_at_ms = 1700000000000LL;
    ck_assert_int_eq(submit(&e, &r, &w1, &err), FB_OK);
    ck_assert_int_eq(submit(&e, &r, &w2, &err), FB_OK);
    ck_assert(w2.duplicate);
    ck_assert_str_eq(w2.id, w1.id);
    ck_assert_int_eq(w2.category, w1.category);
    ck_assert(w2.compound == w1.compound);
    r.score = 7;
    ck_assert_int_eq(submit(&e, &r, &w2, &err), FB_EXISTS);
    ck_assert_str_eq(w2.msg, "idempotency_key: already used for a different request");
    env_close(&e);
}
END_TEST

START_TEST(review_defaults_and_sentiment)
{
    env e;
    env_open(&e, "ing-review");
    Feedback__V1__SubmitReviewRequest r;
    feedback__v1__submit_review_request__init(&r);
    r.source = "google";
    r.external_id = "abc";
    r.rating = 1;
    r.title = "Terrible";
    r.text = "Overcharged and the delivery was late";
    waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    fb_err err = {0};
    ck_assert_int_eq(fb_ingest_submit_review(&e.ie, T1, &r, on_done, &w, &err), FB_OK);
    wait_done(&w);
    ck_assert_int_eq(w.rc, FB_OK);
    ck_assert_int_eq(w.category, FEEDBACK__V1__CATEGORY__DETRACTOR);
    ck_assert_str_eq(w.channel, "google"); /* channel defaults to the source */
    ck_assert_msg(w.compound < 0, "compound %f", w.compound);
    env_close(&e);
}
END_TEST

typedef struct batch_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, rc;
    size_t n, accepted, duplicates, rejected;
    uint32_t rejected_index;
    char msg[256];
} batch_wait;

static void on_batch(void *arg, int rc, const fb_err *err, const fb_ingest_outcome *items, size_t n)
{
    (void)err;
    batch_wait *b = arg;
    pthread_mutex_lock(&b->mu);
    b->rc = rc;
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        if (items[i].rc) {
            b->rejected++;
            b->rejected_index = items[i].index;
            snprintf(b->msg, sizeof b->msg, "%s", items[i].err.msg);
        } else if (items[i].duplicate) {
            b->duplicates++;
        } else {
            b->accepted++;
        }
    }
    b->done = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

START_TEST(import_batch_outcomes)
{
    env e;
    env_open(&e, "ing-batch");
    fb_ingest_batch *b = fb_ingest_batch_new(&e.ie, T1, 8);
    ck_assert_ptr_nonnull(b);
    Feedback__V1__SubmitResponseRequest r[4];
    Feedback__V1__ImportItem it[5];
    fb_err err = {0};
    for (int i = 0; i < 4; i++) {
        response_init(&r[i], 9, "great");
        feedback__v1__import_item__init(&it[i]);
        it[i].item_case = FEEDBACK__V1__IMPORT_ITEM__ITEM_RESPONSE;
        it[i].response = &r[i];
    }
    r[1].idempotency_key = "dup";
    r[2].idempotency_key = "dup";          /* same payload: a duplicate within the batch */
    r[3].idempotency_key = "dup";
    r[3].score = 1;                        /* same key, other payload: rejected */
    feedback__v1__import_item__init(&it[4]); /* no item: invalid */
    for (uint32_t i = 0; i < 4; i++) ck_assert_int_eq(fb_ingest_batch_add(b, &it[i], i, &err), FB_OK);
    ck_assert_int_eq(fb_ingest_batch_add(b, &it[4], 4, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "item: required (a response or a review)");
    ck_assert_uint_eq(fb_ingest_batch_size(b), 4);
    batch_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    ck_assert_int_eq(fb_ingest_batch_submit(b, on_batch, &w), FB_OK);
    pthread_mutex_lock(&w.mu);
    while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    ck_assert_int_eq(w.rc, FB_OK);
    ck_assert_uint_eq(w.n, 4);
    ck_assert_uint_eq(w.accepted, 2);
    ck_assert_uint_eq(w.duplicates, 1);
    ck_assert_uint_eq(w.rejected, 1);
    ck_assert_uint_eq(w.rejected_index, 3);
    ck_assert_str_eq(w.msg, "idempotency_key: already used for a different request");
    uint64_t n;
    ck_assert_int_eq(fb_feedback_count(e.fb, T1, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 2);
    env_close(&e);
}
END_TEST

START_TEST(analyze_and_explain)
{
    env e;
    env_open(&e, "ing-analyze");
    Feedback__V1__AnalyzeRequest a;
    feedback__v1__analyze_request__init(&a);
    a.text = "The room was dirty";
    a.explain = 1;
    Feedback__V1__Sentiment *s = NULL;
    fb_err err = {0};
    ck_assert_int_eq(fb_ingest_analyze(&e.ie, &a, &s, &err), FB_OK);
    ck_assert(s->compound < 0);
    ck_assert_uint_ge(s->n_contributions, 1);
    ck_assert_ptr_nonnull(s->contributions[0]->span);
    ck_assert_str_eq(s->language, "en");
    feedback__v1__sentiment__free_unpacked(s, NULL);
    a.explain = 0;
    ck_assert_int_eq(fb_ingest_analyze(&e.ie, &a, &s, &err), FB_OK);
    ck_assert_uint_eq(s->n_contributions, 0);
    feedback__v1__sentiment__free_unpacked(s, NULL);
    a.text = "bad \xff byte";
    ck_assert_int_eq(fb_ingest_analyze(&e.ie, &a, &s, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "text: must be valid UTF-8 (invalid byte at offset 4)");
    env_close(&e);
}
END_TEST


START_TEST(language_resolution)
{
    env e;
    env_open(&e, "ing-lang");
    Feedback__V1__SubmitResponseRequest r;
    waiter w;
    fb_err err = {0};
    response_init(&r, 9, "The food was great");
    r.language = "EN-gb";                    /* normalised to its primary tag */
    ck_assert_int_eq(submit(&e, &r, &w, &err), FB_OK);
    ck_assert_str_eq(w.language, "en");
    Feedback__V1__Feedback *got;
    ck_assert_int_eq(fb_feedback_get(e.fb, T1, w.id, &got, &err), FB_OK);
    ck_assert_str_eq(got->language, "en");
    /* aspects travel with the stored sentiment */
    ck_assert_ptr_nonnull(got->sentiment);
    int food = 0;
    for (size_t i = 0; i < got->sentiment->n_aspects; i++)
        food |= strcmp(got->sentiment->aspects[i]->aspect, "food") == 0;
    ck_assert_msg(food, "no food aspect among %zu", got->sentiment->n_aspects);
    feedback__v1__feedback__free_unpacked(got, NULL);
    /* no request language, a tenant default the engine lacks: guessed */
    e.ie.default_language = "xx";
    response_init(&r, 9, "The service was slow");
    ck_assert_int_eq(submit(&e, &r, &w, &err), FB_OK);
    ck_assert_str_eq(w.language, "en");
    e.ie.default_language = NULL;
    ck_assert_int_eq(submit(&e, &r, &w, &err), FB_OK);
    ck_assert_str_eq(w.language, "en");
    env_close(&e);
}
END_TEST

static Suite *ingest_suite(void)
{
    Suite *s = suite_create("ingest");
    TCase *tc = tcase_create("ingest");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, categories);
    tcase_add_test(tc, submit_response_carries_category_and_sentiment);
    tcase_add_test(tc, large_record_round_trips);
    tcase_add_test(tc, invalid_requests_fail_before_queueing);
    tcase_add_test(tc, idempotent_retry_through_ingest);
    tcase_add_test(tc, review_defaults_and_sentiment);
    tcase_add_test(tc, import_batch_outcomes);
    tcase_add_test(tc, analyze_and_explain);
    tcase_add_test(tc, language_resolution);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(ingest_suite)
