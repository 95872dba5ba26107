/* test_lexicon.c — loading the lexicon format (lexicons/README.md) into
 * tables, stemmed matching, phrases, emoji, and load errors that name
 * file:line. Uses small lexicons written to a temporary directory. */
#include "fbtest.h"
#include "text/emojilex.h"
#include "text/lexicon.h"
#include "text/sentiment.h"
#include "text/tokenize.h"

static void put(const char *dir, const char *name, const char *body)
{
    char path[8200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(body, f);
    fclose(f);
}

static const char *write_lang(const char *lexicon)
{
    const char *dir = fb_test_tmpdir("lexicon");
    put(dir, "lexicon.txt", lexicon);
    put(dir, "negators.txt", "# negators\nnot\nnever\n");
    put(dir, "boosters.txt", "very\t0.293\nkind of\t-0.3\n");
    put(dir, "contrast.txt", "but\t0.5\t1.5\n");
    put(dir, "stopwords.txt", "the\nof\na\n");
    put(dir, "aspects.txt", "food\tpizza\nservice\tcustomer service\n");
    return dir;
}

static fb_lexicon *load(const char *lexicon)
{
    fb_lexicon *lx;
    fb_err err = { 0 };
    int rc = fb_lexicon_load(&lx, write_lang(lexicon), "en", &err);
    ck_assert_msg(rc == FB_OK, "load: %s", err.msg);
    return lx;
}

static int valence(const fb_lexicon *lx, const char *w, float *v)
{
    const fb_lexent *surf;
    uint32_t stem = fb_lexicon_resolve(lx, w, strlen(w), &surf);
    return fb_lexicon_valence(lx, surf, stem, v);
}

START_TEST(stemmed_entries_match_inflections)
{
    fb_lexicon *lx = load("disappointed\t-2.2\ngood\t1.9\n");
    const char *forms[] = { "disappoint", "disappointing", "disappointed", "disappoints" };
    for (size_t i = 0; i < 4; i++) {
        float v = 0;
        ck_assert_msg(valence(lx, forms[i], &v), "%s", forms[i]);
        ck_assert_float_eq_tol(v, -2.2f, 1e-6);
    }
    float v;
    ck_assert(!valence(lx, "pizza", &v));
    fb_lexicon_free(lx);
}
END_TEST

START_TEST(exact_entries_match_only_their_form)
{
    fb_lexicon *lx = load("fine\t1.0\texact\nfriendly\t2.0\texact,exact\n");
    float v;
    ck_assert(valence(lx, "fine", &v));
    ck_assert(!valence(lx, "fines", &v));
    ck_assert(valence(lx, "friendly", &v));
    ck_assert(!valence(lx, "friend", &v));
    fb_lexicon_free(lx);
}
END_TEST

/* Token ids of a text for phrase matching. */
static size_t ids_of(const fb_lexicon *lx, const char *s, uint32_t *ids)
{
    fb_tokens t;
    fb_tokens_init(&t, NULL, 0, NULL, 0);
    ck_assert_int_eq(fb_tokenize(s, strlen(s), &t), 0);
    for (size_t i = 0; i < t.n; i++) {
        const fb_lexent *surf;
        const char *w = fb_token_text(&t, &t.v[i]);
        ids[i] = t.v[i].kind == FB_TOK_NUMBER ? fb_lexicon_number_id(lx, w, t.v[i].norm_len)
               : t.v[i].kind == FB_TOK_WORD ? fb_lexicon_resolve(lx, w, t.v[i].norm_len, &surf)
               : FB_LEX_NONE;
    }
    size_t n = t.n;
    fb_tokens_free(&t);
    return n;
}

static const fb_phrase *phrase(const fb_lexicon *lx, const char *s, size_t at, int mask)
{
    uint32_t ids[64];
    size_t n = ids_of(lx, s, ids);
    return fb_lexicon_phrase_at(lx, ids, n, at, mask);
}

START_TEST(phrases_longest_first_and_stemmed)
{
    fb_lexicon *lx = load("not bad\t1.2\nnot bad at all\t2.0\nstopped working\t-2.7\n"
                          "waited <num> minutes\t-1.5\n5 stars\t3.0\n");
    int m = FB_LEXF_VALENCE;
    const fb_phrase *p = phrase(lx, "it was not bad at all", 2, m);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->n_words, 4);
    ck_assert_str_eq(fb_lexicon_phrase_text(lx, p), "not bad at all");
    p = phrase(lx, "not bad", 0, m);
    ck_assert_uint_eq(p->n_words, 2);
    p = phrase(lx, "it stops working", 1, m);          /* stemmed: stops ~ stopped */
    ck_assert_ptr_nonnull(p);
    ck_assert_float_eq_tol(p->ent.valence, -2.7f, 1e-6);
    p = phrase(lx, "we waited 45 minutes", 1, m);       /* <num> matches any number */
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->n_words, 3);
    ck_assert_ptr_nonnull(phrase(lx, "5 stars", 0, m));  /* a literal number */
    ck_assert_ptr_null(phrase(lx, "4 stars", 0, m));
    ck_assert_ptr_null(phrase(lx, "not good", 0, m));
    fb_lexicon_free(lx);
}
END_TEST

