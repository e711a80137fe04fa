/* The categorical pass: rows of an (n, C) array, written once and compiled for each SIMD target
 * (included by binary.c, binary_avx2.c and binary_avx512.c after binary_kernel.h). Every
 * element is computed in double, whatever the input type, and rounded once on output.
 *
 * Logits: one read of the row finds its maximum M and rest = sum over the other classes of
 * e^(x - M), online, in CE_CAT_LANES independent lanes: a lane keeps its maximum m, the sum s
 * of e^(x - m) over its elements below m, and the count k of elements equal to m; a new element
 * needs only e^-|x - m|, which serves both when it is below m (s += e) and when it is a new
 * maximum (s = (s + k) e). The lanes then join without a subtraction, so rest keeps its full
 * relative precision, and so does the loss of a confident row, (M - x_y) + log1p(rest), and its
 * target-class gradient, -rest / (1 + rest). A second read writes the gradient. */
#ifndef CE_CATEGORICAL_KERNEL_H
#define CE_CATEGORICAL_KERNEL_H

#include "kernel_common.h"
#include "vecmath.h"

#define CE_CAT_LANES 8

/* One lane's step of the online log-sum-exp. */
#define CE_CAT_STEP(v, l)                                                                          \
    do {                                                                                           \
        const double e_ = ce_exp_neg(-fabs((v) - m[l]));                                           \
        const int up_ = (v) > m[l], eq_ = (v) == m[l];                                             \
        s[l] = up_ ? (s[l] + k[l]) * e_ : (eq_ ? s[l] : s[l] + e_);                                \
        k[l] = up_ ? 1.0 : (eq_ ? k[l] + 1.0 : k[l]);                                              \
        m[l] = up_ ? (v) : m[l];                                                                   \
    } while (0)

#define CE_DEFINE_CATEGORICAL_ROWS(T, SFX, TARGET)                                                 \
    /* The maximum of row x and the others' mass relative to it (see the top of the file). */     \
    CE_INLINE double ce_cat_lse_##SFX(const T *x, ptrdiff_t c, double *rest)                       \
    {                                                                                              \
        double m[CE_CAT_LANES], s[CE_CAT_LANES], k[CE_CAT_LANES], top = -INFINITY, ties = 0.0;   \
        double r = 0.0;                                                                            \
        ptrdiff_t j = 0;                                                                           \
        for (int l = 0; l < CE_CAT_LANES; ++l)                                                     \
            m[l] = -INFINITY, s[l] = 0.0, k[l] = 0.0;                                              \
        for (; j + CE_CAT_LANES <= c; j += CE_CAT_LANES)                                           \
            for (int l = 0; l < CE_CAT_LANES; ++l) {                                               \
                const double v = (double)x[j + l];                                                 \
                CE_CAT_STEP(v, l);                                                                 \
            }                                                                                      \
        for (int l = 0; j < c; ++j, ++l) {                                                         \
            const double v = (double)x[j];                                                         \
            CE_CAT_STEP(v, l);                                                                     \
        }                                                                                          \
        for (int l = 0; l < CE_CAT_LANES; ++l)                                                     \
            top = m[l] > top ? m[l] : top;                                                         \
        for (int l = 0; l < CE_CAT_LANES; ++l) {                                                   \
            if (m[l] == top) {                                                                     \
                ties += k[l];                                                                      \
                r += s[l];                                                                         \
            } else if (k[l] > 0.0) {                                                               \
                r += (s[l] + k[l]) * ce_exp_neg(m[l] - top);                                       \
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
        for (ptrdiff_t j = 0; j < c; ++j)                                                          \
            if (x[j] != x[j]) {                                                                    \
                nan_at = j;                                                                        \
                break;                                                                             \
            }                                                                                      \
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
            double rest;                                                                           \
            const double mx = ce_cat_lse_##SFX(x, c, &rest);                                       \
            const double l1 = ce_log1p(rest), inv = 1.0 / (1.0 + rest);                            \
            while (top_j < c - 1 && (double)x[top_j] != mx)                                        \
                ++top_j;                                                                           \
            for (ptrdiff_t j = 0; j < c; ++j) {                                                    \
                const double v = (double)x[j];                                                     \
                const double aj = TARGET;                                                          \
                const double p = ce_exp_neg(v - mx) * inv;                                         \
                xloss += aj == 0.0 ? 0.0 : aj * (mx - v);                                          \
                other_a += j == top_j ? 0.0 : aj;                                                  \
                a_top = j == top_j ? aj : a_top;                                                   \
                if (g)                                                                             \
                    g[j] = (T)(gs * (big_a * p - aj));                                             \
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
    CE_DEFINE_CATEGORICAL_ROWS(float, f32_##SUFFIX, CE_CAT_TARGET)                                 \
    CE_DEFINE_CATEGORICAL_ROWS(double, f64_##SUFFIX, CE_CAT_TARGET)

#endif /* CE_CATEGORICAL_KERNEL_H */
