/* offline.c — batch scoring of a text stream with a local text engine.
 *
 * Streaming line by line keeps memory flat for any export size; the one
 * line buffer is reused. Output order equals input order, so results can
 * be pasted next to the source column. */
#include "offline.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Replaces each byte that does not start a valid sequence with '?'. */
static void repair_utf8(char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t m = fb_utf8_decode(s + i, n - i, &cp);
        if (m == 1 && (unsigned char)s[i] >= 0x80) s[i] = '?';
        i += m;
    }
}

int fbctl_analyze_offline(const fb_textengine *te, const char *lang, FILE *in, FILE *out,
                          fb_err *err)
{
    if (lang && *lang && !fb_text_has_language(te, lang))
        return fb_err_set(err, FB_INVALID, "lang: unsupported language '%s'", lang);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = FB_OK;
    while (rc == FB_OK && (n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (!fb_utf8_valid(line, len)) repair_utf8(line, len);
        fb_sentiment s;
        rc = fb_sentiment_analyze(te, line, len, lang, "en", 0, &s, err);
        if (rc) break;
        if (fprintf(out, "%.4f\t%s\n", s.compound, fb_label_name(s.label)) < 0)
            rc = fb_err_set(err, FB_INTERNAL, "output: write failed");
        fb_sentiment_free(&s);
    }
    if (rc == FB_OK && ferror(in)) rc = fb_err_set(err, FB_INTERNAL, "input: read error");
    if (rc == FB_OK && fflush(out) != 0) rc = fb_err_set(err, FB_INTERNAL, "output: write failed");
    free(line);
    return rc;
}
