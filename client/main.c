/* main.c — feedbackctl: the command-line client for feedbackd.
 *
 * Global options come before the command; each command parses the rest.
 * Address and key come from --addr/--key or FEEDBACK_ADDR/FEEDBACK_KEY.
 * Human output by default, --json for scripts; a failed call prints the
 * status and the server's message and exits 1. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static const char usage[] =
"usage: feedbackctl [--addr HOST:PORT] [--key KEY] [--json] [--timeout MS] COMMAND ...\n"
"  address and key default to $FEEDBACK_ADDR (else 127.0.0.1:50051) and $FEEDBACK_KEY\n"
"\n"
"ingest (submit key):\n"
"  submit --survey ID --score 0..10 [--comment TEXT] [--respondent ID] [--channel C]\n"
"         [--tag k=v]... [--at TIME] [--idempotency-key K] [--language xx]\n"
"  review --source S --external-id X --rating 1..5 [--title T] [--text T] [--respondent ID]\n"
"         [--channel C] [--survey ID] [--tag k=v]... [--at TIME] [--language xx]\n"
"  import FILE.csv      header row names the columns: type (response|review), survey_id,\n"
"                       score, comment, rating, source, external_id, title, text,\n"
"                       respondent_id, channel, submitted_at, idempotency_key, language,\n"
"                       tag:<key>...\n"
"insights (read key):\n"
"  list [--survey ID] [--from TIME] [--to TIME] [--category C] [--label L] [--channel C]\n"
"       [--tag k=v]... [--respondent ID] [--limit N] [--page-token T]\n"
"  analyze [--language xx] TEXT         score a text; shows the words that contributed\n"
"  analyze --offline [--language xx]    one text per line on stdin -> compound<TAB>label (no server)\n"
"  nps [--survey ID] [--from TIME] [--to TIME] [--channel C] [--tag k=v] [--compare]\n"
"  trend [--survey ID] [--from TIME] [--to TIME] [--granularity hour|day|week|month]\n"
"        [--group-by channel|tag:KEY] [--channel C] [--tag k=v] [--svg FILE]\n"
"  terms [--survey ID] [--from TIME] [--to TIME] [--positive] [--by-aspect] [--limit N]\n"
"alerts (alerts key):\n"
"  watch [--survey ID]... [--min-severity S] [--kind K]... [--state-file F] [--after-seq N]\n"
"  alerts [--state open|acknowledged|resolved] [--kind K] [--from TIME] [--to TIME] [--limit N]\n"
"  ack ALERT_ID [--note TEXT]      resolve ALERT_ID [--note TEXT]\n"
"admin (admin key):\n"
"  keys create --role submit|read|alerts|admin [--label L]   keys list   keys revoke KEY_ID\n"
"  settings get    settings set [timezone=Europe/Paris] [default_language=en] [min_sample=30]\n"
"                               [sla_ms=N] [keywords=a,b,c] ...\n"
"  erase RESPONDENT_ID\n"
"other:\n"
"  health\n"
"TIME is ms since the epoch, 2026-11-01[THH:MM[:SS]] (UTC), now, or relative: 7d, 24h, 30m.\n";

struct command {
    const char *name;
    int (*fn)(fbc_ctx *, int, char **);
};

static const struct command commands[] = {
    {"health", cmd_health},   {"submit", cmd_submit},     {"review", cmd_review},
    {"import", cmd_import},   {"list", cmd_list},         {"analyze", cmd_analyze},
    {"nps", cmd_nps},         {"trend", cmd_trend},       {"terms", cmd_terms},
    {"keys", cmd_keys},       {"settings", cmd_settings}, {"erase", cmd_erase},
    {"watch", cmd_watch},     {"alerts", cmd_alerts},     {"ack", cmd_ack},
    {"resolve", cmd_resolve}, {NULL, NULL},
};

static int wants_offline(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--offline") == 0) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *addr = getenv("FEEDBACK_ADDR");
    const char *key = getenv("FEEDBACK_KEY");
    int json = 0, timeout_ms = 30000, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) { fputs(usage, stdout); return 0; }
        if (strcmp(o, "--json") == 0) { json = 1; continue; }
        const char *v = strchr(o, '=') ? strchr(o, '=') + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) return fbc_usage("option %s needs a value", o);
        if (strncmp(o, "--addr", 6) == 0) addr = v;
        else if (strncmp(o, "--key", 5) == 0) key = v;
        else if (strncmp(o, "--timeout", 9) == 0) timeout_ms = atoi(v);
        else return fbc_usage("unknown option %s", o);
    }
    if (i >= argc) { fputs(usage, stderr); return 2; }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) { fputs(usage, stdout); return 0; }
    if (strcmp(name, "analyze") == 0 && wants_offline(argc - i - 1, argv + i + 1))
        return cmd_analyze_offline(argc - i - 1, argv + i + 1);

    const struct command *cmd = commands;
    while (cmd->name && strcmp(cmd->name, name) != 0) cmd++;
    if (!cmd->name) return fbc_usage("unknown command '%s'", name);

    fbc_ctx c;
    memset(&c, 0, sizeof c);
    c.json = json;
    c.tty = isatty(STDOUT_FILENO);
    c.addr = addr && *addr ? addr : "127.0.0.1:50051";
    if (fbc_connect(&c.conn, c.addr, key, timeout_ms) != 0) {
        fprintf(stderr, "feedbackctl: cannot use address '%s'\n", c.addr);
        return 2;
    }
    int rc = cmd->fn(&c, argc - i - 1, argv + i + 1);
    fbc_close(&c.conn);
    return rc;
}
