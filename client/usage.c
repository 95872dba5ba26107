/* usage.c — feedbackctl's help text, one entry per command.
 *
 * Each command's usage lives here once: `feedbackctl --help` prints the
 * synopsis of every command, grouped by the key role it needs, and
 * `feedbackctl COMMAND --help` prints that command's synopsis with its
 * details. Keeping both views in one table means they cannot disagree. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

typedef struct usage_entry {
    const char *name;
    const char *group;    /* printed as a heading when it changes */
    const char *synopsis; /* one or more lines, each starting with two spaces */
    const char *details;  /* printed by COMMAND --help only */
} usage_entry;

static const usage_entry entries[] = {
    {"submit", "ingest (submit key)",
     "  submit --survey ID --score 0..10 [--comment TEXT] [--respondent ID] [--channel C]\n"
     "         [--tag k=v]... [--at TIME] [--idempotency-key K] [--language xx]\n",
     "Stores one survey response and prints its id, NPS category, sentiment and any\n"
     "alert it raised. A retry with the same --idempotency-key prints \"duplicate of ID\"\n"
     "and stores nothing new.\n"},
    {"review", "ingest (submit key)",
     "  review --source S --external-id X --rating 1..5 [--title T] [--text T] [--respondent ID]\n"
     "         [--channel C] [--survey ID] [--tag k=v]... [--at TIME] [--idempotency-key K]\n"
     "         [--language xx]\n",
     "Stores one review (e.g. from google or tripadvisor); source + external-id identify it,\n"
     "so posting the same review twice prints \"duplicate of ID\".\n"},
    {"import", "ingest (submit key)", "  import FILE.csv                  (columns: feedbackctl import --help)\n",
     "Streams every row of a CSV file (RFC 4180: quoted fields may hold commas, quotes as \"\"\n"
     "and newlines) and prints a summary with each rejected row: its row number (the header\n"
     "is row 1), the line it starts on, the field and the rule. The header names the columns:\n"
     "  type (response|review, default response), survey_id, score, comment, rating, source,\n"
     "  external_id, title, text, respondent_id, channel, submitted_at (TIME), idempotency_key,\n"
     "  language, tag:<key> (one column per tag).\n"
     "FILE - reads standard input. A progress bar is shown on a terminal. Exit status 0 when\n"
     "the import ran, even with rejected rows. --json prints {accepted, duplicates, rejected,\n"
     "rejections: [{row, line, field, reason}], unlisted_rejections}.\n"},
    {"list", "insights (read key)",
     "  list [--survey ID] [--from TIME] [--to TIME] [--category promoter|passive|detractor]\n"
     "       [--label L] [--kind response|review] [--channel C] [--tag k=v]... [--respondent ID]\n"
     "       [--limit N] [--page-token T]\n",
     "Lists stored feedback, newest first. When more pages exist the last line says\n"
     "\"more: --page-token T\"; repeat the command with it for the next page.\n"
     "--label is a sentiment label: very_negative, negative, neutral, positive, very_positive, mixed.\n"},
    {"analyze", "insights (read key)",
     "  analyze [--language xx] [--no-explain] TEXT\n"
     "  analyze --offline [--language xx] [--lexicons DIR]   (no server, no key)\n",
     "Scores TEXT on the server and shows the words that contributed, with their character\n"
     "spans, and the sentiment of each aspect mentioned (food, service, staff, ...).\n"
     "--offline reads one text per line on stdin and writes one compound<TAB>LABEL line per\n"
     "text, with the lexicons in --lexicons, $FB_LEXICON_DIR or the installed ones.\n"},
    {"nps", "insights (read key)",
     "  nps [--survey ID] [--from TIME] [--to TIME] [--channel C] [--tag k=v]... [--compare]\n",
     "Prints NPS ± its 95% margin of error and the counts. --compare also shows the previous\n"
     "period of the same length and whether the change is significant (\"significant drop\",\n"
     "\"significant rise\", \"no significant change\").\n"},
    {"trend", "insights (read key)",
     "  trend [--survey ID] [--from TIME] [--to TIME] [--granularity hour|day|week|month]\n"
     "        [--group-by channel|tag:KEY] [--channel C] [--tag k=v]... [--svg FILE]\n",
     "Prints NPS per period in the tenant's time zone (default: the last 30 days by day, or\n"
     "48 hours by hour), with a sparkline on a terminal. --svg FILE writes a chart of NPS\n"
     "with its 95% confidence band and response volume, for a report.\n"},
    {"terms", "insights (read key)",
     "  terms [--survey ID] [--from TIME] [--to TIME] [--positive] [--by-aspect] [--limit N]\n"
     "        [--channel C] [--tag k=v]...\n",
     "Lists the words that drive negative feedback (or positive with --positive): mentions,\n"
     "mean sentiment of the feedback mentioning them and their share. --by-aspect groups\n"
     "them by aspect instead.\n"},
    {"watch", "alerts (alerts key)",
     "  watch [--survey ID]... [--min-severity low|medium|high|critical] [--kind K]...\n"
     "        [--state-file F] [--after-seq N] [--max-alerts N]\n",
     "Prints alerts as they are raised, one line each (coloured by severity on a terminal).\n"
     "The seq of the last alert shown is kept in the state file (default\n"
     "~/.feedbackctl-watch-ADDR), and the next watch resumes after it, so nothing raised\n"
     "meanwhile is missed; a dropped stream reconnects by itself. --after-seq N starts after\n"
     "N instead (0: from the first alert). --max-alerts N exits after N alerts.\n"
     "Kinds: detractor, negative_text, keyword, low_rating, score_text_mismatch, nps_drop,\n"
     "sla_breach.\n"},
    {"alerts", "alerts (alerts key)",
     "  alerts [--state open|acknowledged|resolved] [--kind K] [--min-severity S] [--survey ID]\n"
     "         [--from TIME] [--to TIME] [--limit N] [--page-token T]\n",
     "Lists alerts, newest first, with time-to-acknowledge statistics for the selection.\n"},
    {"ack", "alerts (alerts key)", "  ack ALERT_ID [--note TEXT]\n",
     "Acknowledges an alert: you own it now (recorded with your key's label).\n"},
    {"resolve", "alerts (alerts key)", "  resolve ALERT_ID [--note TEXT]\n",
     "Marks an alert resolved.\n"},
    {"keys", "admin (admin key)",
     "  keys create --role submit|read|alerts|admin [--label L]\n"
     "  keys list\n"
     "  keys revoke KEY_ID\n",
     "create prints the new key's secret once: store it then. A revoked key is refused at once.\n"},
    {"settings", "admin (admin key)",
     "  settings get\n"
     "  settings set NAME=VALUE...\n",
     "get prints every setting as NAME = VALUE; set takes the same names, e.g.\n"
     "  timezone=Europe/Paris default_language=en min_sample=30 retention_days=0\n"
     "  alert_rules.sla_ms=3600000 alert_rules.keywords=refund,lawyer alert_rules.detractor=false\n"
     "  alert_rules.quiet_hours.enabled=true (sla_ms and keywords also work without the prefix)\n"},
    {"erase", "admin (admin key)", "  erase RESPONDENT_ID\n",
     "Removes every piece of feedback of that respondent and their share of every aggregate.\n"},
    {"health", "other", "  health [SERVICE]\n",
     "Prints SERVING or NOT_SERVING; exits 0 only when serving. Needs no key.\n"},
    {NULL, NULL, NULL, NULL},
};

