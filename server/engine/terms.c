/* terms.c — per-day term counters for TopTerms.
 *
 * Table "terms":
 *   key   tenant(4) slen(1) survey segment(as trends.c) kind(1) day(4) rest
 *         kind 's': rest = stem 0x00 surface   value mentions sent_sum neg pos
 *         kind 'a': rest = aspect 0x00 aspect  value (same)
 *         kind 'n': rest = ""                  value feedback count 0 0 0
 *         day = UTC day number + 2^31 (big-endian, so days sort)
 *   values are 4 × int64 BE; sent_sum is the sum of the compound scores of
 *   the feedback mentioning the term, in micro-units (integers keep erasure
 *   exact).
 * Why the surface form is in the key: "a typical surface form" must not
 * depend on arrival order, or an erasure could leave a form only the erased
 * person wrote, and the answers would differ from a server fed only the
 * remaining feedback. Counting per form makes "the most frequent form"
 * exact under erasure.
 * Why UTC days: term ranks need no calendar precision, and UTC days never
 * need rebuilding when the tenant's zone changes. A query reads, per day in
 * the range, every (stem, form) pair used that day: the cost follows the
 * vocabulary, not the feedback count (a day of 10 or 10,000 reviews using
 * the same 2,000 words costs the same). Merging sorts the pairs read.
 */
#include "terms.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trends_int.h"

#define TERMS_NV 4
enum { TM_MENTIONS, TM_SENT, TM_NEG, TM_POS };

static size_t cut_utf8(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return n;
}

static size_t term_key(unsigned char *key, size_t pre, char kind, int64_t day, const char *stem,
                       const char *surface)
{
    size_t n = pre;
    key[n++] = (unsigned char)kind;
    fb_put_be32(key + n, (uint32_t)(day + 2147483648LL));
    n += 4;
    size_t sl = cut_utf8(stem, FB_TERMS_STEM_MAX);
    memcpy(key + n, stem, sl); n += sl;
    if (kind == 'n') return n;
    key[n++] = 0;
    size_t fl = cut_utf8(surface, FB_TERMS_STEM_MAX);
    memcpy(key + n, surface, fl); n += fl;
    return n;
}

/* ---- ingest ----
 * Which records a feedback adds to: each distinct stem once (with the
 * surface of its first occurrence; the text engine already dedupes, this
 * keeps a repeated stem from counting twice if it ever does not), and each
 * aspect once (of a counted stem, not seen on any earlier term). The plan
 * is made once per feedback, sorted in key order, and replayed for every
 * (survey, segment) prefix through one cursor, so most records are found
 * on the leaf page the previous one was on. */

typedef struct term_ref {
    const char *name;       /* stem or aspect: the sort key */
    size_t i;               /* index in ev->terms (ties: first occurrence first) */
    size_t nl, fl;          /* key bytes of name and surface (cut at FB_TERMS_STEM_MAX) */
    const char *surface;
    const unsigned char *suffix; /* the key's end: name 0x00 surface (nl + 1 + fl bytes) */
} term_ref;

/* Feedback with up to PLAN_LOCAL terms (nearly all) plan on the stack. */
enum { PLAN_LOCAL = 64 };

typedef struct term_plan {
    term_ref *stems, *aspects;   /* in key order; in local, or one allocation (heap) */
    size_t n_stems, n_aspects;
    term_ref *heap;
    term_ref local[2 * PLAN_LOCAL];
    unsigned char *suffixes;     /* the refs' key ends: in suffix_local, or allocated */
    unsigned char suffix_local[2048];
} term_plan;

