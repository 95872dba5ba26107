/* main.c — feedbackctl: the command-line client for feedbackd.
 *
 * Global options may come before the command; --json and --help are also
 * understood after it (people type `feedbackctl list --json`). Each command
 * parses the rest. Address and key come from --addr/--key or
 * FEEDBACK_ADDR/FEEDBACK_KEY. Human output by default, --json for scripts;
 * a failed call prints the status and the server's message (plus a hint
 * when the fix is on the user's side) and exits 1; bad usage exits 2.
 * Help texts live in usage.c. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

struct command {
    const char *name;
    int (*fn)(fbc_ctx *, int, char **);
};

static const struct command commands[] = {
    {"health", cmd_health},   {"submit", cmd_submit},     {"review", cmd_review},
    {"import", cmd_import},   {"list", cmd_list},         {"analyze", cmd_analyze},
    {"nps", cmd_nps},         {"trend", cmd_trend},       {"terms", cmd_terms},
    {"keys", cmd_keys},       {"settings", cmd_settings}, {"erase", cmd_erase},
    {"watch", cmd_watch},     {"alerts", cmd_alerts},     {"ack", cmd_ack},
    {"resolve", cmd_resolve}, {NULL, NULL},
};

static int has_arg(int argc, char **argv, const char *opt)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], opt) == 0) return 1;
    return 0;
}

/* Removes every --json before "--" from the command's arguments (in place);
 * returns the new count and sets *json. */
static int take_json(int argc, char **argv, int *json)
{
    int out = 0, i = 0;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--json") == 0) { *json = 1; continue; }
        argv[out++] = argv[i];
    }
    for (; i < argc; i++) argv[out++] = argv[i];
    return out;
}

static int run(const struct command *cmd, const char *addr, const char *key, int json, int timeout_ms,
               int argc, char **argv)
{
    fbc_ctx c;
    memset(&c, 0, sizeof c);
    c.json = json;
    c.tty = isatty(STDOUT_FILENO) && !json;
    c.colour = c.tty && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    c.err_tty = isatty(STDERR_FILENO);
    c.addr = addr;
    c.have_key = key && *key;
    if (fbc_connect(&c.conn, c.addr, key, timeout_ms) != 0) {
        fprintf(stderr, "feedbackctl: cannot use address '%s': give HOST:PORT with --addr or FEEDBACK_ADDR\n",
                c.addr);
        fbc_close(&c.conn);
        return 2;
    }
    int rc = cmd->fn(&c, argc, argv);
    fbc_close(&c.conn);
    return rc;
}

/* A usage error before any command was chosen. */
static int global_usage(int rc)
{
    fputs("feedbackctl: see 'feedbackctl --help'\n", stderr);
    return rc;
}

int main(int argc, char **argv)
{
    const char *addr = getenv("FEEDBACK_ADDR");
    const char *key = getenv("FEEDBACK_KEY");
    int json = 0, timeout_ms = 30000, i = 1;
    for (; i < argc && strncmp(argv[i], "-", 1) == 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) { fbc_print_help(stdout); return 0; }
        if (strcmp(o, "--json") == 0) { json = 1; continue; }
        const char *eq = strchr(o, '=');
        size_t len = eq ? (size_t)(eq - o) : strlen(o);
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (len == 6 && strncmp(o, "--addr", 6) == 0) addr = v;
        else if (len == 5 && strncmp(o, "--key", 5) == 0) key = v;
        else if (len == 9 && strncmp(o, "--timeout", 9) == 0) {
            char *end;
            timeout_ms = v ? (int)strtol(v, &end, 10) : 0;
            if (!v || *end || timeout_ms <= 0) return global_usage(fbc_usage("--timeout takes milliseconds > 0"));
        } else return global_usage(fbc_usage("unknown option %.*s", (int)len, o));
        if (!v) return global_usage(fbc_usage("option %s needs a value", o));
    }
    if (i >= argc) {
        fbc_print_help(stderr);
        return 2;
    }
    const char *name = argv[i];
    int cargc = argc - i - 1;
    char **cargv = argv + i + 1;
    if (strcmp(name, "help") == 0) {
        if (cargc && fbc_print_command_help(stdout, cargv[0]) == 0) return 0;
        fbc_print_help(stdout);
        return cargc ? 2 : 0;
    }
    const struct command *cmd = commands;
    while (cmd->name && strcmp(cmd->name, name) != 0) cmd++;
    if (!cmd->name) return global_usage(fbc_usage("unknown command '%s'", name));
    if (has_arg(cargc, cargv, "--help") || has_arg(cargc, cargv, "-h")) {
        fbc_print_command_help(stdout, name);
        return 0;
    }
    cargc = take_json(cargc, cargv, &json);
    int rc = strcmp(name, "analyze") == 0 && has_arg(cargc, cargv, "--offline")
                 ? cmd_analyze_offline(cargc, cargv)
                 : run(cmd, addr && *addr ? addr : "127.0.0.1:50051", key, json, timeout_ms, cargc, cargv);
    if (rc == 2) fprintf(stderr, "feedbackctl: see 'feedbackctl %s --help'\n", name);
    return rc;
}
