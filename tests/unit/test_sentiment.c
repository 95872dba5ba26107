/* test_sentiment.c — every scoring rule pinned with small sentences, run
 * against the real lexicons (lexicons/, via FB_LEXICON_DIR). */
#include <math.h>
#include <pthread.h>

#include "fbtest.h"
#include "text/sentiment.h"
#include "text/stem.h"
#include "text/utf8.h"
#include "../../client/offline.c"   /* feedbackctl analyze --offline (single file) */

static fb_textengine *te;

static void setup(void)
{
    fb_err err = { 0 };
    ck_assert_msg(fb_text_open(&te, NULL, &err) == FB_OK, "%s", err.msg);
}

static void teardown(void) { fb_text_close(te); }

static double score(const char *text)
{
    fb_sentiment s;
    fb_err err = { 0 };
    ck_assert_int_eq(fb_sentiment_analyze(te, text, strlen(text), "en", NULL, 0, &s, &err), FB_OK);
    double c = s.compound;
    ck_assert(c >= -1.0 && c <= 1.0);
    fb_sentiment_free(&s);
    return c;
}

static fb_label label(const char *text)
{
    fb_sentiment s;
    fb_err err = { 0 };
    ck_assert_int_eq(fb_sentiment_analyze(te, text, strlen(text), "en", NULL, 0, &s, &err), FB_OK);
    fb_label l = s.label;
    fb_sentiment_free(&s);
    return l;
}

#define NEG(t) ck_assert_msg(score(t) <= -0.05, "expected negative: '%s' = %.3f", t, score(t))
#define POS(t) ck_assert_msg(score(t) >= 0.05, "expected positive: '%s' = %.3f", t, score(t))
#define LESS(a, b) ck_assert_msg(score(a) < score(b), "expected '%s' (%.3f) < '%s' (%.3f)", \
                                 a, score(a), b, score(b))

START_TEST(negation_to_the_clause_boundary)
{
    NEG("The food was not good.");
    POS("The food was not bad.");
    POS("No complaints.");
    POS("Nothing to worry about.");
    POS("I was never disappointed.");
    ck_assert(score("It was not the worst meal.") >= 0);
    NEG("I don't like the new menu.");
    NEG("Didn't enjoy it at all.");
    /* scope ends at the clause: "great" is not negated */
    POS("Not cheap, but the food is great.");
    LESS("The staff were not friendly", "The staff were friendly");
    /* the negation is spent on the first word it flips */
    NEG("Your help was not very helpful frustrating experience");
    NEG("The staff were not helpful and rude");
}
END_TEST

START_TEST(contrast_clause_after_but_dominates)
{
    const char *t = "Great food but rude staff.";
    ck_assert(score(t) < 0 || label(t) == FB_LABEL_MIXED);
    NEG("The room was nice, but the service was terrible.");
    POS("The service was slow, but the food was excellent.");
    NEG("Although the food was great, the staff were rude.");
    NEG("The view is lovely, however the rooms are dirty.");
}
END_TEST

START_TEST(boosters_and_dampeners)
{
    LESS("It was good.", "It was very good.");
    LESS("It was extremely bad.", "It was bad.");
    LESS("It was slightly good.", "It was good.");
}
END_TEST

START_TEST(caps_and_exclamation_emphasis)
{
    LESS("It was good.", "It was GOOD.");
    LESS("The service was TERRIBLE.", "The service was terrible.");
    LESS("The food was good.", "The food was good!!!");
    LESS("Awful service!!!", "Awful service.");
}
END_TEST

START_TEST(questions_are_damped)
{
    LESS("Is the food good?", "The food is good.");
    NEG("Why is my order always late?");
}
END_TEST

START_TEST(idioms_and_phrases)
{
    NEG("What a waste of money.");
    NEG("It stopped working after a week.");
    NEG("I am fed up with this company.");
    POS("The desserts are to die for.");
    NEG("Never again.");
    NEG("My soup came back cold.");
    POS("No problem at all, thanks.");
}
END_TEST

START_TEST(factual_complaints)
{
    NEG("We waited 40 minutes for a table.");
    NEG("My package still hasn't arrived.");
    NEG("I had to call three times.");
    NEG("The app keeps crashing.");
    NEG("Nobody called me back.");
}
END_TEST

