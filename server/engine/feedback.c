/* feedback.c — stored feedback: records, indexes, idempotency, erasure.
 *
 * Key layout (every key starts with the tenant's 4-byte big-endian id, so a
 * cursor never leaves its tenant):
 *
 *   feedback          tenant | id(26)                          -> packed feedback.v1.Feedback
 *   feedback_time     tenant | submitted_at_ms(be64) | id(26)  -> ""   (ListFeedback, newest first)
 *   feedback_resp     tenant | respondent_id | 0x00 | id(26)   -> ""   (erasure)
 *   feedback_idem     tenant | 'i' | sha256(idempotency_key)   -> id(26) | payload sha256(32)
 *                     tenant | 'n' | sha256(source 0x00 external_id)   (reviews' natural key)
 *
 * Why a time index: ids sort by receive time, but people ask for ranges of
 * submitted time (imports carry old dates), and trends bucket by it; the
 * index makes a range a contiguous cursor walk, newest first.
 *
 * Idempotency: the idem table maps a key to the first record and the hash
 * of its canonical payload. A retry with the same payload finds the entry
 * and gets the stored record back (duplicate); another payload is
 * FB_EXISTS. Both entries live in LMDB, so they survive restarts, and since
 * every put runs on the single writer thread, two concurrent requests with
 * one key cannot both insert: the second sees the first's entry in the
 * same batch.
 *
 * Ids (ids.h: 26 chars, 48-bit ms + 80 bits, monotonic) are taken on the
 * writer thread, so they sort by commit order.
 */
#include "feedback.h"
#include "feedback_keys.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

struct fb_feedback {
    fb_store *st;
    MDB_dbi records, by_time, by_resp, idem;
    struct { fb_feedback_hook fn; void *ctx; } hooks[FB_FEEDBACK_MAX_HOOKS];
    int n_hooks;
};

/* ---- open / close ------------------------------------------------------ */

int fb_feedback_open(fb_feedback **out, fb_store *st, fb_err *err)
{
    fb_feedback *fb = calloc(1, sizeof *fb);
    if (!fb) return fb_err_set(err, FB_INTERNAL, "feedback: out of memory");
    fb->st = st;
    int rc;
    if ((rc = fb_store_dbi(st, "feedback", &fb->records, err)) ||
        (rc = fb_store_dbi(st, "feedback_time", &fb->by_time, err)) ||
        (rc = fb_store_dbi(st, "feedback_resp", &fb->by_resp, err)) ||
        (rc = fb_store_dbi(st, "feedback_idem", &fb->idem, err))) {
        free(fb);
        return rc;
    }
    *out = fb;
    return FB_OK;
}

void fb_feedback_close(fb_feedback *fb) { free(fb); }

fb_store *fb_feedback_store(fb_feedback *fb) { return fb->st; }

MDB_dbi fb_feedback_dbi_records(const fb_feedback *fb) { return fb->records; }
MDB_dbi fb_feedback_dbi_time(const fb_feedback *fb) { return fb->by_time; }

int fb_feedback_add_hook(fb_feedback *fb, fb_feedback_hook fn, void *ctx, fb_err *err)
{
    if (fb->n_hooks == FB_FEEDBACK_MAX_HOOKS)
        return fb_err_set(err, FB_EXHAUSTED, "feedback: at most %d hooks", FB_FEEDBACK_MAX_HOOKS);
    fb->hooks[fb->n_hooks].fn = fn;
    fb->hooks[fb->n_hooks].ctx = ctx;
    fb->n_hooks++;
    return FB_OK;
}

/* ---- helpers ----------------------------------------------------------- */

int fb_feedback_mdb_err(int mrc, const char *what, fb_err *err)
{
    return fb_store_mdb_err(mrc, what, err);
}

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int fb_feedback_id_valid(const char *id, size_t len)
{
    if (len != FB_ID_LEN) return 0;
    for (size_t i = 0; i < len; i++)
        if (!id[i] || !strchr(crockford, id[i])) return 0;
    return 1;
}

/* ---- canonical payload hash --------------------------------------------- */

typedef struct canon { EVP_MD_CTX *sha; } canon;

