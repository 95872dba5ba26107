/* store.h — the durable store: one LMDB environment, a writer thread and
 * a syncer thread.
 *
 * Contract
 * - One environment in the data directory (data.mdb, lock.mdb). Several
 *   processes may open it (`feedbackd tenant create` while the server runs).
 * - Writes go through the writer thread, which group-commits: it takes every
 *   queued write op, runs them in one transaction (a failing op is rolled
 *   back alone), commits the batch once with a durable sync, and only
 *   then runs after-commit actions and calls each op's done callback. So a
 *   reply sent from a done callback is always for durable data, and N
 *   concurrent writers cost one fsync, not N. The last step (the meta
 *   page's sync, the after-commit actions, the done callbacks) runs on the
 *   syncer thread while the writer already runs the next batch; batches
 *   finish in commit order, and within a batch every after-commit action
 *   (in op order) runs before the first done callback (in op order).
 * - A full map is grown (doubling, up to opts.max_map_bytes); beyond that the
 *   op fails with FB_EXHAUSTED. Never a crash or corruption. (Growth waits
 *   for this process's open transactions to end; if one stays open for 10 s
 *   the op fails with FB_UNAVAILABLE instead of waiting for ever.)
 * - Reads use short read-only transactions from any thread.
 * - Every key of every table starts with the tenant's 4-byte big-endian id,
 *   so no cursor can walk into another tenant's data. Each module documents
 *   its own key layout in its .c file; the tables are named DBIs opened once
 *   at start with fb_store_dbi().
 */
#ifndef FB_STORE_H
#define FB_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct fb_store fb_store;
typedef struct fb_txn fb_txn; /* a write op's view of the batch transaction */

typedef struct fb_store_opts {
    size_t initial_map_bytes; /* 0: 64 MiB */
    size_t max_map_bytes;     /* 0: 64 GiB */
    int max_batch;            /* ops per transaction at most; 0: 1024 */
    int no_sync;              /* tests only: skip fsync (never in production) */
    int max_queue;            /* queued ops before writers wait; 0: 4 * max_batch */
} fb_store_opts;

/* Opens (creating if needed) the environment in dir and starts the writer
 * thread. Errors: FB_INTERNAL (cannot create/open; err says why). */
int fb_store_open(fb_store **out, const char *dir, const fb_store_opts *opts, fb_err *err);

/* Stops accepting writes, drains and commits the queue, syncs, closes. */
void fb_store_close(fb_store *st);

/* The named table (created if missing). Call at start, before serving.
 * Errors: FB_INTERNAL. */
int fb_store_dbi(fb_store *st, const char *name, MDB_dbi *out, fb_err *err);

/* ---- writes ---- */

/* Runs on the writer thread inside the batch; use fb_txn_mdb() for LMDB
 * calls. Return FB_OK or an error code (then this op's writes are undone). */
typedef int (*fb_write_fn)(fb_txn *txn, void *arg, fb_err *err);
/* Called once per op on the syncer thread after the batch is durable
 * (rc == FB_OK) or the op failed (rc and err say why). Keep it short: it
 * delays every later reply. It may run while the writer runs later ops. */
typedef void (*fb_done_fn)(void *arg, int rc, const fb_err *err);

/* Queues a write. Returns FB_OK (done will be called exactly once) or
 * FB_UNAVAILABLE when the store is closing (done is not called). Waits
 * while opts.max_queue ops are queued (backpressure), except when called on
 * the store's own threads (from a done callback or after-commit action). */
int fb_store_write_async(fb_store *st, fb_write_fn fn, fb_done_fn done, void *arg);

/* Like fb_store_write_async, but never waits for room: FB_EXHAUSTED (done
 * not called) when opts.max_queue ops are already queued, so a server
 * thread can answer RESOURCE_EXHAUSTED instead of blocking. (The waiting
 * form waits only while the queue is full, which bounds memory.) */
int fb_store_try_write_async(fb_store *st, fb_write_fn fn, fb_done_fn done, void *arg);

/* Queues a write and waits for it to be durable. Returns its result. */
int fb_store_write(fb_store *st, fb_write_fn fn, void *arg, fb_err *err);

/* Caution: fn may run more than once. If the batch commit itself hits a full
 * map, the batch is rolled back, the map grown and every op of it run again;
 * and when an op fails, the ops before it in its batch run again (they ran
 * without a nested transaction of their own, see store_writer.c).
 * So fn must have no effect outside the transaction except through
 * fb_txn_after_commit, and must not consume or mutate its arg in a way a
 * second run would see (build per-run outputs inside fn, reset them first).
 * Never call fb_store_write (the waiting form) from the store's threads (fn,
 * done or after-commit actions): it would wait for itself. */

