/* log_loss's pass: the log loss of rows of probabilities against integer class codes, with the
 * checks log_loss makes on them, in one read of the probabilities (compiled for each SIMD target,
 * included by binary.c, binary_avx2.c and binary_avx512.c after binary_kernel.h).
 *
 * The categorical probability pass takes the logarithm of every element and writes a gradient;
 * log_loss needs only -log p[i, y_i], the sum of each row and whether every value lies in [0, 1].
 * So each row is read once, for its sum and its range check together; the target probabilities
 * of CE_LL_ROWS rows are gathered into a buffer and their logarithms taken in one vectorised loop
 * (clipped to [eps, 1 - eps], they are normal numbers: ce_log_normal). The counts it returns tell the caller whether the
 * fast answer stands; anything unusual (a value out of range, a label out of [0, c), a class
 * never seen) is left to the caller's general path, which owns the error messages. */
#ifndef CE_LOG_LOSS_KERNEL_H
#define CE_LOG_LOSS_KERNEL_H

#include "kernel_common.h"
#include "vecmath.h"

#define CE_LL_ROWS 256 /* rows of one block: the gathered values and their logs stay in L1 */

#define CE_DEFINE_LOG_LOSS_ROWS(T, SFX)                                                            \
    void ce_log_loss_rows_##SFX(const ce_log_loss_args *a, ce_log_loss_status *st);                \
    void ce_log_loss_rows_##SFX(const ce_log_loss_args *a, ce_log_loss_status *st)                 \
    {                                                                                              \
        double h[CE_LL_ROWS], l[CE_LL_ROWS];                                                       \
        const T *x = (const T *)a->y_pred;                                                         \
        const long long *y = a->labels;                                                            \
        const double *w = a->sample_weight;                                                        \
        const ptrdiff_t n = a->n, c = a->c;                                                        \
        const double lo = a->clip_lo, hi = a->clip_hi, tol = a->sum_tol;                           \
        unsigned char *seen = a->seen;                                                             \
        double sum = 0.0, comp = 0.0, wsum = 0.0, wcomp = 0.0;                                     \
        ptrdiff_t bad_pred = 0, bad_label = 0, bad_sum = 0, n_ones = 0;                            \
        for (ptrdiff_t i0 = 0; i0 < n; i0 += CE_LL_ROWS) {                                         \
            const ptrdiff_t nr = n - i0 < CE_LL_ROWS ? n - i0 : CE_LL_ROWS;                        \
            const T *xb = x + i0 * c;                                                              \
            const long long *yb = y + i0;                                                          \
            ptrdiff_t bp = 0, bl = 0;                                                              \
            if (c == 1) {                                                                          \
                /* the probability of class 1, p: the loss is -log p for y = 1 and -log(1 - p)     \
                 * for y = 0, with 1 - p = h + l exactly (h rounded, l its error), so that         \
                 * -log(h) - l / h keeps a small loss's relative precision as log1p would */       \
                for (ptrdiff_t r = 0; r < nr; ++r) {                                               \
                    const double v = (double)xb[r];                                                \
                    const long long yl = yb[r];                                                    \
                    const double q = v < lo ? lo : (v > hi ? hi : v);                              \
                    const double d = 1.0 - q;                                                      \
                    bp += !((v >= 0.0) & (v <= 1.0));                                              \
                    bl += (yl != 0) & (yl != 1);                                                   \
                    n_ones += yl == 1;                                                             \
                    h[r] = yl == 1 ? q : d;                                                        \
                    l[r] = yl == 1 ? 0.0 : (1.0 - d) - q;                                          \
                }                                                                                  \
                bad_pred += bp;                                                                    \
                bad_label += bl;                                                                   \
                if (bp | bl) /* the caller's general path takes over */                            \
                    continue;                                                                      \
                for (ptrdiff_t r = 0; r < nr; ++r)                                                 \
                    l[r] = -(ce_log_normal(h[r]) + l[r] / h[r]);                                   \
            } else {                                                                               \
                for (ptrdiff_t r = 0; r < nr; ++r) {                                               \
                    const T *row = xb + r * c;                                                     \
                    const unsigned long long yl = (unsigned long long)yb[r];                       \
                    const int ok = yl < (unsigned long long)c;                                     \
                    double s = 0.0;                                                                \
                    ptrdiff_t b = 0;                                                               \
                    for (ptrdiff_t j = 0; j < c; ++j) {                                            \
                        const double v = (double)row[j];                                           \
                        s += v;                                                                    \
                        b += !((v >= 0.0) & (v <= 1.0)); /* a NaN fails both */                    \
                    }                                                                              \
                    bp += b;                                                                       \
                    bad_sum += !(fabs(s - 1.0) <= tol);                                            \
                    bl += !ok;                                                                     \
                    seen[ok ? yl : 0] |= (unsigned char)ok;                                        \
                    {                                                                              \
                        const double v = (double)row[ok ? yl : 0];                                 \
                        h[r] = v < lo ? lo : (v > hi ? hi : v);                                    \
                    }                                                                              \
                }                                                                                  \
                bad_pred += bp;                                                                    \
                bad_label += bl;                                                                   \
                if (bp | bl)                                                                       \
                    continue;                                                                      \
                for (ptrdiff_t r = 0; r < nr; ++r)                                                 \
                    l[r] = -ce_log_normal(h[r]);                                                   \
            }                                                                                      \
            if (w) {                                                                               \
                for (ptrdiff_t r = 0; r < nr; ++r)                                                 \
                    l[r] *= w[i0 + r];                                                             \
                ce_add_compensated(&wsum, &wcomp, ce_sum_block(w + i0, nr));                       \
            }                                                                                      \
            ce_add_compensated(&sum, &comp, ce_sum_block(l, nr));                                  \
        }                                                                                          \
        if (c == 1) {                                                                              \
            seen[0] = n_ones < n - bad_label;                                                      \
            seen[1] = n_ones > 0;                                                                  \
        }                                                                                          \
        st->loss_sum = isfinite(sum) ? sum + comp : sum;                                           \
        st->weight_sum = w ? wsum + wcomp : (double)n;                                             \
        st->n_bad_pred = bad_pred;                                                                 \
        st->n_bad_label = bad_label;                                                               \
        st->n_bad_sum = bad_sum;                                                                   \
    }

#define CE_DEFINE_LOG_LOSS(SUFFIX)                                                                 \
    CE_DEFINE_LOG_LOSS_ROWS(float, f32_##SUFFIX)                                                   \
    CE_DEFINE_LOG_LOSS_ROWS(double, f64_##SUFFIX)

#endif /* CE_LOG_LOSS_KERNEL_H */
