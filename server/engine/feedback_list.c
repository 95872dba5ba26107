/* feedback_list.c — ListFeedback: newest first, filtered, paged.
 *
 * Walks the time index (tenant | submitted_at_ms | id, see feedback.c)
 * backwards from min(to_ms, the page token) down to from_ms, loads each
 * record and keeps those matching every filter. The range is the index's
 * own order, so a narrow range costs a narrow walk; the other filters are
 * checked on the record. A page stops after page_size matches, or after
 * FB_LIST_MAX_SCAN records that did not match (so one call's cost is
 * bounded even for a filter that matches nothing), or once the page is
 * FB_LIST_MAX_BYTES big (500 long comments would exceed the 1 MiB message
 * limit of most clients); in every case the token is
 * the last index key looked at, and the next page resumes just below it.
 *
 * Page token: "f1" + hex(submitted_at_ms(8) | id(26)). The tenant is not in
 * the token: the walk always uses the caller's tenant, so a token cannot
 * reach another tenant's data. Anything else is INVALID_ARGUMENT.
 */
#include "feedback.h"
#include "feedback_keys.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TOKEN_BYTES = 8 + FB_ID_LEN, TOKEN_CHARS = 2 + 2 * TOKEN_BYTES };

static void token_encode(const unsigned char *time_key, char out[TOKEN_CHARS + 1])
{
    static const char hex[] = "0123456789abcdef";
    out[0] = 'f';
    out[1] = '1';
    for (int i = 0; i < TOKEN_BYTES; i++) {
        out[2 + 2 * i] = hex[time_key[4 + i] >> 4];
        out[3 + 2 * i] = hex[time_key[4 + i] & 15];
    }
    out[TOKEN_CHARS] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Fills key (FB_TIME_KEY_LEN bytes) from a token. Errors: FB_INVALID. */
static int token_decode(const char *tok, uint32_t tenant, unsigned char *key, fb_err *err)
{
    if (strlen(tok) != TOKEN_CHARS || tok[0] != 'f' || tok[1] != '1')
        return fb_err_set(err, FB_INVALID, "page_token: not a token from a previous page");
    fb_put_be32(key, tenant);
    for (int i = 0; i < TOKEN_BYTES; i++) {
        int hi = hexval(tok[2 + 2 * i]), lo = hexval(tok[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return fb_err_set(err, FB_INVALID, "page_token: not a token from a previous page");
        key[4 + i] = (unsigned char)(hi << 4 | lo);
    }
    if (key[4] & 0x80 || !fb_feedback_id_valid((const char *)key + 12, FB_ID_LEN))
        return fb_err_set(err, FB_INVALID, "page_token: not a token from a previous page");
    return FB_OK;
}

static const char *tag_value(const Feedback__V1__Feedback *rec, const char *key)
{
    for (size_t i = 0; i < rec->n_tags; i++)
        if (strcmp(rec->tags[i]->key, key) == 0) return rec->tags[i]->value;
    return NULL;
}

static bool matches(const Feedback__V1__Feedback *rec, const Feedback__V1__ListQuery *q)
{
    if (*q->survey_id && strcmp(rec->survey_id, q->survey_id) != 0) return false;
    if (q->category && rec->category != q->category) return false;
    if (q->label && (!rec->sentiment || rec->sentiment->label != q->label)) return false;
    if (*q->channel && strcmp(rec->channel, q->channel) != 0) return false;
    if (q->kind && rec->kind != q->kind) return false;
    if (*q->respondent_id && strcmp(rec->respondent_id, q->respondent_id) != 0) return false;
    for (size_t i = 0; i < q->n_tags; i++) {
        const char *v = tag_value(rec, q->tags[i]->key);
        if (!v || strcmp(v, q->tags[i]->value) != 0) return false;
    }
    return true;
}

static bool in_range(const MDB_val *key, uint32_t tenant, int64_t from_ms)
{
    if (key->mv_size != FB_TIME_KEY_LEN || fb_get_be32(key->mv_data) != tenant) return false;
    return (int64_t)fb_get_be64((const unsigned char *)key->mv_data + 4) >= from_ms;
}

typedef struct list_state {
    MDB_txn *t;
    MDB_cursor *cur;
    Feedback__V1__FeedbackPage *page;
    size_t cap;
    size_t bytes;               /* packed size of the page so far */
} list_state;

static int append(list_state *s, Feedback__V1__Feedback *rec, fb_err *err)
{
    Feedback__V1__FeedbackPage *p = s->page;
    if (p->n_items == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        void *np = realloc(p->items, cap * sizeof *p->items);
        if (!np) return fb_err_set(err, FB_INTERNAL, "feedback list: out of memory");
        p->items = np;
        s->cap = cap;
    }
    p->items[p->n_items++] = rec;
    return FB_OK;
}

/* The walk itself; on return *token_key holds the resume key when
 * *has_more. */
static int walk(fb_feedback *fb, list_state *s, uint32_t tenant, const Feedback__V1__ListQuery *q,
                const unsigned char *bound, size_t bound_len, uint32_t page_size,
                unsigned char *token_key, bool *has_more, fb_err *err)
{
    MDB_dbi records = fb_feedback_dbi_records(fb);
    MDB_val key = {bound_len, (void *)bound}, val;
    int mrc = mdb_cursor_get(s->cur, &key, &val, MDB_SET_RANGE);
    mrc = mrc == 0 ? mdb_cursor_get(s->cur, &key, &val, MDB_PREV)
                   : mdb_cursor_get(s->cur, &key, &val, MDB_LAST);
    size_t misses = 0;
    *has_more = false;
    while (mrc == 0 && in_range(&key, tenant, q->from_ms)) {
        unsigned char rk[4 + FB_ID_LEN];
        memcpy(rk, key.mv_data, 4);
        memcpy(rk + 4, (const unsigned char *)key.mv_data + 12, FB_ID_LEN);
        MDB_val rkey = {sizeof rk, rk}, rval;
        int grc = mdb_get(s->t, records, &rkey, &rval);
        Feedback__V1__Feedback *rec = NULL;
        if (grc == 0) rec = feedback__v1__feedback__unpack(NULL, rval.mv_size, rval.mv_data);
        else if (grc != MDB_NOTFOUND) return fb_feedback_mdb_err(grc, "feedback list", err);
        if (rec && matches(rec, q)) {
            int rc = append(s, rec, err);
            if (rc) { feedback__v1__feedback__free_unpacked(rec, NULL); return rc; }
            s->bytes += feedback__v1__feedback__get_packed_size(rec) + 4;
            if (s->page->n_items == page_size || s->bytes >= FB_LIST_MAX_BYTES) {
                memcpy(token_key, key.mv_data, FB_TIME_KEY_LEN);
                mrc = mdb_cursor_get(s->cur, &key, &val, MDB_PREV);
                *has_more = mrc == 0 && in_range(&key, tenant, q->from_ms);
                return FB_OK;
            }
        } else {
            if (rec) feedback__v1__feedback__free_unpacked(rec, NULL);
            if (++misses >= FB_LIST_MAX_SCAN) {
                memcpy(token_key, key.mv_data, FB_TIME_KEY_LEN);
                *has_more = true;
                return FB_OK;
            }
        }
        mrc = mdb_cursor_get(s->cur, &key, &val, MDB_PREV);
    }
    if (mrc && mrc != MDB_NOTFOUND) return fb_feedback_mdb_err(mrc, "feedback list", err);
    return FB_OK;
}

int fb_feedback_list(fb_feedback *fb, uint32_t tenant_id, const Feedback__V1__ListQuery *q,
                     Feedback__V1__FeedbackPage **out, fb_err *err)
{
    uint32_t page_size = q->page_size ? q->page_size : FB_LIST_DEFAULT;
    if (page_size > FB_LIST_MAX) page_size = FB_LIST_MAX;

    /* upper bound: tenant | to_ms (exclusive), or past every time */
    unsigned char bound[FB_TIME_KEY_LEN];
    size_t bound_len = 12;
    fb_put_be32(bound, tenant_id);
    fb_put_be64(bound + 4, q->to_ms > 0 ? (uint64_t)q->to_ms : UINT64_MAX);
    if (q->page_token && *q->page_token) {
        unsigned char tk[FB_TIME_KEY_LEN];
        int rc = token_decode(q->page_token, tenant_id, tk, err);
        if (rc) return rc;
        if (memcmp(tk, bound, 12) < 0) {
            memcpy(bound, tk, FB_TIME_KEY_LEN);
            bound_len = FB_TIME_KEY_LEN;
        }
    }

    Feedback__V1__FeedbackPage *page = malloc(sizeof *page);
    if (!page) return fb_err_set(err, FB_INTERNAL, "feedback list: out of memory");
    feedback__v1__feedback_page__init(page);
    list_state s = {.page = page};
    int rc = fb_store_read_begin(fb_feedback_store(fb), &s.t, err);
    if (rc) { free(page); return rc; }
    int mrc = mdb_cursor_open(s.t, fb_feedback_dbi_time(fb), &s.cur);
    if (mrc) {
        fb_store_read_end(fb_feedback_store(fb), s.t);
        free(page);
        return fb_feedback_mdb_err(mrc, "feedback list", err);
    }
    unsigned char token_key[FB_TIME_KEY_LEN];
    bool more = false;
    rc = walk(fb, &s, tenant_id, q, bound, bound_len, page_size, token_key, &more, err);
    mdb_cursor_close(s.cur);
    fb_store_read_end(fb_feedback_store(fb), s.t);
    if (rc == FB_OK && more) {
        char *tok = malloc(TOKEN_CHARS + 1);
        if (!tok) rc = fb_err_set(err, FB_INTERNAL, "feedback list: out of memory");
        else {
            token_encode(token_key, tok);
            page->next_page_token = tok;
        }
    }
    if (rc) {
        feedback__v1__feedback_page__free_unpacked(page, NULL);
        return rc;
    }
    *out = page;
    return FB_OK;
}
