/* The float32 one-block row of ce_cat_hard in AVX-512 intrinsics (included by binary_avx512.c
 * only, before categorical_kernel.h, which calls it through CE_CAT_ROW_F32).
 *
 * Instead of the exact difference x - m (a two-sum per element, ce_cat_exp_block_f), each
 * exponential is e^(x - m) = 2^(k - K) (F e^r): x = k ln2 + r is reduced from x itself, which
 * is exact; the row's e^-m = 2^-K F, F = e^(K ln2 - m) in [0.7, 1.42], is computed once in
 * double and folded into the coefficients of F e^r = F + r (F q(r)). Per element that is the
 * reduction, a polynomial and a scaling, with no additions to recover rounding errors. The
 * same pass sums the exponentials (in float by fours, then in double) and counts the classes
 * at the maximum, whose exponentials are stored as 0.
 *
 * On a 2-core AMD EPYC (Zen 4) the row with its gradient takes 0.42 ns per element in L1,
 * against 0.57 for the portable one-block pass (docs/decisions.md). */
#ifndef CE_CATEGORICAL_AVX512_H
#define CE_CATEGORICAL_AVX512_H

#include <immintrin.h>

#include "kernel_common.h"
#include "vecmath.h"

/* The row's constants: the maximum m, the reduction's, and F e^r's coefficients
 * (fh + fl = F, d[i] = F / (i + 1)!). */
typedef struct {
    __m512 m, s1, shift, l2e, near, far, fh, fl, d[7];
} ce_cat_f32_consts;

/* e^(x - m) for nv (1 or 4) vectors of x, stored to ef, 0 in the lanes at m (the lanes of
 * *eq) and outside the lane mask tail (nv = 1 only); returns their sum, in float. Each step is
 * taken for every vector before the next, independent work side by side for the scheduler;
 * the polynomial by Horner's rule, the fewest operations (the longer chain of dependences
 * costs nothing when the vectors are independent). */
CE_INLINE __m512 ce_cat_exp_f32(const ce_cat_f32_consts *k, const float *x, float *ef, int nv,
                                __mmask16 tail, __mmask16 *eq)
{
    __m512 v[4], kk[4], kx[4], r[4], q[4];
    int u;
    for (u = 0; u < nv; ++u)
        v[u] = tail == 0xffff ? _mm512_loadu_ps(x + 16 * u) : _mm512_maskz_loadu_ps(tail, x);
    /* kk = shift - K + round(x log2 e): its difference from shift is k - K, from s1 is k */
    for (u = 0; u < nv; ++u)
        kk[u] = _mm512_fmadd_ps(v[u], k->l2e, k->s1);
    for (u = 0; u < nv; ++u)
        kx[u] = _mm512_sub_ps(kk[u], k->s1);
    /* r = x - k ln2: the first step exact (|r| < 1/2, ln 2's float nearest has 24 bits) */
    for (u = 0; u < nv; ++u)
        r[u] = _mm512_fnmadd_ps(kx[u], k->near, v[u]);
    for (u = 0; u < nv; ++u)
        r[u] = _mm512_fnmadd_ps(kx[u], k->far, r[u]);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], k->d[6], k->d[5]);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], q[u], k->d[4]);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], q[u], k->d[3]);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], q[u], k->d[2]);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], q[u], k->d[1]);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], q[u], k->d[0]); /* F q(r) */
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_add_ps(_mm512_fmadd_ps(r[u], q[u], k->fl), k->fh); /* F e^r */
    for (u = 0; u < nv; ++u)
        eq[u] = _mm512_mask_cmp_ps_mask(tail, v[u], k->m, _CMP_EQ_OQ);
    for (u = 0; u < nv; ++u) {
        q[u] = _mm512_maskz_scalef_ps(tail & (__mmask16)~eq[u], q[u],
                                      _mm512_sub_ps(kk[u], k->shift));
        if (tail == 0xffff)
            _mm512_storeu_ps(ef + 16 * u, q[u]);
        else
            _mm512_mask_storeu_ps(ef, tail, q[u]);
    }
    if (nv == 1)
        return q[0];
    return _mm512_add_ps(_mm512_add_ps(q[0], q[1]), _mm512_add_ps(q[2], q[3]));
}

