/* store.c — one LMDB environment, one writer thread, group commit.
 * (This file: the environment, the transaction gate, reads, open/close;
 * store_writer.c: the writer thread and map growth.)
 *
 * Why a writer thread: LMDB allows one write transaction at a time, and a
 * durable commit costs an fsync (milliseconds). If every request committed
 * on its own, throughput would be one request per fsync. Instead requests
 * queue ops; the writer takes up to max_batch of them, runs them in one
 * batch transaction (a failing op is rolled back alone: one bad submission
 * never poisons its neighbours; store_writer.c's process says how without
 * a nested transaction per op), commits the
 * batch with one fsync, and only then runs the after-commit actions (e.g.
 * publishing alerts) and the done callbacks (e.g. sending replies). N
 * concurrent writers therefore share one fsync, and a reply is never sent
 * for data that is not on disk.
 *
 * Two stages: LMDB's default commit syncs twice (the data pages, then the
 * meta page that points at them), and the replies are work too. So the
 * environment is opened with MDB_NOMETASYNC: mdb_txn_commit writes and
 * fdatasyncs the data pages, then writes the meta page without syncing it.
 * That keeps LMDB's integrity (the meta page only ever reaches the disk
 * after the pages it points to; a system crash can at worst undo the last
 * commit, which nobody has been told about). The writer hands each
 * committed batch to a syncer thread and starts on the next batch at once.
 * A batch is durable once any fdatasync of the file that began after its
 * meta page was written has returned: the data sync of the writer's next
 * commit (under load there is one every few ms, so a batch costs one sync),
 * or the syncer's own mdb_env_sync when the writer is idle or its next
 * commit takes longer than COMMIT_WAIT_US. Only then does the syncer run
 * the batches' after-commit actions and done callbacks, batch by batch in
 * commit order. A handoff ring of PIPE_DEPTH slots bounds the batches
 * between the stages. A kill -9 loses nothing acknowledged (the page cache
 * survives a process), and after a power loss every acknowledged batch is
 * on disk because its acknowledgement waited for a sync that began after
 * its meta page was written.
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
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

int fb_store_exhausted(fb_store *st, fb_err *err)
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

void fb_store_gate_enter(fb_store *st)
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

void fb_store_gate_leave(fb_store *st)
{
    pthread_mutex_lock(&st->gate_mu);
    if (--st->open_txns == 0) pthread_cond_broadcast(&st->gate_cv);
    pthread_mutex_unlock(&st->gate_mu);
}

/* Sets the map size (0: adopt another process's) once no transaction of
 * this process is open. wait_ms < 0 waits for ever. Returns an LMDB code,
 * or ETIMEDOUT. */
int fb_store_gate_set_mapsize(fb_store *st, size_t bytes, int wait_ms)
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

void fb_store_note_map_size(fb_store *st)
{
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    pthread_mutex_lock(&st->mu);
    st->c.map_bytes = info.me_mapsize;
    pthread_mutex_unlock(&st->mu);
}

/* Begins a transaction inside the gate, adopting another process's map
 * growth when LMDB asks for it. On success the gate is held. */
int fb_store_gated_begin(fb_store *st, unsigned flags, MDB_txn **txn, int adopt_wait_ms)
{
    for (int tries = 0;; tries++) {
        fb_store_gate_enter(st);
        int rc = mdb_txn_begin(st->env, NULL, flags, txn);
        if (rc == 0) return 0;
        fb_store_gate_leave(st);
        if (rc != MDB_MAP_RESIZED || tries >= 3) return rc;
        rc = fb_store_gate_set_mapsize(st, 0, adopt_wait_ms);
        if (rc) return rc == ETIMEDOUT ? MDB_MAP_RESIZED : rc;
        fb_store_note_map_size(st);
    }
}

/* ----------------------------------------------------------------- reads */

int fb_store_read_begin(fb_store *st, MDB_txn **txn, fb_err *err)
{
    int rc = fb_store_gated_begin(st, MDB_RDONLY, txn, ADOPT_WAIT_MS);
    if (rc == 0) return FB_OK;
    if (rc == MDB_READERS_FULL)
        return fb_err_set(err, FB_EXHAUSTED, "storage: all %d reader slots are busy", MAX_READERS);
    return fb_store_mdb_err(rc, "begin read transaction", err);
}

