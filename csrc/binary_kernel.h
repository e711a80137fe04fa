/* The binary cross-entropy pass, written once and compiled once per SIMD target.
 *
 * Design: a target file (binary.c, binary_avx2.c, ...) sets its compiler target, includes this
 * header and expands CE_DEFINE_BINARY(suffix). The per-element maths are the branch-free
 * functions below on doubles (for float32 data with the shorter _lp polynomials: still far
 * below half a float ULP); each block of CE_BLOCK elements is one loop with no branch and no
 * call, which compilers vectorise. Per block, the weighted losses go to a small buffer and are
 * summed in a fixed order, the blocks of a chunk are combined with compensation, and the chunk
 * results are combined in chunk order by the driver (dispatch.c): the loss depends on the data
 * only, not on the number of threads. Validation is counted in the same loop (integer sums);
 * the index of the first bad element is looked for only when a count is not zero.
 */
#ifndef CE_BINARY_KERNEL_H
#define CE_BINARY_KERNEL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "crossent.h"
#include "kernel_common.h"
#include "logit.h"
#include "vecmath.h"

/* ln 2: above -ln 2, log(-expm1(a)) is the accurate form of log(1 - e^a); below, log1p(-exp(a)). */
#define CE_LN2 0.693147180559945309417232121458176568


typedef struct {
    double loss, grad, hess;
} ce_elem;

/* The transcendental parts of one element, computed for a whole run first (one short loop
 * per function, which vectorises with independent iterations) and combined after. */
typedef struct {
    double *t1, *t2, *t3, *t4; /* arrays of CE_BLOCK: one per function, so loads are contiguous */
} ce_pre;

/* Logit x, label y, positive weight pw; lw = pw y + (1 - y); e = e^-|x| (t1), log1p(e) (t2);
 * Q = sigma(-|x|) = e / (1 + e), as in logit.h (q0 plus the correction of both roundings):
 *   loss = (1 - y) x + lw log1p(e)      for x >= 0
 *        = -pw y x   + lw log1p(e)      for x < 0      (sums of non-negative terms)
 *   grad = (1 - y) - lw Q               for x >= 0
 *        = lw Q - pw y                  for x < 0      (no 1 - sigma: nothing cancels)
 *   hess = lw Q (1 - Q)
 * With pw = 1 these are the operations of logit.h, so float64 results do not depend on which
 * pass ran. A zero coefficient of x is a zero term, so infinite logits give 0 or +inf, never
 * NaN. float32 data (lp) is computed here in double, with the shorter general functions. */
CE_INLINE void ce_logit_pre(double x, const ce_pre *p, ptrdiff_t t, int lp)
{
    p->t1[t] = lp ? ce_exp_impl(-fabs(x), 1) : ce_exp_neg(-fabs(x));
}

CE_INLINE void ce_logit_pre2(const ce_pre *p, ptrdiff_t t, int lp)
{
    p->t2[t] = lp ? ce_log1p_impl(p->t1[t], 1) : ce_log1p_unit(p->t1[t]);
}

CE_INLINE ce_elem ce_binary_logit(double x, double y, double pw, const ce_pre *p, ptrdiff_t t,
                                  int lp)
{
    ce_elem r;
    const double e = p->t1[t];
    const double d = 1.0 + e;
    const double dl = (1.0 - d) + e;
    const double q0 = e / d;
    const double c = (ce_fnma(q0, d, e) - q0 * dl) * (1.0 - q0);
    const int nonneg = x >= 0.0;
    const double qy = pw * y;
    /* pw y + (1 - y), not 1 + (pw - 1) y, which loses a pw below 2^-53 (and low bits of any
     * pw < 1/2); pw = 1 keeps logit.h's lw = 1 for soft labels too */
    const double lw = pw == 1.0 ? 1.0 : qy + (1.0 - y);
    const double a = nonneg ? 1.0 - y : -qy;
    const double u = nonneg ? -(lw * q0) : lw * q0, uc = nonneg ? -(lw * c) : lw * c;
    const double g = a + u;
    const double gl = (a - g) + u;
    const double q = q0 + c;
    (void)lp;
    r.loss = (a == 0.0 ? 0.0 : a * x) + lw * p->t2[t];
    r.grad = g + (gl + uc);
    r.hess = lw * (q * (1.0 - q));
    return r;
}

