/* test_store.c — the store against a real LMDB directory: writes and reads,
 * per-op rollback inside a batch, group commit (counted, not timed),
 * after-commit order, draining on close, backpressure.
 * (Map growth and a full map: test_store_map.c.) */
#include <pthread.h>

#include "store_fixture.h"

/* ---- tests ---- */

START_TEST(write_then_read)
{
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 0, 0, 0);
    MDB_dbi d = table(st, "t");
    put_op p = {.dbi = d, .key = "hello", .len = 5, .fill = 'x'};
    fb_err err = {0};
    ck_assert_int_eq(fb_store_write(st, put_fn, &p, &err), FB_OK);
    unsigned char c = 0;
    ck_assert_int_eq(read_len(st, d, "hello", &c), 5);
    ck_assert_int_eq(c, 'x');
    ck_assert_int_eq(read_len(st, d, "absent", NULL), -1);

    put_op bad = {.dbi = d, .key = "bad", .len = 1, .fill = 'b', .fail = 1};
    ck_assert_int_eq(fb_store_write(st, put_fn, &bad, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "test: op bad fails on purpose");
    ck_assert_int_eq(read_len(st, d, "bad", NULL), -1);
    fb_store_close(st);

    st = open_store(dir, 0, 0, 0); /* durable across reopen */
    d = table(st, "t");
    ck_assert_int_eq(read_len(st, d, "hello", NULL), 5);
    fb_store_close(st);
}
END_TEST

typedef struct async_log {
    pthread_mutex_t mu;
    int n;
    int rc[8];
    char msg[8][256];
} async_log;

typedef struct async_op {
    put_op put;
    async_log *log;
    int slot;
} async_op;

static int async_put_fn(fb_txn *txn, void *arg, fb_err *err)
{
    return put_fn(txn, &((async_op *)arg)->put, err);
}

static void async_done(void *arg, int rc, const fb_err *err)
{
    async_op *a = arg;
    pthread_mutex_lock(&a->log->mu);
    a->log->rc[a->slot] = rc;
    snprintf(a->log->msg[a->slot], 256, "%s", err ? err->msg : "");
    a->log->n++;
    pthread_mutex_unlock(&a->log->mu);
}

START_TEST(failing_op_rolls_back_alone)
{
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 0, 0, 1);
    MDB_dbi d = table(st, "t");
    gate g;
    gate_init(&g);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);

    async_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    async_op ops[3] = {
        {{d, "good1", 3, 'a', 0}, &log, 0},
        {{d, "bad", 3, 'b', 1}, &log, 1},
        {{d, "good2", 3, 'c', 0}, &log, 2},
    };
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(fb_store_write_async(st, async_put_fn, async_done, &ops[i]), FB_OK);
    wait_queued(st, 3);
    gate_open(&g);
    fb_store_close(st); /* drains */

    ck_assert_int_eq(log.n, 3);
    ck_assert_int_eq(log.rc[0], FB_OK);
    ck_assert_int_eq(log.rc[1], FB_INVALID);
    ck_assert_str_eq(log.msg[1], "test: op bad fails on purpose");
    ck_assert_int_eq(log.rc[2], FB_OK);

    st = open_store(dir, 0, 0, 1);
    d = table(st, "t");
    ck_assert_int_eq(read_len(st, d, "good1", NULL), 3);
    ck_assert_int_eq(read_len(st, d, "bad", NULL), -1);
    ck_assert_int_eq(read_len(st, d, "good2", NULL), 3);
    fb_store_close(st);
}
END_TEST

/* ---- group commit ---- */

enum { WRITERS = 64, WRITES_EACH = 8 };

typedef struct writer_arg {
    fb_store *st;
    MDB_dbi dbi;
    int id, writes, failures;
} writer_arg;

static void *writer_thread(void *p)
{
    writer_arg *w = p;
    for (int i = 0; i < w->writes; i++) {
        put_op op = {.dbi = w->dbi, .len = 16, .fill = (unsigned char)w->id};
        snprintf(op.key, sizeof op.key, "w%02d-%03d", w->id, i);
        fb_err err = {0};
        if (fb_store_write(w->st, put_fn, &op, &err) != FB_OK) w->failures++;
    }
    return NULL;
}

START_TEST(queued_writers_share_one_batch)
{
    /* Deterministic: while the writer is held inside a batch, 63 threads
     * queue a write each; they must all commit in the next single batch. */
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 0, 0, 1);
    MDB_dbi d = table(st, "t");
    gate g;
    gate_init(&g);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);
    pthread_t th[WRITERS - 1];
    writer_arg wa[WRITERS - 1];
    for (int i = 0; i < WRITERS - 1; i++) {
        wa[i] = (writer_arg){st, d, i, 1, 0};
        pthread_create(&th[i], NULL, writer_thread, &wa[i]);
    }
    wait_queued(st, WRITERS - 1);
    gate_open(&g);
    for (int i = 0; i < WRITERS - 1; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(wa[i].failures, 0);
    }
    fb_store_counters c;
    fb_store_stats(st, &c);
    ck_assert_uint_eq(c.ops, WRITERS);
    ck_assert_uint_eq(c.batches, 2); /* the gate's batch and one for all 63 */
    fb_store_close(st);
}
END_TEST

