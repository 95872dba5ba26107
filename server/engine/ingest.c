/* ingest.c — requests in, durable records out (see ingest.h).
 *
 * Design: everything that costs CPU (validation, sentiment, hashing,
 * building the record) happens on the caller's worker thread, so the
 * single writer thread only does the LMDB work of fb_feedback_put_txn and
 * group-commits many requests per fsync. A request becomes an ingest_item
 * (record + sentiment terms + put state); a single submit queues one item
 * as one store op, an Import batch queues up to a few hundred items as one
 * op. The reply is built in the store's done callback, i.e. only once the
 * record is durable.
 *
 * Records are built in protobuf-c's own layout, their parts (some thirty
 * pieces) cut from one arena per record (pb_arena.h: the record is built
 * on a worker and freed on the store's syncer), so
 * feedback__v1__feedback__free_unpacked with the arena's allocator still
 * frees it, including parts other modules add later (the id, alert ids).
 */
#include "ingest.h"
#include "feedback_keys.h"
#include "pb_arena.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

/* ---- derived values ------------------------------------------------------ */

Feedback__V1__Category fb_category_of_score(int score)
{
    if (score >= 9) return FEEDBACK__V1__CATEGORY__PROMOTER;
    if (score >= 7) return FEEDBACK__V1__CATEGORY__PASSIVE;
    return FEEDBACK__V1__CATEGORY__DETRACTOR;
}

Feedback__V1__Category fb_category_of_rating(int rating)
{
    if (rating >= 5) return FEEDBACK__V1__CATEGORY__PROMOTER;
    if (rating == 4) return FEEDBACK__V1__CATEGORY__PASSIVE;
    return FEEDBACK__V1__CATEGORY__DETRACTOR;
}

/* ---- building messages ---------------------------------------------------- */

/* A copy (in m), or protobuf-c's shared empty string for "" (which
 * free_unpacked leaves alone). Sets *oom on failure. */
static char *dup_field(fb_pb_arena *m, const char *s, bool *oom)
{
    if (!s || !*s) return (char *)protobuf_c_empty_string;
    size_t n = strlen(s) + 1;
    char *d = fb_pb_arena_alloc(m, n);
    if (!d) {
        *oom = true;
        return (char *)protobuf_c_empty_string;
    }
    return memcpy(d, s, n);
}

static Feedback__V1__Span *new_span(fb_pb_arena *m, uint32_t start, uint32_t end, bool *oom)
{
    Feedback__V1__Span *sp = fb_pb_arena_alloc(m, sizeof *sp);
    if (!sp) { *oom = true; return NULL; }
    feedback__v1__span__init(sp);
    sp->start = start;
    sp->end = end;
    return sp;
}

static void add_contributions(fb_pb_arena *mem, Feedback__V1__Sentiment *m, const fb_sentiment *s, bool *oom)
{
    if (!s->n_contributions) return;
    m->contributions = fb_pb_arena_calloc(mem, s->n_contributions, sizeof *m->contributions);
    if (!m->contributions) { *oom = true; return; }
    for (size_t i = 0; i < s->n_contributions; i++) {
        Feedback__V1__Contribution *c = fb_pb_arena_alloc(mem, sizeof *c);
        if (!c) { *oom = true; return; }
        feedback__v1__contribution__init(c);
        m->contributions[m->n_contributions++] = c;
        c->token = dup_field(mem, s->contributions[i].token, oom);
        c->stem = dup_field(mem, s->contributions[i].stem, oom);
        c->span = new_span(mem, s->contributions[i].start, s->contributions[i].end, oom);
        c->contribution = s->contributions[i].value;
    }
}

static void add_aspects(fb_pb_arena *mem, Feedback__V1__Sentiment *m, const fb_sentiment *s, bool *oom)
{
    if (!s->n_aspects) return;
    m->aspects = fb_pb_arena_calloc(mem, s->n_aspects, sizeof *m->aspects);
    if (!m->aspects) { *oom = true; return; }
    for (size_t i = 0; i < s->n_aspects; i++) {
        const fb_aspect_score *as = &s->aspects[i];
        Feedback__V1__AspectSentiment *a = fb_pb_arena_alloc(mem, sizeof *a);
        if (!a) { *oom = true; return; }
        feedback__v1__aspect_sentiment__init(a);
        m->aspects[m->n_aspects++] = a;
        a->aspect = dup_field(mem, as->aspect, oom);
        a->compound = as->compound;
        a->label = (Feedback__V1__Label)as->label;
        if (!as->n_spans) continue;
        a->spans = fb_pb_arena_calloc(mem, as->n_spans, sizeof *a->spans);
        if (!a->spans) { *oom = true; continue; }
        for (size_t k = 0; k < as->n_spans; k++) {
            Feedback__V1__Span *sp = new_span(mem, as->spans[k][0], as->spans[k][1], oom);
            if (sp) a->spans[a->n_spans++] = sp;
        }
    }
}