static int cmp_ref(const void *a, const void *b)
{
    const term_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Sorts refs by (name, index) and keeps the first of each name. refs come
 * in index order, so a stable sort by name is enough: insertion sort for the
 * few terms of a comment (qsort's setup cost more than its compares). */
static size_t sort_unique(term_ref *r, size_t n)
{
    if (n > 16) {
        qsort(r, n, sizeof *r, cmp_ref);
    } else {
        for (size_t i = 1; i < n; i++) {
            term_ref x = r[i];
            size_t j = i;
            for (; j > 0 && strcmp(r[j - 1].name, x.name) > 0; j--) r[j] = r[j - 1];
            r[j] = x;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(r[k - 1].name, r[i].name) != 0) r[k++] = r[i];
    return k;
}

/* Writes each ref's key end (name 0x00 surface) once into p->suffixes, so
 * that the (survey, segment) prefixes each copy it with one memcpy. */
static int plan_suffixes(term_plan *p)
{
    size_t total = 0;
    for (size_t i = 0; i < p->n_stems; i++) total += p->stems[i].nl + 1 + p->stems[i].fl;
    for (size_t i = 0; i < p->n_aspects; i++) total += p->aspects[i].nl + 1 + p->aspects[i].fl;
    p->suffixes = total <= sizeof p->suffix_local ? p->suffix_local : malloc(total);
    if (!p->suffixes) return FB_INTERNAL;
    unsigned char *w = p->suffixes;
    term_ref *lists[2] = {p->stems, p->aspects};
    size_t counts[2] = {p->n_stems, p->n_aspects};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            term_ref *r = &lists[l][i];
            r->suffix = w;
            memcpy(w, r->name, r->nl);
            w[r->nl] = 0;
            memcpy(w + r->nl + 1, r->surface, r->fl);
            w += r->nl + 1 + r->fl;
        }
    return FB_OK;
}

static void plan_free(term_plan *p)
{
    free(p->heap);
    if (p->suffixes != p->suffix_local) free(p->suffixes);
}

static int plan_terms(const fb_feedback_event *ev, term_plan *p)
{
    p->stems = p->aspects = p->heap = NULL;
    p->suffixes = p->suffix_local;
    p->n_stems = p->n_aspects = 0;
    if (!ev->n_terms) return FB_OK;
    term_ref *r = p->local;
    if (ev->n_terms > PLAN_LOCAL && !(r = p->heap = malloc(2 * ev->n_terms * sizeof *r))) return FB_INTERNAL;
    p->stems = r;
    p->aspects = r + ev->n_terms;
    /* first occurrences of stems; first occurrences of aspects (any term) */
    size_t ns = 0, na = 0;
    for (size_t i = 0; i < ev->n_terms; i++) {
        const fb_term *t = &ev->terms[i];
        if (t->stem && t->stem[0]) p->stems[ns++] = (term_ref){.name = t->stem, .i = i};
        if (t->aspect) p->aspects[na++] = (term_ref){.name = t->aspect, .i = i};
    }
    ns = sort_unique(p->stems, ns);
    na = sort_unique(p->aspects, na);
    /* an aspect counts when its first term is a counted stem (a first occurrence) */
    unsigned char counted_local[PLAN_LOCAL];
    unsigned char *counted = ev->n_terms <= PLAN_LOCAL ? counted_local : malloc(ev->n_terms);
    if (!counted) { free(p->heap); p->heap = p->stems = p->aspects = NULL; return FB_INTERNAL; }
    memset(counted, 0, ev->n_terms);
    for (size_t i = 0; i < ns; i++) counted[p->stems[i].i] = 1;
    size_t k = 0;
    for (size_t i = 0; i < na; i++)
        if (p->aspects[i].name[0] && counted[p->aspects[i].i]) p->aspects[k++] = p->aspects[i];
    if (counted != counted_local) free(counted);
    p->n_stems = ns, p->n_aspects = k;
    for (size_t i = 0; i < ns; i++) {
        const fb_term *t = &ev->terms[p->stems[i].i];
        p->stems[i].surface = t->surface ? t->surface : t->stem;
        p->stems[i].nl = cut_utf8(p->stems[i].name, FB_TERMS_STEM_MAX);
        p->stems[i].fl = cut_utf8(p->stems[i].surface, FB_TERMS_STEM_MAX);
    }
    for (size_t i = 0; i < k; i++) {
        p->aspects[i].surface = p->aspects[i].name;
        p->aspects[i].nl = p->aspects[i].fl = cut_utf8(p->aspects[i].name, FB_TERMS_STEM_MAX);
    }
    if (plan_suffixes(p) != FB_OK) {
        plan_free(p);
        return FB_INTERNAL;
    }
    return FB_OK;
}

/* key = prefix kind day name 0x00 surface (prefix and kind+day already in key) */
static int add_refs(fb_txn *m, MDB_dbi dbi, unsigned char *key, size_t at, const term_ref *r, size_t n,
                    const int64_t *tv, fb_err *err)
{
    int rc = FB_OK;
    for (size_t i = 0; i < n && rc == FB_OK; i++) {
        size_t sl = r[i].nl + 1 + r[i].fl;
        memcpy(key + at, r[i].suffix, sl);
        rc = fb_txn_add_counts(m, dbi, key, at + sl, tv, TERMS_NV, 1, err);
    }
    return rc;
}

/* The records of one prefix, in key order: 'a' < 'n' < 's'. */
static int apply_prefix(fb_txn *m, MDB_dbi dbi, unsigned char *key, size_t pre, int64_t day,
                        const term_plan *p, int sign, const int64_t *tv, fb_err *err)
{
    int64_t cnt[TERMS_NV] = {sign, 0, 0, 0};
    size_t at = term_key(key, pre, 'a', day, "", "") - 1;  /* prefix 'a' day */
    int rc = add_refs(m, dbi, key, at, p->aspects, p->n_aspects, tv, err);
    if (rc != FB_OK) return rc;
    key[pre] = 'n';
    rc = fb_txn_add_counts(m, dbi, key, at, cnt, TERMS_NV, 1, err);
    if (rc != FB_OK) return rc;
    key[pre] = 's';
    return add_refs(m, dbi, key, at, p->stems, p->n_stems, tv, err);
}

int fb_terms_apply(fb_txn *m, MDB_dbi dbi, const fb_feedback_event *ev, fb_err *err)
{
    const Feedback__V1__Feedback *fb = ev->fb;
    int64_t day = fb_floor_div(fb_feedback_time(fb), FB_DAY_MS);
    int64_t tv[TERMS_NV] = {ev->sign, 0, 0, 0};
    if (fb->sentiment) {
        tv[TM_SENT] = ev->sign * (int64_t)llround(fb->sentiment->compound * 1e6);
        Feedback__V1__Label l = fb->sentiment->label;
        if (l == FEEDBACK__V1__LABEL__NEGATIVE || l == FEEDBACK__V1__LABEL__VERY_NEGATIVE) tv[TM_NEG] = ev->sign;
        if (l == FEEDBACK__V1__LABEL__POSITIVE || l == FEEDBACK__V1__LABEL__VERY_POSITIVE) tv[TM_POS] = ev->sign;
    }
    const char *surveys[2] = {"", fb->survey_id ? fb->survey_id : ""};
    int n_surveys = surveys[1][0] ? 2 : 1;
    fb_seg segs[2 + 64];
    size_t n_segs = fb_seg_of_feedback(fb, segs);
    if (fb->n_tags > 64) n_segs = 2 + 64;
    term_plan plan;
    if (plan_terms(ev, &plan) != FB_OK) return fb_err_set(err, FB_INTERNAL, "terms: out of memory");
    int rc = FB_OK;
    unsigned char key[FB_SEG_PREFIX_MAX + 1 + 4 + 2 * FB_TERMS_STEM_MAX + 2];
    for (int s = 0; s < n_surveys && rc == FB_OK; s++)
        for (size_t g = 0; g < n_segs && rc == FB_OK; g++) {
            size_t pre = fb_seg_prefix(key, ev->tenant_id, 0, surveys[s], &segs[g]);
            rc = apply_prefix(m, dbi, key, pre, day, &plan, ev->sign, tv, err);
        }
    plan_free(&plan);
    return rc;
}

/* ---- query ---- */

typedef struct term_row {
    char *stem, *surface;   /* point into one allocation */
    int64_t v[TERMS_NV];
} term_row;

typedef struct term_out {
    const char *stem, *surface;
    int64_t v[TERMS_NV];
    double score;
} term_out;

static int cmp_row(const void *a, const void *b)
{
    const term_row *x = a, *y = b;
    int c = strcmp(x->stem, y->stem);
    return c ? c : strcmp(x->surface, y->surface);
}

static int cmp_out(const void *a, const void *b)
{
    const term_out *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->v[TM_MENTIONS] != y->v[TM_MENTIONS]) return x->v[TM_MENTIONS] > y->v[TM_MENTIONS] ? -1 : 1;
    return strcmp(x->stem, y->stem);
}

typedef struct row_list { term_row *rows; size_t n, cap; int64_t total; } row_list;

static int push_row(row_list *l, const MDB_val *k, size_t pre, const MDB_val *v)
{
    const char *rest = (const char *)k->mv_data + pre + 5;
    size_t rl = k->mv_size - pre - 5;
    const char *z = memchr(rest, 0, rl);
    if (!z || v->mv_size != TERMS_NV * 8) return FB_OK; /* not a term record: skip */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        term_row *r = realloc(l->rows, cap * sizeof *r);
        if (!r) return FB_INTERNAL;
        l->rows = r;
        l->cap = cap;
    }
    char *s = malloc(rl + 1);
    if (!s) return FB_INTERNAL;
    memcpy(s, rest, rl);
    s[rl] = '\0';
    term_row *row = &l->rows[l->n++];
    row->stem = s;
    row->surface = s + (z - rest) + 1;
    for (int i = 0; i < TERMS_NV; i++) row->v[i] = (int64_t)fb_get_be64((const unsigned char *)v->mv_data + 8 * i);
    return FB_OK;
}

