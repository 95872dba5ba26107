/* test_languages.c — Spanish, French, German and Portuguese end to end:
 * the real lexicons under lexicons/ loaded by the real engine
 * (fb_text_open), small sentences scored with fb_sentiment_analyze.
 *
 * What is pinned, per language: plain polarity (positive, negative and a
 * neutral statement of fact), negation (including French "ne ... pas" with
 * the verb in between and German "kein"), contrast (the clause after
 * "pero"/"mais"/"aber"/"mas" dominates, in both directions), multi-word
 * phrases (matched as one entry: the explain output names the phrase),
 * boosters and dampeners (stronger/weaker than the bare word), accented and
 * ALL-CAPS words, German capitalised nouns and compounds, aspect terms
 * (food vs staff in one sentence), and language guessing from stopword
 * profiles for a typical sentence of each language.
 *
 * The lexicon directory comes from FB_LEXICON_DIR in the environment (ctest
 * sets it), else the compile-time FB_LEXICON_DIR. */
#include "fbtest.h"

#include <math.h>

#include "sentiment.h"

static fb_textengine *te;

static void open_engine(void)
{
    const char *dir = getenv("FB_LEXICON_DIR");
    if (!dir || !*dir) dir = FB_LEXICON_DIR;
    fb_err err = {0};
    int rc = fb_text_open(&te, dir, &err);
    if (rc != 0) {
        fprintf(stderr, "fb_text_open(%s): %s\n", dir, err.msg);
        abort();
    }
}

static void close_engine(void)
{
    fb_text_close(te);
    te = NULL;
}

/* Scores text in lang (NULL: guess) and returns the compound; fills
 * lang_out (if given) with the language the engine used. */
static double score_in(const char *lang, const char *text, char *lang_out, size_t lang_len)
{
    fb_sentiment s;
    fb_err err = {0};
    memset(&s, 0, sizeof s);
    int rc = fb_sentiment_analyze(te, text, strlen(text), lang, "en", 0, &s, &err);
    ck_assert_msg(rc == 0, "analyze [%s] \"%s\": rc %d: %s", lang ? lang : "guess", text, rc, err.msg);
    double c = s.compound;
    ck_assert_msg(c >= -1.0 && c <= 1.0, "compound out of range: %f", c);
    if (lang_out) snprintf(lang_out, lang_len, "%s", s.language);
    fb_sentiment_free(&s);
    return c;
}

static double score(const char *lang, const char *text)
{
    return score_in(lang, text, NULL, 0);
}

/* ---- polarity table: sentence -> expected sign --------------------------- */
enum { NEG = -1, NEU = 0, POS = 1 };
typedef struct case_ {
    const char *lang, *text;
    int want;
    const char *rule;
} case_;

