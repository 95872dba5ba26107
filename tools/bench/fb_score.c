/* fb_score — the text engine from the command line, for evaluation and
 * the score benchmark.
 *
 *   fb_score [--lexicons DIR] [--lang xx] < texts
 *       prints `compound<TAB>LABEL` per input line (fbctl_analyze_offline)
 *   fb_score --bench FILE [--lexicons DIR] [--lang xx]
 *       loads FILE, scores every line in a timed loop (repeated to >= 1 s,
 *       single thread) and prints `bytes texts seconds MB/s texts/s`;
 *       --passes N runs exactly N passes instead (for deterministic
 *       instruction counts under callgrind); --ingest scores with the
 *       flags the server uses at ingest (FB_SENT_TERMS: terms for TopTerms,
 *       aspects), not only compound and label as `analyze --offline` does
 *   fb_score --explain [--lang xx] < texts
 *       prints each text's compound, label, contributions, aspects and terms
 *   fb_score --rss [--lexicons DIR]
 *       loads every language and prints the max RSS in KB
 *
 * The lexicon directory defaults to $FB_LEXICON_DIR, else the build's
 * FB_LEXICON_DIR. The offline scorer is compiled in from client/offline.c
 * (bench programs are single-source executables). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../../client/offline.c"

typedef struct text { const char *s; size_t n; } text;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);   /* CPU time: robust on a busy machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static text *split_lines(char *buf, size_t len, size_t *count)
{
    size_t n = 0, cap = 1024;
    text *v = malloc(cap * sizeof *v);
    for (size_t i = 0; v && i < len;) {
        char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - buf) : len;
        size_t e = end;
        if (e > i && buf[e - 1] == '\r') e--;
        if (!fb_utf8_valid(buf + i, e - i)) repair_utf8(buf + i, e - i);
        if (n == cap) {
            text *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) { free(v); return NULL; }
            v = nv;
        }
        v[n++] = (text){ buf + i, e - i };
        i = end + 1;
    }
    *count = n;
    return v;
}

static int bench(const fb_textengine *te, const char *path, const char *lang, long passes,
                 int flags)
{
    size_t len, n;
    char *buf = slurp(path, &len);
    if (!buf) { fprintf(stderr, "fb_score: cannot read %s\n", path); return 1; }
    text *v = split_lines(buf, len, &n);
    if (!v || !n) { fprintf(stderr, "fb_score: %s has no lines\n", path); free(buf); free(v); return 1; }
    size_t bytes = 0, texts = 0;
    double t0 = now(), el = 0, sink = 0;
    do {
        for (size_t i = 0; i < n; i++) {
            fb_sentiment s;
            fb_err err;
            if (fb_sentiment_analyze(te, v[i].s, v[i].n, lang, "en", flags, &s, &err) == FB_OK) {
                sink += s.compound;
                fb_sentiment_free(&s);
            }
            bytes += v[i].n;
        }
        texts += n;
        el = now() - t0;
    } while (passes > 0 ? (long)(texts / n) < passes : el < 1.0);
    printf("%zu %zu %.3f %.2f %.0f\n", bytes, texts, el, (double)bytes / el / 1e6,
           (double)texts / el);
    if (sink == 12345.678) puts("");   /* keep the loop's result alive */
    free(v);
    free(buf);
    return 0;
}

static int explain(const fb_textengine *te, const char *lang)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (!fb_utf8_valid(line, len)) repair_utf8(line, len);
        fb_sentiment s;
        fb_err err;
        if (fb_sentiment_analyze(te, line, len, lang, "en", FB_SENT_EXPLAIN | FB_SENT_TERMS, &s, &err))
            continue;
        printf("%.4f\t%s\t%s\t%s\n", s.compound, fb_label_name(s.label), s.language, line);
        for (size_t i = 0; i < s.n_contributions; i++)
            printf("    %+.3f  %s [%s] %u-%u\n", s.contributions[i].value, s.contributions[i].token,
                   s.contributions[i].stem, s.contributions[i].start, s.contributions[i].end);
        for (size_t i = 0; i < s.n_aspects; i++)
            printf("    aspect %s %+.3f\n", s.aspects[i].aspect, s.aspects[i].compound);
        for (size_t i = 0; i < s.n_terms; i++)
            printf("    term %s %s %s\n", s.terms[i].stem, s.terms[i].surface,
                   s.terms[i].aspect ? s.terms[i].aspect : "-");
        fb_sentiment_free(&s);
    }
    free(line);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *lang = NULL, *bench_file = NULL;
    int rss = 0, expl = 0;
    long passes = 0;
    int flags = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--lexicons") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--lang") && i + 1 < argc) lang = argv[++i];
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc) bench_file = argv[++i];
        else if (!strcmp(argv[i], "--passes") && i + 1 < argc) passes = atol(argv[++i]);
        else if (!strcmp(argv[i], "--ingest")) flags = FB_SENT_TERMS;
        else if (!strcmp(argv[i], "--rss")) rss = 1;
        else if (!strcmp(argv[i], "--explain")) expl = 1;
        else {
            fprintf(stderr, "usage: fb_score [--lexicons DIR] [--lang xx] [--bench FILE [--passes N] [--ingest] | --rss | --explain] < texts\n");
            return 2;
        }
    }
    fb_textengine *te;
    fb_err err = { 0 };
    if (fb_text_open(&te, dir, &err)) {
        fprintf(stderr, "fb_score: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (rss) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("%ld\n", ru.ru_maxrss);
    } else if (expl) {
        rc = explain(te, lang);
    } else if (bench_file) {
        rc = bench(te, bench_file, lang, passes, flags);
    } else if (fbctl_analyze_offline(te, lang, stdin, stdout, &err)) {
        fprintf(stderr, "fb_score: %s\n", err.msg);
        rc = 1;
    }
    fb_text_close(te);
    return rc;
}
