/* cmd_trend.c — trend: NPS over time, as a table with a Unicode sparkline
 * on a terminal, or as an SVG chart for a report (--svg FILE): the NPS line
 * inside its 95% confidence band, with response volume as bars beneath, so
 * a reader sees at once which moves are real and which are noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "feedback/v1/insights.pb-c.h"
#include "json.h"
#include "msgutil.h"

static void bucket_label(int64_t ms, Feedback__V1__Granularity g, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm); /* TZ is set to the tenant's zone: labels read as its calendar */
    strftime(buf, len, g == FEEDBACK__V1__GRANULARITY__HOUR ? "%Y-%m-%d %H:%M"
                       : g == FEEDBACK__V1__GRANULARITY__MONTH ? "%Y-%m"
                                                               : "%Y-%m-%d", &tm);
}

/* ▁▂▃▄▅▆▇█ over -100..100; a dot for an empty bucket. */
static void sparkline(const Feedback__V1__TrendSeries *s)
{
    static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    for (size_t i = 0; i < s->n_buckets; i++) {
        const Feedback__V1__TrendBucket *b = s->buckets[i];
        if (b->n == 0) { fputs("·", stdout); continue; }
        int k = (int)floor((b->nps + 100.0) / 200.0 * 8.0);
        fputs(bars[k < 0 ? 0 : k > 7 ? 7 : k], stdout);
    }
    fputc('\n', stdout);
}

static void print_series(const Feedback__V1__Trend *t, const Feedback__V1__TrendSeries *s, int tty)
{
    if (t->n_series > 1 || (s->group && *s->group)) printf("== %s\n", *s->group ? s->group : "(none)");
    printf("%-18s %6s %7s %7s %9s %8s %7s\n", "start", "n", "NPS", "±95%", "sentiment", "reviews", "rating");
    for (size_t i = 0; i < s->n_buckets; i++) {
        const Feedback__V1__TrendBucket *b = s->buckets[i];
        char when[32];
        bucket_label(b->start_ms, t->granularity, when, sizeof when);
        if (b->n == 0 && b->reviews == 0) { printf("%-18s %6u %7s\n", when, 0u, "-"); continue; }
        printf("%-18s %6u %+7.1f %7.1f %+9.2f %8u %7.2f\n", when, b->n, b->nps, b->margin_95, b->mean_sentiment,
               b->reviews, b->mean_rating);
    }
    if (tty) { fputs("NPS ", stdout); sparkline(s); }
}

/* ---- SVG ---- */

static double xpos(size_t i, size_t n, double left, double width)
{
    return n <= 1 ? left + width / 2 : left + width * (double)i / (double)(n - 1);
}

static int write_svg(const char *path, const Feedback__V1__Trend *t)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return 1; }
    const double W = 900, H = 420, L = 60, R = 20, T = 40, CH = 240, VB = 80; /* chart and volume heights */
    const double cw = W - L - R;
    const Feedback__V1__TrendSeries *s = t->n_series ? t->series[0] : NULL;
    size_t n = s ? s->n_buckets : 0;
    uint32_t maxn = 1;
    for (size_t i = 0; i < n; i++) if (s->buckets[i]->n > maxn) maxn = s->buckets[i]->n;