/* The Sentiment message in mem (NULL: malloc'd); NULL when out of memory
 * (then with mem, whatever was cut stays in the arena until it is freed). */
static Feedback__V1__Sentiment *sentiment_msg(fb_pb_arena *mem, const fb_sentiment *s, bool explain)
{
    bool oom = false;
    Feedback__V1__Sentiment *m = fb_pb_arena_alloc(mem, sizeof *m);
    if (!m) return NULL;
    feedback__v1__sentiment__init(m);
    m->compound = s->compound;
    m->label = (Feedback__V1__Label)s->label;
    m->positive = s->positive;
    m->negative = s->negative;
    m->neutral = s->neutral;
    m->language = dup_field(mem, s->language, &oom);
    if (explain) add_contributions(mem, m, s, &oom);
    add_aspects(mem, m, s, &oom);
    if (oom) {
        feedback__v1__sentiment__free_unpacked(m, fb_pb_arena_allocator(mem));
        return NULL;
    }
    return m;
}

Feedback__V1__Sentiment *fb_sentiment_to_msg(const fb_sentiment *s, bool explain)
{
    return sentiment_msg(NULL, s, explain);
}

/* Tags of either request type, copied into the record sorted by key. */
#define COPY_TAGS(mem, rec, src, n, oom)                                            \
    do {                                                                            \
        if ((n) == 0) break;                                                        \
        (rec)->tags = fb_pb_arena_calloc((mem), (n), sizeof *(rec)->tags);                  \
        if (!(rec)->tags) { *(oom) = true; break; }                                 \
        for (size_t i_ = 0; i_ < (n); i_++) {                                       \
            Feedback__V1__Feedback__TagsEntry *e_ = fb_pb_arena_alloc((mem), sizeof *e_);   \
            if (!e_) { *(oom) = true; break; }                                      \
            feedback__v1__feedback__tags_entry__init(e_);                           \
            (rec)->tags[(rec)->n_tags++] = e_;                                      \
            e_->key = dup_field((mem), (src)[i_]->key, (oom));                      \
            e_->value = dup_field((mem), (src)[i_]->value, (oom));                  \
        }                                                                           \
        fb_feedback_sort_tags(rec);                                                 \
    } while (0)

static Feedback__V1__Feedback *record_from_response(fb_pb_arena *m, const Feedback__V1__SubmitResponseRequest *r,
                                                    const char *lang, bool *oom)
{
    Feedback__V1__Feedback *rec = fb_pb_arena_alloc(m, sizeof *rec);
    if (!rec) { *oom = true; return NULL; }
    feedback__v1__feedback__init(rec);
    rec->kind = FEEDBACK__V1__FEEDBACK_KIND__RESPONSE;
    rec->survey_id = dup_field(m, r->survey_id, oom);
    rec->score = r->score;
    rec->comment = dup_field(m, r->comment, oom);
    rec->respondent_id = dup_field(m, r->respondent_id, oom);
    rec->channel = dup_field(m, r->channel, oom);
    COPY_TAGS(m, rec, r->tags, r->n_tags, oom);
    rec->submitted_at_ms = r->submitted_at_ms;
    rec->idempotency_key = dup_field(m, r->idempotency_key, oom);
    rec->language = dup_field(m, lang, oom);
    rec->category = fb_category_of_score(r->score);
    return rec;
}

