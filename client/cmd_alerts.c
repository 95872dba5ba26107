/* cmd_alerts.c — watch, alerts, ack, resolve: the staff side.
 *
 * watch keeps a Subscribe stream open and prints one line per alert,
 * coloured by severity on a terminal. After every alert it stores the alert's
 * seq in a small state file (written to a temporary file and renamed, so a
 * crash never leaves half a number). When the stream ends for any reason but
 * a permanent one (bad key, bad filter) it reconnects with after_seq = that
 * seq, backing off up to 30 s: the server then replays exactly what was
 * missed, so a laptop that slept misses nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "feedback/v1/alerts.pb-c.h"
#include "json.h"
#include "msgutil.h"

static const char *severity_colour(Feedback__V1__Severity s)
{
    switch (s) {
    case FEEDBACK__V1__SEVERITY__LOW: return "\033[36m";
    case FEEDBACK__V1__SEVERITY__MEDIUM: return "\033[33m";
    case FEEDBACK__V1__SEVERITY__HIGH: return "\033[31m";
    case FEEDBACK__V1__SEVERITY__CRITICAL: return "\033[1;41;97m";
    default: return "";
    }
}

static void print_alert_line(const Feedback__V1__Alert *a, int colour)
{
    char when[32];
    fbc_format_time(a->created_ms, when, sizeof when);
    printf("%s%s  #%" PRIu64 " %-8s %-19s%s", colour ? severity_colour(a->severity) : "", when, a->seq,
           fbc_enum_name(&feedback__v1__severity__descriptor, a->severity),
           fbc_enum_name(&feedback__v1__alert__kind__descriptor, a->kind), colour ? "\033[0m" : "");
    printf("  %s", a->id);
    if (a->survey_id && *a->survey_id) printf("  survey=%s", a->survey_id);
    if (a->score_present_case == FEEDBACK__V1__ALERT__SCORE_PRESENT_SCORE) printf(" score=%d", a->score);
    if (a->rating) printf(" rating=%d★", a->rating);
    if (a->state != FEEDBACK__V1__ALERT_STATE__OPEN && a->state != 0)
        printf(" [%s by %s]", fbc_enum_name(&feedback__v1__alert_state__descriptor, a->state), a->acked_by);
    printf("  %s", a->reason);
    if (a->excerpt && *a->excerpt) { fputs("  ", stdout); fbc_print_excerpt(stdout, a->excerpt, 100); }
    fputc('\n', stdout);
}

static void default_state_file(const char *addr, char *buf, size_t len)
{
    const char *home = getenv("HOME");
    char safe[128];
    size_t j = 0;
    for (const char *p = addr; *p && j + 1 < sizeof safe; p++)
        safe[j++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ? *p : '_');
    safe[j] = 0;
    snprintf(buf, len, "%s/.feedbackctl-watch-%s", home && *home ? home : ".", safe);
}

static uint64_t read_state(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long v = 0;
    if (fscanf(f, "%llu", &v) != 1) v = 0;
    fclose(f);
    return (uint64_t)v;
}

static int write_state(const char *path, uint64_t seq)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%" PRIu64 "\n", seq);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) { fclose(f); return -1; }
    if (fclose(f) != 0) return -1;
    return rename(tmp, path);
}

static int permanent(grpc_status_code code)
{
    return code == GRPC_STATUS_UNAUTHENTICATED || code == GRPC_STATUS_PERMISSION_DENIED ||
           code == GRPC_STATUS_INVALID_ARGUMENT || code == GRPC_STATUS_UNIMPLEMENTED;
}

/* The Subscribe filter from --survey, --kind and --min-severity; the arrays
 * are the caller's. Returns 0 or 2. */
static int watch_filter(const fbc_args *a, Feedback__V1__SubscribeRequest *req, char **surveys,
                        Feedback__V1__Alert__Kind *kinds)
{
    const char *v;
    for (int i = 0; i < 32 && (v = fbc_arg_nth(a, "survey", i)); i++) surveys[req->n_survey_ids++] = (char *)v;
    for (int i = 0; i < 16 && (v = fbc_arg_nth(a, "kind", i)); i++) {
        int e = fbc_enum_value(&feedback__v1__alert__kind__descriptor, v);
        if (e <= 0)
            return fbc_usage("--kind: detractor, negative_text, keyword, low_rating, score_text_mismatch, "
                             "nps_drop or sla_breach, got '%s'", v);
        kinds[req->n_kinds++] = (Feedback__V1__Alert__Kind)e;
    }
    req->survey_ids = surveys;
    req->kinds = kinds;
    if ((v = fbc_arg(a, "min-severity"))) {
        int e = fbc_enum_value(&feedback__v1__severity__descriptor, v);
        if (e <= 0) return fbc_usage("--min-severity: low, medium, high or critical, got '%s'", v);
        req->min_severity = (Feedback__V1__Severity)e;
    }
    return 0;
}

