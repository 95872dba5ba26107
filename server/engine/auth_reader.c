/* auth_reader.c — fb_auth_reader (see auth.h): key checks that reuse one
 * LMDB read transaction per thread.
 *
 * Design: beginning and ending a read transaction per check (a reader slot
 * taken under the lock file's mutex, an allocation, the store's gate) was
 * most of what a key check cost on every call. A reader keeps its
 * transaction between checks in the reset state (mdb_txn_reset: it holds
 * its reader slot but no snapshot, so it pins no old pages) and renews it
 * for each check (mdb_txn_renew: the newest commit, whoever made it). So a
 * check still sees every revocation committed before it, in this process
 * or another, exactly like fb_auth_check. The renew happens inside the
 * store's gate, like every transaction of this process, so it never
 * overlaps a map resize; if the renew fails (another process grew the map,
 * say) the transaction is dropped and a new one begun the ordinary way,
 * which adopts the new size.
 */
#include <stdlib.h>

#include "auth_internal.h"
#include "store_internal.h"

struct fb_auth_reader {
    fb_auth *a;
    MDB_txn *txn; /* reset between checks; NULL before the first */
};

fb_auth_reader *fb_auth_reader_new(fb_auth *a)
{
    fb_auth_reader *r = calloc(1, sizeof *r);
    if (r) r->a = a;
    return r;
}

void fb_auth_reader_free(fb_auth_reader *r)
{
    if (!r) return;
    if (r->txn) mdb_txn_abort(r->txn);
    free(r);
}

/* On success the store's gate is held: end with reader_end. */
static int reader_begin(fb_auth_reader *r, fb_err *err)
{
    fb_store *st = fb_auth_store(r->a);
    if (r->txn) {
        fb_store_gate_enter(st);
        if (mdb_txn_renew(r->txn) == 0) return FB_OK;
        fb_store_gate_leave(st);
        mdb_txn_abort(r->txn); /* (a failed renew leaves it reset) */
        r->txn = NULL;
    }
    return fb_store_read_begin(st, &r->txn, err);
}

static void reader_end(fb_auth_reader *r)
{
    mdb_txn_reset(r->txn);
    fb_store_gate_leave(fb_auth_store(r->a));
}

int fb_auth_check_with(fb_auth_reader *r, const char *secret, size_t len, fb_principal *out,
                       fb_err *err)
{
    if (!secret || len == 0) return fb_auth_missing_key(err);
    unsigned char hash[FB_AUTH_HASH_LEN];
    fb_auth_hash(r->a, secret, len, hash);
    int rc = reader_begin(r, err);
    if (rc) return rc;
    rc = fb_auth_lookup(r->a, r->txn, hash, out, err);
    reader_end(r);
    return rc;
}
