/* cmd_trend.c — trend: NPS over time, as a table with a Unicode sparkline
 * on a terminal, or as an SVG chart for a report (--svg FILE): the NPS line
 * inside its 95% confidence band, with response volume as bars beneath, so
 * a reader sees at once which moves are real and which are noise. */
#include <errno.h>
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

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

typedef struct chart {
    double W, H, L, R, T, CH, VB; /* size, margins, NPS chart and volume heights */
} chart;

static double xpos(const chart *g, size_t i, size_t n)
{
    double w = g->W - g->L - g->R;
    return n <= 1 ? g->L + w / 2 : g->L + w * (double)i / (double)(n - 1);
}

static double ypos(const chart *g, double nps)
{
    return g->T + g->CH * (100.0 - nps) / 200.0;
}

/* One series: its 95% band (upper edge left to right, lower edge back),
 * its line, and a dot per non-empty bucket (a lone bucket is still seen). */
static void svg_series(FILE *f, const chart *g, const Feedback__V1__TrendSeries *s, const char *colour)
{
    size_t n = s->n_buckets;
    fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\" points=\"", colour);
    for (size_t i = 0; i < n; i++)
        if (s->buckets[i]->n)
            fprintf(f, "%.1f,%.1f ", xpos(g, i, n), ypos(g, fmin(100, s->buckets[i]->nps + s->buckets[i]->margin_95)));
    for (size_t i = n; i-- > 0;)
        if (s->buckets[i]->n)
            fprintf(f, "%.1f,%.1f ", xpos(g, i, n), ypos(g, fmax(-100, s->buckets[i]->nps - s->buckets[i]->margin_95)));
    fprintf(f, "\"/>\n<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colour);
    for (size_t i = 0; i < n; i++)
        if (s->buckets[i]->n) fprintf(f, "%.1f,%.1f ", xpos(g, i, n), ypos(g, s->buckets[i]->nps));
    fputs("\"/>\n", f);
    for (size_t i = 0; i < n; i++) /* whiskers: the band of a lone bucket has no width */
        if (s->buckets[i]->n)
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-opacity=\"0.6\"/>\n",
                    xpos(g, i, n), xpos(g, i, n), ypos(g, fmin(100, s->buckets[i]->nps + s->buckets[i]->margin_95)),
                    ypos(g, fmax(-100, s->buckets[i]->nps - s->buckets[i]->margin_95)), colour);
    for (size_t i = 0; i < n; i++)
        if (s->buckets[i]->n)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>NPS %+.1f ± %.1f, n=%u</title></circle>\n",
                    xpos(g, i, n), ypos(g, s->buckets[i]->nps), colour, s->buckets[i]->nps, s->buckets[i]->margin_95,
                    s->buckets[i]->n);
}

/* Volume bars: responses per bucket over all series. */
static void svg_volume(FILE *f, const chart *g, const Feedback__V1__Trend *t, size_t n)
{
    uint32_t maxn = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t sum = 0;
        for (size_t k = 0; k < t->n_series; k++) sum += i < t->series[k]->n_buckets ? t->series[k]->buckets[i]->n : 0;
        if (sum > maxn) maxn = sum;
    }
    double top = g->T + g->CH + 30, bw = n ? fmax(1.0, (g->W - g->L - g->R) / (double)n * 0.7) : 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t sum = 0;
        for (size_t k = 0; k < t->n_series; k++) sum += i < t->series[k]->n_buckets ? t->series[k]->buckets[i]->n : 0;
        double h = g->VB * sum / (double)maxn;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#999\"><title>n=%u</title></rect>\n",
                xpos(g, i, n) - bw / 2, top + g->VB - h, bw, h, sum);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">n %u</text>\n", g->L - 6, top + 10, maxn);
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">0</text>\n", g->L - 6, top + g->VB);
    size_t most = (size_t)((g->W - g->L - g->R) / 110); /* labels are about 100 px wide */
    size_t step = n > most ? (n + most - 1) / most : 1;
    for (size_t i = 0; i < n; i += step) {
        char when[32];
        bucket_label(t->series[0]->buckets[i]->start_ms, t->granularity, when, sizeof when);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", xpos(g, i, n), top + g->VB + 16,
                when);
    }
}

static int write_svg(const char *path, const Feedback__V1__Trend *t, const char *survey)
{
    static const char *const colours[] = {"#1f5fa8", "#d9534f", "#2e8b57", "#e69500", "#7b4fa8", "#555555"};
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "feedbackctl: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    const chart g = {900, 430, 70, 140, 40, 240, 80};
    size_t n = t->n_series ? t->series[0]->n_buckets : 0;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", g.W, g.H);
    fputs("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"16\">NPS with its 95%% confidence band", g.L);
    if (survey) { fputs(" — survey ", f); xml_text(f, survey); }
    fputs(" (", f);
    xml_text(f, t->timezone);
    fputs(")</text>\n", f);
    for (int v = -100; v <= 100; v += 50) {
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", g.L, g.W - g.R,
                ypos(&g, v), ypos(&g, v), v == 0 ? "#888" : "#ddd");
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%+d</text>\n", g.L - 6, ypos(&g, v) + 4, v);
    }
    for (size_t k = 0; k < t->n_series; k++) {
        const Feedback__V1__TrendSeries *s = t->series[k];
        const char *colour = colours[k % (sizeof colours / sizeof colours[0])];
        if (s->n_buckets == n) svg_series(f, &g, s, colour);
        if (t->n_series > 1 || (s->group && *s->group)) { /* legend */
            double y = g.T + 14 + 18 * (double)k;
            fprintf(f, "<rect x=\"%.0f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", g.W - g.R + 12, y - 10,
                    colour);
            fprintf(f, "<text x=\"%.0f\" y=\"%.1f\">", g.W - g.R + 30, y);
            xml_text(f, s->group && *s->group ? s->group : "(none)");
            fputs("</text>\n", f);
        }
    }
    if (n) svg_volume(f, &g, t, n);
    else fprintf(f, "<text x=\"%.0f\" y=\"%.1f\">no data in this range</text>\n", g.L + 10, ypos(&g, 0) - 6);
    fputs("</svg>\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "feedbackctl: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
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
        rc = write_svg(v, t, fbc_arg(&a, "survey"));
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
