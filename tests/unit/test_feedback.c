/* test_feedback.c — stored feedback against a real LMDB directory: put/get,
 * list order, filters and paging, idempotency (duplicate, conflict, across a
 * reopen), reviews' natural key, hooks (+1 on insert, -1 on erase, a failing
 * hook rolls back), erasure, and tenant isolation. */
#include "fbtest.h"

#include "feedback.h"

#define T1 1u
#define T2 2u

typedef struct env {
    char dir[4096];
    fb_store *st;
    fb_feedback *fb;
} env;

static void env_open(env *e)
{
    fb_err err = {0};
    fb_store_opts o = {.no_sync = 1};
    ck_assert_int_eq(fb_store_open(&e->st, e->dir, &o, &err), FB_OK);
    ck_assert_int_eq(fb_feedback_open(&e->fb, e->st, &err), FB_OK);
}

static void env_close(env *e)
{
    fb_feedback_close(e->fb);
    fb_store_close(e->st);
}

static void env_init(env *e, const char *name)
{
    snprintf(e->dir, sizeof e->dir, "%s", fb_test_tmpdir(name));
    env_open(e);
}

/* A record as ingest would build it (malloc'd, protobuf-c layout). */
static Feedback__V1__Feedback *make_rec(const char *survey, int score, int64_t submitted,
                                        const char *respondent, const char *channel)
{
    Feedback__V1__Feedback *r = malloc(sizeof *r);
    feedback__v1__feedback__init(r);
    r->kind = FEEDBACK__V1__FEEDBACK_KIND__RESPONSE;
    r->survey_id = strdup(survey);
    r->score = score;
    r->category = score >= 9 ? FEEDBACK__V1__CATEGORY__PROMOTER
                : score >= 7 ? FEEDBACK__V1__CATEGORY__PASSIVE
                             : FEEDBACK__V1__CATEGORY__DETRACTOR;
    r->submitted_at_ms = submitted;
    if (respondent) r->respondent_id = strdup(respondent);
    if (channel) r->channel = strdup(channel);
    return r;
}

static void add_tag(Feedback__V1__Feedback *r, const char *k, const char *v)
{
    r->tags = realloc(r->tags, (r->n_tags + 1) * sizeof *r->tags);
    Feedback__V1__Feedback__TagsEntry *e = malloc(sizeof *e);
    feedback__v1__feedback__tags_entry__init(e);
    e->key = strdup(k);
    e->value = strdup(v);
    r->tags[r->n_tags++] = e;
}

typedef struct put_req {
    fb_feedback *fb;
    fb_feedback_put put;
} put_req;

static int put_fn(fb_txn *txn, void *arg, fb_err *err)
{
    put_req *p = arg;
    return fb_feedback_put_txn(p->fb, txn, &p->put, err);
}

/* Puts rec (consumed) for tenant; returns the rc, the id in id_out, and
 * whether it was a duplicate. */
static int put(env *e, uint32_t tenant, Feedback__V1__Feedback *rec, char *id_out, bool *dup,
               fb_err *err)
{
    put_req p = {.fb = e->fb};
    p.put.tenant_id = tenant;
    p.put.rec = rec;
    fb_feedback_payload_hash(rec, p.put.payload_hash);
    int rc = fb_store_write(e->st, put_fn, &p, err);
    if (rc == FB_OK) {
        const Feedback__V1__Feedback *r = p.put.duplicate ? p.put.existing : rec;
        if (id_out) strcpy(id_out, r->id);
        if (dup) *dup = p.put.duplicate;
    }
    if (p.put.existing) feedback__v1__feedback__free_unpacked(p.put.existing, NULL);
    feedback__v1__feedback__free_unpacked(rec, NULL);
    return rc;
}

static char *put_ok(env *e, uint32_t tenant, Feedback__V1__Feedback *rec, char id[FB_ID_LEN + 1])
{
    fb_err err = {0};
    bool dup = true;
    int rc = put(e, tenant, rec, id, &dup, &err);
    ck_assert_msg(rc == FB_OK, "put: %s", err.msg);
    ck_assert(!dup);
    return id;
}

