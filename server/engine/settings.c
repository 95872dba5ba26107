/* settings.c — per-tenant settings with defaults (see settings.h).
 *
 * Table "settings": u32 tenant (big-endian) -> packed feedback.v1.Settings.
 * A tenant without a record reads the defaults; the first update stores the
 * complete merged message. Storing the whole message (not a diff) keeps
 * reads to one lookup and one unpack, which matters because ingest reads
 * the default language per submission and alerts read the rules per
 * evaluation. Defaults are applied on read when there is no record, and
 * sub-messages missing from a record are filled from the defaults, so a
 * record never loses a rule to proto3's missing presence.
 * Updates run as a write op (inside the batch), so read-merge-write is
 * atomic against concurrent updates and other processes.
 * Hot paths borrow snapshots instead (fb_settings_acquire): per tenant slot
 * the last complete message and the record bytes it came from, reused
 * while the stored bytes are unchanged, reference-counted so an update
 * never frees a message someone still reads. The defaults are packed once
 * at open, so building them is one unpack.
 */
#include "settings.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ids.h"
#include "settings_mask.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"

enum { DAY_MS = 24 * 3600 * 1000, MAX_KEYWORDS = 200, MAX_KEYWORD_LEN = 64,
       MAX_SILENCES = 100, MAX_MATCHER_LEN = 128, MAX_TZ_LEN = 64 };

enum { SNAP_SLOTS = 256 };

struct fb_settings_snap {
    atomic_int refs;          /* the cache's reference + one per holder */
    uint32_t tenant;
    bool stored;              /* a record existed (else: the defaults) */
    size_t len;
    unsigned char *bytes;     /* the record as stored (len bytes) */
    Feedback__V1__Settings *msg;
};

struct fb_settings {
    fb_store *st;
    MDB_dbi dbi;
    uint8_t *defaults;        /* the packed defaults */
    size_t defaults_len;
    pthread_mutex_t mu;       /* guards snap[] */
    fb_settings_snap *snap[SNAP_SLOTS];
};

const char *const fb_settings_default_keywords[] = {
    "refund", "lawyer", "food poisoning", "never again", "sick", "cancel my account",
    "chargeback", "health inspector", "allergic reaction", "scam", NULL,
};

/* An owned Settings holding the defaults (NULL when out of memory). */
static Feedback__V1__Settings *defaults_new(void)
{
    Feedback__V1__QuietHours qh = FEEDBACK__V1__QUIET_HOURS__INIT;
    qh.enabled = 0;
    qh.start_minute = 22 * 60;
    qh.end_minute = 7 * 60;
    qh.max_held_severity = FEEDBACK__V1__SEVERITY__HIGH;
    Feedback__V1__AlertRules r = FEEDBACK__V1__ALERT_RULES__INIT;
    r.detractor = 1;
    r.detractor_max_score = 6;
    r.negative_text = 1;
    r.negative_text_threshold = -0.5;
    r.low_rating = 1;
    r.low_rating_max = 2;
    r.keywords = (char **)fb_settings_default_keywords;
    while (fb_settings_default_keywords[r.n_keywords]) r.n_keywords++;
    r.score_text_mismatch = 1;
    r.mismatch_threshold = -0.5;
    r.nps_drop = 1;
    r.sla_ms = DAY_MS;
    r.repeat_window_ms = DAY_MS;
    r.quiet_hours = &qh;
    Feedback__V1__Settings s = FEEDBACK__V1__SETTINGS__INIT;
    s.timezone = (char *)"UTC";
    s.default_language = (char *)"en";
    s.min_sample = 30;
    s.alert_rules = &r;
    return (Feedback__V1__Settings *)fb_pb_clone(&s.base);
}

/* Fills sub-messages a record lacks from the defaults. Returns 0, or -1
 * when out of memory. */
static int fill_missing(Feedback__V1__Settings *s, const Feedback__V1__Settings *def)
{
    if (!s->alert_rules)
        s->alert_rules = (Feedback__V1__AlertRules *)fb_pb_clone(&def->alert_rules->base);
    if (!s->alert_rules) return -1;
    if (!s->alert_rules->quiet_hours)
        s->alert_rules->quiet_hours = (Feedback__V1__QuietHours *)fb_pb_clone(&def->alert_rules->quiet_hours->base);
    return s->alert_rules->quiet_hours ? 0 : -1;
}

