/* store_writer.c — the writer and syncer threads: batching, nested ops,
 * group commit, the two-stage durable commit, map growth (the design is
 * explained at the top of store.c).
 *
 * Life of an op: a caller queues it (waiting while the bounded queue is
 * full); the writer takes every queued op (up to max_batch), runs them in
 * one batch transaction (directly while they succeed; after a failure the
 * batch runs again with the failing op and the later ones each in a nested
 * transaction, committed on FB_OK, aborted otherwise: see process) and
 * commits the batch: LMDB writes and fdatasyncs the data
 * pages, then writes the meta page without syncing it (MDB_NOMETASYNC). The
 * writer hands the batch to the syncer and goes on with the next one. A
 * batch becomes durable by the first fdatasync of the file that starts
 * after its meta page was written: either the data sync of the writer's
 * next commit (under load there is always a next commit, so one sync per
 * batch suffices, as in a plain LMDB commit without the meta sync), or,
 * when the writer is idle or its next commit is more than COMMIT_WAIT_US
 * away, the syncer's own mdb_env_sync. Only then does the syncer run each
 * batch's after-commit actions in order, then its done callbacks in order,
 * batch after batch in commit order.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Runs one op directly in the batch transaction (no nested transaction:
 * its begin and commit copy every page the op touches). Returns 0 when the
 * op succeeded; else its writes cannot be undone alone, and the caller
 * abandons the attempt and runs the batch again, this op and the ones
 * after it nested (see process). */
static int run_direct(fb_store *st, MDB_txn *txn, fb_op *op)
{
    fb_txn t = {st, txn, op, 0};
    memset(&op->err, 0, sizeof op->err);
    fb_counts_set_undo(st->counts, 0);
    op->rc = op->fn(&t, op->arg, &op->err);
    fb_counts_set_undo(st->counts, 1);
    if (op->rc != FB_OK || t.map_full) return 1;
    fb_counts_op_commit(st->counts); /* its counter sums stay */
    return 0;
}

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
    if (op->rc == FB_OK) fb_counts_op_commit(st->counts); /* its counter sums stay */
    else fb_counts_op_abort(st->counts);
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

/* Marks every handed-off committed batch durable: a commit whose data sync
 * began after their meta pages were written has just returned. The count
 * goes up first, so a done callback that reads it sees the sync. Slots the
 * syncer is already finishing are left alone (it synced for them itself).
 * Called with pipe_mu held. */
static void mark_durable(fb_store *st)
{
    int marked = 0;
    for (int i = st->pipe_settling; i < st->pipe_count; i++) {
        fb_pipe_slot *slot = &st->pipe[(st->pipe_head + i) % PIPE_DEPTH];
        if (slot->committed && !slot->durable) slot->durable = marked = 1;
    }
    if (marked) {
        __atomic_add_fetch(&st->syncs, 1, __ATOMIC_SEQ_CST);
        pthread_cond_signal(&st->pipe_work);
    }
}

/* Hands ops[0..n) (one batch, in commit order) to the syncer, waiting for
 * a free pipeline slot. flushed: the batch's commit ran a data sync (so the
 * batches before it are durable now). Writer thread only. */
static void handoff(fb_store *st, fb_op **ops, int n, int committed, int flushed)
{
    pthread_mutex_lock(&st->pipe_mu);
    if (flushed) mark_durable(st);
    while (st->pipe_count == PIPE_DEPTH) pthread_cond_wait(&st->pipe_space, &st->pipe_mu);
    fb_pipe_slot *slot = &st->pipe[(st->pipe_head + st->pipe_count) % PIPE_DEPTH];
    memcpy(slot->ops, ops, (size_t)n * sizeof *ops);
    slot->n = n;
    slot->committed = committed;
    slot->durable = 0;
    st->pipe_count++;
    pthread_cond_signal(&st->pipe_work);
    pthread_mutex_unlock(&st->pipe_mu);
}

/* Tells the syncer whether a commit may be coming (writer thread, st->mu
 * held: lock order mu, then pipe_mu). */
static void set_writer_idle(fb_store *st, int idle)
{
    pthread_mutex_lock(&st->pipe_mu);
    st->writer_idle = idle;
    if (idle) pthread_cond_signal(&st->pipe_work);
    pthread_mutex_unlock(&st->pipe_mu);
}

/* Writes the batch's counter sums and commits it. *flushed: LMDB really wrote it, with the data sync
 * that precedes the meta page (a transaction without changes is committed
 * by LMDB without any write or sync; then the meta txn id stays put). A
 * commit of another process in between (txn id beyond ours) also synced
 * the file after our earlier meta pages, so it counts as well. */