MDB_txn *fb_txn_mdb(fb_txn *txn);
fb_store *fb_txn_store(fb_txn *txn);
/* Runs fn(arg) on the syncer thread after the batch is durable, before the
 * done callbacks (e.g. publish an alert to live subscribers). If the op
 * fails, it is not run; free_fn (may be NULL) is then called instead. */
int fb_txn_after_commit(fb_txn *txn, void (*fn)(void *), void (*free_fn)(void *), void *arg);
/* (fb_txn_after_commit: on success only fn runs, so fn owns arg; it returns
 * FB_OK, or FB_INTERNAL when out of memory, in which case free_fn has been
 * called already.) */

/* Counter records (the dashboards' aggregates): a value of nv (at most
 * FB_COUNTS_MAX_VALUES) big-endian int64s, kept only while the sum of its
 * first n_lead values is positive (subtracting everything deletes it; a
 * stored value of another size counts as absent).
 * fb_txn_add_counts adds delta to the record at key in table dbi. The adds
 * of a batch are summed in memory and written once per record, in key
 * order, just before the batch commits: a record that many feedback of a
 * batch touch (today's counters of a survey) costs one write per batch, not
 * one per feedback. If the op fails, its adds are forgotten with its other
 * writes. A write op that READS a counter table must call
 * fb_txn_flush_counts first, which writes the pending sums into its own
 * transaction (undone with it if it fails). Reads outside the writer only
 * see committed batches, which always include their sums.
 * Errors: FB_INTERNAL (out of memory; or a bug: nv, n_lead or the key
 * length out of range, the same record added with another nv or n_lead in
 * one batch); fb_txn_flush_counts: as fb_txn_mdb_err (FB_EXHAUSTED on
 * a full map, which the writer grows). */
#define FB_COUNTS_MAX_VALUES 16
int fb_txn_add_counts(fb_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const int64_t *delta, int nv,
                      int n_lead, fb_err *err);
int fb_txn_flush_counts(fb_txn *txn, fb_err *err);

/* Turns an LMDB return code of a call made in a write op into an FB_* code
 * and a message "storage: <what>: <lmdb reason>" (err may be NULL):
 * MDB_NOTFOUND -> FB_NOT_FOUND, MDB_KEYEXIST -> FB_EXISTS, MDB_MAP_FULL ->
 * FB_EXHAUSTED (and tells the writer to grow the map and run the op again),
 * anything else FB_INTERNAL. Use it for every failing mdb_* call inside a
 * write fn: that is how the writer learns that the map is full. */
int fb_txn_mdb_err(fb_txn *txn, int mdb_rc, const char *what, fb_err *err);

/* Same mapping for reads (no map growth involved); txn-less. */
int fb_store_mdb_err(int mdb_rc, const char *what, fb_err *err);

/* ---- introspection (tests, health, benchmarks) ---- */
typedef struct fb_store_counters {
    uint64_t batches;    /* committed write transactions */
    uint64_t ops;        /* ops finished (committed or failed) */
    uint64_t failed_ops; /* ops whose fn failed or whose batch could not commit */
    uint64_t map_grows;  /* times this process grew the map */
    uint64_t map_bytes;  /* current map size */
    uint32_t queued;     /* ops waiting for the writer right now */
    uint64_t syncs;      /* syncs that made batches durable: the syncer's own, or a later
                            commit's data sync (one may cover several batches) */
    uint32_t largest_batch; /* most ops finished in one batch so far */
} fb_store_counters;
void fb_store_stats(fb_store *st, fb_store_counters *out);

/* The process-wide id generator (see ids.h), kept here because every module
 * holds the store: fb_id_next(fb_store_ids(st), fb_now_ms(), buf). */
struct fb_idgen *fb_store_ids(fb_store *st);

/* ---- reads ---- */

/* A read-only transaction; pair with fb_store_read_end. Keep it short: the
 * map can only be grown while no transaction of this process is open. Never
 * wait for a write (fb_store_write) while holding one. The txn may be ended
 * by another thread than the one that began it (MDB_NOTLS).
 * Errors: FB_EXHAUSTED (all reader slots busy), FB_INTERNAL. */
int fb_store_read_begin(fb_store *st, MDB_txn **txn, fb_err *err);
void fb_store_read_end(fb_store *st, MDB_txn *txn);

/* ---- helpers for key layouts ---- */
static inline void fb_put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);  p[3] = (unsigned char)v;
}
static inline uint32_t fb_get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void fb_put_be64(unsigned char *p, uint64_t v)
{
    fb_put_be32(p, (uint32_t)(v >> 32)); fb_put_be32(p + 4, (uint32_t)v);
}
static inline uint64_t fb_get_be64(const unsigned char *p)
{
    return (uint64_t)fb_get_be32(p) << 32 | fb_get_be32(p + 4);
}

/* Milliseconds since the epoch, UTC (CLOCK_REALTIME). */
int64_t fb_now_ms(void);

#endif
