/* args.c — option parsing and small shared helpers for feedbackctl:
 * times, failure and usage messages (with hints), one-line text excerpts.
 * Options are parsed into a fixed-size fbc_args on the caller's stack: a
 * command line is short, and no allocation means nothing to free. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static int is_flag(const char *name, const char *const *flags)
{
    for (; flags && *flags; flags++)
        if (strcmp(*flags, name) == 0) return 1;
    return 0;
}

int fbc_args_parse(fbc_args *a, int argc, char **argv, const char *const *flags)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--") == 0) {
            for (i++; i < argc && a->npos < 64; i++) a->pos[a->npos++] = argv[i];
            break;
        }
        if (strncmp(s, "--", 2) != 0 || s[2] == 0) {
            if (a->npos == 64) return fbc_usage("too many arguments");
            a->pos[a->npos++] = s;
            continue;
        }
        if (a->n == 64) return fbc_usage("too many options");
        char (*names)[48] = a->namebuf;
        const char *eq = strchr(s + 2, '=');
        size_t len = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
        if (len >= sizeof names[0]) return fbc_usage("option too long: %s", s);
        memcpy(names[a->n], s + 2, len);
        names[a->n][len] = 0;
        a->name[a->n] = names[a->n];
        if (eq) {
            a->value[a->n] = eq + 1;
        } else if (is_flag(names[a->n], flags)) {
            a->value[a->n] = NULL;
        } else {
            if (i + 1 >= argc) return fbc_usage("option --%s needs a value", names[a->n]);
            a->value[a->n] = argv[++i];
        }
        a->n++;
    }
    return 0;
}

const char *fbc_arg(const fbc_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->name[i], name) == 0 && a->value[i]) v = a->value[i];
    return v;
}

int fbc_flag(const fbc_args *a, const char *name)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->name[i], name) == 0) return 1;
    return 0;
}

const char *fbc_arg_nth(const fbc_args *a, const char *name, int nth)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->name[i], name) == 0 && a->value[i] && nth-- == 0) return a->value[i];
    return NULL;
}

int fbc_args_only(const fbc_args *a, const char *const *known)
{
    for (int i = 0; i < a->n; i++)
        if (!is_flag(a->name[i], known)) return fbc_usage("unknown option --%s", a->name[i]);
    return 0;
}

int fbc_parse_count(const char *s, const char *opt, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || *s == '-' || v > max)
        return fbc_usage("%s takes a whole number from 0 to %llu, got '%s'", opt, (unsigned long long)max, s);
    *out = v;
    return 0;
}

int fbc_parse_time(const char *s, int64_t *ms)
{
    char *end;
    size_t len = strlen(s);
    if (len == 0) return -1;
    long long v = strtoll(s, &end, 10);
    if (*end == 0 && v >= 0) { *ms = v; return 0; }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (end != s && end[1] == 0 && v >= 0) {
        int64_t unit = *end == 'd' ? 86400000LL : *end == 'h' ? 3600000LL : *end == 'm' ? 60000LL
                     : *end == 'w' ? 7 * 86400000LL : 0;
        if (unit) { *ms = now_ms - v * unit; return 0; }
    }
    if (strcmp(s, "now") == 0) { *ms = now_ms; return 0; }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (!rest) return -1;
    if (*rest == 'T' || *rest == ' ') {
        const char *r2 = strptime(rest + 1, "%H:%M:%S", &tm);
        if (!r2) r2 = strptime(rest + 1, "%H:%M", &tm);
        if (!r2) return -1;
        rest = r2;
    }
    if (*rest == 'Z') rest++;
    if (*rest) return -1;
    *ms = (int64_t)timegm(&tm) * 1000;
    return 0;
}

void fbc_format_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static const char *hint_for(const fbc_ctx *c, grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_UNAUTHENTICATED:
        return c->have_key ? "check the key (--key or FEEDBACK_KEY): it may be mistyped or revoked"
                           : "pass a key with --key KEY or set FEEDBACK_KEY (a new server writes its "
                             "first keys to DATA_DIR/default-keys)";
    case GRPC_STATUS_PERMISSION_DENIED:
        return "use a key of the role named above; an admin can make one with "
               "`feedbackctl keys create --role ROLE`";
    case GRPC_STATUS_UNAVAILABLE:
        return NULL; /* the address is added in fbc_fail */
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return "the server did not answer in time; retry, or raise --timeout MS";
    default:
        return NULL;
    }
}

int fbc_fail(const fbc_ctx *c, const fbc_status *st)
{
    fprintf(stderr, "feedbackctl: %s: %s\n", fbc_status_name(st->code),
            st->message[0] ? st->message : "(no message)");
    const char *hint = hint_for(c, st->code);
    if (hint) fprintf(stderr, "feedbackctl: hint: %s\n", hint);
    else if (st->code == GRPC_STATUS_UNAVAILABLE)
        fprintf(stderr, "feedbackctl: hint: is feedbackd running at %s? give its address with --addr "
                        "HOST:PORT or FEEDBACK_ADDR\n", c->addr);
    return 1;
}

int fbc_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("feedbackctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

void fbc_print_excerpt(FILE *out, const char *text, size_t max_chars)
{
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)text;
    fputc('"', out);
    for (; *p && chars < max_chars; p++) {
        if ((*p & 0xC0) != 0x80) chars++; /* count code points, never split one */
        if (*p == '\n') fputs("\\n", out);
        else if (*p == '\r') fputs("\\r", out);
        else if (*p == '\t') fputs("\\t", out);
        else fputc(*p, out);
    }
    while (*p && (*p & 0xC0) == 0x80) fputc(*p++, out); /* finish the last code point */
    fputs(*p ? "…\"" : "\"", out);
}