START_TEST(emoji_and_emoticons)
{
    POS("Dinner tonight 👍");
    NEG("Dinner tonight 😡");
    POS("Loved it ❤️");
    NEG("ok :(");
    NEG("Not connected to my phone :(");     /* negation does not flip emoji */
    POS("ok :)");
    /* a ZWJ sequence is one token; an unlisted one falls back to its base */
    double z = score("👨‍👩‍👧 at the park");
    ck_assert(z >= -1 && z <= 1);
}
END_TEST

START_TEST(stemming_matches_inflections)
{
    NEG("I was disappointed.");
    NEG("Disappointing.");
    NEG("It disappoints.");
    NEG("A total disappointment.");
}
END_TEST

START_TEST(ratings_by_ratio)
{
    POS("I'd give it 8/10");
    NEG("Honestly a 2/10.");
    NEG("3/10 would not return");
    POS("5/5 stars");
    ck_assert(score("We are open 24/7") > -0.05);   /* not a rating */
}
END_TEST

START_TEST(adjacent_opposites_resolve_negative)
{
    NEG("All in all, a great disappointment.");
    NEG("The worst value for money in town.");
    LESS("a great disappointment", "a disappointment");
}
END_TEST

START_TEST(counterfactuals_and_decline)
{
    NEG("It could have been handled better.");
    NEG("This place used to be great.");
    NEG("It was supposed to be fresh.");
    POS("It could have been worse.");
}
END_TEST

START_TEST(negator_idioms_negate_nothing)
{
    POS("It never fails to amaze me.");
    POS("Not only tasty but cheap too.");
    POS("There's barely a boring moment.");
    POS("You won't forget this place!");
    NEG("They forgot my drink.");
    NEG("The atmosphere is lacking.");   /* a negator with its own valence, nothing to negate */
}
END_TEST

START_TEST(booster_words_need_a_word_after_them)
{
    /* "too" boosts "salty"; at the end of a clause it just means "also" */
    LESS("The soup was too salty.", "The soup was salty.");
    ck_assert(fabs(score("The staff were great too.") - score("The staff were great.")) < 0.05);
}
END_TEST

START_TEST(labels_and_bands)
{
    ck_assert_int_eq(label("Absolutely amazing, the best meal ever!"), FB_LABEL_VERY_POSITIVE);
    ck_assert_int_eq(label("Horrible, rude and dirty. The worst!"), FB_LABEL_VERY_NEGATIVE);
    ck_assert_int_eq(label("The table is by the window."), FB_LABEL_NEUTRAL);
    ck_assert_int_eq(label("The food was amazing and delicious but the staff were rude and "
                           "the room was filthy."), FB_LABEL_MIXED);
    fb_sentiment s;
    fb_err err;
    ck_assert_int_eq(fb_sentiment_analyze(te, "", 0, "en", NULL, 0, &s, &err), FB_OK);
    ck_assert_int_eq(s.label, FB_LABEL_NEUTRAL);
    ck_assert(s.compound == 0 && s.neutral == 1);
    fb_sentiment_free(&s);
    ck_assert_int_eq(fb_sentiment_analyze(te, "good", 4, "xx", NULL, 0, &s, &err), FB_INVALID);
    ck_assert(strstr(err.msg, "lang"));
    ck_assert_str_eq(fb_label_name(FB_LABEL_MIXED), "MIXED");
}
END_TEST

START_TEST(shares_sum_to_one)
{
    fb_sentiment s;
    fb_err err;
    const char *t = "The staff were friendly but the room was dirty and small.";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "en", NULL, 0, &s, &err), FB_OK);
    ck_assert(fabs(s.positive + s.negative + s.neutral - 1.0) < 1e-9);
    ck_assert(s.positive > 0 && s.negative > 0);
    ck_assert_str_eq(s.language, "en");
    fb_sentiment_free(&s);
}
END_TEST

