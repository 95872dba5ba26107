/* test_log_rpc.c — the rpc runtime's per-call log line built without printf
 * (fb_log_rpc) is the very line the printf path (fb_log_buffered with the
 * runtime's format) writes: same date, level, fields, latency digits and
 * truncation, across many latencies and lengths. log.c is a runtime file
 * (not in fb_engine), so it is compiled into this test directly. Both
 * lines are written to a pipe standing in for stderr and compared
 * byte for byte (the millisecond stamps of two lines may differ only if the
 * clock ticks between them: such a pair is retried). */
#include <fcntl.h>

#include "fbtest.h"
#include "../../server/log.c"

/* Writes both versions of one line, reads them back. */
static void both_lines(const char *path, const char *tenant, const char *status, const char *detail,
                       long long ns, char *a, char *b, size_t cap)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    fb_logbuf *lb = calloc(1, sizeof *lb);
    fb_log_rpc(lb, path, tenant, status, detail, ns);
    fb_logbuf_flush(lb);
    fb_log_buffered(lb, FB_LOG_INFO, "rpc %s tenant=%s status=%s%s %.2fms", path, tenant, status,
                    detail, (double)ns / 1e6);
    fb_logbuf_flush(lb);
    free(lb);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    char all[4096];
    ssize_t n = read(fds[0], all, sizeof all - 1);
    close(fds[0]);
    ck_assert_int_gt(n, 0);
    all[n] = '\0';
    char *nl = strchr(all, '\n');
    ck_assert_ptr_nonnull(nl);
    snprintf(a, cap, "%.*s", (int)(nl - all + 1), all);
    snprintf(b, cap, "%s", nl + 1);
}

static void same_line(const char *path, const char *tenant, const char *status, const char *detail,
                      long long ns)
{
    char a[2048], b[2048];
    for (int tries = 0; tries < 5; tries++) {
        both_lines(path, tenant, status, detail, ns, a, b, sizeof a);
        /* "2026-11-22T16:40:01.123Z": the stamps are the first 24 bytes */
        if (strncmp(a, b, 24) == 0) break;
    }
    ck_assert_msg(strcmp(a, b) == 0, "fast:   %s\nprintf: %s", a, b);
}

START_TEST(rpc_line_matches_printf)
{
    /* latencies: not on a tie of 5 us, where %.2f of a double may round
     * either way (documented in log.h) */
    const long long ns[] = {0, 1, 4999, 5001, 9999, 10000, 123456, 999999, 1000000, 1234567,
                            9994999, 9995001, 12345678, 999994999, 1000000000LL, 3600000000001LL};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        same_line("feedback.v1.Ingest/SubmitResponse", "default", "OK", "", ns[i]);
    same_line("feedback.v1.Admin/CreateKey", "acme", "PERMISSION_DENIED",
              " msg=role 'submit' may not call feedback.v1.Admin/CreateKey; needs admin", 420000);
    same_line("no.such.Service/Method", "-", "UNIMPLEMENTED", " msg=unknown method /no.such.Service/Method", 17);
}
END_TEST

START_TEST(rpc_line_truncates_like_printf)
{
    char longmsg[1500];
    memcpy(longmsg, " msg=", 5);
    memset(longmsg + 5, 'x', sizeof longmsg - 6);
    longmsg[sizeof longmsg - 1] = '\0';
    same_line("feedback.v1.Ingest/SubmitResponse", "default", "INVALID_ARGUMENT", longmsg, 2500000);
    char longpath[1100];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    same_line(longpath, "default", "OK", "", 2500000);
}
END_TEST

static Suite *log_rpc_suite(void)
{
    Suite *s = suite_create("log_rpc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rpc_line_matches_printf);
    tcase_add_test(tc, rpc_line_truncates_like_printf);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(log_rpc_suite)