static const case_ polar[] = {
    /* Spanish */
    {"es", "El servicio fue excelente y el personal muy amable.", POS, "plain"},
    {"es", "La comida llegó fría y el camarero fue muy grosero.", NEG, "plain"},
    {"es", "El pedido llegó el martes por la tarde.", NEU, "plain"},
    {"es", "La comida no estaba buena.", NEG, "negation"},
    {"es", "El personal no fue nada amable.", NEG, "double negation is one"},
    {"es", "Nunca me han decepcionado.", POS, "negated negative"},
    {"es", "Sin ningún problema.", POS, "phrase"},
    {"es", "La comida estaba rica, pero el servicio fue pésimo.", NEG, "contrast"},
    {"es", "El servicio fue lento, pero la comida estaba deliciosa.", POS, "contrast"},
    {"es", "Dejó de funcionar a la semana.", NEG, "phrase"},
    {"es", "No vale la pena.", NEG, "phrase"},
    {"es", "Merece la pena.", POS, "phrase"},
    {"es", "Nunca más.", NEG, "phrase"},
    {"es", "El camarero fue poco profesional.", NEG, "poco negates"},
    {"es", "Pésimo.", NEG, "accent"},
    {"es", "¡SERVICIO PÉSIMO!", NEG, "caps with accent"},
    {"es", "Buenos días, tengo una pregunta sobre mi pedido.", NEU, "greeting"},
    {"es", "Llevo dos semanas esperando el reembolso y nadie me contesta.", NEG, "feedback"},
    {"es", "Me cobraron de más y encima fueron maleducados.", NEG, "feedback"},
    {"es", "Envío rapidísimo, todo en perfecto estado.", POS, "feedback"},
    {"es", "No es lo que esperaba.", NEG, "unmet expectation"},
    {"es", "Me gustaría cambiar la dirección de entrega.", NEU, "request, not praise"},
    {"es", "¿Tienen opciones sin gluten?", NEU, "sin + neutral noun"},
    /* French */
    {"fr", "Le personnel était très aimable et le repas délicieux.", POS, "plain"},
    {"fr", "Le service était lent et la serveuse désagréable.", NEG, "plain"},
    {"fr", "La commande est arrivée mardi matin.", NEU, "plain"},
    {"fr", "Ce n'est pas bon.", NEG, "ne ... pas"},
    {"fr", "Je n'ai pas aimé le dessert.", NEG, "ne + verb + pas"},
    {"fr", "C'est pas bon du tout.", NEG, "pas without ne"},
    {"fr", "Le personnel n'était jamais désagréable.", POS, "ne ... jamais, negated negative"},
    {"fr", "Aucun problème, livraison rapide.", POS, "aucun"},
    {"fr", "Le cadre est joli mais le service est nul.", NEG, "contrast"},
    {"fr", "Un peu cher mais délicieux.", POS, "contrast"},
    {"fr", "Une perte de temps.", NEG, "phrase"},
    {"fr", "Plus jamais !", NEG, "phrase"},
    {"fr", "L'appareil ne fonctionne plus.", NEG, "phrase"},
    {"fr", "Rien à redire.", POS, "phrase"},
    {"fr", "Pas terrible.", NEG, "phrase"},
    {"fr", "J'adore ce restaurant.", POS, "elision"},
    {"fr", "Le personnel était peu aimable.", NEG, "peu negates"},
    {"fr", "Déçu.", NEG, "accent"},
    {"fr", "Bonjour, je voudrais modifier ma commande.", NEU, "greeting"},
    {"fr", "J'attends mon remboursement depuis deux semaines et personne ne répond.", NEG, "feedback"},
    {"fr", "Livraison ultra rapide, tout en parfait état.", POS, "feedback"},
    {"fr", "Je n'aime pas ce restaurant.", NEG, "elided verb"},
    {"fr", "N'hésitez pas à y aller.", POS, "phrase with negation"},
    {"fr", "Avez-vous des options sans gluten ?", NEU, "sans + neutral noun"},
    /* German */
    {"de", "Das Essen war lecker und die Bedienung sehr freundlich.", POS, "plain"},
    {"de", "Die Lieferung kam zu spät und das Paket war beschädigt.", NEG, "plain"},
    {"de", "Die Bestellung kam am Dienstag.", NEU, "plain"},
    {"de", "Das Essen war nicht gut.", NEG, "negation"},
    {"de", "Kein guter Service.", NEG, "kein"},
    {"de", "Ohne Probleme geliefert.", POS, "ohne"},
    {"de", "Es gibt nichts zu meckern.", POS, "phrase"},
    {"de", "Das Zimmer war klein, aber das Personal war großartig.", POS, "contrast"},
    {"de", "Das Essen war gut, aber der Service war eine Katastrophe.", NEG, "contrast"},
    {"de", "Totale Geldverschwendung.", NEG, "compound noun"},
    {"de", "Nie wieder!", NEG, "phrase"},
    {"de", "Funktioniert nicht.", NEG, "phrase, nicht after the verb"},
    {"de", "Das Gerät funktioniert nicht mehr.", NEG, "phrase"},
    {"de", "Das gefällt mir nicht.", NEG, "phrase, nicht at the end"},
    {"de", "Die Freundlichkeit des Personals war beeindruckend.", POS, "capitalised noun"},
    {"de", "Unfreundliches Personal und schmutzige Zimmer.", NEG, "inflected adjectives"},
    {"de", "ÜBERTEUERT.", NEG, "caps with umlaut"},
    {"de", "Schöne Aussicht und großzügige Zimmer.", POS, "umlaut, ß"},
    {"de", "Guten Tag, ich habe eine Frage zu meiner Bestellung.", NEU, "greeting"},
    {"de", "Ich warte seit zwei Wochen auf meine Erstattung und niemand antwortet.", NEG, "feedback"},
    {"de", "Das Essen ist gut, aber der Service ist unterirdisch.", NEG, "contrast"},
    {"de", "Wir kommen gerne wieder!", POS, "phrase"},
    {"de", "Die App stürzt ständig ab.", NEG, "separable verb phrase"},
    {"de", "Haben Sie Gerichte ohne Gluten?", NEU, "ohne + neutral noun"},
    /* Portuguese */
    {"pt", "O atendimento foi ótimo e a comida deliciosa.", POS, "plain"},
    {"pt", "O produto chegou quebrado e ninguém responde.", NEG, "plain"},
    {"pt", "O pedido chegou na terça-feira.", NEU, "plain"},
    {"pt", "A comida não estava boa.", NEG, "negation"},
    {"pt", "Não gostei.", NEG, "phrase"},
    {"pt", "Sem nenhum problema.", POS, "phrase"},
    {"pt", "A comida é boa, mas o atendimento é péssimo.", NEG, "contrast"},
    {"pt", "Demorou um pouco, mas a comida estava deliciosa.", POS, "contrast"},
    {"pt", "Perda de tempo.", NEG, "phrase"},
    {"pt", "Parou de funcionar depois de uma semana.", NEG, "phrase"},
    {"pt", "Não vale a pena.", NEG, "phrase"},
    {"pt", "Nunca mais volto.", NEG, "phrase"},
    {"pt", "O funcionário foi pouco educado.", NEG, "pouco negates"},
    {"pt", "PÉSSIMO ATENDIMENTO.", NEG, "caps with accent"},
    {"pt", "Boa tarde, gostaria de alterar o meu pedido.", NEU, "greeting"},
    {"pt", "Estou esperando o reembolso há duas semanas e ninguém responde.", NEG, "feedback"},
    {"pt", "Entrega super rápida, tudo em perfeito estado.", POS, "feedback"},
    {"pt", "Não é o que eu esperava.", NEG, "unmet expectation"},
    {"pt", "Gostaria de alterar o endereço de entrega.", NEU, "request, not praise"},
    {"pt", "Vocês têm opções sem glúten?", NEU, "sem + neutral noun"},
};