CE_INLINE double ce_clip(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Probability p clipped to pc in [lo, hi]; log pc (t1), log1p(-pc) (t2):
 *   loss = -(pw y log pc + (1 - y) log1p(-pc)),  grad = (1 - y) / (1 - pc) - pw y / pc.
 * A term whose label coefficient is zero is dropped, so eps = 0 gives no 0 * inf. */
CE_INLINE void ce_probability_pre(double pc, const ce_pre *p, ptrdiff_t t, int lp)
{
    p->t1[t] = ce_log_impl(pc, lp);
}

CE_INLINE void ce_probability_pre2(double pc, const ce_pre *p, ptrdiff_t t, int lp)
{
    p->t2[t] = ce_log1p_impl(-pc, lp);
}

CE_INLINE ce_elem ce_binary_probability(double pc, double y, double pw, const ce_pre *p,
                                        ptrdiff_t t)
{
    ce_elem r;
    const double q = pw * y;
    const double m = 1.0 - y;
    const double pos = q == 0.0 ? 0.0 : q * p->t1[t];
    const double neg = m == 0.0 ? 0.0 : m * p->t2[t];
    r.loss = -(pos + neg);
    r.grad = (m == 0.0 ? 0.0 : m / (1.0 - pc)) - (q == 0.0 ? 0.0 : q / pc);
    r.hess = 0.0;
    return r;
}

/* Log-probability a <= 0 clipped to ac in [lo, hi]; log(1 - e^a) without cancellation:
 * log(-expm1(ac)) above -ln 2 (t1, t3), log1p(-exp(ac)) below (t2, t4 before the log):
 *   loss = -(pw y ac + (1 - y) log1mexp(ac)),  grad = (1 - y) / expm1(-ac) - pw y.
 * (0.0 - ac) rather than -ac keeps expm1's argument +0 at ac = -0, so the gradient at
 * a = 0 (reachable only with eps = 0) is +inf, as the limit says. */
CE_INLINE void ce_log_probability_pre(double ac, const ce_pre *p, ptrdiff_t t, int lp)
{
    p->t1[t] = ce_expm1_impl(ac, lp);
}

CE_INLINE void ce_log_probability_pre2(double ac, const ce_pre *p, ptrdiff_t t, int lp)
{
    p->t2[t] = ce_exp_impl(ac, lp);
}

CE_INLINE void ce_log_probability_pre3(double ac, const ce_pre *p, ptrdiff_t t, int lp)
{
    /* of -expm1(ac) near 0, of 1 - exp(ac) (as log1p) below */
    const double near_log = ce_log_impl(-p->t1[t], lp);
    const double far_log = ce_log1p_impl(-p->t2[t], lp);
    p->t3[t] = ac > -CE_LN2 ? near_log : far_log;
}

CE_INLINE void ce_log_probability_pre4(double ac, const ce_pre *p, ptrdiff_t t, int lp)
{
    p->t4[t] = ce_expm1_impl(0.0 - ac, lp);
}

CE_INLINE ce_elem ce_binary_log_probability(double ac, double y, double pw, const ce_pre *p,
                                            ptrdiff_t t)
{
    ce_elem r;
    const double q = pw * y;
    const double m = 1.0 - y;
    const double pos = q == 0.0 ? 0.0 : q * ac;
    const double neg = m == 0.0 ? 0.0 : m * p->t3[t];
    r.loss = -(pos + neg);
    r.grad = (m == 0.0 ? 0.0 : m / p->t4[t]) - q;
    r.hess = 0.0;
    return r;
}

/* Weights for one contiguous run of elements: a weight per element (k = 1: one per row) with
 * one pos_weight, or one weight (the row's) with a pos_weight per element (k > 1). Which of the
 * two is a compile-time argument of ce_binary_run, so the loop has no test on it. */
typedef struct {
    const double *w; /* per element (k = 1) */
    double w1;       /* the row's (k > 1) */
    const double *pw; /* per element (k > 1) */
    double pw1;       /* the one (k = 1) */
} ce_run_weights;

/* The validity of one element: a label in [0, 1]; a prediction in the domain of its kind. */
CE_INLINE int ce_bad_label(double y) { return !((y >= 0.0) & (y <= 1.0)); }
CE_INLINE int ce_bad_pred(int kind, double x)
{
    return kind == CE_PROBABILITY ? (x < 0.0) | (x > 1.0)
                                  : (kind == CE_LOG_PROBABILITY) & (x > 0.0);
}

/* One run of len <= CE_BLOCK elements starting at flat index i0: validate it (which also brings
 * it into L1 for the loop after), then compute and store. Returns the run's weighted loss sum;
 * adds the kept weight and the validation results to *acc. */
CE_INLINE double ce_binary_run(int kind, int want, int f32, int per_row, const ce_binary_args *a,
                               ptrdiff_t i0, ptrdiff_t len, ce_run_weights rw, ce_partial *acc)
{
    double wloss[CE_BLOCK];
    double wkept[CE_BLOCK];
    double pre1[CE_BLOCK], pre2[CE_BLOCK], pre3[CE_BLOCK], pre4[CE_BLOCK];
    const ce_pre pre = {pre1, pre2, pre3, pre4};
    const float *xf = (const float *)a->y_pred + i0, *yf = (const float *)a->y_true + i0;
    const double *xd = (const double *)a->y_pred + i0, *yd = (const double *)a->y_true + i0;
    /* an output that is not asked for is NULL: no pointer arithmetic on it */
    float *gf = a->grad ? (float *)a->grad + i0 : NULL;
    float *hf = a->hess ? (float *)a->hess + i0 : NULL;
    float *lf = a->loss ? (float *)a->loss + i0 : NULL;
    double *gd = a->grad ? (double *)a->grad + i0 : NULL;
    double *hd = a->hess ? (double *)a->hess + i0 : NULL;
    double *ld = a->loss ? (double *)a->loss + i0 : NULL;
    const double s = a->label_smoothing, lo = a->clip_lo, hi = a->clip_hi, gs = a->grad_scale;
    const int omit = a->nan_policy == CE_NAN_OMIT;
    ptrdiff_t bad_label = 0, bad_pred = 0, nan_pred = 0;
    for (ptrdiff_t t = 0; t < len; ++t) {
        const double x = f32 ? (double)xf[t] : xd[t];
        const double y = f32 ? (double)yf[t] : yd[t];
        bad_label += ce_bad_label(y);
        bad_pred += ce_bad_pred(kind, x);
        nan_pred += x != x;
    }
    if (bad_label | bad_pred | nan_pred) {
        /* before anything is written: out may be y_pred */
        for (ptrdiff_t t = 0; t < len; ++t) {
            const double x = f32 ? (double)xf[t] : xd[t];
            const double y = f32 ? (double)yf[t] : yd[t];
            if (acc->bad_label < 0 && ce_bad_label(y)) {
                acc->bad_label = i0 + t;
                acc->bad_label_value = y;
            }
            if (acc->bad_pred < 0 && ce_bad_pred(kind, x)) {
                acc->bad_pred = i0 + t;
                acc->bad_pred_value = x;
            }
            if (acc->nan_pred < 0 && x != x)
                acc->nan_pred = i0 + t;
        }
        acc->n_bad_label += bad_label;
        acc->n_bad_pred += bad_pred;
        acc->n_nan_pred += nan_pred;
    }
    /* the transcendental functions, one loop each over the run */
    if (kind == CE_LOGIT) {
        for (ptrdiff_t t = 0; t < len; ++t)
            ce_logit_pre(f32 ? (double)xf[t] : xd[t], &pre, t, f32);
        for (ptrdiff_t t = 0; t < len; ++t)
            ce_logit_pre2(&pre, t, f32);
    } else if (kind == CE_PROBABILITY) {
        for (ptrdiff_t t = 0; t < len; ++t)
            ce_probability_pre(ce_clip(f32 ? (double)xf[t] : xd[t], lo, hi), &pre, t, f32);
        for (ptrdiff_t t = 0; t < len; ++t)
            ce_probability_pre2(ce_clip(f32 ? (double)xf[t] : xd[t], lo, hi), &pre, t, f32);
    } else {
        for (ptrdiff_t t = 0; t < len; ++t)
            ce_log_probability_pre(ce_clip(f32 ? (double)xf[t] : xd[t], lo, hi), &pre, t, f32);
        for (ptrdiff_t t = 0; t < len; ++t)
            ce_log_probability_pre2(ce_clip(f32 ? (double)xf[t] : xd[t], lo, hi), &pre, t, f32);
        for (ptrdiff_t t = 0; t < len; ++t)
            ce_log_probability_pre3(ce_clip(f32 ? (double)xf[t] : xd[t], lo, hi), &pre, t, f32);
        for (ptrdiff_t t = 0; t < len; ++t)
            ce_log_probability_pre4(ce_clip(f32 ? (double)xf[t] : xd[t], lo, hi), &pre, t, f32);
    }
    for (ptrdiff_t t = 0; t < len; ++t) {
        const double x = f32 ? (double)xf[t] : xd[t];
        const double y0 = f32 ? (double)yf[t] : yd[t];
        const double w = per_row ? rw.w[t] : rw.w1;
        const double pw = per_row ? rw.pw1 : rw.pw[t];
        /* an omitted element has weight 0, and a zero weight removes the element entirely,
         * even where its loss is inf or NaN */
        const double wk = (omit && x != x) ? 0.0 : w;
        const double y = y0 * (1.0 - s) + 0.5 * s;
        ce_elem e;
        if (kind == CE_LOGIT)
            e = ce_binary_logit(x, y, pw, &pre, t, f32);
        else if (kind == CE_PROBABILITY)
            e = ce_binary_probability(ce_clip(x, lo, hi), y, pw, &pre, t);
        else
            e = ce_binary_log_probability(ce_clip(x, lo, hi), y, pw, &pre, t);
        const double l = wk == 0.0 ? 0.0 : wk * e.loss;
        wloss[t] = l;
        wkept[t] = wk;
        if (want & CE_WANT_GRAD) {
            const double c = wk * gs;
            const double g = c == 0.0 ? 0.0 : c * e.grad;
            if (f32)
                gf[t] = (float)g;
            else
                gd[t] = g;
        }
        if (want & CE_WANT_HESS) {
            const double h = wk == 0.0 ? 0.0 : wk * e.hess;
            if (f32)
                hf[t] = (float)h;
            else
                hd[t] = h;
        }
        if (want & CE_WANT_LOSS) {
            if (f32)
                lf[t] = (float)l;
            else
                ld[t] = l;
        }
    }
    {
        const double wsum = ce_sum_block(wkept, len);
        ce_add_compensated(&acc->weight_sum, &acc->weight_comp, wsum);
    }
    return ce_sum_block(wloss, len);
}

/* The first bad label and NaN prediction of a run that has some, and their counts, from the
 * inputs, before the run writes any output. */
#define CE_DEFINE_LOCATE(T, SFX)                                                                   \
    static void ce_locate_##SFX(const T *x, const T *y, ptrdiff_t i0, ptrdiff_t len,               \
                                ce_partial *acc)                                                   \
    {                                                                                              \
        for (ptrdiff_t t = 0; t < len; ++t) {                                                      \
            if (ce_bad_label((double)y[t])) {                                                      \
                acc->n_bad_label += 1;                                                             \
                if (acc->bad_label < 0) {                                                          \
                    acc->bad_label = i0 + t;                                                       \
                    acc->bad_label_value = (double)y[t];                                           \
                }                                                                                  \
            }                                                                                      \
            if (x[t] != x[t]) {                                                                    \
                acc->n_nan_pred += 1;                                                              \
                if (acc->nan_pred < 0)                                                             \
                    acc->nan_pred = i0 + t;                                                        \
            }                                                                                      \
        }                                                                                          \
    }

