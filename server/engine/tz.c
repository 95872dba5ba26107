/* tz.c — time-zone math from the system TZif files, without global state.
 *
 * Why not localtime_r: it consults the process-wide TZ (tzset), so per-tenant
 * zones would need setenv("TZ") — a data race in a threaded server. Instead we
 * parse /usr/share/zoneinfo/NAME once (RFC 8536): the version 2+ block with
 * 64-bit transition times (version 1 files fall back to the 32-bit block),
 * and the POSIX TZ string in the footer, which gives the offset for instants
 * after the last transition (e.g. "EST5EDT,M3.2.0,M11.1.0"). A parsed zone
 * is immutable and shared; the cache hands out one parse per name.
 *
 * Offset lookup is a binary search over the transitions. Local civil time
 * → instant (bucket starts) tries the offsets in effect around the target and
 * keeps the earliest instant whose local time is exactly the target; if none
 * exists (a gap), it binary-searches the first instant whose local time is
 * past it, which is the transition. All of this works in whole seconds: zone
 * offsets and transitions are whole seconds; ms only enter at the edges.
 */
#include "tz.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_MAX_FILE (1 << 20)

typedef struct tz_rule {      /* one POSIX date rule: Jn, n or Mm.w.d, plus /time */
    char kind;                /* 'J', 'N', 'M' */
    int n, m, w, d;
    int32_t time;             /* seconds after local midnight (may be <0 or >24h) */
} tz_rule;

struct fb_tz {
    char name[129];
    size_t n_trans;
    int64_t *trans;           /* seconds, ascending */
    uint8_t *trans_type;
    size_t n_types;
    int32_t *type_off;
    int has_footer, footer_dst;
    int32_t std_off, dst_off; /* local − UTC, seconds */
    tz_rule start, end;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ---- civil calendar (Howard Hinnant's public-domain algorithms) ---- */

int64_t fb_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void fb_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* ---- names ---- */

int fb_tz_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 128 || name[0] == '/' || strstr(name, "..") || strstr(name, "//"))
        return 0;
    if (name[len - 1] == '/')
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '+' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* ---- POSIX TZ footer ---- */

static const char *parse_abbr(const char *p)
{
    if (*p == '<') {
        while (*p && *p != '>') p++;
        return *p == '>' ? p + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]h[h][:mm[:ss]] → seconds (POSIX sign: as written). */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9') return NULL;
    int32_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*p != ':') break;
            p++;
        }
        if (*p < '0' || *p > '9') return NULL;
        while (*p >= '0' && *p <= '9' && v[i] < 1000) v[i] = v[i] * 10 + (*p++ - '0');
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

static const char *parse_num(const char *p, int *out)
{
    if (*p < '0' || *p > '9') return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9' && v < 10000) v = v * 10 + (*p++ - '0');
    *out = v;
    return p;
}

static const char *parse_rule(const char *p, tz_rule *r)
{
    if (*p == 'M') {
        r->kind = 'M';
        if (!(p = parse_num(p + 1, &r->m)) || *p++ != '.' || !(p = parse_num(p, &r->w)) ||
            *p++ != '.' || !(p = parse_num(p, &r->d)))
            return NULL;
        if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d > 6) return NULL;
    } else if (*p == 'J') {
        r->kind = 'J';
        if (!(p = parse_num(p + 1, &r->n)) || r->n < 1 || r->n > 365) return NULL;
    } else {
        r->kind = 'N';
        if (!(p = parse_num(p, &r->n)) || r->n > 365) return NULL;
    }
    r->time = 7200;
    if (*p == '/' && !(p = parse_hms(p + 1, &r->time))) return NULL;
    return p;
}

static int parse_footer(fb_tz *tz, const char *s)
{
    int32_t v;
    const char *p = parse_abbr(s);
    if (!p || !(p = parse_hms(p, &v))) return 0;
    tz->std_off = -v;
    tz->has_footer = 1;
    if (*p == '\0') return 1;
    if (!(p = parse_abbr(p))) return 0;
    tz->dst_off = tz->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!(p = parse_hms(p, &v))) return 0;
        tz->dst_off = -v;
    }
    if (*p != ',') return 0;  /* a DST zone without rules: not in tzdata */
    if (!(p = parse_rule(p + 1, &tz->start)) || *p != ',' ||
        !(p = parse_rule(p + 1, &tz->end)) || *p != '\0')
        return 0;
    tz->footer_dst = 1;
    return 1;
}

