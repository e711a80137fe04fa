/* The float32 run of the plain logit pass in AVX-512 intrinsics (included by binary_kernel.h
 * where the target file asks for it, CE_HAVE_AVX512; the plain run calls it through
 * CE_PLAIN_RUN_F32; categorical_avx512.h takes its table of 2^(j/16) and its lane helpers).
 *
 * It takes the runs whose every logit has |x| <= 87 and every label is in [0, 1], when no
 * per-element loss is asked for: two loops over the run's vectors, e^-|x| with the run's
 * checks, then everything else, where the portable run takes four. The formulas are logit.h's
 * but for three things, each described where it is made: e^-|x| from a table of 2^(j/16)
 * (ce_exp_neg_zmm), e / (1 + e) without a division (ce_plain_elems_zmm), and the chunk's
 * product of 1 + e two elements per factor (ce_plain_prod_zmm). docs/decisions.md has the
 * measurements. */
#ifndef CE_LOGIT_AVX512_H
#define CE_LOGIT_AVX512_H

#include <immintrin.h>

#include "kernel_common.h"
#include "vecmath.h"

/* 2^(j/16), j = 0..15, as float pairs hi + lo (hi the nearest float, lo the nearest to the rest)
 * for ce_exp_neg_zmm, and for the categorical row's table (categorical_avx512.h). */
static const float ce_exp2_16_hi[16] = {
    0x1p+0f,         0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f,
    0x1.306fe0p+0f,  0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
    0x1.6a09e6p+0f,  0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
    0x1.ae89fap+0f,  0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};
static const float ce_exp2_16_lo[16] = {
    0.0f,            0x1.9f3122p-25f,  -0x1.c15742p-27f, 0x1.ceac48p-25f,
    0x1.4636e2p-25f, 0x1.824684p-25f,  -0x1.593abcp-25f, -0x1.5bd5ecp-27f,
    0x1.9fcef4p-26f, -0x1.829fd0p-25f, 0x1.15506ep-27f,  0x1.51f848p-27f,
    -0x1.a94b14p-26f, -0x1.3d56b2p-27f, -0x1.822dbcp-27f, 0x1.52486cp-27f};

/* e^z for z in [-87, 0] (then normal): z = (16 k + j) ln2 / 16 + r, |r| about ln2 / 32, and
 * e^z = 2^k 2^(j/16) (1 + w), w = e^r - 1 = r + r^2 (1/2 + r/6 + r^2/24) (next term below
 * 2^-34 relative). 2^(j/16) = th + tl comes from two 16-entry tables held in registers (vpermps
 * takes the index from n's low four bits), and e^z is th + (tl + th w) rounded once; the
 * roundings before it are of terms below 0.03 of the result. Measured over every float z in
 * [-87, 0]: 0.544 ULP (tools/vecmath_ulp.c). 2^k is added to the exponent bits. */
CE_INLINE __m512 ce_exp_neg_zmm(__m512 z, __m512 th_tab, __m512 tl_tab)
{
    const __m512 shift = _mm512_set1_ps(CE_SHIFT_F);
    /* kk = 1.5 2^23 + n, n = round(16 z / ln2) in [-2008, 0]: n is in kk's low bits */
    const __m512 kk = _mm512_fmadd_ps(z, _mm512_set1_ps(0x1.715476p+4f), shift);
    const __m512 n = _mm512_sub_ps(kk, shift);
    const __m512i nb = _mm512_castps_si512(kk);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e43p-5f), z);
    __m512 w, p;
    const __m512 th = _mm512_permutexvar_ps(nb, th_tab), tl = _mm512_permutexvar_ps(nb, tl_tab);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-0x1.05c61p-33f), r);
    p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.0f / 24), _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(r, p, _mm512_set1_ps(0.5f));
    w = _mm512_fmadd_ps(_mm512_mul_ps(r, r), p, r);
    w = _mm512_add_ps(th, _mm512_fmadd_ps(th, w, tl));
    /* k << 23 = (n << 19) with the low 23 bits cleared: kk's bits are 1.5 2^23's plus n, and
     * 1.5 2^23's bits (a multiple of 2^22) leave the word when shifted left by 19 */
    return _mm512_castsi512_ps(_mm512_add_epi32(
        _mm512_castps_si512(w),
        _mm512_and_si512(_mm512_slli_epi32(nb, 19), _mm512_set1_epi32(-0x800000))));
}

/* Two factor vectors, 1 + e0 and 1 + e1 (eight lanes each, e in [0, 1]), into the product pair
 * hi + lo: their product 1 + f, f = e0 + e1 + e0 e1 (within 2^-52 of itself: a relative error
 * of f, not of 1 + f, so a sum of tiny losses keeps its precision), then h = hi (1 + f) by one
 * fused multiply-add, whose rounding error hi f - (h - hi) is found by another and added to
 * lo (1 + f). h - hi is exact when f <= 1 (Sterbenz: hi <= h <= 2 hi); above, where the
 * factor's log is more than ln 2, its rounding is within 2^-52 of hi. ce_mul_pair does the
 * same with 1 + e as an exact pair. */
