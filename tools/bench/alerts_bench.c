/* alerts_bench.c — the load generator behind tools/bench/alerts (run that).
 *
 * A gRPC C-core client (no generated stubs: protobuf-c messages packed by
 * hand into byte buffers) against a running feedbackd on loopback:
 *
 *   latency    S subscribers stream every alert; submissions of detractors
 *              at R per second (open loop, paced); for every (subscriber,
 *              alert) the time from the Submit reply reaching the client to
 *              the alert reaching that subscriber: p50, p99, max. (An alert
 *              may arrive before its reply — publication happens when the
 *              batch is durable, the reply a moment later: counted as 0.)
 *   ingest     closed-loop submissions (C in flight) for T seconds with no
 *              subscriber, then with I idle subscribers connected (their
 *              filter matches nothing, so the hub walks them for every
 *              alert): calls/s and the ratio.
 *   memory     feedbackd's VmRSS before and after opening the I idle
 *              subscribers: bytes per subscriber.
 *
 * Bounded: every phase has a fixed count or duration and a deadline.
 * usage: alerts_bench ADDR SUBMIT_KEY ALERTS_KEY SERVER_PID
 *        [--rate R] [--seconds T] [--subs S] [--idle I] [--inflight C]
 *        [--ingest 0]  (skip the ingest and memory phases)
 */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "feedback/v1/alerts.pb-c.h"
#include "feedback/v1/ingest.pb-c.h"

static const char *addr, *submit_key, *alerts_key;
static int idle_health; /* --idle-health 1: idle streams are Health/Watch (the runtime's own stream) */
static int server_pid;
static atomic_ulong last_seq; /* highest alert seq any reply carried */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static gpr_timespec in_ms(int ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static grpc_byte_buffer *pack(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader r;
    if (!bb || !grpc_byte_buffer_reader_init(&r, bb)) return NULL;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    return m;
}

static uint64_t seq_of_id(const char *id)
{
    return strncmp(id, "al_", 3) == 0 ? strtoull(id + 3, NULL, 16) : 0;
}

/* ---- subscribers -------------------------------------------------------------- */

enum { TAG_START, TAG_MSG, TAG_STATUS };

typedef struct stream {
    grpc_call *call;
    struct { struct stream *s; int kind; } tags[3];
    grpc_metadata_array md_in, trailers;
    grpc_byte_buffer *recv;
    grpc_status_code status;
    grpc_slice details;
    int64_t *arrival;       /* by seq - base, 0: not yet (NULL for idle streams) */
    uint64_t base;
    size_t max_seq;
    atomic_size_t received;
    atomic_int done;
} stream;

typedef struct pool {
    grpc_completion_queue *cq;
    pthread_t threads[2];
    int n_threads;
} pool;

static void start_recv(stream *s)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &s->recv;
    grpc_call_start_batch(s->call, &op, 1, &s->tags[TAG_MSG], NULL);
}

static void on_stream_event(stream *s, int kind, int ok)
{
    if (kind == TAG_START) {
        if (ok) start_recv(s);
        return;
    }
    if (kind == TAG_STATUS) {
        atomic_store(&s->done, 1);
        return;
    }
    if (!ok || !s->recv) return; /* stream over: the status tag follows */
    int64_t t = now_ns();
    Feedback__V1__Alert *a = (Feedback__V1__Alert *)unpack(&feedback__v1__alert__descriptor, s->recv);
    grpc_byte_buffer_destroy(s->recv);
    s->recv = NULL;
    if (a) {
        if (s->arrival && a->seq > s->base && a->seq - s->base <= s->max_seq) s->arrival[a->seq - s->base] = t;
        feedback__v1__alert__free_unpacked(a, NULL);
    }
    atomic_fetch_add(&s->received, 1);
    start_recv(s);
}

static void *stream_poller(void *arg)
{
    pool *p = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(p->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) return NULL;
        if (ev.type != GRPC_OP_COMPLETE) continue;
        struct { stream *s; int kind; } *tag = ev.tag;
        on_stream_event(tag->s, tag->kind, ev.success);
    }
}