START_TEST(explain_gives_code_point_spans)
{
    fb_sentiment s;
    fb_err err;
    const char *t = "Café crème: not good 😡 ok";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "en", NULL, FB_SENT_EXPLAIN, &s, &err), FB_OK);
    ck_assert_uint_ge(s.n_contributions, 2);
    int saw_good = 0, saw_emoji = 0;
    double sum = 0;
    for (size_t i = 0; i < s.n_contributions; i++) {
        const fb_contribution *c = &s.contributions[i];
        sum += c->value;
        if (strcmp(c->token, "not good") == 0) {      /* a phrase of the lexicon */
            saw_good = 1;
            ck_assert_uint_eq(c->start, 12);
            ck_assert_uint_eq(c->end, 20);
            ck_assert(c->value < 0);
        }
        if (strcmp(c->token, "😡") == 0) {
            saw_emoji = 1;
            ck_assert_uint_eq(c->start, 21);
            ck_assert_uint_eq(c->end, 22);
        }
    }
    ck_assert(saw_good && saw_emoji);
    ck_assert(sum < 0);
    fb_sentiment_free(&s);
    /* a phrase contributes once, with its whole span and its key */
    t = "It was a waste of money";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "en", NULL, FB_SENT_EXPLAIN, &s, &err), FB_OK);
    ck_assert_uint_eq(s.n_contributions, 1);
    ck_assert_str_eq(s.contributions[0].token, "waste of money");
    ck_assert_str_eq(s.contributions[0].stem, "waste of money");
    ck_assert_uint_eq(s.contributions[0].start, 9);
    ck_assert_uint_eq(s.contributions[0].end, 23);
    fb_sentiment_free(&s);
}
END_TEST

static const fb_aspect_score *aspect(const fb_sentiment *s, const char *name)
{
    for (size_t i = 0; i < s->n_aspects; i++)
        if (strcmp(s->aspects[i].aspect, name) == 0) return &s->aspects[i];
    return NULL;
}

START_TEST(aspects_per_opinionated_clause)
{
    fb_sentiment s;
    fb_err err;
    const char *t = "The pizza was delicious, but the waiter was rude. Prices are fair.";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "en", NULL, 0, &s, &err), FB_OK);
    const fb_aspect_score *food = aspect(&s, "food"), *staff = aspect(&s, "staff");
    ck_assert_ptr_nonnull(food);
    ck_assert_ptr_nonnull(staff);
    ck_assert(food->compound > 0);
    ck_assert(staff->compound < 0);
    ck_assert_uint_eq(food->n_spans, 1);
    ck_assert_uint_eq(food->spans[0][0], 0);     /* "The pizza was delicious" */
    ck_assert_uint_eq(food->spans[0][1], 23);
    const fb_aspect_score *price = aspect(&s, "price");
    ck_assert(price && price->compound > 0);
    fb_sentiment_free(&s);
    /* a clause that only names an aspect lends it to the opinion that follows */
    t = "The service, however, was awful.";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "en", NULL, 0, &s, &err), FB_OK);
    ck_assert(aspect(&s, "service") && aspect(&s, "service")->compound < 0);
    fb_sentiment_free(&s);
    /* ... or, if no opinion follows, takes the last one before it */
    t = "We love the food, the drinks, and the atmosphere!";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "en", NULL, 0, &s, &err), FB_OK);
    ck_assert(aspect(&s, "ambience") && aspect(&s, "ambience")->compound > 0);
    fb_sentiment_free(&s);
    /* no opinion, no aspect score */
    t = "We ordered pizza.";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "en", NULL, 0, &s, &err), FB_OK);
    ck_assert_uint_eq(s.n_aspects, 0);
    fb_sentiment_free(&s);
}
END_TEST

START_TEST(terms_are_distinct_content_stems)
{
    fb_sentiment s;
    fb_err err;
    const char *t = "The pizzas were cold and the pizza was late; the Pizza!";
    ck_assert_int_eq(fb_sentiment_analyze(te, t, strlen(t), "en", NULL, FB_SENT_TERMS, &s, &err), FB_OK);
    int pizza = 0;
    for (size_t i = 0; i < s.n_terms; i++) {
        ck_assert_str_ne(s.terms[i].stem, "the");
        ck_assert_str_ne(s.terms[i].stem, "and");
        if (strcmp(s.terms[i].stem, "pizza") == 0) {
            pizza++;
            ck_assert_str_eq(s.terms[i].surface, "pizzas");
            ck_assert_str_eq(s.terms[i].aspect, "food");
        }
    }
    ck_assert_int_eq(pizza, 1);
    fb_sentiment_free(&s);
}
END_TEST

