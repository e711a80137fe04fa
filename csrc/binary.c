/* Binary cross-entropy: loss, gradient and hessian in one pass.
 *
 * Design: the per-element maths lives once, in the static inline functions below, in double
 * precision for both element types (a float32 result is the correctly computed double value
 * rounded once, which keeps it within 1 ULP). Every formula is arranged so that no term
 * cancels for hard labels: the loss is a sum of non-negative terms, and the gradient uses
 * sigma(-x) directly rather than 1 - sigma(x). The pass loop loads, validates, computes and
 * stores; the sums are kept in double in a fixed blocked order (CE_BLOCK), so the reduced loss
 * depends only on the data.
 */
#include <math.h>

#include "crossent.h"

#if defined(__GNUC__) || defined(__clang__)
#define CE_INLINE static inline __attribute__((always_inline))
#else
#define CE_INLINE static inline
#endif

/* ln 2: below -ln 2, log1p(-exp(a)) is the accurate form of log(1 - e^a); above, log(-expm1(a)). */
#define CE_LN2 0.693147180559945309417232121458176568

typedef struct {
    double loss;
    double grad;
    double hess;
} ce_elem;

/* Logit x, label y, positive weight pw; lw = 1 + (pw - 1) y.
 *   loss = (1 - y) x + lw softplus(-x)
 *        = (1 - y) x + lw log1p(e^-x)       for x >= 0
 *        = -pw y x   + lw log1p(e^x)        for x < 0      (both sums of non-negative terms)
 *   grad = lw sigma(x) - pw y = (1 - y) sigma(x) - pw y sigma(-x)
 *   hess = lw sigma(x) sigma(-x) = lw e / (1 + e)^2 with e = e^-|x|
 * A zero coefficient of x is a zero term, so infinite logits give 0 or +inf, never NaN. */
CE_INLINE ce_elem binary_logit(double x, double y, double pw)
{
    ce_elem r;
    const double e = exp(-fabs(x));
    const double d = 1.0 + e;
    const double sig_near = 1.0 / d; /* sigma(|x|) */
    const double sig_far = e / d;    /* sigma(-|x|) */
    const int nonneg = x >= 0.0;
    const double sig_pos = nonneg ? sig_near : sig_far;
    const double sig_neg = nonneg ? sig_far : sig_near;
    const double q = pw * y;
    const double lw = 1.0 + (pw - 1.0) * y;
    const double a = nonneg ? 1.0 - y : -q;
    const double lin = a == 0.0 ? 0.0 : a * x;
    r.loss = lin + lw * log1p(e);
    r.grad = (1.0 - y) * sig_pos - q * sig_neg;
    r.hess = lw * (e / (d * d));
    return r;
}

/* Probability p clipped to pc in [lo, hi]:
 *   loss = -(pw y log pc + (1 - y) log1p(-pc)),  grad = (1 - y) / (1 - pc) - pw y / pc.
 * A term whose label coefficient is zero is dropped, so eps = 0 gives no 0 * inf. */
CE_INLINE ce_elem binary_probability(double p, double y, double pw, double lo, double hi)
{
    ce_elem r;
    const double pc = p < lo ? lo : (p > hi ? hi : p);
    const double q = pw * y;
    const double m = 1.0 - y;
    const double pos = q == 0.0 ? 0.0 : q * log(pc);
    const double neg = m == 0.0 ? 0.0 : m * log1p(-pc);
    r.loss = -(pos + neg);
    r.grad = (m == 0.0 ? 0.0 : m / (1.0 - pc)) - (q == 0.0 ? 0.0 : q / pc);
    r.hess = 0.0;
    return r;
}

/* Log-probability a <= 0 clipped to ac in [lo, hi]; log(1 - e^a) without cancellation:
 *   loss = -(pw y ac + (1 - y) log1mexp(ac)),  grad = (1 - y) / expm1(-ac) - pw y.
 * (0.0 - ac) rather than -ac keeps expm1's argument +0 at ac = -0, so the gradient at
 * a = 0 (only reachable with eps = 0) is +inf, as the limit says. */
CE_INLINE ce_elem binary_log_probability(double a, double y, double pw, double lo, double hi)
{
    ce_elem r;
    const double ac = a < lo ? lo : (a > hi ? hi : a);
    const double q = pw * y;
    const double m = 1.0 - y;
    const double log1mexp = ac > -CE_LN2 ? log(-expm1(ac)) : log1p(-exp(ac));
    const double pos = q == 0.0 ? 0.0 : q * ac;
    const double neg = m == 0.0 ? 0.0 : m * log1mexp;
    r.loss = -(pos + neg);
    r.grad = (m == 0.0 ? 0.0 : m / expm1(0.0 - ac)) - q;
    r.hess = 0.0;
    return r;
}

