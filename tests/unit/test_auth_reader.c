/* test_auth_reader.c — key checks through an fb_auth_reader (the rpc
 * workers' reusable read transaction) against a real LMDB directory: the
 * same answers as fb_auth_check, and no stale snapshot between checks — a
 * key revoked in this process or by another process is refused on the very
 * next check, and a key another process creates is accepted at once. */
#include <sys/wait.h>

#include "fbtest.h"
#include "auth.h"

typedef struct env {
    char dir[4096];
    fb_store *st;
    fb_auth *auth;
} env;

static void env_open(env *e)
{
    fb_store_opts o = {.no_sync = 1};
    fb_err err = {0};
    snprintf(e->dir, sizeof e->dir, "%s", fb_test_tmpdir("authreader"));
    ck_assert_msg(fb_store_open(&e->st, e->dir, &o, &err) == FB_OK, "%s", err.msg);
    ck_assert_msg(fb_auth_open(&e->auth, e->st, &err) == FB_OK, "%s", err.msg);
}

static void env_close(env *e)
{
    fb_auth_close(e->auth);
    fb_store_close(e->st);
}

static int check(fb_auth_reader *r, const char *secret, fb_principal *p, fb_err *err)
{
    return fb_auth_check_with(r, secret, strlen(secret), p, err);
}

START_TEST(reader_answers_like_check)
{
    env e;
    env_open(&e);
    fb_err err = {0};
    fb_tenant_info t;
    fb_new_key keys[FB_TENANT_KEYS];
    ck_assert_msg(fb_tenant_create(e.auth, "acme", &t, keys, &err) == FB_OK, "%s", err.msg);
    fb_auth_reader *r = fb_auth_reader_new(e.auth);
    ck_assert_ptr_nonnull(r);
    for (int round = 0; round < 3; round++) { /* the reused transaction, several times */
        for (int i = 0; i < FB_TENANT_KEYS; i++) {
            fb_principal p, q;
            ck_assert_int_eq(check(r, keys[i].secret, &p, &err), FB_OK);
            ck_assert_int_eq(fb_auth_check(e.auth, keys[i].secret, strlen(keys[i].secret), &q, &err), FB_OK);
            ck_assert_int_eq(memcmp(&p, &q, sizeof p), 0);
            ck_assert_uint_eq(p.role, fb_tenant_key_roles[i]);
            ck_assert_str_eq(p.tenant, "acme");
        }
    }
    fb_principal p;
    ck_assert_int_eq(check(r, "fbk_nosuchkeyatall", &p, &err), FB_UNAUTH);
    ck_assert_msg(strstr(err.msg, "unknown api key"), "%s", err.msg);
    ck_assert_int_eq(fb_auth_check_with(r, "", 0, &p, &err), FB_UNAUTH);
    ck_assert_msg(strstr(err.msg, "missing api key"), "%s", err.msg);
    ck_assert_int_eq(fb_auth_check_with(r, keys[0].secret, 20, &p, &err), FB_UNAUTH);

    /* revoked here: refused on the next check through the same reader */
    ck_assert_int_eq(fb_key_revoke(e.auth, t.id, keys[1].info.id, NULL, &err), FB_OK);
    ck_assert_int_eq(check(r, keys[1].secret, &p, &err), FB_UNAUTH);
    ck_assert_msg(strstr(err.msg, "revoked"), "%s", err.msg);
    ck_assert_int_eq(check(r, keys[0].secret, &p, &err), FB_OK);
    fb_auth_reader_free(r);
    fb_auth_reader_free(NULL);
    env_close(&e);
}
END_TEST

/* In a child process with its own environment handle (like `feedbackd
 * tenant create` next to a running server): revokes key_id of tenant 1 and
 * creates tenant "later", writing the new submit key's secret to fd. */
static void other_process(const char *dir, const char *key_id, int fd)
{
    fb_store *st;
    fb_auth *au;
    fb_err err = {0};
    fb_tenant_info t;
    fb_new_key k[FB_TENANT_KEYS];
    int rc = fb_store_open(&st, dir, NULL, &err);
    if (!rc) rc = fb_auth_open(&au, st, &err);
    if (!rc) rc = fb_key_revoke(au, 1, key_id, NULL, &err);
    if (!rc) rc = fb_tenant_create(au, "later", &t, k, &err);
    if (!rc && write(fd, k[1].secret, strlen(k[1].secret)) < 0) rc = 1;
    if (!rc) {
        fb_auth_close(au);
        fb_store_close(st);
    }
    _exit(rc == FB_OK ? 0 : 10 + rc);
}

START_TEST(reader_sees_another_process_at_once)
{
    env e;
    env_open(&e);
    fb_err err = {0};
    fb_tenant_info t;
    fb_new_key keys[FB_TENANT_KEYS];
    ck_assert_msg(fb_tenant_create(e.auth, "acme", &t, keys, &err) == FB_OK, "%s", err.msg);
    ck_assert_uint_eq(t.id, 1);
    fb_auth_reader *r = fb_auth_reader_new(e.auth);
    fb_principal p;
    ck_assert_int_eq(check(r, keys[2].secret, &p, &err), FB_OK); /* the transaction exists now */

    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        other_process(e.dir, keys[2].info.id, fds[1]);
    }
    close(fds[1]);
    char secret[FB_SECRET_MAX] = {0};
    ssize_t got = read(fds[0], secret, sizeof secret - 1);
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    ck_assert_int_gt(got, 0);

    ck_assert_int_eq(check(r, keys[2].secret, &p, &err), FB_UNAUTH);
    ck_assert_msg(strstr(err.msg, "revoked"), "%s", err.msg);
    ck_assert_int_eq(check(r, secret, &p, &err), FB_OK);
    ck_assert_str_eq(p.tenant, "later");
    ck_assert_uint_eq(p.role, FB_ROLE_SUBMIT);
    fb_auth_reader_free(r);
    env_close(&e);
}
END_TEST

static Suite *auth_reader_suite(void)
{
    Suite *s = suite_create("auth_reader");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reader_answers_like_check);
    tcase_add_test(tc, reader_sees_another_process_at_once);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(auth_reader_suite)