/* Reads kind's records for days [d0, d1) into l (kind 'n': sums the total). */
static int scan_days(MDB_txn *m, MDB_dbi dbi, unsigned char *key, size_t pre, char kind, int64_t d0,
                     int64_t d1, row_list *l, fb_err *err)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(m, dbi, &c);
    if (rc != 0) return fb_err_set(err, FB_INTERNAL, "terms: cursor: %s", mdb_strerror(rc));
    size_t kl = term_key(key, pre, 'n', d0, "", "");
    key[pre] = (unsigned char)kind;
    MDB_val k = {kl, key}, v;
    int frc = FB_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && frc == FB_OK;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const unsigned char *p = k.mv_data;
        if (k.mv_size < pre + 5 || memcmp(p, key, pre + 1) != 0) break;
        int64_t day = (int64_t)fb_get_be32(p + pre + 1) - 2147483648LL;
        if (day >= d1) break;
        if (kind == 'n') {
            if (v.mv_size == TERMS_NV * 8) l->total += (int64_t)fb_get_be64(v.mv_data);
        } else if (push_row(l, &k, pre, &v) != FB_OK) {
            frc = fb_err_set(err, FB_INTERNAL, "terms: out of memory");
        }
    }
    mdb_cursor_close(c);
    return frc;
}