/* Local seconds (since 1970 on the local clock) of a rule in year y. */
static int64_t rule_local(const tz_rule *r, int64_t y)
{
    int64_t day;
    if (r->kind == 'J') {
        day = fb_days_from_civil(y, 1, 1) + r->n - 1 + (is_leap(y) && r->n >= 60);
    } else if (r->kind == 'N') {
        day = fb_days_from_civil(y, 1, 1) + r->n;
    } else {
        int64_t first = fb_days_from_civil(y, (unsigned)r->m, 1);
        int64_t wd = ((first + 4) % 7 + 7) % 7; /* 0 = Sunday */
        day = first + (r->d - wd + 7) % 7 + 7 * (r->w - 1);
        while (day >= first + month_days(y, (unsigned)r->m)) day -= 7;
    }
    return day * 86400 + r->time;
}

static int32_t footer_offset(const fb_tz *tz, int64_t t)
{
    if (!tz->footer_dst) return tz->std_off;
    int64_t y; unsigned m, d;
    fb_civil_from_days(floor_div(t + tz->std_off, 86400), &y, &m, &d);
    int64_t s = rule_local(&tz->start, y) - tz->std_off;
    int64_t e = rule_local(&tz->end, y) - tz->dst_off;
    int dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
    return dst ? tz->dst_off : tz->std_off;
}

/* ---- TZif ---- */

static int32_t be32s(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static int64_t be64s(const unsigned char *p)
{
    return (int64_t)((uint64_t)(uint32_t)be32s(p) << 32 | (uint32_t)be32s(p + 4));
}

typedef struct tzif_hdr { uint32_t isut, isstd, leap, time, type, chr; } tzif_hdr;

static int read_hdr(const unsigned char *p, size_t len, tzif_hdr *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return 0;
    h->isut = (uint32_t)be32s(p + 20); h->isstd = (uint32_t)be32s(p + 24);
    h->leap = (uint32_t)be32s(p + 28); h->time = (uint32_t)be32s(p + 32);
    h->type = (uint32_t)be32s(p + 36); h->chr = (uint32_t)be32s(p + 40);
    return h->type >= 1 && h->type <= 256 && h->time <= 100000 && h->leap <= 10000 &&
           h->chr <= 100000 && h->isut <= 256 && h->isstd <= 256;
}

static size_t block_len(const tzif_hdr *h, size_t tsize)
{
    return h->time * tsize + h->time + h->type * 6 + h->chr + h->leap * (tsize + 4) +
           h->isstd + h->isut;
}

/* Fills tz from the data block at p (times of tsize bytes). */
static int read_block(fb_tz *tz, const tzif_hdr *h, const unsigned char *p, size_t tsize)
{
    tz->n_trans = h->time;
    tz->n_types = h->type;
    tz->trans = calloc(h->time + 1, sizeof *tz->trans);
    tz->trans_type = calloc(h->time + 1, 1);
    tz->type_off = calloc(h->type, sizeof *tz->type_off);
    if (!tz->trans || !tz->trans_type || !tz->type_off) return 0;
    for (size_t i = 0; i < h->time; i++)
        tz->trans[i] = tsize == 8 ? be64s(p + i * 8) : be32s(p + i * 4);
    p += h->time * tsize;
    for (size_t i = 0; i < h->time; i++) {
        if (p[i] >= h->type) return 0;
        tz->trans_type[i] = p[i];
    }
    p += h->time;
    for (size_t i = 0; i < h->type; i++) tz->type_off[i] = be32s(p + i * 6);
    for (size_t i = 1; i < h->time; i++)
        if (tz->trans[i] <= tz->trans[i - 1]) return 0;
    return 1;
}

static int parse_tzif(fb_tz *tz, const unsigned char *buf, size_t len)
{
    tzif_hdr h;
    if (!read_hdr(buf, len, &h)) return 0;
    size_t v1 = 44 + block_len(&h, 4);
    if (v1 > len) return 0;
    if (buf[4] < '2') return read_block(tz, &h, buf + 44, 4);
    const unsigned char *p2 = buf + v1;
    tzif_hdr h2;
    if (!read_hdr(p2, len - v1, &h2)) return 0;
    size_t v2 = 44 + block_len(&h2, 8);
    if (v2 > len - v1) return 0;
    if (!read_block(tz, &h2, p2 + 44, 8)) return 0;
    const char *f = (const char *)p2 + v2;
    size_t flen = len - v1 - v2;
    if (flen >= 2 && f[0] == '\n') {
        const char *nl = memchr(f + 1, '\n', flen - 1);
        if (nl && nl - f - 1 > 0 && nl - f - 1 < 128) {
            char rule[128];
            memcpy(rule, f + 1, (size_t)(nl - f - 1));
            rule[nl - f - 1] = '\0';
            if (!parse_footer(tz, rule)) return 0;
        }
    }
    return 1;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TZ_MAX_FILE) {
        fclose(f);
        return 0;
    }
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf || n != (size_t)st.st_size) { free(buf); return 0; }
    *out = buf;
    *len = n;
    return 1;
}

