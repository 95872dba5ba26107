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

/* "submit", "read", "alerts", "admin" for one role bit; NULL otherwise. */
const char *fb_role_name(unsigned role);

#endif
