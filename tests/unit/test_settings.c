/* test_settings.c — per-tenant settings in a real store: defaults, update
 * masks (explicit and empty), validation messages naming the field, tenant
 * isolation and persistence across reopen. */
#include <math.h>

#include "fbtest.h"
#include "settings.h"

typedef struct env {
    const char *dir;
    fb_store *st;
    fb_settings *set;
} env;

static void env_open(env *e, const char *dir)
{
    fb_store_opts o = {.no_sync = 1};
    fb_err err = {0};
    e->dir = dir;
    ck_assert_msg(fb_store_open(&e->st, dir, &o, &err) == FB_OK, "%s", err.msg);
    ck_assert_msg(fb_settings_open(&e->set, e->st, &err) == FB_OK, "%s", err.msg);
}

static void env_close(env *e)
{
    fb_settings_close(e->set);
    fb_store_close(e->st);
}

static Feedback__V1__Settings *get(env *e, uint32_t tenant)
{
    Feedback__V1__Settings *s = NULL;
    fb_err err = {0};
    ck_assert_msg(fb_settings_get(e->set, NULL, tenant, &s, &err) == FB_OK, "%s", err.msg);
    return s;
}

/* Runs an update; returns its code, err filled. */
static int update(env *e, uint32_t tenant, Feedback__V1__Settings *s, char **mask, size_t n_mask, fb_err *err)
{
    Feedback__V1__UpdateSettingsRequest req = FEEDBACK__V1__UPDATE_SETTINGS_REQUEST__INIT;
    req.settings = s;
    req.update_mask = mask;
    req.n_update_mask = n_mask;
    Feedback__V1__Settings *out = NULL;
    int rc = fb_settings_update(e->set, tenant, &req, &out, err);
    if (rc == FB_OK) {
        ck_assert_ptr_nonnull(out);
        feedback__v1__settings__free_unpacked(out, NULL);
    } else {
        ck_assert_ptr_null(out);
    }
    return rc;
}

static void assert_defaults(const Feedback__V1__Settings *s)
{
    ck_assert_str_eq(s->timezone, "UTC");
    ck_assert_str_eq(s->default_language, "en");
    ck_assert_uint_eq(s->min_sample, 30);
    ck_assert_uint_eq(s->retention_days, 0);
    const Feedback__V1__AlertRules *r = s->alert_rules;
    ck_assert_ptr_nonnull(r);
    ck_assert(r->detractor);
    ck_assert_int_eq(r->detractor_max_score, 6);
    ck_assert(r->negative_text);
    ck_assert(fabs(r->negative_text_threshold + 0.5) < 1e-12);
    ck_assert(r->low_rating);
    ck_assert_int_eq(r->low_rating_max, 2);
    ck_assert(r->score_text_mismatch);
    ck_assert(fabs(r->mismatch_threshold + 0.5) < 1e-12);
    ck_assert(r->nps_drop);
    ck_assert_int_eq(r->sla_ms, 24LL * 3600 * 1000);
    ck_assert_int_eq(r->repeat_window_ms, 24LL * 3600 * 1000);
    ck_assert_uint_eq(r->n_keywords, 10);
    ck_assert_str_eq(r->keywords[0], "refund");
    ck_assert_str_eq(r->keywords[2], "food poisoning");
    ck_assert_str_eq(r->keywords[9], "scam");
    ck_assert_uint_eq(r->n_silences, 0);
    ck_assert_ptr_nonnull(r->quiet_hours);
    ck_assert(!r->quiet_hours->enabled);
    ck_assert_int_eq(r->quiet_hours->max_held_severity, FEEDBACK__V1__SEVERITY__HIGH);
}