/* Elements of one run of the plain pass: 1 KiB of each array (256 floats, 128 doubles), so
 * that a run's inputs, outputs and working arrays, and the next run's prefetched inputs and
 * outputs, all fit in a 32 KiB L1 data cache together (measured: 2 KiB runs were 10-20% slower
 * at n = 10^7, the same in cache). */
#define CE_PLAIN_BYTES 1024
#define CE_PLAIN_LEN(T) (CE_PLAIN_BYTES / (ptrdiff_t)sizeof(T))

/* Asks the memory system for the next run's inputs and outputs (next elements from flat index
 * i) while this run computes: its validation loop then finds them in cache, and the pass keeps
 * memory busy while it computes, instead of alternating between the two. */
CE_INLINE void ce_prefetch_next(const ce_binary_args *a, ptrdiff_t i, ptrdiff_t next, size_t size,
                                int part)
{
    const char *x = (const char *)a->y_pred + i * (ptrdiff_t)size;
    const char *y = (const char *)a->y_true + i * (ptrdiff_t)size;
    const ptrdiff_t bytes = next * (ptrdiff_t)size;
    /* in three parts, one before each compute loop, so as not to queue all of it at once */
    for (ptrdiff_t b = part * 64; b < bytes; b += 3 * 64) {
        CE_PREFETCH(x + b, 0);
        CE_PREFETCH(y + b, 0);
        if (a->grad)
            CE_PREFETCH((char *)a->grad + i * (ptrdiff_t)size + b, 1);
        if (a->loss)
            CE_PREFETCH((char *)a->loss + i * (ptrdiff_t)size + b, 1);
        if (a->hess)
            CE_PREFETCH((char *)a->hess + i * (ptrdiff_t)size + b, 1);
    }
}

