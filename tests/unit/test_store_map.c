/* test_store_map.c — the store's map: grown when full (also while readers
 * keep transactions open, and when another process grew it), and a full
 * map at its maximum answers FB_EXHAUSTED without corrupting anything. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "store_fixture.h"

/* ---- map growth and a full map ---- */

START_TEST(map_grows_when_full)
{
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 256 << 10, 64 << 20, 1);
    MDB_dbi d = table(st, "t");
    enum { N = 256, LEN = 16 << 10 }; /* 4 MiB into a 256 KiB map */
    for (int i = 0; i < N; i++) {
        put_op p = {.dbi = d, .len = LEN, .fill = (unsigned char)i};
        snprintf(p.key, sizeof p.key, "big%04d", i);
        fb_err err = {0};
        ck_assert_msg(fb_store_write(st, put_fn, &p, &err) == FB_OK, "write %d: %s", i, err.msg);
    }
    fb_store_counters c;
    fb_store_stats(st, &c);
    ck_assert_uint_gt(c.map_grows, 0);
    ck_assert_uint_ge(c.map_bytes, (uint64_t)N * LEN);
    fb_store_close(st);

    st = open_store(dir, 256 << 10, 64 << 20, 1);
    d = table(st, "t");
    for (int i = 0; i < N; i++) {
        char key[16];
        unsigned char first = 0;
        snprintf(key, sizeof key, "big%04d", i);
        ck_assert_int_eq(read_len(st, d, key, &first), LEN);
        ck_assert_int_eq(first, (unsigned char)i);
    }
    fb_store_close(st);
}
END_TEST

/* Readers keep transactions coming while writers force the map to grow:
 * growth waits for a moment with no open transaction, readers never fail. */
typedef struct reader_arg {
    fb_store *st;
    MDB_dbi dbi;
    atomic_int *stop;
    long reads, errors;
} reader_arg;

static void *reader_thread(void *p)
{
    reader_arg *r = p;
    for (long i = 0; i < 5000000 && !atomic_load(r->stop); i++) {
        MDB_txn *t;
        fb_err err;
        if (fb_store_read_begin(r->st, &t, &err) != FB_OK) { r->errors++; continue; }
        MDB_val k = {7, "big0000"}, v;
        int rc = mdb_get(t, r->dbi, &k, &v);
        if (rc != 0 && rc != MDB_NOTFOUND) r->errors++;
        fb_store_read_end(r->st, t);
        r->reads++;
    }
    return NULL;
}

typedef struct bigwriter_arg {
    fb_store *st;
    MDB_dbi dbi;
    int id, failures;
} bigwriter_arg;

static void *bigwriter_thread(void *p)
{
    bigwriter_arg *w = p;
    for (int i = 0; i < 64; i++) {
        put_op op = {.dbi = w->dbi, .len = 16 << 10, .fill = (unsigned char)i};
        snprintf(op.key, sizeof op.key, "big%d%03d", w->id, i);
        fb_err err = {0};
        if (fb_store_write(w->st, put_fn, &op, &err) != FB_OK) w->failures++;
    }
    return NULL;
}

START_TEST(map_grows_under_concurrent_readers)
{
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 256 << 10, 256 << 20, 1);
    MDB_dbi d = table(st, "t");
    atomic_int stop = 0;
    enum { R = 4, W = 4 };
    pthread_t rt[R], wt[W];
    reader_arg ra[R];
    bigwriter_arg wa[W];
    for (int i = 0; i < R; i++) {
        ra[i] = (reader_arg){st, d, &stop, 0, 0};
        pthread_create(&rt[i], NULL, reader_thread, &ra[i]);
    }
    for (int i = 0; i < W; i++) {
        wa[i] = (bigwriter_arg){st, d, i, 0};
        pthread_create(&wt[i], NULL, bigwriter_thread, &wa[i]);
    }
    for (int i = 0; i < W; i++) pthread_join(wt[i], NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < R; i++) pthread_join(rt[i], NULL);
    for (int i = 0; i < W; i++) ck_assert_int_eq(wa[i].failures, 0);
    for (int i = 0; i < R; i++) {
        ck_assert_int_eq(ra[i].errors, 0);
        ck_assert_int_gt(ra[i].reads, 0);
    }
    fb_store_counters c;
    fb_store_stats(st, &c);
    ck_assert_uint_ge(c.map_grows, 3); /* 4 MiB from 256 KiB: at least 4 doublings */
    ck_assert_uint_eq(c.failed_ops, 0);
    fb_store_close(st);
}
END_TEST

