/* nps.h — Net Promoter Score with an honest margin of error.
 *
 * NPS = 100·(P − D)/n. The interval is the adjusted Wald interval for the
 * difference of two multinomial proportions (Rocks 2016, as MeasuringU
 * recommends for NPS): add 3 pseudo-responses, 0.75 to promoters and to
 * detractors (and so 1.5 to passives):
 *   n' = n + 3, p' = (P + 0.75)/n', d' = (D + 0.75)/n',
 *   nps' = p' − d',  SE' = sqrt((p' + d' − (p' − d')²)/n'),
 *   margin_95 = 1.96·SE'·100, ci = nps ± margin clamped to [−100, 100].
 * It is well defined for n = 0 (nps 0, margin 1.96·sqrt(0.5/3)·100 ≈ 80).
 * Pure functions, no state.
 */
#ifndef FB_NPS_H
#define FB_NPS_H

#include <stdint.h>

typedef struct fb_nps {
    uint64_t n, promoters, passives, detractors;
    double nps;        /* 100·(P − D)/n, 0 when n = 0 */
    double adj;        /* nps' = 100·(p' − d') */
    double se;         /* SE' (proportion scale, 0..1) */
    double margin_95;  /* 1.96·SE'·100 */
    double ci_low, ci_high;
} fb_nps;

/* Fills out from category counts. */
void fb_nps_compute(uint64_t promoters, uint64_t passives, uint64_t detractors, fb_nps *out);

typedef struct fb_nps_change {
    double change;     /* cur.nps − prev.nps (plain scores) */
    double z;          /* (nps'_cur − nps'_prev) / sqrt(SE'_cur² + SE'_prev²), on the 0..1 scale */
    int significant;   /* |z| >= 1.96: two-sided test at 95% */
} fb_nps_change;

/* Compares two periods with a two-sided z-test on the adjusted values. */
void fb_nps_compare(const fb_nps *cur, const fb_nps *prev, fb_nps_change *out);

#endif
