/* offline.h — `feedbackctl analyze --offline`: score texts with no server.
 *
 * Reads one text per line from in and writes `compound<TAB>LABEL` per line
 * to out (compound with 4 decimals, LABEL as fb_label_name spells it), in
 * the same order, one output line per input line (an empty line scores
 * 0.0000 NEUTRAL). lang: a primary tag, or NULL to guess per line (falling
 * back to "en"). Lines that are not valid UTF-8 are scored with the bad
 * bytes replaced by '?'.
 * Errors: FB_INVALID (unsupported lang), FB_INTERNAL (read/write error,
 * out of memory); err says which. */
#ifndef FBCTL_OFFLINE_H
#define FBCTL_OFFLINE_H

#include <stdio.h>

#include "sentiment.h"

int fbctl_analyze_offline(const fb_textengine *te, const char *lang, FILE *in, FILE *out,
                          fb_err *err);

#endif
