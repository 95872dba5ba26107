/* config.h — feedbackd's settings: defaults, a config file, flags.
 *
 * Precedence: built-in defaults < the config file (--config FILE) < flags.
 * The file has one `key = value` per line; `#` starts a comment; blank lines
 * are ignored; values may be wrapped in double quotes. Keys (flag in
 * brackets): listen (--listen), data_dir (--data-dir), threads (--threads),
 * log_level (--log-level), max_message_bytes (--max-message-bytes),
 * lexicons (--lexicons), keepalive_ms (--keepalive-ms: the HTTP/2 ping
 * interval that finds dead peers; a peer silent for min(interval, 10 s)
 * after a ping is dropped). An unknown key or a bad value is an error naming
 * the file, line and rule.
 */
#ifndef FB_CONFIG_H
#define FB_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "error.h"
#include "log.h"

#define FB_DEFAULT_LISTEN "127.0.0.1:50051"
#define FB_DEFAULT_DATA_DIR "./data"

typedef struct fb_config {
    char listen[256];          /* HOST:PORT */
    char data_dir[PATH_MAX];
    int threads;               /* 0: number of cores */
    enum fb_log_level log_level;
    size_t max_message_bytes;  /* 1 MiB by default */
    char lexicons[PATH_MAX];   /* "": env FB_LEXICON_DIR, else the build's */
    int keepalive_ms;          /* 0: the runtime's default (30 s) */
} fb_config;

/* Fills the built-in defaults. */
void fb_config_defaults(fb_config *cfg);

/* Sets one setting by its config-file key ("data_dir", ...).
 * Errors: FB_INVALID (unknown key, or a value breaking the key's rule;
 * err names both). */
int fb_config_set(fb_config *cfg, const char *key, const char *value, fb_err *err);

/* Reads a config file over cfg. Errors: FB_NOT_FOUND (cannot open),
 * FB_INVALID ("FILE:LINE: ..."). */
int fb_config_load(fb_config *cfg, const char *path, fb_err *err);

#endif