static void canon_bytes(canon *c, unsigned char tag, const void *p, size_t len)
{
    unsigned char hdr[5];
    hdr[0] = tag;
    fb_put_be32(hdr + 1, (uint32_t)len);
    EVP_DigestUpdate(c->sha, hdr, sizeof hdr);
    if (len) EVP_DigestUpdate(c->sha, p, len);
}

static void canon_str(canon *c, unsigned char tag, const char *s)
{
    canon_bytes(c, tag, s ? s : "", s ? strlen(s) : 0);
}

static void canon_int(canon *c, unsigned char tag, int64_t v)
{
    unsigned char b[8];
    fb_put_be64(b, (uint64_t)v);
    canon_bytes(c, tag, b, sizeof b);
}

static int cmp_tag_entry(const void *a, const void *b)
{
    const Feedback__V1__Feedback__TagsEntry *x = *(Feedback__V1__Feedback__TagsEntry *const *)a;
    const Feedback__V1__Feedback__TagsEntry *y = *(Feedback__V1__Feedback__TagsEntry *const *)b;
    return strcmp(x->key, y->key);
}

void fb_feedback_sort_tags(Feedback__V1__Feedback *rec)
{
    if (rec->n_tags > 1) qsort(rec->tags, rec->n_tags, sizeof *rec->tags, cmp_tag_entry);
}

void fb_feedback_payload_hash(const Feedback__V1__Feedback *rec, unsigned char out[32])
{
    canon c = {EVP_MD_CTX_new()};
    Feedback__V1__Feedback__TagsEntry **sorted =
        rec->n_tags ? malloc(rec->n_tags * sizeof *sorted) : NULL;
    if (!c.sha || (rec->n_tags && !sorted)) {
        /* out of memory: a hash no request can match, so a retry conflicts
         * rather than silently passing as a duplicate */
        memset(out, 0xff, 32);
        EVP_MD_CTX_free(c.sha);
        free(sorted);
        return;
    }
    EVP_DigestInit_ex(c.sha, EVP_sha256(), NULL);
    canon_bytes(&c, 0, "feedback.v1/payload/1", 21); /* version of this serialisation */
    canon_int(&c, 1, rec->kind);
    canon_str(&c, 2, rec->survey_id);
    canon_int(&c, 3, rec->score);
    canon_int(&c, 4, rec->rating);
    canon_str(&c, 5, rec->source);
    canon_str(&c, 6, rec->external_id);
    canon_str(&c, 7, rec->title);
    canon_str(&c, 8, rec->comment);
    canon_str(&c, 9, rec->text);
    canon_str(&c, 10, rec->respondent_id);
    canon_str(&c, 11, rec->channel);
    /* tags in key order, whatever order the client sent them in */
    size_t n = rec->n_tags;
    if (n) memcpy(sorted, rec->tags, n * sizeof *sorted);
    if (n > 1) qsort(sorted, n, sizeof *sorted, cmp_tag_entry);
    canon_int(&c, 12, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        canon_str(&c, 13, sorted[i]->key);
        canon_str(&c, 14, sorted[i]->value);
    }
    canon_int(&c, 15, rec->submitted_at_ms);
    canon_str(&c, 16, rec->language);
    EVP_DigestFinal_ex(c.sha, out, NULL);
    EVP_MD_CTX_free(c.sha);
    free(sorted);
}

/* ---- keys ---------------------------------------------------------------- */

size_t fb_feedback_time_key(unsigned char *k, uint32_t tenant, int64_t ms, const char *id)
{
    fb_put_be32(k, tenant);
    fb_put_be64(k + 4, (uint64_t)ms);
    memcpy(k + 12, id, FB_ID_LEN);
    return FB_TIME_KEY_LEN;
}

static size_t record_key(unsigned char *k, uint32_t tenant, const char *id)
{
    fb_put_be32(k, tenant);
    memcpy(k + 4, id, FB_ID_LEN);
    return 4 + FB_ID_LEN;
}

