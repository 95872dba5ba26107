/* test_store_pipeline.c — the store's two-stage commit (writer commits,
 * syncer syncs and finishes): a done callback comes only after a durable
 * sync that followed its op; after-commit actions and done callbacks keep
 * commit order across pipelined batches; close drains both stages; a done
 * callback on the syncer may queue a write even when the queue is full.
 * Real LMDB directories with real fsyncs (no_sync = 0), small batches so
 * that many batches are in flight at once. */
#include <pthread.h>

#include "store_fixture.h"

enum { N = 400 };

/* ---- a shared event log: 'A' (after-commit ran), 'D' (done called) ---- */

typedef struct event { char kind; int op; size_t txnid; } event;

typedef struct events {
    pthread_mutex_t mu;
    event ev[3 * N];
    int n;
} events;

static void events_add(events *e, char kind, int op, size_t txnid)
{
    pthread_mutex_lock(&e->mu);
    ck_assert_int_lt(e->n, 3 * N);
    e->ev[e->n++] = (event){kind, op, txnid};
    pthread_mutex_unlock(&e->mu);
}

typedef struct pipe_op {
    put_op put;
    events *log;
    int index;
    size_t txnid;          /* the batch transaction's id (last run wins) */
    uint64_t syncs_at_run; /* the store's sync count when fn ran */
    uint64_t syncs_at_done;
    int rc, done_calls;
    int slow_ms;            /* the done callback stalls the syncer this long */
    fb_store *st;
    struct pipe_op *follow; /* queued from the done callback, if set */
} pipe_op;

typedef struct after_arg { events *log; int index; size_t txnid; } after_arg;

static void after_run(void *p)
{
    after_arg *a = p;
    events_add(a->log, 'A', a->index, a->txnid);
    free(a);
}

static int pipe_fn(fb_txn *txn, void *arg, fb_err *err)
{
    pipe_op *o = arg;
    fb_store_counters c;
    fb_store_stats(fb_txn_store(txn), &c);
    o->syncs_at_run = c.syncs;
    o->txnid = mdb_txn_id(fb_txn_mdb(txn));
    int rc = put_fn(txn, &o->put, err);
    if (rc) return rc;
    if (o->log) {
        after_arg *a = malloc(sizeof *a);
        *a = (after_arg){o->log, o->index, o->txnid};
        if ((rc = fb_txn_after_commit(txn, after_run, free, a))) return rc;
    }
    return FB_OK;
}

static void pipe_done(void *arg, int rc, const fb_err *err)
{
    (void)err;
    pipe_op *o = arg;
    fb_store_counters c;
    fb_store_stats(o->st, &c);
    o->syncs_at_done = c.syncs;
    o->rc = rc;
    o->done_calls++;
    if (o->slow_ms) usleep((useconds_t)o->slow_ms * 1000);
    if (o->log) events_add(o->log, 'D', o->index, o->txnid);
    if (o->follow) ck_assert_int_eq(fb_store_write_async(o->st, pipe_fn, pipe_done, o->follow), FB_OK);
}

static fb_store *open_small(const char *dir, int max_batch, int max_queue)
{
    fb_store_opts o = {.max_batch = max_batch, .max_queue = max_queue, .no_sync = 0};
    fb_store *st = NULL;
    fb_err err = {0};
    ck_assert_msg(fb_store_open(&st, dir, &o, &err) == FB_OK, "open: %s", err.msg);
    return st;
}

static void init_ops(pipe_op *ops, int n, fb_store *st, MDB_dbi d, events *log, const char *prefix)
{
    for (int i = 0; i < n; i++) {
        ops[i] = (pipe_op){.put = {.dbi = d, .len = 16, .fill = 'p', .fail = i % 7 == 3},
                           .log = log, .index = i, .st = st};
        snprintf(ops[i].put.key, sizeof ops[i].put.key, "%s%04d", prefix, i);
    }
}

/* ---- done only after a sync that followed the op ---- */

START_TEST(done_only_after_sync)
{
    fb_store *st = open_small(fb_test_tmpdir("pipe"), 4, 0);
    MDB_dbi d = table(st, "t");
    static pipe_op ops[N];
    init_ops(ops, N, st, d, NULL, "s");
    for (int i = 0; i < N; i++) ops[i].put.fail = 0;
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(fb_store_write_async(st, pipe_fn, pipe_done, &ops[i]), FB_OK);
    /* a waiting write is finished after every earlier one (commit order) */
    pipe_op last = {.put = {.dbi = d, .len = 1, .fill = 'z', .key = "last"}, .st = st};
    fb_err err = {0};
    ck_assert_int_eq(fb_store_write(st, pipe_fn, &last, &err), FB_OK);
    fb_store_counters c;
    fb_store_stats(st, &c);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(ops[i].done_calls, 1);
        ck_assert_int_eq(ops[i].rc, FB_OK);
        ck_assert_msg(ops[i].syncs_at_done > ops[i].syncs_at_run,
                      "op %d: done saw %llu syncs, no more than when it ran (%llu)", i,
                      (unsigned long long)ops[i].syncs_at_done, (unsigned long long)ops[i].syncs_at_run);
        ck_assert_int_eq(read_len(st, d, ops[i].put.key, NULL), 16);
    }
    /* a sync covers one or more batches: never more syncs than batches */
    ck_assert_uint_ge(c.syncs, 1);
    ck_assert_uint_le(c.syncs, c.batches);
    ck_assert_uint_le(c.largest_batch, 4);
    fb_store_close(st);
}
END_TEST

/* ---- after-commit order and done order across pipelined batches ---- */

