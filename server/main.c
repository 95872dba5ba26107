/* main.c — feedbackd: the command line, first start, and the server's life.
 *
 *   feedbackd [--listen HOST:PORT] [--data-dir DIR] [--threads N]
 *             [--config FILE] [--log-level LEVEL] [--lexicons DIR]
 *             [--max-message-bytes N] [--keepalive-ms N]
 *   feedbackd tenant create NAME [--data-dir DIR] [--config FILE]
 *
 * main() owns the only process-wide state: the fb_server context. It builds
 * the engine modules first (store, auth, text, then the feature modules),
 * then the gRPC runtime, and tears them down in reverse. SIGINT and SIGTERM
 * are blocked in every thread before any thread exists (gRPC's and the
 * store writer inherit the mask) and taken with sigwait here, so shutdown
 * runs as ordinary code: health NOT_SERVING, fb_rpc_stop (stop accepting,
 * finish in-flight calls, end streams with UNAVAILABLE), close the modules
 * (fb_store_close commits and syncs), exit 0 — within 5 s.
 *
 * First start on a data directory without tenants: tenant `default` is
 * created with one key per role and the secrets are written to
 * DIR/default-keys (`role<TAB>key` lines), created with O_EXCL and mode 0600
 * before the tenant exists, so the secrets never sit in a file anyone else
 * can read and an old file is never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "rpc.h"
#include "sentiment.h"
#include "alerts.h"
#include "feedback.h"
#include "server.h"
#include "settings.h"
#include "trends.h"

enum {
    STOP_GRACE_MS = 2000, /* in-flight calls get this long before being cancelled */
};

#ifndef FB_LEXICON_DIR
#define FB_LEXICON_DIR "lexicons"
#endif

static const char usage_text[] =
    "usage: feedbackd [options]\n"
    "       feedbackd tenant create NAME [--data-dir DIR] [--config FILE]\n"
    "\n"
    "The feedback and sentiment service (gRPC API feedback.v1).\n"
    "\n"
    "options (flags override the config file):\n"
    "  --listen HOST:PORT        address to serve on (default " FB_DEFAULT_LISTEN ")\n"
    "  --data-dir DIR            data directory (default " FB_DEFAULT_DATA_DIR ")\n"
    "  --threads N               worker threads (default: number of cores)\n"
    "  --config FILE             read `key = value` settings: listen, data_dir, threads,\n"
    "                            log_level, max_message_bytes, lexicons, keepalive_ms\n"
    "  --log-level LEVEL         debug, info, warn, error or off (default info)\n"
    "  --max-message-bytes N     largest request accepted (default 1048576)\n"
    "  --lexicons DIR            sentiment lexicons (default: $FB_LEXICON_DIR, else the build's)\n"
    "  --keepalive-ms N          HTTP/2 ping interval to find dead peers (default 30000)\n"
    "  --help                    show this help\n"
    "\n"
    "On first start with an empty data directory, tenant 'default' is created and\n"
    "its keys (admin, submit, read, alerts) are written to DIR/default-keys (mode 0600).\n"
    "`feedbackd tenant create NAME` prints a new tenant's keys as role<TAB>key lines;\n"
    "it works while the server is running.\n";

/* ---- command line -------------------------------------------------------- */

static const struct {
    const char *flag, *key;
} flag_keys[] = {
    {"--listen", "listen"},       {"--data-dir", "data_dir"},
    {"--threads", "threads"},     {"--log-level", "log_level"},
    {"--lexicons", "lexicons"},   {"--max-message-bytes", "max_message_bytes"},
    {"--keepalive-ms", "keepalive_ms"},
};

/* Splits "--flag=value" or "--flag value"; returns the value or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag)
{
    size_t n = strlen(flag);
    if (strncmp(argv[*i], flag, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0' || *i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

/* Parses flags into cfg: the config file first (wherever --config is), then
 * every other flag over it. Returns 0, 1 for --help, -1 on error. */
