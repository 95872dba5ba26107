/* settings.h — per-tenant settings (feedback.v1.Settings), with defaults.
 *
 * A tenant that never updated its settings reads the defaults:
 *   timezone "UTC", default_language "en", min_sample 30, retention_days 0,
 *   alert_rules: detractor on (max score 6), negative_text on (<= -0.5),
 *   low_rating on (<= 2 stars), keywords = the default watch list (below),
 *   score_text_mismatch on (<= -0.5), nps_drop on, sla_ms 24 h,
 *   repeat_window_ms 24 h, no silences, quiet_hours off (22:00-07:00 local
 *   when enabled, holding back up to HIGH).
 * The first update stores a complete record (defaults merged with the
 * update), so proto3's missing field presence never turns a rule off by
 * accident: only fields named by the update mask (or, with an empty mask,
 * set to a non-default value) change.
 * (Key layout: see settings.c.)
 */
#ifndef FB_SETTINGS_H
#define FB_SETTINGS_H

#include <stdint.h>

#include "error.h"
#include "store.h"
#include "feedback/v1/admin.pb-c.h"

typedef struct fb_settings fb_settings;

/* The default keyword watch list, NULL-terminated. */
extern const char *const fb_settings_default_keywords[];

/* Opens the "settings" table. Errors: FB_INTERNAL. */
int fb_settings_open(fb_settings **out, fb_store *st, fb_err *err);
void fb_settings_close(fb_settings *s);

/* The tenant's settings (defaults if never updated). txn: a read or write
 * transaction to read in (e.g. fb_txn_mdb() inside a write op, so the op
 * sees its own batch), or NULL to use a short read transaction of its own.
 * The caller frees *out with feedback__v1__settings__free_unpacked(*out, NULL).
 * Every sub-message (alert_rules, alert_rules.quiet_hours) is present.
 * Cost: one B-tree lookup and one unpack (a few microseconds; see
 * fb_settings_acquire for a copy-free read).
 * Errors: FB_INTERNAL (a damaged record: the message says so). */
int fb_settings_get(fb_settings *s, MDB_txn *txn, uint32_t tenant_id,
                    Feedback__V1__Settings **out, fb_err *err);

/* A shared, read-only snapshot of a tenant's settings (the same complete
 * message fb_settings_get returns), for paths that read settings per
 * request (the alert rules at every ingest). The module keeps the latest
 * snapshot per tenant together with the stored record's bytes; acquiring
 * reads the record (one B-tree lookup in txn, as fb_settings_get) and hands
 * out the cached snapshot when the bytes are the same, so no unpack, copy
 * or defaults are built per call. Comparing the bytes (not a version kept
 * in memory) keeps it exact whoever wrote the record (another process, a
 * batch rolled back after an update was read). The cache holds at most one
 * snapshot per slot of a small table (tenants sharing a slot evict each
 * other: correct, only slower). Thread-safe; txn as for fb_settings_get.
 * Errors: as fb_settings_get. */
typedef struct fb_settings_snap fb_settings_snap;
int fb_settings_acquire(fb_settings *s, MDB_txn *txn, uint32_t tenant_id, fb_settings_snap **out,
                        fb_err *err);
/* The snapshot's message: valid until fb_settings_release; never modify it. */
const Feedback__V1__Settings *fb_settings_snap_msg(const fb_settings_snap *snap);
/* Gives the snapshot back (NULL is allowed). */
void fb_settings_release(fb_settings_snap *snap);

/* Applies req (UpdateSettingsRequest) durably and returns the new settings
 * in *out (free as above; out may be NULL).
 * update_mask: field paths such as "timezone", "alert_rules.keywords",
 * "alert_rules.quiet_hours.enabled". A path copies that field from
 * req->settings, zero values included (that is how a rule is turned off);
 * a path naming a message that req leaves unset resets it to its defaults.
 * An empty mask updates every field that req->settings sets to a
 * non-default (non-zero, non-empty) value.
 * Silences without an id get one (ids.h).
 * Errors: FB_INVALID — the message names the field and rule:
 *   update_mask: unknown field path
 *   settings.timezone: not in the system zone database (/usr/share/zoneinfo)
 *   settings.default_language: 2-3 lower-case letters
 *   settings.min_sample: 1..100000
 *   settings.retention_days: 0..36500
 *   settings.alert_rules.detractor_max_score: 0..10; low_rating_max: 1..5
 *   settings.alert_rules.*_threshold: -1..1
 *   settings.alert_rules.sla_ms: 0 (off) or >= 60000
 *   settings.alert_rules.repeat_window_ms: 0..30 days
 *   settings.alert_rules.keywords: at most 200, each 1..64 bytes
 *   settings.alert_rules.silences: at most 100; matcher <= 128 bytes, ...
 *   settings.alert_rules.quiet_hours.*_minute: 0..1439
 * FB_EXHAUSTED, FB_UNAVAILABLE, FB_INTERNAL from the store. */
int fb_settings_update(fb_settings *s, uint32_t tenant_id,
                       const Feedback__V1__UpdateSettingsRequest *req,
                       Feedback__V1__Settings **out, fb_err *err);

/* Checks a complete settings message against the rules above (FB_INVALID).
 * Exposed for tests and for tools that import settings. */
int fb_settings_validate(const Feedback__V1__Settings *s, fb_err *err);

/* 1 if name is a time zone of the system zone database ("UTC" always). */
int fb_settings_timezone_exists(const char *name);

#endif
