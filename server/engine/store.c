/* store.c — one LMDB environment, one writer thread, group commit.
 *
 * Why a writer thread: LMDB allows one write transaction at a time, and a
 * durable commit costs an fsync (milliseconds). If every request committed
 * on its own, throughput would be one request per fsync. Instead requests
 * queue ops; the writer takes up to max_batch of them, runs each in a
 * nested transaction of one batch transaction (a failing op is rolled back
 * alone: one bad submission never poisons its neighbours), commits the
 * batch with one fsync, and only then runs the after-commit actions (e.g.
 * publishing alerts) and the done callbacks (e.g. sending replies). N
 * concurrent writers therefore share one fsync, and a reply is never sent
 * for data that is not on disk.
 *
 * Map growth: LMDB's map has a fixed size. When an op reports MDB_MAP_FULL
 * (through fb_txn_mdb_err), the ops that already ran are committed, the map
 * is doubled and the op is run again in a fresh batch; at max_map_bytes the
 * op fails with FB_EXHAUSTED instead. If the batch commit itself runs out of
 * room, the whole batch is rolled back, the map grown and the batch re-run
 * (hence "fn may run more than once" in store.h). mdb_env_set_mapsize is
 * only safe while this process has no transaction open, so every
 * transaction (reads, the batch, fb_store_dbi) passes a small gate that
 * counts them, and a resize waits for the count to reach zero. The gate
 * prefers readers (a thread may hold two read transactions), with a short
 * bounded pause for new readers while a resize waits, so neither side can
 * deadlock or starve for long. Another process growing the map shows up as
 * MDB_MAP_RESIZED, answered by adopting its size (set_mapsize 0).
 *
 * Key schema convention (every module follows it; each documents its own
 * tables in its .c file): keys are binary, big-endian integers so that byte
 * order equals numeric order, and the first component of every key is the
 * tenant's 4-byte id. A cursor bounded by the 4-byte prefix can therefore
 * never walk into another tenant's data, and erasing or counting a tenant
 * is a prefix range. Tenant id 0 is reserved for process-wide records (the
 * "meta" table). The only tables not keyed by tenant are the directories
 * that map outside names to tenants: "tenants" (name), "tenant_ids" (id)
 * and "keys" (SHA-256 of an API key); see auth.c.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ids.h"

/* Waits are bounded so that a thread that (against store.h) holds a read
 * transaction while waiting for a write can only delay growth, never
 * deadlock it: the op then fails with FB_UNAVAILABLE and may be retried. */
enum { MAX_DBS = 32, MAX_READERS = 1024, READER_PAUSE_MS = 50, ADOPT_WAIT_MS = 5000,
       GROW_WAIT_MS = 10000 };

typedef struct fb_after {
    void (*fn)(void *);
    void (*free_fn)(void *);
    void *arg;
    struct fb_after *next;
} fb_after;

typedef struct fb_waiter { /* fb_store_write's rendezvous */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
} fb_waiter;

typedef struct fb_op {
    fb_write_fn fn;
    fb_done_fn done;
    void *arg;
    fb_waiter *waiter; /* set for fb_store_write: the op lives on its stack */
    int rc;
    fb_err err;
    fb_after *after, *after_last;
    struct fb_op *next;
} fb_op;

struct fb_txn {
    fb_store *st;
    MDB_txn *mdb;
    fb_op *op;
    int map_full;
};

struct fb_store {
    MDB_env *env;
    uint64_t max_map_bytes;
    int max_batch, max_queue;

    pthread_mutex_t mu; /* queue, counters */
    pthread_cond_t work, space;
    fb_op *head, *tail;
    int queued, closing, writer_started;
    pthread_t writer;
    fb_op **batch;
    fb_store_counters c;

    pthread_mutex_t gate_mu; /* open transactions of this process vs resize */
    pthread_cond_t gate_cv;
    int open_txns, resize_waiting;

    fb_idgen ids;
};

/* ---------------------------------------------------------------- errors */

int fb_store_mdb_err(int rc, const char *what, fb_err *err)
{
    int code = rc == MDB_NOTFOUND ? FB_NOT_FOUND
             : rc == MDB_KEYEXIST ? FB_EXISTS
             : rc == MDB_MAP_FULL || rc == MDB_READERS_FULL ? FB_EXHAUSTED
             : rc == MDB_MAP_RESIZED ? FB_UNAVAILABLE
             : FB_INTERNAL;
    return fb_err_set(err, code, "storage: %s: %s", what, mdb_strerror(rc));
}

