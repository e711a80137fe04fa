/* The float32 one-block row of ce_cat_hard in AVX-512 intrinsics (included by binary_avx512.c
 * only, before categorical_kernel.h, which calls it through CE_CAT_ROW_F32).
 *
 * Instead of the exact difference x - m (a two-sum per element, ce_cat_exp_block_f), each
 * exponential is e^(x - m) = 2^(n/16 - K) F e^r: x = (n/16) ln2 + r is reduced from x itself,
 * which is exact, and the row's e^-m = 2^-K F, F = e^(K ln2 - m) in [0.7, 1.42], is computed
 * once in double. 2^(n/16) = 2^floor(n/16) 2^(j/16), j = n mod 16, and F 2^(j/16) is a
 * 16-entry table made for the row and held in a register (vpermps takes j from the low bits
 * of the reduction's own sum), so |r| <= 0.0252 (ln2/32 and a little) and a cubic suffices.
 * Per element that is the reduction, a table lookup, a cubic and a scaling, with no additions
 * to recover rounding errors. The same pass sums the exponentials (in float by fours, then in
 * double) and counts the classes at the maximum, whose exponentials are stored as 0.
 *
 * On a 2-core AMD EPYC (Zen 4) the row with its gradient takes 0.35 ns per element in L1,
 * against 0.57 for the portable one-block pass (docs/decisions.md). */
#ifndef CE_CATEGORICAL_AVX512_H
#define CE_CATEGORICAL_AVX512_H

#include <immintrin.h>

#include "kernel_common.h"
#include "logit_avx512.h" /* ce_exp2_16_hi, ce_exp2_16_lo: 2^(j/16) as float pairs */
#include "vecmath.h"

/* The row's constants: the maximum m, the reduction's, and the table t[j] = F 2^(j/16) rounded
 * to float. */
typedef struct {
    __m512 m, s1, shift, l2e, near, far, t;
} ce_cat_f32_consts;

/* e^(x - m) for nv (1 or 4) vectors of x, stored to ef; 0 outside the lanes kept (*keep: all
 * but those at m, within the lane mask tail, which is for nv = 1 only); returns their sum, in
 * float. Each step is taken for every vector before the next, independent work side by side
 * for the scheduler.
 *
 * kk = fma(x, log2 e, 1.5 2^19 - K) lies in [2^19, 2^20) in the row's lanes (x in [m - 87, m];
 * a masked lane's 0 may fall outside, unused), where floats are sixteenths: it is 1.5 2^19 +
 * n/16 - K, n = 16 x log2 e rounded (log2 e as a float), so kk - s1 = n/16 exactly
 * (|n/16| < 2^19 when |m| <= 2^18), kk - shift = n/16 - K (vscalefps takes its floor,
 * floor(n/16) - K), and kk's low four bits are j. r = x - (n/16) ln2 by ln 2's float nearest
 * (exact: the result is representable), then its remainder; |r| <= 0.0252 (ln2/32, widened by
 * log2 e's rounding for |x| up to 2^18 + 87; the limit on |m| keeps r on the cubic's
 * interval). e^r = 1 + r + c2 r^2 + c3 r^3 with c2, c3 fitted to the relative error over that
 * interval (0.05 ULP; Taylor's 1/2, 1/6 give 0.29), and t e^r = t + (t r) q, q = 1 + c2 r +
 * c3 r^2, is rounded once. */