/* One Subscribe stream from *seq: prints alerts and stores each seq until
 * the stream ends or *seen reaches max_alerts (then the call is cancelled).
 * Returns the final status. */
static grpc_status_code watch_stream(fbc_ctx *c, Feedback__V1__SubscribeRequest *req, const char *state,
                                     uint64_t *seq, long max_alerts, long *seen, fbc_status *st)
{
    req->after_seq = *seq;
    fbc_stream *s = fbc_stream_open(&c->conn, "/feedback.v1.Alerts/Subscribe", &req->base, 1, 0);
    ProtobufCMessage *m;
    while (!(max_alerts >= 0 && *seen >= max_alerts) &&
           fbc_stream_recv(s, &feedback__v1__alert__descriptor, &m) == 1) {
        const Feedback__V1__Alert *al = (const Feedback__V1__Alert *)m;
        if (c->json) { fbc_json_print(stdout, m); fputc('\n', stdout); }
        else print_alert_line(al, c->colour);
        fflush(stdout);
        if (al->seq > *seq) {
            *seq = al->seq;
            if (write_state(state, *seq) != 0)
                fprintf(stderr, "feedbackctl: cannot write %s: %s\n", state, strerror(errno));
        }
        protobuf_c_message_free_unpacked(m, NULL);
        ++*seen;
    }
    if (max_alerts >= 0 && *seen >= max_alerts) fbc_stream_cancel(s); /* a live stream never ends by itself */
    return fbc_stream_finish(s, st);
}

int cmd_watch(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"survey", "min-severity", "kind", "state-file", "after-seq", "max-alerts", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    Feedback__V1__SubscribeRequest req = FEEDBACK__V1__SUBSCRIBE_REQUEST__INIT;
    char *surveys[32];
    Feedback__V1__Alert__Kind kinds[16];
    if ((rc = watch_filter(&a, &req, surveys, kinds))) return rc;
    const char *v;
    char state[4096];
    if ((v = fbc_arg(&a, "state-file"))) snprintf(state, sizeof state, "%s", v);
    else default_state_file(c->addr, state, sizeof state);
    uint64_t seq = read_state(state);
    if ((v = fbc_arg(&a, "after-seq")) && (rc = fbc_parse_count(v, "--after-seq", UINT64_MAX, &seq))) return rc;
    long max_alerts = -1, seen = 0;
    if ((v = fbc_arg(&a, "max-alerts"))) {
        char *end;
        max_alerts = strtol(v, &end, 10);
        if (*end || end == v || max_alerts < 1) return fbc_usage("--max-alerts takes a number >= 1, got '%s'", v);
    }
    if (!c->json) fprintf(stderr, "watching alerts after seq %" PRIu64 " (state in %s)\n", seq, state);
    for (unsigned backoff = 1;;) {
        fbc_status st;
        long before = seen;
        grpc_status_code code = watch_stream(c, &req, state, &seq, max_alerts, &seen, &st);
        if (max_alerts >= 0 && seen >= max_alerts) return 0;
        if (permanent(code)) {
            fbc_fail(c, &st);
            if (code == GRPC_STATUS_INVALID_ARGUMENT && seq > 0 && !fbc_arg(&a, "after-seq"))
                fprintf(stderr, "feedbackctl: hint: %s holds seq %" PRIu64 " (from another server or data "
                                "directory?); pass --after-seq 0 to start from the first alert, or remove %s\n",
                        state, seq, state);
            return 1;
        }
        if (seen > before) backoff = 1; /* the stream worked: retry soon */
        fprintf(stderr, "feedbackctl: stream ended (%s: %s); reconnecting in %us from seq %" PRIu64 "\n",
                fbc_status_name(code), st.message, backoff, seq);
        sleep(backoff);
        if (backoff < 30) backoff *= 2;
    }
}