CE_INLINE void ce_plain_prod_zmm(__m512d e0, __m512d e1, __m512d *hi, __m512d *lo)
{
    const __m512d f = _mm512_fmadd_pd(e0, e1, _mm512_add_pd(e0, e1));
    const __m512d h = _mm512_fmadd_pd(*hi, f, *hi);
    const __m512d t = _mm512_fmadd_pd(*hi, f, _mm512_sub_pd(*hi, h));
    *lo = _mm512_fmadd_pd(*lo, f, _mm512_add_pd(*lo, t));
    *hi = h;
}

/* The lower and the upper eight lanes of v, widened to double. */
CE_INLINE __m512d ce_lo8_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
CE_INLINE __m512d ce_hi8_pd(__m512 v)
{
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

/* The run's exponentials e^-|x| into eb (len rounded up to 16; 0 past len), and whether every
 * logit has |x| <= 87 (a NaN has not) and every label is in [0, 1]: the run's inputs are
 * checked in the same loop, which reads them first. A label passes when the bits of y + 0
 * (-0 made +0; a NaN keeps its high bits) are at most those of 1, as unsigned integers. */
CE_INLINE int ce_plain_exp_zmm(const float *x, const float *y, ptrdiff_t len, float *eb)
{
    const __m512 sign = _mm512_set1_ps(-0.0f), lim = _mm512_set1_ps(-CE_EXP_NEAR_F);
    const __m512 th = _mm512_loadu_ps(ce_exp2_16_hi), tl = _mm512_loadu_ps(ce_exp2_16_lo);
    const __m512i onebits = _mm512_set1_epi32(0x3f800000);
    __mmask16 ok = 0xffff;
    ptrdiff_t t = 0;
    for (; t + 16 <= len; t += 16) {
        const __m512 z = _mm512_or_ps(_mm512_loadu_ps(x + t), sign);
        const __m512 yv = _mm512_add_ps(_mm512_loadu_ps(y + t), _mm512_setzero_ps());
        ok &= _mm512_cmp_ps_mask(z, lim, _CMP_GE_OQ) &
              _mm512_cmple_epu32_mask(_mm512_castps_si512(yv), onebits);
        _mm512_storeu_ps(eb + t, ce_exp_neg_zmm(z, th, tl));
    }
    if (t < len) {
        const __mmask16 m = (__mmask16)((1u << (unsigned)(len - t)) - 1u);
        const __m512 z = _mm512_or_ps(_mm512_maskz_loadu_ps(m, x + t), sign);
        const __m512 yv = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + t), _mm512_setzero_ps());
        ok &= _mm512_cmp_ps_mask(z, lim, _CMP_GE_OQ) &
              _mm512_cmple_epu32_mask(_mm512_castps_si512(yv), onebits);
        _mm512_storeu_ps(eb + t, _mm512_maskz_mov_ps(m, ce_exp_neg_zmm(z, th, tl)));
    }
    return ok == 0xffff;
}

/* What a run carries from vector to vector: the a x partial sums (lanes 0-7 and 8-15) and the
 * product pair. */
typedef struct {
    __m512d s0, s1, hi, lo;
} ce_plain_acc_zmm;

/* The outputs of the 16 elements at x, y, eb (e^-|x|) in the lanes of m (the others are not
 * read or written, and count as 0), into acc. The formulas are logit.h's; q = e / (1 + e) is
 * found without a division: q0 = e v, v within 2^-14 of 1 / (1 + e) (vrcp14ps), and
 * c = v (e - q0 (d + dl)) with d + dl = 1 + e exactly, the residual computed to 2^-24 of
 * itself, so that q0 + c is q to about 2^-28, which the gradient rounds once. */
CE_INLINE void ce_plain_elems_zmm(int want, int scaled, __m512 shi, __m512 slo, const float *x,
                                  const float *y, const float *eb, float *g, float *h,
                                  __mmask16 m, ce_plain_acc_zmm *acc)
{
    const __m512 one = _mm512_set1_ps(1.0f), sign = _mm512_set1_ps(-0.0f);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x), yv = _mm512_maskz_loadu_ps(m, y);
    const __m512 e = _mm512_loadu_ps(eb);
    const __mmask16 nonneg = _mm512_cmp_ps_mask(xv, _mm512_setzero_ps(), _CMP_GE_OQ);
    const __m512 d = _mm512_add_ps(one, e);
    const __m512 dl = _mm512_add_ps(_mm512_sub_ps(one, d), e);
    const __m512 v = _mm512_rcp14_ps(d);
    const __m512 q0 = _mm512_mul_ps(e, v);
    const __m512 c = _mm512_mul_ps(_mm512_fnmadd_ps(q0, dl, _mm512_fnmadd_ps(q0, d, e)), v);
    /* a = 1 - y (x >= 0), -y; u, uc = -q0, -c (x >= 0), q0, c */
    const __m512 av = _mm512_mask_sub_ps(_mm512_xor_ps(yv, sign), nonneg, one, yv);
    const __m512 u = _mm512_mask_xor_ps(q0, nonneg, q0, sign);
    const __m512 uc = _mm512_mask_xor_ps(c, nonneg, c, sign);
    /* the loss's a x: never inf or NaN here, and >= 0 or -0 */
    const __m512 ax = _mm512_mul_ps(av, xv);
    acc->s0 = _mm512_add_pd(acc->s0, ce_lo8_pd(ax));
    acc->s1 = _mm512_add_pd(acc->s1, ce_hi8_pd(ax));
    ce_plain_prod_zmm(_mm512_cvtps_pd(_mm256_loadu_ps(eb)), _mm512_cvtps_pd(_mm256_loadu_ps(eb + 8)),
                      &acc->hi, &acc->lo);
    if (want & CE_WANT_GRAD) {
        const __m512 gv = _mm512_add_ps(av, u);
        const __m512 gl = _mm512_add_ps(_mm512_add_ps(_mm512_sub_ps(av, gv), u), uc);
        const __m512 r = scaled ? _mm512_fmadd_ps(shi, gv,
                                                  _mm512_fmadd_ps(shi, gl, _mm512_mul_ps(slo, gv)))
                                : _mm512_add_ps(gv, gl);
        _mm512_mask_storeu_ps(g, m, r);
    }
    if (want & CE_WANT_HESS) {
        const __m512 q = _mm512_add_ps(q0, c);
        _mm512_mask_storeu_ps(h, m, _mm512_mul_ps(q, _mm512_sub_ps(one, q)));
    }
}