START_TEST(defaults_for_a_new_tenant)
{
    env e;
    env_open(&e, fb_test_tmpdir("settings"));
    Feedback__V1__Settings *s = get(&e, 1);
    assert_defaults(s);
    feedback__v1__settings__free_unpacked(s, NULL);
    /* inside a caller's read transaction too */
    MDB_txn *t;
    fb_err err = {0};
    ck_assert_int_eq(fb_store_read_begin(e.st, &t, &err), FB_OK);
    ck_assert_int_eq(fb_settings_get(e.set, t, 2, &s, &err), FB_OK);
    fb_store_read_end(e.st, t);
    assert_defaults(s);
    feedback__v1__settings__free_unpacked(s, NULL);
    env_close(&e);
}
END_TEST

START_TEST(mask_updates_only_named_fields)
{
    env e;
    const char *dir = fb_test_tmpdir("settings");
    env_open(&e, dir);
    fb_err err = {0};
    Feedback__V1__Settings in = FEEDBACK__V1__SETTINGS__INIT;
    in.timezone = "Europe/Paris";
    in.min_sample = 50; /* not in the mask: ignored */
    char *mask1[] = {"timezone"};
    ck_assert_msg(update(&e, 1, &in, mask1, 1, &err) == FB_OK, "%s", err.msg);
    Feedback__V1__Settings *s = get(&e, 1);
    ck_assert_str_eq(s->timezone, "Europe/Paris");
    ck_assert_uint_eq(s->min_sample, 30);
    ck_assert(s->alert_rules->detractor);
    feedback__v1__settings__free_unpacked(s, NULL);

    /* a zero value named by the mask turns a rule off; the rest stays */
    Feedback__V1__AlertRules rules = FEEDBACK__V1__ALERT_RULES__INIT;
    Feedback__V1__Settings in2 = FEEDBACK__V1__SETTINGS__INIT;
    in2.alert_rules = &rules;
    char *mask2[] = {"alert_rules.detractor"};
    ck_assert_msg(update(&e, 1, &in2, mask2, 1, &err) == FB_OK, "%s", err.msg);
    s = get(&e, 1);
    ck_assert(!s->alert_rules->detractor);
    ck_assert(s->alert_rules->negative_text);
    ck_assert_uint_eq(s->alert_rules->n_keywords, 10);
    ck_assert_str_eq(s->timezone, "Europe/Paris");
    feedback__v1__settings__free_unpacked(s, NULL);

    /* the mask also reaches into quiet_hours, and an unset settings
     * message means zero values */
    char *mask3[] = {"alert_rules.quiet_hours.enabled", "alert_rules.keywords"};
    Feedback__V1__QuietHours qh = FEEDBACK__V1__QUIET_HOURS__INIT;
    qh.enabled = 1;
    char *kw[] = {"rude", "cold food"};
    Feedback__V1__AlertRules rules3 = FEEDBACK__V1__ALERT_RULES__INIT;
    rules3.quiet_hours = &qh;
    rules3.keywords = kw;
    rules3.n_keywords = 2;
    Feedback__V1__Settings in3 = FEEDBACK__V1__SETTINGS__INIT;
    in3.alert_rules = &rules3;
    ck_assert_msg(update(&e, 1, &in3, mask3, 2, &err) == FB_OK, "%s", err.msg);
    s = get(&e, 1);
    ck_assert(s->alert_rules->quiet_hours->enabled);
    ck_assert_uint_eq(s->alert_rules->quiet_hours->start_minute, 22 * 60); /* kept */
    ck_assert_uint_eq(s->alert_rules->n_keywords, 2);
    ck_assert_str_eq(s->alert_rules->keywords[1], "cold food");
    ck_assert(!s->alert_rules->detractor);
    feedback__v1__settings__free_unpacked(s, NULL);

    /* naming a message the request leaves unset resets it to defaults */
    char *mask4[] = {"alert_rules"};
    Feedback__V1__Settings in4 = FEEDBACK__V1__SETTINGS__INIT;
    ck_assert_msg(update(&e, 1, &in4, mask4, 1, &err) == FB_OK, "%s", err.msg);
    s = get(&e, 1);
    ck_assert(s->alert_rules->detractor);
    ck_assert_uint_eq(s->alert_rules->n_keywords, 10);
    ck_assert(!s->alert_rules->quiet_hours->enabled);
    ck_assert_str_eq(s->timezone, "Europe/Paris");
    feedback__v1__settings__free_unpacked(s, NULL);
    env_close(&e);

    env_open(&e, dir); /* durable */
    s = get(&e, 1);
    ck_assert_str_eq(s->timezone, "Europe/Paris");
    feedback__v1__settings__free_unpacked(s, NULL);
    s = get(&e, 2); /* another tenant is untouched */
    assert_defaults(s);
    feedback__v1__settings__free_unpacked(s, NULL);
    env_close(&e);
}
END_TEST

