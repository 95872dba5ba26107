/* auth.h — tenants and API keys.
 *
 * A key is a random secret shown once; only its SHA-256 is stored. A key
 * belongs to exactly one tenant and has one role; the tenant of every call is
 * the key's tenant. Revocation takes effect on the next call (every check
 * reads the store; there is no cache to go stale).
 * (Key layout of the tables: see auth.c.)
 */
#ifndef FB_AUTH_H
#define FB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"
#include "feedback/v1/admin.pb-c.h"

/* Role bits; a method allows a set of them. */
enum fb_role {
    FB_ROLE_SUBMIT = 1,
    FB_ROLE_READ = 2,
    FB_ROLE_ALERTS = 4,
    FB_ROLE_ADMIN = 8,
};

/* Who is calling: filled by fb_auth_check. */
typedef struct fb_principal {
    uint32_t tenant_id;
    char tenant[65];   /* tenant name */
    char key_id[33];
    char label[129];   /* the key's label: recorded as acked_by etc. */
    unsigned role;     /* one FB_ROLE_* bit */
} fb_principal;

typedef struct fb_auth fb_auth;

/* Opens the auth tables. Errors: FB_INTERNAL. */
int fb_auth_open(fb_auth **out, fb_store *st, fb_err *err);
void fb_auth_close(fb_auth *a);

/* Looks the secret up. Errors: FB_UNAUTH (unknown or revoked key; the
 * message says which without echoing the secret), FB_INTERNAL. */
int fb_auth_check(fb_auth *a, const char *secret, size_t len, fb_principal *out, fb_err *err);

/* A reader for repeated checks on one thread (each rpc worker has one): it
 * keeps its LMDB read transaction between checks, reset (holding no
 * snapshot) and renewed for each check, instead of beginning and ending
 * one per call, which was most of a check's cost. Every check still reads
 * the latest commit, so a key revoked by this process or another is
 * refused at once. Not thread-safe: one user at a time. Free every reader
 * before fb_auth_close. fb_auth_reader_new returns NULL when out of memory. */
typedef struct fb_auth_reader fb_auth_reader;
fb_auth_reader *fb_auth_reader_new(fb_auth *a);
void fb_auth_reader_free(fb_auth_reader *r);
/* fb_auth_check through the reader: same results and errors. */
int fb_auth_check_with(fb_auth_reader *r, const char *secret, size_t len, fb_principal *out,
                       fb_err *err);

/* "submit", "read", "alerts", "admin" for one role bit; NULL otherwise. */
const char *fb_role_name(unsigned role);

/* ---- roles between the API enum, names and bits ---- */
/* The role bit for a name ("admin", ...); 0 if unknown. */
unsigned fb_role_parse(const char *name);
/* feedback.v1.Role <-> role bit; 0 / ROLE_UNSPECIFIED when out of range. */
unsigned fb_role_from_proto(Feedback__V1__Role r);
Feedback__V1__Role fb_role_to_proto(unsigned role);

/* ---- tenants ---- */

#define FB_TENANT_NAME_MAX 32   /* names are [a-z0-9_-]{1,32} */
#define FB_SECRET_MAX 64        /* "fbk_" + 52 base32 characters + NUL fits */
#define FB_KEY_LABEL_MAX 128
#define FB_KEY_PREFIX_LEN 12    /* shown in listings: "fbk_" + 8 characters */

typedef struct fb_tenant_info {
    uint32_t id;               /* 1, 2, ... (0 is reserved) */
    char name[FB_TENANT_NAME_MAX + 1];
    int64_t created_ms;
} fb_tenant_info;

typedef struct fb_key_info {
    char id[33];               /* a 26-character id (ids.h) */
    uint32_t tenant_id;
    unsigned role;             /* one FB_ROLE_* bit */
    char label[FB_KEY_LABEL_MAX + 1];
    char prefix[FB_KEY_PREFIX_LEN + 1];
    int64_t created_ms;
    int revoked;
    int64_t revoked_ms;
} fb_key_info;

/* A key just made: the only time its secret exists outside the caller's
 * hands. Show it once, never log or store it. */
typedef struct fb_new_key {
    fb_key_info info;
    char secret[FB_SECRET_MAX];
} fb_new_key;

/* The order of the keys fb_tenant_create makes (and of the default-keys
 * file): admin, submit, read, alerts. */
#define FB_TENANT_KEYS 4
extern const unsigned fb_tenant_key_roles[FB_TENANT_KEYS];

/* Creates tenant `name` and one key per role (keys[i] has role
 * fb_tenant_key_roles[i], label = the role's name), durably, in one write.
 * out may be NULL. Works from a second process while the server runs.
 * Errors: FB_INVALID (name: must match [a-z0-9_-]{1,32}), FB_EXISTS (taken),
 * FB_EXHAUSTED, FB_UNAVAILABLE (store closing), FB_INTERNAL. */
int fb_tenant_create(fb_auth *a, const char *name, fb_tenant_info *out,
                     fb_new_key keys[FB_TENANT_KEYS], fb_err *err);

/* Errors: FB_NOT_FOUND, FB_INTERNAL. */
int fb_tenant_lookup(fb_auth *a, const char *name, fb_tenant_info *out, fb_err *err);
int fb_tenant_get(fb_auth *a, uint32_t id, fb_tenant_info *out, fb_err *err);

/* How many tenants exist (0: a fresh data directory). Errors: FB_INTERNAL. */
int fb_tenant_count(fb_auth *a, uint64_t *n, fb_err *err);

/* Every tenant, by id; *out is malloc'd (free()), *n may be 0.
 * Errors: FB_INTERNAL. */
int fb_tenant_list(fb_auth *a, fb_tenant_info **out, size_t *n, fb_err *err);

/* ---- keys ---- */

/* Creates a key for the tenant. label: at most 128 bytes, no control
 * characters; empty means the role's name. Errors: FB_INVALID (role, label),
 * FB_NOT_FOUND (no such tenant), FB_EXHAUSTED, FB_UNAVAILABLE, FB_INTERNAL. */
int fb_key_create(fb_auth *a, uint32_t tenant_id, unsigned role, const char *label,
                  fb_new_key *out, fb_err *err);

/* The tenant's keys (revoked ones too), oldest first, without secrets;
 * *out is malloc'd (free()). Errors: FB_INTERNAL. */
int fb_key_list(fb_auth *a, uint32_t tenant_id, fb_key_info **out, size_t *n, fb_err *err);

/* Revokes the tenant's key key_id; effective for the very next check.
 * Revoking a revoked key succeeds and keeps the first revoked_ms. out may be
 * NULL. Errors: FB_NOT_FOUND (unknown id, or another tenant's key),
 * FB_EXHAUSTED, FB_UNAVAILABLE, FB_INTERNAL. */
int fb_key_revoke(fb_auth *a, uint32_t tenant_id, const char *key_id, fb_key_info *out,
                  fb_err *err);

/* Fills *out (no allocation) with pointers into *k, for ListKeys and
 * friends; secret stays empty (set out->secret yourself for CreateKey). */
void fb_key_info_to_proto(const fb_key_info *k, Feedback__V1__Key *out);

#endif
