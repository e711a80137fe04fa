/* The float32 one-block row of ce_cat_hard in AVX-512 intrinsics (included by binary_avx512.c
 * only, before categorical_kernel.h, which calls it through CE_CAT_ROW_F32).
 *
 * The row is taken relative to its label's logit x_y, not to its maximum: rest = sum over the
 * other classes of e^(x_j - x_y), the loss is log1p(rest) and the label's gradient
 * -rest / (1 + rest), both with rest's full relative precision whichever class is largest. So
 * no pass looks for the maximum: the row is read once, by the exponentials' pass. A row whose
 * exponentials would overflow (a class more than about 88 above the label), whose mass falls
 * below 2^-80 (subnormal terms would then matter), or that holds a NaN or +inf, is sent back
 * to ce_cat_hard's general code, which takes the maximum; so is a row whose gradient scale
 * exceeds 1 and that has a class more than 87 below the label (ce_cat_hard checks it: a
 * subnormal exponential's error, scaled up, would show in a normal gradient).
 *
 * Instead of the exact difference x - x_y (a two-sum per element, ce_cat_exp_block_f), each
 * exponential is e^(x - x_y) = 2^(n/16 - K) F e^r: x = (n/16) ln2 + r is reduced from x itself,
 * which is exact, and e^-x_y = 2^-K F, F = e^(K ln2 - x_y) in [0.7, 1.42], is computed once in
 * double. 2^(n/16) = 2^floor(n/16) 2^(j/16), j = n mod 16, and F 2^(j/16) is a 16-entry table
 * made for the row and held in a register (vpermps takes j from the low bits of the
 * reduction's own sum), so |r| <= 0.0252 (ln2/32 and a little) and a cubic suffices. Per
 * element that is a clamp, the reduction, a table lookup, a cubic and a scaling, with no
 * additions to recover rounding errors. The same pass sums the exponentials (in float by
 * fours, then in double), with the label's own lane left out.
 *
 * The same pass also writes the previous row's gradient (ce_cat_pend): that row's
 * exponentials wait in their buffer while this row's are made, so that the gradient's stores
 * go out between this row's loads, one stream in and one out as in a copy, rather than as a
 * burst of stores after each row.
 *
 * On a 2-core AMD EPYC (Zen 4) the row with its gradient takes about 0.29 ns per element with
 * the arrays in cache (docs/decisions.md). */
#ifndef CE_CATEGORICAL_AVX512_H
#define CE_CATEGORICAL_AVX512_H

#include <immintrin.h>

#include "kernel_common.h"
#include "logit_avx512.h" /* ce_exp2_16_hi, ce_exp2_16_lo: 2^(j/16) as float pairs */
#include "vecmath.h"


/* The row's constants: the clamps lo = x_y - 110 and hi = x_y + 100, the reduction's, and the
 * table t[j] = F 2^(j/16) rounded to float. */
typedef struct {
    __m512 lo, hi, s1, shift, l2e, near, far, t;
} ce_cat_f32_consts;