/* The sum of log1p(e[t]) over the runs of a chunk, e[t] in [0, 1] or NaN, as the log of the
 * product of the 1 + e[t]: one log per chunk instead of one per element. The product is carried
 * as hi 2^k (1 + lo / hi) in sixteen interleaved partial products (vectors, as ce_sum_block's
 * partial sums), each factor as the exact pair d + dl = 1 + e (Fast2Sum) and each product's
 * rounding error kept exactly (a fused multiply-add, or Dekker's product without one), so the
 * product is known to about 2^-100 relative and its log has the accuracy of one log, even when
 * every e is tiny (a sum of tiny losses keeps its relative precision). After each run, every
 * hi is brought back to [1, 2) by an exact power of 2, counted in k. Measured: a tenth of the
 * double pass and a twentieth of the float one (whose per-element float log1p is short). */
typedef struct {
    double hi[16], lo[16], k[16];
} ce_log1p_prod;

CE_INLINE void ce_log1p_prod_init(ce_log1p_prod *p)
{
    for (int j = 0; j < 16; ++j) {
        p->hi[j] = 1.0;
        p->lo[j] = 0.0;
        p->k[j] = 0.0;
    }
}

/* (*hi + *lo) *= (1 + v) for v in [0, 1], with 1 + v as the exact pair d + dl, keeping the
 * rounding error of hi d exactly in lo (ce_fnma is exact there). */
