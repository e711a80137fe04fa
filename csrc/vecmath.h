/* Branch-free exp, expm1, log and log1p that compilers can vectorise.
 *
 * Design: every function is straight-line code on doubles and 64-bit integers (range reduction,
 * a polynomial, reconstruction through the exponent bits), with special values (NaN, +-inf,
 * overflow, subnormal results) handled by selects at the end, so a loop that calls them has no
 * branch and no libm call. The float32 kernels compute in double with the shorter polynomials of
 * the *_lp ("low precision", still ~2^-30 relative) variants and round once, which keeps their
 * results within 0.5 ULP + 1/60 ULP of float. Polynomials are Taylor series (coefficients 1/k!
 * and 1/(2k+1), computed here, not fitted), truncated where the next term is below 2^-56
 * (double) or 2^-32 (lp) of the result over the reduced interval.
 * Measured errors: tools/vecmath_ulp.c (every float32) and tools/vecmath_ulp.py (mpmath).
 */
#ifndef CE_VECMATH_H
#define CE_VECMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define CE_VM static inline __attribute__((always_inline))
#else
#define CE_VM static inline
#endif

CE_VM uint64_t ce_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

CE_VM double ce_from_bits(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Adding 1.5 * 2^52 rounds |v| < 2^51 to an integer held in the low bits of the mantissa. */
#define CE_SHIFT 0x1.8p52
#define CE_INV_LN2 0x1.71547652b82fep+0
/* ln 2 = CE_LN2_HI + CE_LN2_LO; HI has 12 trailing zero bits, so k * HI is exact for |k| < 2^12. */
#define CE_LN2_HI 0x1.62e42fefa3000p-1
#define CE_LN2_LO 0x1.3de6af278ece6p-42
/* Bits of sqrt(1/2): log's reduction puts the mantissa in [sqrt(1/2), sqrt(2)). */
#define CE_SQRT_HALF_BITS 0x3fe6a09e667f3bcdULL

/* Horner's steps for the Taylor coefficients 1/8!, 1/7!, ..., 1/2! of e^r, after a head p
 * that holds the higher orders (0 when there are none). */
CE_VM double ce_exp_taylor_low(double p, double r)
{
    p = p * r + 1.0 / 40320;
    p = p * r + 1.0 / 5040;
    p = p * r + 1.0 / 720;
    p = p * r + 1.0 / 120;
    p = p * r + 1.0 / 24;
    p = p * r + 1.0 / 6;
    return p * r + 0.5;
}

/* e^r - 1 - r for |r| <= ln2 / 2: Taylor to r^13 (next term 4e-18 relative), or r^8 (lp). */
CE_VM double ce_expm1_poly(double r, int lp)
{
    double p = 0.0;
    if (!lp) {
        p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
    }
    return (r * r) * ce_exp_taylor_low(p, r);
}

/* 2^k for an integer-valued double k in [-1022, 1023], through the exponent bits. */
CE_VM double ce_pow2i(double k)
{
    const uint64_t ki = ce_bits(k + CE_SHIFT) - ce_bits(CE_SHIFT);
    return ce_from_bits((ki + 1023) << 52);
}

CE_VM double ce_exp_impl(double x, int lp)
{
    /* the clamp keeps the integer tricks in range; NaN fails both comparisons and stays NaN */
    const double xc = x > 710.0 ? 710.0 : (x < -760.0 ? -760.0 : x);
    const double kd = (xc * CE_INV_LN2 + CE_SHIFT) - CE_SHIFT;
    const double r = (xc - kd * CE_LN2_HI) - kd * CE_LN2_LO;
    const double er = 1.0 + (r + ce_expm1_poly(r, lp));
    /* 2^k in two factors so that neither overflows (k up to 1024) nor underflows (k to -1097);
     * the last product rounds once into the subnormal range */
    const int low = kd < -1000.0, high = kd > 1000.0;
    const double adj = low ? -200.0 : (high ? 100.0 : 0.0);
    const double s2 = low ? 0x1p-200 : (high ? 0x1p100 : 1.0);
    return (er * ce_pow2i(kd - adj)) * s2;
}

/* e^r - 1 for |r| <= 0.7: Taylor to r^17 (next term 3e-19 relative), or r^11 (lp). */
CE_VM double ce_expm1_wide(double r, int lp)
{
    double p = 0.0;
    if (!lp) {
        p = 1.0 / 355687428096000.0;
        p = p * r + 1.0 / 20922789888000.0;
        p = p * r + 1.0 / 1307674368000.0;
        p = p * r + 1.0 / 87178291200.0;
        p = p * r + 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
    }
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    return r + (r * r) * ce_exp_taylor_low(p, r);
}

CE_VM double ce_expm1_impl(double x, int lp)
{
    /* below -60, e^x < 2^-86 and expm1 rounds to -1 */
    const double xc = x > 710.0 ? 710.0 : (x < -60.0 ? -60.0 : x);
    /* k = 0 on |x| < 0.7: that is where 2^k expm1(r) + (2^k - 1) would cancel (k = +-1) */
    const int wide = (xc > -0.7) & (xc < 0.7);
    const double kn = (xc * CE_INV_LN2 + CE_SHIFT) - CE_SHIFT;
    const double kd = wide ? 0.0 : kn;
    const double r = (xc - kd * CE_LN2_HI) - kd * CE_LN2_LO;
    const double em1r = wide ? ce_expm1_wide(r, lp) : r + ce_expm1_poly(r, lp);
    const int high = kd > 1000.0;
    const double u = ce_pow2i(high ? kd - 100.0 : kd);
    /* e^x - 1 = 2^k expm1(r) + (2^k - 1); for k > 1000 the -1 is far below half an ulp */
    const double res = u * em1r + (u - 1.0);
    const double res_high = (u * em1r + u) * 0x1p100;
    const double out = high ? res_high : res;
    return x != x ? x : out;
}

/* log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]:
 * 2 atanh(s) = f - s (f - 2 T(z)) with s = f / (2 + f), z = s^2 <= 0.02944,
 * T(z) = z/3 + z^2/5 + ... to z^11/23 (lp: z^6/13). */
CE_VM double ce_log1p_reduced(double f, int lp)
{
    const double s = f / (2.0 + f);
    const double z = s * s;
    double t = 0.0;
    if (!lp) {
        t = 1.0 / 23;
        t = t * z + 1.0 / 21;
        t = t * z + 1.0 / 19;
        t = t * z + 1.0 / 17;
        t = t * z + 1.0 / 15;
    }
    t = t * z + 1.0 / 13;
    t = t * z + 1.0 / 11;
    t = t * z + 1.0 / 9;
    t = t * z + 1.0 / 7;
    t = t * z + 1.0 / 5;
    t = t * z + 1.0 / 3;
    return f - s * (f - 2.0 * (t * z));
}

/* u = m 2^e with m in [sqrt(1/2), sqrt(2)), for a normal double u > 0: returns m - 1 (exact)
 * and stores e (an integer-valued double). */
CE_VM double ce_split_log(double u, double *e)
{
    const uint64_t bits = ce_bits(u);
    const uint64_t eb = (bits - CE_SQRT_HALF_BITS + (1023ULL << 52)) >> 52; /* e + 1023 */
    *e = ce_from_bits(0x4330000000000000ULL | eb) - (0x1p52 + 1023.0);
    return ce_from_bits(bits - (eb << 52) + (1023ULL << 52)) - 1.0;
}

CE_VM double ce_log_impl(double x, int lp)
{
    /* subnormal x is scaled by 2^54 into the normal range */
    const int sub = x < 0x1p-1022;
    const double xs = sub ? x * 0x1p54 : x;
    double e;
    const double f = ce_split_log(xs > 0.0 ? xs : 1.0, &e);
    const double k = sub ? e - 54.0 : e;
    const double core = k * CE_LN2_HI + (ce_log1p_reduced(f, lp) + k * CE_LN2_LO);
    /* finite x > 0; else log(0) = -inf, log(inf) = inf, log(x < 0) = NaN, NaN stays NaN */
    return ((x > 0.0) & (x < INFINITY)) ? core
                                     : (x == 0.0 ? -INFINITY : (x == INFINITY ? INFINITY : NAN));
}

CE_VM double ce_log1p_impl(double x, int lp)
{
    /* near 0, 1 + x is already reduced: f = x exactly, no rounding of 1 + x at all */
    const int near = (x > -0.2928932188134524) & (x < 0.4142135623730950);
    const int ok = (x > -1.0) & (x < INFINITY);
    const double u = 1.0 + x;
    /* the rounding error of 1 + x, exactly (Fast2Sum, larger operand first) */
    const double c = x >= 1.0 ? 1.0 - (u - x) : x - (u - 1.0);
    double e;
    const double fu = ce_split_log(ok ? u : 1.0, &e);
    const double f = near ? x : fu;
    const double k = near ? 0.0 : e;
    /* the correction is below 2^-53 relative: it matters for double results only */
    const double corr = (near | lp) ? 0.0 : c / u;
    const double core = k * CE_LN2_HI + (ce_log1p_reduced(f, lp) + (corr + k * CE_LN2_LO));
    return ok ? core : (x == -1.0 ? -INFINITY : (x == INFINITY ? INFINITY : NAN));
}

/* The public names: double to about 1 ULP, and float through double. */
CE_VM double ce_exp(double x) { return ce_exp_impl(x, 0); }
CE_VM double ce_expm1(double x) { return ce_expm1_impl(x, 0); }
CE_VM double ce_log(double x) { return ce_log_impl(x, 0); }
CE_VM double ce_log1p(double x) { return ce_log1p_impl(x, 0); }
CE_VM float ce_expf(float x) { return (float)ce_exp_impl((double)x, 1); }
CE_VM float ce_expm1f(float x) { return (float)ce_expm1_impl((double)x, 1); }
CE_VM float ce_logf(float x) { return (float)ce_log_impl((double)x, 1); }
CE_VM float ce_log1pf(float x) { return (float)ce_log1p_impl((double)x, 1); }

#endif /* CE_VECMATH_H */