/* Terms of words the lexicon does not know: the stem is read off the word
 * when Snowball's stem is a prefix of it ("gizmos" -> "gizmo"), else asked
 * of the stemmer ("flurry" -> "flurri"); either way exactly Snowball's
 * stem, once per stem, the same on the first call (nothing cached) and
 * the next ones (the word cache answers). */
START_TEST(terms_of_unknown_words_are_snowball_stems)
{
    const char *words[] = { "gizmos", "gizmo", "flurry", "flurries", "zorbing", "zorbed" };
    const char *text = "gizmos gizmo flurry flurries zorbing zorbed";
    fb_stemmer *st;
    fb_err err = { 0 };
    ck_assert_int_eq(fb_stemmer_open(&st, "en", &err), FB_OK);
    char want[6][64];
    for (int i = 0; i < 6; i++) fb_stem(st, words[i], strlen(words[i]), want[i], sizeof want[i]);
    for (int pass = 0; pass < 3; pass++) {
        fb_sentiment s;
        ck_assert_int_eq(fb_sentiment_analyze(te, text, strlen(text), "en", NULL, FB_SENT_TERMS,
                                              &s, &err), FB_OK);
        size_t n = 0;
        for (int i = 0; i < 6; i++) {
            int seen = 0, first = 1;
            for (int j = 0; j < i; j++) first &= strcmp(want[j], want[i]) != 0;
            for (size_t k = 0; k < s.n_terms; k++) seen += strcmp(s.terms[k].stem, want[i]) == 0;
            ck_assert_msg(seen == 1, "stem %s of %s seen %d times", want[i], words[i], seen);
            n += (size_t)first;
        }
        ck_assert_uint_eq(s.n_terms, n);
        fb_sentiment_free(&s);
    }
    fb_stemmer_close(st);
}
END_TEST

/* A long text (normal forms past the size copied whole, more words than
 * the small dedup filter serves) that repeats a short one has exactly the
 * short one's terms: same stems, first surfaces and aspects, in order. */
START_TEST(terms_of_a_long_text_match_its_short_self)
{
    const char *unit = "Gizmos, gizmo and flurries; the pizzas were cold, waiting for refunds. "
                       "Zorbing zorbed happily! ";
    size_t un = strlen(unit), reps = 40;
    char *text = malloc(un * reps + 1);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < reps; i++) memcpy(text + i * un, unit, un);
    text[un * reps] = '\0';
    fb_sentiment a, b;
    fb_err err;
    ck_assert_int_eq(fb_sentiment_analyze(te, unit, un, "en", NULL, FB_SENT_TERMS, &a, &err), FB_OK);
    ck_assert_int_eq(fb_sentiment_analyze(te, text, un * reps, "en", NULL, FB_SENT_TERMS, &b, &err),
                     FB_OK);
    ck_assert_uint_ge(a.n_terms, 8);
    ck_assert_uint_eq(b.n_terms, a.n_terms);
    for (size_t i = 0; i < a.n_terms; i++) {
        ck_assert_str_eq(b.terms[i].stem, a.terms[i].stem);
        ck_assert_str_eq(b.terms[i].surface, a.terms[i].surface);
        ck_assert_ptr_eq(b.terms[i].aspect, a.terms[i].aspect);
    }
    fb_sentiment_free(&a);
    fb_sentiment_free(&b);
    free(text);
}
END_TEST

START_TEST(robust_on_pathological_text)
{
    const char *units[] = { "😡", "a\xCC\x81", "x", "👨‍👩‍👧", "not ", "but ", "!?" };
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t n = strlen(units[u]), reps = 8192 / n;
        char *s = malloc(n * reps + 1);
        for (size_t i = 0; i < reps; i++) memcpy(s + i * n, units[u], n);
        fb_sentiment r;
        fb_err err;
        ck_assert_int_eq(fb_sentiment_analyze(te, s, n * reps, "en", NULL,
                                              FB_SENT_EXPLAIN | FB_SENT_TERMS, &r, &err), FB_OK);
        ck_assert(r.compound >= -1 && r.compound <= 1);
        fb_sentiment_free(&r);
        free(s);
    }
}
END_TEST

