/* log.c — see log.h. Timestamps are UTC with milliseconds; a line is built in
 * a fixed buffer and written at once so that concurrent writers never mix
 * their lines (write(2) to a pipe or file of < PIPE_BUF bytes is atomic);
 * an fb_logbuf gathers whole lines of one thread up to that size. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Set once by main() before threads start, then only read. */
static enum fb_log_level min_level = FB_LOG_INFO;

void fb_log_set_level(enum fb_log_level level) { min_level = level; }

int fb_log_enabled(enum fb_log_level level) { return level >= min_level && level < FB_LOG_OFF; }

int fb_log_parse_level(const char *name, enum fb_log_level *out)
{
    static const struct { const char *name; enum fb_log_level level; } names[] = {
        {"debug", FB_LOG_DEBUG}, {"info", FB_LOG_INFO}, {"warn", FB_LOG_WARN},
        {"warning", FB_LOG_WARN}, {"error", FB_LOG_ERROR}, {"off", FB_LOG_OFF},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

static const char *level_name(enum fb_log_level level)
{
    switch (level) {
    case FB_LOG_DEBUG: return "DEBUG";
    case FB_LOG_INFO: return "INFO ";
    case FB_LOG_WARN: return "WARN ";
    default: return "ERROR";
    }
}

static void vlog(const char *level, const char *fmt, va_list ap);

void fb_log(enum fb_log_level level, const char *fmt, ...)
{
    if (!fb_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level_name(level), fmt, ap);
    va_end(ap);
}

void fb_log_note(const char *fmt, ...)
{
    if (min_level >= FB_LOG_OFF)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("NOTE ", fmt, ap);
    va_end(ap);
}

/* Formats "<time> <level> <message>\n" into line (cap >= 64); returns its
 * length (long messages are truncated). */
static size_t format_line(char *line, size_t cap, const char *level, const char *fmt, va_list ap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level);
    int m = vsnprintf(line + n, cap - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > cap - 2)
        len = cap - 2;
    line[len++] = '\n';
    return len;
}

static void write_all(const char *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(STDERR_FILENO, p + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
    char line[1024];
    write_all(line, format_line(line, sizeof line, level, fmt, ap));
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fb_logbuf_flush(fb_logbuf *b)
{
    if (b->len)
        write_all(b->buf, b->len);
    b->len = 0;
}

/* Appends one whole line (ending in a newline) to b, writing b first if
 * the line does not fit or the oldest buffered line is too old. */
static void buffer_line(fb_logbuf *b, const char *line, size_t len)
{
    long long now = monotonic_ms();
    if (b->len && (b->len + len > sizeof b->buf || now - b->first_ms >= FB_LOGBUF_MAX_MS))
        fb_logbuf_flush(b);
    if (!b->len)
        b->first_ms = now;
    memcpy(b->buf + b->len, line, len);
    b->len += len;
}

void fb_log_buffered(fb_logbuf *b, enum fb_log_level level, const char *fmt, ...)
{
    if (!fb_log_enabled(level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    size_t len = format_line(line, sizeof line, level_name(level), fmt, ap);
    va_end(ap);
    buffer_line(b, line, len);
}

/* ---- the per-call line without printf ---- */

typedef struct linebuf {
    char *p;
    size_t len, cap; /* cap excludes the room kept for the newline */
} linebuf;

static void put_str(linebuf *l, const char *s)
{
    size_t n = strlen(s);
    if (n > l->cap - l->len)
        n = l->cap - l->len;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

/* Decimal digits of v (>= 0), at least min_digits of them. */
static void put_uint(linebuf *l, unsigned long long v, int min_digits)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < min_digits);
    while (n > 0 && l->len < l->cap)
        l->p[l->len++] = d[--n];
}

void fb_log_rpc(fb_logbuf *b, const char *path, const char *tenant, const char *status,
                const char *detail, long long latency_ns)
{
    if (!fb_log_enabled(FB_LOG_INFO))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != b->stamp_sec || !b->stamp[0]) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(b->stamp, sizeof b->stamp, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        b->stamp_sec = ts.tv_sec;
    }
    char line[1024];
    linebuf l = {line, 0, sizeof line - 2}; /* as format_line: at most 1022 bytes + newline */
    put_str(&l, b->stamp);
    put_str(&l, ".");
    put_uint(&l, (unsigned long long)(ts.tv_nsec / 1000000), 3);
    put_str(&l, "Z INFO  rpc ");
    put_str(&l, path);
    put_str(&l, " tenant=");
    put_str(&l, tenant);
    put_str(&l, " status=");
    put_str(&l, status);
    put_str(&l, detail);
    put_str(&l, " ");
    /* the milliseconds with two decimals (rounded half up on whole
     * nanoseconds; printf's %.2f of the double may differ by 0.01 on an
     * exact tie) */
    unsigned long long hundredths = latency_ns > 0 ? ((unsigned long long)latency_ns + 5000) / 10000 : 0;
    put_uint(&l, hundredths / 100, 1);
    put_str(&l, ".");
    put_uint(&l, hundredths % 100, 2);
    put_str(&l, "ms");
    line[l.len++] = '\n';
    buffer_line(b, line, l.len);
}