int fb_txn_mdb_err(fb_txn *txn, int rc, const char *what, fb_err *err)
{
    if (rc == MDB_MAP_FULL && txn) txn->map_full = 1;
    return fb_store_mdb_err(rc, what, err);
}

static int exhausted(fb_store *st, fb_err *err)
{
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    return fb_err_set(err, FB_EXHAUSTED,
                      "storage: data directory map is full (%zu MiB); raise max map size",
                      info.me_mapsize >> 20);
}

/* ------------------------------------------------------------------ gate */

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) { ts->tv_sec++; ts->tv_nsec -= 1000000000L; }
}

static void gate_enter(fb_store *st)
{
    pthread_mutex_lock(&st->gate_mu);
    if (st->resize_waiting) { /* give a waiting resize a short head start */
        struct timespec ts;
        deadline_after(&ts, READER_PAUSE_MS);
        while (st->resize_waiting &&
               pthread_cond_timedwait(&st->gate_cv, &st->gate_mu, &ts) != ETIMEDOUT) {}
    }
    st->open_txns++;
    pthread_mutex_unlock(&st->gate_mu);
}

static void gate_leave(fb_store *st)
{
    pthread_mutex_lock(&st->gate_mu);
    if (--st->open_txns == 0) pthread_cond_broadcast(&st->gate_cv);
    pthread_mutex_unlock(&st->gate_mu);
}

/* Sets the map size (0: adopt another process's) once no transaction of
 * this process is open. wait_ms < 0 waits for ever. Returns an LMDB code,
 * or ETIMEDOUT. */
static int gate_set_mapsize(fb_store *st, size_t bytes, int wait_ms)
{
    struct timespec ts;
    int rc = 0;
    if (wait_ms >= 0) deadline_after(&ts, wait_ms);
    pthread_mutex_lock(&st->gate_mu);
    st->resize_waiting++;
    while (st->open_txns > 0 && rc == 0)
        rc = wait_ms < 0 ? pthread_cond_wait(&st->gate_cv, &st->gate_mu)
                         : pthread_cond_timedwait(&st->gate_cv, &st->gate_mu, &ts);
    if (st->open_txns == 0) rc = mdb_env_set_mapsize(st->env, bytes);
    st->resize_waiting--;
    pthread_cond_broadcast(&st->gate_cv);
    pthread_mutex_unlock(&st->gate_mu);
    return rc;
}

static void note_map_size(fb_store *st)
{
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    pthread_mutex_lock(&st->mu);
    st->c.map_bytes = info.me_mapsize;
    pthread_mutex_unlock(&st->mu);
}

/* Begins a transaction inside the gate, adopting another process's map
 * growth when LMDB asks for it. On success the gate is held. */
static int gated_begin(fb_store *st, unsigned flags, MDB_txn **txn, int adopt_wait_ms)
{
    for (int tries = 0;; tries++) {
        gate_enter(st);
        int rc = mdb_txn_begin(st->env, NULL, flags, txn);
        if (rc == 0) return 0;
        gate_leave(st);
        if (rc != MDB_MAP_RESIZED || tries >= 3) return rc;
        rc = gate_set_mapsize(st, 0, adopt_wait_ms);
        if (rc) return rc == ETIMEDOUT ? MDB_MAP_RESIZED : rc;
        note_map_size(st);
    }
}

/* ----------------------------------------------------------------- reads */

int fb_store_read_begin(fb_store *st, MDB_txn **txn, fb_err *err)
{
    int rc = gated_begin(st, MDB_RDONLY, txn, ADOPT_WAIT_MS);
    if (rc == 0) return FB_OK;
    if (rc == MDB_READERS_FULL)
        return fb_err_set(err, FB_EXHAUSTED, "storage: all %d reader slots are busy", MAX_READERS);
    return fb_store_mdb_err(rc, "begin read transaction", err);
}

void fb_store_read_end(fb_store *st, MDB_txn *txn)
{
    if (!txn) return;
    mdb_txn_abort(txn);
    gate_leave(st);
}

/* --------------------------------------------------------- write ops API */

MDB_txn *fb_txn_mdb(fb_txn *txn) { return txn->mdb; }
fb_store *fb_txn_store(fb_txn *txn) { return txn->st; }

int fb_txn_after_commit(fb_txn *txn, void (*fn)(void *), void (*free_fn)(void *), void *arg)
{
    fb_after *a = malloc(sizeof *a);
    if (!a) {
        if (free_fn) free_fn(arg);
        return FB_INTERNAL;
    }
    *a = (fb_after){fn, free_fn, arg, NULL};
    fb_op *op = txn->op;
    if (op->after_last) op->after_last->next = a;
    else op->after = a;
    op->after_last = a;
    return FB_OK;
}

