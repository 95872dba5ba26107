/* store_counts.c — counter records summed in memory per batch, written once
 * per record just before the batch commits (fb_txn_add_counts in store.h).
 *
 * Why: every feedback adds to dozens of aggregate records (per survey and
 * rollup, per segment, per day and quarter-hour, per stem), and the feedback
 * of one batch mostly adds to the same ones (today's counters of the same
 * survey and channel). Read-modify-writing each record once per feedback
 * made the aggregates the writer's largest cost; summing per batch turns N
 * tree updates of a hot record into one, and applying the sums in key order
 * keeps the cursor on the same leaf pages.
 *
 * Structures (writer thread only, reused across batches so a steady load
 * allocates nothing):
 * - entries: one per (dbi, key) touched in the batch, with its key in the
 *   key arena and its running sum (nv int64s) in the value arena, found
 *   through an open-addressing index of entry numbers (load <= 1/2);
 * - an undo log of the current op: every change the op made to a sum (an
 *   add: +delta; a flush into the op's own transaction: -sum). If the op is
 *   rolled back its changes are reverted, so the sums always equal what the
 *   committed ops added and the transaction does not yet hold. Everything
 *   is additive, so reverting in any order restores the state exactly.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct count_entry {
    uint64_t hash;
    MDB_dbi dbi;
    uint32_t key_off, val_off;
    uint16_t klen;
    uint8_t nv, n_lead;
} count_entry;

typedef struct undo_rec {
    uint32_t entry, val_off; /* val_off: the change, in undo_vals */
} undo_rec;

struct fb_counts {
    count_entry *e;
    size_t n, cap;
    uint32_t *index; /* entry number + 1; 0 = free */
    size_t index_cap;
    unsigned char *keys;
    size_t keys_len, keys_cap;
    int64_t *vals;
    size_t vals_len, vals_cap;
    undo_rec *undo;
    size_t n_undo, undo_cap;
    int64_t *undo_vals;
    size_t undo_vals_len, undo_vals_cap;
    int no_undo; /* the op runs without a nested transaction: a failure resets everything */
};

/* Grows *buf (elements of size sz) to hold at least need elements. */
static int reserve(void **buf, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *p = realloc(*buf, c * sz);
    if (!p) return -1;
    *buf = p;
    *cap = c;
    return 0;
}

fb_counts *fb_counts_new(void) { return calloc(1, sizeof(fb_counts)); }

void fb_counts_free(fb_counts *c)
{
    if (!c) return;
    free(c->e);
    free(c->index);
    free(c->keys);
    free(c->vals);
    free(c->undo);
    free(c->undo_vals);
    free(c);
}

void fb_counts_reset(fb_counts *c)
{
    if (c->n) memset(c->index, 0, c->index_cap * sizeof *c->index);
    c->n = c->keys_len = c->vals_len = 0;
    c->n_undo = c->undo_vals_len = 0;
}

/* A word-at-a-time multiplicative hash over dbi and key (keys are 20-90
 * bytes and hashed tens of times per feedback, so byte-wise FNV showed up
 * in profiles). No adversary gains anything from collisions here beyond
 * slowing its own tenant's batch. */
static uint64_t hash_key(MDB_dbi dbi, const unsigned char *k, size_t n)
{
    const uint64_t m = 0x9E3779B97F4A7C15ULL;
    uint64_t h = (dbi + n) * m, w = 0;
    if (n < 8) {
        memcpy(&w, k, n);
    } else { /* whole words, then the last 8 bytes (overlapping: no byte-wise tail) */
        const unsigned char *end = k + n;
        for (; end - k > 8; k += 8) {
            memcpy(&w, k, 8);
            h = (h ^ w) * m;
            h ^= h >> 32;
        }
        memcpy(&w, end - 8, 8);
    }
    h = (h ^ w) * m;
    return h ^ (h >> 29);
}

static int rehash(fb_counts *c, size_t cap)
{
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix) return -1;
    for (size_t i = 0; i < c->n; i++) {
        size_t s = c->e[i].hash & (cap - 1);
        while (ix[s]) s = (s + 1) & (cap - 1);
        ix[s] = (uint32_t)i + 1;
    }
    free(c->index);
    c->index = ix;
    c->index_cap = cap;
    return 0;
}

/* a[0..n) == b[0..n), word by word (keys are short: a libc call per probe
 * cost more than the compare) */
static inline int keys_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    uint64_t x, y;
    if (n < 8) return memcmp(a, b, n) == 0;
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&x, a + i, 8), memcpy(&y, b + i, 8);
        if (x != y) return 0;
    }
    memcpy(&x, a + n - 8, 8), memcpy(&y, b + n - 8, 8); /* the tail, overlapping */
    return x == y;
}