CE_INLINE double load(const void *p, ptrdiff_t i, int f32)
{
    return f32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

CE_INLINE void store(void *p, ptrdiff_t i, double v, int f32)
{
    if (f32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/* A zero weight removes the element: its weighted value is 0 even where the loss is inf or NaN. */
CE_INLINE double weighted(double w, double v)
{
    return w == 0.0 ? 0.0 : w * v;
}

/* Neumaier's compensated addition of a block's partial sum to a running total. */
CE_INLINE void add_compensated(double *sum, double *comp, double v)
{
    const double t = *sum + v;
    if (fabs(*sum) >= fabs(v))
        *comp += (*sum - t) + v;
    else
        *comp += (v - t) + *sum;
    *sum = t;
}

CE_INLINE int binary_pass(int kind, const ce_binary_args *a, ce_status *st, int f32)
{
    const ptrdiff_t n = a->n, k = a->k;
    const double s = a->label_smoothing;
    const ptrdiff_t rows_per_block = k >= CE_BLOCK ? 1 : CE_BLOCK / (k > 0 ? k : 1);
    double loss_sum = 0.0, loss_comp = 0.0, weight_sum = 0.0, weight_comp = 0.0;
    ptrdiff_t bad_label = -1, bad_pred = -1, nan_pred = -1;
    double bad_label_value = 0.0, bad_pred_value = 0.0;

    st->loss_sum = st->weight_sum = 0.0;
    st->bad_label = st->bad_pred = st->nan_pred = -1;
    st->bad_label_value = st->bad_pred_value = 0.0;
    if (kind != CE_PROBABILITY && kind != CE_LOGIT && kind != CE_LOG_PROBABILITY)
        return -1;
    if (n <= 0 || k <= 0)
        return 0;

    for (ptrdiff_t r0 = 0; r0 < n; r0 += rows_per_block) {
        const ptrdiff_t r1 = n - r0 > rows_per_block ? r0 + rows_per_block : n;
        double block_loss = 0.0, block_weight = 0.0;
        for (ptrdiff_t i = r0; i < r1; ++i) {
            const double w = a->sample_weight ? a->sample_weight[i] : 1.0;
            const double c = w * a->grad_scale;
            double row_loss = 0.0;
            ptrdiff_t kept = k;
            for (ptrdiff_t j = 0; j < k; ++j) {
                const ptrdiff_t idx = i * k + j;
                const double x = load(a->y_pred, idx, f32);
                double y = load(a->y_true, idx, f32);
                const double pw = a->pos_weight ? a->pos_weight[j] : 1.0;
                ce_elem e;
                if (!(y >= 0.0 && y <= 1.0) && bad_label < 0) {
                    bad_label = idx;
                    bad_label_value = y;
                }
                if (x != x) {
                    if (nan_pred < 0)
                        nan_pred = idx;
                    if (a->nan_policy == CE_NAN_OMIT) {
                        if (a->grad)
                            store(a->grad, idx, 0.0, f32);
                        if (a->hess)
                            store(a->hess, idx, 0.0, f32);
                        if (a->loss)
                            store(a->loss, idx, 0.0, f32);
                        --kept;
                        continue;
                    }
                } else if (bad_pred < 0 && ((kind == CE_PROBABILITY && (x < 0.0 || x > 1.0)) ||
                                            (kind == CE_LOG_PROBABILITY && x > 0.0))) {
                    bad_pred = idx;
                    bad_pred_value = x;
                }
                y = y * (1.0 - s) + 0.5 * s;
                if (kind == CE_LOGIT)
                    e = binary_logit(x, y, pw);
                else if (kind == CE_PROBABILITY)
                    e = binary_probability(x, y, pw, a->clip_lo, a->clip_hi);
                else
                    e = binary_log_probability(x, y, pw, a->clip_lo, a->clip_hi);
                row_loss += e.loss;
                if (a->grad)
                    store(a->grad, idx, weighted(c, e.grad), f32);
                if (a->hess)
                    store(a->hess, idx, weighted(w, e.hess), f32);
                if (a->loss)
                    store(a->loss, idx, weighted(w, e.loss), f32);
            }
            block_loss += weighted(w, row_loss);
            block_weight += w * (double)kept;
        }
        add_compensated(&loss_sum, &loss_comp, block_loss);
        add_compensated(&weight_sum, &weight_comp, block_weight);
    }
    /* An infinite total leaves a NaN compensation behind; the total alone is then the answer. */
    st->loss_sum = isfinite(loss_sum) ? loss_sum + loss_comp : loss_sum;
    st->weight_sum = weight_sum + weight_comp;
    st->bad_label = bad_label;
    st->bad_pred = bad_pred;
    st->nan_pred = nan_pred;
    st->bad_label_value = bad_label_value;
    st->bad_pred_value = bad_pred_value;
    return 0;
}

int ce_binary_f32(int kind, const ce_binary_args *args, ce_status *status)
{
    return binary_pass(kind, args, status, 1);
}

int ce_binary_f64(int kind, const ce_binary_args *args, ce_status *status)
{
    return binary_pass(kind, args, status, 0);
}