static const char *mt_texts[] = {
    "Great food but rude staff.", "Still hasn't arrived!!!", "not bad at all 👍",
    "The pizza was cold and the waiter ignored us.", "Loved every minute of it",
};

static void *mt_worker(void *arg)
{
    const double *expect = arg;
    for (int r = 0; r < 3000; r++) {
        int i = r % 5;
        fb_sentiment s;
        fb_err err;
        if (fb_sentiment_analyze(te, mt_texts[i], strlen(mt_texts[i]), NULL, NULL,
                                 FB_SENT_TERMS, &s, &err) != FB_OK) return (void *)1;
        int same = s.compound == expect[i];
        fb_sentiment_free(&s);
        if (!same) return (void *)1;
    }
    return NULL;
}

START_TEST(threads_get_the_same_scores)
{
    double expect[5];
    for (int i = 0; i < 5; i++) expect[i] = score(mt_texts[i]);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, mt_worker, expect);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        ck_assert_ptr_null(rc);
    }
}
END_TEST

START_TEST(offline_scores_one_line_per_line)
{
    const char input[] = "Great food!\n\nThe waiter was rude\r\nbad \xff bytes\nno newline at end";
    FILE *in = fmemopen((void *)input, sizeof input - 1, "r");
    char *outbuf = NULL;
    size_t outlen = 0;
    FILE *out = open_memstream(&outbuf, &outlen);
    fb_err err = { 0 };
    ck_assert_int_eq(fbctl_analyze_offline(te, "en", in, out, &err), FB_OK);
    fclose(in);
    fclose(out);
    char label[5][32];
    double c[5];
    ck_assert_int_eq(sscanf(outbuf, "%lf\t%31s\n%lf\t%31s\n%lf\t%31s\n%lf\t%31s\n%lf\t%31s",
                            &c[0], label[0], &c[1], label[1], &c[2], label[2], &c[3], label[3],
                            &c[4], label[4]), 10);
    ck_assert(c[0] > 0);
    ck_assert_str_eq(label[1], "NEUTRAL");        /* an empty line still gets a line */
    ck_assert(c[2] < 0);
    ck_assert(strstr(outbuf, "0.0000\tNEUTRAL\n"));
    int lines = 0;
    for (char *p = outbuf; *p; p++) lines += *p == '\n';
    ck_assert_int_eq(lines, 5);
    free(outbuf);
    in = fmemopen((void *)input, sizeof input - 1, "r");
    out = open_memstream(&outbuf, &outlen);
    ck_assert_int_eq(fbctl_analyze_offline(te, "xx", in, out, &err), FB_INVALID);
    fclose(in);
    fclose(out);
    free(outbuf);
}
END_TEST

static Suite *sentiment_suite(void)
{
    Suite *s = suite_create("sentiment");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, negation_to_the_clause_boundary);
    tcase_add_test(tc, contrast_clause_after_but_dominates);
    tcase_add_test(tc, boosters_and_dampeners);
    tcase_add_test(tc, caps_and_exclamation_emphasis);
    tcase_add_test(tc, questions_are_damped);
    tcase_add_test(tc, idioms_and_phrases);
    tcase_add_test(tc, factual_complaints);
    tcase_add_test(tc, emoji_and_emoticons);
    tcase_add_test(tc, stemming_matches_inflections);
    tcase_add_test(tc, ratings_by_ratio);
    tcase_add_test(tc, adjacent_opposites_resolve_negative);
    tcase_add_test(tc, counterfactuals_and_decline);
    tcase_add_test(tc, negator_idioms_negate_nothing);
    tcase_add_test(tc, booster_words_need_a_word_after_them);
    tcase_add_test(tc, labels_and_bands);
    tcase_add_test(tc, shares_sum_to_one);
    tcase_add_test(tc, explain_gives_code_point_spans);
    tcase_add_test(tc, aspects_per_opinionated_clause);
    tcase_add_test(tc, terms_are_distinct_content_stems);
    tcase_add_test(tc, terms_of_unknown_words_are_snowball_stems);
    tcase_add_test(tc, terms_of_a_long_text_match_its_short_self);
    tcase_add_test(tc, robust_on_pathological_text);
    tcase_add_test(tc, threads_get_the_same_scores);
    tcase_add_test(tc, offline_scores_one_line_per_line);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(sentiment_suite)
