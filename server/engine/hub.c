/* hub.c — per-tenant subscriber lists and the replay→live handoff.
 *
 * Design: a table of tenants (read-mostly, rwlock) each with its own mutex
 * and an unordered array of subscribers (removal swaps with the last), so
 * publishing to one tenant never contends with another and is O(its
 * subscribers). A subscriber is reference-counted: the tenant list holds one
 * reference, the replay pump a temporary one while it reads the log outside
 * any lock; `ended` (set under the tenant mutex) stops every callback.
 *
 * Fan-out runs on the hub's dispatcher thread (fb_hub_post, FIFO): the store's
 * writer thread only enqueues, so even thousands of subscribers cost ingest
 * one queue push per alert. The queue is bounded; when it is full the writer
 * waits (backpressure on CPU exhaustion, never on a subscriber: deliver
 * never blocks).
 *
 * A fan-out packs its alert once: deliver finds the fan-out in progress with
 * fb_hub_shared and caches the encoding there for the next subscribers.
 *
 * Handoff without loss or duplicates: a subscriber is registered before the
 * replay reads the log; an alert is published only after it is durable. So an
 * alert is either in the pump's snapshot (replayed) or published after
 * registration (buffered, or delivered live). Both paths deliver only
 * seq > last_seq, in increasing order, under the same mutex.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub.h"

enum { MODE_REPLAYING, MODE_LIVE };

typedef struct tenant_subs tenant_subs;

struct fb_sub {
    tenant_subs *t;
    fb_alert_filter filter;
    fb_sub_ops ops;
    void *ctx;
    fb_sub **slot;
    uint64_t last_seq;
    int mode;
    bool ended;
    int refs;                 /* under h->mu_refs */
    /* replay buffer: packed alerts published while REPLAYING */
    struct { uint64_t seq; size_t len; unsigned char *data; } *buf;
    size_t n_buf;
    bool overflow;
    fb_sub *next_replay;      /* in h->replaying, under h->mu_replay */
    bool in_replay_list;
};

/* A compact copy of the cheap part of each filter, parallel to subs, so
 * the walk over thousands of live subscribers that cannot match an alert
 * reads one small array instead of chasing every subscriber. */
typedef struct prefilter {
    uint64_t survey_hash;     /* the only survey, or 0 */
    int min_severity;
    unsigned kinds;
    bool one_survey, replaying;
} prefilter;

struct tenant_subs {
    uint32_t tenant;
    pthread_mutex_t mu;
    fb_sub **subs;
    prefilter *pf;
    size_t n, cap;
    fb_hub_msg *cur;          /* the fan-out deliver is called for (fb_hub_shared) */
};

typedef struct posted {
    uint32_t tenant;
    Feedback__V1__Alert *a;
} posted;

struct fb_hub {
    pthread_rwlock_t rw;      /* the tenant table */
    /* fan-out queue: fb_hub_post -> the dispatcher thread */
    pthread_mutex_t mu_post;
    pthread_cond_t cv_post, cv_room;
    posted *ring;
    size_t ring_cap, ring_head, ring_len;
    bool dispatch_stop, dispatcher_started;
    pthread_t dispatcher;
    tenant_subs **tenants;
    size_t n_tenants, cap_tenants;
    size_t max_buffer;
    bool closing;
    pthread_mutex_t mu_refs;
    pthread_mutex_t mu_replay;
    pthread_cond_t cv_replay;
    fb_sub *replay_head, *replay_tail;
};

/* ---- lifetime ------------------------------------------------------------------ */

static void *dispatch_main(void *arg);

int fb_hub_open(fb_hub **out, size_t max_buffer, fb_err *err)
{
    fb_hub *h = calloc(1, sizeof *h);
    if (!h) return fb_err_set(err, FB_INTERNAL, "hub: out of memory");
    pthread_rwlock_init(&h->rw, NULL);
    pthread_mutex_init(&h->mu_refs, NULL);
    pthread_mutex_init(&h->mu_replay, NULL);
    pthread_cond_init(&h->cv_replay, NULL);
    h->max_buffer = max_buffer ? max_buffer : 1024;
    pthread_mutex_init(&h->mu_post, NULL);
    pthread_cond_init(&h->cv_post, NULL);
    pthread_cond_init(&h->cv_room, NULL);
    h->ring_cap = 65536;
    if (!(h->ring = calloc(h->ring_cap, sizeof *h->ring))) {
        fb_hub_close(h);
        return fb_err_set(err, FB_INTERNAL, "hub: out of memory");
    }
    if (pthread_create(&h->dispatcher, NULL, dispatch_main, h) != 0) {
        fb_hub_close(h);
        return fb_err_set(err, FB_INTERNAL, "hub: cannot start the dispatcher thread");
    }
    h->dispatcher_started = true;
    *out = h;
    return FB_OK;
}

