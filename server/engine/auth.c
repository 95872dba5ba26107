/* auth.c — tenants and API keys (see auth.h).
 *
 * Design: an API key is "fbk_" + 32 random bytes (getrandom) in lower-case
 * base32. The secret itself is never stored: the key table is indexed by its
 * SHA-256, so checking a key is one hash and one B-tree lookup, and a stolen
 * data directory yields no usable key. (A plain hash suffices: the secret has
 * 256 random bits, so no dictionary or brute force applies; no constant-time
 * compare is needed because the lookup is by hash.) Every check reads the
 * store, so a revocation is effective on the very next call.
 * Tenants get a 4-byte id from a counter kept in the "meta" table; it is read
 * and bumped inside the write transaction, so two processes (the server and
 * `feedbackd tenant create`) can never hand out the same id: LMDB serialises
 * their write transactions.
 *
 * Tables (integers big-endian):
 *   meta         u32 0 | "auth.next_tenant_id"   -> u32 next id (absent: 1)
 *   tenants      name bytes                       -> tenant record
 *   tenant_ids   u32 tenant                       -> name bytes
 *   keys         sha256(secret) [32]              -> key record
 *   tenant_keys  u32 tenant | key id [26]         -> sha256(secret) [32]
 * tenants, tenant_ids and keys are directories (lookup by an outside name);
 * every per-tenant table starts with the tenant id (see store.c).
 *
 * Records are small fixed binary layouts with a version byte, chosen over
 * protobuf because fb_auth_check runs on every call and must not allocate:
 *   tenant record: u8 version=1, 3 zero bytes, u32 id, i64 created_ms   (16 B)
 *   key record:    u8 version=1, u8 role bit, u8 revoked, u8 label length,
 *                  u32 tenant, i64 created_ms, i64 revoked_ms,
 *                  key id [26], prefix [12], label [label length]
 */
#include "auth.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "auth_internal.h"
#include "ids.h"

struct fb_auth {
    fb_store *st;
    MDB_dbi meta, tenants, tenant_ids, keys, tenant_keys;
    EVP_MD *sha256; /* fetched once: an implicit fetch per call was a visible cost per request */
};

enum { HASH_LEN = FB_AUTH_HASH_LEN, KEY_REC_FIXED = 4 + 4 + 8 + 8 + FB_ID_LEN + FB_KEY_PREFIX_LEN,
       TENANT_REC_LEN = 16, REC_VERSION = 1, SECRET_RANDOM_BYTES = 32 };

static const char next_id_key[] = "\0\0\0\0auth.next_tenant_id";
#define NEXT_ID_KEY_LEN (sizeof next_id_key - 1)

const unsigned fb_tenant_key_roles[FB_TENANT_KEYS] = {
    FB_ROLE_ADMIN, FB_ROLE_SUBMIT, FB_ROLE_READ, FB_ROLE_ALERTS,
};

/* ---------------------------------------------------------------- roles */

const char *fb_role_name(unsigned role)
{
    switch (role) {
    case FB_ROLE_SUBMIT: return "submit";
    case FB_ROLE_READ: return "read";
    case FB_ROLE_ALERTS: return "alerts";
    case FB_ROLE_ADMIN: return "admin";
    default: return NULL;
    }
}

unsigned fb_role_parse(const char *name)
{
    for (unsigned r = FB_ROLE_SUBMIT; r <= FB_ROLE_ADMIN; r <<= 1)
        if (name && strcmp(name, fb_role_name(r)) == 0) return r;
    return 0;
}

unsigned fb_role_from_proto(Feedback__V1__Role r)
{
    switch (r) {
    case FEEDBACK__V1__ROLE__SUBMIT: return FB_ROLE_SUBMIT;
    case FEEDBACK__V1__ROLE__READ: return FB_ROLE_READ;
    case FEEDBACK__V1__ROLE__ALERTS: return FB_ROLE_ALERTS;
    case FEEDBACK__V1__ROLE__ADMIN: return FB_ROLE_ADMIN;
    default: return 0;
    }
}

