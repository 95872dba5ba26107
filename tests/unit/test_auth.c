/* test_auth.c — tenants and API keys against a real LMDB directory: each
 * role's key checks, unknown and revoked keys are refused, listing and
 * revoking stay inside the tenant, only hashes reach the disk, and a second
 * process can create a tenant while the first has the store open. */
#include <fcntl.h>
#include <sys/wait.h>

#include "fbtest.h"
#include "auth.h"
#include "ids.h"

typedef struct env {
    const char *dir;
    fb_store *st;
    fb_auth *auth;
} env;

static void env_open(env *e, const char *dir)
{
    fb_store_opts o = {.no_sync = 1};
    fb_err err = {0};
    e->dir = dir;
    ck_assert_msg(fb_store_open(&e->st, dir, &o, &err) == FB_OK, "%s", err.msg);
    ck_assert_msg(fb_auth_open(&e->auth, e->st, &err) == FB_OK, "%s", err.msg);
}

static void env_close(env *e)
{
    fb_auth_close(e->auth);
    fb_store_close(e->st);
}

static void create(env *e, const char *name, fb_tenant_info *t, fb_new_key keys[FB_TENANT_KEYS])
{
    fb_err err = {0};
    ck_assert_msg(fb_tenant_create(e->auth, name, t, keys, &err) == FB_OK, "%s", err.msg);
}