START_TEST(polarity)
{
    const case_ *k = &polar[_i];
    double c = score(k->lang, k->text);
    int got = c >= 0.05 ? POS : c <= -0.05 ? NEG : NEU;
    ck_assert_msg(got == k->want, "[%s] %s (%s): compound %.3f, want %s", k->lang, k->text,
                  k->rule, c, k->want == POS ? "positive" : k->want == NEG ? "negative" : "neutral");
}
END_TEST

/* ---- boosters and dampeners: the modified word moves the score ---------- */
typedef struct pair_ {
    const char *lang, *plain, *modified;
    int stronger; /* 1: |modified| > |plain|; 0: |modified| < |plain| */
} pair_;

static const pair_ pairs[] = {
    {"es", "La comida estaba buena.", "La comida estaba muy buena.", 1},
    {"es", "El precio es caro.", "El precio es un poco caro.", 0},
    {"es", "Servicio pésimo.", "Servicio PÉSIMO.", 1},
    {"fr", "Le repas était bon.", "Le repas était très bon.", 1},
    {"fr", "C'est cher.", "C'est un peu cher.", 0},
    {"de", "Das Essen war gut.", "Das Essen war sehr gut.", 1},
    {"de", "Das Zimmer war teuer.", "Das Zimmer war etwas teuer.", 0},
    {"de", "Das Essen war schrecklich.", "Das Essen war SCHRECKLICH.", 1},
    {"pt", "A comida estava boa.", "A comida estava muito boa.", 1},
    {"pt", "O hotel é caro.", "O hotel é um pouco caro.", 0},
};