CE_INLINE void ce_mul_pair(double *hi, double *lo, double v)
{
    const double d = 1.0 + v;
    const double dl = (1.0 - d) + v;
    const double h = *hi * d;
    const double t = *hi * dl - ce_fnma(*hi, d, h); /* off the chain of lo */
    *lo = *lo * d + t;
    *hi = h;
}

/* Multiplies a run's 1 + e[t] into the product, then brings every hi back to [1, 2) (hi >= 1,
 * or NaN, which stays NaN): a division by 2^(E - 1023), E its biased exponent, added to k. */
#define CE_DEFINE_LOG1P_PROD_RUN(T, SFX)                                                           \
    CE_INLINE void ce_log1p_prod_run_##SFX(ce_log1p_prod *p, const T *e, ptrdiff_t len)            \
    {                                                                                              \
        ptrdiff_t t = 0;                                                                           \
        int j;                                                                                     \
        for (; t + 16 <= len; t += 16)                                                             \
            for (j = 0; j < 16; ++j)                                                               \
                ce_mul_pair(&p->hi[j], &p->lo[j], (double)e[t + j]);                               \
        for (j = 0; t < len; ++t, ++j)                                                             \
            ce_mul_pair(&p->hi[j], &p->lo[j], (double)e[t]);                                       \
        for (j = 0; j < 16; ++j) {                                                                 \
            const uint64_t eb = ce_bits(p->hi[j]) >> 52;                                           \
            const double scale = ce_from_bits((2046u - eb) << 52);                                 \
            p->hi[j] *= scale;                                                                     \
            p->lo[j] *= scale;                                                                     \
            p->k[j] += ce_from_bits(0x4330000000000000ULL | eb) - (0x1p52 + 1023.0);               \
        }                                                                                          \
    }

CE_DEFINE_LOG1P_PROD_RUN(float, f32)
CE_DEFINE_LOG1P_PROD_RUN(double, f64)

CE_INLINE double ce_log1p_prod_log(const ce_log1p_prod *p)
{
    double hi = p->hi[0], lo = p->lo[0], k = p->k[0];
    for (int j = 1; j < 16; ++j) {
        const double h = hi * p->hi[j];
        lo = (lo * p->hi[j] + hi * p->lo[j]) - ce_fnma(hi, p->hi[j], h);
        hi = h;
        k += p->k[j];
    }
    /* hi < 2^16; every term is >= 0, and k ln 2 rounds once (in k CE_LN2_HI) */
    return k * CE_LN2_HI + (k * CE_LN2_LO + (ce_log_impl(hi, 0) + lo / hi));
}

/* A target's own float32 run (logit_avx512.h), which takes the runs with no far logit, no bad
 * value and no per-element loss (returning 1 and their loss sum in *sum), or none: 0, the
 * portable loops below run. */
#ifdef CE_HAVE_AVX512
#include "logit_avx512.h"
#else
#define CE_PLAIN_RUN_F32(want, scaled, a, i0, len, next, prod, sum) 0
#endif

/* One run of the plain logit pass: the outputs of len <= CE_PLAIN_LEN(T) elements from flat
 * index i0, their loss sum (returned), their count as the kept weight, and the validation
 * counts. Three loops, each with a short dependency chain so that the CPU overlaps many
 * iterations, after one that validates (an OR in an integer as wide as T, so the lanes need no
 * conversion) and finds whether e^-|x| stays normal (then it takes the shorter form): e^-|x|,
 * log1p(e), the rest. A gradient scale other than 1 ("mean") multiplies the gradient before
 * its last rounding (ce_scale_f, ce_scale). A pass that returns no per-element loss multiplies
 * the run's 1 + e into the chunk's product (ce_log1p_prod) instead of taking log1p, and the
 * run's loss sum leaves out those logs. */
