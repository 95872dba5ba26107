/* store.h — the durable store: one LMDB environment, one writer thread.
 *
 * Contract
 * - One environment in the data directory (data.mdb, lock.mdb). Several
 *   processes may open it (`feedbackd tenant create` while the server runs).
 * - Writes go through the writer thread, which group-commits: it takes every
 *   queued write op, runs each in its own nested transaction (a failing op is
 *   rolled back alone), commits the batch once with a durable sync, and only
 *   then runs after-commit actions and calls each op's done callback. So a
 *   reply sent from a done callback is always for durable data, and N
 *   concurrent writers cost one fsync, not N.
 * - A full map is grown (doubling, up to opts.max_map_bytes); beyond that the
 *   op fails with FB_EXHAUSTED. Never a crash or corruption.
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
/* Called once per op on the writer thread after the batch is durable
 * (rc == FB_OK) or the op failed (rc and err say why). Keep it short. */
typedef void (*fb_done_fn)(void *arg, int rc, const fb_err *err);

/* Queues a write. Returns FB_OK (done will be called exactly once) or
 * FB_UNAVAILABLE when the store is closing (done is not called). */
int fb_store_write_async(fb_store *st, fb_write_fn fn, fb_done_fn done, void *arg);

/* Queues a write and waits for it to be durable. Returns its result. */
int fb_store_write(fb_store *st, fb_write_fn fn, void *arg, fb_err *err);

MDB_txn *fb_txn_mdb(fb_txn *txn);
fb_store *fb_txn_store(fb_txn *txn);
/* Runs fn(arg) on the writer thread after the batch is durable, before the
 * done callbacks (e.g. publish an alert to live subscribers). If the op
 * fails, it is not run; free_fn (may be NULL) is then called instead. */
int fb_txn_after_commit(fb_txn *txn, void (*fn)(void *), void (*free_fn)(void *), void *arg);

/* ---- reads ---- */

/* A read-only transaction; pair with fb_store_read_end. Errors: FB_INTERNAL. */
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
