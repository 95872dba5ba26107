/* tokenize.h — UTF-8 aware tokenizer for customer feedback text.
 *
 * Produces, in order: words (lower-cased and apostrophe-folded, with an
 * ALL-CAPS flag), numbers ("40", "12.50", "10:30", ratings like "8/10"), ASCII emoticons (":)", ":-(", "<3", ":/", ":D"),
 * emoji clusters (base + variation selectors, skin tones and ZWJ-joined
 * parts as ONE token; a regional-indicator pair is one flag) and punctuation
 * runs ("!!!", "?!", ",", "..."). URLs, @mentions and HTML entities are
 * skipped; "#tag" becomes the word "tag". Unicode spaces (U+00A0, U+0085,
 * U+2000..U+200B, …) separate tokens; a line break ends a sentence.
 *
 * Every token carries its byte span and code point span in the input, its
 * sentence index and its clause index (clauses end at , ; : . ! ? … and
 * dashes; callers add contrast-word splits themselves, see sentiment.c).
 *
 * Storage: fb_tokens starts on caller-provided (usually stack) arrays and
 * moves to the heap only when a text outgrows them, so short texts cost no
 * allocation. Input is expected to be valid UTF-8; malformed bytes are
 * treated as U+FFFD and never crash. */
#ifndef FB_TOKENIZE_H
#define FB_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

typedef enum fb_tok_kind {
    FB_TOK_WORD = 1,
    FB_TOK_NUMBER,
    FB_TOK_EMOTICON,
    FB_TOK_EMOJI,
    FB_TOK_PUNCT,
} fb_tok_kind;

enum {
    FB_TOKF_CAPS = 1,        /* word of >= 2 letters, all upper case */
    FB_TOKF_CLAUSE_END = 2,  /* punctuation that ends a clause */
    FB_TOKF_SENT_END = 4,    /* punctuation (or line break) that ends a sentence */
    FB_TOKF_HASHTAG = 8,     /* word came from "#tag" */
    FB_TOKF_HAS_CASED = 16,  /* word has at least one cased letter */
};

typedef struct fb_token {
    uint32_t start, end;         /* byte span, half-open */
    uint32_t cp_start, cp_end;   /* code point span, half-open */
    uint32_t norm, norm_len;     /* normalised form: fb_tokens.norm + norm */
    uint32_t sent, clause;       /* sentence and clause index */
    uint64_t hash;               /* words: fb_strtab_hash64 of the normal form */
    uint8_t kind, flags;
    uint8_t n_excl, n_quest;     /* '!' and '?' in a punctuation run (max 255) */
} fb_token;

typedef struct fb_tokens {
    fb_token *v;
    size_t n, cap;
    size_t n_words;              /* tokens of kind FB_TOK_WORD */
    char *norm;                  /* normalised forms, each NUL-terminated */
    size_t norm_len, norm_cap;
    int own_v, own_norm;         /* 1 once moved to the heap */
} fb_tokens;

/* Prepares t to use buf[cap] and normbuf[normcap] first (both may be NULL/0). */
void fb_tokens_init(fb_tokens *t, fb_token *buf, size_t cap,
                    char *normbuf, size_t normcap);

/* Frees heap storage (not the initial buffers). */
void fb_tokens_free(fb_tokens *t);

/* Tokenizes text[0..len) into t (appending after t->n = 0 reset).
 * Returns 0, or -1 if memory ran out or len >= 2^31 (t is then empty). */
int fb_tokenize(const char *text, size_t len, fb_tokens *t);

/* The NUL-terminated normalised form of token k. */
static inline const char *fb_token_text(const fb_tokens *t, const fb_token *k)
{
    return t->norm + k->norm;
}

/* Writes the lookup key of an emoji cluster (variation selectors and skin
 * tones removed) to out (room for len bytes) and returns its length. */
size_t fb_emoji_key(const char *s, size_t len, char *out);

#endif