START_TEST(empty_mask_updates_set_fields)
{
    env e;
    env_open(&e, fb_test_tmpdir("settings"));
    fb_err err = {0};
    Feedback__V1__AlertRules rules = FEEDBACK__V1__ALERT_RULES__INIT;
    rules.low_rating_max = 3;
    rules.sla_ms = 3600000;
    Feedback__V1__Silence sil = FEEDBACK__V1__SILENCE__INIT;
    sil.matcher = "parking";
    sil.expires_ms = 1900000000000;
    Feedback__V1__Silence *sils[] = {&sil};
    rules.silences = sils;
    rules.n_silences = 1;
    Feedback__V1__Settings in = FEEDBACK__V1__SETTINGS__INIT;
    in.min_sample = 100;
    in.default_language = "es";
    in.alert_rules = &rules;
    ck_assert_msg(update(&e, 7, &in, NULL, 0, &err) == FB_OK, "%s", err.msg);
    Feedback__V1__Settings *s = get(&e, 7);
    ck_assert_uint_eq(s->min_sample, 100);
    ck_assert_str_eq(s->default_language, "es");
    ck_assert_str_eq(s->timezone, "UTC");              /* unset: unchanged */
    ck_assert_int_eq(s->alert_rules->low_rating_max, 3);
    ck_assert_int_eq(s->alert_rules->sla_ms, 3600000);
    ck_assert(s->alert_rules->detractor);              /* false in the request = unset */
    ck_assert_uint_eq(s->alert_rules->n_keywords, 10); /* empty list = unset */
    ck_assert_uint_eq(s->alert_rules->n_silences, 1);
    ck_assert_str_eq(s->alert_rules->silences[0]->matcher, "parking");
    ck_assert_uint_eq(strlen(s->alert_rules->silences[0]->id), 26); /* id assigned */
    feedback__v1__settings__free_unpacked(s, NULL);
    env_close(&e);
}
END_TEST

/* Expects an update with one mask path to fail with FB_INVALID and a
 * message starting with want. */
static void expect_invalid(env *e, Feedback__V1__Settings *in, char *path, const char *want)
{
    fb_err err = {0};
    char *mask[] = {path};
    int rc = update(e, 1, in, mask, 1, &err);
    ck_assert_msg(rc == FB_INVALID, "%s: rc %d", path, rc);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s: got \"%s\"", path, err.msg);
}