Feedback__V1__Role fb_role_to_proto(unsigned role)
{
    switch (role) {
    case FB_ROLE_SUBMIT: return FEEDBACK__V1__ROLE__SUBMIT;
    case FB_ROLE_READ: return FEEDBACK__V1__ROLE__READ;
    case FB_ROLE_ALERTS: return FEEDBACK__V1__ROLE__ALERTS;
    case FB_ROLE_ADMIN: return FEEDBACK__V1__ROLE__ADMIN;
    default: return FEEDBACK__V1__ROLE__ROLE_UNSPECIFIED;
    }
}

/* -------------------------------------------------------------- records */

static void encode_tenant(unsigned char rec[TENANT_REC_LEN], uint32_t id, int64_t created_ms)
{
    memset(rec, 0, TENANT_REC_LEN);
    rec[0] = REC_VERSION;
    fb_put_be32(rec + 4, id);
    fb_put_be64(rec + 8, (uint64_t)created_ms);
}

static int decode_tenant(const MDB_val *v, const char *name, size_t name_len, fb_tenant_info *out)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size != TENANT_REC_LEN || p[0] != REC_VERSION || name_len > FB_TENANT_NAME_MAX)
        return -1;
    out->id = fb_get_be32(p + 4);
    out->created_ms = (int64_t)fb_get_be64(p + 8);
    memcpy(out->name, name, name_len);
    out->name[name_len] = '\0';
    return 0;
}

static size_t encode_key(unsigned char *rec, const fb_key_info *k)
{
    size_t label_len = strlen(k->label);
    rec[0] = REC_VERSION;
    rec[1] = (unsigned char)k->role;
    rec[2] = (unsigned char)(k->revoked != 0);
    rec[3] = (unsigned char)label_len;
    fb_put_be32(rec + 4, k->tenant_id);
    fb_put_be64(rec + 8, (uint64_t)k->created_ms);
    fb_put_be64(rec + 16, (uint64_t)k->revoked_ms);
    memcpy(rec + 24, k->id, FB_ID_LEN);
    memset(rec + 24 + FB_ID_LEN, 0, FB_KEY_PREFIX_LEN);
    memcpy(rec + 24 + FB_ID_LEN, k->prefix, strnlen(k->prefix, FB_KEY_PREFIX_LEN));
    memcpy(rec + KEY_REC_FIXED, k->label, label_len);
    return KEY_REC_FIXED + label_len;
}

static int decode_key(const MDB_val *v, fb_key_info *k)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < KEY_REC_FIXED || p[0] != REC_VERSION || v->mv_size != (size_t)KEY_REC_FIXED + p[3])
        return -1;
    memset(k, 0, sizeof *k);
    k->role = p[1];
    k->revoked = p[2];
    k->tenant_id = fb_get_be32(p + 4);
    k->created_ms = (int64_t)fb_get_be64(p + 8);
    k->revoked_ms = (int64_t)fb_get_be64(p + 16);
    memcpy(k->id, p + 24, FB_ID_LEN);
    memcpy(k->prefix, p + 24 + FB_ID_LEN, FB_KEY_PREFIX_LEN);
    memcpy(k->label, p + KEY_REC_FIXED, p[3]);
    return 0;
}

void fb_auth_hash(const fb_auth *a, const char *secret, size_t len, unsigned char out[FB_AUTH_HASH_LEN])
{
    unsigned int n = HASH_LEN;
    EVP_Digest(secret, len, out, &n, a->sha256, NULL);
}

/* "fbk_" + 52 lower-case base32 characters of 32 random bytes. */
static int make_secret(char out[FB_SECRET_MAX], fb_err *err)
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char rnd[SECRET_RANDOM_BYTES];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
        if (n <= 0) return fb_err_set(err, FB_INTERNAL, "auth: no random source for a new key");
        got += (size_t)n;
    }
    char *o = out + 4;
    memcpy(out, "fbk_", 4);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < sizeof rnd; i++) {
        acc = acc << 8 | rnd[i];
        bits += 8;
        while (bits >= 5) { *o++ = b32[(acc >> (bits - 5)) & 31]; bits -= 5; }
    }
    if (bits > 0) *o++ = b32[(acc << (5 - bits)) & 31];
    *o = '\0';
    return FB_OK;
}