START_TEST(concurrent_writers_group_commit_durably)
{
    /* With real fsync on: 64 threads writing at once need fewer commits
     * than writes, and every acknowledged write survives a reopen. */
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 0, 0, 0);
    MDB_dbi d = table(st, "t");
    pthread_t th[WRITERS];
    writer_arg wa[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (writer_arg){st, d, i, WRITES_EACH, 0};
        pthread_create(&th[i], NULL, writer_thread, &wa[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(wa[i].failures, 0);
    }
    fb_store_counters c;
    fb_store_stats(st, &c);
    ck_assert_uint_eq(c.ops, WRITERS * WRITES_EACH);
    ck_assert_uint_eq(c.failed_ops, 0);
    if (getenv("FB_TEST_VERBOSE")) fprintf(stderr, "group commit: %llu ops in %llu batches\n", (unsigned long long)c.ops, (unsigned long long)c.batches);
    ck_assert_msg(c.batches < c.ops, "batches %llu, ops %llu",
                  (unsigned long long)c.batches, (unsigned long long)c.ops);
    fb_store_close(st);

    st = open_store(dir, 0, 0, 0);
    d = table(st, "t");
    for (int i = 0; i < WRITERS; i++)
        for (int j = 0; j < WRITES_EACH; j++) {
            char key[32];
            snprintf(key, sizeof key, "w%02d-%03d", i, j);
            unsigned char first = 0;
            ck_assert_int_eq(read_len(st, d, key, &first), 16);
            ck_assert_int_eq(first, i);
        }
    fb_store_close(st);
}
END_TEST

/* ---- after-commit actions ---- */

typedef struct trail {
    char s[256];
} trail;

typedef struct step {
    trail *t;
    const char *name;
} step;

static void trail_add(trail *t, const char *what)
{
    strncat(t->s, what, sizeof t->s - strlen(t->s) - 1);
    strncat(t->s, " ", sizeof t->s - strlen(t->s) - 1);
}

static void step_run(void *arg) { step *s = arg; trail_add(s->t, s->name); }
static void step_free(void *arg) { step *s = arg; char b[32]; snprintf(b, sizeof b, "free-%s", s->name); trail_add(s->t, b); }

typedef struct after_op {
    trail *t;
    step steps[2];
    const char *name;
    int fail;
    int runs; /* times fn ran (each registers both steps) */
} after_op;

static int after_fn(fb_txn *txn, void *arg, fb_err *err)
{
    after_op *o = arg;
    o->runs++;
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(fb_txn_after_commit(txn, step_run, step_free, &o->steps[i]), FB_OK);
    return o->fail ? fb_err_set(err, FB_INVALID, "fail") : FB_OK;
}

static void after_done(void *arg, int rc, const fb_err *err)
{
    (void)err;
    after_op *o = arg;
    char b[32];
    snprintf(b, sizeof b, "done-%s-%d", o->name, rc);
    trail_add(o->t, b);
}

START_TEST(after_commit_runs_in_order_before_dones)
{
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 0, 0, 1);
    gate g;
    gate_init(&g);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);
    trail t = {""};
    after_op a = {&t, {{&t, "a1"}, {&t, "a2"}}, "a", 0, 0};
    after_op x = {&t, {{&t, "x1"}, {&t, "x2"}}, "x", 1, 0};
    after_op b = {&t, {{&t, "b1"}, {&t, "b2"}}, "b", 0, 0};
    ck_assert_int_eq(fb_store_write_async(st, after_fn, after_done, &a), FB_OK);
    ck_assert_int_eq(fb_store_write_async(st, after_fn, after_done, &x), FB_OK);
    ck_assert_int_eq(fb_store_write_async(st, after_fn, after_done, &b), FB_OK);
    wait_queued(st, 3);
    gate_open(&g);
    fb_store_close(st);
    /* x failed: its actions are never run. An op may run more than once
     * (x's failure makes the writer run the batch again, store.h): every
     * registered action is then either run once or freed once, and the
     * actions of the run that counts run in op order before the dones. */
    char ran[256] = "";
    int frees = 0;
    for (char *w = strtok(t.s, " "); w; w = strtok(NULL, " ")) {
        if (strncmp(w, "free-", 5) == 0) {
            ck_assert_msg(w[5] == 'x' || strchr(ran, 'd') == NULL, "a free after the dones: %s", w);
            frees++;
            continue;
        }
        strcat(ran, w);
        strcat(ran, " ");
    }
    ck_assert_str_eq(ran, "a1 a2 b1 b2 done-a-0 done-x-1 done-b-0 ");
    ck_assert_int_ge(x.runs, 1);
    ck_assert_int_eq(2 * (a.runs + x.runs + b.runs), 4 + frees); /* a's and b's last run: run, not freed */
}
END_TEST

