/* The categorical passes: rows of an (n, C) array, written once and compiled for each SIMD
 * target (included by binary.c, binary_avx2.c and binary_avx512.c after binary_kernel.h). Sums,
 * log1p and the gradient are computed in double whatever the input type, and rounded once.
 *
 * Three passes, by row length and options (docs/decisions.md, "Categorical"):
 * - ce_cat_small: logits with labels, C <= CE_CAT_SMALL: CE_CAT_BATCH rows at a time, one per
 *   lane, through a class-major buffer (every step a map over rows);
 * - ce_cat_hard: logits with labels, C <= CE_CAT_ROW: the row once from memory for its
 *   maximum, then its exponentials from L1, stored and used twice (the AVX-512 float row takes
 *   them relative to the label's logit instead, with no maximum, and writes each row's
 *   gradient during the next row's pass: categorical_avx512.h);
 * - ce_cat_row, everything else and every special row: blocks of CE_CAT_BLOCK elements, each
 *   read once from memory for its maximum and the sum of its other exponentials, joined
 *   online: a running maximum M, the mass rest of the elements below it, relative to it, and
 *   the count of ties at M; a new block's maximum rescales the running mass, never by a
 *   subtraction. A second read writes the gradient.
 * In each, the other classes' mass keeps its full relative precision, and so does the loss of
 * a confident row, (M - x_y) + log1p(rest), and its target-class gradient, -rest / (1 + rest).
 * For float32 rows without label smoothing the exponentials are computed in float lanes (see
 * ce_cat_exp2_f). */
#ifndef CE_CATEGORICAL_KERNEL_H
#define CE_CATEGORICAL_KERNEL_H

#include "kernel_common.h"
#include "vecmath.h"

#define CE_CAT_BLOCK 512 /* elements of a row handled at once: its buffers stay in L1 */
#define CE_CAT_ROW 2048  /* rows up to this length take the one-block pass of hard labels */
#define CE_CAT_SMALL 32  /* rows up to this length go CE_CAT_BATCH at a time, one per lane */
#define CE_CAT_BATCH 64

/* A target's own float32 one-block row (ce_cat_hard_f32_zmm) and the state it carries from one
 * row to the next, or none: 0, the row not taken; and its writer of a pending gradient. */
#ifndef CE_CAT_ROW_F32
#define CE_CAT_ROW_F32(x, c, y, ef, xn, yn, gx, ahead, pend, m, rest, ties, top) ((void)(yn), 0)
typedef struct {
    const float *x;
} ce_cat_ahead_none;
#define CE_CAT_AHEAD ce_cat_ahead_none
#endif
#ifndef CE_CAT_GRAD_F32
#define CE_CAT_GRAD_F32 ce_cat_grad_f
#endif
#ifndef CE_CAT_PEND_WRITE
#define CE_CAT_PEND_WRITE(p) ((void)(p)) /* none is ever made */
#endif

/* Integers that order as the floats they come from (NaN aside): the bits, with the other bits
 * of a negative value flipped. Their maximum vectorises where a floating-point one does not. */
CE_INLINE int32_t ce_cat_key_f(float v)
{
    const uint32_t u = ce_bits_f(v);
    return (int32_t)(u ^ ((uint32_t)((int32_t)u >> 31) >> 1));
}
CE_INLINE float ce_cat_unkey_f(int32_t k)
{
    return ce_from_bits_f((uint32_t)k ^ ((uint32_t)(k >> 31) >> 1));
}
CE_INLINE int64_t ce_cat_key(double v)
{
    const uint64_t u = ce_bits(v);
    return (int64_t)(u ^ ((uint64_t)((int64_t)u >> 63) >> 1));
}
CE_INLINE double ce_cat_unkey(int64_t k)
{
    return ce_from_bits((uint64_t)k ^ ((uint64_t)(k >> 63) >> 1));
}

/* e^(zh + zl) in float, for zh + zl in [-87, 0] with zl the rounding error of zh (so the
 * exponent is exact though zh is not): ce_exp_neg_impl_f's reduction with zl carried into the
 * reduced argument r, then e^r = 1 + r q(r), q of degree 6 by Estrin's scheme, so that all but
 * three of the operations are multiplications or fused multiply-adds (x86 has as many units
 * for those as for additions, and the exact difference zh + zl already costs five additions).
 * About 1 ULP; the result is normal, so 2^k goes into the exponent bits, from kk's low bits. */
CE_INLINE float ce_cat_exp2_f(float zh, float zl)
{
    const float kk = zh * CE_INV_LN2_F + CE_SHIFT_F; /* k + 1.5 2^23: k in the low bits */
    const float k = kk - CE_SHIFT_F;
    const float r = (zh - k * CE_LN2_HI_F) - (k * CE_LN2_LO_F - zl); /* the first part exact */
    const float r2 = r * r;
    const float q = (1.0f + r * 0.5f) + r2 * ((1.0f / 6 + r * (1.0f / 24)) +
                                              r2 * ((1.0f / 120 + r * (1.0f / 720)) +
                                                    r2 * (1.0f / 5040)));
    const float er = 1.0f + r * q;
    return ce_from_bits_f(ce_bits_f(er) + (ce_bits_f(kk) << 23));
}

/* e^(zh + zl) in double for zh <= 0 (or NaN), zl the rounding error of zh: ce_exp_neg_impl's
 * reduction with zl carried into the reduced argument, for any zh (e^-746 rounds to 0). The
 * difference of two doubles is not exact, and an error of one ULP in a difference near -700
 * would be hundreds of ULP in its exponential. */
CE_INLINE double ce_cat_exp2(double zh, double zl)
{
    const int under = zh < -746.0;
    const double zc = under ? -746.0 : zh;
    const double k = (zc * CE_INV_LN2 + CE_SHIFT) - CE_SHIFT;
    const double rh = zc - k * CE_LN2_HI; /* exact */
    const double kl = k * CE_LN2_LO - (under ? 0.0 : zl);
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
    const double k1 = (k * 0.5 + CE_SHIFT) - CE_SHIFT;
    return (er * ce_pow2i(k1)) * ce_pow2i(k - k1);
}

/* Sum of len doubles by halves down to runs of 32 (four interleaved partial sums each), in a
 * fixed order: the error grows with log(len), not len, which a row of 10^5 exponentials in
 * float64 needs for its 8-ULP target. */