/* Merges rows (sorted) into one entry per stem and scores them. */
static size_t merge_rows(row_list *l, int positive, term_out *out)
{
    size_t n_out = 0;
    for (size_t i = 0; i < l->n;) {
        term_out o = {.stem = l->rows[i].stem};
        int64_t best = -1;
        size_t j = i;
        while (j < l->n && strcmp(l->rows[j].stem, o.stem) == 0) {
            int64_t form = 0;
            size_t k = j;
            while (k < l->n && strcmp(l->rows[k].stem, o.stem) == 0 &&
                   strcmp(l->rows[k].surface, l->rows[j].surface) == 0) {
                for (int x = 0; x < TERMS_NV; x++) o.v[x] += l->rows[k].v[x];
                form += l->rows[k].v[TM_MENTIONS];
                k++;
            }
            if (form > best) { best = form; o.surface = l->rows[j].surface; }
            j = k;
        }
        i = j;
        if (o.v[TM_MENTIONS] <= 0) continue;
        double mean = (double)o.v[TM_SENT] / 1e6 / (double)o.v[TM_MENTIONS];
        int64_t driver = positive ? o.v[TM_POS] : o.v[TM_NEG];
        if (driver <= 0) continue;
        o.score = (double)driver * (positive ? (1.0 + mean) : (1.0 - mean)) / 2.0;
        out[n_out++] = o;
    }
    return n_out;
}