CE_INLINE __m512 ce_cat_exp_f32(const ce_cat_f32_consts *k, const float *x, float *ef, int nv,
                                __mmask16 tail, __mmask16 *keep)
{
    const __m512 c2 = _mm512_set1_ps(0x1.0002dep-1f), c3 = _mm512_set1_ps(0x1.5555d2p-3f);
    __m512 v[4], kk[4], kx[4], r[4], q[4], t[4];
    int u;
    for (u = 0; u < nv; ++u)
        v[u] = tail == 0xffff ? _mm512_loadu_ps(x + 16 * u) : _mm512_maskz_loadu_ps(tail, x);
    /* the lanes kept: not at m (NaNs are kept, and so reach the sum); taken first, so that v
     * is not loaded again for it (in one run 2% faster from L3) */
    for (u = 0; u < nv; ++u)
        keep[u] = _mm512_mask_cmp_ps_mask(tail, v[u], k->m, _CMP_NEQ_UQ);
    for (u = 0; u < nv; ++u)
        kk[u] = _mm512_fmadd_ps(v[u], k->l2e, k->s1);
    for (u = 0; u < nv; ++u)
        kx[u] = _mm512_sub_ps(kk[u], k->s1);
    for (u = 0; u < nv; ++u)
        r[u] = _mm512_fnmadd_ps(kx[u], k->near, v[u]);
    for (u = 0; u < nv; ++u)
        t[u] = _mm512_permutexvar_ps(_mm512_castps_si512(kk[u]), k->t);
    for (u = 0; u < nv; ++u)
        r[u] = _mm512_fnmadd_ps(kx[u], k->far, r[u]);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], c3, c2);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], q[u], _mm512_set1_ps(1.0f));
    for (u = 0; u < nv; ++u)
        r[u] = _mm512_mul_ps(r[u], t[u]);
    for (u = 0; u < nv; ++u)
        q[u] = _mm512_fmadd_ps(r[u], q[u], t[u]);
    for (u = 0; u < nv; ++u) {
        q[u] = _mm512_maskz_scalef_ps(keep[u], q[u], _mm512_sub_ps(kk[u], k->shift));
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
    *s0 = _mm512_add_pd(*s0, ce_lo8_pd(e));
    *s1 = _mm512_add_pd(*s1, ce_hi8_pd(e));
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

/* The floats from p to the next 64-byte boundary, 0 to 15 (p float-aligned): a row's vectors
 * are taken from there, after a masked one, so that none spans two cache lines. Rows 16 or 48
 * bytes past a line (numpy's large arrays start 16 bytes past one) then take the maximum pass
 * 4% faster from L2 (the logits were prefetched there) and the gradient pass 2%. The
 * exponentials' pass keeps its vectors at multiples of 16 classes: its sums, and so its bits,
 * would otherwise depend on where the row lies in memory. */
CE_INLINE int ce_cat_head_f32(const void *p)
{
    return (int)((0u - (unsigned)(uintptr_t)p) >> 2 & 15u);
}

/* A row's maximum and constants, made ahead: while one row's loss and gradient are computed,
 * the next row's maximum, e^-max and table are already on their way, so that the latency of
 * those chains (a horizontal maximum, an exponential, a table; about 170 cycles) overlaps the
 * gradient pass instead of preceding the next row. */
typedef struct {
    const float *x; /* the row they are for; NULL for none */
    int ok;         /* whether that row can take this pass */
    double m;
    ce_cat_f32_consts k;
} ce_cat_f32_ahead;

/* Row x's maximum m and constants: 1 when m is finite with |m| <= 2^18 and the row spans at
 * most 87, else 0. NaNs may go unseen here (a maximum drops them); their exponentials are NaN,
 * and so then is the row's sum, which sends it back. */
CE_INLINE int ce_cat_f32_prepare(const float *x, ptrdiff_t c, ce_cat_f32_consts *k, double *mo)
{
    const int h = ce_cat_head_f32(x); /* c >= 64 */
    const __mmask16 head = (__mmask16)((1u << h) - 1u);
    const __mmask16 last = (__mmask16)((1u << ((c - h) & 15)) - 1u);
    __m512 hi = _mm512_set1_ps(-INFINITY), lo = _mm512_set1_ps(INFINITY);
    double m, big_k, f;
    ptrdiff_t j;
    if (head) {
        hi = _mm512_mask_loadu_ps(hi, head, x);
        lo = _mm512_mask_loadu_ps(lo, head, x);
    }
    for (j = h; j + 16 <= c; j += 16) {
        const __m512 v = _mm512_loadu_ps(x + j);
        hi = _mm512_max_ps(hi, v);
        lo = _mm512_min_ps(lo, v);
    }
    if (last) {
        hi = _mm512_max_ps(hi, _mm512_mask_loadu_ps(hi, last, x + j));
        lo = _mm512_min_ps(lo, _mm512_mask_loadu_ps(lo, last, x + j));
    }
    m = (double)ce_cat_hmax_f32(hi);
    if (!(fabs(m) <= 0x1p18 && m - (double)ce_cat_hmin_f32(lo) <= 87.0))
        return 0;
    /* e^-m = 2^-K F: F = e^(K ln2 - m), K ln2 - m to double precision by one fused
     * multiply-add with ln 2's high part and the low part's product added */
    big_k = nearbyint(m * CE_INV_LN2);
    f = ce_exp(fma(big_k, CE_LN2_HI, -m) + big_k * CE_LN2_LO);
    k->m = _mm512_set1_ps((float)m);
    k->shift = _mm512_set1_ps(0x1.8p19f);
    k->s1 = _mm512_set1_ps((float)(0x1.8p19 - big_k));
    k->l2e = _mm512_set1_ps(CE_INV_LN2_F);
    k->near = _mm512_set1_ps(CE_LN2_NEAR_F);
    k->far = _mm512_set1_ps(CE_LN2_FAR_F);
    {   /* t[j] = F 2^(j/16): the pair hi + lo exact in double, times F, rounded to float */
        const __m512 th = _mm512_loadu_ps(ce_exp2_16_hi), tl = _mm512_loadu_ps(ce_exp2_16_lo);
        const __m512d fv = _mm512_set1_pd(f);
        const __m512d t0 = _mm512_mul_pd(fv, _mm512_add_pd(ce_lo8_pd(th), ce_lo8_pd(tl)));
        const __m512d t1 = _mm512_mul_pd(fv, _mm512_add_pd(ce_hi8_pd(th), ce_hi8_pd(tl)));
        k->t = _mm512_castpd_ps(_mm512_insertf64x4(
            _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(t0))),
            _mm256_castps_pd(_mm512_cvtpd_ps(t1)), 1));
    }
    *mo = m;
    return 1;
}