static double ce_cat_sum(const double *v, ptrdiff_t len)
{
    if (len <= 32)
        return ce_sum_block(v, len);
    {
        const ptrdiff_t half = (len / 2 + 3) & ~(ptrdiff_t)3;
        return ce_cat_sum(v, half) + ce_cat_sum(v + half, len - half);
    }
}

/* The sum in double of len <= CE_CAT_ROW floats, as ce_sum_block: sixteen interleaved partial
 * sums (each of at most 128 terms, far within float precision), then a fixed tree. */
CE_INLINE double ce_cat_sum_f(const float *v, int len)
{
    double s[16] = {0.0};
    int t = 0, j;
    for (; t + 16 <= len; t += 16)
        for (j = 0; j < 16; ++j)
            s[j] += (double)v[t + j];
    for (j = 0; t < len; ++t, ++j)
        s[j] += (double)v[t];
    return ce_sum_block(s, 16);
}

/* The number of zeros among len floats, and the index of the first (len if none), in lanes. */
CE_INLINE int ce_cat_zeros_f(const float *v, int len, int *first)
{
    int k, zeros = 0, f = len;
    for (k = 0; k < len; ++k) {
        const int at = v[k] == 0.0f ? k : len;
        zeros += v[k] == 0.0f;
        f = at < f ? at : f;
    }
    *first = f;
    return zeros;
}

/* g[j] = ga e[j] rounded once to float. With fused multiply-add, in float lanes: ga as the
 * pair hi + lo, and hi e[j] + lo e[j] rounded once (lo e[j] is within 2^-24 of the product's
 * last bit); ga's range keeps hi and lo normal and hi e finite. Otherwise through double. */
CE_INLINE void ce_cat_grad_f(float *g, const float *e, double ga, int c)
{
    int j;
#ifdef CE_HAVE_FMA
    if (fabs(ga) >= 0x1p-100 && fabs(ga) <= 0x1p100) {
        const float hi = (float)ga, lo = (float)(ga - (double)hi);
        for (j = 0; j < c; ++j)
            g[j] = fmaf(hi, e[j], lo * e[j]);
        return;
    }
#endif
    for (j = 0; j < c; ++j)
        g[j] = (float)(ga * (double)e[j]);
}

/* ef[k] = e^(x[k] + mr) for k in [b, e), 0 where x[k] + mr is 0 (x[k] + mr <= 0 and >= -87),
 * from the difference as a float dh and its exact rounding error dl: by Knuth's two-sum
 * (order 0, six additions), or by Dekker's fast two-sum when every x[k] has an exponent at most
 * that of mr (order 1) or at least (order 2), three additions. */
CE_INLINE void ce_cat_exp_block_f(const float *x, float *ef, int b, int e, float mr, int order)
{
    for (int k = b; k < e; ++k) {
        const float v = x[k], dh = v + mr;
        float dl;
        if (order == 1)
            dl = v - (dh - mr);
        else if (order == 2)
            dl = mr - (dh - v);
        else {
            const float vv = dh - mr, mm = dh - vv;
            dl = (v - vv) + (mr - mm);
        }
        ef[k] = dh < 0.0f ? ce_cat_exp2_f(dh, dl) : 0.0f;
    }
}

/* v - m as dh + *dl exactly (Knuth's two-sum); dh == 0 exactly when v == m. */
CE_INLINE double ce_cat_diff(double v, double m, double *dl)
{
    const double dh = v - m, b = dh - v; /* b: the part of -m that made it into dh */
    *dl = (v - (dh - b)) - (m + b);
    return dh;
}

/* e^(v - m) for v <= m, from the exact difference. */
CE_INLINE double ce_cat_exp_diff(double v, double m)
{
    double dl;
    const double dh = ce_cat_diff(v, m, &dl);
    return ce_cat_exp2(dh, dl);
}

/* ce_cat_small for float rows without label smoothing, in float lanes (8 rows per AVX2
 * vector): exact differences x - max as a float and its rounding error, the exponentials in
 * float (about 1 ULP; without smoothing no class's gradient subtracts from them), their sums
 * and everything after in double. Returns 0, having written nothing, when a row of the block
 * spans more than 87 (an exponential would be subnormal in float): the block then takes the
 * double lanes. */