static void clear_buffer(fb_sub *s)
{
    for (size_t i = 0; i < s->n_buf; i++) free(s->buf[i].data);
    s->n_buf = 0;
}

static void sub_free(fb_sub *s)
{
    clear_buffer(s);
    free(s->buf);
    fb_alert_filter_free(&s->filter);
    free(s);
}

void fb_hub_put(fb_hub *h, fb_sub *s)
{
    pthread_mutex_lock(&h->mu_refs);
    int left = --s->refs;
    pthread_mutex_unlock(&h->mu_refs);
    if (left == 0) sub_free(s);
}

static void sub_get(fb_hub *h, fb_sub *s)
{
    pthread_mutex_lock(&h->mu_refs);
    s->refs++;
    pthread_mutex_unlock(&h->mu_refs);
}

/* Removes s from its tenant list (caller holds t->mu) and marks it ended. */
static void detach_locked(fb_sub *s)
{
    tenant_subs *t = s->t;
    for (size_t i = 0; i < t->n; i++) {
        if (t->subs[i] != s) continue;
        t->n--;
        t->subs[i] = t->subs[t->n];
        t->pf[i] = t->pf[t->n];
        break;
    }
    s->ended = true;
    if (s->slot) *s->slot = NULL;
    s->slot = NULL;
    clear_buffer(s);
}

/* The hub ends s (caller holds t->mu): tells the owner, drops the list ref. */
static void end_locked(fb_hub *h, fb_sub *s, int code)
{
    detach_locked(s);
    s->ops.closed(s->ctx, code, s->last_seq);
    s->ctx = NULL;
    fb_hub_put(h, s);
}

static void stop_dispatcher(fb_hub *h)
{
    pthread_mutex_lock(&h->mu_post);
    h->dispatch_stop = true;
    pthread_cond_broadcast(&h->cv_post);
    pthread_cond_broadcast(&h->cv_room);
    pthread_mutex_unlock(&h->mu_post);
    if (h->dispatcher_started) pthread_join(h->dispatcher, NULL);
    for (size_t i = 0; i < h->ring_len; i++) /* not delivered: subscribers end now anyway */
        feedback__v1__alert__free_unpacked(h->ring[(h->ring_head + i) % h->ring_cap].a, NULL);
    free(h->ring);
    pthread_cond_destroy(&h->cv_room);
    pthread_cond_destroy(&h->cv_post);
    pthread_mutex_destroy(&h->mu_post);
}

void fb_hub_close(fb_hub *h)
{
    stop_dispatcher(h);
    pthread_rwlock_wrlock(&h->rw);
    h->closing = true;
    pthread_rwlock_unlock(&h->rw);
    for (size_t i = 0; i < h->n_tenants; i++) {
        tenant_subs *t = h->tenants[i];
        pthread_mutex_lock(&t->mu);
        while (t->n) end_locked(h, t->subs[t->n - 1], FB_UNAVAILABLE);
        pthread_mutex_unlock(&t->mu);
    }
    /* drop the replay list's references */
    pthread_mutex_lock(&h->mu_replay);
    fb_sub *s = h->replay_head;
    h->replay_head = h->replay_tail = NULL;
    pthread_mutex_unlock(&h->mu_replay);
    while (s) {
        fb_sub *next = s->next_replay;
        fb_hub_put(h, s);
        s = next;
    }
    for (size_t i = 0; i < h->n_tenants; i++) {
        pthread_mutex_destroy(&h->tenants[i]->mu);
        free(h->tenants[i]->subs);
        free(h->tenants[i]->pf);
        free(h->tenants[i]);
    }
    free(h->tenants);
    pthread_cond_destroy(&h->cv_replay);
    pthread_mutex_destroy(&h->mu_replay);
    pthread_mutex_destroy(&h->mu_refs);
    pthread_rwlock_destroy(&h->rw);
    free(h);
}

/* ---- tenants ------------------------------------------------------------------- */

static tenant_subs *find_tenant(fb_hub *h, uint32_t tenant)
{
    for (size_t i = 0; i < h->n_tenants; i++)
        if (h->tenants[i]->tenant == tenant) return h->tenants[i];
    return NULL;
}