/* Forgets an op's after-commit actions (failed or rolled-back run). */
static void drop_after(fb_op *op)
{
    for (fb_after *a = op->after, *next; a; a = next) {
        next = a->next;
        if (a->free_fn) a->free_fn(a->arg);
        free(a);
    }
    op->after = op->after_last = NULL;
}

static void run_after(fb_op *op)
{
    for (fb_after *a = op->after, *next; a; a = next) {
        next = a->next;
        if (a->fn) a->fn(a->arg);
        free(a);
    }
    op->after = op->after_last = NULL;
}

/* ------------------------------------------------------------ the writer */

/* Runs one op in a nested transaction of parent. Returns 1 if it ran out
 * of map (the op's result is then to be decided by the caller). */
static int run_op(fb_store *st, MDB_txn *parent, fb_op *op)
{
    fb_txn t = {st, NULL, op, 0};
    memset(&op->err, 0, sizeof op->err);
    int rc = mdb_txn_begin(st->env, parent, 0, &t.mdb);
    if (rc) {
        op->rc = fb_txn_mdb_err(&t, rc, "begin nested transaction", &op->err);
        return t.map_full;
    }
    op->rc = op->fn(&t, op->arg, &op->err);
    if (op->rc == FB_OK) {
        rc = mdb_txn_commit(t.mdb);
        if (rc) op->rc = fb_txn_mdb_err(&t, rc, "commit", &op->err);
    } else {
        mdb_txn_abort(t.mdb);
        if (!op->err.msg[0]) fb_err_set(&op->err, op->rc, "storage: write failed (%s)", fb_err_name(op->rc));
        /* A write fn that printed LMDB's reason but did not use fb_txn_mdb_err. */
        if (strstr(op->err.msg, "MDB_MAP_FULL")) t.map_full = 1;
    }
    op->err.code = op->rc;
    if (op->rc != FB_OK) drop_after(op);
    return t.map_full;
}

static int can_grow(fb_store *st)
{
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    return info.me_mapsize < st->max_map_bytes;
}

static int grow_err(int rc, fb_err *err)
{
    if (rc == ETIMEDOUT)
        return fb_err_set(err, FB_UNAVAILABLE, "storage: the map is full and could not grow: "
                          "a read transaction stayed open for %d s; retry", GROW_WAIT_MS / 1000);
    return fb_store_mdb_err(rc, "grow map", err);
}

/* Doubles the map (capped at max_map_bytes). Returns an LMDB code or
 * ETIMEDOUT. */
static int grow(fb_store *st)
{
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    uint64_t want = (uint64_t)info.me_mapsize * 2;
    if (want > st->max_map_bytes) want = st->max_map_bytes;
    int rc = gate_set_mapsize(st, (size_t)want, GROW_WAIT_MS);
    if (rc == 0) {
        pthread_mutex_lock(&st->mu);
        st->c.map_grows++;
        pthread_mutex_unlock(&st->mu);
        note_map_size(st);
    }
    return rc;
}

/* After-commit actions of every op in order, then every done callback. */
static void finish(fb_store *st, fb_op **ops, int n, int committed)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        if (ops[i]->rc == FB_OK) run_after(ops[i]);
        else failed++;
    }
    pthread_mutex_lock(&st->mu);
    st->c.batches += committed;
    st->c.ops += (uint64_t)n;
    st->c.failed_ops += (uint64_t)failed;
    pthread_mutex_unlock(&st->mu);
    for (int i = 0; i < n; i++) {
        fb_op *op = ops[i];
        if (op->waiter) {
            fb_waiter *w = op->waiter;
            pthread_mutex_lock(&w->mu);
            w->finished = 1;
            pthread_cond_signal(&w->cv);
            pthread_mutex_unlock(&w->mu);
        } else {
            if (op->done) op->done(op->arg, op->rc, op->rc ? &op->err : NULL);
            free(op);
        }
    }
}

static void fail_all(fb_op **ops, int n, int code, const fb_err *why)
{
    for (int i = 0; i < n; i++) {
        drop_after(ops[i]);
        ops[i]->rc = code;
        ops[i]->err = *why;
        ops[i]->err.code = code;
    }
}

/* Runs ops[0..n) as one or more batch transactions (more only when the map
 * had to grow midway). */
