/* log.h — the server's log: one line per event, to stderr.
 *
 * Lines look like
 *   2026-11-22T16:40:01.123Z INFO  rpc feedback.v1.Ingest/SubmitResponse tenant=default status=OK 0.42ms
 * Each line is formatted into a stack buffer and written with a single
 * write(2) (or, for the rpc workers' per-call lines, gathered in the
 * worker's own fb_logbuf and written a few KiB at a time), so lines from
 * concurrent threads never interleave and there is no lock. The level is set once at start (before any thread logs) and only
 * read afterwards.
 */
#ifndef FB_LOG_H
#define FB_LOG_H

#include <stddef.h>

enum fb_log_level {
    FB_LOG_DEBUG = 0,
    FB_LOG_INFO = 1,
    FB_LOG_WARN = 2,
    FB_LOG_ERROR = 3,
    FB_LOG_OFF = 4,
};

/* Sets the lowest level that is written (default FB_LOG_INFO). Call before
 * starting threads. */
void fb_log_set_level(enum fb_log_level level);
/* True if a line of this level would be written (skip expensive formatting). */
int fb_log_enabled(enum fb_log_level level);
/* Parses "debug", "info", "warn"/"warning", "error", "off". Returns 0 and sets
 * *out, or -1 for an unknown name. */
int fb_log_parse_level(const char *name, enum fb_log_level *out);

/* Writes one line (a newline is added; long lines are truncated). */
void fb_log(enum fb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A lifecycle line (listening, first start, shutting down): written at every
 * level but off, so scripts can rely on it. Shown as NOTE. */
void fb_log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line buffer owned by one thread (each rpc worker has one for its
 * per-call lines): a write(2) per call was a visible cost per request under
 * load. Lines are appended whole and written together, in one write of at
 * most FB_LOGBUF_SIZE bytes (<= PIPE_BUF, so still never mixed with other
 * threads' lines), when the next line does not fit, when the oldest line
 * has waited FB_LOGBUF_MAX_MS, or on fb_logbuf_flush (the worker flushes
 * whenever it is about to wait for work, so an idle server holds nothing
 * back). Zero-initialise it; not thread-safe (one owner). */
#define FB_LOGBUF_SIZE 4096
#define FB_LOGBUF_MAX_MS 100
typedef struct fb_logbuf {
    size_t len;
    long long first_ms; /* CLOCK_MONOTONIC ms of the oldest buffered line */
    long long stamp_sec; /* the second stamp[] shows (fb_log_rpc) */
    char stamp[80];      /* "2026-11-22T16:40:01" (room for any int fields) */
    char buf[FB_LOGBUF_SIZE];
} fb_logbuf;

/* Like fb_log, into b. */
void fb_log_buffered(fb_logbuf *b, enum fb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes what b holds. */
void fb_logbuf_flush(fb_logbuf *b);

/* The rpc runtime's line per call, into b at INFO: exactly the line
 *   fb_log_buffered(b, FB_LOG_INFO, "rpc %s tenant=%s status=%s%s %.2fms",
 *                   path, tenant, status, detail, latency_ns / 1e6)
 * writes (detail: "" or " msg=..."), built without printf and with the
 * date formatted once per second, since it runs once per call. */
void fb_log_rpc(fb_logbuf *b, const char *path, const char *tenant, const char *status,
                const char *detail, long long latency_ns);

#define fb_debug(...) fb_log(FB_LOG_DEBUG, __VA_ARGS__)
#define fb_info(...)  fb_log(FB_LOG_INFO, __VA_ARGS__)
#define fb_warn(...)  fb_log(FB_LOG_WARN, __VA_ARGS__)
#define fb_error(...) fb_log(FB_LOG_ERROR, __VA_ARGS__)

#endif