/* e^(x - x_y) for nv (1 or 4) vectors of x, stored to ef; 0 outside the lanes kept (keep[u]:
 * all but the label's, within the lane mask tail, which is for nv = 1 only); returns their
 * sum, in float. Each step is taken for every vector before the next, independent work side
 * by side for the scheduler.
 *
 * x is first clamped to [lo, hi] = [x_y - 110, x_y + 100]: below, e^(x - x_y) rounds to 0, and
 * masked classes (-inf, -1e9) so give +0 and stay in the pass; above, it overflows to inf (from
 * x_y + 88.73), which reaches the sum and sends the row back, as a logit far above would otherwise
 * leave the reduction's range. max and min return x when x is a NaN (the second operand), which so
 * reaches the sum too. kk = fma(x, log2 e, 1.5 2^19 - K) lies in [2^19, 2^20) for x in [lo, hi] (a
 * masked lane's 0 may fall outside, unused), where floats are sixteenths: it is 1.5 2^19 + n/16 -
 * K, n = 16 x log2 e rounded (log2 e as a float), so kk - s1 = n/16 exactly (|n/16| < 2^19 when
 * |x_y| <= 2^18), kk - shift = n/16 - K (vscalefps takes its floor, floor(n/16) - K), and kk's low
 * four bits are j. r = x - (n/16) ln2 by ln 2's float nearest (exact: the result is
 * representable), then its remainder; |r| <= 0.0252 (ln2/32, widened by log2 e's rounding for |x|
 * up to 2^18 + 110; the limit on |x_y| keeps r on the cubic's interval). e^r = 1 + r + c2 r^2 + c3
 * r^3 with c2, c3 fitted to the relative error over that interval (0.05 ULP; Taylor's 1/2, 1/6
 * give 0.29), and t e^r = t + (t r) q, q = 1 + c2 r + c3 r^2, is rounded once. */