static void stream_open(stream *s, grpc_channel *ch, grpc_completion_queue *cq, const char *survey_filter,
                        uint64_t after_seq)
{
    bool health = idle_health && survey_filter && !strcmp(survey_filter, "no-such-survey");
    grpc_slice method = grpc_slice_from_static_string(health ? "/grpc.health.v1.Health/Watch"
                                                             : "/feedback.v1.Alerts/Subscribe");
    s->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL,
                                       gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    for (int k = 0; k < 3; k++) s->tags[k].s = s, s->tags[k].kind = k;
    grpc_metadata_array_init(&s->md_in);
    grpc_metadata_array_init(&s->trailers);
    char bearer[128];
    snprintf(bearer, sizeof bearer, "Bearer %s", alerts_key);
    grpc_metadata md = {.key = grpc_slice_from_static_string("authorization"),
                        .value = grpc_slice_from_copied_string(bearer)};
    Feedback__V1__SubscribeRequest req = FEEDBACK__V1__SUBSCRIBE_REQUEST__INIT;
    char *surveys[1] = {(char *)survey_filter};
    if (survey_filter) req.survey_ids = surveys, req.n_survey_ids = 1;
    req.after_seq = after_seq; /* live only: no replay of the earlier phases */
    grpc_byte_buffer *bb = health ? grpc_raw_byte_buffer_create(NULL, 0) : pack(&req.base);
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = &md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->md_in;
    grpc_call_start_batch(s->call, ops, 4, &s->tags[TAG_START], NULL);
    grpc_op st;
    memset(&st, 0, sizeof st);
    st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    st.data.recv_status_on_client.trailing_metadata = &s->trailers;
    st.data.recv_status_on_client.status = &s->status;
    st.data.recv_status_on_client.status_details = &s->details;
    grpc_call_start_batch(s->call, &st, 1, &s->tags[TAG_STATUS], NULL);
    grpc_byte_buffer_destroy(bb);
    grpc_slice_unref(md.value);
}

static void streams_close(stream *v, size_t n)
{
    for (size_t i = 0; i < n; i++) grpc_call_cancel(v[i].call, NULL);
    for (int w = 0; w < 5000; w++) { /* bounded: 5 s */
        size_t open = 0;
        for (size_t i = 0; i < n; i++) open += !atomic_load(&v[i].done);
        if (!open) break;
        usleep(1000);
    }
    for (size_t i = 0; i < n; i++) {
        grpc_call_unref(v[i].call);
        grpc_metadata_array_destroy(&v[i].md_in);
        grpc_metadata_array_destroy(&v[i].trailers);
        grpc_slice_unref(v[i].details);
        free(v[i].arrival);
    }
}

/* ---- submissions ---------------------------------------------------------------- */

typedef struct unary {
    grpc_call *call;
    grpc_metadata_array md_in, trailers;
    grpc_byte_buffer *reply;
    grpc_status_code status;
    grpc_slice details;
    int64_t sent_ns;
} unary;

typedef struct submitter {
    grpc_channel *ch;
    grpc_completion_queue *cq;
    atomic_long ok, failed;
    int64_t *reply_ns;   /* by alert seq - base (latency phase) */
    uint64_t base;
    size_t max_seq;
} submitter;