static tenant_subs *lookup(fb_hub *h, uint32_t tenant)
{
    pthread_rwlock_rdlock(&h->rw);
    tenant_subs *t = h->closing ? NULL : find_tenant(h, tenant);
    pthread_rwlock_unlock(&h->rw);
    return t;
}

static tenant_subs *lookup_or_add(fb_hub *h, uint32_t tenant)
{
    tenant_subs *t = lookup(h, tenant);
    if (t) return t;
    pthread_rwlock_wrlock(&h->rw);
    if (h->closing) goto out;
    if ((t = find_tenant(h, tenant))) goto out;
    if (h->n_tenants == h->cap_tenants) {
        size_t nc = h->cap_tenants ? h->cap_tenants * 2 : 8;
        tenant_subs **nt = realloc(h->tenants, nc * sizeof *nt);
        if (!nt) goto out;
        h->tenants = nt, h->cap_tenants = nc;
    }
    if (!(t = calloc(1, sizeof *t))) goto out;
    t->tenant = tenant;
    pthread_mutex_init(&t->mu, NULL);
    h->tenants[h->n_tenants++] = t;
out:
    pthread_rwlock_unlock(&h->rw);
    return t;
}

size_t fb_hub_count(fb_hub *h, uint32_t tenant)
{
    tenant_subs *t = lookup(h, tenant);
    if (!t) return 0;
    pthread_mutex_lock(&t->mu);
    size_t n = t->n;
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* ---- subscribe / cancel --------------------------------------------------------- */

static void replay_enqueue(fb_hub *h, fb_sub *s)
{
    pthread_mutex_lock(&h->mu_replay);
    s->next_replay = NULL;
    s->in_replay_list = true;
    if (h->replay_tail) h->replay_tail->next_replay = s;
    else h->replay_head = s;
    h->replay_tail = s;
    pthread_cond_signal(&h->cv_replay);
    pthread_mutex_unlock(&h->mu_replay);
}

int fb_hub_subscribe(fb_hub *h, uint32_t tenant, fb_alert_filter *f, uint64_t after_seq,
                     const fb_sub_ops *ops, void *ctx, fb_sub **slot, fb_err *err)
{
    tenant_subs *t = lookup_or_add(h, tenant);
    if (!t) return fb_err_set(err, FB_UNAVAILABLE, "alerts: server is shutting down");
    fb_sub *s = calloc(1, sizeof *s);
    if (!s) return fb_err_set(err, FB_INTERNAL, "hub: out of memory");
    s->t = t;
    s->filter = *f;
    memset(f, 0, sizeof *f);
    s->ops = *ops;
    s->ctx = ctx;
    s->slot = slot;
    s->last_seq = after_seq;
    s->mode = MODE_REPLAYING;
    s->refs = 2; /* tenant list + replay list */
    pthread_mutex_lock(&t->mu);
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        prefilter *np = realloc(t->pf, nc * sizeof *np);
        if (np) t->pf = np;
        fb_sub **ns = np ? realloc(t->subs, nc * sizeof *ns) : NULL;
        if (!ns) {
            pthread_mutex_unlock(&t->mu);
            *f = s->filter;
            free(s);
            return fb_err_set(err, FB_INTERNAL, "hub: out of memory");
        }
        t->subs = ns, t->cap = nc;
    }
    t->pf[t->n] = (prefilter){s->filter.n_survey_ids == 1 ? s->filter.survey_hashes[0] : 0,
                              s->filter.min_severity, s->filter.kinds, s->filter.n_survey_ids == 1, true};
    t->subs[t->n++] = s;
    *slot = s;
    pthread_mutex_unlock(&t->mu);
    replay_enqueue(h, s);
    return FB_OK;
}

void *fb_hub_cancel(fb_hub *h, uint32_t tenant, fb_sub *(*detach)(void *arg), void *arg)
{
    pthread_rwlock_rdlock(&h->rw);
    tenant_subs *t = find_tenant(h, tenant);
    pthread_rwlock_unlock(&h->rw);
    if (!t) return NULL;
    pthread_mutex_lock(&t->mu);
    fb_sub *s = detach(arg);
    void *ctx = NULL;
    if (s && !s->ended) {
        ctx = s->ctx;
        detach_locked(s);
        s->ctx = NULL;
    } else {
        s = NULL;
    }
    pthread_mutex_unlock(&t->mu);
    if (s) fb_hub_put(h, s);
    return ctx;
}