/* A new key's info and secret (nothing stored yet). */
static int prepare_key(fb_auth *a, uint32_t tenant_id, unsigned role, const char *label,
                       int64_t now, fb_new_key *nk, unsigned char hash[HASH_LEN], fb_err *err)
{
    if (!fb_role_name(role)) return fb_err_set(err, FB_INVALID, "role: must be one of submit, read, alerts, admin");
    if (!label || !*label) label = fb_role_name(role);
    size_t len = strlen(label);
    if (len > FB_KEY_LABEL_MAX)
        return fb_err_set(err, FB_INVALID, "label: at most %d bytes, got %zu", FB_KEY_LABEL_MAX, len);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
            return fb_err_set(err, FB_INVALID, "label: control characters are not allowed");
    memset(nk, 0, sizeof *nk);
    int rc = make_secret(nk->secret, err);
    if (rc) return rc;
    fb_key_info *k = &nk->info;
    fb_id_next(fb_store_ids(a->st), now, k->id);
    k->tenant_id = tenant_id;
    k->role = role;
    memcpy(k->label, label, len + 1);
    memcpy(k->prefix, nk->secret, FB_KEY_PREFIX_LEN);
    k->created_ms = now;
    fb_auth_hash(a, nk->secret, strlen(nk->secret), hash);
    return FB_OK;
}

/* Stores a key record and its per-tenant index entry (inside a write op). */
static int put_key(fb_txn *txn, fb_auth *a, const fb_key_info *k, const unsigned char hash[HASH_LEN],
                   unsigned flags, fb_err *err)
{
    unsigned char rec[KEY_REC_FIXED + FB_KEY_LABEL_MAX], ik[4 + FB_ID_LEN];
    MDB_val key = {HASH_LEN, (void *)hash}, val = {encode_key(rec, k), rec};
    int rc = mdb_put(fb_txn_mdb(txn), a->keys, &key, &val, flags);
    if (rc) return fb_txn_mdb_err(txn, rc, "put key", err);
    fb_put_be32(ik, k->tenant_id);
    memcpy(ik + 4, k->id, FB_ID_LEN);
    MDB_val ikey = {sizeof ik, ik}, ival = {HASH_LEN, (void *)hash};
    rc = mdb_put(fb_txn_mdb(txn), a->tenant_keys, &ikey, &ival, 0);
    return rc ? fb_txn_mdb_err(txn, rc, "put key index", err) : FB_OK;
}

/* ---------------------------------------------------------------- open */

int fb_auth_open(fb_auth **out, fb_store *st, fb_err *err)
{
    fb_auth *a = calloc(1, sizeof *a);
    if (!a) return fb_err_set(err, FB_INTERNAL, "auth: out of memory");
    a->st = st;
    int rc = fb_store_dbi(st, "meta", &a->meta, err);
    if (!rc) rc = fb_store_dbi(st, "tenants", &a->tenants, err);
    if (!rc) rc = fb_store_dbi(st, "tenant_ids", &a->tenant_ids, err);
    if (!rc) rc = fb_store_dbi(st, "keys", &a->keys, err);
    if (!rc) rc = fb_store_dbi(st, "tenant_keys", &a->tenant_keys, err);
    if (!rc && !(a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))
        rc = fb_err_set(err, FB_INTERNAL, "auth: OpenSSL has no SHA-256");
    if (rc) {
        free(a);
        return rc;
    }
    *out = a;
    return FB_OK;
}

void fb_auth_close(fb_auth *a)
{
    if (a) EVP_MD_free(a->sha256);
    free(a);
}

/* --------------------------------------------------------------- tenants */

static int valid_tenant_name(const char *name, fb_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > FB_TENANT_NAME_MAX)
        return fb_err_set(err, FB_INVALID, "name: must match [a-z0-9_-]{1,32}, got %zu characters", n);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return fb_err_set(err, FB_INVALID, "name: must match [a-z0-9_-]{1,32}, got \"%s\"", name);
    }
    return FB_OK;
}