static int commit_batch(fb_store *st, MDB_txn *parent, int *flushed)
{
    size_t id = mdb_txn_id(parent);
    const char *what;
    int rc = fb_counts_apply(st->counts, parent, 0, &what); /* the ops' counter sums */
    if (rc) {
        mdb_txn_abort(parent);
        *flushed = 0;
        return rc;
    }
    rc = mdb_txn_commit(parent);
    MDB_envinfo info;
    *flushed = rc == 0 && !st->no_sync && mdb_env_info(st->env, &info) == 0 && info.me_last_txnid >= id;
    return rc;
}

/* Keeps PREALLOC_AHEAD bytes of written zeros past the pages LMDB uses, so
 * that the commits' data syncs overwrite blocks the file already has
 * instead of allocating new ones: an fdatasync that allocates blocks (or
 * grows the file) also writes the file system's metadata (the inode, the
 * allocation bitmaps, a journal commit), per commit. Writing zeros ahead
 * makes that one allocation per PREALLOC_AHEAD bytes of growth instead.
 * (fallocate would leave unwritten extents, whose conversion on the first
 * write costs the same metadata write per commit.)
 *
 * Why it is safe: it runs right after the batch transaction began, before
 * any op: LMDB's write lock is held, so no commit of this or another
 * process writes pages meanwhile, and the pages past the last committed
 * page (me_last_pgno, which never goes down) belong to no snapshot any
 * reader can see: to LMDB they are free space, which its own later writes
 * overwrite. LMDB never reads the file size to find its data (only the
 * meta pages), so extra zeros at the end change nothing on reopen, and it
 * never writes past the map, so neither does this. A failed or short write
 * just stops (the commit then allocates as before); nothing is synced here:
 * the next commit's fdatasync makes the zeros' blocks durable with it. */
enum { PREALLOC_MIN = 1 << 20, PREALLOC_AHEAD = 4 << 20 };

static void prealloc(fb_store *st)
{
    static const char zeros[65536];
    MDB_envinfo info;
    MDB_stat stat;
    int fd;
    if (st->no_sync || mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &stat) ||
        mdb_env_get_fd(st->env, &fd))
        return;
    if (st->file_end == 0) { /* the file's size once; then what this process wrote (no stat per batch) */
        struct stat sb;
        if (fstat(fd, &sb)) return;
        st->file_end = sb.st_size;
    }
    off_t used = (off_t)(info.me_last_pgno + 1) * stat.ms_psize;
    off_t end = st->file_end > used ? st->file_end : used; /* never below used: only free pages are written */
    if (end - used >= PREALLOC_MIN) return;
    off_t want = used + PREALLOC_AHEAD;
    if (want > (off_t)info.me_mapsize) want = (off_t)info.me_mapsize;
    while (end < want) {
        size_t n = (size_t)(want - end) < sizeof zeros ? (size_t)(want - end) : sizeof zeros;
        ssize_t w = pwrite(fd, zeros, n, end);
        if (w <= 0) break;
        end += w;
    }
    st->file_end = end;
}

/* Undoes an attempt at a batch whose first ran+1 ops ran: the transaction
 * (the gate is left too), the counter sums and the after-commit actions. */
static void abandon(fb_store *st, MDB_txn *parent, fb_op **ops, int ran)
{
    mdb_txn_abort(parent);
    fb_counts_reset(st->counts);
    fb_store_gate_leave(st);
    for (int i = 0; i <= ran; i++) drop_after(ops[i]);
}

/* Runs ops[0..n) as one or more batch transactions (more only when the map
 * had to grow midway).
 *
 * Ops run directly in the batch transaction while they succeed: a nested
 * transaction per op would copy every page the op touches on begin and
 * merge them back on commit, which cost as much as the op's own writes.
 * When an op fails (or runs out of map) in direct mode, its partial
 * writes cannot be undone alone, so the attempt is abandoned and the batch
 * runs again: the ops before it directly, it and every later op in its own
 * nested transaction, exactly as if the batch had run nested from the
 * start (each op is rolled back alone; the results are the same). So a
 * batch runs at most twice more than its number of failures in direct mode
 * (the direct prefix only shrinks), and ops may run more than once, which
 * store.h already allows. */