static size_t resp_key(unsigned char *k, uint32_t tenant, const char *rid, const char *id)
{
    size_t n = strlen(rid);
    fb_put_be32(k, tenant);
    memcpy(k + 4, rid, n);
    k[4 + n] = 0;
    if (id) memcpy(k + 5 + n, id, FB_ID_LEN);
    return 5 + n + (id ? FB_ID_LEN : 0);
}

/* tenant | kind | sha256(a [0x00 b]) */
static size_t idem_key(unsigned char *k, uint32_t tenant, char kind, const char *a, const char *b)
{
    char buf[2 * 256 + 2];
    size_t la = strnlen(a, 256), lb = b ? strnlen(b, 256) : 0;
    memcpy(buf, a, la);
    if (b) {
        buf[la] = '\0';
        memcpy(buf + la + 1, b, lb);
    }
    fb_put_be32(k, tenant);
    k[4] = (unsigned char)kind;
    SHA256((const unsigned char *)buf, la + (b ? 1 + lb : 0), k + 5);
    return 5 + 32;
}

/* The idempotency keys of a record: 0, 1 or 2 of them. */
static bool has_client_key(const Feedback__V1__Feedback *rec)
{
    return rec->idempotency_key && *rec->idempotency_key;
}

static bool has_natural_key(const Feedback__V1__Feedback *rec)
{
    return rec->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW && rec->source && *rec->source &&
           rec->external_id && *rec->external_id;
}

bool fb_feedback_has_idem_key(const Feedback__V1__Feedback *rec)
{
    return has_client_key(rec) || has_natural_key(rec);
}

static int record_idem_keys(const Feedback__V1__Feedback *rec, uint32_t tenant,
                            unsigned char keys[2][37])
{
    int n = 0;
    if (has_client_key(rec))
        idem_key(keys[n++], tenant, 'i', rec->idempotency_key, NULL);
    if (has_natural_key(rec))
        idem_key(keys[n++], tenant, 'n', rec->source, rec->external_id);
    return n;
}

/* ---- put ----------------------------------------------------------------- */

static int unpack_record(const MDB_val *v, Feedback__V1__Feedback **out, fb_err *err)
{
    *out = feedback__v1__feedback__unpack(NULL, v->mv_size, v->mv_data);
    if (!*out) return fb_err_set(err, FB_INTERNAL, "feedback: stored record does not decode");
    return FB_OK;
}

static int get_record(MDB_txn *t, fb_feedback *fb, uint32_t tenant, const char *id,
                      Feedback__V1__Feedback **out, fb_err *err)
{
    unsigned char k[4 + FB_ID_LEN];
    MDB_val key = {record_key(k, tenant, id), k}, val;
    int mrc = mdb_get(t, fb->records, &key, &val);
    if (mrc == MDB_NOTFOUND) return fb_err_set(err, FB_NOT_FOUND, "feedback: no record %.26s", id);
    if (mrc) return fb_feedback_mdb_err(mrc, "feedback get", err);
    return unpack_record(&val, out, err);
}

/* Looks up the request's idempotency entries. FB_OK with put->duplicate set
 * (and existing filled) for a retry, FB_OK with nothing set for a new
 * request, FB_EXISTS for a key bound to another payload. */
static int check_idempotency(fb_feedback *fb, MDB_txn *t, fb_feedback_put *put,
                             unsigned char keys[2][37], int n_keys, fb_err *err)
{
    for (int i = 0; i < n_keys; i++) {
        MDB_val key = {37, keys[i]}, val;
        int mrc = mdb_get(t, fb->idem, &key, &val);
        if (mrc == MDB_NOTFOUND) continue;
        if (mrc) return fb_feedback_mdb_err(mrc, "feedback idempotency", err);
        if (val.mv_size != FB_ID_LEN + 32) return fb_err_set(err, FB_INTERNAL, "feedback: bad idempotency entry");
        const char *field = keys[i][4] == 'i' ? "idempotency_key" : "external_id";
        if (memcmp((char *)val.mv_data + FB_ID_LEN, put->payload_hash, 32) != 0)
            return fb_err_set(err, FB_EXISTS, "%s: already used for a different request", field);
        char id[FB_ID_LEN + 1];
        memcpy(id, val.mv_data, FB_ID_LEN);
        id[FB_ID_LEN] = '\0';
        int rc = get_record(t, fb, put->tenant_id, id, &put->existing, err);
        if (rc == FB_NOT_FOUND) continue; /* erased since: treat as new */
        if (rc) return rc;
        put->duplicate = true;
        return FB_OK;
    }
    return FB_OK;
}

