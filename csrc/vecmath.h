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

/* log x for a normal, finite x > 0 only (no selects for the other cases: a third of the cost of
 * ce_log_impl). Callers guarantee the domain, e.g. by clipping to [eps, 1 - eps]. */
CE_VM double ce_log_normal(double x)
{
    double e;
    const double f = ce_split_log(x, &e);
    return e * CE_LN2_HI + (ce_log1p_reduced(f, 0) + e * CE_LN2_LO);
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

/* The two functions of a logit, e^-|x| and log1p of it, on their narrow domains: e^z for z <= 0
 * and log1p(t) for t in [0, 1]. No overflow, no negative argument, no 1 + x to round: they are
 * shorter than the general functions, and the float versions compute in float (8 lanes per AVX2
 * vector instead of 4). Both keep the roundings that would cost accuracy as exact pairs:
 * r = z - k ln2 as r + rl, 1 + r as s + sl, and log1p's j ln2 + f as a + al, so that one final
 * addition carries nearly all of the error (measured: tools/vecmath_ulp.c). */

CE_VM uint32_t ce_bits_f(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

CE_VM float ce_from_bits_f(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#define CE_SHIFT_F 0x1.8p23f
#define CE_INV_LN2_F 0x1.715476p+0f
/* ln 2 = HI + LO with 9 trailing zero bits in HI: k * HI is exact for |k| < 2^9 */
#define CE_LN2_HI_F 0x1.62e400p-1f
#define CE_LN2_LO_F 0x1.7f7d1cp-20f
/* ln 2 = NEAR + FAR: the float nearest ln 2, and what it misses */
#define CE_LN2_NEAR_F 0x1.62e430p-1f
#define CE_LN2_FAR_F -0x1.05c610p-29f

/* 2^k for an integer-valued float k in [-126, 127]. */
CE_VM float ce_pow2i_f(float k)
{
    return ce_from_bits_f((ce_bits_f(k + CE_SHIFT_F) - ce_bits_f(CE_SHIFT_F) + 127u) << 23);
}

/* c - a b with a single rounding, for c close to a b (so that the result is exact): a fused
 * multiply-add where the target has one (CE_HAVE_FMA: set by the AVX2 and AVX-512 files, and
 * on aarch64), else Dekker's exact product (Veltkamp's split; needs fp-contract off). */
#if !defined(CE_HAVE_FMA) && (defined(__aarch64__) || defined(_M_ARM64))
#define CE_HAVE_FMA 1
#endif
#ifdef CE_HAVE_FMA
CE_VM float ce_fnma_f(float a, float b, float c) { return fmaf(-a, b, c); }
CE_VM double ce_fnma(double a, double b, double c) { return fma(-a, b, c); }
#else
#define CE_DEFINE_DEKKER(T, SFX, SPLIT)                                                            \
    CE_VM T ce_fnma##SFX(T a, T b, T c)                                                            \
    {                                                                                              \
        const T ta = a * (SPLIT), tb = b * (SPLIT);                                                \
        const T ah = ta - (ta - a), al = a - ah, bh = tb - (tb - b), bl = b - bh;                  \
        const T p = a * b;                                                                         \
        const T err = (((ah * bh - p) + ah * bl) + al * bh) + al * bl; /* a b = p + err */         \
        return (c - p) - err;                                                                      \
    }
CE_DEFINE_DEKKER(float, _f, 4097.0f)
CE_DEFINE_DEKKER(double, , 134217729.0)
#endif

/* s (hi + lo) with one rounding, for a scale s = s_hi + s_lo (float) or s (double) and a value
 * hi + lo with |lo| below an ulp of hi: the products that matter are exact inside fused
 * multiply-adds. Without them, float goes through double (exact sum, one rounding that counts)
 * and double rounds twice. */
CE_VM float ce_scale_f(float hi, float lo, double s, float s_hi, float s_lo)
{
#ifdef CE_HAVE_FMA
    (void)s;
    return fmaf(s_hi, hi, fmaf(s_hi, lo, s_lo * hi));
#else
    (void)s_hi, (void)s_lo;
    return (float)(s * ((double)hi + (double)lo));
#endif
}

CE_VM double ce_scale(double hi, double lo, double s)
{
#ifdef CE_HAVE_FMA
    return fma(s, hi, s * lo);
#else
    return s * hi + s * lo;
#endif
}

/* e^z for z <= 0 or NaN, in float. Taylor to r^7 (next term 5e-9 relative). near: the caller
 * knows that z is a number in [-87, 0] (CE_EXP_NEAR_F), where e^z is normal and 2^k goes
 * straight into the exponent bits; else (any z) 2^k is applied as two normal factors, of which
 * the first product is exact and the second rounds once (also into the subnormal range). */
#define CE_EXP_NEAR_F 87.0f
CE_VM float ce_exp_neg_impl_f(float z, int near)
{
    /* e^-104 is below half the smallest subnormal: it rounds to 0 */
    const float zc = near ? z : (z < -104.0f ? -104.0f : z);
    const float kk = zc * CE_INV_LN2_F + CE_SHIFT_F; /* k + 1.5 2^23: k in the low bits */
    const float k = kk - CE_SHIFT_F;                  /* in [-150, 0] */
    const float rh = zc - k * CE_LN2_HI_F;            /* exact */
    const float kl = k * CE_LN2_LO_F;
    const float r = rh - kl;
    const float rl = (rh - r) - kl;
    const float r2 = r * r, r4 = r2 * r2;
    const float p = ((0.5f + r * (1.0f / 6)) + r2 * (1.0f / 24 + r * (1.0f / 120))) +
                    r4 * (1.0f / 720 + r * (1.0f / 5040));
    const float s = 1.0f + r;
    const float sl = (1.0f - s) + r; /* exact: |r| < 1 */
    const float er = s + (sl + (rl + r2 * p));
    if (near) /* kk's low bits, shifted, are k in the exponent field (kk itself, not k + shift
               * again: one addition fewer) */
        return ce_from_bits_f(ce_bits_f(er) + (ce_bits_f(kk) << 23));
    {
        const float k1 = (k * 0.5f + CE_SHIFT_F) - CE_SHIFT_F;
        return (er * ce_pow2i_f(k1)) * ce_pow2i_f(k - k1);
    }
}

CE_VM float ce_exp_neg_f(float z) { return ce_exp_neg_impl_f(z, 0); }

/* log1p(t) for t in [0, 1] or NaN, in float: 1 + t = 2^j (1 + f) with f = t (j = 0) or
 * f = (t - 1) / 2 (j = 1, t >= 1/2), both exact, so f is in [-1/4, 1/2); then
 * log1p(f) = f - h with h = s (f - 2 z T(z)), s = f / (2 + f), z = s^2 <= 1/25, and T the
 * cubic fitted by tools/fit_poly.py (its error moves log1p by at most 1e-10 relative). */
CE_VM float ce_log1p_unit_f(float t)
{
    const int hi = t >= 0.5f;
    /* f = t m - o (exact), m = 1/2 and o = 1/2 when hi, else 1 and 0; made from a bit mask, as
     * with selects compilers carry both cases through the division and the polynomial */
    const uint32_t mask = 0u - (uint32_t)hi;
    const float f = t * ce_from_bits_f(0x3f800000u - (mask & 0x00800000u)) -
                    ce_from_bits_f(mask & 0x3f000000u);
    const float s = f / (2.0f + f);
    const float z = s * s, z2 = z * z;
    const float q =
        (0x1.555556p-2f + z * 0x1.999a6ap-3f) + z2 * (0x1.242ce0p-3f + z * 0x1.e6587ap-4f);
    const float h = s * (f - 2.0f * (q * z));
    const float jh = hi ? CE_LN2_NEAR_F : 0.0f, jl = hi ? CE_LN2_FAR_F : 0.0f;
    const float a = jh + f;
    const float al = (jh - a) + f; /* exact: |f| <= ln 2 */
    return a + ((al + jl) - h);
}

/* e^z for z <= 0 or NaN, in double, as ce_exp_neg_impl_f (near: z in [-708, 0]). Taylor to
 * r^13 (next term 4e-18 relative), evaluated in Estrin's order (a short dependency chain). */
#define CE_EXP_NEAR 708.0
CE_VM double ce_exp_neg_impl(double z, int near)
{
    /* e^-746 is below half the smallest subnormal */
    const double zc = near ? z : (z < -746.0 ? -746.0 : z);
    const double kk = zc * CE_INV_LN2 + CE_SHIFT; /* k + 1.5 2^52: k in the low bits */
    const double k = kk - CE_SHIFT;                /* in [-1077, 0] */
    const double rh = zc - k * CE_LN2_HI;          /* exact */
    const double kl = k * CE_LN2_LO;
    const double r = rh - kl;
    const double rl = (rh - r) - kl;
    const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const double c0 = 1.0 / 2 + r * (1.0 / 6), c1 = 1.0 / 24 + r * (1.0 / 120);
    const double c2 = 1.0 / 720 + r * (1.0 / 5040), c3 = 1.0 / 40320 + r * (1.0 / 362880);
    const double c4 = 1.0 / 3628800 + r * (1.0 / 39916800);
    const double c5 = 1.0 / 479001600 + r * (1.0 / 6227020800.0);
    const double p = ((c0 + r2 * c1) + r4 * (c2 + r2 * c3)) + r8 * (c4 + r2 * c5);
    const double s = 1.0 + r;
    const double sl = (1.0 - s) + r;
    const double er = s + (sl + (rl + r2 * p));
    if (near)
        return ce_from_bits(ce_bits(er) + (ce_bits(kk) << 52));
    {
        const double k1 = (k * 0.5 + CE_SHIFT) - CE_SHIFT;
        return (er * ce_pow2i(k1)) * ce_pow2i(k - k1);
    }
}

CE_VM double ce_exp_neg(double z) { return ce_exp_neg_impl(z, 0); }

/* log1p(t) for t in [0, 1] or NaN, in double: as ce_log1p_unit_f with T of degree 7 (fitted by
 * tools/fit_poly.py; at most 6e-19 relative on log1p). */
CE_VM double ce_log1p_unit(double t)
{
    const int hi = t >= 0.5;
    const uint64_t mask = 0u - (uint64_t)hi; /* as in ce_log1p_unit_f */
    const double f = t * ce_from_bits(0x3ff0000000000000u - (mask & 0x0010000000000000u)) -
                     ce_from_bits(mask & 0x3fe0000000000000u);
    const double s = f / (2.0 + f);
    const double z = s * s, z2 = z * z, z4 = z2 * z2;
    const double a0 = 0x1.5555555555555p-2 + z * 0x1.9999999999f17p-3;
    const double a1 = 0x1.24924923de6edp-3 + z * 0x1.c71c72df580fcp-4;
    const double a2 = 0x1.745cac43cc003p-4 + z * 0x1.3b29d0452d426p-4;
    const double a3 = 0x1.0e8c55b42945fp-4 + z * 0x1.169c38cc826bep-4;
    const double q = (a0 + z2 * a1) + z4 * (a2 + z2 * a3);
    const double h = s * (f - 2.0 * (q * z));
    const double jh = hi ? CE_LN2_HI : 0.0, jl = hi ? CE_LN2_LO : 0.0;
    const double a = jh + f;
    const double al = (jh - a) + f;
    return a + ((al + jl) - h);
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
