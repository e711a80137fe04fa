/* The categorical pass: rows of an (n, C) array, written once and compiled for each SIMD target
 * (included by binary.c, binary_avx2.c and binary_avx512.c after binary_kernel.h). Every
 * element is computed in double, whatever the input type, and rounded once on output.
 *
 * Logits: the row is read in blocks of CE_CAT_BLOCK elements, each once from memory for its
 * maximum and the sum of its other exponentials (both while the block is in L1), and the blocks
 * join online: a running maximum M, the mass rest of the elements below it, relative to it, and
 * the count of ties at M; a new block's maximum rescales the running mass, never by a
 * subtraction, so rest keeps its full relative precision, and so does the loss of a confident
 * row, (M - x_y) + log1p(rest), and its target-class gradient, -rest / (1 + rest). A second read
 * writes the gradient. Each loop is a simple map or a fixed-order sum that compilers vectorise.
 */
#ifndef CE_CATEGORICAL_KERNEL_H
#define CE_CATEGORICAL_KERNEL_H

#include "kernel_common.h"
#include "vecmath.h"

#define CE_CAT_LANES 8
#define CE_CAT_BLOCK 512 /* elements of a row handled at once: its buffers stay in L1 */

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

#define CE_DEFINE_CATEGORICAL_ROWS(T, UT, ST, KEY, UNKEY, SFX, TARGET)                                                 \
    /* The maximum of row x and the others' mass relative to it (see the top of the file), in  \
     * blocks of CE_CAT_BLOCK: each block's maximum, its exponentials below it (stored, then    \
     * summed in a fixed order) and its count of ties join the running state online. */        \
    CE_INLINE double ce_cat_lse_##SFX(const T *x, ptrdiff_t c, double *rest, double *eb)         \
    {                                                                                              \
        double top = -INFINITY, r = 0.0, ties = 0.0;                                               \
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
                eb[j] = v < mb ? ce_exp_neg(v - mb) : 0.0;                                         \
                keq += v == mb;                                                                    \
            }                                                                                      \
            sb = ce_sum_block(eb, len);                                                            \
            kb = (double)keq;                                                                      \
            if (mb > top) {                                                                        \
                r = (r + ties) * ce_exp_neg(top - mb) + sb;                                        \
                ties = kb;                                                                         \
                top = mb;                                                                          \
            } else if (mb == top) {                                                                \
                r += sb;                                                                           \
                ties += kb;                                                                        \
            } else {                                                                               \
                r += (sb + kb) * ce_exp_neg(mb - top);                                             \
            }                                                                                      \
        }                                                                                          \
        *rest = r + (ties - 1.0);                                                                  \
        return top;                                                                                \
    }                                                                                              \
                                                                                                   \
    /* Row i: its gradient (when asked) and weighted loss (returned). */                           \
    CE_INLINE double ce_cat_row_##SFX(int kind, const ce_categorical_args *a, ptrdiff_t i,        \
                                      double sum_cw, ce_partial *acc)                              \
    {                                                                                              \
        const ptrdiff_t c = a->c;                                                                  \
        const T *x = (const T *)a->y_pred + i * c;                                                 \
        const T *t = a->targets ? (const T *)a->targets + i * c : NULL;                            \
        T *g = a->grad ? (T *)a->grad + i * c : NULL;                                              \
        const double *cw = a->class_weight;                                                        \
        const double w = a->sample_weight ? a->sample_weight[i] : 1.0;                             \
        const double sm = a->label_smoothing, smc = sm / (double)c, keep = 1.0 - sm;               \
        const long long y = a->labels ? a->labels[i] : -1;                                         \
        const double gs = w * a->grad_scale;                                                       \
        double big_a, a_top = 0.0, other_a = 0.0, xloss = 0.0, loss;                               \
        ptrdiff_t nan_at = -1, top_j = 0;                                                          \
        int ignored = a->labels && a->has_ignore && y == a->ignore_index;                          \
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
                for (ptrdiff_t u = 0; u < len; ++u)                                                \
                    eb[u] = ce_exp_neg((double)x[b + u] - mx);                                     \
                for (ptrdiff_t u = 0; u < len; ++u) {                                              \
                    const ptrdiff_t j = b + u;                                                     \
                    const double v = (double)x[j];                                                 \
                    const double aj = TARGET;                                                      \
                    lb[u] = aj == 0.0 ? 0.0 : aj * (mx - v);                                       \
                    if (g)                                                                         \
                        g[j] = (T)(gs * (ai * eb[u] - aj));                                        \
                }                                                                                  \
                xloss += ce_sum_block(lb, len);                                                    \
            }                                                                                      \
            {                                                                                      \
                const ptrdiff_t j = top_j;                                                         \
                a_top = TARGET;                                                                    \
            }                                                                                      \
            if (t) {                                                                               \
                other_a = 0.0;                                                                     \
                for (ptrdiff_t j = 0; j < c; ++j)                                                  \
                    other_a += j == top_j ? 0.0 : (cw ? cw[j] : 1.0) * (keep * (double)t[j] + smc); \
            } else {                                                                               \
                other_a = smc * (sum_cw - (cw ? cw[top_j] : 1.0)) +                                \
                          (y == top_j ? 0.0 : keep * (cw ? cw[y] : 1.0));                          \
            }                                                                                      \
            /* at the maximum, A p - a = (A - a) - A (1 - p), with 1 - p = rest / (1 + rest) */    \
            if (g)                                                                                 \
                g[top_j] = (T)(gs * (other_a - big_a * (rest * inv)));                             \
            (void)a_top;                                                                           \
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
                    g[j] = (T)(gs * (kind == CE_PROBABILITY ? -aj / q : -aj));                     \
            }                                                                                      \
            loss = xloss;                                                                          \
        }                                                                                          \
        return w * loss;                                                                           \
    }                                                                                              \
                                                                                                   \
    void ce_categorical_rows_##SFX(int kind, const ce_categorical_args *a, ptrdiff_t r0,          \
                                   ptrdiff_t r1, ce_partial *out);                                 \
    void ce_categorical_rows_##SFX(int kind, const ce_categorical_args *a, ptrdiff_t r0,          \
                                   ptrdiff_t r1, ce_partial *out)                                  \
    {                                                                                              \
        double sum = 0.0, comp = 0.0, sum_cw = (double)a->c;                                       \
        T *l = (T *)a->loss;                                                                       \
        out->weight_sum = out->weight_comp = 0.0;                                                  \
        out->n_bad_label = out->n_bad_pred = out->n_nan_pred = 0;                                  \
        out->bad_label = out->bad_pred = out->nan_pred = -1;                                       \
        out->bad_label_value = out->bad_pred_value = 0.0;                                          \
        if (a->class_weight) {                                                                     \
            sum_cw = 0.0;                                                                          \
            for (ptrdiff_t j = 0; j < a->c; ++j)                                                   \
                sum_cw += a->class_weight[j];                                                      \
        }                                                                                          \
        for (ptrdiff_t i = r0; i < r1; ++i) {                                                      \
            const double v = ce_cat_row_##SFX(kind, a, i, sum_cw, out);                            \
            if (l)                                                                                 \
                l[i] = (T)v;                                                                       \
            ce_add_compensated(&sum, &comp, v);                                                    \
        }                                                                                          \
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