static int run_hooks(fb_feedback *fb, fb_txn *txn, const fb_feedback_event *ev, fb_err *err)
{
    for (int i = 0; i < fb->n_hooks; i++) {
        int h = ev->sign > 0 ? i : fb->n_hooks - 1 - i;
        int rc = fb->hooks[h].fn(txn, ev, fb->hooks[h].ctx, err);
        if (rc) return rc;
    }
    return FB_OK;
}

static int put_empty(fb_txn *txn, MDB_dbi dbi, const unsigned char *k, size_t klen, const char *what,
                     fb_err *err)
{
    MDB_val key = {klen, (void *)k}, val = {0, (void *)""};
    int mrc = mdb_put(fb_txn_mdb(txn), dbi, &key, &val, 0);
    return mrc ? fb_txn_mdb_err(txn, mrc, what, err) : FB_OK;
}

int fb_feedback_put_txn(fb_feedback *fb, fb_txn *txn, fb_feedback_put *put, fb_err *err)
{
    MDB_txn *t = fb_txn_mdb(txn);
    Feedback__V1__Feedback *rec = put->rec;
    unsigned char keys[2][37];
    int n_keys = record_idem_keys(rec, put->tenant_id, keys);
    /* the store may run an op again (e.g. after growing the map): start clean */
    put->duplicate = false;
    if (put->existing) feedback__v1__feedback__free_unpacked(put->existing, NULL);
    put->existing = NULL;
    for (size_t i = 0; i < rec->n_alert_ids; i++) free(rec->alert_ids[i]);
    free(rec->alert_ids);
    rec->alert_ids = NULL;
    rec->n_alert_ids = 0;
    int rc = check_idempotency(fb, t, put, keys, n_keys, err);
    if (rc || put->duplicate) return rc;

    int64_t now = fb_now_ms();
    char id[FB_ID_LEN + 1];
    fb_id_next(fb_store_ids(fb->st), now, id);
    if (rec->id && rec->id != (char *)protobuf_c_empty_string) free(rec->id);
    if (!(rec->id = strdup(id))) return fb_err_set(err, FB_INTERNAL, "feedback: out of memory");
    rec->received_ms = now;
    if (!rec->submitted_at_ms) rec->submitted_at_ms = now;

    fb_feedback_event ev = {.tenant_id = put->tenant_id, .fb = rec, .sign = +1,
                            .terms = put->terms, .n_terms = put->n_terms, .now_ms = now};
    if ((rc = run_hooks(fb, txn, &ev, err))) return rc;

    size_t size = feedback__v1__feedback__get_packed_size(rec);
    MDB_val key, val = {size, NULL};
    unsigned char k[FB_RESP_KEY_MAX];
    key.mv_size = record_key(k, put->tenant_id, id);
    key.mv_data = k;
    int mrc = mdb_put(t, fb->records, &key, &val, MDB_RESERVE | MDB_NOOVERWRITE);
    if (mrc) return fb_txn_mdb_err(txn, mrc, "feedback put", err);
    feedback__v1__feedback__pack(rec, val.mv_data);

    if ((rc = put_empty(txn, fb->by_time, k, fb_feedback_time_key(k, put->tenant_id, rec->submitted_at_ms, id),
                        "feedback time index", err)))
        return rc;
    if (rec->respondent_id && *rec->respondent_id &&
        (rc = put_empty(txn, fb->by_resp, k, resp_key(k, put->tenant_id, rec->respondent_id, id),
                        "feedback respondent index", err)))
        return rc;
    unsigned char entry[FB_ID_LEN + 32];
    memcpy(entry, id, FB_ID_LEN);
    memcpy(entry + FB_ID_LEN, put->payload_hash, 32);
    for (int i = 0; i < n_keys; i++) {
        MDB_val ik = {37, keys[i]}, iv = {sizeof entry, entry};
        if ((mrc = mdb_put(t, fb->idem, &ik, &iv, 0)))
            return fb_txn_mdb_err(txn, mrc, "feedback idempotency put", err);
    }
    return FB_OK;
}

