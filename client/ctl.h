/* ctl.h — what feedbackctl's command modules share.
 *
 * main.c parses the global options, connects, and dispatches to one
 * cmd_*() function per command. Each command parses its own options with
 * fbc_args, makes its calls, prints human output (or JSON with --json), and
 * returns the process exit code: 0 success, 1 the server said no (status and
 * message printed), 2 bad usage. */
#ifndef FBC_CTL_H
#define FBC_CTL_H

#include <stdint.h>
#include <stdio.h>

#include "feedback/v1/common.pb-c.h"
#include "rpcclient.h"

typedef struct fbc_ctx {
    fbc_conn conn;
    int json;        /* --json: machine output */
    int tty;         /* stdout is a terminal (and no --json): colours, sparklines */
    int colour;      /* tty and no NO_COLOR in the environment */
    int err_tty;     /* stderr is a terminal: the import progress bar */
    int have_key;    /* a key was given (for the hint after UNAUTHENTICATED) */
    const char *addr;
} fbc_ctx;

/* ---- option parsing: --name value, --name=value, flags, positionals ---- */
typedef struct fbc_args {
    int n;
    const char *name[64];
    const char *value[64];   /* NULL for flags */
    int npos;
    const char *pos[64];
    char namebuf[64][48];    /* storage for names split from --name=value */
} fbc_args;

/* flags: names (without --) that take no value, e.g. {"json","explain",NULL}.
 * Returns 0, or 2 after printing a usage error. */
int fbc_args_parse(fbc_args *a, int argc, char **argv, const char *const *flags);
const char *fbc_arg(const fbc_args *a, const char *name);          /* last value or NULL */
int fbc_flag(const fbc_args *a, const char *name);
/* Iterate repeated options: returns the i-th value of name, or NULL. */
const char *fbc_arg_nth(const fbc_args *a, const char *name, int i);
/* Options left unknown: prints "unknown option --x" and returns 2; else 0. */
int fbc_args_only(const fbc_args *a, const char *const *known);

/* A non-negative whole number <= max for option opt; 0, or 2 after a usage
 * error naming opt. */
int fbc_parse_count(const char *s, const char *opt, uint64_t max, uint64_t *out);

/* Time arguments: ms since the epoch, 2026-11-01[THH:MM[:SS]] (UTC),
 * or relative to now: 7d, 24h, 30m. Returns 0 or -1. */
int fbc_parse_time(const char *s, int64_t *ms);
void fbc_format_time(int64_t ms, char *buf, size_t len);

/* Prints a failed status ("feedbackctl: INVALID_ARGUMENT: score: ...") on
 * one line, then a "hint:" line when the fix is on the user's side (no or
 * wrong key, server not reachable, wrong role), and returns 1. */
int fbc_fail(const fbc_ctx *c, const fbc_status *st);

/* Help (usage.c): every command's synopsis; one command's usage and details
 * (returns -1 for an unknown command). */
void fbc_print_help(FILE *out);
int fbc_print_command_help(FILE *out, const char *name);
/* Prints text quoted on one line: newlines and tabs as \n \t, cut after
 * max_chars code points with an ellipsis. */
void fbc_print_excerpt(FILE *out, const char *text, size_t max_chars);
/* Prints a usage error and returns 2 (main then points to the help). */
int fbc_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_health(fbc_ctx *c, int argc, char **argv);
int cmd_submit(fbc_ctx *c, int argc, char **argv);
int cmd_review(fbc_ctx *c, int argc, char **argv);
int cmd_import(fbc_ctx *c, int argc, char **argv);
int cmd_list(fbc_ctx *c, int argc, char **argv);
int cmd_analyze(fbc_ctx *c, int argc, char **argv);
int cmd_nps(fbc_ctx *c, int argc, char **argv);
int cmd_trend(fbc_ctx *c, int argc, char **argv);
int cmd_terms(fbc_ctx *c, int argc, char **argv);
int cmd_keys(fbc_ctx *c, int argc, char **argv);
int cmd_settings(fbc_ctx *c, int argc, char **argv);
int cmd_erase(fbc_ctx *c, int argc, char **argv);
int cmd_watch(fbc_ctx *c, int argc, char **argv);
int cmd_alerts(fbc_ctx *c, int argc, char **argv);
int cmd_ack(fbc_ctx *c, int argc, char **argv);
int cmd_resolve(fbc_ctx *c, int argc, char **argv);

/* Unary call, then JSON (--json) or human(reply); frees the reply.
 * Returns 0 or 1 (status printed). */
int fbc_call_print(fbc_ctx *c, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *resp_desc, void (*human)(const fbc_ctx *, const ProtobufCMessage *));
/* --from/--to into ms; --channel/--tag into a Filter (free its tags with
 * fbc_free_tags). Return 0 or 2. */
int fbc_range_args(const fbc_args *a, int64_t *from, int64_t *to);
int fbc_filter_args(const fbc_args *a, Feedback__V1__Filter *f);

/* analyze --offline needs no server: main runs it before connecting. */
int cmd_analyze_offline(int argc, char **argv);

#endif