START_TEST(roles_from_each_file)
{
    fb_lexicon *lx = load("good\t1.9\n");
    const fb_lexent *e = fb_lexicon_surface(lx, "not", 3);
    ck_assert(e && (e->flags & FB_LEXF_NEGATOR));
    e = fb_lexicon_surface(lx, "very", 4);
    ck_assert(e && (e->flags & FB_LEXF_BOOSTER));
    ck_assert_float_eq_tol(e->booster, 0.293f, 1e-6);
    e = fb_lexicon_surface(lx, "but", 3);
    ck_assert(e && (e->flags & FB_LEXF_CONTRAST));
    float before, after;
    fb_lexicon_contrast(lx, e, &before, &after);
    ck_assert_float_eq_tol(before, 0.5f, 1e-6);
    ck_assert_float_eq_tol(after, 1.5f, 1e-6);
    ck_assert(fb_lexicon_is_stopword(lx, "the", 3));
    ck_assert(!fb_lexicon_is_stopword(lx, "good", 4));
    const fb_phrase *p = phrase(lx, "kind of good", 0, FB_LEXF_BOOSTER);
    ck_assert(p && p->ent.booster < 0);
    p = phrase(lx, "the customer service", 1, FB_LEXF_ASPECT);
    ck_assert(p && p->ent.aspect == 1);
    const fb_lexent *surf;
    uint32_t id = fb_lexicon_resolve(lx, "pizzas", 6, &surf);
    ck_assert_uint_ne(id, FB_LEX_NONE);
    ck_assert_int_eq(fb_lexicon_stem_entry(lx, id)->aspect, 0);
    fb_lexicon_free(lx);
}
END_TEST