static Feedback__V1__FeedbackPage *list(env *e, uint32_t tenant, Feedback__V1__ListQuery *q)
{
    Feedback__V1__FeedbackPage *page = NULL;
    fb_err err = {0};
    int rc = fb_feedback_list(e->fb, tenant, q, &page, &err);
    ck_assert_msg(rc == FB_OK, "list: %s", err.msg);
    return page;
}

START_TEST(put_get_roundtrip)
{
    env e;
    env_init(&e, "fb-put");
    Feedback__V1__Feedback *r = make_rec("s1", 9, 1000, "cust-1", "web");
    r->comment = strdup("Great coffee");
    add_tag(r, "location", "paris");
    char id[FB_ID_LEN + 1];
    put_ok(&e, T1, r, id);
    ck_assert_uint_eq(strlen(id), FB_ID_LEN);
    ck_assert(fb_id_valid(id));
    Feedback__V1__Feedback *got = NULL;
    fb_err err = {0};
    ck_assert_int_eq(fb_feedback_get(e.fb, T1, id, &got, &err), FB_OK);
    ck_assert_str_eq(got->id, id);
    ck_assert_str_eq(got->survey_id, "s1");
    ck_assert_int_eq(got->score, 9);
    ck_assert_str_eq(got->comment, "Great coffee");
    ck_assert_str_eq(got->respondent_id, "cust-1");
    ck_assert_uint_eq(got->n_tags, 1);
    ck_assert_str_eq(got->tags[0]->value, "paris");
    ck_assert_int_eq(got->submitted_at_ms, 1000);
    ck_assert_int_gt(got->received_ms, 0);
    feedback__v1__feedback__free_unpacked(got, NULL);
    ck_assert_int_eq(fb_feedback_get(e.fb, T1, "01ARZ3NDEKTSV4RRFFQ69G5FAV", &got, &err),
                     FB_NOT_FOUND);
    ck_assert_int_eq(fb_feedback_get(e.fb, T1, "nonsense", &got, &err), FB_NOT_FOUND);
    env_close(&e);
}
END_TEST

START_TEST(list_newest_first_with_paging)
{
    env e;
    env_init(&e, "fb-list");
    /* submitted times out of insertion order: the list follows submitted time */
    enum { N = 120 };
    for (int i = 0; i < N; i++) {
        int64_t t = 1000 + (int64_t)((i * 37) % N) * 10;
        char id[FB_ID_LEN + 1];
        put_ok(&e, T1, make_rec("s", i % 11, t, NULL, NULL), id);
    }
    Feedback__V1__ListQuery q = FEEDBACK__V1__LIST_QUERY__INIT;
    int64_t last = INT64_MAX;
    int seen = 0, pages = 0;
    char token[128] = "";
    do {
        q.page_size = 50;
        q.page_token = token;
        Feedback__V1__FeedbackPage *p = list(&e, T1, &q);
        pages++;
        for (size_t i = 0; i < p->n_items; i++) {
            ck_assert_int_lt(p->items[i]->submitted_at_ms, last);
            last = p->items[i]->submitted_at_ms;
            seen++;
        }
        ck_assert(strlen(p->next_page_token) < sizeof token);
        strcpy(token, p->next_page_token);
        feedback__v1__feedback_page__free_unpacked(p, NULL);
        ck_assert_int_le(pages, 10);
    } while (*token);
    ck_assert_int_eq(seen, N);
    ck_assert_int_eq(pages, 3);

    /* default page size 50, max 500 */
    Feedback__V1__ListQuery q2 = FEEDBACK__V1__LIST_QUERY__INIT;
    Feedback__V1__FeedbackPage *p = list(&e, T1, &q2);
    ck_assert_uint_eq(p->n_items, 50);
    feedback__v1__feedback_page__free_unpacked(p, NULL);
    q2.page_size = 100000;
    p = list(&e, T1, &q2);
    ck_assert_uint_eq(p->n_items, N);
    ck_assert_str_eq(p->next_page_token, "");
    feedback__v1__feedback_page__free_unpacked(p, NULL);
    env_close(&e);
}
END_TEST