#define Y(v) (T + CH * (100.0 - (v)) / 200.0)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"16\">NPS with 95%% confidence band%s%s</text>\n", L,
            s && s->group && *s->group ? " — " : "", s && s->group ? s->group : "");
    for (int v = -100; v <= 100; v += 50) {
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", L, W - R, Y(v), Y(v),
                v == 0 ? "#888" : "#ddd");
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%+d</text>\n", L - 6, Y(v) + 4, v);
    }
    /* band: upper edge left to right, lower edge back, over non-empty buckets */
    fprintf(f, "<polygon fill=\"#4a90d9\" fill-opacity=\"0.2\" stroke=\"none\" points=\"");
    for (size_t i = 0; i < n; i++)
        if (s->buckets[i]->n) fprintf(f, "%.1f,%.1f ", xpos(i, n, L, cw), Y(fmin(100, s->buckets[i]->nps + s->buckets[i]->margin_95)));
    for (size_t i = n; i-- > 0;)
        if (s->buckets[i]->n) fprintf(f, "%.1f,%.1f ", xpos(i, n, L, cw), Y(fmax(-100, s->buckets[i]->nps - s->buckets[i]->margin_95)));
    fprintf(f, "\"/>\n<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"2\" points=\"");
    for (size_t i = 0; i < n; i++)
        if (s->buckets[i]->n) fprintf(f, "%.1f,%.1f ", xpos(i, n, L, cw), Y(s->buckets[i]->nps));
    fprintf(f, "\"/>\n");
    double vb_top = T + CH + 30, bw = n ? fmax(1.0, cw / (double)n * 0.7) : 0;
    for (size_t i = 0; i < n; i++) {
        double h = VB * s->buckets[i]->n / (double)maxn;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#999\"/>\n",
                xpos(i, n, L, cw) - bw / 2, vb_top + VB - h, bw, h);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">n</text>\n", L - 6, vb_top + 10);
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%u</text>\n", L - 6, vb_top + 24, maxn);
    size_t step = n > 12 ? n / 12 : 1;
    for (size_t i = 0; i < n; i += step) {
        char when[32];
        bucket_label(s->buckets[i]->start_ms, t->granularity, when, sizeof when);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", xpos(i, n, L, cw),
                vb_top + VB + 16, when);
    }
    fprintf(f, "</svg>\n");
#undef Y
    return fclose(f) == 0 ? 0 : 1;
}

int cmd_trend(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"survey", "from", "to", "granularity", "group-by", "channel", "tag", "svg", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    Feedback__V1__TrendQuery q = FEEDBACK__V1__TREND_QUERY__INIT;
    Feedback__V1__Filter f = FEEDBACK__V1__FILTER__INIT;
    const char *v;
    if ((v = fbc_arg(&a, "survey"))) q.survey_id = (char *)v;
    if ((v = fbc_arg(&a, "group-by"))) q.group_by = (char *)v;
    q.granularity = FEEDBACK__V1__GRANULARITY__DAY;
    if ((v = fbc_arg(&a, "granularity"))) {
        int e = fbc_enum_value(&feedback__v1__granularity__descriptor, v);
        if (e <= 0) return fbc_usage("--granularity: hour, day, week or month, got '%s'", v);
        q.granularity = (Feedback__V1__Granularity)e;
    }
    if ((rc = fbc_range_args(&a, &q.from_ms, &q.to_ms)) || (rc = fbc_filter_args(&a, &f))) return rc;
    if (!fbc_arg(&a, "from")) {  /* default: the last 30 days (or 48 hours) */
        fbc_parse_time(q.granularity == FEEDBACK__V1__GRANULARITY__HOUR ? "48h" : "30d", &q.from_ms);
        if (!q.to_ms) fbc_parse_time("now", &q.to_ms);
    }
    if (f.channel[0] || f.n_tags) q.filter = &f;
    ProtobufCMessage *resp;
    fbc_status st;
    rc = fbc_unary(&c->conn, "/feedback.v1.Insights/GetTrend", &q.base, &feedback__v1__trend__descriptor, &resp, &st);
    fbc_free_tags(f.n_tags, (void **)f.tags);
    if (rc != GRPC_STATUS_OK) return fbc_fail(c, &st);
    const Feedback__V1__Trend *t = (const Feedback__V1__Trend *)resp;
    if (t->timezone && *t->timezone) { setenv("TZ", t->timezone, 1); tzset(); }
    rc = 0;
    if ((v = fbc_arg(&a, "svg"))) {
        rc = write_svg(v, t);
        if (!rc && !c->json) printf("wrote %s\n", v);
    }
    if (c->json) {
        fbc_json_print(stdout, resp);
        fputc('\n', stdout);
    } else if (!fbc_arg(&a, "svg")) {
        printf("time zone %s\n", t->timezone);
        for (size_t i = 0; i < t->n_series; i++) print_series(t, t->series[i], c->tty);
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    return rc;
}