/* Several failing ops in one batch, between and around good ones: each
 * fails alone with its own error, every other op commits, and the data
 * says so after a reopen. */
START_TEST(failures_midway_fail_alone)
{
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 0, 0, 1);
    MDB_dbi d = table(st, "t");
    gate g;
    gate_init(&g);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);
    enum { N = 7 };
    static const int fails[N] = {0, 1, 0, 0, 1, 1, 0};
    async_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    async_op ops[N];
    for (int i = 0; i < N; i++) {
        ops[i] = (async_op){{.dbi = d, .len = (size_t)(i + 1), .fill = (unsigned char)('a' + i), .fail = fails[i]},
                            &log, i};
        snprintf(ops[i].put.key, sizeof ops[i].put.key, "k%d", i);
        ck_assert_int_eq(fb_store_write_async(st, async_put_fn, async_done, &ops[i]), FB_OK);
    }
    wait_queued(st, N);
    gate_open(&g);
    fb_store_close(st);

    ck_assert_int_eq(log.n, N);
    st = open_store(dir, 0, 0, 1);
    d = table(st, "t");
    for (int i = 0; i < N; i++) {
        unsigned char first = 0;
        if (fails[i]) {
            ck_assert_int_eq(log.rc[i], FB_INVALID);
            char want[64];
            snprintf(want, sizeof want, "test: op k%d fails on purpose", i);
            ck_assert_str_eq(log.msg[i], want);
            ck_assert_int_eq(read_len(st, d, ops[i].put.key, NULL), -1);
        } else {
            ck_assert_int_eq(log.rc[i], FB_OK);
            ck_assert_int_eq(read_len(st, d, ops[i].put.key, &first), i + 1);
            ck_assert_int_eq(first, 'a' + i);
        }
    }
    fb_store_close(st);
}
END_TEST

/* ---- close drains; writes after closing are refused ---- */

static int noop_fn(fb_txn *txn, void *arg, fb_err *err) { (void)txn; (void)arg; (void)err; return FB_OK; }

typedef struct closer { fb_store *st; } closer;
static void *close_thread(void *p) { fb_store_close(((closer *)p)->st); return NULL; }

START_TEST(close_drains_queue_then_refuses)
{
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 0, 0, 1);
    MDB_dbi d = table(st, "t");
    gate g;
    gate_init(&g);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);
    enum { N = 200 };
    static async_op ops[N];
    async_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    for (int i = 0; i < N; i++) {
        ops[i] = (async_op){{.dbi = d, .len = 8, .fill = 'q'}, &log, 0};
        snprintf(ops[i].put.key, sizeof ops[i].put.key, "k%04d", i);
        ck_assert_int_eq(fb_store_write_async(st, async_put_fn, async_done, &ops[i]), FB_OK);
    }
    closer c = {st};
    pthread_t th;
    pthread_create(&th, NULL, close_thread, &c);
    /* Once close has begun, new writes are refused (done is not called). */
    int refused = 0;
    for (int i = 0; i < 10000 && !refused; i++) {
        int rc = fb_store_write_async(st, noop_fn, NULL, NULL);
        if (rc == FB_UNAVAILABLE) refused = 1;
        else usleep(1000);
    }
    ck_assert(refused);
    gate_open(&g);
    pthread_join(th, NULL);
    ck_assert_int_eq(log.n, N);

    st = open_store(dir, 0, 0, 1);
    d = table(st, "t");
    for (int i = 0; i < N; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%04d", i);
        ck_assert_int_eq(read_len(st, d, key, NULL), 8);
    }
    fb_store_close(st);
}
END_TEST

START_TEST(try_write_refuses_when_queue_full)
{
    fb_store_opts o = {.no_sync = 1, .max_queue = 4};
    fb_store *st;
    fb_err err = {0};
    ck_assert_int_eq(fb_store_open(&st, fb_test_tmpdir("store"), &o, &err), FB_OK);
    gate g;
    gate_init(&g);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(fb_store_try_write_async(st, noop_fn, NULL, NULL), FB_OK);
    ck_assert_int_eq(fb_store_try_write_async(st, noop_fn, NULL, NULL), FB_EXHAUSTED);
    gate_open(&g);
    fb_store_close(st);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, write_then_read);
    tcase_add_test(tc, failing_op_rolls_back_alone);
    tcase_add_test(tc, failures_midway_fail_alone);
    tcase_add_test(tc, queued_writers_share_one_batch);
    tcase_add_test(tc, concurrent_writers_group_commit_durably);
    tcase_add_test(tc, after_commit_runs_in_order_before_dones);
    tcase_add_test(tc, close_drains_queue_then_refuses);
    tcase_add_test(tc, try_write_refuses_when_queue_full);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(store_suite)