START_TEST(invalid_updates_name_the_field_and_change_nothing)
{
    env e;
    env_open(&e, fb_test_tmpdir("settings"));
    Feedback__V1__Settings in = FEEDBACK__V1__SETTINGS__INIT;
    Feedback__V1__AlertRules rules = FEEDBACK__V1__ALERT_RULES__INIT;
    in.alert_rules = &rules;

    in.timezone = "Mars/Olympus_Mons";
    expect_invalid(&e, &in, "timezone", "settings.timezone: \"Mars/Olympus_Mons\" is not a time zone");
    in.timezone = "../../../etc/passwd";
    expect_invalid(&e, &in, "timezone", "settings.timezone:");
    in.timezone = "Europe"; /* a directory of the database, not a zone */
    expect_invalid(&e, &in, "timezone", "settings.timezone:");
    in.timezone = "";
    expect_invalid(&e, &in, "timezone", "settings.timezone:");
    ck_assert(fb_settings_timezone_exists("America/New_York"));
    ck_assert(fb_settings_timezone_exists("UTC"));

    in.default_language = "EN";
    expect_invalid(&e, &in, "default_language", "settings.default_language: must be 2-3 lower-case letters");
    in.min_sample = 0;
    expect_invalid(&e, &in, "min_sample", "settings.min_sample: must be 1..100000, got 0");
    in.min_sample = 100001;
    expect_invalid(&e, &in, "min_sample", "settings.min_sample: must be 1..100000, got 100001");
    rules.negative_text_threshold = 1.5;
    expect_invalid(&e, &in, "alert_rules.negative_text_threshold",
                   "settings.alert_rules.negative_text_threshold: must be -1..1, got 1.5");
    rules.mismatch_threshold = NAN;
    expect_invalid(&e, &in, "alert_rules.mismatch_threshold", "settings.alert_rules.mismatch_threshold: must be -1..1");
    rules.sla_ms = 1000;
    expect_invalid(&e, &in, "alert_rules.sla_ms", "settings.alert_rules.sla_ms: must be 0 (off) or >= 60000, got 1000");
    rules.detractor_max_score = 11;
    expect_invalid(&e, &in, "alert_rules.detractor_max_score", "settings.alert_rules.detractor_max_score: must be 0..10");

    static char *many[201];
    for (int i = 0; i < 201; i++) many[i] = "word";
    rules.keywords = many;
    rules.n_keywords = 201;
    expect_invalid(&e, &in, "alert_rules.keywords", "settings.alert_rules.keywords: at most 200, got 201");
    char longword[80];
    memset(longword, 'a', 79);
    longword[79] = '\0';
    many[3] = longword;
    rules.n_keywords = 5;
    expect_invalid(&e, &in, "alert_rules.keywords", "settings.alert_rules.keywords[3]: must be 1..64 bytes, got 79");

    expect_invalid(&e, &in, "nope", "update_mask: unknown field path \"nope\"");
    expect_invalid(&e, &in, "timezone.name", "update_mask: \"timezone.name\": timezone has no sub-fields");
    expect_invalid(&e, &in, "alert_rules.", "update_mask: unknown field path");

    Feedback__V1__Settings *s = get(&e, 1); /* nothing was stored */
    assert_defaults(s);
    feedback__v1__settings__free_unpacked(s, NULL);

    /* sla 0 disables; 60000 is the minimum */
    Feedback__V1__Settings ok = FEEDBACK__V1__SETTINGS__INIT;
    Feedback__V1__AlertRules okr = FEEDBACK__V1__ALERT_RULES__INIT;
    ok.alert_rules = &okr;
    char *mask[] = {"alert_rules.sla_ms"};
    fb_err err = {0};
    ck_assert_msg(update(&e, 1, &ok, mask, 1, &err) == FB_OK, "%s", err.msg);
    okr.sla_ms = 60000;
    ck_assert_msg(update(&e, 1, &ok, mask, 1, &err) == FB_OK, "%s", err.msg);
    env_close(&e);
}
END_TEST

START_TEST(validate_defaults_pass)
{
    env e;
    env_open(&e, fb_test_tmpdir("settings"));
    Feedback__V1__Settings *s = get(&e, 3);
    fb_err err = {0};
    ck_assert_msg(fb_settings_validate(s, &err) == FB_OK, "%s", err.msg);
    feedback__v1__settings__free_unpacked(s, NULL);
    env_close(&e);
}
END_TEST

static Suite *settings_suite(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults_for_a_new_tenant);
    tcase_add_test(tc, mask_updates_only_named_fields);
    tcase_add_test(tc, empty_mask_updates_set_fields);
    tcase_add_test(tc, invalid_updates_name_the_field_and_change_nothing);
    tcase_add_test(tc, validate_defaults_pass);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(settings_suite)