static const char header[] =
    "usage: feedbackctl [--addr HOST:PORT] [--key KEY] [--json] [--timeout MS] COMMAND [ARGS]\n\n";

static const char footer[] =
    "\n"
    "--addr and --key default to $FEEDBACK_ADDR (else 127.0.0.1:50051) and $FEEDBACK_KEY; the\n"
    "server writes its first keys to DATA_DIR/default-keys (prefer FEEDBACK_KEY: a --key on the\n"
    "command line is visible to other users of the machine). --json (before or after COMMAND)\n"
    "prints the reply as JSON for scripts. --timeout is per call, in ms (default 30000).\n"
    "TIME is ms since the epoch, 2026-11-01[THH:MM[:SS]] (UTC), now, or relative: 7d, 24h, 30m.\n"
    "Exit status: 0 done, 1 the server refused or failed (status and message on stderr),\n"
    "2 bad usage. `feedbackctl COMMAND --help` explains one command.\n";

void fbc_print_help(FILE *out)
{
    const char *group = NULL;
    fputs(header, out);
    for (const usage_entry *e = entries; e->name; e++) {
        if (!group || strcmp(group, e->group) != 0) fprintf(out, "%s:\n", group = e->group);
        fputs(e->synopsis, out);
    }
    fputs(footer, out);
}

int fbc_print_command_help(FILE *out, const char *name)
{
    for (const usage_entry *e = entries; e->name; e++) {
        if (strcmp(e->name, name) != 0) continue;
        fprintf(out, "usage:\n%s\n%s", e->synopsis, e->details);
        const char *role = strchr(e->group, '(');
        if (role) fprintf(out, "Needs a key with the %.*s role.\n", (int)strcspn(role + 1, " "), role + 1);
        fputs("Global options: --addr HOST:PORT, --key KEY, --json, --timeout MS (feedbackctl --help).\n",
              out);
        return 0;
    }
    return -1;
}
