/* auth_internal.h — what auth.c shares with auth_reader.c (the per-thread
 * reader of auth.h): the key lookup inside a transaction the caller holds.
 * Nothing outside the auth module includes this. */
#ifndef FB_AUTH_INTERNAL_H
#define FB_AUTH_INTERNAL_H

#include <lmdb.h>

#include "auth.h"

#define FB_AUTH_HASH_LEN 32 /* SHA-256 */

/* SHA-256 of the secret (the keys table's index). */
void fb_auth_hash(const fb_auth *a, const char *secret, size_t len,
                  unsigned char out[FB_AUTH_HASH_LEN]);
/* fb_auth_check's lookup of a hashed secret in the open read transaction t:
 * same results and errors. */
int fb_auth_lookup(fb_auth *a, MDB_txn *t, const unsigned char hash[FB_AUTH_HASH_LEN],
                   fb_principal *out, fb_err *err);
/* FB_UNAUTH with the message for an empty or absent key. */
int fb_auth_missing_key(fb_err *err);
fb_store *fb_auth_store(const fb_auth *a);

#endif
