/* label.c — names of sentiment labels, as the API spells them. */
#include "sentiment.h"

const char *fb_label_name(fb_label l)
{
    switch (l) {
    case FB_LABEL_VERY_NEGATIVE: return "VERY_NEGATIVE";
    case FB_LABEL_NEGATIVE: return "NEGATIVE";
    case FB_LABEL_NEUTRAL: return "NEUTRAL";
    case FB_LABEL_POSITIVE: return "POSITIVE";
    case FB_LABEL_VERY_POSITIVE: return "VERY_POSITIVE";
    case FB_LABEL_MIXED: return "MIXED";
    }
    return "LABEL_UNSPECIFIED";
}