/* ---- publishing ------------------------------------------------------------------ */

static void buffer_alert(fb_hub *h, fb_sub *s, const Feedback__V1__Alert *a)
{
    if (s->overflow) return;
    if (s->n_buf == h->max_buffer) goto overflow;
    if (!s->buf && !(s->buf = calloc(h->max_buffer, sizeof *s->buf))) goto overflow;
    size_t len = feedback__v1__alert__get_packed_size(a);
    unsigned char *d = malloc(len ? len : 1);
    if (!d) goto overflow;
    feedback__v1__alert__pack(a, d);
    s->buf[s->n_buf].seq = a->seq;
    s->buf[s->n_buf].len = len;
    s->buf[s->n_buf].data = d;
    s->n_buf++;
    return;
overflow: /* everything published is in the log: the pump reads it there */
    clear_buffer(s);
    s->overflow = true;
}

/* Delivers a to a LIVE or replaying s (caller holds the lock). Returns false
 * if s was ended (then the caller must not advance through t->subs). */
static bool deliver_locked(fb_hub *h, fb_sub *s, fb_hub_msg *m, uint64_t survey_hash)
{
    const Feedback__V1__Alert *a = m->alert;
    if (a->seq <= s->last_seq) return true;
    if (!fb_alert_filter_match_h(&s->filter, a, survey_hash)) {
        s->last_seq = a->seq;
        return true;
    }
    s->t->cur = m;
    int rc = s->ops.deliver(s->ctx, a);
    s->t->cur = NULL;
    if (rc == FB_OK) {
        s->last_seq = a->seq;
        return true;
    }
    end_locked(h, s, rc == FB_EXHAUSTED ? FB_EXHAUSTED : FB_UNAVAILABLE);
    return false;
}

fb_hub_msg *fb_hub_shared(fb_sub *s)
{
    return s->t->cur;
}

static void msg_done(fb_hub_msg *m)
{
    if (m->shared && m->shared_free) m->shared_free(m->shared);
    m->shared = NULL;
}

/* Delivers one alert to one subscriber with an encoding of its own. */
static void deliver_one_locked(fb_hub *h, fb_sub *s, const Feedback__V1__Alert *a)
{
    fb_hub_msg m = {a, NULL, NULL};
    deliver_locked(h, s, &m, fb_survey_hash(a->survey_id));
    msg_done(&m);
}

void fb_hub_publish(fb_hub *h, uint32_t tenant, const Feedback__V1__Alert *a)
{
    tenant_subs *t = lookup(h, tenant);
    if (!t) return;
    uint64_t hash = fb_survey_hash(a->survey_id);
    unsigned kinds = 1u << a->kind;
    for (size_t k = 0; k < a->n_kinds; k++) kinds |= 1u << a->kinds[k];
    fb_hub_msg m = {a, NULL, NULL}; /* packed at most once, for all of them */
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n;) {
        const prefilter *pf = &t->pf[i];
        if (!pf->replaying && ((pf->one_survey && pf->survey_hash != hash) ||
                               (int)a->severity < pf->min_severity || (pf->kinds && !(pf->kinds & kinds)))) {
            i++; /* cannot match (its last_seq lags: harmless, deliveries only skip seq <= it) */
            continue;
        }
        fb_sub *s = t->subs[i];
        if (s->mode == MODE_REPLAYING) {
            if (a->seq > s->last_seq) buffer_alert(h, s, a);
            i++;
        } else if (deliver_locked(h, s, &m, hash)) {
            i++;
        } /* else s was swapped out: t->subs[i] is the next one */
    }
    pthread_mutex_unlock(&t->mu);
    msg_done(&m);
}

void fb_hub_post(fb_hub *h, uint32_t tenant, Feedback__V1__Alert *a)
{
    pthread_mutex_lock(&h->mu_post);
    while (h->ring_len == h->ring_cap && !h->dispatch_stop)
        pthread_cond_wait(&h->cv_room, &h->mu_post);
    if (h->dispatch_stop) {
        pthread_mutex_unlock(&h->mu_post);
        feedback__v1__alert__free_unpacked(a, NULL);
        return;
    }
    h->ring[(h->ring_head + h->ring_len) % h->ring_cap] = (posted){tenant, a};
    h->ring_len++;
    pthread_cond_signal(&h->cv_post);
    pthread_mutex_unlock(&h->mu_post);
}

