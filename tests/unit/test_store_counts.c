/* test_store_counts.c — counter records (fb_txn_add_counts): sums across the
 * ops of one batch, rollback of a failing op's adds (also after a flush
 * inside it), deletion at zero, a flush making pending sums readable inside
 * an op, map growth re-running a batch without double counting, and a
 * randomised comparison with a naive per-op read-modify-write. Real LMDB. */
#include <pthread.h>

#include "store_fixture.h"

enum { NV = 3 };

typedef struct add_spec {
    const char *key;
    int64_t v[NV];
} add_spec;

typedef struct counts_op {
    MDB_dbi dbi;
    const add_spec *adds;
    int n_adds;
    int fail;          /* add, then fail */
    int flush_first;   /* fb_txn_flush_counts, then read the first key into seen */
    int64_t seen[NV];  /* what the op read after its flush (-1: absent) */
    int runs;
} counts_op;

static void read_rec(MDB_txn *t, MDB_dbi d, const char *key, int64_t out[NV])
{
    MDB_val k = {strlen(key), (void *)key}, v;
    if (mdb_get(t, d, &k, &v) != 0 || v.mv_size != NV * 8) {
        for (int i = 0; i < NV; i++) out[i] = -1;
        return;
    }
    for (int i = 0; i < NV; i++) {
        uint64_t x = 0;
        for (int b = 0; b < 8; b++) x = (x << 8) | ((unsigned char *)v.mv_data)[8 * i + b];
        out[i] = (int64_t)x;
    }
}

static int counts_fn(fb_txn *txn, void *arg, fb_err *err)
{
    counts_op *o = arg;
    o->runs++;
    if (o->flush_first) {
        int rc = fb_txn_flush_counts(txn, err);
        if (rc) return rc;
        read_rec(fb_txn_mdb(txn), o->dbi, o->adds[0].key, o->seen);
    }
    for (int i = 0; i < o->n_adds; i++) {
        int rc = fb_txn_add_counts(txn, o->dbi, o->adds[i].key, strlen(o->adds[i].key), o->adds[i].v, NV, 2, err);
        if (rc) return rc;
    }
    return o->fail ? fb_err_set(err, FB_INVALID, "test: fails on purpose") : FB_OK;
}

static void committed(fb_store *st, MDB_dbi d, const char *key, int64_t out[NV])
{
    MDB_txn *t;
    fb_err err = {0};
    ck_assert(fb_store_read_begin(st, &t, &err) == FB_OK);
    read_rec(t, d, key, out);
    fb_store_read_end(st, t);
}

#define ASSERT_REC(st, d, key, a, b, c)                                                           \
    do {                                                                                          \
        int64_t got_[NV];                                                                         \
        committed(st, d, key, got_);                                                              \
        ck_assert_msg(got_[0] == (a) && got_[1] == (b) && got_[2] == (c),                         \
                      "%s: got %lld %lld %lld, want %lld %lld %lld", key, (long long)got_[0],      \
                      (long long)got_[1], (long long)got_[2], (long long)(a), (long long)(b),      \
                      (long long)(c));                                                            \
    } while (0)

typedef struct done_log { pthread_mutex_t mu; int n; } done_log;

/* fb_store_write_async passes one arg: the op and the log of finished ops */
typedef struct wrapped { counts_op *op; done_log *log; } wrapped;

static int wrapped_fn(fb_txn *txn, void *arg, fb_err *err) { return counts_fn(txn, ((wrapped *)arg)->op, err); }

static void wrapped_done(void *arg, int rc, const fb_err *err)
{
    (void)rc; (void)err; /* each op's outcome shows in the records it left */
    done_log *l = ((wrapped *)arg)->log;
    pthread_mutex_lock(&l->mu);
    l->n++;
    pthread_mutex_unlock(&l->mu);
}

static void batch_of(fb_store *st, counts_op *ops, int n)
{
    done_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    wrapped w[16];
    gate g;
    gate_init(&g);
    ck_assert(n <= 16);
    ck_assert_int_eq(fb_store_write_async(st, gate_fn, NULL, &g), FB_OK);
    gate_wait_entered(&g);
    for (int i = 0; i < n; i++) {
        w[i] = (wrapped){&ops[i], &log};
        ck_assert_int_eq(fb_store_write_async(st, wrapped_fn, wrapped_done, &w[i]), FB_OK);
    }
    wait_queued(st, (uint32_t)n);
    gate_open(&g);
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&log.mu);
        int k = log.n;
        pthread_mutex_unlock(&log.mu);
        if (k == n) break;
        usleep(1000);
    }
    ck_assert_int_eq(log.n, n);
}