void fb_store_read_end(fb_store *st, MDB_txn *txn)
{
    if (!txn) return;
    mdb_txn_abort(txn);
    fb_store_gate_leave(st);
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
    /* MDB_NOMETASYNC: a commit syncs its data pages but not its meta page;
     * the syncer thread's mdb_env_sync does that before any reply (see the
     * top of this file). */
    if (!rc) rc = mdb_env_open(st->env, dir, MDB_NOTLS | (o->no_sync ? MDB_NOSYNC : MDB_NOMETASYNC), 0600);
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
    st->no_sync = o.no_sync;
    /* the writer's batch and the pipeline slots: one array */
    st->batch = calloc((size_t)st->max_batch * (1 + PIPE_DEPTH), sizeof *st->batch);
    st->counts = fb_counts_new();
    if (!st->batch || !st->counts) {
        fb_counts_free(st->counts);
        free(st->batch);
        free(st);
        return fb_err_set(err, FB_INTERNAL, "storage: out of memory");
    }
    for (int i = 0; i < PIPE_DEPTH; i++) st->pipe[i].ops = st->batch + (size_t)st->max_batch * (1 + i);
    if (open_env(st, dir, &o, err) != FB_OK) {
        fb_counts_free(st->counts);
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
    pthread_mutex_init(&st->pipe_mu, NULL);
    pthread_cond_init(&st->pipe_work, &ca); /* timed waits: CLOCK_MONOTONIC */
    pthread_cond_init(&st->pipe_space, NULL);
    pthread_condattr_destroy(&ca);
    fb_idgen_init(&st->ids);
    fb_store_note_map_size(st);
    /* The syncer first: the writer hands batches to it. Each thread's id is
     * recorded under mu before any op can be queued (enqueue reads it). */
    pthread_mutex_lock(&st->mu);
    int ok = pthread_create(&st->syncer, NULL, fb_store_syncer_main, st) == 0;
    st->syncer_started = ok;
    ok = ok && pthread_create(&st->writer, NULL, fb_store_writer_main, st) == 0;
    st->writer_started = ok;
    pthread_mutex_unlock(&st->mu);
    if (!ok) {
        fb_store_close(st);
        return fb_err_set(err, FB_INTERNAL, "storage: cannot start the writer threads");
    }
    *out = st;
    return FB_OK;
}

void fb_store_close(fb_store *st)
{
    if (!st) return;
    pthread_mutex_lock(&st->mu);
    int writer = st->writer_started && !st->closing, syncer = st->syncer_started && !st->closing;
    st->closing = 1;
    pthread_cond_broadcast(&st->work);
    pthread_cond_broadcast(&st->space);
    pthread_mutex_unlock(&st->mu);
    if (writer) pthread_join(st->writer, NULL); /* the queue is drained and handed off */
    pthread_mutex_lock(&st->pipe_mu);
    st->pipe_closing = 1;
    pthread_cond_broadcast(&st->pipe_work);
    pthread_mutex_unlock(&st->pipe_mu);
    if (syncer) pthread_join(st->syncer, NULL); /* every handed-off batch is settled */
    mdb_env_sync(st->env, 1);
    mdb_env_close(st->env);
    fb_idgen_destroy(&st->ids);
    pthread_cond_destroy(&st->gate_cv);
    pthread_mutex_destroy(&st->gate_mu);
    pthread_cond_destroy(&st->pipe_space);
    pthread_cond_destroy(&st->pipe_work);
    pthread_mutex_destroy(&st->pipe_mu);
    pthread_cond_destroy(&st->space);
    pthread_cond_destroy(&st->work);
    pthread_mutex_destroy(&st->mu);
    fb_counts_free(st->counts);
    free(st->batch);
    free(st);
}

int fb_store_dbi(fb_store *st, const char *name, MDB_dbi *out, fb_err *err)
{
    MDB_txn *txn;
    int rc = fb_store_gated_begin(st, 0, &txn, ADOPT_WAIT_MS);
    if (rc) return fb_err_set(err, FB_INTERNAL, "storage: open table %s: %s", name, mdb_strerror(rc));
    rc = mdb_dbi_open(txn, name, MDB_CREATE, out);
    if (rc) mdb_txn_abort(txn);
    else rc = mdb_txn_commit(txn);
    if (!rc && !st->no_sync) rc = mdb_env_sync(st->env, 1); /* its meta page too (MDB_NOMETASYNC) */
    fb_store_gate_leave(st);
    if (rc) return fb_err_set(err, FB_INTERNAL, "storage: open table %s: %s", name, mdb_strerror(rc));
    return FB_OK;
}

void fb_store_stats(fb_store *st, fb_store_counters *out)
{
    pthread_mutex_lock(&st->mu);
    *out = st->c;
    out->queued = (uint32_t)st->queued;
    pthread_mutex_unlock(&st->mu);
    out->syncs = __atomic_load_n(&st->syncs, __ATOMIC_SEQ_CST);
}

struct fb_idgen *fb_store_ids(fb_store *st) { return &st->ids; }