static int ce_cat_small_f32_lanes(const ce_categorical_args *a, ptrdiff_t i0, ptrdiff_t nr,
                                  float *buf, double *loss, unsigned char *special)
{
    enum { R = CE_CAT_BATCH };
    const ptrdiff_t c = a->c;
    const float *x = (const float *)a->y_pred + i0 * c;
    float *g = a->grad ? (float *)a->grad + i0 * c : NULL;
    const double *cw = a->class_weight;
    float m[R], lo[R], tiesf[R];
    double s[R], l1[R], inv[R], ey[R], ga[R];
    int32_t bad[R], top[R];
    ptrdiff_t j, r;
    for (r = 0; r < nr; ++r)
        for (j = 0; j < c; ++j)
            buf[j * R + r] = x[r * c + j];
    for (r = nr; r < R; ++r)
        for (j = 0; j < c; ++j)
            buf[j * R + r] = 0.0f;
    for (r = 0; r < R; ++r) {
        m[r] = -INFINITY;
        lo[r] = INFINITY;
        tiesf[r] = 0.0f;
        bad[r] = 0;
        top[r] = (int32_t)c;
        s[r] = 0.0;
    }
    for (j = 0; j < c; ++j)
        for (r = 0; r < R; ++r) {
            const float v = buf[j * R + r];
            m[r] = v > m[r] ? v : m[r];
            lo[r] = v < lo[r] ? v : lo[r];
            bad[r] |= (int32_t)(v != v);
        }
    for (r = 0; r < nr; ++r)
        if (!bad[r] && m[r] > -INFINITY && m[r] < INFINITY && (double)m[r] - (double)lo[r] > 87.0)
            return 0;
    for (j = 0; j < c; ++j)
        for (r = 0; r < R; ++r) {
            const float v = buf[j * R + r], mr = -m[r];
            const float dh = v + mr, vv = dh - mr, mm = dh - vv; /* two-sum: dh + dl = v - m */
            const float dl = (v - vv) + (mr - mm);
            const float e = dh < 0.0f ? ce_cat_exp2_f(dh, dl) : 0.0f;
            buf[j * R + r] = e;
            s[r] += (double)e;
            const int32_t at = dh == 0.0f ? (int32_t)j : (int32_t)c;
            tiesf[r] += dh == 0.0f ? 1.0f : 0.0f;
            top[r] = at < top[r] ? at : top[r]; /* the first class at the maximum: a minimum */
        }
    for (r = 0; r < R; ++r) {
        const double rest = s[r] + ((double)tiesf[r] - 1.0);
        s[r] = rest;
        l1[r] = ce_log1p(rest);
        inv[r] = 1.0 / (1.0 + rest);
    }
    for (r = 0; r < nr; ++r) {
        const ptrdiff_t i = i0 + r;
        const long long y = a->labels[i];
        const double w = a->sample_weight ? a->sample_weight[i] : 1.0;
        double cwy;
        special[r] = (unsigned char)(y < 0 || y >= c || w == 0.0 || bad[r] ||
                                     (a->has_ignore && y == a->ignore_index) ||
                                     !(m[r] > -INFINITY && m[r] < INFINITY));
        if (special[r]) {
            ga[r] = ey[r] = 0.0;
            continue;
        }
        cwy = cw ? cw[y] : 1.0;
        loss[r] = w * (cwy == 0.0 ? 0.0 : cwy * (((double)m[r] - (double)x[r * c + y]) + l1[r]));
        ga[r] = w * a->grad_scale * (cwy * inv[r]);
        ey[r] = x[r * c + y] == m[r] ? 1.0 : (double)buf[y * R + r];
    }
    if (!g)
        return 1;
    for (r = 0; r < nr; ++r) {
        const long long y = a->labels[i0 + r];
        const ptrdiff_t t = (ptrdiff_t)top[r];
        double gs, cwy;
        if (special[r])
            continue;
        /* transposed back as the gradient of a class neither the label nor at the maximum,
         * then those few again; g may be x itself, so the other classes at the maximum are
         * first marked -1 in buf (whose exponentials are >= 0) */
        if (tiesf[r] > 1.0f)
            for (j = t + 1; j < c; ++j)
                if (x[r * c + j] == m[r])
                    buf[j * R + r] = -1.0f;
        for (j = 0; j < c; ++j)
            g[r * c + j] = (float)(ga[r] * (double)buf[j * R + r]);
        cwy = cw ? cw[y] : 1.0;
        gs = (a->sample_weight ? a->sample_weight[i0 + r] : 1.0) * a->grad_scale;
        if (tiesf[r] > 1.0f)
            for (j = t + 1; j < c; ++j)
                if (buf[j * R + r] == -1.0f)
                    g[r * c + j] = (float)(gs * (cwy * inv[r] - (j == y ? cwy : 0.0)));
        if (y != t)
            g[r * c + y] = (float)(gs * (cwy * inv[r] * ey[r] - cwy));
        g[r * c + t] = (float)(gs * (s[r] < 1.0 ? (y == t ? 0.0 : cwy) - cwy * (s[r] * inv[r])
                                                : cwy * inv[r] - (y == t ? cwy : 0.0)));
    }
    return 1;
}

