/* engine_ingest.c — a bounded, deterministic driver of the ingest engine
 * without gRPC, for instruction counts of the store pipeline:
 *
 *   valgrind --tool=callgrind --separate-threads=yes build/engine_ingest 20000
 *
 * It opens the server's modules as main.c does (store, settings, feedback,
 * trends + terms, alerts, the text engine, the two feedback hooks) in a
 * fresh temporary directory and submits N copies of tools/bench/ingest's
 * request (survey "checkout-2024", score 9, a comment, channel "web", tag
 * location=berlin) through fb_ingest_submit_response from T threads, at
 * most INFLIGHT in flight in all (like h2load -c 10 -m 10: 100), waits for
 * every done callback, prints calls/s and the store's counters, closes
 * everything and removes the directory. Durability is on (as in
 * production) unless --no-sync.
 *
 * usage: engine_ingest [N=20000] [--threads T=2] [--inflight I=100]
 *        [--no-sync] [--dir PARENT=/tmp]
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/alerts.h"
#include "engine/ingest.h"
#include "engine/settings.h"
#include "engine/store.h"
#include "engine/trends.h"

typedef struct driver {
    fb_ingest_env env;
    const Feedback__V1__SubmitResponseRequest *req;
    long per_thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long inflight, max_inflight, done, failed;
} driver;

static void on_done(void *arg, int rc, const fb_err *err, const fb_ingest_result *res)
{
    (void)res;
    driver *d = arg;
    pthread_mutex_lock(&d->mu);
    if (rc) {
        if (d->failed++ == 0) fprintf(stderr, "engine_ingest: submit failed: %s\n", err ? err->msg : "?");
    }
    d->done++;
    d->inflight--;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void *submitter(void *arg)
{
    driver *d = arg;
    for (long i = 0; i < d->per_thread; i++) {
        pthread_mutex_lock(&d->mu);
        while (d->inflight >= d->max_inflight) pthread_cond_wait(&d->cv, &d->mu);
        d->inflight++;
        pthread_mutex_unlock(&d->mu);
        fb_err err = {0};
        if (fb_ingest_submit_response(&d->env, 1, d->req, on_done, d, &err) != FB_OK) {
            pthread_mutex_lock(&d->mu);
            if (d->failed == 0) fprintf(stderr, "engine_ingest: not queued: %s\n", err.msg);
            d->inflight--;
            d->failed++;
            d->done++;
            pthread_mutex_unlock(&d->mu);
        }
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU nanoseconds (user + system) of this process's thread named comm so
 * far, from /proc/self/task/<tid>/schedstat (sys: instead the system time
 * from .../stat, in clock ticks turned into ns); 0 if there is none. */
static uint64_t thread_time_ns(const char *comm, int sys)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return 0;
    uint64_t ns = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char path[300], name[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(name, sizeof name, f)) name[strcspn(name, "\n")] = '\0';
        fclose(f);
        if (strcmp(name, comm) != 0) continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/%s", e->d_name, sys ? "stat" : "schedstat");
        unsigned long long v = 0;
        if ((f = fopen(path, "r")) != NULL) {
            if (!sys && fscanf(f, "%llu", &v) == 1) ns += v;
            if (sys && fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %llu", &v) == 1)
                ns += v * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
            fclose(f);
        }
    }
    closedir(d);
    return ns;
}

typedef struct modules {
    fb_store *st;
    fb_settings *settings;
    fb_feedback *fb;
    fb_trends *trends;
    fb_alerts *alerts;
    fb_textengine *text;
} modules;

static int open_modules(modules *m, const char *dir, int no_sync, fb_err *err)
{
    const char *lex = getenv("FB_LEXICON_DIR");
    fb_store_opts so = {.no_sync = no_sync};
    int rc = fb_store_open(&m->st, dir, &so, err);
    if (!rc) rc = fb_text_open(&m->text, lex && *lex ? lex : FB_LEXICON_DIR, err);
    if (!rc) rc = fb_settings_open(&m->settings, m->st, err);
    if (!rc) rc = fb_feedback_open(&m->fb, m->st, err);
    if (!rc) rc = fb_trends_open(&m->trends, m->st, NULL, err);
    if (!rc) {
        fb_alerts_opts ao = {.settings = fb_alerts_settings_provider, .settings_ctx = m->settings,
                             .nps = fb_alerts_nps_provider, .nps_ctx = m->trends};
        rc = fb_alerts_open(&m->alerts, m->st, &ao, err);
    }
    if (!rc) rc = fb_feedback_add_hook(m->fb, fb_trends_hook, m->trends, err);
    if (!rc) rc = fb_feedback_add_hook(m->fb, fb_alerts_feedback_hook, m->alerts, err);
    return rc;
}