void fb_hub_flush(fb_hub *h)
{
    pthread_mutex_lock(&h->mu_post);
    while (h->ring_len && !h->dispatch_stop) pthread_cond_wait(&h->cv_room, &h->mu_post);
    pthread_mutex_unlock(&h->mu_post);
}

static void *dispatch_main(void *arg)
{
    fb_hub *h = arg;
    pthread_mutex_lock(&h->mu_post);
    for (;;) {
        while (!h->ring_len && !h->dispatch_stop) pthread_cond_wait(&h->cv_post, &h->mu_post);
        if (h->dispatch_stop) break;
        posted p = h->ring[h->ring_head];
        pthread_mutex_unlock(&h->mu_post);
        fb_hub_publish(h, p.tenant, p.a);
        feedback__v1__alert__free_unpacked(p.a, NULL);
        pthread_mutex_lock(&h->mu_post);
        h->ring_head = (h->ring_head + 1) % h->ring_cap; /* popped after delivery: flush waits for it */
        h->ring_len--;
        pthread_cond_broadcast(&h->cv_room);
    }
    pthread_mutex_unlock(&h->mu_post);
    return NULL;
}

/* ---- replay pump interface -------------------------------------------------------- */

fb_sub *fb_hub_next_replaying(fb_hub *h, int ms)
{
    pthread_mutex_lock(&h->mu_replay);
    if (!h->replay_head && ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&h->cv_replay, &h->mu_replay, &ts);
    }
    fb_sub *s = h->replay_head;
    if (s) { /* pop: the caller re-queues it if it is still replaying */
        h->replay_head = s->next_replay;
        if (!h->replay_head) h->replay_tail = NULL;
        s->in_replay_list = false;
    }
    pthread_mutex_unlock(&h->mu_replay);
    return s; /* the replay list's reference passes to the caller */
}

void fb_hub_wake(fb_hub *h)
{
    pthread_mutex_lock(&h->mu_replay);
    pthread_cond_broadcast(&h->cv_replay);
    pthread_mutex_unlock(&h->mu_replay);
}

const fb_alert_filter *fb_hub_sub_filter(const fb_sub *s)
{
    return &s->filter;
}

bool fb_hub_replay_state(fb_hub *h, fb_sub *s, uint32_t *tenant, uint64_t *last_seq, size_t *room)
{
    (void)h;
    pthread_mutex_lock(&s->t->mu);
    bool alive = !s->ended && s->mode == MODE_REPLAYING;
    if (alive) {
        size_t half = s->ops.queue_max / 2;
        size_t backlog = s->ops.backlog ? s->ops.backlog(s->ctx) : 0;
        *room = half > backlog ? half - backlog : 0;
        *tenant = s->t->tenant;
        *last_seq = s->last_seq;
    }
    pthread_mutex_unlock(&s->t->mu);
    return alive;
}

/* Flushes the buffer into a LIVE subscriber (caller holds the lock). */
static void go_live_locked(fb_hub *h, fb_sub *s)
{
    s->mode = MODE_LIVE;
    for (size_t i = 0; i < s->t->n; i++)
        if (s->t->subs[i] == s) s->t->pf[i].replaying = false;
    size_t n = s->n_buf;
    s->n_buf = 0;
    for (size_t i = 0; i < n; i++) {
        Feedback__V1__Alert *a = NULL;
        if (!s->ended && s->buf[i].seq > s->last_seq)
            a = feedback__v1__alert__unpack(NULL, s->buf[i].len, s->buf[i].data);
        free(s->buf[i].data);
        if (!a) continue;
        deliver_one_locked(h, s, a);
        feedback__v1__alert__free_unpacked(a, NULL);
    }
}

void fb_hub_replay(fb_hub *h, fb_sub *s, Feedback__V1__Alert *const *alerts, size_t n,
                   uint64_t scanned_to, bool at_end)
{
    tenant_subs *t = s->t;
    bool requeue = false;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < n && !s->ended; i++) deliver_one_locked(h, s, alerts[i]);
    if (!s->ended) {
        if (scanned_to > s->last_seq) s->last_seq = scanned_to;
        if (at_end && !s->overflow) go_live_locked(h, s);
        else if (at_end) { s->overflow = false; clear_buffer(s); }
        requeue = !s->ended && s->mode == MODE_REPLAYING;
    }
    pthread_mutex_unlock(&t->mu);
    if (requeue) { sub_get(h, s); replay_enqueue(h, s); }
}