#define CE_DEFINE_PLAIN_RUN(T, UT, SFX, FABS, NEAR, SCALE)                                         \
    CE_INLINE double ce_plain_run_##SFX(int want, int scaled, const ce_binary_args *a,             \
                                        ptrdiff_t i0, ptrdiff_t len, ptrdiff_t next,               \
                                        ce_partial *acc, ce_log1p_prod *prod)                      \
    {                                                                                              \
        double wloss[CE_PLAIN_LEN(T)];                                                             \
        T eb[CE_PLAIN_LEN(T)], lb[CE_PLAIN_LEN(T)];                                                \
        const T *x = (const T *)a->y_pred + i0, *y = (const T *)a->y_true + i0;                    \
        T *g = a->grad ? (T *)a->grad + i0 : NULL, *h = a->hess ? (T *)a->hess + i0 : NULL;        \
        T *l = a->loss ? (T *)a->loss + i0 : NULL;                                                 \
        const double gs = a->grad_scale;                                                           \
        const float gs_hi = (float)gs, gs_lo = (float)(gs - (double)gs_hi); /* for float data */   \
        UT bad = 0, far = 0;                                                                       \
        double zsum = 0.0;                                                                         \
        (void)prod, (void)zsum;                                                                    \
        if (sizeof(T) == 4 && !(want & CE_WANT_LOSS) &&                                            \
            CE_PLAIN_RUN_F32(want, scaled, a, i0, len, next, prod, &zsum)) {                       \
            ce_add_compensated(&acc->weight_sum, &acc->weight_comp, (double)len);                  \
            return zsum;                                                                           \
        }                                                                                          \
        (void)gs_hi, (void)gs_lo;                                                                  \
        for (ptrdiff_t t = 0; t < len; ++t) { /* one flag for both (a NaN x is not near) */        \
            const T xv = x[t], yv = y[t];                                                          \
            far |= (UT)!((yv >= 0) & (yv <= 1) & (FABS(xv) <= NEAR));                              \
        }                                                                                          \
        if (far != 0) { /* rarely: then each on its own */                                         \
            far = 0;                                                                               \
            for (ptrdiff_t t = 0; t < len; ++t) {                                                  \
                const T xv = x[t], yv = y[t];                                                      \
                bad |= (UT)!((yv >= 0) & (yv <= 1) & (xv == xv));                                  \
                far |= (UT)!(FABS(xv) <= NEAR);                                                    \
            }                                                                                      \
        }                                                                                          \
        if (bad != 0) /* before this run writes: an output may be y_pred */                        \
            ce_locate_##SFX(x, y, i0, len, acc);                                                   \
        ce_prefetch_next(a, i0 + len, next, sizeof(T), 0);                                         \
        if (far)                                                                                   \
            for (ptrdiff_t t = 0; t < len; ++t)                                                    \
                eb[t] = ce_logit_e_##SFX(x[t], 0);                                                 \
        else                                                                                       \
            for (ptrdiff_t t = 0; t < len; ++t)                                                    \
                eb[t] = ce_logit_e_##SFX(x[t], 1);                                                 \
        ce_prefetch_next(a, i0 + len, next, sizeof(T), 1);                                         \
        if (want & CE_WANT_LOSS)                                                                   \
            for (ptrdiff_t t = 0; t < len; ++t)                                                    \
                lb[t] = ce_logit_l1_##SFX(eb[t]);                                                  \
        else /* only their sum is asked for: into the chunk's product */                           \
            ce_log1p_prod_run_##SFX(prod, eb, len);                                                \
        ce_prefetch_next(a, i0 + len, next, sizeof(T), 2);                                         \
        for (ptrdiff_t t = 0; t < len; ++t) {                                                      \
            /* without per-element losses, -0: x + -0 is x for every x, so no addition is made */ \
            const T l1 = (want & CE_WANT_LOSS) ? lb[t] : (T)-0.0;                                  \
            const ce_logit_elem_##SFX r = ce_logit_combine_##SFX(x[t], y[t], eb[t], l1);           \
            wloss[t] = (double)r.loss;                                                             \
            if (want & CE_WANT_GRAD)                                                               \
                g[t] = scaled ? SCALE(r.grad_hi, r.grad_lo) : r.grad;                              \
            if (want & CE_WANT_HESS)                                                               \
                h[t] = r.hess;                                                                     \
            if (want & CE_WANT_LOSS)                                                               \
                l[t] = r.loss;                                                                     \
        }                                                                                          \
        ce_add_compensated(&acc->weight_sum, &acc->weight_comp, (double)len);                      \
        return ce_sum_block(wloss, len);                                                           \
    }