/* ---- get / count ---------------------------------------------------------- */

int fb_feedback_get(fb_feedback *fb, uint32_t tenant_id, const char *id,
                    Feedback__V1__Feedback **out, fb_err *err)
{
    if (!id || !fb_feedback_id_valid(id, strlen(id)))
        return fb_err_set(err, FB_NOT_FOUND, "feedback: no record with that id");
    MDB_txn *t;
    int rc = fb_store_read_begin(fb->st, &t, err);
    if (rc) return rc;
    rc = get_record(t, fb, tenant_id, id, out, err);
    fb_store_read_end(fb->st, t);
    return rc;
}

int fb_feedback_count(fb_feedback *fb, uint32_t tenant_id, uint64_t *out, fb_err *err)
{
    MDB_txn *t;
    MDB_cursor *cur;
    int rc = fb_store_read_begin(fb->st, &t, err);
    if (rc) return rc;
    *out = 0;
    int mrc = mdb_cursor_open(t, fb->records, &cur);
    if (mrc) {
        fb_store_read_end(fb->st, t);
        return fb_feedback_mdb_err(mrc, "feedback count", err);
    }
    unsigned char k[4];
    fb_put_be32(k, tenant_id);
    MDB_val key = {4, k}, val;
    for (mrc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         mrc == 0 && key.mv_size >= 4 && memcmp(key.mv_data, k, 4) == 0;
         mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
        (*out)++;
    mdb_cursor_close(cur);
    fb_store_read_end(fb->st, t);
    return FB_OK;
}

/* ---- erase ----------------------------------------------------------------- */

char *fb_feedback_text(const Feedback__V1__Feedback *rec, size_t *len)
{
    const char *a = "", *b = "";
    if (rec->kind == FEEDBACK__V1__FEEDBACK_KIND__REVIEW) {
        a = rec->title ? rec->title : "";
        b = rec->text ? rec->text : "";
    } else {
        a = rec->comment ? rec->comment : "";
    }
    size_t la = strlen(a), lb = strlen(b);
    const char *sep = la && lb ? ". " : "";
    size_t n = la + strlen(sep) + lb;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, sep, strlen(sep));
    memcpy(s + la + strlen(sep), b, lb);
    s[n] = '\0';
    if (len) *len = n;
    return s;
}

typedef struct erase_job {
    fb_feedback *fb;
    uint32_t tenant;
    const char *rid;
    const fb_textengine *te;
    fb_erase_summary *summary;
} erase_job;

static int del_key(fb_txn *txn, MDB_dbi dbi, const unsigned char *k, size_t klen, fb_err *err)
{
    MDB_val key = {klen, (void *)k};
    int mrc = mdb_del(fb_txn_mdb(txn), dbi, &key, NULL);
    return mrc && mrc != MDB_NOTFOUND ? fb_txn_mdb_err(txn, mrc, "feedback erase", err) : FB_OK;
}