START_TEST(sums_across_ops_of_a_batch)
{
    fb_store *st = open_store(fb_test_tmpdir("counts"), 0, 0, 1);
    MDB_dbi d = table(st, "c");
    add_spec a1[] = {{"k1", {1, 0, 10}}, {"k2", {0, 1, 5}}};
    add_spec a2[] = {{"k1", {1, 0, 7}}};
    add_spec a3[] = {{"k1", {0, 1, -2}}, {"k3", {2, 0, 1}}};
    counts_op ops[] = {{d, a1, 2, 0, 0, {0}, 0}, {d, a2, 1, 0, 0, {0}, 0}, {d, a3, 2, 0, 0, {0}, 0}};
    batch_of(st, ops, 3);
    ASSERT_REC(st, d, "k1", 2, 1, 15);
    ASSERT_REC(st, d, "k2", 0, 1, 5);
    ASSERT_REC(st, d, "k3", 2, 0, 1);
    fb_store_counters c;
    fb_store_stats(st, &c);
    ck_assert_uint_eq(c.batches, 2); /* the gate's and ours */
    /* a later batch adds to what is stored */
    batch_of(st, ops, 1);
    ASSERT_REC(st, d, "k1", 3, 1, 25);
    fb_store_close(st);
}
END_TEST

START_TEST(failing_op_adds_nothing)
{
    fb_store *st = open_store(fb_test_tmpdir("counts"), 0, 0, 1);
    MDB_dbi d = table(st, "c");
    add_spec a[] = {{"k", {1, 0, 1}}};
    add_spec bad[] = {{"k", {5, 0, 100}}, {"only-bad", {1, 0, 0}}};
    counts_op ops[] = {{d, a, 1, 0, 0, {0}, 0}, {d, bad, 2, 1, 0, {0}, 0}, {d, a, 1, 0, 0, {0}, 0}};
    batch_of(st, ops, 3);
    ASSERT_REC(st, d, "k", 2, 0, 2);
    ASSERT_REC(st, d, "only-bad", -1, -1, -1);
    fb_store_close(st);
}
END_TEST

START_TEST(zero_counts_delete_the_record)
{
    fb_store *st = open_store(fb_test_tmpdir("counts"), 0, 0, 1);
    MDB_dbi d = table(st, "c");
    add_spec add[] = {{"k", {1, 1, 9}}};
    add_spec sub[] = {{"k", {-1, -1, -9}}};
    add_spec sub_absent[] = {{"never", {-1, 0, 0}}};
    counts_op ops[] = {{d, add, 1, 0, 0, {0}, 0}};
    batch_of(st, ops, 1);
    ASSERT_REC(st, d, "k", 1, 1, 9);
    counts_op ops2[] = {{d, sub, 1, 0, 0, {0}, 0}, {d, sub_absent, 1, 0, 0, {0}, 0}};
    batch_of(st, ops2, 2);
    ASSERT_REC(st, d, "k", -1, -1, -1);
    ASSERT_REC(st, d, "never", -1, -1, -1);
    /* add and subtract within one batch: nothing is written */
    counts_op ops3[] = {{d, add, 1, 0, 0, {0}, 0}, {d, sub, 1, 0, 0, {0}, 0}};
    batch_of(st, ops3, 2);
    ASSERT_REC(st, d, "k", -1, -1, -1);
    fb_store_close(st);
}
END_TEST

START_TEST(flush_makes_pending_sums_readable_and_rolls_back)
{
    fb_store *st = open_store(fb_test_tmpdir("counts"), 0, 0, 1);
    MDB_dbi d = table(st, "c");
    add_spec a[] = {{"k", {1, 0, 3}}};
    add_spec none[] = {{"k", {0, 0, 0}}};
    /* op 0 adds; op 1 flushes, reads 1/0/3, adds, then fails (its flush and
     * its add are undone: op 0's sum must still be written); op 2 flushes,
     * reads the same, adds and commits. */
    counts_op ops[] = {{d, a, 1, 0, 0, {0}, 0}, {d, a, 1, 1, 1, {0}, 0}, {d, none, 1, 0, 1, {0}, 0},
                       {d, a, 1, 0, 0, {0}, 0}};
    batch_of(st, ops, 4);
    ck_assert(ops[1].seen[0] == 1 && ops[1].seen[2] == 3);
    ck_assert(ops[2].seen[0] == 1 && ops[2].seen[2] == 3);
    ASSERT_REC(st, d, "k", 2, 0, 6);
    fb_store_close(st);
}
END_TEST

