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

void fb_log_buffered(fb_logbuf *b, enum fb_log_level level, const char *fmt, ...)
{
    if (!fb_log_enabled(level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    size_t len = format_line(line, sizeof line, level_name(level), fmt, ap);
    va_end(ap);
    long long now = monotonic_ms();
    if (b->len && (b->len + len > sizeof b->buf || now - b->first_ms >= FB_LOGBUF_MAX_MS))
        fb_logbuf_flush(b);
    if (!b->len)
        b->first_ms = now;
    memcpy(b->buf + b->len, line, len);
    b->len += len;
}