static void print_alert_page(const fbc_ctx *c, const ProtobufCMessage *m)
{
    const Feedback__V1__AlertPage *p = (const Feedback__V1__AlertPage *)m;
    for (size_t i = 0; i < p->n_alerts; i++) print_alert_line(p->alerts[i], c->colour);
    if (!p->n_alerts) printf("no alerts match\n");
    if (p->next_page_token && *p->next_page_token) printf("more: --page-token %s\n", p->next_page_token);
    if (p->stats && p->stats->total)
        printf("%u alerts: %u acknowledged, %u resolved; time to acknowledge median %.1f min, p90 %.1f min; "
               "%.0f%% within SLA\n", p->stats->total, p->stats->acknowledged, p->stats->resolved,
               p->stats->median_ack_ms / 60000.0, p->stats->p90_ack_ms / 60000.0, p->stats->within_sla_share * 100);
}

int cmd_alerts(fbc_ctx *c, int argc, char **argv)
{
    static const char *const known[] = {"state", "kind", "from", "to", "limit", "page-token", "survey", "min-severity", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    Feedback__V1__AlertQuery q = FEEDBACK__V1__ALERT_QUERY__INIT;
    const char *v;
    if ((rc = fbc_range_args(&a, &q.from_ms, &q.to_ms))) return rc;
    if ((v = fbc_arg(&a, "state"))) {
        int e = fbc_enum_value(&feedback__v1__alert_state__descriptor, v);
        if (e <= 0) return fbc_usage("--state: open, acknowledged or resolved, got '%s'", v);
        q.state = (Feedback__V1__AlertState)e;
    }
    if ((v = fbc_arg(&a, "kind"))) {
        int e = fbc_enum_value(&feedback__v1__alert__kind__descriptor, v);
        if (e <= 0) return fbc_usage("--kind: not an alert kind: '%s'", v);
        q.kind = (Feedback__V1__Alert__Kind)e;
    }
    if ((v = fbc_arg(&a, "min-severity"))) {
        int e = fbc_enum_value(&feedback__v1__severity__descriptor, v);
        if (e <= 0) return fbc_usage("--min-severity: low, medium, high or critical, got '%s'", v);
        q.min_severity = (Feedback__V1__Severity)e;
    }
    uint64_t n;
    if ((v = fbc_arg(&a, "limit"))) {
        if ((rc = fbc_parse_count(v, "--limit", UINT32_MAX, &n))) return rc;
        q.page_size = (uint32_t)n;
    }
    if ((v = fbc_arg(&a, "page-token"))) q.page_token = (char *)v;
    if ((v = fbc_arg(&a, "survey"))) q.survey_id = (char *)v;
    return fbc_call_print(c, "/feedback.v1.Alerts/ListAlerts", &q.base, &feedback__v1__alert_page__descriptor,
                          print_alert_page);
}

static void print_one_alert(const fbc_ctx *c, const ProtobufCMessage *m)
{
    print_alert_line((const Feedback__V1__Alert *)m, c->colour);
}

static int ack_state(fbc_ctx *c, int argc, char **argv, Feedback__V1__AlertState state, const char *verb)
{
    static const char *const known[] = {"note", NULL};
    fbc_args a;
    int rc = fbc_args_parse(&a, argc, argv, NULL);
    if (rc || (rc = fbc_args_only(&a, known))) return rc;
    if (a.npos != 1) return fbc_usage("%s ALERT_ID [--note TEXT]", verb);
    Feedback__V1__AckRequest req = FEEDBACK__V1__ACK_REQUEST__INIT;
    req.alert_id = (char *)a.pos[0];
    req.state = state;
    const char *v = fbc_arg(&a, "note");
    if (v) req.note = (char *)v;
    return fbc_call_print(c, "/feedback.v1.Alerts/Ack", &req.base, &feedback__v1__alert__descriptor, print_one_alert);
}

int cmd_ack(fbc_ctx *c, int argc, char **argv)
{
    return ack_state(c, argc, argv, FEEDBACK__V1__ALERT_STATE__ACKNOWLEDGED, "ack");
}

int cmd_resolve(fbc_ctx *c, int argc, char **argv)
{
    return ack_state(c, argc, argv, FEEDBACK__V1__ALERT_STATE__RESOLVED, "resolve");
}