static void submit_one(submitter *sb, const char *survey, int score)
{
    unary *u = calloc(1, sizeof *u);
    grpc_slice method = grpc_slice_from_static_string("/feedback.v1.Ingest/SubmitResponse");
    u->call = grpc_channel_create_call(sb->ch, NULL, GRPC_PROPAGATE_DEFAULTS, sb->cq, method, NULL,
                                       in_ms(10000), NULL);
    grpc_metadata_array_init(&u->md_in);
    grpc_metadata_array_init(&u->trailers);
    char bearer[128];
    snprintf(bearer, sizeof bearer, "Bearer %s", submit_key);
    grpc_metadata md = {.key = grpc_slice_from_static_string("authorization"),
                        .value = grpc_slice_from_copied_string(bearer)};
    Feedback__V1__SubmitResponseRequest req = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__INIT;
    req.survey_id = (char *)survey;
    req.score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE;
    req.score = score;
    req.comment = "The food was cold and the waiter was rude.";
    grpc_byte_buffer *bb = pack(&req.base);
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = &md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &u->md_in;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &u->reply;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &u->trailers;
    ops[5].data.recv_status_on_client.status = &u->status;
    ops[5].data.recv_status_on_client.status_details = &u->details;
    u->sent_ns = now_ns();
    grpc_call_start_batch(u->call, ops, 6, u, NULL);
    grpc_byte_buffer_destroy(bb);
    grpc_slice_unref(md.value);
}

/* Handles one reply; returns false when the queue is drained past deadline. */
static bool reap_one(submitter *sb, int wait_ms)
{
    grpc_event ev = grpc_completion_queue_next(sb->cq, in_ms(wait_ms), NULL);
    if (ev.type != GRPC_OP_COMPLETE) return false;
    unary *u = ev.tag;
    int64_t t = now_ns();
    bool good = ev.success && u->status == GRPC_STATUS_OK;
    if (good) {
        Feedback__V1__Submitted *r = (Feedback__V1__Submitted *)unpack(&feedback__v1__submitted__descriptor, u->reply);
        if (r && r->n_alert_ids) {
            uint64_t seq = seq_of_id(r->alert_ids[0]), cur = atomic_load(&last_seq);
            while (seq > cur && !atomic_compare_exchange_weak(&last_seq, &cur, seq)) {}
            if (sb->reply_ns && seq > sb->base && seq - sb->base <= sb->max_seq) sb->reply_ns[seq - sb->base] = t;
        }
        if (r) feedback__v1__submitted__free_unpacked(r, NULL);
    }
    if (!good && atomic_load(&sb->failed) < 3) {
        char *d = grpc_slice_to_c_string(u->details);
        fprintf(stderr, "alerts_bench: submit failed: status %d %s\n", u->status, d);
        gpr_free(d);
    }
    atomic_fetch_add(good ? &sb->ok : &sb->failed, 1);
    if (u->reply) grpc_byte_buffer_destroy(u->reply);
    grpc_metadata_array_destroy(&u->md_in);
    grpc_metadata_array_destroy(&u->trailers);
    grpc_slice_unref(u->details);
    grpc_call_unref(u->call);
    free(u);
    return true;
}

/* ---- phases ---------------------------------------------------------------------- */

static long rss_kb(void)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", server_pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

/* feedbackd's CPU time so far (user + system), in seconds: the cost of a
 * phase measured this way is far less noisy than latency on a shared box. */