static void process(fb_store *st, fb_op **ops, int n)
{
    int direct = n; /* ops[0..direct) run directly, the rest nested */
    while (n > 0) {
        MDB_txn *parent;
        fb_err why;
        int rc = fb_store_gated_begin(st, 0, &parent, ADOPT_WAIT_MS);
        if (rc == 0) prealloc(st);
        if (rc) {
            fb_store_mdb_err(rc, "begin write transaction", &why);
            fail_all(ops, n, why.code, &why);
            handoff(st, ops, n, 0, 0);
            return;
        }
        int ran = 0, stopped = 0, redo = 0;
        for (; ran < n; ran++) {
            if (ran < direct) {
                if ((redo = run_direct(st, parent, ops[ran])) != 0) break;
                continue;
            }
            if (!run_op(st, parent, ops[ran])) continue;
            if (can_grow(st)) { stopped = 1; break; } /* ops[ran] runs again after growth */
            drop_after(ops[ran]);
            ops[ran]->rc = fb_store_exhausted(st, &ops[ran]->err);
        }
        if (redo) { /* ops[ran] failed with its writes in the batch: again, from it on nested */
            abandon(st, parent, ops, ran);
            direct = ran;
            continue;
        }
        int flushed = 0;
        rc = ran > 0 ? commit_batch(st, parent, &flushed) : (mdb_txn_abort(parent), 0);
        fb_counts_reset(st->counts);
        fb_store_gate_leave(st);
        if (rc && rc != MDB_MAP_FULL && direct > 0) {
            /* An op that ran directly may have broken the transaction (an
             * LMDB error it did not report): run the batch again with every
             * op nested, so that such an op fails alone, as it always did. */
            for (int i = 0; i < ran; i++) drop_after(ops[i]);
            direct = 0;
            continue;
        }
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
        if (ran > 0) handoff(st, ops, ran, rc == 0, flushed);
        ops += ran;
        n -= ran;
        if (stopped && (rc = grow(st)) != 0) { /* cannot grow: give up on that op */
            grow_err(rc, &why);
            fail_all(ops, 1, why.code, &why);
            handoff(st, ops, 1, 0, 0);
            ops++;
            n--;
        }
        direct = n; /* the rest of the batch: directly again */
    }
}

void *fb_store_writer_main(void *p)
{
    fb_store *st = p;
    pthread_setname_np(pthread_self(), "fb-writer"); /* for top -H and perf */
    pthread_mutex_lock(&st->mu);
    for (;;) {
        if (!st->head) {
            set_writer_idle(st, 1);
            while (!st->head && !st->closing) pthread_cond_wait(&st->work, &st->mu);
            if (!st->head) break; /* closing and drained */
            set_writer_idle(st, 0);
        }
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

/* Settles the first k handed-off batches: syncs first if sync (covering
 * all of them: their meta pages were written before it starts), then runs
 * their after-commit actions and done callbacks in commit order. If the
 * sync fails, nothing committed in them that was not already durable is
 * known to be on disk: those ops fail (no after-commit action runs) rather
 * than report success. */
static void settle(fb_store *st, int head, int k, int sync)
{
    int rc = 0;
    if (sync) {
        fb_store_gate_enter(st); /* never overlaps a map resize */
        rc = mdb_env_sync(st->env, 1);
        fb_store_gate_leave(st);
        if (rc == 0) __atomic_add_fetch(&st->syncs, 1, __ATOMIC_SEQ_CST);
    }
    for (int i = 0; i < k; i++) {
        fb_pipe_slot *slot = &st->pipe[(head + i) % PIPE_DEPTH];
        if (rc && slot->committed && !slot->durable) {
            fb_err why;
            fb_store_mdb_err(rc, "sync to disk", &why);
            fail_all(slot->ops, slot->n, why.code, &why);
        }
        finish(st, slot->ops, slot->n, slot->committed);
    }
}

/* How many leading handed-off batches need no sync (durable, or failed). */
static int settled_prefix(fb_store *st)
{
    int k = 0;
    while (k < st->pipe_count) {
        fb_pipe_slot *slot = &st->pipe[(st->pipe_head + k) % PIPE_DEPTH];
        if (slot->committed && !slot->durable && !st->no_sync) break;
        k++;
    }
    return k;
}

static void deadline_in_us(struct timespec *ts, long us)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += us * 1000L;
    while (ts->tv_nsec >= 1000000000L) { ts->tv_sec++; ts->tv_nsec -= 1000000000L; }
}

void *fb_store_syncer_main(void *p)
{
    fb_store *st = p;
    pthread_setname_np(pthread_self(), "fb-syncer");
    pthread_mutex_lock(&st->pipe_mu);
    for (;;) {
        while (!st->pipe_count && !st->pipe_closing) pthread_cond_wait(&st->pipe_work, &st->pipe_mu);
        if (!st->pipe_count) break; /* the writer has exited and everything is settled */
        int k = settled_prefix(st), sync = 0;
        if (k == 0) { /* the oldest batch still needs a sync */
            if (!st->writer_idle && !st->pipe_closing) { /* its next commit will do, if soon */
                struct timespec ts;
                deadline_in_us(&ts, COMMIT_WAIT_US);
                int w = 0;
                while (w != ETIMEDOUT && !st->writer_idle && !st->pipe_closing && settled_prefix(st) == 0)
                    w = pthread_cond_timedwait(&st->pipe_work, &st->pipe_mu, &ts);
                if ((k = settled_prefix(st)) > 0) goto settle;
            }
            k = st->pipe_count; /* one sync covers every batch handed off so far */
            sync = 1;
        }
    settle:;
        int head = st->pipe_head;
        st->pipe_settling = k; /* the writer leaves these slots alone now */
        pthread_mutex_unlock(&st->pipe_mu);
        settle(st, head, k, sync);
        pthread_mutex_lock(&st->pipe_mu);
        st->pipe_settling = 0;
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