START_TEST(list_filters)
{
    env e;
    env_init(&e, "fb-filter");
    char id[FB_ID_LEN + 1];
    Feedback__V1__Feedback *r;
    put_ok(&e, T1, make_rec("a", 10, 100, "p1", "web"), id);
    put_ok(&e, T1, make_rec("a", 3, 200, "p2", "email"), id);
    r = make_rec("b", 8, 300, "p1", "web");
    add_tag(r, "location", "lyon");
    put_ok(&e, T1, r, id);
    r = make_rec("b", 1, 400, NULL, "sms");
    add_tag(r, "location", "paris");
    r->kind = FEEDBACK__V1__FEEDBACK_KIND__REVIEW;
    r->sentiment = malloc(sizeof *r->sentiment);
    feedback__v1__sentiment__init(r->sentiment);
    r->sentiment->label = FEEDBACK__V1__LABEL__NEGATIVE;
    put_ok(&e, T1, r, id);

    Feedback__V1__ListQuery q = FEEDBACK__V1__LIST_QUERY__INIT;
    Feedback__V1__FeedbackPage *p;
#define COUNT(expect)                                       \
    do {                                                    \
        p = list(&e, T1, &q);                               \
        ck_assert_uint_eq(p->n_items, (expect));            \
        feedback__v1__feedback_page__free_unpacked(p, NULL); \
        q = (Feedback__V1__ListQuery)FEEDBACK__V1__LIST_QUERY__INIT; \
    } while (0)
    COUNT(4);
    q.survey_id = "a"; COUNT(2);
    q.category = FEEDBACK__V1__CATEGORY__DETRACTOR; COUNT(2);
    q.channel = "web"; COUNT(2);
    q.respondent_id = "p1"; COUNT(2);
    q.kind = FEEDBACK__V1__FEEDBACK_KIND__REVIEW; COUNT(1);
    q.label = FEEDBACK__V1__LABEL__NEGATIVE; COUNT(1);
    q.label = FEEDBACK__V1__LABEL__POSITIVE; COUNT(0);
    q.from_ms = 200; q.to_ms = 400; COUNT(2);          /* half-open: 200 and 300 */
    q.from_ms = 400; COUNT(1);
    q.to_ms = 100; COUNT(0);
    Feedback__V1__ListQuery__TagsEntry te = FEEDBACK__V1__LIST_QUERY__TAGS_ENTRY__INIT;
    Feedback__V1__ListQuery__TagsEntry *tep = &te;
    te.key = "location";
    te.value = "paris";
    q.n_tags = 1; q.tags = &tep; COUNT(1);
    te.value = "nowhere";
    q.n_tags = 1; q.tags = &tep; COUNT(0);
    q.survey_id = "b"; q.channel = "web"; COUNT(1);
#undef COUNT
    env_close(&e);
}
END_TEST

START_TEST(bad_page_token_is_invalid)
{
    env e;
    env_init(&e, "fb-token");
    Feedback__V1__ListQuery q = FEEDBACK__V1__LIST_QUERY__INIT;
    Feedback__V1__FeedbackPage *p = NULL;
    fb_err err = {0};
    const char *bad[] = {"garbage", "f1zz", "f10000000000000000000000000000000000000000000000000000000000000000000",
                         "f100000000000003e830314152" /* too short */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q.page_token = (char *)bad[i];
        ck_assert_int_eq(fb_feedback_list(e.fb, T1, &q, &p, &err), FB_INVALID);
        ck_assert_msg(strncmp(err.msg, "page_token: ", 12) == 0, "%s", err.msg);
    }
    env_close(&e);
}
END_TEST

START_TEST(bounded_scan_returns_a_token)
{
    env e;
    env_init(&e, "fb-scan");
    char id[FB_ID_LEN + 1];
    put_ok(&e, T1, make_rec("needle", 5, 10, NULL, NULL), id); /* the oldest */
    for (int i = 0; i < FB_LIST_MAX_SCAN + 10; i++)
        put_ok(&e, T1, make_rec("hay", 5, 1000 + i, NULL, NULL), id);
    Feedback__V1__ListQuery q = FEEDBACK__V1__LIST_QUERY__INIT;
    q.survey_id = "needle";
    Feedback__V1__FeedbackPage *p = list(&e, T1, &q);
    ck_assert_uint_eq(p->n_items, 0);
    ck_assert_str_ne(p->next_page_token, "");
    char token[128];
    strcpy(token, p->next_page_token);
    feedback__v1__feedback_page__free_unpacked(p, NULL);
    q.page_token = token;
    p = list(&e, T1, &q);
    ck_assert_uint_eq(p->n_items, 1);
    ck_assert_str_eq(p->items[0]->survey_id, "needle");
    ck_assert_str_eq(p->next_page_token, "");
    feedback__v1__feedback_page__free_unpacked(p, NULL);
    env_close(&e);
}
END_TEST

