/* store_internal.h — what store.c (environment, gate, reads, open/close)
 * and store_writer.c (the writer thread) share. Not for other modules. */
#ifndef FB_STORE_INTERNAL_H
#define FB_STORE_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "ids.h"
#include "store.h"

/* Waits are bounded so that a thread that (against store.h) holds a read
 * transaction while waiting for a write can only delay growth, never
 * deadlock it: the op then fails with FB_UNAVAILABLE and may be retried. */
enum { MAX_DBS = 32, MAX_READERS = 1024, READER_PAUSE_MS = 50, ADOPT_WAIT_MS = 5000,
       GROW_WAIT_MS = 10000 };

/* Committed batches waiting for the syncer at most (each up to max_batch
 * ops): the writer waits for a free slot, which bounds the memory and the
 * unreplied work between the two stages. */
enum { PIPE_DEPTH = 4 };

/* How long the syncer waits for the writer's next commit (whose data sync
 * also makes the batches before it durable) before it syncs by itself. */
enum { COMMIT_WAIT_US = 2000 };

typedef struct fb_counts fb_counts;

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

/* A batch handed from the writer to the syncer: its ops (in commit order)
 * and whether its transaction committed (else every op carries its error). */
typedef struct fb_pipe_slot {
    fb_op **ops;
    int n, committed;
    int durable; /* a later commit's data sync has covered its meta page */
} fb_pipe_slot;

struct fb_store {
    MDB_env *env;
    uint64_t max_map_bytes;
    int max_batch, max_queue, no_sync;

    pthread_mutex_t mu; /* queue, counters */
    pthread_cond_t work, space;
    fb_op *head, *tail;
    int queued, closing, writer_started;
    pthread_t writer;
    fb_op **batch;
    fb_store_counters c;

    /* writer -> syncer: a ring of PIPE_DEPTH slots (under pipe_mu) */
    pthread_mutex_t pipe_mu;
    pthread_cond_t pipe_work, pipe_space;
    fb_pipe_slot pipe[PIPE_DEPTH];
    int pipe_head, pipe_count, pipe_closing, syncer_started;
    int writer_idle;   /* no batch in progress: no commit is coming */
    int pipe_settling; /* leading slots the syncer is finishing (hands off) */
    pthread_t syncer;
    uint64_t syncs; /* counters.syncs, updated atomically (see store_writer.c) */

    pthread_mutex_t gate_mu; /* open transactions of this process vs resize */
    pthread_cond_t gate_cv;
    int open_txns, resize_waiting;

    fb_idgen ids;
    fb_counts *counts; /* the batch's counter sums (writer thread only) */
    off_t file_end;    /* data file bytes written ahead so far (writer only; 0: not known yet) */
};


/* store_counts.c: the batch's counter sums behind fb_txn_add_counts (writer
 * thread only). add returns 0, -1 (out of memory) or -2 (the record was
 * added with another shape). op_commit/op_abort end the current op: keep or
 * revert its changes. apply writes every nonzero sum into txn in key order
 * and zeroes it (in_op: the zeroing is part of the op, reverted if the op
 * is rolled back); it returns an LMDB code (or ENOMEM) and *what names the
 * step that failed. reset forgets everything (after the batch commits or
 * is abandoned). */
fb_counts *fb_counts_new(void);
void fb_counts_free(fb_counts *c);
int fb_counts_add(fb_counts *c, MDB_dbi dbi, const void *key, size_t klen, const int64_t *delta, int nv,
                  int n_lead);
void fb_counts_op_commit(fb_counts *c);
/* set_undo(c, 0): the next ops run directly in the batch transaction, so a
 * failing one makes the writer reset everything; their changes need no
 * undo log (op_abort is then not to be called). Default on. */
void fb_counts_set_undo(fb_counts *c, int on);
void fb_counts_op_abort(fb_counts *c);
int fb_counts_apply(fb_counts *c, MDB_txn *txn, int in_op, const char **what);
void fb_counts_reset(fb_counts *c);

/* store.c: the transaction gate (see store.c). enter/leave bracket any use
 * of the map that a resize must not overlap (a txn, the syncer's sync). */
void fb_store_gate_enter(fb_store *st);
void fb_store_gate_leave(fb_store *st);
/* Begins a transaction inside the gate (adopting another process's map
 * growth). On success the gate is held; end the txn, then gate_leave. */
int fb_store_gated_begin(fb_store *st, unsigned flags, MDB_txn **txn, int adopt_wait_ms);
/* Sets the map size once no transaction of this process is open. Returns an
 * LMDB code or ETIMEDOUT. */
int fb_store_gate_set_mapsize(fb_store *st, size_t bytes, int wait_ms);
void fb_store_note_map_size(fb_store *st);
/* "storage: data directory map is full (N MiB); raise max map size" */
int fb_store_exhausted(fb_store *st, fb_err *err);

/* store_writer.c: the writer thread's body (arg: the store); when the
 * queue is closed and drained it tells the syncer to finish and exits. */
void *fb_store_writer_main(void *st);
/* store_writer.c: the syncer thread's body (arg: the store). */
void *fb_store_syncer_main(void *st);

#endif