static int build_reply(term_out *o, size_t n, size_t limit, int64_t total, int by_aspect,
                       Feedback__V1__TermsReply *out, fb_err *err)
{
    if (n) qsort(o, n, sizeof *o, cmp_out);
    if (n > limit) n = limit;
    out->total = (uint32_t)(total > 0 ? total : 0);
    out->terms = n ? calloc(n, sizeof *out->terms) : NULL;
    if (n && !out->terms) return fb_err_set(err, FB_INTERNAL, "terms: out of memory");
    for (size_t i = 0; i < n; i++) {
        Feedback__V1__Term *t = malloc(sizeof *t);
        if (!t) return fb_err_set(err, FB_INTERNAL, "terms: out of memory");
        feedback__v1__term__init(t);
        t->stem = t->surface = t->aspect = NULL; /* never free protobuf-c's static "" */
        out->terms[out->n_terms++] = t;
        t->stem = strdup(o[i].stem);
        t->surface = strdup(o[i].surface);
        t->aspect = strdup(by_aspect ? o[i].stem : "");
        if (!t->stem || !t->surface || !t->aspect) return fb_err_set(err, FB_INTERNAL, "terms: out of memory");
        t->mentions = (uint32_t)o[i].v[TM_MENTIONS];
        t->mean_sentiment = (double)o[i].v[TM_SENT] / 1e6 / (double)o[i].v[TM_MENTIONS];
        t->share = total > 0 ? (double)o[i].v[TM_MENTIONS] / (double)total : 0.0;
    }
    return FB_OK;
}

static int query_terms(fb_trends *t, const fb_trends_ctx *c, const Feedback__V1__TermsQuery *q,
                       const fb_seg *seg, int64_t d0, int64_t d1, row_list *l,
                       Feedback__V1__TermsReply *out, fb_err *err)
{
    unsigned char key[FB_SEG_PREFIX_MAX + 1 + 4 + 2 * FB_TERMS_STEM_MAX + 2];
    size_t pre = fb_seg_prefix(key, c->tenant, 0, q->survey_id ? q->survey_id : "", seg);
    MDB_txn *m;
    int rc = fb_store_read_begin(t->st, &m, err);
    if (rc != FB_OK) return rc;
    rc = scan_days(m, t->terms, key, pre, 'n', d0, d1, l, err);
    if (rc == FB_OK) rc = scan_days(m, t->terms, key, pre, q->by_aspect ? 'a' : 's', d0, d1, l, err);
    fb_store_read_end(t->st, m);
    if (rc != FB_OK) return rc;
    if (l->n) qsort(l->rows, l->n, sizeof *l->rows, cmp_row);
    term_out *o = l->n ? malloc(l->n * sizeof *o) : NULL;
    if (l->n && !o) return fb_err_set(err, FB_INTERNAL, "terms: out of memory");
    int positive = q->direction == FEEDBACK__V1__TERMS_QUERY__DIRECTION__POSITIVE;
    size_t n = merge_rows(l, positive, o);
    size_t limit = q->limit == 0 ? 20 : q->limit > 200 ? 200 : q->limit;
    rc = build_reply(o, n, limit, l->total, q->by_aspect, out, err);
    free(o);
    return rc;
}

int fb_trends_top_terms(fb_trends *t, const fb_trends_ctx *c, const Feedback__V1__TermsQuery *q,
                        Feedback__V1__TermsReply *out, fb_err *err)
{
    feedback__v1__terms_reply__init(out);
    int64_t to = q->to_ms;
    fb_seg seg;
    int rc = fb_check_range(q->from_ms, &to, c->now_ms, err);
    if (rc == FB_OK) rc = fb_check_survey(q->survey_id ? q->survey_id : "", err);
    if (rc == FB_OK) rc = fb_seg_from_filter(q->filter, &seg, err);
    if (rc == FB_OK && q->direction > 2)
        rc = fb_err_set(err, FB_INVALID, "direction: must be NEGATIVE or POSITIVE, got %d", (int)q->direction);
    if (rc != FB_OK) return rc;
    int64_t d0 = fb_floor_div(q->from_ms, FB_DAY_MS);
    int64_t d1 = fb_floor_div(to - 1, FB_DAY_MS) + 1;
    row_list l = {0};
    rc = query_terms(t, c, q, &seg, d0, d1, &l, out, err);
    for (size_t i = 0; i < l.n; i++) free(l.rows[i].stem);
    free(l.rows);
    if (rc != FB_OK) fb_trends_terms_clear(out);
    return rc;
}

void fb_trends_terms_clear(Feedback__V1__TermsReply *out)
{
    for (size_t i = 0; i < out->n_terms; i++) {
        Feedback__V1__Term *t = out->terms[i];
        free(t->stem);
        free(t->surface);
        free(t->aspect);
        free(t);
    }
    free(out->terms);
    feedback__v1__terms_reply__init(out);
}