#define CE_DEFINE_CATEGORICAL_ROWS(T, UT, ST, KEY, UNKEY, SFX, TARGET)                                                 \
    /* The maximum of row x and the others' mass relative to it (see the top of the file), in  \
     * blocks of CE_CAT_BLOCK: each block's maximum, its exponentials below it (stored, then    \
     * summed in a fixed order) and its count of ties join the running state online. */        \
    CE_INLINE double ce_cat_lse_##SFX(const T *x, ptrdiff_t c, double *rest, double *eb)         \
    {                                                                                              \
        double top = -INFINITY, r = 0.0, rc = 0.0, ties = 0.0; /* rc: r's compensation */          \
        for (ptrdiff_t b = 0; b < c; b += CE_CAT_BLOCK) {                                          \
            const ptrdiff_t len = c - b < CE_CAT_BLOCK ? c - b : CE_CAT_BLOCK;                     \
            const T *xb = x + b;                                                                   \
            double mb, sb, kb;                                                                     \
            ptrdiff_t j, keq = 0;                                                                  \
            ST key = KEY((T)-INFINITY);                                             \
            /* the maximum as an integer maximum of order-preserving keys (no NaN here), which     \
             * compilers vectorise where they do not vectorise a floating-point one */             \
            for (j = 0; j < len; ++j) {                                                            \
                const ST kj = KEY(xb[j]);                                           \
                key = kj > key ? kj : key;                                                         \
            }                                                                                      \
            mb = (double)UNKEY(key);                                             \
            for (j = 0; j < len; ++j) {                                                            \
                const double v = (double)xb[j];                                                    \
                eb[j] = v < mb ? ce_cat_exp_diff(v, mb) : 0.0;                                     \
                keq += v == mb;                                                                    \
            }                                                                                      \
            sb = ce_cat_sum(eb, len);                                                              \
            kb = (double)keq;                                                                      \
            if (mb > top) {                                                                        \
                r = ((r + rc) + ties) * ce_cat_exp_diff(top, mb) + sb;                             \
                rc = 0.0;                                                                          \
                ties = kb;                                                                         \
                top = mb;                                                                          \
            } else if (mb == top) {                                                                \
                ce_add_compensated(&r, &rc, sb);                                                   \
                ties += kb;                                                                        \
            } else {                                                                               \
                ce_add_compensated(&r, &rc, (sb + kb) * ce_cat_exp_diff(mb, top));                 \
            }                                                                                      \
        }                                                                                          \
        *rest = (r + rc) + (ties - 1.0);                                                           \
        return top;                                                                                \
    }                                                                                              \
                                                                                                   \
    /* Row i of the logits with a hard label, when c <= CE_CAT_ROW and the row holds a finite  \
     * maximum and no NaN: its gradient (when asked) and weighted loss, in *loss; returns 0      \
     * (and leaves the row alone) for the general pass otherwise. One read of the row from       \
     * memory for the maximum; the exponentials below it are stored in eb (ef for float lanes,  \
     * in L1) and used twice. The target's own float row (CE_CAT_ROW_F32) needs no maximum and     \
     * leaves its gradient pending in *pend, written during the next row's pass (or by             \
     * CE_CAT_PEND_WRITE: every row not taken that way writes it first, and so does the end of     \
     * the caller's range).                                                                        \
     * more: a next row follows in the caller's range (the portable pass prefetches its logits  \
     * and gradient; the target's own row reads its logits ahead); ahead: what the target's own \
     * row carries to the next (CE_CAT_ROW_F32). */                                              \
    CE_INLINE int ce_cat_hard_##SFX(const ce_categorical_args *a, ptrdiff_t i, int more,          \
                                    double *eb, float *ef, CE_CAT_AHEAD *ahead,                    \
                                    ce_cat_pend *pend, double *loss)                               \
    {                                                                                              \
        const ptrdiff_t c = a->c;                                                                  \
        const T *x = (const T *)a->y_pred + i * c;                                                 \
        T *g = a->grad ? (T *)a->grad + i * c : NULL;                                              \
        const double *cw = a->class_weight;                                                        \
        const long long y = a->labels[i];                                                          \
        const double w = a->sample_weight ? a->sample_weight[i] : 1.0;                             \
        const double sm = a->label_smoothing, smc = sm / (double)c, keep = 1.0 - sm;               \
        const double sum_cw = a->sum_class_weight;                                                 \
        ST kmax, kmin;                                                                             \
        int lanes = 0; /* the exponentials are in ef, in float: 1; by the target's own row: 2 */   \
        ptrdiff_t j, top, ties;                                                                    \
        double m, rest, l1, inv, big_a, cwy, gs, xl;                                               \
        (void)ahead;                                                                               \
        /* ef: the half of its buffer the pending gradient's exponentials are not in, from the     \
         * same place in a cache line as x (each half has room): the vectors of x and ef then      \
         * align together, as do ef's and g's when g does as x */                                  \
        if (pend->g && pend->e < ef + CE_CAT_ROW + 15)                                             \
            ef += CE_CAT_ROW + 15;                                                                 \
        ef += (((uintptr_t)x - (uintptr_t)ef) >> 2) & 15;                                          \
        if (y < 0 || y >= c || w == 0.0 || (a->has_ignore && y == a->ignore_index)) {              \
            CE_CAT_PEND_WRITE(pend);                                                               \
            return 0;                                                                              \
        }                                                                                          \
        if (sizeof(T) == 4 && sm == 0.0 && c >= 64) {                                              \
            /* the target's own float row (categorical_avx512.h), from 64 classes: for fewer,      \
             * its fixed costs per row outweigh what it saves; the next row's label, for its       \
             * constants made ahead, is any class when it is not one */                            \
            const long long yn = more ? a->labels[i + 1] : 0;                                      \
            if (CE_CAT_ROW_F32((const float *)x, c, (ptrdiff_t)y, ef,                              \
                               (const float *)x + (more ? c : 0),                                  \
                               yn >= 0 && yn < c ? (ptrdiff_t)yn : 0,                              \
                               g ? (const float *)g : (const float *)x, ahead, pend, &m, &rest,    \
                               &ties, &top)) {                                                     \
                /* a gradient scale above 1 would show a subnormal exponential's error (a class    \
                 * over 87 below the label) in a normal gradient: then the general code */         \
                if (g && fabs(w * a->grad_scale * (cw ? cw[y] : 1.0)) > 0.5 * (1.0 + rest)) {      \
                    for (j = 0; j < c; ++j)                                                        \
                        if ((double)x[j] < m - 87.0)                                               \
                            break;                                                                 \
                    if (j < c)                                                                     \
                        goto general;                                                              \
                }                                                                                  \
                lanes = 2;                                                                         \
                goto have_rest;                                                                    \
            }                                                                                      \
        }                                                                                          \
    general:                                                                                       \
        CE_CAT_PEND_WRITE(pend);                                                                   \
        /* the maximum, and NaNs, from integer keys: a NaN's key lies beyond those of +-inf */     \
        kmax = KEY((T)-INFINITY);                                                                  \
        kmin = KEY((T)INFINITY);                                                                   \
        for (j = 0; j < c; ++j) {                                                                  \
            const ST k = KEY(x[j]);                                                                \
            kmax = k > kmax ? k : kmax;                                                            \
            kmin = k < kmin ? k : kmin;                                                            \
        }                                                                                          \
        if (kmax >= KEY((T)INFINITY) || kmax == KEY((T)-INFINITY) || kmin < KEY((T)-INFINITY))    \
            return 0;                                                                              \
        m = (double)UNKEY(kmax);                                                                   \
        if (sizeof(T) == 4 && sm == 0.0 && m - (double)UNKEY(kmin) <= 87.0) {                      \
            /* float rows without smoothing: in float lanes, as ce_cat_small_f32_lanes */          \
            const float mr = (float)-m;                                                            \
            const int cf = (int)c;                                                                 \
            /* which of x and -m has the larger exponent in every class, if one does: then the     \
             * exact difference takes three additions (ce_cat_exp_block_f) */                      \
            const double top_exp = ce_from_bits(ce_bits(m) & 0x7ff0000000000000ULL);               \
            const int order = m < 0.0 ? 2                                                          \
                            : fabs((double)UNKEY(kmin)) < 2.0 * top_exp ? 1 : 0;                   \
            int k, b;                                                                              \
            for (b = 0; b < cf; b += 64) {                                                         \
                const int e = cf - b < 64 ? cf : b + 64;                                           \
                if (more) { /* the next row's classes [b, e), from memory while this block is      \
                             * computed: paced with this loop, not all at once, which would        \
                             * fill the queue of misses (measured: 12% faster from memory) */      \
                    const char *xn = (const char *)(x + c + b);                                    \
                    const char *gn = g ? (const char *)(g + c + b) : NULL;                         \
                    for (k = 0; k < (e - b) * 4; k += 64) {                                        \
                        CE_PREFETCH(xn + k, 0);                                                    \
                        if (gn)                                                                    \
                            CE_PREFETCH(gn + k, 1);                                                \
                    }                                                                              \
                }                                                                                  \
                if (order == 1)                                                                    \
                    ce_cat_exp_block_f((const float *)x, ef, b, e, mr, 1);                         \
                else if (order == 2)                                                               \
                    ce_cat_exp_block_f((const float *)x, ef, b, e, mr, 2);                         \
                else                                                                               \
                    ce_cat_exp_block_f((const float *)x, ef, b, e, mr, 0);                         \
            }                                                                                      \
            lanes = 1;                                                                             \
            {   /* the classes at the maximum, whose exponentials alone are 0 (none underflows) */ \
                int topf;                                                                          \
                rest = ce_cat_sum_f(ef, cf);                                                       \
                ties = ce_cat_zeros_f(ef, cf, &topf);                                              \
                top = topf;                                                                        \
            }                                                                                      \
        } else {                                                                                   \
            top = c;                                                                               \
            ties = 0;                                                                              \
            for (j = 0; j < c; ++j) {                                                              \
                double dl;                                                                         \
                const double d = ce_cat_diff((double)x[j], m, &dl);                                \
                const ptrdiff_t at = d == 0.0 ? j : c;                                             \
                eb[j] = d < 0.0 ? ce_cat_exp2(d, dl) : 0.0;                                        \
                ties += d == 0.0;                                                                  \
                top = at < top ? at : top;                                                         \
            }                                                                                      \
            rest = ce_cat_sum(eb, c);                                                              \
        }                                                                                          \
    have_rest:                                                                                     \
        rest += (double)(ties - 1);                                                                \
        l1 = ce_log1p(rest);                                                                       \
        inv = 1.0 / (1.0 + rest);                                                                  \
        cwy = cw ? cw[y] : 1.0;                                                                    \
        big_a = keep * cwy + smc * sum_cw;                                                         \
        gs = w * a->grad_scale;                                                                    \
        xl = keep * cwy == 0.0 ? 0.0 : keep * cwy * (m - (double)x[y]);                            \
        if (sm != 0.0) {                                                                           \
            for (j = 0; j < c; ++j) { /* the smoothing's share, sum_j cw_j (m - x_j) */            \
                const double cj = cw ? cw[j] : 1.0;                                                \
                eb[CE_CAT_ROW + j] = cj == 0.0 ? 0.0 : cj * (m - (double)x[j]);                    \
            }                                                                                      \
            xl += smc * ce_sum_block(eb + CE_CAT_ROW, c);                                          \
        }                                                                                          \
        *loss = w * (xl + (big_a == 0.0 ? 0.0 : big_a * l1));                                      \
        if (!g)                                                                                    \
            return 1;                                                                              \
        {                                                                                          \
            /* every class as if neither the label nor at the maximum, then those few again;      \
             * g may be x itself, so where the maximum lies is read first: the first class at it  \
             * is top, the others are marked -1 in eb (whose exponentials are >= 0) */            \
            const double ga = gs * (big_a * inv), gb = gs * smc;                                   \
            const int y_at_max = (double)x[y] == m;                                                \
            if (lanes == 2) { /* ties is 1, top is y: written during the next row's pass */        \
                const double cwt = cw ? cw[top] : 1.0;                                             \
                pend->g = (float *)g;                                                              \
                pend->e = ef;                                                                      \
                pend->ga = ga;                                                                     \
                pend->c = c;                                                                       \
                pend->y = top;                                                                     \
                pend->gy =                                                                         \
                    (float)(gs * (rest < 1.0 ? 0.0 - big_a * (rest * inv) : big_a * inv - cwt));   \
                return 1;                                                                          \
            }                                                                                      \
            for (j = top + 1; ties > 1 && j < c; ++j)                                              \
                if ((double)x[j] == m) {                                                           \
                    if (lanes)                                                                     \
                        ef[j] = -1.0f;                                                             \
                    else                                                                           \
                        eb[j] = -1.0;                                                              \
                }                                                                                  \
            if (lanes) /* no smoothing: gb is 0 */                                                 \
                CE_CAT_GRAD_F32((float *)g, ef, ga, (int)c);                                       \
            else if (gb == 0.0)                                                                    \
                for (j = 0; j < c; ++j)                                                            \
                    g[j] = (T)(ga * eb[j]);                                                        \
            else if (!cw)                                                                          \
                for (j = 0; j < c; ++j)                                                            \
                    g[j] = (T)(ga * eb[j] - gb);                                                   \
            else                                                                                   \
                for (j = 0; j < c; ++j)                                                            \
                    g[j] = (T)(ga * eb[j] - gb * cw[j]);                                           \
            for (j = top + 1; ties > 1 && j < c; ++j) /* the other classes at the maximum */      \
                if ((lanes ? (double)ef[j] : eb[j]) == -1.0)                                       \
                    g[j] = (T)(gs * (big_a * inv - (cw ? cw[j] : 1.0) * ((j == y ? keep : 0.0) + smc))); \
            if (y != top) {                                                                        \
                const double ey = y_at_max ? 1.0 : lanes ? (double)ef[y] : eb[y];                  \
                g[y] = (T)(gs * (big_a * inv * ey - cwy * (keep + smc)));                          \
            }                                                                                      \
            {   /* at the maximum, A p - a; when p > 1/2 as (A - a) - A (1 - p), with              \
                 * 1 - p = rest / (1 + rest), which keeps the relative precision of 1 - p */       \
                const double cwt = cw ? cw[top] : 1.0;                                             \
                const double other_a = smc * (sum_cw - cwt) + (y == top ? 0.0 : keep * cwy);       \
                g[top] = (T)(gs * (rest < 1.0 ? other_a - big_a * (rest * inv)                     \
                                              : big_a * inv - cwt * ((y == top ? keep : 0.0) + smc))); \
            }                                                                                      \
        }                                                                                          \
        return 1;                                                                                  \
    }                                                                                              \
                                                                                                   \
    /* Rows i0 .. i0 + nr - 1 (nr <= CE_CAT_BATCH) of logits with hard labels and c <=          \
     * CE_CAT_SMALL, one row per SIMD lane: the block is transposed into buf (class-major), so    \
     * that every step (maximum, exponentials, sums, log1p, gradient) is a map over rows with no  \
     * cross-lane reduction and no remainder loop, then the gradient is transposed back. Row r's   \
     * weighted loss goes to loss[r]; special[r] != 0 marks the rows this cannot take (ignored,   \
     * weight 0, a NaN, an infinite or all -inf row, a bad label), left to the general pass. */   \
    static void ce_cat_small_##SFX(const ce_categorical_args *a, ptrdiff_t i0, ptrdiff_t nr,      \
                                   double *buf, double *loss, unsigned char *special)             \
    {                                                                                              \
        enum { R = CE_CAT_BATCH };                                                                 \
        const ptrdiff_t c = a->c;                                                                  \
        const T *x = (const T *)a->y_pred + i0 * c;                                                \
        T *g = a->grad ? (T *)a->grad + i0 * c : NULL;                                             \
        const double *cw = a->class_weight;                                                        \
        const double sm = a->label_smoothing, smc = sm / (double)c, keep = 1.0 - sm;               \
        const double sum_cw = a->sum_class_weight;                                                 \
        double m[R], s[R], sc[R], ties[R], sms[R], l1[R], inv[R], ey[R], ga[R], gsr[R];            \
        int64_t top[R], bad[R];                                                                    \
        ptrdiff_t j, r;                                                                            \
        for (r = 0; r < nr; ++r)                                                                   \
            for (j = 0; j < c; ++j)                                                                \
                buf[j * R + r] = (double)x[r * c + j];                                             \
        for (r = nr; r < R; ++r)                                                                   \
            for (j = 0; j < c; ++j)                                                                \
                buf[j * R + r] = 0.0;                                                              \
        for (r = 0; r < R; ++r) {                                                                  \
            m[r] = -INFINITY;                                                                      \
            top[r] = bad[r] = 0;                                                                   \
            s[r] = sc[r] = ties[r] = sms[r] = 0.0;                                                 \
        }                                                                                          \
        for (j = 0; j < c; ++j)                                                                    \
            for (r = 0; r < R; ++r) { /* the first maximum and its class; NaNs flagged */         \
                const double v = buf[j * R + r];                                                   \
                top[r] ^= (top[r] ^ (int64_t)j) & -(int64_t)(v > m[r]);                            \
                m[r] = v > m[r] ? v : m[r];                                                        \
                bad[r] |= (int64_t)(v != v);                                                       \
            }                                                                                      \
        for (j = 0; j < c; ++j) {                                                                  \
            const double cj = cw ? cw[j] : 1.0;                                                    \
            for (r = 0; r < R; ++r) { /* the exponentials below the maximum, in place */          \
                double dl;                                                                         \
                const double v = buf[j * R + r], d = ce_cat_diff(v, m[r], &dl);                    \
                const double e = d < 0.0 ? ce_cat_exp2(d, dl) : 0.0;                               \
                const double t = s[r] + e; /* compensated (two-sum): up to 32 terms */             \
                const double bt = t - s[r];                                                        \
                sc[r] += (s[r] - (t - bt)) + (e - bt);                                             \
                buf[j * R + r] = e;                                                                \
                s[r] = t;                                                                          \
                ties[r] += d == 0.0 ? 1.0 : 0.0;                                                   \
                sms[r] += cj == 0.0 ? 0.0 : cj * (m[r] - v);                                       \
            }                                                                                      \
        }                                                                                          \
        for (r = 0; r < R; ++r) {                                                                  \
            const double rest = (s[r] + sc[r]) + (ties[r] - 1.0);                                  \
            s[r] = rest;                                                                           \
            l1[r] = ce_log1p(rest);                                                                \
            inv[r] = 1.0 / (1.0 + rest);                                                           \
        }                                                                                          \
        for (r = 0; r < nr; ++r) {                                                                 \
            const ptrdiff_t i = i0 + r;                                                            \
            const long long y = a->labels[i];                                                      \
            const double w = a->sample_weight ? a->sample_weight[i] : 1.0;                         \
            double cwy, big_a, xl, gs;                                                             \
            special[r] = (unsigned char)(y < 0 || y >= c || w == 0.0 || bad[r] ||                  \
                                         (a->has_ignore && y == a->ignore_index) ||                \
                                         !(m[r] > -INFINITY && m[r] < INFINITY));                  \
            if (special[r]) {                                                                      \
                ga[r] = gsr[r] = ey[r] = 0.0;                                                      \
                continue;                                                                          \
            }                                                                                      \
            cwy = cw ? cw[y] : 1.0;                                                                \
            big_a = keep * cwy + smc * sum_cw;                                                     \
            gs = w * a->grad_scale;                                                                \
            xl = keep * cwy == 0.0 ? 0.0 : keep * cwy * (m[r] - (double)x[r * c + y]);             \
            if (sm != 0.0)                                                                         \
                xl += smc * sms[r];                                                                \
            loss[r] = w * (xl + (big_a == 0.0 ? 0.0 : big_a * l1[r]));                             \
            ga[r] = gs * (big_a * inv[r]);                                                         \
            gsr[r] = gs;                                                                           \
            ey[r] = (double)x[r * c + y] == m[r] ? 1.0 : buf[y * R + r];                           \
        }                                                                                          \
        if (!g)                                                                                    \
            return;                                                                                \
        for (j = 0; j < c; ++j) {                                                                  \
            const double aj = smc * (cw ? cw[j] : 1.0);                                            \
            for (r = 0; r < R; ++r) /* every class as if neither the label nor the maximum */     \
                buf[j * R + r] = ga[r] * buf[j * R + r] - gsr[r] * aj;                             \
        }                                                                                          \
        for (r = 0; r < nr; ++r) { /* then those few again, as in ce_cat_hard */                  \
            const long long y = a->labels[i0 + r];                                                 \
            const ptrdiff_t t = (ptrdiff_t)top[r];                                                 \
            double cwy, big_a, gs;                                                                 \
            if (special[r])                                                                        \
                continue;                                                                          \
            cwy = cw ? cw[y] : 1.0;                                                                \
            big_a = keep * cwy + smc * sum_cw;                                                     \
            gs = gsr[r];                                                                           \
            if (ties[r] > 1.0)                                                                     \
                for (j = t + 1; j < c; ++j)                                                        \
                    if ((double)x[r * c + j] == m[r])                                              \
                        buf[j * R + r] =                                                           \
                            gs * (big_a * inv[r] - (cw ? cw[j] : 1.0) * ((j == y ? keep : 0.0) + smc)); \
            if (y != t)                                                                            \
                buf[y * R + r] = gs * (big_a * inv[r] * ey[r] - cwy * (keep + smc));              \
            buf[t * R + r] =                                                                       \
                gs * (s[r] < 1.0 ? smc * (sum_cw - (cw ? cw[t] : 1.0)) + (y == t ? 0.0 : keep * cwy) - \
                                       big_a * (s[r] * inv[r])                                     \
                                 : big_a * inv[r] - (cw ? cw[t] : 1.0) * ((y == t ? keep : 0.0) + smc)); \
        }                                                                                          \
        for (r = 0; r < nr; ++r) /* a special row is left alone: the general pass reads it */  \
            for (j = 0; !special[r] && j < c; ++j)                                                 \
                g[r * c + j] = (T)buf[j * R + r];                                                  \
    }                                                                                              \
                                                                                                   \
    /* Row i, through ce_cat_row: its gradient (into g, when not NULL) and weighted loss. */     \
    CE_INLINE double ce_cat_row_body_##SFX(int kind, const ce_categorical_args *a, ptrdiff_t i,   \
                                           double sum_cw, ce_partial *acc, T *g)                   \
    {                                                                                              \
        const ptrdiff_t c = a->c;                                                                  \
        const T *x = (const T *)a->y_pred + i * c;                                                 \
        const T *t = a->targets ? (const T *)a->targets + i * c : NULL;                            \
        const double *cw = a->class_weight;                                                        \
        const double w = a->sample_weight ? a->sample_weight[i] : 1.0;                             \
        const double sm = a->label_smoothing, smc = sm / (double)c, keep = 1.0 - sm;               \
        const long long y = a->labels ? a->labels[i] : -1;                                         \
        const double gs = w * a->grad_scale;                                                       \
        double big_a, other_a = 0.0, xloss = 0.0, loss;                               \
        ptrdiff_t nan_at = -1, top_j = 0;                                                          \
        const int ignored = a->labels && a->has_ignore && y == a->ignore_index;                    \
        if (a->labels && !ignored && (y < 0 || y >= c)) { /* validated by the caller: a guard */  \
            acc->n_bad_label += 1;                                                                 \
            if (acc->bad_label < 0) {                                                              \
                acc->bad_label = i;                                                                \
                acc->bad_label_value = (double)y;                                                  \
            }                                                                                      \
            if (g)                                                                                 \
                for (ptrdiff_t j = 0; j < c; ++j)                                                  \
                    g[j] = (T)NAN;                                                                 \
            return NAN;                                                                            \
        }                                                                                          \
        {                                                                                          \
            UT any_nan = 0; /* an OR over the row first, which vectorises; the index only if so */ \
            for (ptrdiff_t j = 0; j < c; ++j)                                                      \
                any_nan |= (UT)!(x[j] == x[j]);                                                    \
            for (ptrdiff_t j = 0; any_nan && j < c; ++j)                                           \
                if (x[j] != x[j]) {                                                                \
                    nan_at = j;                                                                    \
                    break;                                                                         \
                }                                                                                  \
        }                                                                                          \
        if (nan_at >= 0 && acc->nan_pred < 0)                                                      \
            acc->nan_pred = i * c + nan_at;                                                        \
        if (ignored || w == 0.0 || (nan_at >= 0 && a->nan_policy == CE_NAN_OMIT)) {                \
            if (g)                                                                                 \
                for (ptrdiff_t j = 0; j < c; ++j)                                                  \
                    g[j] = 0;                                                                      \
            return 0.0;                                                                            \
        }                                                                                          \
        if (nan_at >= 0) {                                                                         \
            if (g)                                                                                 \
                for (ptrdiff_t j = 0; j < c; ++j)                                                  \
                    g[j] = (T)NAN;                                                                 \
            return NAN;                                                                            \
        }                                                                                          \
        /* A = sum of the row's target weights */                                                  \
        if (t) {                                                                                   \
            big_a = 0.0;                                                                           \
            for (ptrdiff_t j = 0; j < c; ++j)                                                      \
                big_a += (cw ? cw[j] : 1.0) * (keep * (double)t[j] + smc);                         \
        } else {                                                                                   \
            big_a = keep * (cw ? cw[y] : 1.0) + smc * sum_cw;                                      \
        }                                                                                          \
        if (kind == CE_LOGIT) {                                                                    \
            double rest, eb[CE_CAT_BLOCK], lb[CE_CAT_BLOCK];                                       \
            const double mx = ce_cat_lse_##SFX(x, c, &rest, eb);                                   \
            const double l1 = ce_log1p(rest), inv = 1.0 / (1.0 + rest), ai = big_a * inv;          \
            while (top_j < c - 1 && (double)x[top_j] != mx)                                        \
                ++top_j;                                                                           \
            for (ptrdiff_t b = 0; b < c; b += CE_CAT_BLOCK) {                                      \
                const ptrdiff_t len = c - b < CE_CAT_BLOCK ? c - b : CE_CAT_BLOCK;                 \
                /* v == mx: e^0 and a difference of 0, also for an infinite maximum (the        \
                 * classes at +-inf share the row equally, the limit of equal growth) */          \
                for (ptrdiff_t u = 0; u < len; ++u) {                                              \
                    const double v = (double)x[b + u];                                             \
                    eb[u] = v == mx ? 1.0 : ce_cat_exp_diff(v, mx);                                \
                }                                                                                  \
                for (ptrdiff_t u = 0; u < len; ++u) {                                              \
                    const ptrdiff_t j = b + u;                                                     \
                    const double v = (double)x[j];                                                 \
                    const double aj = TARGET;                                                      \
                    lb[u] = aj == 0.0 || v == mx ? 0.0 : aj * (mx - v);                            \
                    if (g)                                                                         \
                        g[j] = (T)(gs * (ai * eb[u] - aj));                                        \
                }                                                                                  \
                xloss += ce_sum_block(lb, len);                                                    \
            }                                                                                      \
            if (t) {                                                                               \
                other_a = 0.0;                                                                     \
                for (ptrdiff_t j = 0; j < c; ++j)                                                  \
                    other_a += j == top_j ? 0.0 : (cw ? cw[j] : 1.0) * (keep * (double)t[j] + smc); \
            } else {                                                                               \
                other_a = smc * (sum_cw - (cw ? cw[top_j] : 1.0)) +                                \
                          (y == top_j ? 0.0 : keep * (cw ? cw[y] : 1.0));                          \
            }                                                                                      \
            /* at the maximum, when p > 1/2, A p - a = (A - a) - A (1 - p), with 1 - p =           \
             * rest / (1 + rest); else the gradient pass's A p - a stands */                       \
            if (g && rest < 1.0)                                                                   \
                g[top_j] = (T)(gs * (other_a - big_a * (rest * inv)));                             \
            loss = xloss + (big_a == 0.0 ? 0.0 : big_a * l1);                                      \
        } else {                                                                                   \
            const double lo = a->clip_lo, hi = a->clip_hi;                                         \
            for (ptrdiff_t j = 0; j < c; ++j) {                                                    \
                const double v = (double)x[j];                                                     \
                const double q = v < lo ? lo : (v > hi ? hi : v);                                  \
                const double aj = TARGET;                                                          \
                const double nl = kind == CE_PROBABILITY ? -ce_log(q) : -q;                        \
                xloss += aj == 0.0 ? 0.0 : aj * nl;                                                \
                if (g)                                                                             \
                    g[j] = (T)(gs * (kind != CE_PROBABILITY ? -aj : aj == 0.0 ? 0.0 : -aj / q));                     \
            }                                                                                      \
            loss = xloss;                                                                          \
        }                                                                                          \
        return w * loss;                                                                           \
    }                                                                                              \
                                                                                                   \
    /* Row i: its gradient (when asked) and weighted loss (returned). A row whose weight times   \
     * the mean's scale underflows gets a zero gradient, as a binary element does; it is written \
     * after the pass, which may read the row through y_pred (out=y_pred). Not inlined, so that \
     * it compiles apart from its callers (inlined next to the AVX-512 one-block pass, rows of   \
     * 50,257 classes took twice as long from the same source). */                              \
    CE_NOINLINE double ce_cat_row_##SFX(int kind, const ce_categorical_args *a, ptrdiff_t i,      \
                                        double sum_cw, ce_partial *acc)                            \
    {                                                                                              \
        T *g = a->grad ? (T *)a->grad + i * a->c : NULL;                                           \
        const double w = a->sample_weight ? a->sample_weight[i] : 1.0;                             \
        if (g && w * a->grad_scale == 0.0) {                                                       \
            const double v = ce_cat_row_body_##SFX(kind, a, i, sum_cw, acc, NULL);                 \
            for (ptrdiff_t j = 0; j < a->c; ++j)                                                   \
                g[j] = 0;                                                                          \
            return v;                                                                              \
        }                                                                                          \
        return ce_cat_row_body_##SFX(kind, a, i, sum_cw, acc, g);                                  \
    }                                                                                              \
                                                                                                   \
    void ce_categorical_rows_##SFX(int kind, const ce_categorical_args *a, ptrdiff_t r0,          \
                                   ptrdiff_t r1, ce_partial *out);                                 \
    void ce_categorical_rows_##SFX(int kind, const ce_categorical_args *a, ptrdiff_t r0,          \
                                   ptrdiff_t r1, ce_partial *out)                                  \
    {                                                                                              \
        double sum = 0.0, comp = 0.0, eb[2 * CE_CAT_ROW];                                          \
        /* two rows' exponentials (one row's gradient may be pending), each with room to start     \
         * as the row's logits do in a cache line */                                               \
        float ef[2 * (CE_CAT_ROW + 15)];                                                           \
        ce_cat_pend pend = {0}; /* none yet */                                                     \
        CE_CAT_AHEAD ahead = {0}; /* made for no row yet */                                        \
        const double sum_cw = a->sum_class_weight;                                                 \
        const int hard = kind == CE_LOGIT && a->labels && a->c <= CE_CAT_ROW;                      \
        T *l = (T *)a->loss;                                                                       \
        out->weight_sum = out->weight_comp = 0.0;                                                  \
        out->n_bad_label = out->n_bad_pred = out->n_nan_pred = 0;                                  \
        out->bad_label = out->bad_pred = out->nan_pred = -1;                                       \
        out->bad_label_value = out->bad_pred_value = 0.0;                                          \
        if (kind == CE_LOGIT && a->labels && a->c <= CE_CAT_SMALL) {                               \
            double buf[CE_CAT_SMALL * CE_CAT_BATCH], lb[CE_CAT_BATCH];                             \
            float buf_f[CE_CAT_SMALL * CE_CAT_BATCH];                                              \
            unsigned char special[CE_CAT_BATCH];                                                   \
            for (ptrdiff_t i0 = r0; i0 < r1; i0 += CE_CAT_BATCH) {                                 \
                const ptrdiff_t nr = r1 - i0 < CE_CAT_BATCH ? r1 - i0 : CE_CAT_BATCH;              \
                if (!(sizeof(T) == 4 && a->label_smoothing == 0.0 &&                               \
                      ce_cat_small_f32_lanes(a, i0, nr, buf_f, lb, special)))                    \
                    ce_cat_small_##SFX(a, i0, nr, buf, lb, special);                               \
                for (ptrdiff_t r = 0; r < nr; ++r) {                                               \
                    const double v =                                                               \
                        special[r] ? ce_cat_row_##SFX(kind, a, i0 + r, sum_cw, out) : lb[r];       \
                    if (l)                                                                         \
                        l[i0 + r] = (T)v;                                                          \
                    ce_add_compensated(&sum, &comp, v);                                            \
                }                                                                                  \
            }                                                                                      \
            r0 = r1;                                                                               \
        }                                                                                          \
        for (ptrdiff_t i = r0; i < r1; ++i) {                                                      \
            double v;                                                                              \
            if (!(hard && ce_cat_hard_##SFX(a, i, i + 1 < r1, eb, ef, &ahead, &pend, &v)))        \
                v = ce_cat_row_##SFX(kind, a, i, sum_cw, out);                                     \
            if (l)                                                                                 \
                l[i] = (T)v;                                                                       \
            ce_add_compensated(&sum, &comp, v);                                                    \
        }                                                                                          \
        CE_CAT_PEND_WRITE(&pend); /* the range's last row's, if pending */                         \
        out->loss_sum = sum;                                                                       \
        out->loss_comp = comp;                                                                     \
    }

/* a_j, the weighted smoothed target of class j in row i (t: soft targets, else label y) */
#define CE_CAT_TARGET                                                                              \
    ((cw ? cw[j] : 1.0) * (t ? keep * (double)t[j] + smc : (j == y ? keep : 0.0) + smc))

#define CE_DEFINE_CATEGORICAL(SUFFIX)                                                              \
    CE_DEFINE_CATEGORICAL_ROWS(float, uint32_t, int32_t, ce_cat_key_f, ce_cat_unkey_f,            \
                               f32_##SUFFIX, CE_CAT_TARGET)                                        \
    CE_DEFINE_CATEGORICAL_ROWS(double, uint64_t, int64_t, ce_cat_key, ce_cat_unkey, f64_##SUFFIX, \
                               CE_CAT_TARGET)

#endif /* CE_CATEGORICAL_KERNEL_H */