/* e's lanes added in double to the partial sums s0 (lanes 0-7) and s1 (8-15). */
CE_INLINE void ce_cat_add16_f32(__m512 e, __m512d *s0, __m512d *s1)
{
    *s0 = _mm512_add_pd(*s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    *s1 = _mm512_add_pd(*s1, _mm512_cvtps_pd(_mm256_castpd_ps(
                                 _mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
}

/* The largest and the smallest lane of v (NaN lanes may be dropped: the caller finds NaNs
 * otherwise). */
#if defined(__GNUC__) || defined(__clang__)
CE_INLINE float ce_cat_hmax_f32(__m512 v) { return _mm512_reduce_max_ps(v); }
CE_INLINE float ce_cat_hmin_f32(__m512 v) { return _mm512_reduce_min_ps(v); }
#else
CE_INLINE float ce_cat_hmax_f32(__m512 v)
{
    float a[16], r;
    int i;
    _mm512_storeu_ps(a, v);
    for (r = a[0], i = 1; i < 16; ++i)
        r = a[i] > r ? a[i] : r;
    return r;
}
CE_INLINE float ce_cat_hmin_f32(__m512 v)
{
    float a[16], r;
    int i;
    _mm512_storeu_ps(a, v);
    for (r = a[0], i = 1; i < 16; ++i)
        r = a[i] < r ? a[i] : r;
    return r;
}
#endif

/* The lanes of eq (not 0) at offset j: counted into *nt; the first, if *first is still c. */
CE_INLINE void ce_cat_count_ties(__mmask16 eq, ptrdiff_t j, ptrdiff_t c, ptrdiff_t *nt,
                                 ptrdiff_t *first)
{
    unsigned u = (unsigned)eq;
    int lane = 0;
    if (*first == c) {
        while (!(u >> lane & 1u))
            ++lane;
        *first = j + lane;
    }
#if defined(__GNUC__) || defined(__clang__)
    *nt += __builtin_popcount(u);
#else
    for (; u; u &= u - 1u)
        ++*nt;
#endif
}

/* Row x of 64 <= c <= CE_CAT_ROW float logits: when its maximum m is finite with |m| <= 2^20, it
 * spans at most 87 and holds no NaN, the exponentials e^(x_j - m) into ef (0 at m), and
 * returns 1 with m, the others' mass rest = sum_j ef[j], the count of classes at m and the
 * first of them; otherwise 0 (the row takes ce_cat_hard's general code). xn and gn, when not
 * NULL, are the next row's logits and gradient, prefetched as this one is computed.
 *
 * Accuracy: the reduction is exact but for one rounding (|x| <= 2^20 + 87 keeps r within
 * 0.36, where the polynomial's error is 1e-8 relative); F e^r is rounded once after terms of
 * relative error 2^-24 that are at most 0.43 of it. The sum: four exponentials added in float
 * (all >= 0: a relative error of at most 2^-23 for the whole sum), then sixteen partial sums in
 * double in a fixed order, as ce_cat_sum_f. */
CE_INLINE int ce_cat_hard_f32_zmm(const float *x, ptrdiff_t c, float *ef, const float *xn,
                                  const float *gn, double *mo, double *rest, ptrdiff_t *ties,
                                  ptrdiff_t *top)
{
    const __mmask16 last = (__mmask16)((1u << (c & 15)) - 1u);
    __m512 hi = _mm512_set1_ps(-INFINITY), lo = _mm512_set1_ps(INFINITY);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    ce_cat_f32_consts k;
    double m, big_k, f, fact, s[16];
    ptrdiff_t j, nt = 0, first = c;
    int i;
    /* NaNs may go unseen here (a maximum drops them); their exponentials are NaN, and so then
     * is the sum, which sends the row back */
    for (j = 0; j + 16 <= c; j += 16) {
        const __m512 v = _mm512_loadu_ps(x + j);
        hi = _mm512_max_ps(hi, v);
        lo = _mm512_min_ps(lo, v);
    }
    if (last) {
        hi = _mm512_max_ps(hi, _mm512_mask_loadu_ps(hi, last, x + j));
        lo = _mm512_min_ps(lo, _mm512_mask_loadu_ps(lo, last, x + j));
    }
    m = (double)ce_cat_hmax_f32(hi);
    if (!(fabs(m) <= 0x1p20 && m - (double)ce_cat_hmin_f32(lo) <= 87.0))
        return 0;
    /* e^-m = 2^-K F: F = e^(K ln2 - m), K ln2 - m to double precision by one fused
     * multiply-add with ln 2's high part and the low part's product added */
    big_k = nearbyint(m * CE_INV_LN2);
    f = ce_exp(fma(big_k, CE_LN2_HI, -m) + big_k * CE_LN2_LO);
    k.m = _mm512_set1_ps((float)m);
    k.shift = _mm512_set1_ps(CE_SHIFT_F);
    k.s1 = _mm512_set1_ps((float)((double)CE_SHIFT_F - big_k));
    k.l2e = _mm512_set1_ps(CE_INV_LN2_F);
    k.near = _mm512_set1_ps(CE_LN2_NEAR_F);
    k.far = _mm512_set1_ps(CE_LN2_FAR_F);
    k.fh = _mm512_set1_ps((float)f);
    k.fl = _mm512_set1_ps((float)(f - (double)(float)f));
    for (i = 0, fact = 1.0; i < 7; ++i) {
        fact *= (double)(i + 1);
        k.d[i] = _mm512_set1_ps((float)(f * (1.0 / fact)));
    }
    for (j = 0; j + 64 <= c; j += 64) {
        __mmask16 eq[4];
        int u;
        ce_cat_add16_f32(ce_cat_exp_f32(&k, x + j, ef + j, 4, 0xffff, eq), &s0, &s1);
        for (u = 0; u < 4; ++u) {
            if (xn)
                CE_PREFETCH(xn + j + 16 * u, 0);
            if (gn)
                CE_PREFETCH(gn + j + 16 * u, 1);
        }
        if (eq[0] | eq[1] | eq[2] | eq[3])
            for (u = 0; u < 4; ++u)
                if (eq[u])
                    ce_cat_count_ties(eq[u], j + 16 * u, c, &nt, &first);
    }
    for (; j < c; j += 16) {
        const __mmask16 tail = c - j >= 16 ? (__mmask16)0xffff : last;
        __mmask16 eq;
        ce_cat_add16_f32(ce_cat_exp_f32(&k, x + j, ef + j, 1, tail, &eq), &s0, &s1);
        if (xn)
            CE_PREFETCH(xn + j, 0);
        if (gn)
            CE_PREFETCH(gn + j, 1);
        if (eq)
            ce_cat_count_ties(eq, j, c, &nt, &first);
    }
    _mm512_storeu_pd(s, s0);
    _mm512_storeu_pd(s + 8, s1);
    *rest = ce_sum_block(s, 16);
    if (!(*rest <= (double)c)) /* a NaN */
        return 0;
    *mo = m;
    *ties = nt;
    *top = first;
    return 1;
}

#define CE_CAT_ROW_F32 ce_cat_hard_f32_zmm

#endif /* CE_CATEGORICAL_AVX512_H */