int fb_tz_load(fb_tz **out, const char *dir, const char *name, fb_err *err)
{
    if (!fb_tz_name_ok(name))
        return fb_err_set(err, FB_INVALID, "timezone: '%.64s' is not a valid IANA zone name", name);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : TZ_DEFAULT_DIR, name);
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!read_file(path, &buf, &len))
        return fb_err_set(err, FB_INVALID, "timezone: unknown zone '%s' (not in the system zone database)", name);
    fb_tz *tz = calloc(1, sizeof *tz);
    int ok = tz && parse_tzif(tz, buf, len);
    free(buf);
    if (!ok) {
        fb_tz_free(tz);
        return fb_err_set(err, FB_INVALID, "timezone: '%s' is not a TZif zone file", name);
    }
    snprintf(tz->name, sizeof tz->name, "%s", name);
    *out = tz;
    return FB_OK;
}

void fb_tz_free(fb_tz *tz)
{
    if (!tz) return;
    free(tz->trans);
    free(tz->trans_type);
    free(tz->type_off);
    free(tz);
}

const char *fb_tz_name(const fb_tz *tz) { return tz->name; }

/* ---- offsets and buckets (seconds internally) ---- */

static int32_t offset_s(const fb_tz *tz, int64_t t)
{
    if (tz->n_trans == 0 || t < tz->trans[0]) {
        if (tz->n_trans == 0 && tz->has_footer) return footer_offset(tz, t);
        return tz->type_off[0];
    }
    size_t lo = 0, hi = tz->n_trans; /* last i with trans[i] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t) lo = mid; else hi = mid;
    }
    if (lo == tz->n_trans - 1 && tz->has_footer) return footer_offset(tz, t);
    return tz->type_off[tz->trans_type[lo]];
}

int32_t fb_tz_offset(const fb_tz *tz, int64_t t_ms)
{
    return offset_s(tz, floor_div(t_ms, 1000));
}

static int64_t civil_start_s(const fb_tz *tz, int64_t b)
{
    int32_t cand_off[4];
    cand_off[0] = offset_s(tz, b - 2 * 86400);
    cand_off[1] = offset_s(tz, b + 2 * 86400);
    cand_off[2] = offset_s(tz, b - cand_off[0]);
    cand_off[3] = offset_s(tz, b - cand_off[1]);
    int64_t best = INT64_MAX, lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < 4; i++) {
        int64_t t = b - cand_off[i];
        if (t + offset_s(tz, t) == b && t < best) best = t;
        if (t < lo) lo = t;
        if (t > hi) hi = t;
    }
    if (best != INT64_MAX) return best;
    /* b falls in a gap: the first instant whose local time passes b. */
    if (hi + offset_s(tz, hi) < b) return hi;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (mid + offset_s(tz, mid) >= b) hi = mid; else lo = mid;
    }
    return hi;
}

int64_t fb_tz_civil_start(const fb_tz *tz, int64_t local_s)
{
    return civil_start_s(tz, local_s) * 1000;
}