/* find_or_add's slow path: a new entry at index slot s. */
static __attribute__((noinline)) long add_entry(fb_counts *c, size_t s, uint64_t h, MDB_dbi dbi,
                                                const unsigned char *k, size_t klen, int nv, int n_lead)
{
    if (reserve((void **)&c->e, &c->cap, c->n + 1, sizeof *c->e) ||
        reserve((void **)&c->keys, &c->keys_cap, c->keys_len + klen, 1) ||
        reserve((void **)&c->vals, &c->vals_cap, c->vals_len + (size_t)nv, sizeof *c->vals))
        return -1;
    count_entry *e = &c->e[c->n];
    *e = (count_entry){h, dbi, (uint32_t)c->keys_len, (uint32_t)c->vals_len, (uint16_t)klen,
                       (uint8_t)nv, (uint8_t)n_lead};
    memcpy(c->keys + c->keys_len, k, klen);
    c->keys_len += klen;
    memset(c->vals + c->vals_len, 0, (size_t)nv * sizeof *c->vals);
    c->vals_len += (size_t)nv;
    c->index[s] = (uint32_t)c->n + 1;
    return (long)c->n++;
}

/* The entry of (dbi, key), created with a zero sum if new; -1 when out of
 * memory, -2 when the record was added with another shape (nv, n_lead). */
static inline long find_or_add(fb_counts *c, MDB_dbi dbi, const unsigned char *k, size_t klen, int nv,
                               int n_lead)
{
    if (2 * (c->n + 1) > c->index_cap && rehash(c, c->index_cap ? 2 * c->index_cap : 1024)) return -1;
    uint64_t h = hash_key(dbi, k, klen);
    size_t s = h & (c->index_cap - 1);
    for (; c->index[s]; s = (s + 1) & (c->index_cap - 1)) {
        count_entry *e = &c->e[c->index[s] - 1];
        if (e->hash == h && e->dbi == dbi && e->klen == klen && keys_equal(c->keys + e->key_off, k, klen))
            return e->nv == nv && e->n_lead == n_lead ? (long)(c->index[s] - 1) : -2;
    }
    return add_entry(c, s, h, dbi, k, klen, nv, n_lead);
}

/* Adds change to entry i's sum and logs it for fb_counts_op_abort (unless
 * the op cannot be rolled back alone anyway). */
static int change(fb_counts *c, size_t i, const int64_t *chg)
{
    count_entry *e = &c->e[i];
    if (c->no_undo) {
        int64_t *v = c->vals + e->val_off;
        for (int j = 0; j < e->nv; j++) v[j] += chg[j];
        return 0;
    }
    if (reserve((void **)&c->undo, &c->undo_cap, c->n_undo + 1, sizeof *c->undo) ||
        reserve((void **)&c->undo_vals, &c->undo_vals_cap, c->undo_vals_len + e->nv, sizeof *c->undo_vals))
        return -1;
    c->undo[c->n_undo++] = (undo_rec){(uint32_t)i, (uint32_t)c->undo_vals_len};
    memcpy(c->undo_vals + c->undo_vals_len, chg, e->nv * sizeof *chg);
    c->undo_vals_len += e->nv;
    int64_t *v = c->vals + e->val_off;
    for (int j = 0; j < e->nv; j++) v[j] += chg[j];
    return 0;
}

int fb_counts_add(fb_counts *c, MDB_dbi dbi, const void *key, size_t klen, const int64_t *delta, int nv,
                  int n_lead)
{
    long i = find_or_add(c, dbi, key, klen, nv, n_lead);
    return i < 0 ? (int)i : change(c, (size_t)i, delta);
}

void fb_counts_op_commit(fb_counts *c) { c->n_undo = c->undo_vals_len = 0; }

void fb_counts_set_undo(fb_counts *c, int on) { c->no_undo = !on; }

void fb_counts_op_abort(fb_counts *c)
{
    for (size_t u = 0; u < c->n_undo; u++) {
        count_entry *e = &c->e[c->undo[u].entry];
        const int64_t *chg = c->undo_vals + c->undo[u].val_off;
        int64_t *v = c->vals + e->val_off;
        for (int j = 0; j < e->nv; j++) v[j] -= chg[j];
    }
    c->n_undo = c->undo_vals_len = 0;
}

/* ---- applying the sums ---- */

static int nonzero(const int64_t *v, int nv)
{
    for (int j = 0; j < nv; j++)
        if (v[j]) return 1;
    return 0;
}

static void put_be64s(unsigned char *buf, const int64_t *v, int nv)
{
    for (int i = 0; i < nv; i++) {
        uint64_t x = (uint64_t)v[i];
        for (int b = 7; b >= 0; b--, x >>= 8) buf[8 * i + b] = (unsigned char)x;
    }
}

static int64_t get_be64(const unsigned char *p)
{
    uint64_t x = 0;
    for (int b = 0; b < 8; b++) x = (x << 8) | p[b];
    return (int64_t)x;
}

/* Adds delta to the record at k: one insert attempt when the sum of the
 * delta's counts is positive (a new record is the delta itself), else a
 * lookup; the record is deleted when its counts sum to <= 0, and a record
 * of another size counts as absent. Returns an LMDB code. */