static void expect_error(const char *lexicon, const char *needle)
{
    fb_lexicon *lx;
    fb_err err = { 0 };
    ck_assert_int_eq(fb_lexicon_load(&lx, write_lang(lexicon), "en", &err), FB_INVALID);
    ck_assert_ptr_null(lx);
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

START_TEST(malformed_lines_name_file_and_line)
{
    expect_error("good\t1.9\nbad\tworse\n", "lexicon.txt:2");
    expect_error("# c\n\ngood\t1.9\nbad\n", "lexicon.txt:4");
    expect_error("good\t9\n", "-4..4");
    expect_error("good\t1\tfuzzy\n", "unknown flag");
    expect_error("good  food\t1\n", "single spaces");
    expect_error("good\t1\t\n", "empty");
    expect_error("good\t1\ta\tb\n", "at most");
    expect_error("a b c d e f g h i\t1\n", "at most 8 words");
}
END_TEST

START_TEST(unknown_aspect_is_an_error)
{
    const char *dir = write_lang("good\t1.9\n");
    put(dir, "aspects.txt", "food\tpizza\nweather\train\n");
    fb_lexicon *lx;
    fb_err err = { 0 };
    ck_assert_int_eq(fb_lexicon_load(&lx, dir, "en", &err), FB_INVALID);
    ck_assert(strstr(err.msg, "aspects.txt:2"));
}
END_TEST

START_TEST(emoji_table)
{
    const char *dir = fb_test_tmpdir("emoji");
    put(dir, "emoji.txt", "👍\t2.0\n❤️\t3.0\n👨\t0.5\n:)\t2.0\n:(\t-2.0\n");
    char path[4200];
    snprintf(path, sizeof path, "%s/emoji.txt", dir);
    fb_emojilex *el;
    fb_err err = { 0 };
    ck_assert_int_eq(fb_emojilex_load(&el, path, &err), FB_OK);
    float v = 0;
    ck_assert(fb_emojilex_valence(el, "👍", strlen("👍"), &v));
    ck_assert_float_eq_tol(v, 2.0f, 1e-6);
    ck_assert(fb_emojilex_valence(el, "❤", strlen("❤"), &v));     /* VS16 stripped on both sides */
    ck_assert(fb_emojilex_valence(el, "👨‍🍳", strlen("👨‍🍳"), &v));   /* ZWJ: falls back to 👨 */
    ck_assert_float_eq_tol(v, 0.5f, 1e-6);
    ck_assert(fb_emojilex_valence(el, ":-)", 3, &v));               /* nose dropped */
    ck_assert(fb_emojilex_valence(el, ":(((", 4, &v));              /* mouth collapsed */
    ck_assert_float_eq_tol(v, -2.0f, 1e-6);
    ck_assert(!fb_emojilex_valence(el, "🍕", strlen("🍕"), &v));
    fb_emojilex_free(el);
    put(dir, "emoji.txt", "👍\tlots\n");
    ck_assert_int_eq(fb_emojilex_load(&el, path, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "emoji.txt:1"));
}
END_TEST

START_TEST(engine_needs_a_language)
{
    fb_textengine *te;
    fb_err err = { 0 };
    const char *dir = fb_test_tmpdir("nolang");
    ck_assert_int_eq(fb_text_open(&te, dir, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "no language"));
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/en", dir);
    mkdir(sub, 0700);
    put(sub, "lexicon.txt", "good\t1.9\n");
    ck_assert_int_eq(fb_text_open(&te, dir, &err), FB_OK);
    ck_assert(fb_text_has_language(te, "en"));
    ck_assert(fb_text_has_language(te, "en-GB"));
    ck_assert(!fb_text_has_language(te, "de"));
    fb_text_close(te);
    put(sub, "lexicon.txt", "good\t1.9\nbad\t-2.5\t\n");
    ck_assert_int_eq(fb_text_open(&te, dir, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "lexicon.txt:2"));
}
END_TEST

START_TEST(real_lexicons_load)
{
    fb_textengine *te;
    fb_err err = { 0 };
    ck_assert_msg(fb_text_open(&te, NULL, &err) == FB_OK, "%s", err.msg);
    ck_assert(fb_text_has_language(te, "en"));
    fb_text_close(te);
}
END_TEST

static Suite *lexicon_suite(void)
{
    Suite *s = suite_create("lexicon");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, stemmed_entries_match_inflections);
    tcase_add_test(tc, exact_entries_match_only_their_form);
    tcase_add_test(tc, phrases_longest_first_and_stemmed);
    tcase_add_test(tc, roles_from_each_file);
    tcase_add_test(tc, malformed_lines_name_file_and_line);
    tcase_add_test(tc, unknown_aspect_is_an_error);
    tcase_add_test(tc, emoji_table);
    tcase_add_test(tc, engine_needs_a_language);
    tcase_add_test(tc, real_lexicons_load);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(lexicon_suite)