START_TEST(idempotency_duplicate_conflict_and_reopen)
{
    env e;
    env_init(&e, "fb-idem");
    char first[FB_ID_LEN + 1], again[FB_ID_LEN + 1];
    bool dup = false;
    fb_err err = {0};
    Feedback__V1__Feedback *r = make_rec("s", 4, 500, NULL, NULL);
    r->idempotency_key = strdup("key-1");
    add_tag(r, "a", "1");
    add_tag(r, "b", "2");
    put_ok(&e, T1, r, first);

    /* same payload, tags in another order: a duplicate with the first id */
    r = make_rec("s", 4, 500, NULL, NULL);
    r->idempotency_key = strdup("key-1");
    add_tag(r, "b", "2");
    add_tag(r, "a", "1");
    ck_assert_int_eq(put(&e, T1, r, again, &dup, &err), FB_OK);
    ck_assert(dup);
    ck_assert_str_eq(again, first);

    /* same key, another score: ALREADY_EXISTS, nothing stored */
    r = make_rec("s", 5, 500, NULL, NULL);
    r->idempotency_key = strdup("key-1");
    ck_assert_int_eq(put(&e, T1, r, again, &dup, &err), FB_EXISTS);
    ck_assert_str_eq(err.msg, "idempotency_key: already used for a different request");
    uint64_t n = 0;
    ck_assert_int_eq(fb_feedback_count(e.fb, T1, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 1);

    /* the same key in another tenant is another key */
    r = make_rec("s", 5, 500, NULL, NULL);
    r->idempotency_key = strdup("key-1");
    put_ok(&e, T2, r, again);
    ck_assert_str_ne(again, first);

    /* across a restart */
    env_close(&e);
    env_open(&e);
    r = make_rec("s", 4, 500, NULL, NULL);
    r->idempotency_key = strdup("key-1");
    add_tag(r, "a", "1");
    add_tag(r, "b", "2");
    dup = false;
    ck_assert_int_eq(put(&e, T1, r, again, &dup, &err), FB_OK);
    ck_assert(dup);
    ck_assert_str_eq(again, first);
    ck_assert_int_eq(fb_feedback_count(e.fb, T1, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 1);
    env_close(&e);
}
END_TEST

static Feedback__V1__Feedback *make_review(const char *source, const char *ext, int rating)
{
    Feedback__V1__Feedback *r = make_rec("", rating, 700, NULL, NULL);
    r->kind = FEEDBACK__V1__FEEDBACK_KIND__REVIEW;
    r->score = 0;
    r->rating = rating;
    r->source = strdup(source);
    r->external_id = strdup(ext);
    return r;
}

START_TEST(review_natural_key)
{
    env e;
    env_init(&e, "fb-review");
    char first[FB_ID_LEN + 1], again[FB_ID_LEN + 1];
    bool dup = false;
    fb_err err = {0};
    put_ok(&e, T1, make_review("google", "g-1", 5), first);
    ck_assert_int_eq(put(&e, T1, make_review("google", "g-1", 5), again, &dup, &err), FB_OK);
    ck_assert(dup);
    ck_assert_str_eq(again, first);
    ck_assert_int_eq(put(&e, T1, make_review("google", "g-1", 2), again, &dup, &err), FB_EXISTS);
    ck_assert_str_eq(err.msg, "external_id: already used for a different request");
    put_ok(&e, T1, make_review("yelp", "g-1", 2), again); /* another source: another key */
    ck_assert_str_ne(again, first);
    env_close(&e);
}
END_TEST

/* ---- hooks ---- */

typedef struct hook_log {
    int inserts, erases;
    int fail;
    int64_t score_sum;
} hook_log;

static int count_hook(fb_txn *txn, const fb_feedback_event *ev, void *ctx, fb_err *err)
{
    (void)txn;
    hook_log *h = ctx;
    if (h->fail) return fb_err_set(err, FB_INVALID, "hook: fails on purpose");
    if (ev->sign > 0) {
        h->inserts++;
        /* a hook may add alert ids to the record before it is written */
        Feedback__V1__Feedback *r = ev->fb;
        r->alert_ids = realloc(r->alert_ids, (r->n_alert_ids + 1) * sizeof *r->alert_ids);
        r->alert_ids[r->n_alert_ids++] = strdup("alert-x");
    } else {
        h->erases++;
        ck_assert_ptr_nonnull(ev->erase);
        ev->erase->alerts_redacted++;
    }
    h->score_sum += ev->sign * ev->fb->score;
    ck_assert_ptr_nonnull(ev->fb->id);
    return FB_OK;
}

START_TEST(hooks_insert_erase_and_rollback)
{
    env e;
    env_init(&e, "fb-hooks");
    hook_log h = {0};
    fb_err err = {0};
    ck_assert_int_eq(fb_feedback_add_hook(e.fb, count_hook, &h, &err), FB_OK);
    char a[FB_ID_LEN + 1], b[FB_ID_LEN + 1], c[FB_ID_LEN + 1];
    Feedback__V1__Feedback *r = make_rec("s", 2, 100, "alice", NULL);
    r->idempotency_key = strdup("alice-1");
    put_ok(&e, T1, r, a);
    put_ok(&e, T1, make_rec("s", 3, 200, "alice", NULL), b);
    put_ok(&e, T1, make_rec("s", 10, 300, "bob", NULL), c);
    put_ok(&e, T2, make_rec("s", 7, 300, "alice", NULL), c); /* another tenant's alice */
    ck_assert_int_eq(h.inserts, 4);
    ck_assert_int_eq(h.score_sum, 22);
    Feedback__V1__Feedback *got = NULL;
    ck_assert_int_eq(fb_feedback_get(e.fb, T1, a, &got, &err), FB_OK);
    ck_assert_uint_eq(got->n_alert_ids, 1);
    ck_assert_str_eq(got->alert_ids[0], "alert-x");
    feedback__v1__feedback__free_unpacked(got, NULL);

    /* a failing hook rolls the put back */
    h.fail = 1;
    uint64_t n;
    ck_assert_int_eq(put(&e, T1, make_rec("s", 1, 400, NULL, NULL), NULL, NULL, &err), FB_INVALID);
    ck_assert_int_eq(fb_feedback_count(e.fb, T1, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 3);
    h.fail = 0;

    fb_erase_summary sum;
    ck_assert_int_eq(fb_feedback_erase_respondent(e.fb, T1, "alice", NULL, &sum, &err), FB_OK);
    ck_assert_uint_eq(sum.feedback_erased, 2);
    ck_assert_uint_eq(sum.alerts_redacted, 2);
    ck_assert_int_eq(h.erases, 2);
    ck_assert_int_eq(h.score_sum, 22 - 2 - 3);
    ck_assert_int_eq(fb_feedback_get(e.fb, T1, a, &got, &err), FB_NOT_FOUND);
    ck_assert_int_eq(fb_feedback_count(e.fb, T1, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(fb_feedback_count(e.fb, T2, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 1); /* tenant 2's alice untouched */
    Feedback__V1__ListQuery q = FEEDBACK__V1__LIST_QUERY__INIT;
    q.respondent_id = "alice";
    Feedback__V1__FeedbackPage *p = list(&e, T1, &q);
    ck_assert_uint_eq(p->n_items, 0);
    feedback__v1__feedback_page__free_unpacked(p, NULL);
    /* the idempotency key went with the record: the same request is new again */
    r = make_rec("s", 2, 100, "alice", NULL);
    r->idempotency_key = strdup("alice-1");
    char again[FB_ID_LEN + 1];
    put_ok(&e, T1, r, again);
    ck_assert_str_ne(again, a);
    /* erasing nobody is fine; an empty id is not */
    ck_assert_int_eq(fb_feedback_erase_respondent(e.fb, T1, "nobody", NULL, &sum, &err), FB_OK);
    ck_assert_uint_eq(sum.feedback_erased, 0);
    ck_assert_int_eq(fb_feedback_erase_respondent(e.fb, T1, "", NULL, &sum, &err), FB_INVALID);
    env_close(&e);
}
END_TEST

START_TEST(tenant_isolation)
{
    env e;
    env_init(&e, "fb-tenant");
    char id1[FB_ID_LEN + 1];
    for (int i = 0; i < 60; i++) put_ok(&e, T1, make_rec("s", 9, 100 + i, "same", "web"), id1);
    Feedback__V1__ListQuery q = FEEDBACK__V1__LIST_QUERY__INIT;
    Feedback__V1__FeedbackPage *p = list(&e, T2, &q);
    ck_assert_uint_eq(p->n_items, 0);
    ck_assert_str_eq(p->next_page_token, "");
    feedback__v1__feedback_page__free_unpacked(p, NULL);
    /* tenant 1's token, used by tenant 2, walks tenant 2's data only */
    p = list(&e, T1, &q);
    ck_assert_str_ne(p->next_page_token, "");
    char token[128];
    strcpy(token, p->next_page_token);
    feedback__v1__feedback_page__free_unpacked(p, NULL);
    q.page_token = token;
    p = list(&e, T2, &q);
    ck_assert_uint_eq(p->n_items, 0);
    feedback__v1__feedback_page__free_unpacked(p, NULL);
    Feedback__V1__Feedback *got;
    fb_err err;
    ck_assert_int_eq(fb_feedback_get(e.fb, T2, id1, &got, &err), FB_NOT_FOUND);
    fb_erase_summary sum;
    ck_assert_int_eq(fb_feedback_erase_respondent(e.fb, T2, "same", NULL, &sum, &err), FB_OK);
    ck_assert_uint_eq(sum.feedback_erased, 0);
    uint64_t n;
    ck_assert_int_eq(fb_feedback_count(e.fb, T1, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 60);
    env_close(&e);
}
END_TEST


START_TEST(page_bytes_are_capped)
{
    env e;
    env_init(&e, "fb-bytes");
    char id[FB_ID_LEN + 1];
    char *big = malloc(8193);
    memset(big, 'x', 8192);
    big[8192] = '\0';
    for (int i = 0; i < 300; i++) { /* 300 x 8 KiB: 2.4 MB in all */
        Feedback__V1__Feedback *r = make_rec("s", 5, 100 + i, NULL, NULL);
        r->comment = strdup(big);
        put_ok(&e, T1, r, id);
    }
    free(big);
    Feedback__V1__ListQuery q = FEEDBACK__V1__LIST_QUERY__INIT;
    q.page_size = 500;
    char token[128] = "";
    size_t total = 0;
    int pages = 0;
    do {
        q.page_token = token;
        Feedback__V1__FeedbackPage *p = list(&e, T1, &q);
        ck_assert_uint_lt(feedback__v1__feedback_page__get_packed_size(p), 1024 * 1024);
        ck_assert_uint_gt(p->n_items, 0);
        total += p->n_items;
        strcpy(token, p->next_page_token);
        feedback__v1__feedback_page__free_unpacked(p, NULL);
        ck_assert_int_lt(++pages, 10);
    } while (*token);
    ck_assert_uint_eq(total, 300);
    ck_assert_int_ge(pages, 3);
    env_close(&e);
}
END_TEST

static Suite *feedback_suite(void)
{
    Suite *s = suite_create("feedback");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, put_get_roundtrip);
    tcase_add_test(tc, list_newest_first_with_paging);
    tcase_add_test(tc, list_filters);
    tcase_add_test(tc, bad_page_token_is_invalid);
    tcase_add_test(tc, bounded_scan_returns_a_token);
    tcase_add_test(tc, idempotency_duplicate_conflict_and_reopen);
    tcase_add_test(tc, review_natural_key);
    tcase_add_test(tc, hooks_insert_erase_and_rollback);
    tcase_add_test(tc, tenant_isolation);
    tcase_add_test(tc, page_bytes_are_capped);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(feedback_suite)
