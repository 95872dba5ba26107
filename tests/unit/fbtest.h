/* fbtest.h — the one piece of test scaffolding every unit test shares.
 *
 * Each tests/unit/test_NAME.c builds one check Suite and ends with
 * FB_TEST_MAIN(NAME_suite); CMake turns each file into one executable and
 * one ctest entry, so `ctest -N` is the single list of all tests.
 * fb_test_tmpdir() gives a fresh directory under the build tree for tests
 * that need real files (LMDB environments, lexicons). */
#ifndef FB_TEST_H
#define FB_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new empty directory; the caller may leave it behind (the build tree owns it). */
static inline const char *fb_test_tmpdir(const char *name)
{
    static char path[4096];
    const char *base = getenv("FB_TEST_TMP");
    if (!base || !*base) base = "/tmp";
    mkdir(base, 0700);
    snprintf(path, sizeof path, "%s/%s-%d-XXXXXX", base, name, (int)getpid());
    if (!mkdtemp(path)) { perror("mkdtemp"); abort(); }
    return path;
}

#define FB_TEST_MAIN(suite_fn)                                   \
    int main(void)                                               \
    {                                                            \
        SRunner *sr = srunner_create(suite_fn());                \
        srunner_run_all(sr, CK_NORMAL);                          \
        int failed = srunner_ntests_failed(sr);                  \
        srunner_free(sr);                                        \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;        \
    }

#endif