START_TEST(tenant_keys_check_with_their_roles)
{
    env e;
    env_open(&e, fb_test_tmpdir("auth"));
    uint64_t n = 99;
    fb_err err = {0};
    ck_assert_int_eq(fb_tenant_count(e.auth, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 0);

    fb_tenant_info t;
    fb_new_key keys[FB_TENANT_KEYS];
    create(&e, "acme", &t, keys);
    ck_assert_uint_eq(t.id, 1);
    ck_assert_str_eq(t.name, "acme");
    ck_assert_int_eq(fb_tenant_count(e.auth, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 1);

    const char *names[FB_TENANT_KEYS] = {"admin", "submit", "read", "alerts"};
    for (int i = 0; i < FB_TENANT_KEYS; i++) {
        ck_assert_str_eq(fb_role_name(fb_tenant_key_roles[i]), names[i]);
        ck_assert_int_eq(strncmp(keys[i].secret, "fbk_", 4), 0);
        ck_assert_uint_eq(strlen(keys[i].secret), 4 + 52);
        ck_assert(fb_id_valid(keys[i].info.id));
        fb_principal p;
        ck_assert_int_eq(fb_auth_check(e.auth, keys[i].secret, strlen(keys[i].secret), &p, &err), FB_OK);
        ck_assert_uint_eq(p.tenant_id, t.id);
        ck_assert_str_eq(p.tenant, "acme");
        ck_assert_uint_eq(p.role, fb_tenant_key_roles[i]);
        ck_assert_str_eq(p.key_id, keys[i].info.id);
        ck_assert_str_eq(p.label, names[i]);
        for (int j = 0; j < i; j++) ck_assert_str_ne(keys[i].secret, keys[j].secret);
    }
    fb_tenant_info again;
    ck_assert_int_eq(fb_tenant_create(e.auth, "acme", &again, keys, &err), FB_EXISTS);
    ck_assert_str_eq(err.msg, "tenant: \"acme\" already exists");
    ck_assert_int_eq(fb_tenant_create(e.auth, "Bad Name", &again, keys, &err), FB_INVALID);
    ck_assert_msg(strstr(err.msg, "name: must match [a-z0-9_-]{1,32}"), "%s", err.msg);

    fb_tenant_info found;
    ck_assert_int_eq(fb_tenant_lookup(e.auth, "acme", &found, &err), FB_OK);
    ck_assert_uint_eq(found.id, t.id);
    ck_assert_int_eq(fb_tenant_lookup(e.auth, "nobody", &found, &err), FB_NOT_FOUND);
    ck_assert_int_eq(fb_tenant_get(e.auth, t.id, &found, &err), FB_OK);
    ck_assert_str_eq(found.name, "acme");
    env_close(&e);
}
END_TEST

START_TEST(unknown_missing_and_revoked_keys_refused)
{
    env e;
    env_open(&e, fb_test_tmpdir("auth"));
    fb_tenant_info t;
    fb_new_key keys[FB_TENANT_KEYS];
    create(&e, "acme", &t, keys);
    fb_principal p;
    fb_err err = {0};
    const char *bogus = "fbk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    ck_assert_int_eq(fb_auth_check(e.auth, bogus, strlen(bogus), &p, &err), FB_UNAUTH);
    ck_assert_str_eq(err.msg, "unknown api key");
    ck_assert_int_eq(fb_auth_check(e.auth, "", 0, &p, &err), FB_UNAUTH);
    ck_assert_msg(strstr(err.msg, "missing api key"), "%s", err.msg);
    /* a prefix of a real key is not the key */
    ck_assert_int_eq(fb_auth_check(e.auth, keys[0].secret, 20, &p, &err), FB_UNAUTH);

    fb_new_key extra;
    ck_assert_int_eq(fb_key_create(e.auth, t.id, FB_ROLE_READ, "dashboard tv", &extra, &err), FB_OK);
    ck_assert_int_eq(fb_auth_check(e.auth, extra.secret, strlen(extra.secret), &p, &err), FB_OK);
    ck_assert_str_eq(p.label, "dashboard tv");
    fb_key_info info;
    ck_assert_int_eq(fb_key_revoke(e.auth, t.id, extra.info.id, &info, &err), FB_OK);
    ck_assert(info.revoked);
    ck_assert_int_gt(info.revoked_ms, 0);
    ck_assert_int_eq(fb_auth_check(e.auth, extra.secret, strlen(extra.secret), &p, &err), FB_UNAUTH);
    ck_assert_msg(strstr(err.msg, "revoked"), "%s", err.msg);
    ck_assert_msg(!strstr(err.msg, extra.secret + FB_KEY_PREFIX_LEN), "message echoes the secret");
    /* revoking again keeps the first time */
    fb_key_info again;
    ck_assert_int_eq(fb_key_revoke(e.auth, t.id, extra.info.id, &again, &err), FB_OK);
    ck_assert_int_eq(again.revoked_ms, info.revoked_ms);
    /* other keys are unaffected */
    ck_assert_int_eq(fb_auth_check(e.auth, keys[0].secret, strlen(keys[0].secret), &p, &err), FB_OK);

    ck_assert_int_eq(fb_key_create(e.auth, t.id, 3, "two roles", &extra, &err), FB_INVALID);
    char longlabel[200];
    memset(longlabel, 'x', sizeof longlabel - 1);
    longlabel[199] = '\0';
    ck_assert_int_eq(fb_key_create(e.auth, t.id, FB_ROLE_READ, longlabel, &extra, &err), FB_INVALID);
    ck_assert_str_eq(err.msg, "label: at most 128 bytes, got 199");
    ck_assert_int_eq(fb_key_create(e.auth, 777, FB_ROLE_READ, "x", &extra, &err), FB_NOT_FOUND);
    env_close(&e);
}
END_TEST

START_TEST(list_and_revoke_stay_in_tenant)
{
    env e;
    env_open(&e, fb_test_tmpdir("auth"));
    fb_tenant_info a, b;
    fb_new_key ka[FB_TENANT_KEYS], kb[FB_TENANT_KEYS];
    create(&e, "alpha", &a, ka);
    create(&e, "beta", &b, kb);
    ck_assert_uint_ne(a.id, b.id);
    fb_err err = {0};
    fb_new_key extra;
    ck_assert_int_eq(fb_key_create(e.auth, a.id, FB_ROLE_SUBMIT, "kiosk", &extra, &err), FB_OK);

    fb_key_info *list;
    size_t n;
    ck_assert_int_eq(fb_key_list(e.auth, a.id, &list, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(list[i].tenant_id, a.id);
        ck_assert_int_eq(strncmp(list[i].prefix, "fbk_", 4), 0);
        if (i) ck_assert_int_lt(strcmp(list[i - 1].id, list[i].id), 0); /* oldest first */
    }
    ck_assert_str_eq(list[4].id, extra.info.id);
    ck_assert_str_eq(list[4].label, "kiosk");
    ck_assert_int_eq(strncmp(list[4].prefix, extra.secret, FB_KEY_PREFIX_LEN), 0);
    Feedback__V1__Key pk;
    fb_key_info_to_proto(&list[4], &pk);
    ck_assert_int_eq(pk.role, FEEDBACK__V1__ROLE__SUBMIT);
    ck_assert_str_eq(pk.label, "kiosk");
    ck_assert_str_eq(pk.secret, "");
    free(list);

    /* beta's admin cannot revoke alpha's key: NOT_FOUND, and it still works */
    fb_key_info info;
    ck_assert_int_eq(fb_key_revoke(e.auth, b.id, extra.info.id, &info, &err), FB_NOT_FOUND);
    ck_assert_int_eq(fb_key_revoke(e.auth, b.id, "nonsense", &info, &err), FB_NOT_FOUND);
    fb_principal p;
    ck_assert_int_eq(fb_auth_check(e.auth, extra.secret, strlen(extra.secret), &p, &err), FB_OK);
    ck_assert_uint_eq(p.tenant_id, a.id);

    ck_assert_int_eq(fb_key_list(e.auth, b.id, &list, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 4);
    free(list);
    ck_assert_int_eq(fb_key_list(e.auth, 999, &list, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 0);
    free(list);

    fb_tenant_info *tl;
    ck_assert_int_eq(fb_tenant_list(e.auth, &tl, &n, &err), FB_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(tl[0].name, "alpha");
    ck_assert_str_eq(tl[1].name, "beta");
    free(tl);
    env_close(&e);
}
END_TEST

/* 1 if needle occurs in the file. */
static int file_contains(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    int found = memmem(buf, (size_t)size, needle, len) != NULL;
    free(buf);
    return found;
}

START_TEST(only_hashes_reach_the_disk)
{
    env e;
    const char *dir = fb_test_tmpdir("auth");
    env_open(&e, dir);
    fb_tenant_info t;
    fb_new_key keys[FB_TENANT_KEYS];
    create(&e, "acme", &t, keys);
    env_close(&e);
    char path[4200];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    ck_assert(file_contains(path, "acme", 4)); /* the scan does see stored text */
    for (int i = 0; i < FB_TENANT_KEYS; i++) {
        ck_assert(!file_contains(path, keys[i].secret, strlen(keys[i].secret)));
        /* nor the secret part after the displayed prefix */
        const char *rest = keys[i].secret + FB_KEY_PREFIX_LEN;
        ck_assert(!file_contains(path, rest, strlen(rest)));
    }
}
END_TEST

START_TEST(second_process_creates_tenant_while_open)
{
    env e;
    const char *dir = fb_test_tmpdir("auth");
    char dircopy[4096];
    snprintf(dircopy, sizeof dircopy, "%s", dir);
    env_open(&e, dircopy);
    fb_tenant_info t1;
    fb_new_key k1[FB_TENANT_KEYS];
    create(&e, "first", &t1, k1);

    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* another process: own environment handle, like `feedbackd tenant create` */
        close(fds[0]);
        fb_store *st;
        fb_auth *au;
        fb_tenant_info t;
        fb_new_key k[FB_TENANT_KEYS];
        fb_err err = {0};
        int rc = fb_store_open(&st, dircopy, NULL, &err);
        if (!rc) rc = fb_auth_open(&au, st, &err);
        if (!rc) rc = fb_tenant_create(au, "second", &t, k, &err);
        if (!rc && write(fds[1], k[0].secret, strlen(k[0].secret)) < 0) rc = 1;
        if (!rc) { fb_auth_close(au); fb_store_close(st); }
        _exit(rc == FB_OK ? 0 : 10 + rc);
    }
    close(fds[1]);
    char secret[FB_SECRET_MAX] = {0};
    ssize_t got = read(fds[0], secret, sizeof secret - 1);
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    ck_assert_int_gt(got, 0);

    fb_err err = {0};
    fb_tenant_info t2;
    ck_assert_int_eq(fb_tenant_lookup(e.auth, "second", &t2, &err), FB_OK);
    ck_assert_uint_ne(t2.id, t1.id);
    fb_principal p;
    ck_assert_int_eq(fb_auth_check(e.auth, secret, strlen(secret), &p, &err), FB_OK);
    ck_assert_uint_eq(p.tenant_id, t2.id);
    ck_assert_uint_eq(p.role, FB_ROLE_ADMIN);
    /* the counter was read inside the write: a third tenant gets a new id */
    fb_tenant_info t3;
    fb_new_key k3[FB_TENANT_KEYS];
    create(&e, "third", &t3, k3);
    ck_assert_uint_ne(t3.id, t1.id);
    ck_assert_uint_ne(t3.id, t2.id);
    env_close(&e);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tenant_keys_check_with_their_roles);
    tcase_add_test(tc, unknown_missing_and_revoked_keys_refused);
    tcase_add_test(tc, list_and_revoke_stay_in_tenant);
    tcase_add_test(tc, only_hashes_reach_the_disk);
    tcase_add_test(tc, second_process_creates_tenant_while_open);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(auth_suite)
