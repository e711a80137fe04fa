/* What every kernel file shares: inlining, fixed-order block sums, the partial result of a range.
 * Plain C99; included by each SIMD target's translation unit. */
#ifndef CE_KERNEL_COMMON_H
#define CE_KERNEL_COMMON_H

#include <math.h>
#include <stddef.h>

#include "crossent.h"

#if defined(__GNUC__) || defined(__clang__)
#define CE_INLINE static inline __attribute__((always_inline))
#define CE_NOINLINE static __attribute__((noinline))
#elif defined(_MSC_VER)
#define CE_INLINE static inline
#define CE_NOINLINE static __declspec(noinline)
#else
#define CE_INLINE static inline
#define CE_NOINLINE static
#endif

/* A hint to bring the cache line at p in, to read (w = 0) or to write (w = 1); CE_PREFETCH_L2
 * to read, no nearer than L2 (x86: prefetcht1); nothing where the compiler has no such
 * builtin. */
#if defined(__GNUC__) || defined(__clang__)
#define CE_PREFETCH(p, w) __builtin_prefetch((p), (w))
#define CE_PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)
#else
#define CE_PREFETCH(p, w) ((void)(p))
#define CE_PREFETCH_L2(p) ((void)(p))
#endif

/* What a pass computes, besides the loss sum: bit flags known at compile time in each loop. */
#define CE_WANT_GRAD 1
#define CE_WANT_LOSS 2
#define CE_WANT_HESS 4
/* The logit pass with no weights, pos_weight, smoothing or omitted NaN, and no output that
 * overlaps an input: each element in its own precision (logit.h), in one loop. */
#define CE_PLAIN 8

/* CE_BLOCK ones: the weights of a run that has none, read like any weight array. */
extern const double ce_ones[CE_BLOCK];

/* Counts and first offenders of one range; the driver keeps the earliest over ranges. */
typedef struct {
    double loss_sum, loss_comp;     /* compensated sum of w * loss */
    double weight_sum, weight_comp; /* compensated sum of w over the kept elements */
    ptrdiff_t n_bad_label, n_bad_pred, n_nan_pred;
    ptrdiff_t bad_label, bad_pred, nan_pred; /* first flat index, or -1 */
    double bad_label_value, bad_pred_value;
} ce_partial;

/* A float row's gradient not yet written: g[j] = ga e[j] for its c classes, then g[y] = gy.
 * The categorical pass writes it while it computes the next row (see ce_cat_hard). */
typedef struct {
    float *g; /* NULL: none */
    const float *e;
    double ga;
    ptrdiff_t c, y;
    float gy;
} ce_cat_pend;

/* Neumaier's compensated addition of v to (*sum, *comp). */
CE_INLINE void ce_add_compensated(double *sum, double *comp, double v)
{
    const double t = *sum + v;
    if (fabs(*sum) >= fabs(v))
        *comp += (*sum - t) + v;
    else
        *comp += (v - t) + *sum;
    *sum = t;
}

/* Sum of len <= CE_BLOCK doubles in a fixed order: sixteen interleaved partial sums (whole
 * vectors on every target, so the additions are not a latency chain), then a fixed tree. */
CE_INLINE double ce_sum_block(const double *v, ptrdiff_t len)
{
    double s[16] = {0.0};
    ptrdiff_t t = 0;
    int j;
    for (; t + 16 <= len; t += 16)
        for (j = 0; j < 16; ++j)
            s[j] += v[t + j];
    for (j = 0; t < len; ++t, ++j)
        s[j] += v[t];
    for (j = 0; j < 8; ++j)
        s[j] += s[j + 8];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

#endif /* CE_KERNEL_COMMON_H */