/* The civil boundary of granularity g at or before local seconds l. */
static int64_t civil_floor(fb_gran g, int64_t l)
{
    int64_t days = floor_div(l, 86400);
    switch (g) {
    case FB_GRAN_HOUR: return floor_div(l, 3600) * 3600;
    case FB_GRAN_DAY: return days * 86400;
    case FB_GRAN_WEEK: return (days - ((days + 3) % 7 + 7) % 7) * 86400;
    case FB_GRAN_MONTH: {
        int64_t y; unsigned m, d;
        fb_civil_from_days(days, &y, &m, &d);
        return fb_days_from_civil(y, m, 1) * 86400;
    }
    }
    return days * 86400;
}

static int64_t civil_next(fb_gran g, int64_t b)
{
    switch (g) {
    case FB_GRAN_HOUR: return b + 3600;
    case FB_GRAN_DAY: return b + 86400;
    case FB_GRAN_WEEK: return b + 7 * 86400;
    case FB_GRAN_MONTH: {
        int64_t y; unsigned m, d;
        fb_civil_from_days(floor_div(b, 86400), &y, &m, &d);
        return (m == 12 ? fb_days_from_civil(y + 1, 1, 1) : fb_days_from_civil(y, m + 1, 1)) * 86400;
    }
    }
    return b + 86400;
}

/* The boundary whose bucket holds instant t (seconds). */
static int64_t boundary_of(const fb_tz *tz, fb_gran g, int64_t t)
{
    int64_t b = civil_floor(g, t + offset_s(tz, t));
    for (int i = 0; i < 1000; i++) { /* bounded: a fall-back repeats at most a day */
        int64_t nb = civil_next(g, b);
        if (civil_start_s(tz, nb) > t) break;
        b = nb;
    }
    return b;
}

int64_t fb_tz_bucket_start(const fb_tz *tz, fb_gran g, int64_t t_ms)
{
    return civil_start_s(tz, boundary_of(tz, g, floor_div(t_ms, 1000))) * 1000;
}

int64_t fb_tz_bucket_next(const fb_tz *tz, fb_gran g, int64_t start_ms)
{
    int64_t s = floor_div(start_ms, 1000);
    int64_t b = boundary_of(tz, g, s);
    for (int i = 0; i < 1000; i++) { /* skipped boundaries (empty buckets) */
        b = civil_next(g, b);
        int64_t ns = civil_start_s(tz, b);
        if (ns * 1000 > start_ms) return ns * 1000;
    }
    return start_ms + 1000;
}

int64_t fb_tz_local_day(const fb_tz *tz, int64_t t_ms)
{
    return floor_div(boundary_of(tz, FB_GRAN_DAY, floor_div(t_ms, 1000)), 86400);
}

/* ---- cache ---- */

struct fb_tzcache {
    pthread_mutex_t mu;
    char *dir;
    fb_tz **zones;
    size_t n, cap;
};

int fb_tzcache_open(fb_tzcache **out, const char *dir, fb_err *err)
{
    fb_tzcache *c = calloc(1, sizeof *c);
    if (!c || (dir && !(c->dir = strdup(dir)))) {
        free(c);
        return fb_err_set(err, FB_INTERNAL, "tz cache: out of memory");
    }
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return FB_OK;
}

void fb_tzcache_close(fb_tzcache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) fb_tz_free(c->zones[i]);
    free(c->zones);
    free(c->dir);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int fb_tzcache_get(fb_tzcache *c, const char *name, const fb_tz **out, fb_err *err)
{
    if (!name || !*name) name = "UTC";
    int rc = FB_OK;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->zones[i]->name, name) == 0) {
            *out = c->zones[i];
            pthread_mutex_unlock(&c->mu);
            return FB_OK;
        }
    }
    fb_tz *tz = NULL;
    rc = fb_tz_load(&tz, c->dir, name, err);
    if (rc == FB_OK && c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        fb_tz **z = realloc(c->zones, cap * sizeof *z);
        if (!z) {
            fb_tz_free(tz);
            rc = fb_err_set(err, FB_INTERNAL, "tz cache: out of memory");
        } else {
            c->zones = z;
            c->cap = cap;
        }
    }
    if (rc == FB_OK) {
        c->zones[c->n++] = tz;
        *out = tz;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}