int fb_settings_open(fb_settings **out, fb_store *st, fb_err *err)
{
    fb_settings *s = calloc(1, sizeof *s);
    if (!s) return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
    s->st = st;
    int rc = fb_store_dbi(st, "settings", &s->dbi, err);
    Feedback__V1__Settings *def = rc ? NULL : defaults_new();
    if (!rc && def) {
        s->defaults_len = feedback__v1__settings__get_packed_size(def);
        s->defaults = malloc(s->defaults_len ? s->defaults_len : 1);
        if (s->defaults) feedback__v1__settings__pack(def, s->defaults);
    }
    if (def) feedback__v1__settings__free_unpacked(def, NULL);
    if (!rc && !s->defaults) rc = fb_err_set(err, FB_INTERNAL, "settings: out of memory");
    if (rc) {
        free(s->defaults);
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return FB_OK;
}

void fb_settings_close(fb_settings *s)
{
    if (!s) return;
    for (size_t i = 0; i < SNAP_SLOTS; i++) fb_settings_release(s->snap[i]);
    pthread_mutex_destroy(&s->mu);
    free(s->defaults);
    free(s);
}

/* The defaults, as an owned message (NULL when out of memory). */
static Feedback__V1__Settings *defaults_of(const fb_settings *s)
{
    return feedback__v1__settings__unpack(NULL, s->defaults_len, s->defaults);
}

/* The complete settings from a stored record (v NULL: none stored). */
static int complete_settings(const fb_settings *s, const MDB_val *v, uint32_t tenant_id,
                             Feedback__V1__Settings **out, fb_err *err)
{
    *out = NULL;
    Feedback__V1__Settings *msg = NULL;
    if (v) {
        msg = feedback__v1__settings__unpack(NULL, v->mv_size, v->mv_data);
        if (!msg)
            return fb_err_set(err, FB_INTERNAL, "settings: the stored settings of tenant %u are damaged", tenant_id);
        if (msg->alert_rules && msg->alert_rules->quiet_hours) {
            *out = msg; /* the common case: a complete stored record */
            return FB_OK;
        }
    }
    Feedback__V1__Settings *def = defaults_of(s);
    if (!def) {
        if (msg) feedback__v1__settings__free_unpacked(msg, NULL);
        return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
    }
    if (!msg) {
        *out = def;
        return FB_OK;
    }
    int filled = fill_missing(msg, def);
    feedback__v1__settings__free_unpacked(def, NULL);
    if (filled != 0) {
        feedback__v1__settings__free_unpacked(msg, NULL);
        return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
    }
    *out = msg;
    return FB_OK;
}

/* Looks the tenant's record up in txn: FB_OK with *found 0/1. */
static int read_record(fb_settings *s, MDB_txn *t, uint32_t tenant_id, MDB_val *v, int *found, fb_err *err)
{
    unsigned char kb[4];
    fb_put_be32(kb, tenant_id);
    MDB_val k = {4, kb};
    int rc = mdb_get(t, s->dbi, &k, v);
    *found = rc == 0;
    if (rc && rc != MDB_NOTFOUND) return fb_store_mdb_err(rc, "read settings", err);
    return FB_OK;
}

int fb_settings_get(fb_settings *s, MDB_txn *txn, uint32_t tenant_id,
                    Feedback__V1__Settings **out, fb_err *err)
{
    *out = NULL;
    MDB_txn *t = txn;
    if (!t) {
        int rc = fb_store_read_begin(s->st, &t, err);
        if (rc) return rc;
    }
    MDB_val v;
    int found;
    int rc = read_record(s, t, tenant_id, &v, &found, err);
    if (!rc) rc = complete_settings(s, found ? &v : NULL, tenant_id, out, err);
    if (!txn) fb_store_read_end(s->st, t);
    return rc;
}

/* ---------------------------------------------------------------- snapshots */

const Feedback__V1__Settings *fb_settings_snap_msg(const fb_settings_snap *snap)
{
    return snap->msg;
}

void fb_settings_release(fb_settings_snap *snap)
{
    if (!snap || atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) != 1) return;
    feedback__v1__settings__free_unpacked(snap->msg, NULL);
    free(snap->bytes);
    free(snap);
}