START_TEST(intensity)
{
    const pair_ *p = &pairs[_i];
    double a = score(p->lang, p->plain), b = score(p->lang, p->modified);
    ck_assert_msg(fabs(a) >= 0.05, "[%s] \"%s\" should be polar, got %.3f", p->lang, p->plain, a);
    ck_assert_msg((a > 0) == (b > 0), "[%s] modifier flipped the sign: %.3f -> %.3f", p->lang, a, b);
    if (p->stronger)
        ck_assert_msg(fabs(b) > fabs(a), "[%s] \"%s\" (%.3f) should be stronger than \"%s\" (%.3f)",
                      p->lang, p->modified, b, p->plain, a);
    else
        ck_assert_msg(fabs(b) < fabs(a), "[%s] \"%s\" (%.3f) should be weaker than \"%s\" (%.3f)",
                      p->lang, p->modified, b, p->plain, a);
}
END_TEST

/* ---- phrases match as one entry (explain names the phrase) -------------- */
typedef struct phrase_ {
    const char *lang, *text;
    int sign;
} phrase_;

static const phrase_ phrases[] = {
    {"es", "Una pérdida de dinero.", NEG},
    {"es", "Está para chuparse los dedos.", POS},
    {"fr", "Quelle perte de temps.", NEG},
    {"fr", "Nous reviendrons, rien à reprocher.", POS},
    {"de", "Nie wieder, die Lieferung ist nie angekommen.", NEG},
    {"de", "Kann ich nur empfehlen.", POS},
    {"pt", "Parou de funcionar.", NEG},
    {"pt", "Vale cada centavo.", POS},
};

START_TEST(phrase_is_one_entry)
{
    const phrase_ *p = &phrases[_i];
    fb_sentiment s;
    fb_err err = {0};
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(fb_sentiment_analyze(te, p->text, strlen(p->text), p->lang, NULL,
                                          FB_SENT_EXPLAIN, &s, &err), 0);
    int phrase_hits = 0;
    for (size_t i = 0; i < s.n_contributions; i++) {
        const fb_contribution *c = &s.contributions[i];
        if (c->stem && strchr(c->stem, ' ') && (c->value > 0) == (p->sign > 0)) phrase_hits++;
    }
    int got = s.compound >= 0.05 ? POS : s.compound <= -0.05 ? NEG : NEU;
    double compound = s.compound;
    fb_sentiment_free(&s);
    ck_assert_msg(phrase_hits > 0, "[%s] \"%s\": no multi-word contribution with the right sign",
                  p->lang, p->text);
    ck_assert_msg(got == p->sign, "[%s] \"%s\": compound %.3f has the wrong sign", p->lang, p->text,
                  compound);
}
END_TEST

/* ---- language guessing --------------------------------------------------- */
typedef struct guess_ {
    const char *want, *text;
} guess_;

static const guess_ guesses[] = {
    {"es", "El camarero fue muy amable y la comida estaba buenísima, pero el postre no me gustó nada."},
    {"es", "Pedí una pizza el sábado y llegó una hora tarde, fría y sin las bebidas."},
    {"fr", "Le serveur était très gentil et les plats étaient bons, mais le dessert n'était pas à la hauteur."},
    {"fr", "J'ai commandé une pizza samedi et elle est arrivée avec une heure de retard."},
    {"de", "Der Kellner war sehr nett und das Essen war lecker, aber der Nachtisch war nicht so gut."},
    {"de", "Ich habe am Samstag eine Pizza bestellt und sie kam mit einer Stunde Verspätung an."},
    {"pt", "O garçom foi muito simpático e a comida estava ótima, mas a sobremesa não estava boa."},
    {"pt", "Pedi uma pizza no sábado e ela chegou com uma hora de atraso, fria e sem as bebidas."},
    {"en", "The waiter was very friendly and the food was great, but the dessert was not good."},
};

START_TEST(guess_language)
{
    const guess_ *g = &guesses[_i];
    char lang[8];
    (void)score_in(NULL, g->text, lang, sizeof lang);
    ck_assert_msg(strcmp(lang, g->want) == 0, "guessed \"%s\" for a %s sentence: %s", lang, g->want,
                  g->text);
}
END_TEST

/* An explicit language is used as given, even when the text looks foreign. */
START_TEST(explicit_language_wins)
{
    static const char *langs[] = {"es", "fr", "de", "pt"};
    char lang[8];
    for (size_t i = 0; i < 4; i++) {
        ck_assert_msg(fb_text_has_language(te, langs[i]), "no lexicon loaded for %s", langs[i]);
        (void)score_in(langs[i], "The food was great.", lang, sizeof lang);
        ck_assert_str_eq(lang, langs[i]);
    }
}
END_TEST