/* Row x of 64 <= c <= CE_CAT_ROW float logits: when it can take this pass (ce_cat_f32_prepare),
 * the exponentials e^(x_j - m) into ef (0 at m), and returns 1 with m, the others' mass rest =
 * sum_j ef[j], the count of classes at m and the first of them; otherwise 0 (the row takes
 * ce_cat_hard's general code). Its maximum and constants come from *ahead when made there for
 * x. xn is the next row's logits, or x itself when there is no next row (in the caller's range:
 * another thread may be writing beyond it); then the next row's are made into *ahead after
 * this row's exponentials. gx is this row's gradient, or any c readable floats (its logits
 * when there is no gradient; prefetched for writing, harmlessly).
 *
 * Memory: the next row's logits are prefetched into L2 over the first half of this row's pass,
 * to be near when its maximum is taken right after; this row's gradient, for writing, over the
 * whole pass, for the caller's gradient pass. Measured on a Zen 4 (docs/decisions.md), from
 * memory with the cache full of modified lines, in one run: prefetching the logits into L1
 * instead was 9% slower, and not prefetching them 3%; the hardware's own prefetcher follows
 * the stream, and L1 requests ahead of it seem only to queue behind it.
 *
 * Accuracy: the reduction's first step is exact; its second rounds to within half an ULP of r
 * (below 2^-29), and ln 2 as two floats misses by at most |n/16| 8.8e-17 (below 3.3e-11). The
 * table entry F 2^(j/16) is rounded to float, half an ULP of t, which is up to about one ULP of
 * the result when t's significand is near 1 and the result's near 2; t e^r is rounded once
 * more, after terms of relative error 2^-24 that are at most 0.026 of it: at most about 1.5
 * ULP in all. The sum: four exponentials added in float (all >= 0: a relative error of at most
 * 2^-23 for the whole sum), then sixteen partial sums in double in a fixed order, as
 * ce_cat_sum_f. */
