/* config.c — see config.h. One table maps keys to setters so the file and
 * the command line share every rule (main.c turns --data-dir into data_dir). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fb_config_defaults(fb_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen, sizeof cfg->listen, "%s", FB_DEFAULT_LISTEN);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", FB_DEFAULT_DATA_DIR);
    cfg->threads = 0;
    cfg->log_level = FB_LOG_INFO;
    cfg->max_message_bytes = 1u << 20;
}

static int parse_long(const char *key, const char *v, long lo, long hi, long *out, fb_err *err)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < lo || n > hi)
        return fb_err_set(err, FB_INVALID, "%s: must be an integer %ld..%ld, got '%s'", key, lo, hi, v);
    *out = n;
    return FB_OK;
}

static int set_string(char *dst, size_t size, const char *key, const char *v, fb_err *err)
{
    if (!*v)
        return fb_err_set(err, FB_INVALID, "%s: must not be empty", key);
    if (strlen(v) >= size)
        return fb_err_set(err, FB_INVALID, "%s: longer than %zu bytes", key, size - 1);
    memcpy(dst, v, strlen(v) + 1);
    return FB_OK;
}

int fb_config_set(fb_config *cfg, const char *key, const char *value, fb_err *err)
{
    long n = 0;
    int rc;
    if (strcmp(key, "listen") == 0) {
        const char *colon = strrchr(value, ':');
        if (!colon || colon == value || !colon[1])
            return fb_err_set(err, FB_INVALID, "listen: must be HOST:PORT, got '%s'", value);
        rc = parse_long("listen: port", colon + 1, 0, 65535, &n, err);
        return rc ? rc : set_string(cfg->listen, sizeof cfg->listen, key, value, err);
    }
    if (strcmp(key, "data_dir") == 0)
        return set_string(cfg->data_dir, sizeof cfg->data_dir, key, value, err);
    if (strcmp(key, "lexicons") == 0)
        return set_string(cfg->lexicons, sizeof cfg->lexicons, key, value, err);
    if (strcmp(key, "threads") == 0) {
        if ((rc = parse_long(key, value, 0, 1024, &n, err)) != FB_OK)
            return rc;
        cfg->threads = (int)n;
        return FB_OK;
    }
    if (strcmp(key, "max_message_bytes") == 0) {
        if ((rc = parse_long(key, value, 1024, 1L << 30, &n, err)) != FB_OK)
            return rc;
        cfg->max_message_bytes = (size_t)n;
        return FB_OK;
    }
    if (strcmp(key, "keepalive_ms") == 0) {
        if ((rc = parse_long(key, value, 100, 3600000, &n, err)) != FB_OK)
            return rc;
        cfg->keepalive_ms = (int)n;
        return FB_OK;
    }
    if (strcmp(key, "log_level") == 0) {
        if (fb_log_parse_level(value, &cfg->log_level) != 0)
            return fb_err_set(err, FB_INVALID,
                              "log_level: must be debug, info, warn, error or off, got '%s'", value);
        return FB_OK;
    }
    return fb_err_set(err, FB_INVALID,
                      "unknown setting '%s' (known: listen, data_dir, threads, log_level, "
                      "max_message_bytes, lexicons, keepalive_ms)", key);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int fb_config_load(fb_config *cfg, const char *path, fb_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fb_err_set(err, FB_NOT_FOUND, "config %s: cannot open: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0, rc = FB_OK;
    while (rc == FB_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = fb_err_set(err, FB_INVALID, "%s:%d: expected 'key = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        size_t vn = strlen(value);
        if (vn >= 2 && value[0] == '"' && value[vn - 1] == '"') {
            value[vn - 1] = '\0';
            value++;
        }
        fb_err e = {0};
        if (fb_config_set(cfg, key, value, &e) != FB_OK)
            rc = fb_err_set(err, FB_INVALID, "%s:%d: %s", path, lineno, e.msg);
    }
    fclose(f);
    return rc;
}