/* Runs the -1 hooks for one record and deletes it with its index entries. */
static int erase_one(erase_job *j, fb_txn *txn, Feedback__V1__Feedback *rec, fb_err *err)
{
    fb_feedback *fb = j->fb;
    MDB_txn *t = fb_txn_mdb(txn);
    fb_sentiment s = {0};
    bool have_terms = false;
    if (j->te) {
        size_t len;
        char *text = fb_feedback_text(rec, &len);
        if (!text) return fb_err_set(err, FB_INTERNAL, "feedback: out of memory");
        fb_err e2;
        have_terms = fb_sentiment_analyze(j->te, text, len, rec->language, NULL, FB_SENT_TERMS,
                                          &s, &e2) == FB_OK;
        free(text);
    }
    fb_feedback_event ev = {.tenant_id = j->tenant, .fb = rec, .sign = -1,
                            .terms = have_terms ? s.terms : NULL,
                            .n_terms = have_terms ? s.n_terms : 0,
                            .now_ms = fb_now_ms(), .erase = j->summary};
    int rc = run_hooks(fb, txn, &ev, err);
    if (have_terms) fb_sentiment_free(&s);
    if (rc) return rc;

    unsigned char k[FB_RESP_KEY_MAX], keys[2][37];
    if ((rc = del_key(txn, fb->records, k, record_key(k, j->tenant, rec->id), err))) return rc;
    if ((rc = del_key(txn, fb->by_time, k, fb_feedback_time_key(k, j->tenant, rec->submitted_at_ms, rec->id), err)))
        return rc;
    if ((rc = del_key(txn, fb->by_resp, k, resp_key(k, j->tenant, j->rid, rec->id), err))) return rc;
    int n = record_idem_keys(rec, j->tenant, keys);
    for (int i = 0; i < n; i++) {
        MDB_val key = {37, keys[i]}, val;
        if (mdb_get(t, fb->idem, &key, &val) == 0 && val.mv_size >= FB_ID_LEN &&
            memcmp(val.mv_data, rec->id, FB_ID_LEN) == 0 &&
            (rc = del_key(txn, fb->idem, keys[i], 37, err)))
            return rc;
    }
    j->summary->feedback_erased++;
    return FB_OK;
}

static int erase_write(fb_txn *txn, void *arg, fb_err *err)
{
    erase_job *j = arg;
    fb_feedback *fb = j->fb;
    MDB_txn *t = fb_txn_mdb(txn);
    memset(j->summary, 0, sizeof *j->summary); /* the op may run again */
    unsigned char prefix[FB_RESP_KEY_MAX];
    size_t plen = resp_key(prefix, j->tenant, j->rid, NULL);
    /* collect the ids first: the loop below deletes under the cursor */
    size_t n = 0, cap = 0;
    char (*ids)[FB_ID_LEN + 1] = NULL;
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(t, fb->by_resp, &cur);
    if (mrc) return fb_txn_mdb_err(txn, mrc, "feedback erase", err);
    MDB_val key = {plen, prefix}, val;
    for (mrc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         mrc == 0 && key.mv_size == plen + FB_ID_LEN && memcmp(key.mv_data, prefix, plen) == 0;
         mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *p = realloc(ids, cap * sizeof *ids);
            if (!p) { free(ids); mdb_cursor_close(cur); return fb_err_set(err, FB_INTERNAL, "out of memory"); }
            ids = p;
        }
        memcpy(ids[n], (char *)key.mv_data + plen, FB_ID_LEN);
        ids[n++][FB_ID_LEN] = '\0';
    }
    mdb_cursor_close(cur);
    int rc = FB_OK;
    for (size_t i = 0; i < n && rc == FB_OK; i++) {
        Feedback__V1__Feedback *rec;
        rc = get_record(t, fb, j->tenant, ids[i], &rec, err);
        if (rc == FB_NOT_FOUND) { /* stale index entry: drop it */
            rc = del_key(txn, fb->by_resp, prefix, resp_key(prefix, j->tenant, j->rid, ids[i]), err);
            continue;
        }
        if (rc) break;
        rc = erase_one(j, txn, rec, err);
        feedback__v1__feedback__free_unpacked(rec, NULL);
    }
    free(ids);
    return rc;
}

int fb_feedback_erase_respondent(fb_feedback *fb, uint32_t tenant_id, const char *respondent_id,
                                 const fb_textengine *te, fb_erase_summary *summary, fb_err *err)
{
    memset(summary, 0, sizeof *summary);
    if (!respondent_id || !*respondent_id)
        return fb_err_set(err, FB_INVALID, "respondent_id: required");
    if (strlen(respondent_id) > FB_MAX_RESP_ID)
        return fb_err_set(err, FB_INVALID, "respondent_id: at most %d bytes", FB_MAX_RESP_ID);
    erase_job j = {fb, tenant_id, respondent_id, te, summary};
    int rc = fb_store_write(fb->st, erase_write, &j, err);
    if (rc) memset(summary, 0, sizeof *summary);
    return rc;
}