START_TEST(full_map_is_exhausted_not_corrupt)
{
    const char *dir = fb_test_tmpdir("store");
    fb_store *st = open_store(dir, 256 << 10, 1 << 20, 1);
    MDB_dbi d = table(st, "t");
    enum { N = 128, LEN = 16 << 10 }; /* 2 MiB into at most 1 MiB */
    int ok[N], n_ok = 0, n_full = 0;
    for (int i = 0; i < N; i++) {
        put_op p = {.dbi = d, .len = LEN, .fill = (unsigned char)i};
        snprintf(p.key, sizeof p.key, "big%04d", i);
        fb_err err = {0};
        int rc = fb_store_write(st, put_fn, &p, &err);
        ok[i] = rc == FB_OK;
        n_ok += ok[i];
        if (rc != FB_OK) {
            ck_assert_int_eq(rc, FB_EXHAUSTED);
            ck_assert_msg(strstr(err.msg, "map is full (1 MiB); raise max map size"), "%s", err.msg);
            n_full++;
        }
    }
    ck_assert_int_gt(n_ok, 0);
    ck_assert_int_gt(n_full, 0);
    /* a small write may still fit; the store keeps working */
    put_op small = {.dbi = d, .key = "small", .len = 1, .fill = 's'};
    fb_err err = {0};
    int rc = fb_store_write(st, put_fn, &small, &err);
    ck_assert(rc == FB_OK || rc == FB_EXHAUSTED);
    fb_store_close(st);

    st = open_store(dir, 256 << 10, 1 << 20, 1);
    d = table(st, "t");
    for (int i = 0; i < N; i++) {
        char key[16];
        snprintf(key, sizeof key, "big%04d", i);
        unsigned char first = 0;
        ck_assert_int_eq(read_len(st, d, key, &first), ok[i] ? LEN : -1);
        if (ok[i]) ck_assert_int_eq(first, (unsigned char)i);
    }
    fb_store_close(st);
}
END_TEST

START_TEST(map_grown_by_another_process_is_adopted)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", fb_test_tmpdir("store"));
    fb_store *st = open_store(dir, 256 << 10, 64 << 20, 1);
    MDB_dbi d = table(st, "t");
    put_op p = {.dbi = d, .key = "mine", .len = 4, .fill = 'm'};
    fb_err err = {0};
    ck_assert_int_eq(fb_store_write(st, put_fn, &p, &err), FB_OK);

    enum { N = 256, LEN = 16 << 10 };
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* grows the shared map well beyond our 256 KiB */
        fb_store *cs;
        fb_store_opts o = {.initial_map_bytes = 256 << 10, .no_sync = 1};
        MDB_dbi cd;
        int rc = fb_store_open(&cs, dir, &o, &err);
        if (!rc) rc = fb_store_dbi(cs, "t", &cd, &err);
        for (int i = 0; i < N && !rc; i++) {
            put_op cp = {.dbi = cd, .len = LEN, .fill = (unsigned char)i};
            snprintf(cp.key, sizeof cp.key, "theirs%04d", i);
            rc = fb_store_write(cs, put_fn, &cp, &err);
        }
        if (!rc) fb_store_close(cs);
        _exit(rc);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);

    /* our next read and write see the larger map (MDB_MAP_RESIZED adopted) */
    unsigned char first = 0;
    ck_assert_int_eq(read_len(st, d, "theirs0255", &first), LEN);
    ck_assert_int_eq(first, 255);
    put_op p2 = {.dbi = d, .key = "mine2", .len = LEN, .fill = 'n'};
    ck_assert_msg(fb_store_write(st, put_fn, &p2, &err) == FB_OK, "%s", err.msg);
    ck_assert_int_eq(read_len(st, d, "mine2", NULL), LEN);
    fb_store_counters c;
    fb_store_stats(st, &c);
    ck_assert_uint_ge(c.map_bytes, (uint64_t)N * LEN);
    fb_store_close(st);
}
END_TEST

/* Many big ops in one batch at the maximum map: the ones that fit commit
 * together, the rest fail alone with FB_EXHAUSTED, nothing else is lost. */
typedef struct big_async {
    put_op put;
    int rc;
    atomic_int *done;
} big_async;

static void big_done(void *arg, int rc, const fb_err *err)
{
    (void)err;
    big_async *b = arg;
    b->rc = rc;
    atomic_fetch_add(b->done, 1);
}