typedef struct tenant_create_op {
    fb_auth *a;
    const char *name;
    int64_t now;
    fb_new_key *keys;
    unsigned char hashes[FB_TENANT_KEYS][HASH_LEN];
    uint32_t id; /* output */
} tenant_create_op;

static int tenant_create_fn(fb_txn *txn, void *arg, fb_err *err)
{
    tenant_create_op *op = arg;
    fb_auth *a = op->a;
    MDB_txn *t = fb_txn_mdb(txn);
    MDB_val name = {strlen(op->name), (void *)op->name}, v;
    int rc = mdb_get(t, a->tenants, &name, &v);
    if (rc == 0) return fb_err_set(err, FB_EXISTS, "tenant: \"%s\" already exists", op->name);
    if (rc != MDB_NOTFOUND) return fb_txn_mdb_err(txn, rc, "read tenant", err);

    MDB_val ck = {NEXT_ID_KEY_LEN, (void *)next_id_key};
    rc = mdb_get(t, a->meta, &ck, &v);
    if (rc && rc != MDB_NOTFOUND) return fb_txn_mdb_err(txn, rc, "read tenant counter", err);
    op->id = rc == 0 && v.mv_size == 4 ? fb_get_be32(v.mv_data) : 1;
    if (op->id == 0 || op->id == UINT32_MAX)
        return fb_err_set(err, FB_EXHAUSTED, "tenant: no tenant ids left");
    unsigned char next[4], idb[4], rec[TENANT_REC_LEN];
    fb_put_be32(next, op->id + 1);
    fb_put_be32(idb, op->id);
    encode_tenant(rec, op->id, op->now);
    MDB_val nv = {4, next}, idk = {4, idb}, rv = {sizeof rec, rec};
    if ((rc = mdb_put(t, a->meta, &ck, &nv, 0)) ||
        (rc = mdb_put(t, a->tenants, &name, &rv, MDB_NOOVERWRITE)) ||
        (rc = mdb_put(t, a->tenant_ids, &idk, &name, MDB_NOOVERWRITE)))
        return fb_txn_mdb_err(txn, rc, "put tenant", err);
    for (int i = 0; i < FB_TENANT_KEYS; i++) {
        op->keys[i].info.tenant_id = op->id;
        if ((rc = put_key(txn, a, &op->keys[i].info, op->hashes[i], MDB_NOOVERWRITE, err)))
            return rc;
    }
    return FB_OK;
}

int fb_tenant_create(fb_auth *a, const char *name, fb_tenant_info *out,
                     fb_new_key keys[FB_TENANT_KEYS], fb_err *err)
{
    int rc = valid_tenant_name(name, err);
    if (rc) return rc;
    tenant_create_op op = {.a = a, .name = name, .now = fb_now_ms(), .keys = keys};
    for (int i = 0; i < FB_TENANT_KEYS; i++) {
        rc = prepare_key(a, 0, fb_tenant_key_roles[i], NULL, op.now, &keys[i], op.hashes[i], err);
        if (rc) return rc;
    }
    rc = fb_store_write(a->st, tenant_create_fn, &op, err);
    if (rc) {
        memset(keys, 0, sizeof(fb_new_key) * FB_TENANT_KEYS); /* no secret for a failed create */
        return rc;
    }
    if (out) {
        out->id = op.id;
        snprintf(out->name, sizeof out->name, "%s", name);
        out->created_ms = op.now;
    }
    return FB_OK;
}

int fb_tenant_lookup(fb_auth *a, const char *name, fb_tenant_info *out, fb_err *err)
{
    if (valid_tenant_name(name, NULL) != FB_OK)
        return fb_err_set(err, FB_NOT_FOUND, "tenant: no tenant named \"%s\"", name ? name : "");
    MDB_txn *t;
    int rc = fb_store_read_begin(a->st, &t, err);
    if (rc) return rc;
    MDB_val k = {strlen(name), (void *)name}, v;
    rc = mdb_get(t, a->tenants, &k, &v);
    if (rc == 0 && decode_tenant(&v, name, k.mv_size, out) != 0) rc = MDB_CORRUPTED;
    fb_store_read_end(a->st, t);
    if (rc == MDB_NOTFOUND) return fb_err_set(err, FB_NOT_FOUND, "tenant: no tenant named \"%s\"", name);
    return rc ? fb_store_mdb_err(rc, "read tenant", err) : FB_OK;
}