static int parse_args(int argc, char **argv, fb_config *cfg, const char **positional,
                      int max_positional, int *n_positional)
{
    fb_err err = {0};
    for (int i = 0; i < argc; i++) {
        const char *v = flag_value(argc, argv, &i, "--config");
        if (v && fb_config_load(cfg, v, &err) != FB_OK) {
            fprintf(stderr, "feedbackd: %s\n", err.msg);
            return -1;
        }
    }
    *n_positional = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
        if (flag_value(argc, argv, &i, "--config"))
            continue;
        const char *key = NULL, *v = NULL;
        for (size_t k = 0; k < sizeof flag_keys / sizeof flag_keys[0] && !v; k++) {
            int j = i;
            v = flag_value(argc, argv, &j, flag_keys[k].flag);
            if (v) {
                key = flag_keys[k].key;
                i = j;
            }
        }
        if (v) {
            if (fb_config_set(cfg, key, v, &err) != FB_OK) {
                fprintf(stderr, "feedbackd: %s\n", err.msg);
                return -1;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "feedbackd: unknown option or missing value: %s (see --help)\n", argv[i]);
            return -1;
        } else if (*n_positional < max_positional) {
            positional[(*n_positional)++] = argv[i];
        } else {
            fprintf(stderr, "feedbackd: unexpected argument: %s (see --help)\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

/* ---- the data directory -------------------------------------------------- */

static int make_dirs(const char *path, fb_err *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return fb_err_set(err, FB_INVALID, "data_dir: path too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return fb_err_set(err, FB_INTERNAL, "data_dir: cannot create %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return fb_err_set(err, FB_INTERNAL, "data_dir: cannot create %s: %s", buf, strerror(errno));
    return FB_OK;
}

static void print_keys(FILE *f, const fb_new_key keys[FB_TENANT_KEYS])
{
    for (int i = 0; i < FB_TENANT_KEYS; i++)
        fprintf(f, "%s\t%s\n", fb_role_name(keys[i].info.role), keys[i].secret);
}

/* First start: a data directory without tenants gets tenant `default`. The
 * keys file is created (O_EXCL, 0600) before the tenant so that a failure
 * leaves neither a tenant without keys nor keys in a readable file. */
static int first_start(fb_server *srv, fb_err *err)
{
    uint64_t n = 0;
    int rc = fb_tenant_count(srv->auth, &n, err);
    if (rc != FB_OK || n > 0)
        return rc;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/default-keys", srv->data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fb_err_set(err, FB_INTERNAL,
                          "first start: cannot create %s: %s (move an old file away and start again)",
                          path, strerror(errno));
    fb_new_key keys[FB_TENANT_KEYS];
    fb_tenant_info info;
    rc = fb_tenant_create(srv->auth, "default", &info, keys, err);
    FILE *f = rc == FB_OK ? fdopen(fd, "w") : NULL;
    if (f) {
        fchmod(fd, 0600);
        print_keys(f, keys);
        if (fflush(f) != 0 || fsync(fd) != 0)
            rc = fb_err_set(err, FB_INTERNAL, "first start: cannot write %s: %s", path, strerror(errno));
        fclose(f);
    } else {
        close(fd);
        if (rc == FB_OK)
            rc = fb_err_set(err, FB_INTERNAL, "first start: cannot write %s", path);
    }
    explicit_bzero(keys, sizeof keys);
    if (rc != FB_OK) {
        unlink(path);
        return rc;
    }
    fb_log_note("first start: created tenant 'default'; its keys (admin, submit, read, alerts) "
            "are in %s (mode 0600)", path);
    return FB_OK;
}

/* ---- the engine modules -------------------------------------------------- */

static const char *lexicon_dir(const fb_config *cfg)
{
    if (cfg->lexicons[0])
        return cfg->lexicons;
    const char *env = getenv("FB_LEXICON_DIR");
    return env && *env ? env : FB_LEXICON_DIR;
}

static int barrier_op(fb_txn *txn, void *arg, fb_err *err)
{
    (void)txn, (void)arg, (void)err;
    return FB_OK;
}

static void close_modules(fb_server *srv)
{
    /* A barrier: a write queued by a call that finished late (an Import
     * batch) runs its hooks before the modules those hooks use close. */
    if (srv->store && srv->feedback)
        fb_store_write(srv->store, barrier_op, NULL, NULL);
    /* Feature modules, in reverse order of opening. The alerts module
     * stops its timer and ends live subscribers before the store closes. */
    if (srv->alerts)
        fb_alerts_close(srv->alerts);
    if (srv->trends)
        fb_trends_close(srv->trends);
    if (srv->feedback)
        fb_feedback_close(srv->feedback);
    if (srv->settings)
        fb_settings_close(srv->settings);
    srv->alerts = NULL;
    srv->trends = NULL;
    srv->feedback = NULL;
    srv->settings = NULL;
    if (srv->auth)
        fb_auth_close(srv->auth);
    if (srv->store)
        fb_store_close(srv->store); /* commits what is queued, syncs */
    /* The text engine last: a queued write's terms may point into its
     * lexicons (sentiment.h). */
    if (srv->text)
        fb_text_close(srv->text);
    srv->text = NULL;
    srv->auth = NULL;
    srv->store = NULL;
}

static int open_core(fb_server *srv, fb_err *err)
{
    int rc = make_dirs(srv->data_dir, err);
    if (rc == FB_OK)
        rc = fb_store_open(&srv->store, srv->data_dir, NULL, err);
    if (rc == FB_OK)
        rc = fb_auth_open(&srv->auth, srv->store, err);
    return rc;
}

/* Settings, feedback records, aggregates and alerts. Aggregates and alerts
 * follow every feedback write through hooks that run inside the same LMDB
 * transaction as the record: trends first, then alerts (which may add
 * alert ids to the record before it is written). */
static int open_features(fb_server *srv, fb_err *err)
{
    int rc = fb_settings_open(&srv->settings, srv->store, err);
    if (rc == FB_OK)
        rc = fb_feedback_open(&srv->feedback, srv->store, err);
    if (rc == FB_OK)
        rc = fb_trends_open(&srv->trends, srv->store, NULL, err);
    if (rc == FB_OK) {
        fb_alerts_opts ao = {
            .settings = fb_alerts_settings_provider,
            .settings_ctx = srv->settings,
            .nps = fb_alerts_nps_provider,
            .nps_ctx = srv->trends,
        };
        rc = fb_alerts_open(&srv->alerts, srv->store, &ao, err);
    }
    if (rc == FB_OK)
        rc = fb_feedback_add_hook(srv->feedback, fb_trends_hook, srv->trends, err);
    if (rc == FB_OK)
        rc = fb_feedback_add_hook(srv->feedback, fb_alerts_feedback_hook, srv->alerts, err);
    return rc;
}

static int open_modules(fb_server *srv, const fb_config *cfg, fb_err *err)
{
    int rc = open_core(srv, err);
    if (rc == FB_OK)
        rc = fb_text_open(&srv->text, lexicon_dir(cfg), err);
    if (rc == FB_OK)
        rc = open_features(srv, err);
    return rc;
}

/* The method tables served; a contract RPC no table has answers UNIMPLEMENTED. */
static const fb_method *const method_tables[] = {
    fb_health_methods,
    fb_ingest_methods,
    fb_keys_methods,
    fb_feedback_methods,
    fb_dash_methods,
    fb_alerts_methods,
    NULL,
};

/* ---- commands ------------------------------------------------------------ */

static sigset_t stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

static int serve(const fb_config *cfg)
{
    sigset_t sigs = stop_signals();
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread exists */

    fb_server srv = {.data_dir = cfg->data_dir};
    fb_err err = {0};
    int rc = open_modules(&srv, cfg, &err);
    if (rc == FB_OK)
        rc = first_start(&srv, &err);
    if (rc != FB_OK) {
        fb_error("cannot start: %s", err.msg);
        close_modules(&srv);
        return 1;
    }
    fb_rpc_opts opts = {
        .listen = cfg->listen,
        .threads = cfg->threads,
        .max_message_bytes = cfg->max_message_bytes,
        .keepalive_ms = cfg->keepalive_ms,
    };
    int port = 0;
    if (fb_rpc_start(&srv.rpc, &srv, &opts, method_tables, &port, &err) != FB_OK) {
        fb_error("cannot start: %s", err.msg);
        close_modules(&srv);
        return 1;
    }
    char host[256];
    snprintf(host, sizeof host, "%s", cfg->listen);
    *strrchr(host, ':') = '\0';
    fb_log_note("feedbackd listening on %s:%d (data %s)", host, port, cfg->data_dir);

    int sig = 0;
    sigwait(&sigs, &sig);
    fb_log_note("%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    fb_rpc_stop(srv.rpc, STOP_GRACE_MS); /* health turns NOT_SERVING at once */
    close_modules(&srv);
    fb_log_note("stopped");
    return 0;
}

static int tenant_create(int argc, char **argv, fb_config *cfg)
{
    const char *pos[3];
    int npos = 0;
    int r = parse_args(argc, argv, cfg, pos, 3, &npos);
    if (r != 0) {
        if (r > 0)
            fputs(usage_text, stdout);
        return r > 0 ? 0 : 2;
    }
    if (npos != 2 || strcmp(pos[0], "create") != 0) {
        fprintf(stderr, "usage: feedbackd tenant create NAME [--data-dir DIR]\n");
        return 2;
    }
    fb_log_set_level(cfg->log_level < FB_LOG_WARN ? FB_LOG_WARN : cfg->log_level);
    fb_server srv = {.data_dir = cfg->data_dir};
    fb_err err = {0};
    fb_new_key keys[FB_TENANT_KEYS];
    int rc = open_core(&srv, &err);
    if (rc == FB_OK)
        rc = fb_tenant_create(srv.auth, pos[1], NULL, keys, &err);
    if (rc == FB_OK) {
        print_keys(stdout, keys);
        fflush(stdout);
        explicit_bzero(keys, sizeof keys);
    } else {
        fprintf(stderr, "feedbackd: tenant create: %s\n", err.msg);
    }
    close_modules(&srv);
    return rc == FB_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    fb_config cfg;
    fb_config_defaults(&cfg);
    if (argc >= 2 && strcmp(argv[1], "tenant") == 0)
        return tenant_create(argc - 2, argv + 2, &cfg);
    const char *pos[1];
    int npos = 0;
    int r = parse_args(argc - 1, argv + 1, &cfg, pos, 0, &npos);
    if (r != 0) {
        if (r > 0)
            fputs(usage_text, stdout);
        return r > 0 ? 0 : 2;
    }
    fb_log_set_level(cfg.log_level);
    return serve(&cfg);
}