START_TEST(full_map_inside_one_batch)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", fb_test_tmpdir("store"));
    fb_store *st = open_store(dir, 256 << 10, 1 << 20, 1);
    MDB_dbi d = table(st, "t");
    gate g;
    gate_init(&g);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);
    enum { N = 100, LEN = 16 << 10 };
    static big_async ops[N];
    atomic_int done = 0;
    for (int i = 0; i < N; i++) {
        ops[i] = (big_async){{.dbi = d, .len = LEN, .fill = (unsigned char)i}, -1, &done};
        snprintf(ops[i].put.key, sizeof ops[i].put.key, "b%03d", i);
        ck_assert_int_eq(fb_store_write_async(st, put_fn, big_done, &ops[i].put), FB_OK);
    }
    wait_queued(st, N);
    gate_open(&g);
    fb_store_close(st);
    ck_assert_int_eq(atomic_load(&done), N);
    int n_ok = 0, n_full = 0;
    for (int i = 0; i < N; i++) {
        if (ops[i].rc == FB_OK) n_ok++;
        else if (ops[i].rc == FB_EXHAUSTED) n_full++;
        else ck_abort_msg("op %d: rc %d", i, ops[i].rc);
    }
    ck_assert_int_gt(n_ok, 0);
    ck_assert_int_gt(n_full, 0);

    st = open_store(dir, 256 << 10, 1 << 20, 1);
    d = table(st, "t");
    for (int i = 0; i < N; i++) {
        unsigned char first = 0;
        ck_assert_int_eq(read_len(st, d, ops[i].put.key, &first), ops[i].rc == FB_OK ? LEN : -1);
        if (ops[i].rc == FB_OK) ck_assert_int_eq(first, (unsigned char)i);
    }
    fb_store_close(st);
}
END_TEST

/* One batch that outgrows the map midway and has failing ops before and
 * after the point of growth: the map grows, every good op commits once,
 * every failing op fails alone with its own error. */
START_TEST(map_grows_midway_with_failing_ops)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", fb_test_tmpdir("store"));
    fb_store *st = open_store(dir, 256 << 10, 64 << 20, 1);
    MDB_dbi d = table(st, "t");
    gate g;
    gate_init(&g);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);
    enum { N = 60, LEN = 16 << 10 }; /* ~1 MiB in one batch into a 256 KiB map */
    static big_async ops[N];
    atomic_int done = 0;
    for (int i = 0; i < N; i++) {
        int fail = i == 3 || i == 30 || i == N - 1;
        ops[i] = (big_async){{.dbi = d, .len = LEN, .fill = (unsigned char)i, .fail = fail}, -1, &done};
        snprintf(ops[i].put.key, sizeof ops[i].put.key, "m%03d", i);
        ck_assert_int_eq(fb_store_write_async(st, put_fn, big_done, &ops[i].put), FB_OK);
    }
    wait_queued(st, N);
    gate_open(&g);
    fb_store_close(st);
    ck_assert_int_eq(atomic_load(&done), N);

    st = open_store(dir, 256 << 10, 64 << 20, 1);
    d = table(st, "t");
    fb_store_counters c;
    fb_store_stats(st, &c);
    for (int i = 0; i < N; i++) {
        unsigned char first = 0;
        if (ops[i].put.fail) {
            ck_assert_int_eq(ops[i].rc, FB_INVALID);
            ck_assert_int_eq(read_len(st, d, ops[i].put.key, NULL), -1);
        } else {
            ck_assert_msg(ops[i].rc == FB_OK, "op %d: rc %d", i, ops[i].rc);
            ck_assert_int_eq(read_len(st, d, ops[i].put.key, &first), LEN);
            ck_assert_int_eq(first, (unsigned char)i);
        }
    }
    ck_assert_uint_ge(c.map_bytes, (uint64_t)N * LEN); /* it grew (another store instance: by size) */
    fb_store_close(st);
}
END_TEST

static Suite *store_map_suite(void)
{
    Suite *s = suite_create("store_map");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, map_grows_when_full);
    tcase_add_test(tc, full_map_is_exhausted_not_corrupt);
    tcase_add_test(tc, full_map_inside_one_batch);
    tcase_add_test(tc, map_grows_midway_with_failing_ops);
    tcase_add_test(tc, map_grows_under_concurrent_readers);
    tcase_add_test(tc, map_grown_by_another_process_is_adopted);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(store_map_suite)