/* The tenant with this id, inside txn. Returns an LMDB code. */
static int tenant_by_id(fb_auth *a, MDB_txn *t, uint32_t id, fb_tenant_info *out)
{
    unsigned char idb[4];
    fb_put_be32(idb, id);
    MDB_val k = {4, idb}, name, v;
    int rc = mdb_get(t, a->tenant_ids, &k, &name);
    if (rc) return rc;
    char buf[FB_TENANT_NAME_MAX + 1];
    if (name.mv_size > FB_TENANT_NAME_MAX) return MDB_CORRUPTED;
    memcpy(buf, name.mv_data, name.mv_size);
    buf[name.mv_size] = '\0';
    if ((rc = mdb_get(t, a->tenants, &name, &v))) return rc;
    return decode_tenant(&v, buf, name.mv_size, out) ? MDB_CORRUPTED : 0;
}

int fb_tenant_get(fb_auth *a, uint32_t id, fb_tenant_info *out, fb_err *err)
{
    MDB_txn *t;
    int rc = fb_store_read_begin(a->st, &t, err);
    if (rc) return rc;
    rc = tenant_by_id(a, t, id, out);
    fb_store_read_end(a->st, t);
    if (rc == MDB_NOTFOUND) return fb_err_set(err, FB_NOT_FOUND, "tenant: no tenant with id %u", id);
    return rc ? fb_store_mdb_err(rc, "read tenant", err) : FB_OK;
}

int fb_tenant_count(fb_auth *a, uint64_t *n, fb_err *err)
{
    MDB_txn *t;
    MDB_stat s;
    int rc = fb_store_read_begin(a->st, &t, err);
    if (rc) return rc;
    rc = mdb_stat(t, a->tenants, &s);
    fb_store_read_end(a->st, t);
    if (rc) return fb_store_mdb_err(rc, "count tenants", err);
    *n = s.ms_entries;
    return FB_OK;
}

