/* nps.c — NPS, adjusted-Wald margin (Rocks 2016) and the period z-test.
 *
 * Why adjusted Wald: the plain Wald interval for P − D collapses to zero
 * width at the extremes (all promoters) and undercovers for small n; adding
 * 0.75 promoters and 0.75 detractors (3 pseudo-responses in all) gives close
 * to nominal 95% coverage down to small samples, and keeps n = 0 defined.
 *
 * Formulas (proportions on the 0..1 scale; ×100 for NPS points):
 *   n' = n + 3
 *   p' = (P + 0.75)/n'      d' = (D + 0.75)/n'
 *   Var' = (p' + d' − (p' − d')²)/n'      SE' = sqrt(Var')
 *   margin_95 = 1.96·SE'·100
 *   ci_low  = max(−100, nps − margin_95),  ci_high = min(100, nps + margin_95)
 * The interval is centred on the reported (unadjusted) NPS, as the contract
 * says; the adjustment only widens the margin where it matters.
 * Two periods: z = (nps'₁ − nps'₂)/sqrt(SE'₁² + SE'₂²) with nps' = p' − d'
 * (independent samples); significant when |z| >= 1.96 (two-sided, 95%).
 */
#include "nps.h"

#include <math.h>

void fb_nps_compute(uint64_t promoters, uint64_t passives, uint64_t detractors, fb_nps *out)
{
    uint64_t n = promoters + passives + detractors;
    out->n = n;
    out->promoters = promoters;
    out->passives = passives;
    out->detractors = detractors;
    out->nps = n ? 100.0 * ((double)promoters - (double)detractors) / (double)n : 0.0;
    double na = (double)n + 3.0;
    double p = ((double)promoters + 0.75) / na;
    double d = ((double)detractors + 0.75) / na;
    double var = (p + d - (p - d) * (p - d)) / na;
    out->adj = 100.0 * (p - d);
    out->se = sqrt(var > 0 ? var : 0);
    out->margin_95 = 1.96 * out->se * 100.0;
    out->ci_low = fmax(-100.0, out->nps - out->margin_95);
    out->ci_high = fmin(100.0, out->nps + out->margin_95);
}

void fb_nps_compare(const fb_nps *cur, const fb_nps *prev, fb_nps_change *out)
{
    out->change = cur->nps - prev->nps;
    double se = sqrt(cur->se * cur->se + prev->se * prev->se);
    out->z = se > 0 ? (cur->adj - prev->adj) / 100.0 / se : 0.0;
    out->significant = fabs(out->z) >= 1.96;
}