CE_INLINE __m512 ce_cat_exp_f32(const ce_cat_f32_consts *k, const float *x, float *ef, int nv,
                                __mmask16 tail, const __mmask16 *keep)
{
    const __m512 c2 = _mm512_set1_ps(0x1.0002dep-1f), c3 = _mm512_set1_ps(0x1.5555d2p-3f);
    __m512 v[4], kk[4], kx[4], r[4], q[4], t[4];
    int u;
    for (u = 0; u < nv; ++u)
        v[u] = tail == 0xffff ? _mm512_loadu_ps(x + 16 * u) : _mm512_maskz_loadu_ps(tail, x);
    for (u = 0; u < nv; ++u) /* x second: a NaN is kept */
        v[u] = _mm512_min_ps(k->hi, _mm512_max_ps(k->lo, v[u]));
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

/* The floats from p to the next 64-byte boundary, 0 to 15 (p float-aligned): a gradient's
 * vectors are stored from there, after a masked one, so that none spans two cache lines
 * (numpy's large arrays start 16 bytes past one). The exponentials' pass keeps its vectors at
 * multiples of 16 classes: its sums, and so its bits, would otherwise depend on where the row
 * lies in memory. */
CE_INLINE int ce_cat_head_f32(const void *p)
{
    return (int)((0u - (unsigned)(uintptr_t)p) >> 2 & 15u);
}

/* A row's constants, made ahead: while one row's sum and loss are finished, the next row's
 * e^-x_y and table are already on their way, so that the latency of that chain (an
 * exponential in double, a table) does not precede the next row's pass. */
typedef struct {
    const float *x; /* the row they are for; NULL for none */
    int ok;         /* whether that row can take this pass */
    ce_cat_f32_consts k;
} ce_cat_f32_ahead;

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

/* The pending gradient written alone, if any (a row not taken by ce_cat_hard_f32_zmm, or the
 * end of the caller's range). */
CE_INLINE void ce_cat_pend_write_zmm(ce_cat_pend *p)
{
    if (p->g) {
        ce_cat_grad_f32_zmm(p->g, p->e, p->ga, (int)p->c);
        p->g[p->y] = p->gy;
        p->g = NULL;
    }
}

/* The constants of a row whose label's logit is ref: 1 when |ref| <= 2^18, else 0. e^-ref =
 * 2^-K F: F = e^(K ln2 - ref), K ln2 - ref to double precision by one fused multiply-add with
 * ln 2's high part and the low part's product added. */
CE_INLINE int ce_cat_f32_consts_at(float ref, ce_cat_f32_consts *k)
{
    const double m = (double)ref;
    double big_k, f;
    if (!(fabs(m) <= 0x1p18))
        return 0;
    big_k = nearbyint(m * CE_INV_LN2);
    f = ce_exp(fma(big_k, CE_LN2_HI, -m) + big_k * CE_LN2_LO);
    k->lo = _mm512_set1_ps((float)(m - 110.0));
    k->hi = _mm512_set1_ps((float)(m + 100.0));
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
    return 1;
}

/* Row x of 64 <= c <= CE_CAT_ROW float logits with label y: when it can take this pass (see
 * the top of the file), the exponentials e^(x_j - x_y) into ef (0 at y), and returns 1 with
 * m = x_y, rest = sum_j ef[j], one tie and top = y; otherwise 0 (the row takes ce_cat_hard's
 * general code). Either way the pending gradient *pend, if any, is written (and cleared): with
 * this row's exponentials, vector for vector, when the row is taken. Its constants come from
 * *ahead when made there for x. xn is the next row's logits and yn its label (any class when
 * that label is not one), or x itself when there is no next row (in the caller's range:
 * another thread may be writing beyond it); then the next row's constants are made into *ahead
 * after this row's exponentials. gx is this row's gradient, or any c readable floats (its
 * logits when there is no gradient).
 *
 * Memory: the next row's logits are prefetched into L2 over the first half of this row's pass,
 * and this row's gradient, read into L2, over the whole pass: it is written during the next
 * row's. Measured on a Zen 4 (docs/decisions.md), right after other libraries' calls over
 * the same arrays: the gradient prefetched for writing into L1 instead took 0.560 ns per
 * element against 0.409 (one run).
 *
 * Accuracy: the reduction's first step is exact; its second rounds to within half an ULP of r
 * (below 2^-29), and ln 2 as two floats misses by at most |n/16| 8.8e-17 (below 3.3e-11). The
 * table entry F 2^(j/16) is rounded to float, half an ULP of t, which is up to about one ULP of
 * the result when t's significand is near 1 and the result's near 2; t e^r is rounded once more,
 * after terms of relative error 2^-24 that are at most 0.026 of it: at most about 1.5 ULP in all.
 * Exponentials below 2^-126 are subnormal, each within 2^-150 (those clamped, below e^-110, too),
 * or within 2^-126 when the caller's thread flushes subnormals to zero: at most 2^-115 for a row,
 * against a sum of at least 2^-80. The sum: four exponentials added in float (all >= 0: a relative
 * error of at most 2^-23 for the whole sum), then sixteen partial sums in double in a fixed order,
 * as ce_cat_sum_f. */
CE_INLINE int ce_cat_hard_f32_zmm(const float *x, ptrdiff_t c, ptrdiff_t y, float *ef,
                                  const float *xn, ptrdiff_t yn, const float *gx,
                                  ce_cat_f32_ahead *ahead, ce_cat_pend *pend, double *mo,
                                  double *rest, ptrdiff_t *ties, ptrdiff_t *top)
{
    const __mmask16 last = (__mmask16)((1u << (c & 15)) - 1u);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    ce_cat_f32_consts k;
    double s[16];
    ptrdiff_t j;
    float *pg = pend->g;
    const float *pe = pend->e;
    ptrdiff_t pj = 0;
    __m512 phi = _mm512_setzero_ps(), plo = _mm512_setzero_ps();
    if (ahead->x == x) {
        if (!ahead->ok) {
            ce_cat_pend_write_zmm(pend);
            return 0;
        }
        k = ahead->k;
    } else if (!ce_cat_f32_consts_at(x[y], &k)) {
        ce_cat_pend_write_zmm(pend);
        return 0;
    }
    if (pg) { /* the pending gradient's head, up to a line of g; the rest goes with the pass */
        const double ga = pend->ga;
        if (!(fabs(ga) >= 0x1p-100 && fabs(ga) <= 0x1p100)) {
            ce_cat_pend_write_zmm(pend);
            pg = NULL;
        } else {
            const int h0 = ce_cat_head_f32(pg);
            const ptrdiff_t h = h0 < c ? h0 : c;
            phi = _mm512_set1_ps((float)ga);
            plo = _mm512_set1_ps((float)(ga - (double)(float)ga));
            if (h) {
                const __mmask16 head = (__mmask16)((1u << h) - 1u);
                const __m512 v = _mm512_maskz_loadu_ps(head, pe);
                _mm512_mask_storeu_ps(pg, head, _mm512_fmadd_ps(phi, v, _mm512_mul_ps(plo, v)));
            }
            pj = h;
        }
    }
    for (j = 0; j + 64 <= c; j += 64) {
        __mmask16 keep[4] = {0xffff, 0xffff, 0xffff, 0xffff};
        const ptrdiff_t dy = y - j;
        int u;
        if ((size_t)dy < 64)
            keep[dy >> 4] = (__mmask16)~(1u << (dy & 15));
        ce_cat_add16_f32(ce_cat_exp_f32(&k, x + j, ef + j, 4, 0xffff, keep), &s0, &s1);
        if (pg) /* four vectors of the pending gradient, aligned on it */
            for (u = 0; u < 4 && pj + 16 <= c; ++u, pj += 16) {
                const __m512 v = _mm512_loadu_ps(pe + pj);
                _mm512_storeu_ps(pg + pj, _mm512_fmadd_ps(phi, v, _mm512_mul_ps(plo, v)));
            }
        for (u = 0; u < 4; ++u) {
            if (2 * j + 16 * u < c) /* the next row's classes 2j .. 2j + 127 */
                CE_PREFETCH_L2(xn + 2 * j + 16 * u);
            if (2 * j + 64 + 16 * u < c)
                CE_PREFETCH_L2(xn + 2 * j + 64 + 16 * u);
            CE_PREFETCH_L2(gx + j + 16 * u);
        }
    }
    for (; j < c; j += 16) {
        const __mmask16 tail = c - j >= 16 ? (__mmask16)0xffff : last;
        const ptrdiff_t dy = y - j;
        const __mmask16 keep = (size_t)dy < 16 ? (__mmask16)(tail & ~(1u << dy)) : tail;
        ce_cat_add16_f32(ce_cat_exp_f32(&k, x + j, ef + j, 1, tail, &keep), &s0, &s1);
        CE_PREFETCH_L2(gx + j);
    }
    if (pg) { /* the pending gradient's last vectors, then its label's class */
        const __mmask16 plast = (__mmask16)((1u << ((c - pj) & 15)) - 1u);
        for (; pj + 16 <= c; pj += 16) {
            const __m512 v = _mm512_loadu_ps(pe + pj);
            _mm512_storeu_ps(pg + pj, _mm512_fmadd_ps(phi, v, _mm512_mul_ps(plo, v)));
        }
        if (plast) {
            const __m512 v = _mm512_maskz_loadu_ps(plast, pe + pj);
            _mm512_mask_storeu_ps(pg + pj, plast, _mm512_fmadd_ps(phi, v, _mm512_mul_ps(plo, v)));
        }
        pg[pend->y] = pend->gy;
        pend->g = NULL;
    }
    if (xn != x) { /* the next row's, while this one's sum and gradient are finished */
        ahead->x = xn;
        ahead->ok = ce_cat_f32_consts_at(xn[yn], &ahead->k);
    }
    _mm512_storeu_pd(s, s0);
    _mm512_storeu_pd(s + 8, s1);
    *rest = ce_sum_block(s, 16);
    if (!(*rest >= 0x1p-80 && *rest < INFINITY)) /* a NaN, an overflow, or too small */
        return 0;
    *mo = (double)x[y];
    *ties = 1;
    *top = y;
    return 1;
}

#define CE_CAT_GRAD_F32 ce_cat_grad_f32_zmm
#define CE_CAT_ROW_F32 ce_cat_hard_f32_zmm
#define CE_CAT_PEND_WRITE ce_cat_pend_write_zmm
#define CE_CAT_AHEAD ce_cat_f32_ahead

#endif /* CE_CATEGORICAL_AVX512_H */