static void process(fb_store *st, fb_op **ops, int n)
{
    while (n > 0) {
        MDB_txn *parent;
        fb_err why;
        int rc = gated_begin(st, 0, &parent, ADOPT_WAIT_MS);
        if (rc) {
            fb_store_mdb_err(rc, "begin write transaction", &why);
            fail_all(ops, n, why.code, &why);
            finish(st, ops, n, 0);
            return;
        }
        int ran = 0, stopped = 0;
        for (; ran < n; ran++) {
            if (!run_op(st, parent, ops[ran])) continue;
            if (can_grow(st)) { stopped = 1; break; } /* ops[ran] runs again after growth */
            drop_after(ops[ran]);
            ops[ran]->rc = exhausted(st, &ops[ran]->err);
        }
        rc = ran > 0 ? mdb_txn_commit(parent) : (mdb_txn_abort(parent), 0);
        gate_leave(st);
        int grew = 0;
        if (rc == MDB_MAP_FULL && can_grow(st)) {
            for (int i = 0; i < ran; i++) drop_after(ops[i]);
            if ((grew = grow(st)) == 0) continue; /* run the whole batch again */
        }
        if (grew) {
            grow_err(grew, &why);
            fail_all(ops, ran, why.code, &why);
        } else if (rc == MDB_MAP_FULL) {
            exhausted(st, &why);
            fail_all(ops, ran, FB_EXHAUSTED, &why);
        } else if (rc) {
            fb_store_mdb_err(rc, "commit", &why);
            fail_all(ops, ran, why.code, &why);
        }
        if (ran > 0) finish(st, ops, ran, rc == 0);
        ops += ran;
        n -= ran;
        if (stopped && (rc = grow(st)) != 0) { /* cannot grow: give up on that op */
            grow_err(rc, &why);
            fail_all(ops, 1, why.code, &why);
            finish(st, ops, 1, 0);
            ops++;
            n--;
        }
    }
}

static void *writer_main(void *p)
{
    fb_store *st = p;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (!st->head && !st->closing) pthread_cond_wait(&st->work, &st->mu);
        if (!st->head) break; /* closing and drained */
        int n = 0;
        while (st->head && n < st->max_batch) {
            fb_op *op = st->head;
            st->head = op->next;
            op->next = NULL;
            st->batch[n++] = op;
        }
        if (!st->head) st->tail = NULL;
        st->queued -= n;
        pthread_cond_broadcast(&st->space);
        pthread_mutex_unlock(&st->mu);
        process(st, st->batch, n);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* Queues op; waits while the queue is full unless nowait (then
 * FB_EXHAUSTED) or on the writer thread itself (which must not wait for
 * itself: a done callback may queue a follow-up write). */
static int enqueue(fb_store *st, fb_op *op, int nowait)
{
    pthread_mutex_lock(&st->mu);
    int on_writer = st->writer_started && pthread_equal(pthread_self(), st->writer);
    if (nowait && !st->closing && st->queued >= st->max_queue && !on_writer) {
        pthread_mutex_unlock(&st->mu);
        return FB_EXHAUSTED;
    }
    while (!st->closing && st->queued >= st->max_queue && !on_writer)
        pthread_cond_wait(&st->space, &st->mu);
    if (st->closing) {
        pthread_mutex_unlock(&st->mu);
        return FB_UNAVAILABLE;
    }
    if (st->tail) st->tail->next = op;
    else st->head = op;
    st->tail = op;
    st->queued++;
    pthread_cond_signal(&st->work);
    pthread_mutex_unlock(&st->mu);
    return FB_OK;
}

static int write_async(fb_store *st, fb_write_fn fn, fb_done_fn done, void *arg, int nowait)
{
    fb_op *op = calloc(1, sizeof *op);
    if (!op) return FB_INTERNAL;
    op->fn = fn;
    op->done = done;
    op->arg = arg;
    int rc = enqueue(st, op, nowait);
    if (rc) free(op);
    return rc;
}

int fb_store_write_async(fb_store *st, fb_write_fn fn, fb_done_fn done, void *arg)
{
    return write_async(st, fn, done, arg, 0);
}

int fb_store_try_write_async(fb_store *st, fb_write_fn fn, fb_done_fn done, void *arg)
{
    return write_async(st, fn, done, arg, 1);
}

int fb_store_write(fb_store *st, fb_write_fn fn, void *arg, fb_err *err)
{
    fb_waiter w = {.finished = 0};
    fb_op op = {.fn = fn, .arg = arg, .waiter = &w};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int rc = enqueue(st, &op, 0);
    if (rc == FB_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.finished) pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        rc = op.rc;
        if (rc && err) *err = op.err;
    } else {
        fb_err_set(err, rc, "storage: the store is closing");
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return rc;
}

/* ------------------------------------------------------- open and close */

static int open_env(fb_store *st, const char *dir, const fb_store_opts *o, fb_err *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return fb_err_set(err, FB_INTERNAL, "storage: cannot create data directory %s: %s",
                          dir, strerror(errno));
    size_t initial = o->initial_map_bytes ? o->initial_map_bytes : (size_t)64 << 20;
    int rc = mdb_env_create(&st->env);
    if (!rc) rc = mdb_env_set_maxdbs(st->env, MAX_DBS);
    if (!rc) rc = mdb_env_set_maxreaders(st->env, MAX_READERS);
    if (!rc) rc = mdb_env_set_mapsize(st->env, initial);
    if (!rc) rc = mdb_env_open(st->env, dir, MDB_NOTLS | (o->no_sync ? MDB_NOSYNC : 0), 0600);
    if (rc) {
        fb_err_set(err, FB_INTERNAL, "storage: cannot open LMDB environment in %s: %s",
                   dir, mdb_strerror(rc));
        if (st->env) mdb_env_close(st->env);
        st->env = NULL;
        return FB_INTERNAL;
    }
    int dead = 0;
    mdb_reader_check(st->env, &dead); /* reader slots of killed processes */
    return FB_OK;
}

int fb_store_open(fb_store **out, const char *dir, const fb_store_opts *opts, fb_err *err)
{
    fb_store_opts o = opts ? *opts : (fb_store_opts){0};
    *out = NULL;
    fb_store *st = calloc(1, sizeof *st);
    if (!st) return fb_err_set(err, FB_INTERNAL, "storage: out of memory");
    st->max_map_bytes = o.max_map_bytes ? o.max_map_bytes : (uint64_t)64 << 30;
    st->max_batch = o.max_batch > 0 ? o.max_batch : 1024;
    st->max_queue = o.max_queue > 0 ? o.max_queue : 4 * st->max_batch;
    st->batch = calloc((size_t)st->max_batch, sizeof *st->batch);
    if (!st->batch) {
        free(st);
        return fb_err_set(err, FB_INTERNAL, "storage: out of memory");
    }
    if (open_env(st, dir, &o, err) != FB_OK) {
        free(st->batch);
        free(st);
        return FB_INTERNAL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->work, NULL);
    pthread_cond_init(&st->space, NULL);
    pthread_mutex_init(&st->gate_mu, NULL);
    pthread_cond_init(&st->gate_cv, &ca);
    pthread_condattr_destroy(&ca);
    fb_idgen_init(&st->ids);
    note_map_size(st);
    if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
        fb_store_close(st);
        return fb_err_set(err, FB_INTERNAL, "storage: cannot start the writer thread");
    }
    pthread_mutex_lock(&st->mu);
    st->writer_started = 1;
    pthread_mutex_unlock(&st->mu);
    *out = st;
    return FB_OK;
}