int fb_tenant_list(fb_auth *a, fb_tenant_info **out, size_t *n, fb_err *err)
{
    MDB_txn *t;
    MDB_cursor *c = NULL;
    MDB_stat s;
    *out = NULL;
    *n = 0;
    int rc = fb_store_read_begin(a->st, &t, err);
    if (rc) return rc;
    if (!(rc = mdb_stat(t, a->tenant_ids, &s)) && !(rc = mdb_cursor_open(t, a->tenant_ids, &c))) {
        fb_tenant_info *list = calloc(s.ms_entries ? s.ms_entries : 1, sizeof *list);
        MDB_val k, v;
        int r = list ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : ENOMEM;
        while (r == 0 && *n < s.ms_entries && k.mv_size == 4) {
            if ((rc = tenant_by_id(a, t, fb_get_be32(k.mv_data), &list[*n]))) break;
            (*n)++;
            r = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        if (!rc && r != MDB_NOTFOUND && r != 0) rc = r;
        if (rc) { free(list); *n = 0; }
        else *out = list;
        mdb_cursor_close(c);
    }
    fb_store_read_end(a->st, t);
    return rc ? fb_store_mdb_err(rc, "list tenants", err) : FB_OK;
}

/* ------------------------------------------------------------------ keys */

typedef struct key_create_op {
    fb_auth *a;
    const fb_key_info *info;
    const unsigned char *hash;
} key_create_op;

static int key_create_fn(fb_txn *txn, void *arg, fb_err *err)
{
    key_create_op *op = arg;
    unsigned char idb[4];
    fb_put_be32(idb, op->info->tenant_id);
    MDB_val k = {4, idb}, v;
    int rc = mdb_get(fb_txn_mdb(txn), op->a->tenant_ids, &k, &v);
    if (rc == MDB_NOTFOUND)
        return fb_err_set(err, FB_NOT_FOUND, "tenant: no tenant with id %u", op->info->tenant_id);
    if (rc) return fb_txn_mdb_err(txn, rc, "read tenant", err);
    return put_key(txn, op->a, op->info, op->hash, MDB_NOOVERWRITE, err);
}

int fb_key_create(fb_auth *a, uint32_t tenant_id, unsigned role, const char *label,
                  fb_new_key *out, fb_err *err)
{
    unsigned char hash[HASH_LEN];
    int rc = prepare_key(a, tenant_id, role, label, fb_now_ms(), out, hash, err);
    if (rc) return rc;
    key_create_op op = {a, &out->info, hash};
    rc = fb_store_write(a->st, key_create_fn, &op, err);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

/* The hash of the tenant's key key_id, inside txn. Returns an LMDB code. */
static int key_hash(fb_auth *a, MDB_txn *t, uint32_t tenant_id, const char *key_id,
                    unsigned char hash[HASH_LEN])
{
    if (!key_id || strlen(key_id) != FB_ID_LEN) return MDB_NOTFOUND;
    unsigned char ik[4 + FB_ID_LEN];
    fb_put_be32(ik, tenant_id);
    memcpy(ik + 4, key_id, FB_ID_LEN);
    MDB_val k = {sizeof ik, ik}, v;
    int rc = mdb_get(t, a->tenant_keys, &k, &v);
    if (rc) return rc;
    if (v.mv_size != HASH_LEN) return MDB_CORRUPTED;
    memcpy(hash, v.mv_data, HASH_LEN);
    return 0;
}

typedef struct key_revoke_op {
    fb_auth *a;
    uint32_t tenant_id;
    const char *key_id;
    int64_t now;
    fb_key_info info; /* output */
} key_revoke_op;

static int key_revoke_fn(fb_txn *txn, void *arg, fb_err *err)
{
    key_revoke_op *op = arg;
    MDB_txn *t = fb_txn_mdb(txn);
    unsigned char hash[HASH_LEN];
    int rc = key_hash(op->a, t, op->tenant_id, op->key_id, hash);
    MDB_val k = {HASH_LEN, hash}, v;
    if (rc == 0) rc = mdb_get(t, op->a->keys, &k, &v);
    if (rc == MDB_NOTFOUND)
        return fb_err_set(err, FB_NOT_FOUND, "id: no key \"%.40s\" in this tenant", op->key_id);
    if (rc) return fb_txn_mdb_err(txn, rc, "read key", err);
    if (decode_key(&v, &op->info) != 0 || op->info.tenant_id != op->tenant_id)
        return fb_err_set(err, FB_INTERNAL, "storage: key record %s is damaged", op->key_id);
    if (op->info.revoked) return FB_OK;
    op->info.revoked = 1;
    op->info.revoked_ms = op->now;
    return put_key(txn, op->a, &op->info, hash, 0, err);
}

int fb_key_revoke(fb_auth *a, uint32_t tenant_id, const char *key_id, fb_key_info *out, fb_err *err)
{
    key_revoke_op op = {.a = a, .tenant_id = tenant_id, .key_id = key_id, .now = fb_now_ms()};
    int rc = fb_store_write(a->st, key_revoke_fn, &op, err);
    if (rc == FB_OK && out) *out = op.info;
    return rc;
}

int fb_key_list(fb_auth *a, uint32_t tenant_id, fb_key_info **out, size_t *n, fb_err *err)
{
    MDB_txn *t;
    MDB_cursor *c;
    size_t cap = 0;
    fb_key_info *list = NULL;
    *out = NULL;
    *n = 0;
    int rc = fb_store_read_begin(a->st, &t, err);
    if (rc) return rc;
    if ((rc = mdb_cursor_open(t, a->tenant_keys, &c)) == 0) {
        unsigned char prefix[4];
        fb_put_be32(prefix, tenant_id);
        MDB_val k = {4, prefix}, v, kv;
        int r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        for (; r == 0 && k.mv_size >= 4 && memcmp(k.mv_data, prefix, 4) == 0;
             r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (*n == cap) {
                fb_key_info *grown = realloc(list, (cap = cap ? cap * 2 : 8) * sizeof *list);
                if (!grown) { r = ENOMEM; break; }
                list = grown;
            }
            MDB_val hk = v;
            if ((r = mdb_get(t, a->keys, &hk, &kv)) != 0) {
                if (r == MDB_NOTFOUND) r = MDB_CORRUPTED; /* index without record */
                break;
            }
            if (decode_key(&kv, &list[*n]) != 0) { r = MDB_CORRUPTED; break; }
            (*n)++;
        }
        if (r != MDB_NOTFOUND && r != 0) rc = r;
        mdb_cursor_close(c);
    }
    fb_store_read_end(a->st, t);
    if (rc) {
        free(list);
        *n = 0;
        return rc == ENOMEM ? fb_err_set(err, FB_INTERNAL, "auth: out of memory")
                            : fb_store_mdb_err(rc, "list keys", err);
    }
    *out = list;
    return FB_OK;
}

/* ----------------------------------------------------------------- check */

/* The check itself, in an open read transaction. */
static int check_in(fb_auth *a, MDB_txn *t, const unsigned char hash[HASH_LEN], fb_key_info *info,
                    fb_tenant_info *ten)
{
    MDB_val k = {HASH_LEN, (void *)hash}, v;
    int rc = mdb_get(t, a->keys, &k, &v);
    if (rc == 0 && decode_key(&v, info) != 0) rc = MDB_CORRUPTED;
    if (rc == 0 && !info->revoked) rc = tenant_by_id(a, t, info->tenant_id, ten);
    return rc;
}

int fb_auth_lookup(fb_auth *a, MDB_txn *t, const unsigned char hash[FB_AUTH_HASH_LEN],
                   fb_principal *out, fb_err *err)
{
    fb_key_info info;
    fb_tenant_info ten;
    int rc = check_in(a, t, hash, &info, &ten);
    if (rc == MDB_NOTFOUND) return fb_err_set(err, FB_UNAUTH, "unknown api key");
    if (rc) return fb_store_mdb_err(rc, "check api key", err);
    if (info.revoked)
        return fb_err_set(err, FB_UNAUTH, "api key %s (%s...) was revoked", info.id, info.prefix);
    memset(out, 0, sizeof *out);
    out->tenant_id = info.tenant_id;
    snprintf(out->tenant, sizeof out->tenant, "%s", ten.name);
    snprintf(out->key_id, sizeof out->key_id, "%s", info.id);
    snprintf(out->label, sizeof out->label, "%s", info.label);
    out->role = info.role;
    return FB_OK;
}

int fb_auth_missing_key(fb_err *err)
{
    return fb_err_set(err, FB_UNAUTH, "missing api key: send metadata \"authorization: Bearer <key>\"");
}

fb_store *fb_auth_store(const fb_auth *a) { return a->st; }

int fb_auth_check(fb_auth *a, const char *secret, size_t len, fb_principal *out, fb_err *err)
{
    if (!secret || len == 0) return fb_auth_missing_key(err);
    unsigned char hash[HASH_LEN];
    fb_auth_hash(a, secret, len, hash);
    MDB_txn *t;
    int rc = fb_store_read_begin(a->st, &t, err);
    if (rc) return rc;
    rc = fb_auth_lookup(a, t, hash, out, err);
    fb_store_read_end(a->st, t);
    return rc;
}

void fb_key_info_to_proto(const fb_key_info *k, Feedback__V1__Key *out)
{
    feedback__v1__key__init(out);
    out->id = (char *)k->id;
    out->role = fb_role_to_proto(k->role);
    out->label = (char *)k->label;
    out->created_ms = k->created_ms;
    out->revoked = k->revoked != 0;
    out->revoked_ms = k->revoked_ms;
    out->prefix = (char *)k->prefix;
}