static double server_cpu_s(void)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", server_pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* fields after the command name */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Closed loop: `inflight` submissions outstanding for `seconds`. */
static double ingest_rate(grpc_channel *ch, int inflight, int seconds)
{
    submitter sb = {.ch = ch, .cq = grpc_completion_queue_create_for_next(NULL)};
    int64_t end = now_ns() + (int64_t)seconds * 1000000000;
    for (int i = 0; i < inflight; i++) submit_one(&sb, "bench", 2);
    long outstanding = inflight;
    int64_t t0 = now_ns();
    while (outstanding > 0) {
        if (!reap_one(&sb, 10000)) break;
        outstanding--;
        if (now_ns() < end) {
            submit_one(&sb, "bench", 2);
            outstanding++;
        }
    }
    double secs = (now_ns() - t0) / 1e9;
    grpc_completion_queue_shutdown(sb.cq);
    while (grpc_completion_queue_next(sb.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {}
    grpc_completion_queue_destroy(sb.cq);
    if (sb.failed) fprintf(stderr, "alerts_bench: %ld submissions failed\n", (long)sb.failed);
    return sb.ok / secs;
}

static void latency_phase(grpc_channel *ch, grpc_channel *sub_ch, pool *p, int subs, int rate, int seconds)
{
    size_t n = (size_t)rate * seconds;
    uint64_t base = atomic_load(&last_seq);
    size_t max_seq = n + 16;
    stream *v = calloc(subs, sizeof *v);
    for (int i = 0; i < subs; i++) {
        v[i].arrival = calloc(max_seq + 1, sizeof(int64_t));
        v[i].max_seq = max_seq;
        v[i].base = base;
        stream_open(&v[i], sub_ch, p->cq, "latency", base);
    }
    usleep(500000); /* let them register and finish their (empty) replay */
    submitter sb = {.ch = ch, .cq = grpc_completion_queue_create_for_next(NULL), .max_seq = max_seq, .base = base};
    sb.reply_ns = calloc(max_seq + 1, sizeof(int64_t));
    double cpu0 = server_cpu_s();
    int64_t t0 = now_ns(), step = 1000000000LL / rate;
    size_t sent = 0, reaped = 0;
    while (reaped < n) { /* open loop: send on schedule, reap in between */
        int64_t due = t0 + (int64_t)sent * step;
        if (sent < n && now_ns() >= due) {
            submit_one(&sb, "latency", 2);
            sent++;
            continue;
        }
        int wait = sent < n ? (int)((due - now_ns()) / 1000000) : 10000;
        if (!reap_one(&sb, wait < 0 ? 0 : wait) && sent == n) break;
        else reaped = (size_t)(sb.ok + sb.failed);
    }
    double send_secs = (now_ns() - t0) / 1e9;
    /* wait (bounded) for every subscriber to have every alert */
    for (int w = 0; w < 10000; w++) {
        size_t missing = 0;
        for (int i = 0; i < subs; i++) missing += atomic_load(&v[i].received) < (size_t)sb.ok;
        if (!missing) break;
        usleep(1000);
    }
    double cpu = server_cpu_s() - cpu0;
    int64_t *lat = malloc(sizeof(int64_t) * (size_t)subs * n);
    size_t m = 0, early = 0, lost = 0;
    for (size_t seq = 1; seq <= max_seq; seq++) {
        if (!sb.reply_ns[seq]) continue;
        for (int i = 0; i < subs; i++) {
            int64_t a = v[i].arrival[seq];
            if (!a) { lost++; continue; }
            int64_t d = a - sb.reply_ns[seq];
            if (d < 0) { early++; d = 0; }
            lat[m++] = d;
        }
    }
    qsort(lat, m, sizeof *lat, cmp_i64);
    printf("latency: %d subscribers, %zu submissions at %d/s (sent in %.2f s, %ld failed)\n",
           subs, n, rate, send_secs, (long)sb.failed);
    if (m)
        printf("  Submit reply -> alert at subscriber: p50 %.3f ms  p99 %.3f ms  max %.3f ms"
               "  (%zu deliveries, %zu before the reply, %zu missing)\n",
               lat[m / 2] / 1e6, lat[(size_t)(m * 0.99)] / 1e6, lat[m - 1] / 1e6, m, early, lost);
    if (sb.ok && cpu >= 0)
        printf("  feedbackd CPU in this phase: %.2f s = %.0f us per submission (ingest + fan-out to %d)\n",
               cpu, cpu * 1e6 / (double)sb.ok, subs);
    free(lat);
    free(sb.reply_ns);
    grpc_completion_queue_shutdown(sb.cq);
    while (grpc_completion_queue_next(sb.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {}
    grpc_completion_queue_destroy(sb.cq);
    streams_close(v, subs);
    free(v);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: alerts_bench ADDR SUBMIT_KEY ALERTS_KEY SERVER_PID [--rate R] [--seconds T]"
                        " [--subs S] [--idle I] [--inflight C]\n");
        return 2;
    }
    addr = argv[1], submit_key = argv[2], alerts_key = argv[3], server_pid = atoi(argv[4]);
    int rate = 1000, seconds = 5, subs = 100, idle = 1000, inflight = 64, do_ingest = 1;
    for (int i = 5; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--rate")) rate = v;
        else if (!strcmp(argv[i], "--seconds")) seconds = v;
        else if (!strcmp(argv[i], "--subs")) subs = v;
        else if (!strcmp(argv[i], "--idle")) idle = v;
        else if (!strcmp(argv[i], "--inflight")) inflight = v;
        else if (!strcmp(argv[i], "--idle-health")) idle_health = v;
        else if (!strcmp(argv[i], "--ingest")) do_ingest = v;
    }
    grpc_init();
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_arg a = {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, .value.integer = 1};
    grpc_channel_args args = {1, &a};
    grpc_channel *ch = grpc_channel_create(addr, creds, &args);
    grpc_channel *ch2 = grpc_channel_create(addr, creds, &args); /* subscribers' own connection */
    grpc_channel_credentials_release(creds);
    pool p = {.cq = grpc_completion_queue_create_for_next(NULL), .n_threads = 2};
    for (int i = 0; i < p.n_threads; i++) pthread_create(&p.threads[i], NULL, stream_poller, &p);

    /* ingest with and without idle subscribers, interleaved (the machine is
     * shared: alternating rounds and medians keep the comparison fair) */
    ingest_rate(ch, inflight, 1); /* warm-up */
    enum { ROUNDS = 5 };
    if (!do_ingest) goto latency; /* --ingest 0: the latency phase only */
    double none[ROUNDS], with_idle[ROUNDS];
    long rss0 = 0, rss1 = 0;
    double cpu_none = 0, cpu_idle = 0, calls_none = 0, calls_idle = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double c0 = server_cpu_s();
        none[r] = ingest_rate(ch, inflight, seconds);
        cpu_none += server_cpu_s() - c0, calls_none += none[r] * seconds;
        if (r == 0) rss0 = rss_kb();
        stream *v = calloc(idle, sizeof *v);
        for (int i = 0; i < idle; i++) stream_open(&v[i], ch2, p.cq, "no-such-survey", atomic_load(&last_seq));
        sleep(1);
        if (r == 0) rss1 = rss_kb();
        c0 = server_cpu_s();
        with_idle[r] = ingest_rate(ch, inflight, seconds);
        cpu_idle += server_cpu_s() - c0, calls_idle += with_idle[r] * seconds;
        streams_close(v, idle);
        free(v);
        printf("  round %d: %.0f calls/s with no subscriber, %.0f with %d idle\n", r + 1, none[r], with_idle[r], idle);
    }
    qsort(none, ROUNDS, sizeof none[0], cmp_double);
    qsort(with_idle, ROUNDS, sizeof with_idle[0], cmp_double);
    printf("ingest (median of %d): %.0f calls/s with no subscriber, %.0f with %d idle subscribers: %.1f %%\n",
           ROUNDS, none[ROUNDS / 2], with_idle[ROUNDS / 2], idle, 100.0 * with_idle[ROUNDS / 2] / none[ROUNDS / 2]);
    if (calls_none > 0 && calls_idle > 0)
        printf("  feedbackd CPU per submission: %.0f us with no subscriber, %.0f us with %d idle"
               " (less noisy than calls/s on a shared machine)\n",
               cpu_none * 1e6 / calls_none, cpu_idle * 1e6 / calls_idle, idle);
    printf("memory: feedbackd RSS %ld kB -> %ld kB with %d idle subscribers: %.0f bytes each\n",
           rss0, rss1, idle, idle ? (rss1 - rss0) * 1024.0 / idle : 0);

    /* the latency phase: seqs continue from what ingest created */
latency:
    latency_phase(ch, ch2, &p, subs, rate, seconds);

    grpc_completion_queue_shutdown(p.cq);
    for (int i = 0; i < p.n_threads; i++) pthread_join(p.threads[i], NULL);
    grpc_completion_queue_destroy(p.cq);
    grpc_channel_destroy(ch);
    grpc_channel_destroy(ch2);
    grpc_shutdown();
    return 0;
}