static bool snap_matches(const fb_settings_snap *sn, uint32_t tenant_id, int found, const MDB_val *v)
{
    return sn && sn->tenant == tenant_id && sn->stored == (found != 0) &&
           (!found || (sn->len == v->mv_size && memcmp(sn->bytes, v->mv_data, v->mv_size) == 0));
}

/* A new snapshot of the record (refs 1, the caller's). */
static int snap_new(fb_settings *s, uint32_t tenant_id, int found, const MDB_val *v,
                    fb_settings_snap **out, fb_err *err)
{
    fb_settings_snap *sn = calloc(1, sizeof *sn);
    if (!sn || (found && !(sn->bytes = malloc(v->mv_size ? v->mv_size : 1)))) {
        free(sn);
        return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
    }
    int rc = complete_settings(s, found ? v : NULL, tenant_id, &sn->msg, err);
    if (rc) {
        free(sn->bytes);
        free(sn);
        return rc;
    }
    atomic_init(&sn->refs, 1);
    sn->tenant = tenant_id;
    sn->stored = found != 0;
    sn->len = found ? v->mv_size : 0;
    if (found && v->mv_size) memcpy(sn->bytes, v->mv_data, v->mv_size);
    *out = sn;
    return FB_OK;
}

int fb_settings_acquire(fb_settings *s, MDB_txn *txn, uint32_t tenant_id, fb_settings_snap **out,
                        fb_err *err)
{
    *out = NULL;
    MDB_txn *t = txn;
    if (!t) {
        int rc = fb_store_read_begin(s->st, &t, err);
        if (rc) return rc;
    }
    MDB_val v = {0, NULL};
    int found;
    bool cached = false;
    int rc = read_record(s, t, tenant_id, &v, &found, err);
    fb_settings_snap **slot = &s->snap[(tenant_id * 2654435761u) >> 24 & (SNAP_SLOTS - 1)];
    if (!rc) {
        pthread_mutex_lock(&s->mu);
        if (snap_matches(*slot, tenant_id, found, &v)) {
            atomic_fetch_add_explicit(&(*slot)->refs, 1, memory_order_relaxed);
            *out = *slot;
            cached = true;
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (!rc && !*out) rc = snap_new(s, tenant_id, found, &v, out, err); /* v read in t: before t ends */
    if (!txn) fb_store_read_end(s->st, t);
    if (rc || cached) return rc;
    atomic_fetch_add_explicit(&(*out)->refs, 1, memory_order_relaxed); /* the cache's reference */
    pthread_mutex_lock(&s->mu);
    fb_settings_snap *old = *slot;
    *slot = *out;
    pthread_mutex_unlock(&s->mu);
    fb_settings_release(old);
    return FB_OK;
}

/* ------------------------------------------------------------ validation */

int fb_settings_timezone_exists(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > MAX_TZ_LEN || name[0] == '/' || strstr(name, "..")) return 0;
    if (strcmp(name, "UTC") == 0) return 1;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return 0;
    }
    if (strncmp(name, "right/", 6) == 0) return 0; /* leap-second zones: not civil time */
    char path[sizeof ZONEINFO_DIR + MAX_TZ_LEN + 2];
    snprintf(path, sizeof path, "%s/%s", ZONEINFO_DIR, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat sb;
    char magic[4];
    int ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
             read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

static int check_threshold(double v, const char *field, fb_err *err)
{
    if (isnan(v) || v < -1.0 || v > 1.0)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.%s: must be -1..1, got %g", field, v);
    return FB_OK;
}

static int validate_quiet_hours(const Feedback__V1__QuietHours *q, fb_err *err)
{
    if (!q) return FB_OK;
    if (q->start_minute >= 1440)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.quiet_hours.start_minute: must be 0..1439, got %u", q->start_minute);
    if (q->end_minute >= 1440)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.quiet_hours.end_minute: must be 0..1439, got %u", q->end_minute);
    if ((int)q->max_held_severity < 0 || q->max_held_severity > FEEDBACK__V1__SEVERITY__CRITICAL)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.quiet_hours.max_held_severity: unknown severity %d", (int)q->max_held_severity);
    return FB_OK;
}

static int validate_silences(const Feedback__V1__AlertRules *r, fb_err *err)
{
    if (r->n_silences > MAX_SILENCES)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.silences: at most %d, got %zu", MAX_SILENCES, r->n_silences);
    for (size_t i = 0; i < r->n_silences; i++) {
        const Feedback__V1__Silence *s = r->silences[i];
        if (strlen(s->matcher) > MAX_MATCHER_LEN)
            return fb_err_set(err, FB_INVALID, "settings.alert_rules.silences[%zu].matcher: at most %d bytes", i, MAX_MATCHER_LEN);
        if (strlen(s->survey_id) > 64)
            return fb_err_set(err, FB_INVALID, "settings.alert_rules.silences[%zu].survey_id: at most 64 bytes", i);
        if (strlen(s->channel) > 64)
            return fb_err_set(err, FB_INVALID, "settings.alert_rules.silences[%zu].channel: at most 64 bytes", i);
        if (strlen(s->id) > 64)
            return fb_err_set(err, FB_INVALID, "settings.alert_rules.silences[%zu].id: at most 64 bytes", i);
        if (s->expires_ms < 0)
            return fb_err_set(err, FB_INVALID, "settings.alert_rules.silences[%zu].expires_ms: must be >= 0", i);
        for (size_t k = 0; k < s->n_kinds; k++)
            if ((int)s->kinds[k] <= 0 || s->kinds[k] > FEEDBACK__V1__ALERT__KIND__SLA_BREACH)
                return fb_err_set(err, FB_INVALID, "settings.alert_rules.silences[%zu].kinds: unknown kind %d", i, (int)s->kinds[k]);
    }
    return FB_OK;
}

static int validate_rules(const Feedback__V1__AlertRules *r, fb_err *err)
{
    if (!r) return FB_OK;
    if (r->detractor_max_score < 0 || r->detractor_max_score > 10)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.detractor_max_score: must be 0..10, got %d", r->detractor_max_score);
    if (r->low_rating_max < 1 || r->low_rating_max > 5)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.low_rating_max: must be 1..5, got %d", r->low_rating_max);
    int rc = check_threshold(r->negative_text_threshold, "negative_text_threshold", err);
    if (!rc) rc = check_threshold(r->mismatch_threshold, "mismatch_threshold", err);
    if (rc) return rc;
    if (r->sla_ms != 0 && r->sla_ms < 60000)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.sla_ms: must be 0 (off) or >= 60000, got %lld", (long long)r->sla_ms);
    if (r->repeat_window_ms < 0 || r->repeat_window_ms > 30LL * DAY_MS)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.repeat_window_ms: must be 0..%lld (30 days), got %lld",
                          30LL * DAY_MS, (long long)r->repeat_window_ms);
    if (r->n_keywords > MAX_KEYWORDS)
        return fb_err_set(err, FB_INVALID, "settings.alert_rules.keywords: at most %d, got %zu", MAX_KEYWORDS, r->n_keywords);
    for (size_t i = 0; i < r->n_keywords; i++) {
        size_t n = strlen(r->keywords[i]);
        if (n < 1 || n > MAX_KEYWORD_LEN)
            return fb_err_set(err, FB_INVALID, "settings.alert_rules.keywords[%zu]: must be 1..%d bytes, got %zu",
                              i, MAX_KEYWORD_LEN, n);
    }
    rc = validate_silences(r, err);
    return rc ? rc : validate_quiet_hours(r->quiet_hours, err);
}

int fb_settings_validate(const Feedback__V1__Settings *s, fb_err *err)
{
    if (!fb_settings_timezone_exists(s->timezone))
        return fb_err_set(err, FB_INVALID,
                          "settings.timezone: \"%.64s\" is not a time zone of the system zone database "
                          "(" ZONEINFO_DIR "); use an IANA name such as Europe/Paris", s->timezone);
    size_t n = strlen(s->default_language);
    int lang_ok = n >= 2 && n <= 3;
    for (size_t i = 0; lang_ok && i < n; i++) lang_ok = s->default_language[i] >= 'a' && s->default_language[i] <= 'z';
    if (!lang_ok)
        return fb_err_set(err, FB_INVALID, "settings.default_language: must be 2-3 lower-case letters (BCP-47 primary tag), got \"%.16s\"",
                          s->default_language);
    if (s->min_sample < 1 || s->min_sample > 100000)
        return fb_err_set(err, FB_INVALID, "settings.min_sample: must be 1..100000, got %u", s->min_sample);
    if (s->retention_days > 36500)
        return fb_err_set(err, FB_INVALID, "settings.retention_days: must be 0..36500, got %u", s->retention_days);
    return validate_rules(s->alert_rules, err);
}

/* ---------------------------------------------------------------- update */

typedef struct update_op {
    fb_settings *s;
    uint32_t tenant_id;
    const Feedback__V1__UpdateSettingsRequest *req;
    Feedback__V1__Settings *out;
} update_op;

static int apply_request(Feedback__V1__Settings *cur, const Feedback__V1__UpdateSettingsRequest *req, fb_err *err)
{
    const ProtobufCMessage *src = req->settings ? &req->settings->base : NULL;
    if (req->n_update_mask == 0)
        return src ? fb_pb_merge_set_fields(&cur->base, src, err) : FB_OK;
    Feedback__V1__Settings *def = defaults_new();
    if (!def) return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
    int rc = FB_OK;
    for (size_t i = 0; i < req->n_update_mask && rc == FB_OK; i++)
        rc = fb_pb_apply_path(&cur->base, src, &def->base, req->update_mask[i], err);
    feedback__v1__settings__free_unpacked(def, NULL);
    return rc;
}

/* Gives every silence without an id a fresh one. */
static int name_silences(fb_store *st, Feedback__V1__AlertRules *r, fb_err *err)
{
    for (size_t i = 0; r && i < r->n_silences; i++) {
        Feedback__V1__Silence *s = r->silences[i];
        if (s->id && *s->id) continue;
        char *id = malloc(FB_ID_LEN + 1);
        if (!id) return fb_err_set(err, FB_INTERNAL, "settings: out of memory");
        fb_id_next(fb_store_ids(st), fb_now_ms(), id);
        s->id = id; /* the old value was the shared empty string */
    }
    return FB_OK;
}

static int update_fn(fb_txn *txn, void *arg, fb_err *err)
{
    update_op *op = arg;
    if (op->out) { /* a re-run after map growth */
        feedback__v1__settings__free_unpacked(op->out, NULL);
        op->out = NULL;
    }
    Feedback__V1__Settings *cur;
    int rc = fb_settings_get(op->s, fb_txn_mdb(txn), op->tenant_id, &cur, err);
    if (rc) return rc;
    rc = apply_request(cur, op->req, err);
    if (!rc) rc = name_silences(op->s->st, cur->alert_rules, err);
    if (!rc) rc = fb_settings_validate(cur, err);
    if (!rc) {
        size_t n = feedback__v1__settings__get_packed_size(cur);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf) rc = fb_err_set(err, FB_INTERNAL, "settings: out of memory");
        else {
            feedback__v1__settings__pack(cur, buf);
            unsigned char kb[4];
            fb_put_be32(kb, op->tenant_id);
            MDB_val k = {4, kb}, v = {n, buf};
            int mrc = mdb_put(fb_txn_mdb(txn), op->s->dbi, &k, &v, 0);
            free(buf);
            if (mrc) rc = fb_txn_mdb_err(txn, mrc, "write settings", err);
        }
    }
    if (rc) {
        feedback__v1__settings__free_unpacked(cur, NULL);
        return rc;
    }
    op->out = cur;
    return FB_OK;
}

int fb_settings_update(fb_settings *s, uint32_t tenant_id,
                       const Feedback__V1__UpdateSettingsRequest *req,
                       Feedback__V1__Settings **out, fb_err *err)
{
    if (out) *out = NULL;
    for (size_t i = 0; i < req->n_update_mask; i++) {
        int rc = fb_pb_check_path(&feedback__v1__settings__descriptor, req->update_mask[i], err);
        if (rc) return rc;
    }
    update_op op = {s, tenant_id, req, NULL};
    int rc = fb_store_write(s->st, update_fn, &op, err);
    if (rc != FB_OK || !out) {
        if (op.out) feedback__v1__settings__free_unpacked(op.out, NULL);
        return rc;
    }
    *out = op.out;
    return FB_OK;
}
