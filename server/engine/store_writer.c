/* store_writer.c — the writer and syncer threads: batching, nested ops,
 * group commit, the two-stage durable commit, map growth (the design is
 * explained at the top of store.c).
 *
 * Life of an op: a caller queues it (waiting while the bounded queue is
 * full); the writer takes every queued op (up to max_batch), runs each in a
 * nested transaction of one batch transaction (commit on FB_OK, abort
 * otherwise) and commits the batch: LMDB writes and fdatasyncs the data
 * pages, then writes the meta page without syncing it (MDB_NOMETASYNC). The
 * writer hands the batch to the syncer and goes on with the next one. The
 * syncer fdatasyncs the file (mdb_env_sync), which makes the meta page of
 * every batch handed to it so far durable, and only then runs each batch's
 * after-commit actions in order, then its done callbacks in order, batch
 * after batch in commit order.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    int rc = fb_store_gate_set_mapsize(st, (size_t)want, GROW_WAIT_MS);
    if (rc == 0) {
        pthread_mutex_lock(&st->mu);
        st->c.map_grows++;
        pthread_mutex_unlock(&st->mu);
        fb_store_note_map_size(st);
    }
    return rc;
}

/* After-commit actions of every op in order, then every done callback.
 * Runs on the syncer thread, once the batch is durable (or has failed). */
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
    if ((uint32_t)n > st->c.largest_batch) st->c.largest_batch = (uint32_t)n;
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

/* Hands ops[0..n) (one batch, in commit order) to the syncer, waiting for
 * a free pipeline slot. Writer thread only. */
static void handoff(fb_store *st, fb_op **ops, int n, int committed)
{
    pthread_mutex_lock(&st->pipe_mu);
    while (st->pipe_count == PIPE_DEPTH) pthread_cond_wait(&st->pipe_space, &st->pipe_mu);
    fb_pipe_slot *slot = &st->pipe[(st->pipe_head + st->pipe_count) % PIPE_DEPTH];
    memcpy(slot->ops, ops, (size_t)n * sizeof *ops);
    slot->n = n;
    slot->committed = committed;
    st->pipe_count++;
    pthread_cond_signal(&st->pipe_work);
    pthread_mutex_unlock(&st->pipe_mu);
}

/* Runs ops[0..n) as one or more batch transactions (more only when the map
 * had to grow midway). */
static void process(fb_store *st, fb_op **ops, int n)
{
    while (n > 0) {
        MDB_txn *parent;
        fb_err why;
        int rc = fb_store_gated_begin(st, 0, &parent, ADOPT_WAIT_MS);
        if (rc) {
            fb_store_mdb_err(rc, "begin write transaction", &why);
            fail_all(ops, n, why.code, &why);
            handoff(st, ops, n, 0);
            return;
        }
        int ran = 0, stopped = 0;
        for (; ran < n; ran++) {
            if (!run_op(st, parent, ops[ran])) continue;
            if (can_grow(st)) { stopped = 1; break; } /* ops[ran] runs again after growth */
            drop_after(ops[ran]);
            ops[ran]->rc = fb_store_exhausted(st, &ops[ran]->err);
        }
        rc = ran > 0 ? mdb_txn_commit(parent) : (mdb_txn_abort(parent), 0);
        fb_store_gate_leave(st);
        int grew = 0;
        if (rc == MDB_MAP_FULL && can_grow(st)) {
            for (int i = 0; i < ran; i++) drop_after(ops[i]);
            if ((grew = grow(st)) == 0) continue; /* run the whole batch again */
        }
        if (grew) {
            grow_err(grew, &why);
            fail_all(ops, ran, why.code, &why);
        } else if (rc == MDB_MAP_FULL) {
            fb_store_exhausted(st, &why);
            fail_all(ops, ran, FB_EXHAUSTED, &why);
        } else if (rc) {
            fb_store_mdb_err(rc, "commit", &why);
            fail_all(ops, ran, why.code, &why);
        }
        if (ran > 0) handoff(st, ops, ran, rc == 0);
        ops += ran;
        n -= ran;
        if (stopped && (rc = grow(st)) != 0) { /* cannot grow: give up on that op */
            grow_err(rc, &why);
            fail_all(ops, 1, why.code, &why);
            handoff(st, ops, 1, 0);
            ops++;
            n--;
        }
    }
}

void *fb_store_writer_main(void *p)
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

/* ------------------------------------------------------------ the syncer */

/* Makes the k batches from slot head on durable with one sync, then
 * finishes them in commit order. If the sync fails, nothing committed in
 * them is known to be on disk: their ops fail (no after-commit action
 * runs) rather than reporting success. */
static void settle(fb_store *st, int head, int k)
{
    int any_committed = 0, rc = 0;
    for (int i = 0; i < k; i++) any_committed |= st->pipe[(head + i) % PIPE_DEPTH].committed;
    if (any_committed && !st->no_sync) {
        fb_store_gate_enter(st); /* never overlaps a map resize */
        rc = mdb_env_sync(st->env, 1);
        fb_store_gate_leave(st);
        if (rc == 0) {
            pthread_mutex_lock(&st->mu);
            st->c.syncs++;
            pthread_mutex_unlock(&st->mu);
        }
    }
    for (int i = 0; i < k; i++) {
        fb_pipe_slot *slot = &st->pipe[(head + i) % PIPE_DEPTH];
        if (rc && slot->committed) {
            fb_err why;
            fb_store_mdb_err(rc, "sync to disk", &why);
            fail_all(slot->ops, slot->n, why.code, &why);
        }
        finish(st, slot->ops, slot->n, slot->committed);
    }
}

void *fb_store_syncer_main(void *p)
{
    fb_store *st = p;
    pthread_mutex_lock(&st->pipe_mu);
    for (;;) {
        while (!st->pipe_count && !st->pipe_closing) pthread_cond_wait(&st->pipe_work, &st->pipe_mu);
        if (!st->pipe_count) break; /* the writer has exited and everything is settled */
        int head = st->pipe_head, k = st->pipe_count;
        pthread_mutex_unlock(&st->pipe_mu);
        settle(st, head, k);
        pthread_mutex_lock(&st->pipe_mu);
        st->pipe_head = (head + k) % PIPE_DEPTH;
        st->pipe_count -= k;
        pthread_cond_broadcast(&st->pipe_space);
    }
    pthread_mutex_unlock(&st->pipe_mu);
    return NULL;
}

/* Queues op; waits while the queue is full unless nowait (then
 * FB_EXHAUSTED) or on the writer or syncer thread (which must not wait for
 * the writer: a done callback may queue a follow-up write, and the writer
 * may be waiting for the syncer). */
static int enqueue(fb_store *st, fb_op *op, int nowait)
{
    pthread_mutex_lock(&st->mu);
    pthread_t self = pthread_self();
    int on_writer = (st->writer_started && pthread_equal(self, st->writer)) ||
                    (st->syncer_started && pthread_equal(self, st->syncer));
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