void fb_store_close(fb_store *st)
{
    if (!st) return;
    pthread_mutex_lock(&st->mu);
    int started = st->writer_started && !st->closing;
    st->closing = 1;
    pthread_cond_broadcast(&st->work);
    pthread_cond_broadcast(&st->space);
    pthread_mutex_unlock(&st->mu);
    if (started) pthread_join(st->writer, NULL);
    mdb_env_sync(st->env, 1);
    mdb_env_close(st->env);
    fb_idgen_destroy(&st->ids);
    pthread_cond_destroy(&st->gate_cv);
    pthread_mutex_destroy(&st->gate_mu);
    pthread_cond_destroy(&st->space);
    pthread_cond_destroy(&st->work);
    pthread_mutex_destroy(&st->mu);
    free(st->batch);
    free(st);
}

int fb_store_dbi(fb_store *st, const char *name, MDB_dbi *out, fb_err *err)
{
    MDB_txn *txn;
    int rc = gated_begin(st, 0, &txn, ADOPT_WAIT_MS);
    if (rc) return fb_err_set(err, FB_INTERNAL, "storage: open table %s: %s", name, mdb_strerror(rc));
    rc = mdb_dbi_open(txn, name, MDB_CREATE, out);
    if (rc) mdb_txn_abort(txn);
    else rc = mdb_txn_commit(txn);
    gate_leave(st);
    if (rc) return fb_err_set(err, FB_INTERNAL, "storage: open table %s: %s", name, mdb_strerror(rc));
    return FB_OK;
}

void fb_store_stats(fb_store *st, fb_store_counters *out)
{
    pthread_mutex_lock(&st->mu);
    *out = st->c;
    out->queued = (uint32_t)st->queued;
    pthread_mutex_unlock(&st->mu);
}

struct fb_idgen *fb_store_ids(fb_store *st) { return &st->ids; }
