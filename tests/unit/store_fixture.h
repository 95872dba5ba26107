/* store_fixture.h — helpers shared by the store's unit tests
 * (test_store.c, test_store_map.c): a put op, a gate op that holds the
 * writer inside a batch until released, and open/read shortcuts. */
#ifndef FB_STORE_FIXTURE_H
#define FB_STORE_FIXTURE_H

#include <pthread.h>

#include "fbtest.h"
#include "store.h"

/* ---- write ops used by the tests ---- */

typedef struct put_op {
    MDB_dbi dbi;
    char key[32];
    size_t len;        /* value: len bytes of fill */
    unsigned char fill;
    int fail;          /* write, then fail with FB_INVALID */
} put_op;

static inline int put_fn(fb_txn *txn, void *arg, fb_err *err)
{
    put_op *p = arg;
    unsigned char *buf = malloc(p->len ? p->len : 1);
    memset(buf, p->fill, p->len);
    MDB_val k = {strlen(p->key), p->key}, v = {p->len, buf};
    int rc = mdb_put(fb_txn_mdb(txn), p->dbi, &k, &v, 0);
    free(buf);
    if (rc) return fb_txn_mdb_err(txn, rc, "put", err);
    if (p->fail) return fb_err_set(err, FB_INVALID, "test: op %s fails on purpose", p->key);
    return FB_OK;
}

/* An op that holds the writer until released, so that the test can queue
 * more ops behind it and know they form the next batch. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered, open;
} gate;

static inline int gate_fn(fb_txn *txn, void *arg, fb_err *err)
{
    (void)txn; (void)err;
    gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return FB_OK;
}

static inline void gate_init(gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->entered = g->open = 0;
}

static inline void gate_wait_entered(gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->entered) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static inline void gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Waits (bounded) until n ops are queued behind the gate. */
static inline void wait_queued(fb_store *st, uint32_t n)
{
    fb_store_counters c;
    for (int i = 0; i < 10000; i++) {
        fb_store_stats(st, &c);
        if (c.queued >= n) return;
        usleep(1000);
    }
    ck_abort_msg("ops never queued: %u of %u", c.queued, n);
}

static inline fb_store *open_store(const char *dir, size_t initial, size_t max, int no_sync)
{
    fb_store_opts o = {.initial_map_bytes = initial, .max_map_bytes = max, .no_sync = no_sync};
    fb_store *st = NULL;
    fb_err err = {0};
    int rc = fb_store_open(&st, dir, &o, &err);
    ck_assert_msg(rc == FB_OK, "open: %s", err.msg);
    return st;
}

static inline MDB_dbi table(fb_store *st, const char *name)
{
    MDB_dbi d;
    fb_err err = {0};
    ck_assert_msg(fb_store_dbi(st, name, &d, &err) == FB_OK, "dbi: %s", err.msg);
    return d;
}

/* Returns the value length of key, or -1 if absent. */
static inline long read_len(fb_store *st, MDB_dbi dbi, const char *key, unsigned char *first)
{
    MDB_txn *t;
    fb_err err = {0};
    ck_assert_msg(fb_store_read_begin(st, &t, &err) == FB_OK, "read: %s", err.msg);
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(t, dbi, &k, &v);
    long n = rc == 0 ? (long)v.mv_size : -1;
    if (rc == 0 && first && v.mv_size) *first = *(unsigned char *)v.mv_data;
    fb_store_read_end(st, t);
    ck_assert(rc == 0 || rc == MDB_NOTFOUND);
    return n;
}


#endif