static Feedback__V1__Feedback *record_from_review(fb_pb_arena *m, const Feedback__V1__SubmitReviewRequest *r,
                                                  const char *lang, bool *oom)
{
    Feedback__V1__Feedback *rec = fb_pb_arena_alloc(m, sizeof *rec);
    if (!rec) { *oom = true; return NULL; }
    feedback__v1__feedback__init(rec);
    rec->kind = FEEDBACK__V1__FEEDBACK_KIND__REVIEW;
    rec->survey_id = dup_field(m, r->survey_id, oom);
    rec->rating = r->rating;
    rec->source = dup_field(m, r->source, oom);
    rec->external_id = dup_field(m, r->external_id, oom);
    rec->title = dup_field(m, r->title, oom);
    rec->text = dup_field(m, r->text, oom);
    rec->respondent_id = dup_field(m, r->respondent_id, oom);
    rec->channel = dup_field(m, r->channel, oom);
    COPY_TAGS(m, rec, r->tags, r->n_tags, oom);
    rec->submitted_at_ms = r->submitted_at_ms;
    rec->idempotency_key = dup_field(m, r->idempotency_key, oom);
    rec->language = dup_field(m, lang, oom);
    rec->category = fb_category_of_rating(r->rating);
    return rec;
}

/* ---- items ---------------------------------------------------------------- */

typedef struct ingest_item {
    Feedback__V1__Feedback *rec; /* in mem (see the top) */
    fb_pb_arena mem;
    fb_sentiment sent;
    bool have_sent;
    fb_feedback_put put;
} ingest_item;

/* An item ready to be built (its arena pointing at itself: items stay put). */
static void item_init(ingest_item *it)
{
    memset(it, 0, sizeof *it);
    fb_pb_arena_init(&it->mem);
}

static void item_free(ingest_item *it)
{
    fb_pb_arena_release(&it->mem, it->rec ? &it->rec->base : NULL);
    if (it->put.existing) feedback__v1__feedback__free_unpacked(it->put.existing, NULL);
    if (it->have_sent) fb_sentiment_free(&it->sent);
    memset(it, 0, sizeof *it);
}

/* The language to score in: the request's, else the tenant default (if the
 * engine has it), else NULL = guess. */
static const char *pick_language(const fb_ingest_env *env, const char *requested)
{
    if (requested && *requested) return requested;
    if (env->default_language && *env->default_language &&
        fb_text_has_language(env->text, env->default_language))
        return env->default_language;
    return NULL;
}

/* Scores the record's text, stores the sentiment on it and keeps the terms
 * for the hooks. */
static int score_record(const fb_ingest_env *env, ingest_item *it, const char *requested_lang,
                        fb_err *err)
{
    if (!env->text) return FB_OK;
    size_t len;
    char *text = fb_feedback_text(it->rec, &len);
    if (!text) return fb_err_set(err, FB_INTERNAL, "ingest: out of memory");
    int rc = fb_sentiment_analyze(env->text, text, len, pick_language(env, requested_lang), NULL,
                                  FB_SENT_TERMS, &it->sent, err);
    free(text);
    if (rc) return rc;
    it->have_sent = true;
    if (!(it->rec->sentiment = sentiment_msg(&it->mem, &it->sent, false)))
        return fb_err_set(err, FB_INTERNAL, "ingest: out of memory");
    bool oom = false;
    if (it->rec->language != (char *)protobuf_c_empty_string) fb_pb_arena_free(&it->mem, it->rec->language);
    it->rec->language = dup_field(&it->mem, it->sent.language, &oom);
    it->put.terms = it->sent.terms;
    it->put.n_terms = it->sent.n_terms;
    return oom ? fb_err_set(err, FB_INTERNAL, "ingest: out of memory") : FB_OK;
}

/* Validation done: hash the payload as given, then derive the rest. */
static int finish_item(const fb_ingest_env *env, uint32_t tenant, ingest_item *it, bool oom,
                       const char *lang, const char *review_source, fb_err *err)
{
    if (oom || !it->rec) return fb_err_set(err, FB_INTERNAL, "ingest: out of memory");
    if (fb_feedback_has_idem_key(it->rec)) /* the hash serves nothing else */
        fb_feedback_payload_hash(it->rec, it->put.payload_hash);
    if (review_source && !*it->rec->channel) { /* a review's channel defaults to its source */
        it->rec->channel = dup_field(&it->mem, review_source, &oom);
        if (oom) return fb_err_set(err, FB_INTERNAL, "ingest: out of memory");
    }
    it->put.tenant_id = tenant;
    it->put.rec = it->rec;
    return score_record(env, it, lang, err);
}