static int mismatch_fn(fb_txn *txn, void *arg, fb_err *e)
{
    MDB_dbi d = *(MDB_dbi *)arg;
    int64_t v[NV] = {1, 0, 0};
    int rc = fb_txn_add_counts(txn, d, "k", 1, v, NV, 2, e);
    return rc ? rc : fb_txn_add_counts(txn, d, "k", 1, v, NV, 1, e);
}

START_TEST(shape_mismatch_is_an_error)
{
    fb_store *st = open_store(fb_test_tmpdir("counts"), 0, 0, 1);
    MDB_dbi d = table(st, "c");
    add_spec a[] = {{"k", {1, 0, 3}}};
    counts_op op = {d, a, 1, 0, 0, {0}, 0};
    fb_err err = {0};
    ck_assert_int_eq(fb_store_write(st, counts_fn, &op, &err), FB_OK);
    /* the same key with another number of counts in one op */
    ck_assert_int_eq(fb_store_write(st, mismatch_fn, &d, &err), FB_INTERNAL);
    ck_assert_msg(strstr(err.msg, "another shape"), "%s", err.msg);
    ASSERT_REC(st, d, "k", 1, 0, 3);
    fb_store_close(st);
}
END_TEST

/* Many batches of random adds with random failures and flushes, against a
 * naive model; then map growth (a tiny map) must not double count. */
START_TEST(random_batches_match_a_naive_model)
{
    fb_store *st = open_store(fb_test_tmpdir("counts"), 64 << 10, 64 << 20, 1);
    MDB_dbi d = table(st, "c");
    enum { KEYS = 3000, OPS = 12, ROUNDS = 80 };
    static int64_t model[KEYS][NV];
    memset(model, 0, sizeof model);
    static char names[KEYS][64];
    for (int k = 0; k < KEYS; k++) snprintf(names[k], sizeof names[k], "key-%05d-%s", k * 7919 % 100000,
                                            k % 3 ? "padding-so-that-the-records-fill-pages" : "x");
    unsigned seed = 12345;
    for (int r = 0; r < ROUNDS; r++) {
        static add_spec adds[OPS][8];
        counts_op ops[OPS];
        for (int o = 0; o < OPS; o++) {
            int n = 1 + (int)(rand_r(&seed) % 8);
            for (int i = 0; i < n; i++) {
                int k = (int)(rand_r(&seed) % KEYS);
                adds[o][i].key = names[k];
                adds[o][i].v[0] = 1 + rand_r(&seed) % 3; /* counts stay positive: no clamping */
                adds[o][i].v[1] = rand_r(&seed) % 2;
                adds[o][i].v[2] = (int64_t)(rand_r(&seed) % 2001) - 1000;
            }
            ops[o] = (counts_op){d, adds[o], n, rand_r(&seed) % 7 == 0, rand_r(&seed) % 9 == 0, {0}, 0};
            if (!ops[o].fail)
                for (int i = 0; i < n; i++) {
                    int k = (int)((adds[o][i].key - names[0]) / (long)sizeof names[0]);
                    for (int j = 0; j < NV; j++) model[k][j] += adds[o][i].v[j];
                }
        }
        batch_of(st, ops, OPS);
    }
    for (int k = 0; k < KEYS; k++) {
        int present = model[k][0] + model[k][1] > 0;
        if (present) ASSERT_REC(st, d, names[k], model[k][0], model[k][1], model[k][2]);
        else ASSERT_REC(st, d, names[k], -1, -1, -1);
    }
    fb_store_counters c;
    fb_store_stats(st, &c);
    ck_assert_msg(c.map_grows > 0, "the test meant to grow the map (%llu grows)", (unsigned long long)c.map_grows);
    fb_store_close(st);
}
END_TEST

static Suite *store_counts_suite(void)
{
    Suite *s = suite_create("store_counts");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sums_across_ops_of_a_batch);
    tcase_add_test(tc, failing_op_adds_nothing);
    tcase_add_test(tc, zero_counts_delete_the_record);
    tcase_add_test(tc, flush_makes_pending_sums_readable_and_rolls_back);
    tcase_add_test(tc, shape_mismatch_is_an_error);
    tcase_add_test(tc, random_batches_match_a_naive_model);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(store_counts_suite)