CE_INLINE int ce_cat_hard_f32_zmm(const float *x, ptrdiff_t c, float *ef, const float *xn,
                                  const float *gx, ce_cat_f32_ahead *ahead, double *mo,
                                  double *rest, ptrdiff_t *ties, ptrdiff_t *top)
{
    const __mmask16 last = (__mmask16)((1u << (c & 15)) - 1u);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    ce_cat_f32_consts k;
    double m, s[16];
    ptrdiff_t j, nt = 0, first = c;
    if (ahead->x == x) {
        if (!ahead->ok)
            return 0;
        k = ahead->k;
        m = ahead->m;
    } else if (!ce_cat_f32_prepare(x, c, &k, &m))
        return 0;
    for (j = 0; j + 64 <= c; j += 64) {
        __mmask16 keep[4];
        int u;
        ce_cat_add16_f32(ce_cat_exp_f32(&k, x + j, ef + j, 4, 0xffff, keep), &s0, &s1);
        for (u = 0; u < 4; ++u) {
            if (2 * j + 16 * u < c) /* the next row's classes 2j .. 2j + 127 */
                CE_PREFETCH_L2(xn + 2 * j + 16 * u);
            if (2 * j + 64 + 16 * u < c)
                CE_PREFETCH_L2(xn + 2 * j + 64 + 16 * u);
            CE_PREFETCH(gx + j + 16 * u, 1);
        }
        if ((keep[0] & keep[1] & keep[2] & keep[3]) != 0xffff)
            for (u = 0; u < 4; ++u)
                if (keep[u] != 0xffff)
                    ce_cat_count_ties((__mmask16)(keep[u] ^ 0xffff), j + 16 * u, c, &nt, &first);
    }
    for (; j < c; j += 16) {
        const __mmask16 tail = c - j >= 16 ? (__mmask16)0xffff : last;
        __mmask16 keep;
        ce_cat_add16_f32(ce_cat_exp_f32(&k, x + j, ef + j, 1, tail, &keep), &s0, &s1);
        CE_PREFETCH(gx + j, 1);
        if (keep != tail)
            ce_cat_count_ties((__mmask16)(keep ^ tail), j, c, &nt, &first);
    }
    if (xn != x) { /* the next row's, while this one's sum and gradient are finished */
        ahead->x = xn;
        ahead->ok = ce_cat_f32_prepare(xn, c, &ahead->k, &ahead->m);
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

/* The gradient of a float row from its exponentials, g[j] = ga e[j], with the bits of
 * ce_cat_grad_f (ga as a float pair hi + lo, hi e[j] + lo e[j] rounded once), in vectors
 * aligned on g (ce_cat_head_f32). */
CE_INLINE void ce_cat_grad_f32_zmm(float *g, const float *e, double ga, int c)
{
    const int h0 = ce_cat_head_f32(g), h = h0 < c ? h0 : c;
    const __mmask16 head = (__mmask16)((1u << h) - 1u);
    const __mmask16 last = (__mmask16)((1u << ((c - h) & 15)) - 1u);
    __m512 hi, lo;
    int j;
    if (!(fabs(ga) >= 0x1p-100 && fabs(ga) <= 0x1p100)) { /* as ce_cat_grad_f, in double */
        for (j = 0; j < c; ++j)
            g[j] = (float)(ga * (double)e[j]);
        return;
    }
    hi = _mm512_set1_ps((float)ga);
    lo = _mm512_set1_ps((float)(ga - (double)(float)ga));
    if (head) {
        const __m512 v = _mm512_maskz_loadu_ps(head, e);
        _mm512_mask_storeu_ps(g, head, _mm512_fmadd_ps(hi, v, _mm512_mul_ps(lo, v)));
    }
    for (j = h; j + 16 <= c; j += 16) {
        const __m512 v = _mm512_loadu_ps(e + j);
        _mm512_storeu_ps(g + j, _mm512_fmadd_ps(hi, v, _mm512_mul_ps(lo, v)));
    }
    if (last) {
        const __m512 v = _mm512_maskz_loadu_ps(last, e + j);
        _mm512_mask_storeu_ps(g + j, last, _mm512_fmadd_ps(hi, v, _mm512_mul_ps(lo, v)));
    }
}

#define CE_CAT_GRAD_F32 ce_cat_grad_f32_zmm
#define CE_CAT_ROW_F32 ce_cat_hard_f32_zmm
#define CE_CAT_AHEAD ce_cat_f32_ahead

#endif /* CE_CATEGORICAL_AVX512_H */