/* The outputs of len <= 256 elements (want: CE_WANT_GRAD and/or CE_WANT_HESS, no per-element
 * loss), the factors 1 + e into *prod (its lanes 0-7), and the sum of the losses' other terms,
 * a x, in *sum: added in sixteen double partial sums in the order of ce_sum_block, so the same
 * as the portable run's. Returns 0, having written nothing, when a value is out of its range
 * or far (the portable run then takes the run). next: the next run's length, to prefetch. */
CE_INLINE int ce_plain_run_f32_zmm(int want, int scaled, const ce_binary_args *a, ptrdiff_t i0,
                                   ptrdiff_t len, ptrdiff_t next, ce_log1p_prod *prod,
                                   double *sum)
{
    const float *x = (const float *)a->y_pred + i0, *y = (const float *)a->y_true + i0;
    float *g = a->grad ? (float *)a->grad + i0 : NULL, *h = a->hess ? (float *)a->hess + i0 : NULL;
    const float gs_hi = (float)a->grad_scale;
    const __m512 shi = _mm512_set1_ps(gs_hi);
    const __m512 slo = _mm512_set1_ps((float)(a->grad_scale - (double)gs_hi));
    ce_plain_acc_zmm acc;
    float eb[CE_PLAIN_LEN(float)];
    ptrdiff_t t;
    /* e^-|x| first, in a loop of its own: its iterations are independent and short, so the
     * processor runs many side by side (one loop for all of it leaves the long chain of
     * dependent operations in each element exposed) */
    ce_prefetch_next(a, i0 + len, next, sizeof(float), 0);
    if (!ce_plain_exp_zmm(x, y, len, eb))
        return 0;
    ce_prefetch_next(a, i0 + len, next, sizeof(float), 1);
    acc.s0 = acc.s1 = _mm512_setzero_pd();
    acc.hi = _mm512_loadu_pd(prod->hi);
    acc.lo = _mm512_loadu_pd(prod->lo);
    for (t = 0; t + 16 <= len; t += 16)
        ce_plain_elems_zmm(want, scaled, shi, slo, x + t, y + t, eb + t, g ? g + t : NULL,
                           h ? h + t : NULL, 0xffff, &acc);
    if (t < len)
        ce_plain_elems_zmm(want, scaled, shi, slo, x + t, y + t, eb + t, g ? g + t : NULL,
                           h ? h + t : NULL, (__mmask16)((1u << (unsigned)(len - t)) - 1u), &acc);
    ce_prefetch_next(a, i0 + len, next, sizeof(float), 2);
    {
        /* hi back to [1, 2) by an exact power of 2, counted in k (as the portable run) */
        const __m512d ex = _mm512_getexp_pd(acc.hi);
        _mm512_storeu_pd(prod->hi, _mm512_getmant_pd(acc.hi, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src));
        _mm512_storeu_pd(prod->lo, _mm512_scalef_pd(acc.lo, _mm512_sub_pd(_mm512_setzero_pd(), ex)));
        _mm512_storeu_pd(prod->k, _mm512_add_pd(_mm512_loadu_pd(prod->k), ex));
    }
    {
        /* ce_sum_block's tree: lane j + 8 into lane j, then ((0+4)+(1+5))+((2+6)+(3+7)) */
        double sv[8];
        _mm512_storeu_pd(sv, _mm512_add_pd(acc.s0, acc.s1));
        *sum = ((sv[0] + sv[4]) + (sv[1] + sv[5])) + ((sv[2] + sv[6]) + (sv[3] + sv[7]));
    }
    return 1;
}

#define CE_PLAIN_RUN_F32 ce_plain_run_f32_zmm

#endif /* CE_LOGIT_AVX512_H */