CE_DEFINE_LOCATE(float, f32)
CE_DEFINE_LOCATE(double, f64)
#define CE_SCALE_F32(hi, lo) ce_scale_f(hi, lo, gs, gs_hi, gs_lo)
#define CE_SCALE_F64(hi, lo) ce_scale(hi, lo, gs)
CE_DEFINE_PLAIN_RUN(float, uint32_t, f32, fabsf, CE_EXP_NEAR_F, CE_SCALE_F32)
CE_DEFINE_PLAIN_RUN(double, uint64_t, f64, fabs, CE_EXP_NEAR, CE_SCALE_F64)

/* Rows [r0, r1) of the plain logit pass, in runs of CE_PLAIN_LEN flat elements. */
CE_INLINE void ce_plain_rows(int want, int f32, const ce_binary_args *a, ptrdiff_t r0,
                             ptrdiff_t r1, ce_partial *out)
{
    const ptrdiff_t end = r1 * a->k;
    const ptrdiff_t block = f32 ? CE_PLAIN_LEN(float) : CE_PLAIN_LEN(double);
    const int scaled = a->grad_scale != 1.0;
    double sum = 0.0, comp = 0.0;
    ce_log1p_prod prod;
    ce_log1p_prod_init(&prod);
    out->weight_sum = out->weight_comp = 0.0;
    out->n_bad_label = out->n_bad_pred = out->n_nan_pred = 0;
    out->bad_label = out->bad_pred = out->nan_pred = -1;
    out->bad_label_value = out->bad_pred_value = 0.0;
    for (ptrdiff_t i = r0 * a->k; i < end; i += block) {
        const ptrdiff_t len = end - i < block ? end - i : block;
        const ptrdiff_t rest = end - i - len, next = rest < block ? rest : block;
        double v;
        if (f32)
            v = scaled ? ce_plain_run_f32(want, 1, a, i, len, next, out, &prod)
                       : ce_plain_run_f32(want, 0, a, i, len, next, out, &prod);
        else
            v = scaled ? ce_plain_run_f64(want, 1, a, i, len, next, out, &prod)
                       : ce_plain_run_f64(want, 0, a, i, len, next, out, &prod);
        ce_add_compensated(&sum, &comp, v);
    }
    if (!(want & CE_WANT_LOSS))
        ce_add_compensated(&sum, &comp, ce_log1p_prod_log(&prod));
    out->loss_sum = sum;
    out->loss_comp = comp;
}

/* Rows [r0, r1) of the pass: every output element of those rows, and their partial result. */
CE_INLINE void ce_binary_rows(int kind, int want, int f32, const ce_binary_args *a, ptrdiff_t r0,
                              ptrdiff_t r1, ce_partial *out)
{
    const ptrdiff_t k = a->k;
    double sum = 0.0, comp = 0.0;
    out->weight_sum = out->weight_comp = 0.0;
    out->n_bad_label = out->n_bad_pred = out->n_nan_pred = 0;
    out->bad_label = out->bad_pred = out->nan_pred = -1;
    out->bad_label_value = out->bad_pred_value = 0.0;
    if (k == 1) {
        const double pw1 = a->pos_weight ? a->pos_weight[0] : 1.0;
        for (ptrdiff_t i = r0; i < r1; i += CE_BLOCK) {
            const ptrdiff_t len = r1 - i < CE_BLOCK ? r1 - i : CE_BLOCK;
            ce_run_weights rw = {a->sample_weight ? a->sample_weight + i : ce_ones, 1.0, NULL, pw1};
            ce_add_compensated(&sum, &comp, ce_binary_run(kind, want, f32, 1, a, i, len, rw, out));
        }
    } else {
        double block_sum = 0.0;
        ptrdiff_t in_block = 0;
        for (ptrdiff_t i = r0; i < r1; ++i) {
            const double w = a->sample_weight ? a->sample_weight[i] : 1.0;
            for (ptrdiff_t j = 0; j < k; j += CE_BLOCK) {
                const ptrdiff_t len = k - j < CE_BLOCK ? k - j : CE_BLOCK;
                ce_run_weights rw = {NULL, w, a->pos_weight ? a->pos_weight + j : ce_ones, 1.0};
                block_sum += ce_binary_run(kind, want, f32, 0, a, i * k + j, len, rw, out);
                in_block += len;
                if (in_block >= CE_BLOCK) {
                    ce_add_compensated(&sum, &comp, block_sum);
                    block_sum = 0.0;
                    in_block = 0;
                }
            }
        }
        ce_add_compensated(&sum, &comp, block_sum);
    }
    out->loss_sum = sum;
    out->loss_comp = comp;
}

