/* log.c — see log.h. Timestamps are UTC with milliseconds; a line is built in
 * a fixed buffer and written at once so that concurrent writers never mix
 * their lines (write(2) to a pipe or file of < PIPE_BUF bytes is atomic). */
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

static void vlog(const char *level, const char *fmt, va_list ap)
{
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t off = 0;
    while ((size_t)off < len) {
        ssize_t w = write(STDERR_FILENO, line + off, len - (size_t)off);
        if (w <= 0)
            break;
        off += w;
    }
}
