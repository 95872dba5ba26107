/* textengine.c — opening and closing the text engine.
 *
 * The engine is every available language's lexicon plus the shared emoji
 * table, loaded once. Which languages exist is decided by the directory
 * layout alone (lexicons/<tag>/), so adding a language is adding files.
 * The lexicon directory is the argument, else $FB_LEXICON_DIR, else the
 * compile-time FB_LEXICON_DIR (the source tree's lexicons/). */
#include "textengine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const known_langs[FB_TEXT_MAX_LANGS] = { "en", "es", "fr", "de", "pt" };

static const char *default_dir(const char *dir)
{
    if (dir && *dir) return dir;
    const char *env = getenv("FB_LEXICON_DIR");
    if (env && *env) return env;
#ifdef FB_LEXICON_DIR
    return FB_LEXICON_DIR;
#else
    return "lexicons";
#endif
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fb_text_open(fb_textengine **out, const char *lexicon_dir, fb_err *err)
{
    *out = NULL;
    const char *dir = default_dir(lexicon_dir);
    fb_textengine *te = calloc(1, sizeof *te);
    if (!te) return fb_err_set(err, FB_INTERNAL, "text engine: out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/common/emoji.txt", dir);
    int rc = fb_emojilex_load(&te->emoji, path, err);
    for (size_t i = 0; rc == FB_OK && i < FB_TEXT_MAX_LANGS; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, known_langs[i]);
        if (!is_dir(path)) continue;
        rc = fb_lexicon_load(&te->langs[te->n_langs], path, known_langs[i], err);
        if (rc == FB_OK) te->n_langs++;
    }
    if (rc == FB_OK && te->n_langs == 0)
        rc = fb_err_set(err, FB_INVALID,
                        "lexicons: no language directory (en, es, fr, de, pt) under %s", dir);
    if (rc == FB_OK)
        rc = fb_langid_build(&te->langid, (const fb_lexicon *const *)te->langs, te->n_langs, err);
    if (rc) { fb_text_close(te); return rc; }
    *out = te;
    return FB_OK;
}

void fb_text_close(fb_textengine *te)
{
    if (!te) return;
    for (size_t i = 0; i < te->n_langs; i++) fb_lexicon_free(te->langs[i]);
    fb_emojilex_free(te->emoji);
    fb_langid_free(te->langid);
    free(te);
}

/* lang names tag l: equal ignoring ASCII case up to its end or a '-'/'_'
 * ("en-GB" names "en"). Spelled out: it runs for every scored text. */
static int ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int tag_end(char c) { return !c || c == '-' || c == '_'; }

static int tag_matches(const char *l, const char *lang)
{
    size_t j = 0;
    for (; l[j]; j++)
        if (tag_end(lang[j]) || ascii_lower(lang[j]) != ascii_lower(l[j])) return 0;
    return tag_end(lang[j]);
}

const fb_lexicon *fb_text_lexicon(const fb_textengine *te, const char *lang)
{
    if (!lang || !*lang) return NULL;
    for (size_t i = 0; i < te->n_langs; i++)
        if (tag_matches(fb_lexicon_lang(te->langs[i]), lang)) return te->langs[i];
    return NULL;
}

int fb_text_has_language(const fb_textengine *te, const char *lang)
{
    return fb_text_lexicon(te, lang) != NULL;
}