/* The same judgement in each language lands on the same side: the
 * lexicons agree in sign on a small parallel set. */
START_TEST(parallel_sentences_agree)
{
    static const struct { const char *es, *fr, *de, *pt; int want; } par[] = {
        {"El personal fue muy amable.", "Le personnel était très aimable.",
         "Das Personal war sehr freundlich.", "Os funcionários foram muito simpáticos.", POS},
        {"El envío llegó con retraso y roto.", "Le colis est arrivé en retard et cassé.",
         "Das Paket kam verspätet und kaputt an.", "A encomenda chegou atrasada e quebrada.", NEG},
        {"Me cobraron de más y no me devolvieron el dinero.",
         "On m'a surfacturé et je n'ai jamais été remboursé.",
         "Mir wurde zu viel berechnet und ich habe keine Erstattung bekommen.",
         "Fui cobrado a mais e nunca recebi o reembolso.", NEG},
    };
    for (size_t i = 0; i < sizeof par / sizeof par[0]; i++) {
        const char *texts[4] = {par[i].es, par[i].fr, par[i].de, par[i].pt};
        static const char *langs[4] = {"es", "fr", "de", "pt"};
        for (size_t j = 0; j < 4; j++) {
            double c = score(langs[j], texts[j]);
            int got = c >= 0.05 ? POS : c <= -0.05 ? NEG : NEU;
            ck_assert_msg(got == par[i].want, "[%s] %s: compound %.3f, want %s", langs[j], texts[j], c,
                          par[i].want == POS ? "positive" : "negative");
        }
    }
}
END_TEST

/* Aspect terms per language: a cold dish and a friendly waiter land on
 * food (negative) and staff (positive). */
static double aspect_of(const fb_sentiment *s, const char *aspect, int *found)
{
    for (size_t i = 0; i < s->n_aspects; i++)
        if (strcmp(s->aspects[i].aspect, aspect) == 0) { *found = 1; return s->aspects[i].compound; }
    *found = 0;
    return 0;
}

START_TEST(aspects_per_language)
{
    static const struct { const char *lang, *text; } a[] = {
        {"es", "La comida estaba fría, pero el camarero fue muy amable."},
        {"fr", "Le repas était froid, mais le serveur était très aimable."},
        {"de", "Das Essen war kalt, aber der Kellner war sehr freundlich."},
        {"pt", "A comida estava fria, mas o garçom foi muito simpático."},
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        fb_sentiment s;
        fb_err err = {0};
        memset(&s, 0, sizeof s);
        ck_assert_int_eq(fb_sentiment_analyze(te, a[i].text, strlen(a[i].text), a[i].lang, NULL, 0, &s,
                                              &err), 0);
        int has_food, has_staff;
        double food = aspect_of(&s, "food", &has_food), staff = aspect_of(&s, "staff", &has_staff);
        fb_sentiment_free(&s);
        ck_assert_msg(has_food && food < 0, "[%s] %s: food aspect %s %.3f", a[i].lang, a[i].text,
                      has_food ? "scored" : "missing", food);
        ck_assert_msg(has_staff && staff > 0, "[%s] %s: staff aspect %s %.3f", a[i].lang, a[i].text,
                      has_staff ? "scored" : "missing", staff);
    }
}
END_TEST

static Suite *languages_suite(void)
{
    Suite *s = suite_create("languages");
    TCase *tc = tcase_create("languages");
    tcase_add_unchecked_fixture(tc, open_engine, close_engine);
    tcase_add_loop_test(tc, polarity, 0, (int)(sizeof polar / sizeof polar[0]));
    tcase_add_loop_test(tc, intensity, 0, (int)(sizeof pairs / sizeof pairs[0]));
    tcase_add_loop_test(tc, phrase_is_one_entry, 0, (int)(sizeof phrases / sizeof phrases[0]));
    tcase_add_loop_test(tc, guess_language, 0, (int)(sizeof guesses / sizeof guesses[0]));
    tcase_add_test(tc, explicit_language_wins);
    tcase_add_test(tc, parallel_sentences_agree);
    tcase_add_test(tc, aspects_per_language);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(languages_suite)