static void close_modules(modules *m)
{
    if (m->alerts) fb_alerts_close(m->alerts);
    if (m->trends) fb_trends_close(m->trends);
    if (m->fb) fb_feedback_close(m->fb);
    if (m->settings) fb_settings_close(m->settings);
    if (m->st) fb_store_close(m->st);
    if (m->text) fb_text_close(m->text);
}

int main(int argc, char **argv)
{
    long n = 20000;
    int threads = 2, no_sync = 0;
    long inflight = 100;
    const char *parent = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--inflight") && i + 1 < argc) inflight = atol(argv[++i]);
        else if (!strcmp(argv[i], "--no-sync")) no_sync = 1;
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) parent = argv[++i];
        else if (argv[i][0] != '-') n = atol(argv[i]);
        else {
            fprintf(stderr, "usage: engine_ingest [N] [--threads T] [--inflight I] [--no-sync] [--dir PARENT]\n");
            return 2;
        }
    }
    if (n < 1 || n > 10000000 || threads < 1 || threads > 64 || inflight < 1) {
        fprintf(stderr, "engine_ingest: N 1..1e7, threads 1..64, inflight >= 1\n");
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/engine_ingest.XXXXXX", parent);
    if (!mkdtemp(dir)) {
        perror("engine_ingest: mkdtemp");
        return 1;
    }

    modules m = {0};
    fb_err err = {0};
    if (open_modules(&m, dir, no_sync, &err) != FB_OK) {
        fprintf(stderr, "engine_ingest: open: %s\n", err.msg);
        close_modules(&m);
        return 1;
    }

    Feedback__V1__SubmitResponseRequest req = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__INIT;
    Feedback__V1__SubmitResponseRequest__TagsEntry tag = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__TAGS_ENTRY__INIT;
    Feedback__V1__SubmitResponseRequest__TagsEntry *tags[1] = {&tag};
    tag.key = "location";
    tag.value = "berlin";
    req.survey_id = "checkout-2024";
    req.score_present_case = FEEDBACK__V1__SUBMIT_RESPONSE_REQUEST__SCORE_PRESENT_SCORE;
    req.score = 9;
    req.comment = "Fast delivery and friendly staff, but the app crashed once.";
    req.channel = "web";
    req.tags = tags;
    req.n_tags = 1;

    driver d = {.env = {.feedback = m.fb, .text = m.text, .default_language = NULL},
                .req = &req, .per_thread = (n + threads - 1) / threads, .max_inflight = inflight};
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    long total = d.per_thread * threads;
    uint64_t w0 = thread_time_ns("fb-writer", 0), s0 = thread_time_ns("fb-syncer", 0);
    uint64_t k0 = thread_time_ns("fb-writer", 1);
    double t0 = now_s();
    pthread_t tid[64];
    for (int i = 0; i < threads; i++) pthread_create(&tid[i], NULL, submitter, &d);
    for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    pthread_mutex_lock(&d.mu);
    while (d.done < total) pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    double dt = now_s() - t0;
    uint64_t w1 = thread_time_ns("fb-writer", 0), s1 = thread_time_ns("fb-syncer", 0);
    uint64_t k1 = thread_time_ns("fb-writer", 1);

    fb_store_counters c;
    fb_store_stats(m.st, &c);
    printf("engine_ingest: %ld submissions (%ld failed) in %.2f s: %.0f/s; %llu batches (%.1f per batch), "
           "%llu syncs, largest batch %u\n",
           total, d.failed, dt, (double)total / dt, (unsigned long long)c.batches,
           c.batches ? (double)c.ops / (double)c.batches : 0.0, (unsigned long long)c.syncs, c.largest_batch);
    printf("engine_ingest: CPU per submission: fb-writer %.2f us (of it system %.2f us), fb-syncer %.2f us\n",
           (double)(w1 - w0) / 1e3 / (double)total, (double)(k1 - k0) / 1e3 / (double)total,
           (double)(s1 - s0) / 1e3 / (double)total);
    close_modules(&m);
    pthread_cond_destroy(&d.cv);
    pthread_mutex_destroy(&d.mu);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "engine_ingest: could not remove %s\n", dir);
    return d.failed ? 1 : 0;
}