static int prepare_response(const fb_ingest_env *env, uint32_t tenant,
                            const Feedback__V1__SubmitResponseRequest *r, ingest_item *it,
                            fb_err *err)
{
    char lang[8];
    int rc = fb_validate_response(r, fb_now_ms(), env->text, err);
    if (!rc) rc = fb_validate_language(r->language, env->text, lang, err);
    if (rc) return rc;
    bool oom = false;
    it->rec = record_from_response(&it->mem, r, lang, &oom);
    return finish_item(env, tenant, it, oom, lang, NULL, err);
}

static int prepare_review(const fb_ingest_env *env, uint32_t tenant,
                          const Feedback__V1__SubmitReviewRequest *r, ingest_item *it, fb_err *err)
{
    char lang[8];
    int rc = fb_validate_review(r, fb_now_ms(), env->text, err);
    if (!rc) rc = fb_validate_language(r->language, env->text, lang, err);
    if (rc) return rc;
    bool oom = false;
    it->rec = record_from_review(&it->mem, r, lang, &oom);
    return finish_item(env, tenant, it, oom, lang, r->source, err);
}

/* ---- single submissions ---------------------------------------------------- */

typedef struct submit_job {
    fb_feedback *fb;
    ingest_item it;
    fb_ingest_done_fn done;
    void *arg;
} submit_job;

static int submit_write(fb_txn *txn, void *arg, fb_err *err)
{
    submit_job *job = arg;
    return fb_feedback_put_txn(job->fb, txn, &job->it.put, err);
}

static void submit_done(void *arg, int rc, const fb_err *err)
{
    submit_job *job = arg;
    if (rc == FB_OK) {
        fb_ingest_result res = {
            .record = job->it.put.duplicate ? job->it.put.existing : job->it.rec,
            .duplicate = job->it.put.duplicate,
        };
        job->done(job->arg, FB_OK, NULL, &res);
    } else {
        job->done(job->arg, rc, err, NULL);
    }
    item_free(&job->it);
    free(job);
}

static int queue_job(const fb_ingest_env *env, submit_job *job, int rc, fb_err *err)
{
    if (rc == FB_OK) {
        rc = fb_store_write_async(fb_feedback_store(env->feedback), submit_write, submit_done, job);
        if (rc) fb_err_set(err, rc, "server is shutting down");
    }
    if (rc) {
        item_free(&job->it);
        free(job);
    }
    return rc;
}

int fb_ingest_submit_response(const fb_ingest_env *env, uint32_t tenant_id,
                              const Feedback__V1__SubmitResponseRequest *req,
                              fb_ingest_done_fn done, void *arg, fb_err *err)
{
    submit_job *job = calloc(1, sizeof *job);
    if (!job) return fb_err_set(err, FB_INTERNAL, "ingest: out of memory");
    *job = (submit_job){.fb = env->feedback, .done = done, .arg = arg};
    item_init(&job->it);
    return queue_job(env, job, prepare_response(env, tenant_id, req, &job->it, err), err);
}

int fb_ingest_submit_review(const fb_ingest_env *env, uint32_t tenant_id,
                            const Feedback__V1__SubmitReviewRequest *req,
                            fb_ingest_done_fn done, void *arg, fb_err *err)
{
    submit_job *job = calloc(1, sizeof *job);
    if (!job) return fb_err_set(err, FB_INTERNAL, "ingest: out of memory");
    *job = (submit_job){.fb = env->feedback, .done = done, .arg = arg};
    item_init(&job->it);
    return queue_job(env, job, prepare_review(env, tenant_id, req, &job->it, err), err);
}

void fb_ingest_submitted(const fb_ingest_result *res, Feedback__V1__Submitted *out)
{
    const Feedback__V1__Feedback *r = res->record;
    feedback__v1__submitted__init(out);
    out->id = r->id;
    out->duplicate = res->duplicate;
    out->category = r->category;
    out->sentiment = r->sentiment;
    out->n_alert_ids = r->n_alert_ids;
    out->alert_ids = r->alert_ids;
}

/* ---- batches ----------------------------------------------------------------- */

struct fb_ingest_batch {
    fb_ingest_env env;
    uint32_t tenant;
    size_t n, cap;
    ingest_item *items;
    fb_ingest_outcome *out;
    fb_ingest_batch_done_fn done;
    void *arg;
};