static void check_order(const events *e, const pipe_op *ops, int n)
{
    int next_a = 0, next_d = 0, a_pos[N], d_pos[N];
    for (int i = 0; i < n; i++) a_pos[i] = d_pos[i] = -1;
    for (int k = 0; k < e->n; k++) {
        const event *ev = &e->ev[k];
        if (ev->kind == 'A') {
            while (next_a < n && ops[next_a].rc != FB_OK) next_a++; /* failed: no action */
            ck_assert_msg(ev->op == next_a, "after-commit of op %d ran where op %d's was due", ev->op, next_a);
            a_pos[next_a++] = k;
        } else {
            ck_assert_msg(ev->op == next_d, "done of op %d came where op %d's was due", ev->op, next_d);
            d_pos[next_d++] = k;
        }
    }
    ck_assert_int_eq(next_d, n);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(ops[i].done_calls, 1);
        ck_assert_int_eq(ops[i].rc, i % 7 == 3 ? FB_INVALID : FB_OK);
        if (ops[i].rc == FB_OK) ck_assert_int_lt(a_pos[i], d_pos[i]);
        else ck_assert_int_eq(a_pos[i], -1);
    }
    /* within one batch transaction, every after-commit action runs before
     * the first done callback; batches finish in commit (txn id) order */
    for (int k = 0; k < e->n; k++) {
        if (e->ev[k].kind != 'D') continue;
        /* A batch whose ops all failed commits nothing, and LMDB then gives
         * the next batch the same txn id: its done events cannot tell us
         * which batch followed. */
        if (ops[e->ev[k].op].rc != FB_OK) continue;
        for (int j = k + 1; j < e->n; j++) {
            ck_assert_uint_ge(e->ev[j].txnid, e->ev[k].txnid);
            if (e->ev[j].kind == 'A')
                ck_assert_msg(e->ev[j].txnid != e->ev[k].txnid,
                              "after-commit of op %d ran after a done of its own batch", e->ev[j].op);
        }
    }
}

START_TEST(commit_order_across_pipelined_batches)
{
    fb_store *st = open_small(fb_test_tmpdir("pipe"), 3, 0);
    MDB_dbi d = table(st, "t");
    static events log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    static pipe_op ops[N];
    log.n = 0;
    init_ops(ops, N, st, d, &log, "o");
    /* stall the syncer now and then: the writer fills every pipeline slot
     * meanwhile, and the syncer then settles several batches at once */
    for (int i = 0; i < N; i += 40) ops[i].slow_ms = 30;
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(fb_store_write_async(st, pipe_fn, pipe_done, &ops[i]), FB_OK);
    fb_store_close(st); /* drains */
    check_order(&log, ops, N);
    /* several batches really were in flight: more than one txn id */
    ck_assert_uint_gt(ops[N - 1].txnid, ops[0].txnid + 10);
}
END_TEST

/* ---- close drains both stages ---- */

START_TEST(close_drains_writer_and_syncer)
{
    const char *dir = fb_test_tmpdir("pipe");
    fb_store *st = open_small(dir, 2, 0);
    MDB_dbi d = table(st, "t");
    static events log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    static pipe_op ops[N];
    log.n = 0;
    init_ops(ops, N, st, d, &log, "c");
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(fb_store_write_async(st, pipe_fn, pipe_done, &ops[i]), FB_OK);
    fb_store_close(st); /* at once: most ops are still queued or unsynced */
    int acted = 0;
    for (int k = 0; k < log.n; k++) acted += log.ev[k].kind == 'A';
    ck_assert_int_eq(acted, N - (N + 3) / 7);
    for (int i = 0; i < N; i++) ck_assert_int_eq(ops[i].done_calls, 1);

    char copy[4096];
    snprintf(copy, sizeof copy, "%s", dir);
    st = open_small(copy, 0, 0);
    d = table(st, "t");
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(read_len(st, d, ops[i].put.key, NULL), i % 7 == 3 ? -1 : 16);
    fb_store_close(st);
}
END_TEST

/* ---- a done callback may queue a write while the queue is full ---- */

START_TEST(done_callback_queues_when_queue_full)
{
    enum { M = 100 };
    fb_store *st = open_small(fb_test_tmpdir("pipe"), 1, 1);
    MDB_dbi d = table(st, "t");
    static pipe_op first[M], second[M];
    init_ops(first, M, st, d, NULL, "f");
    init_ops(second, M, st, d, NULL, "g");
    for (int i = 0; i < M; i++) {
        first[i].put.fail = second[i].put.fail = 0;
        first[i].follow = &second[i];
    }
    for (int i = 0; i < M; i++) /* waits for room: the queue holds one op */
        ck_assert_int_eq(fb_store_write_async(st, pipe_fn, pipe_done, &first[i]), FB_OK);
    /* every follow-up gets queued and finished (a syncer that waited for
     * room here would deadlock with a writer waiting for a pipeline slot) */
    fb_store_counters c = {0};
    for (int i = 0; i < 20000 && c.ops < 2 * M; i++) {
        fb_store_stats(st, &c);
        if (c.ops < 2 * M) usleep(1000);
    }
    ck_assert_uint_eq(c.ops, 2 * M);
    fb_store_close(st);
    for (int i = 0; i < M; i++) {
        ck_assert_int_eq(first[i].done_calls, 1);
        ck_assert_int_eq(second[i].done_calls, 1);
    }
}
END_TEST

static Suite *store_pipeline_suite(void)
{
    Suite *s = suite_create("store_pipeline");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, done_only_after_sync);
    tcase_add_test(tc, commit_order_across_pipelined_batches);
    tcase_add_test(tc, close_drains_writer_and_syncer);
    tcase_add_test(tc, done_callback_queues_when_queue_full);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(store_pipeline_suite)