/* One exported function per (target, dtype): the compile-time arguments are fixed in each
 * switch arm, so every arm is its own specialised, vectorised loop. */
#define CE_BINARY_ARMS(KIND, F32)                                                                  \
    switch (want) {                                                                                \
    case CE_WANT_GRAD: ce_binary_rows(KIND, CE_WANT_GRAD, F32, a, r0, r1, out); break;             \
    case CE_WANT_LOSS: ce_binary_rows(KIND, CE_WANT_LOSS, F32, a, r0, r1, out); break;             \
    case CE_WANT_GRAD | CE_WANT_LOSS:                                                              \
        ce_binary_rows(KIND, CE_WANT_GRAD | CE_WANT_LOSS, F32, a, r0, r1, out); break;             \
    case CE_WANT_GRAD | CE_WANT_HESS:                                                              \
        ce_binary_rows(KIND, CE_WANT_GRAD | CE_WANT_HESS, F32, a, r0, r1, out); break;             \
    default: ce_binary_rows(KIND, 0, F32, a, r0, r1, out); break;                                  \
    }

/* The plain logit pass, one specialised loop per output set. */
#define CE_PLAIN_ARMS(F32)                                                                         \
    switch (want & ~CE_PLAIN) {                                                                    \
    case CE_WANT_GRAD: ce_plain_rows(CE_WANT_GRAD, F32, a, r0, r1, out); break;                    \
    case CE_WANT_LOSS: ce_plain_rows(CE_WANT_LOSS, F32, a, r0, r1, out); break;                    \
    case CE_WANT_GRAD | CE_WANT_LOSS:                                                              \
        ce_plain_rows(CE_WANT_GRAD | CE_WANT_LOSS, F32, a, r0, r1, out); break;                    \
    case CE_WANT_GRAD | CE_WANT_HESS:                                                              \
        ce_plain_rows(CE_WANT_GRAD | CE_WANT_HESS, F32, a, r0, r1, out); break;                    \
    default: ce_plain_rows(0, F32, a, r0, r1, out); break;                                         \
    }

#define CE_DEFINE_BINARY_DTYPE(SUFFIX, DT, F32)                                                    \
    void ce_binary_rows_##DT##_##SUFFIX(int kind, int want, const ce_binary_args *a,               \
                                        ptrdiff_t r0, ptrdiff_t r1, ce_partial *out);              \
    void ce_binary_rows_##DT##_##SUFFIX(int kind, int want, const ce_binary_args *a,               \
                                        ptrdiff_t r0, ptrdiff_t r1, ce_partial *out)               \
    {                                                                                              \
        if (want & CE_PLAIN) {                                                                     \
            CE_PLAIN_ARMS(F32)                                                                     \
        } else if (kind == CE_LOGIT) {                                                             \
            CE_BINARY_ARMS(CE_LOGIT, F32)                                                          \
        } else if (kind == CE_PROBABILITY) {                                                       \
            CE_BINARY_ARMS(CE_PROBABILITY, F32)                                                    \
        } else {                                                                                   \
            CE_BINARY_ARMS(CE_LOG_PROBABILITY, F32)                                                \
        }                                                                                          \
    }

#define CE_DEFINE_BINARY(SUFFIX)                                                                   \
    CE_DEFINE_BINARY_DTYPE(SUFFIX, f32, 1)                                                         \
    CE_DEFINE_BINARY_DTYPE(SUFFIX, f64, 0)

/* vecmath.h on this target, for the measuring tools and tests. */
#define CE_DEFINE_VECMATH_EVAL(SUFFIX)                                                             \
    void ce_vecmath_eval_##SUFFIX(int func, int f32, const void *x, void *y, ptrdiff_t n);         \
    void ce_vecmath_eval_##SUFFIX(int func, int f32, const void *x, void *y, ptrdiff_t n)          \
    {                                                                                              \
        for (ptrdiff_t i = 0; i < n; ++i) {                                                        \
            if (f32) {                                                                             \
                const float v = ((const float *)x)[i];                                             \
                ((float *)y)[i] = func == 0 ? ce_expf(v) : func == 1 ? ce_expm1f(v)                \
                                : func == 2 ? ce_logf(v) : ce_log1pf(v);                           \
            } else {                                                                               \
                const double v = ((const double *)x)[i];                                           \
                ((double *)y)[i] = func == 0 ? ce_exp(v) : func == 1 ? ce_expm1(v)                 \
                                 : func == 2 ? ce_log(v) : ce_log1p(v);                            \
            }                                                                                      \
        }                                                                                          \
    }

#endif /* CE_BINARY_KERNEL_H */