fb_ingest_batch *fb_ingest_batch_new(const fb_ingest_env *env, uint32_t tenant_id, size_t cap)
{
    fb_ingest_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->env = *env;
    b->tenant = tenant_id;
    b->cap = cap ? cap : 1;
    b->items = calloc(b->cap, sizeof *b->items);
    b->out = calloc(b->cap, sizeof *b->out);
    if (!b->items || !b->out) {
        fb_ingest_batch_free(b);
        return NULL;
    }
    return b;
}

void fb_ingest_batch_free(fb_ingest_batch *b)
{
    if (!b) return;
    for (size_t i = 0; b->items && i < b->n; i++) item_free(&b->items[i]);
    free(b->items);
    free(b->out);
    free(b);
}

size_t fb_ingest_batch_size(const fb_ingest_batch *b) { return b->n; }

int fb_ingest_batch_add(fb_ingest_batch *b, const Feedback__V1__ImportItem *item, uint32_t index,
                        fb_err *err)
{
    if (b->n == b->cap) return fb_err_set(err, FB_EXHAUSTED, "ingest: batch full");
    ingest_item *it = &b->items[b->n];
    item_init(it);
    int rc;
    switch (item->item_case) {
    case FEEDBACK__V1__IMPORT_ITEM__ITEM_RESPONSE:
        rc = prepare_response(&b->env, b->tenant, item->response, it, err);
        break;
    case FEEDBACK__V1__IMPORT_ITEM__ITEM_REVIEW:
        rc = prepare_review(&b->env, b->tenant, item->review, it, err);
        break;
    default:
        rc = fb_err_set(err, FB_INVALID, "item: required (a response or a review)");
    }
    if (rc) {
        item_free(it);
        return rc;
    }
    b->out[b->n] = (fb_ingest_outcome){.index = index};
    b->n++;
    return FB_OK;
}

/* One op for the whole batch: an item whose key is bound to another payload
 * is rejected alone (nothing of it was written); any other error fails the
 * op, and the store rolls the whole batch back. */
static int batch_write(fb_txn *txn, void *arg, fb_err *err)
{
    fb_ingest_batch *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        fb_ingest_outcome *o = &b->out[i];
        o->rc = FB_OK;
        o->duplicate = false;
        o->err.code = FB_OK;
        o->err.msg[0] = '\0';
        int rc = fb_feedback_put_txn(b->env.feedback, txn, &b->items[i].put, &o->err);
        if (rc == FB_EXISTS) { o->rc = rc; continue; }
        if (rc) {
            if (err) *err = o->err;
            return rc;
        }
        o->duplicate = b->items[i].put.duplicate;
    }
    return FB_OK;
}

static void batch_done(void *arg, int rc, const fb_err *err)
{
    fb_ingest_batch *b = arg;
    b->done(b->arg, rc, err, b->out, b->n);
    fb_ingest_batch_free(b);
}

int fb_ingest_batch_submit(fb_ingest_batch *b, fb_ingest_batch_done_fn done, void *arg)
{
    b->done = done;
    b->arg = arg;
    int rc = fb_store_write_async(fb_feedback_store(b->env.feedback), batch_write, batch_done, b);
    if (rc) fb_ingest_batch_free(b);
    return rc;
}

/* ---- Analyze ------------------------------------------------------------------ */

int fb_ingest_analyze(const fb_ingest_env *env, const Feedback__V1__AnalyzeRequest *req,
                      Feedback__V1__Sentiment **out, fb_err *err)
{
    char lang[8];
    int rc = fb_validate_analyze(req, env->text, err);
    if (!rc) rc = fb_validate_language(req->language, env->text, lang, err);
    if (rc) return rc;
    if (!env->text) return fb_err_set(err, FB_INTERNAL, "analyze: no text engine loaded");
    /* Analyze guesses before it falls back to the tenant default: a text
     * pasted into a dashboard is often not in the tenant's language. */
    fb_sentiment s;
    const char *fallback = env->default_language && *env->default_language &&
                                   fb_text_has_language(env->text, env->default_language)
                               ? env->default_language
                               : NULL;
    rc = fb_sentiment_analyze(env->text, req->text, strlen(req->text), *lang ? lang : NULL,
                              fallback, req->explain ? FB_SENT_EXPLAIN : 0, &s, err);
    if (rc) return rc;
    *out = fb_sentiment_to_msg(&s, req->explain);
    fb_sentiment_free(&s);
    return *out ? FB_OK : fb_err_set(err, FB_INTERNAL, "analyze: out of memory");
}
