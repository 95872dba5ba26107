/* test_settings_snap.c — fb_settings_acquire: the shared snapshots hot
 * paths read (the alert rules at every ingest). Checked in a real store:
 * a snapshot equals what fb_settings_get returns, is reused while the
 * record is unchanged, follows every change however it was written
 * (update, a raw write as another process would do, a write op rolled
 * back), stays valid while held after an update, keeps tenants sharing a
 * cache slot apart, and survives concurrent readers and an updater. */
#include <pthread.h>

#include "fbtest.h"
#include "settings.h"

typedef struct env {
    fb_store *st;
    fb_settings *set;
} env;

static void env_open(env *e)
{
    fb_store_opts o = {.no_sync = 1};
    fb_err err = {0};
    ck_assert_msg(fb_store_open(&e->st, fb_test_tmpdir("settings-snap"), &o, &err) == FB_OK, "%s", err.msg);
    ck_assert_msg(fb_settings_open(&e->set, e->st, &err) == FB_OK, "%s", err.msg);
}

static void env_close(env *e)
{
    fb_settings_close(e->set);
    fb_store_close(e->st);
}

static fb_settings_snap *acquire(env *e, MDB_txn *txn, uint32_t tenant)
{
    fb_settings_snap *sn = NULL;
    fb_err err = {0};
    ck_assert_msg(fb_settings_acquire(e->set, txn, tenant, &sn, &err) == FB_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(sn);
    return sn;
}

/* The snapshot's message packs to the same bytes as fb_settings_get's. */
static void assert_same_as_get(env *e, const fb_settings_snap *sn, uint32_t tenant)
{
    Feedback__V1__Settings *g = NULL;
    fb_err err = {0};
    ck_assert_msg(fb_settings_get(e->set, NULL, tenant, &g, &err) == FB_OK, "%s", err.msg);
    const Feedback__V1__Settings *m = fb_settings_snap_msg(sn);
    size_t a = feedback__v1__settings__get_packed_size(g), b = feedback__v1__settings__get_packed_size(m);
    ck_assert_uint_eq(a, b);
    uint8_t *pa = malloc(a + 1), *pb = malloc(b + 1);
    feedback__v1__settings__pack(g, pa);
    feedback__v1__settings__pack(m, pb);
    ck_assert(memcmp(pa, pb, a) == 0);
    free(pa);
    free(pb);
    feedback__v1__settings__free_unpacked(g, NULL);
}

static void set_min_sample(env *e, uint32_t tenant, uint32_t v)
{
    Feedback__V1__Settings s = FEEDBACK__V1__SETTINGS__INIT;
    s.min_sample = v;
    char *mask[] = {"min_sample"};
    Feedback__V1__UpdateSettingsRequest req = FEEDBACK__V1__UPDATE_SETTINGS_REQUEST__INIT;
    req.settings = &s;
    req.update_mask = mask;
    req.n_update_mask = 1;
    fb_err err = {0};
    ck_assert_msg(fb_settings_update(e->set, tenant, &req, NULL, &err) == FB_OK, "%s", err.msg);
}

START_TEST(defaults_then_reuse)
{
    env e;
    env_open(&e);
    fb_settings_snap *a = acquire(&e, NULL, 7);
    ck_assert_str_eq(fb_settings_snap_msg(a)->timezone, "UTC");
    ck_assert_uint_eq(fb_settings_snap_msg(a)->min_sample, 30);
    ck_assert_ptr_nonnull(fb_settings_snap_msg(a)->alert_rules->quiet_hours);
    assert_same_as_get(&e, a, 7);
    fb_settings_snap *b = acquire(&e, NULL, 7);
    ck_assert_ptr_eq(a, b); /* unchanged record: the cached snapshot */
    fb_settings_release(a);
    fb_settings_release(b);
    fb_settings_release(NULL);
    env_close(&e);
}
END_TEST

START_TEST(update_gives_new_snapshot_old_stays_valid)
{
    env e;
    env_open(&e);
    fb_settings_snap *old = acquire(&e, NULL, 3);
    set_min_sample(&e, 3, 77);
    fb_settings_snap *now = acquire(&e, NULL, 3);
    ck_assert_ptr_ne(old, now);
    ck_assert_uint_eq(fb_settings_snap_msg(now)->min_sample, 77);
    assert_same_as_get(&e, now, 3);
    /* the held one still reads (ASan would catch a use after free) */
    ck_assert_uint_eq(fb_settings_snap_msg(old)->min_sample, 30);
    ck_assert_uint_eq(fb_settings_snap_msg(old)->alert_rules->n_keywords, 10);
    fb_settings_release(old);
    fb_settings_snap *again = acquire(&e, NULL, 3);
    ck_assert_ptr_eq(again, now);
    fb_settings_release(again);
    fb_settings_release(now);
    env_close(&e);
}
END_TEST

/* A write op: store raw bytes as the record (what another process could
 * do), acquire inside the op, and fail the op when asked. */
typedef struct raw_op {
    env *e;
    uint32_t tenant;
    uint32_t min_sample;
    int fail;
    MDB_dbi dbi;     /* the "settings" table (opened before the op) */
    uint32_t seen;   /* min_sample acquired inside the op */
} raw_op;

static int raw_write(fb_txn *txn, void *arg, fb_err *err)
{
    raw_op *op = arg;
    Feedback__V1__Settings s = FEEDBACK__V1__SETTINGS__INIT;
    s.timezone = "UTC";
    s.default_language = "en";
    s.min_sample = op->min_sample; /* no alert_rules: filled from the defaults on read */
    uint8_t buf[256];
    size_t n = feedback__v1__settings__pack(&s, buf);
    unsigned char kb[4];
    fb_put_be32(kb, op->tenant);
    MDB_val k = {4, kb}, v = {n, buf};
    int rc = mdb_put(fb_txn_mdb(txn), op->dbi, &k, &v, 0);
    if (rc) return fb_txn_mdb_err(txn, rc, "test put", err);
    fb_settings_snap *sn = acquire(op->e, fb_txn_mdb(txn), op->tenant);
    op->seen = fb_settings_snap_msg(sn)->min_sample;
    ck_assert_ptr_nonnull(fb_settings_snap_msg(sn)->alert_rules);
    fb_settings_release(sn);
    return op->fail ? fb_err_set(err, FB_INVALID, "test: rolled back on purpose") : FB_OK;
}

START_TEST(follows_raw_writes_and_rollbacks)
{
    env e;
    env_open(&e);
    fb_settings_snap *sn = acquire(&e, NULL, 9);
    fb_settings_release(sn);
    fb_err err = {0};
    MDB_dbi dbi;
    ck_assert_msg(fb_store_dbi(e.st, "settings", &dbi, &err) == FB_OK, "%s", err.msg);
    raw_op op = {&e, 9, 123, 0, dbi, 0};
    ck_assert_int_eq(fb_store_write(e.st, raw_write, &op, &err), FB_OK);
    ck_assert_uint_eq(op.seen, 123);
    sn = acquire(&e, NULL, 9);
    ck_assert_uint_eq(fb_settings_snap_msg(sn)->min_sample, 123);
    assert_same_as_get(&e, sn, 9);
    fb_settings_release(sn);
    /* seen inside a write op that is then rolled back: the cache must not keep it */
    raw_op bad = {&e, 9, 456, 1, dbi, 0};
    ck_assert_int_eq(fb_store_write(e.st, raw_write, &bad, &err), FB_INVALID);
    ck_assert_uint_eq(bad.seen, 456);
    sn = acquire(&e, NULL, 9);
    ck_assert_uint_eq(fb_settings_snap_msg(sn)->min_sample, 123);
    fb_settings_release(sn);
    env_close(&e);
}
END_TEST

START_TEST(tenants_sharing_slots_stay_apart)
{
    env e;
    env_open(&e);
    for (uint32_t t = 1; t <= 40; t++) set_min_sample(&e, t, 100 + t);
    for (int round = 0; round < 3; round++)
        for (uint32_t t = 1; t <= 1000; t++) {
            fb_settings_snap *sn = acquire(&e, NULL, t);
            ck_assert_uint_eq(fb_settings_snap_msg(sn)->min_sample, t <= 40 ? 100 + t : 30);
            fb_settings_release(sn);
        }
    env_close(&e);
}
END_TEST

typedef struct reader_arg {
    env *e;
    int bad;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *ra = p;
    for (int i = 0; i < 3000; i++) {
        fb_settings_snap *sn = NULL;
        if (fb_settings_acquire(ra->e->set, NULL, 5, &sn, NULL) != FB_OK) { ra->bad++; continue; }
        uint32_t m = fb_settings_snap_msg(sn)->min_sample;
        if (m != 30 && (m < 1000 || m >= 1100)) ra->bad++;
        fb_settings_release(sn);
    }
    return NULL;
}

START_TEST(concurrent_readers_and_updates)
{
    env e;
    env_open(&e);
    pthread_t th[4];
    reader_arg ra[4];
    for (int i = 0; i < 4; i++) {
        ra[i] = (reader_arg){&e, 0};
        pthread_create(&th[i], NULL, reader, &ra[i]);
    }
    for (uint32_t v = 1000; v < 1040; v++) set_min_sample(&e, 5, v);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(ra[i].bad, 0);
    }
    fb_settings_snap *sn = acquire(&e, NULL, 5);
    ck_assert_uint_eq(fb_settings_snap_msg(sn)->min_sample, 1039);
    fb_settings_release(sn);
    env_close(&e);
}
END_TEST

static Suite *settings_snap_suite(void)
{
    Suite *s = suite_create("settings_snap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, defaults_then_reuse);
    tcase_add_test(tc, update_gives_new_snapshot_old_stays_valid);
    tcase_add_test(tc, follows_raw_writes_and_rollbacks);
    tcase_add_test(tc, tenants_sharing_slots_stay_apart);
    tcase_add_test(tc, concurrent_readers_and_updates);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(settings_snap_suite)