static int apply_one(MDB_cursor *cur, MDB_val k, const int64_t *delta, int nv, int n_lead)
{
    unsigned char buf[FB_COUNTS_MAX_VALUES * 8];
    int64_t sum[FB_COUNTS_MAX_VALUES] = {0}, lead = 0;
    MDB_val v;
    for (int i = 0; i < n_lead; i++) lead += delta[i];
    int rc;
    if (lead > 0) {
        put_be64s(buf, delta, nv);
        v = (MDB_val){(size_t)nv * 8, buf};
        rc = mdb_cursor_put(cur, &k, &v, MDB_NOOVERWRITE);
        if (rc != MDB_KEYEXIST) return rc;
    } else {
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
        if (rc == MDB_NOTFOUND) return 0; /* nothing to subtract from: stays absent */
        if (rc) return rc;
    }
    if (v.mv_size == (size_t)nv * 8)
        for (int i = 0; i < nv; i++) sum[i] = get_be64((const unsigned char *)v.mv_data + 8 * i);
    lead = 0;
    for (int i = 0; i < nv; i++) sum[i] += delta[i];
    for (int i = 0; i < n_lead; i++) lead += sum[i];
    if (lead <= 0) return mdb_cursor_del(cur, 0);
    put_be64s(buf, sum, nv);
    v = (MDB_val){(size_t)nv * 8, buf};
    return mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
}

typedef struct sort_item {
    const count_entry *e;
    const unsigned char *key;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    if (x->e->dbi != y->e->dbi) return x->e->dbi < y->e->dbi ? -1 : 1;
    size_t n = x->e->klen < y->e->klen ? x->e->klen : y->e->klen;
    int d = memcmp(x->key, y->key, n);
    if (d) return d;
    return (x->e->klen > y->e->klen) - (x->e->klen < y->e->klen);
}

int fb_counts_apply(fb_counts *c, MDB_txn *txn, int in_op, const char **what)
{
    *what = "aggregates: out of memory";
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++) m += nonzero(c->vals + c->e[i].val_off, c->e[i].nv);
    if (!m) return 0;
    sort_item *items = malloc(m * sizeof *items);
    if (!items) return ENOMEM;
    m = 0;
    for (size_t i = 0; i < c->n; i++)
        if (nonzero(c->vals + c->e[i].val_off, c->e[i].nv)) items[m++] = (sort_item){&c->e[i], c->keys + c->e[i].key_off};
    qsort(items, m, sizeof *items, cmp_item);
    MDB_cursor *cur = NULL;
    int rc = 0;
    for (size_t i = 0; i < m && rc == 0; i++) {
        const count_entry *e = items[i].e;
        if (!cur || e->dbi != items[i - 1].e->dbi) {
            if (cur) mdb_cursor_close(cur);
            cur = NULL;
            *what = "aggregates: cursor";
            if ((rc = mdb_cursor_open(txn, e->dbi, &cur)) != 0) break;
        }
        *what = "aggregates: write";
        MDB_val k = {e->klen, (void *)items[i].key};
        rc = apply_one(cur, k, c->vals + e->val_off, e->nv, e->n_lead);
    }
    if (cur) mdb_cursor_close(cur);
    for (size_t i = 0; i < m && rc == 0; i++) { /* applied: the sums start again from zero */
        const count_entry *e = items[i].e;
        int64_t neg[FB_COUNTS_MAX_VALUES];
        int64_t *v = c->vals + e->val_off;
        for (int j = 0; j < e->nv; j++) neg[j] = -v[j];
        if (!in_op) memset(v, 0, e->nv * sizeof *v);
        else if (change(c, (size_t)(e - c->e), neg)) rc = ENOMEM;
    }
    free(items);
    return rc;
}

/* ---- the store.h API ---- */

int fb_txn_add_counts(fb_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const int64_t *delta, int nv,
                      int n_lead, fb_err *err)
{
    if (nv < 1 || nv > FB_COUNTS_MAX_VALUES || n_lead < 0 || n_lead > nv || klen < 1 || klen > 511)
        return fb_err_set(err, FB_INTERNAL, "aggregates: bad counter record (%d values, %d counts, "
                          "%zu-byte key)", nv, n_lead, klen);
    int rc = fb_counts_add(txn->st->counts, dbi, key, klen, delta, nv, n_lead);
    if (rc == -2)
        return fb_err_set(err, FB_INTERNAL, "aggregates: a counter record was added with "
                          "%d values and %d counts and with another shape in the same batch", nv, n_lead);
    if (rc) return fb_err_set(err, FB_INTERNAL, "aggregates: out of memory");
    return FB_OK;
}

int fb_txn_flush_counts(fb_txn *txn, fb_err *err)
{
    const char *what;
    int rc = fb_counts_apply(txn->st->counts, txn->mdb, 1, &what);
    return rc ? fb_txn_mdb_err(txn, rc, what, err) : FB_OK;
}
