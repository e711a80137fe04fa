/* The binary logit loss, gradient and hessian of one element in the element's own precision
 * (float data in float, double data in double), for the unweighted pass (binary_kernel.h) and for
 * the tool that measures it (tools/vecmath_ulp.c).
 *
 * With e = e^-|x| and q = e / (1 + e) = sigma(-|x|):
 *   loss = a x + log1p(e),  a = 1 - y for x >= 0, -y for x < 0 (a zero a is a zero term)
 *   grad = (1 - y) - q for x >= 0, q - y for x < 0     (sigma(x) - y with no 1 - sigma)
 *   hess = q (1 - q)
 * q is q0 = e / d (d = 1 + e rounded) plus a correction c for both roundings, the one of d (dl,
 * exact by Fast2Sum) and the one of the division (its exact remainder), with 1/d = 1 - q to the
 * few bits c needs; the gradient is then one exact sum (Fast2Sum again) plus its small parts, so
 * a hard label's gradient is rounded once, however confident the prediction.
 */
#ifndef CE_LOGIT_H
#define CE_LOGIT_H

#include "vecmath.h"

#define CE_DEFINE_LOGIT_ELEM(T, SFX, EXP_NEG, LOG1P_UNIT, FABS, FNMA)                              \
    typedef struct {                                                                               \
        T loss, grad, hess;                                                                        \
        T grad_hi, grad_lo; /* grad = grad_hi + grad_lo rounded: for a scaled gradient */          \
    } ce_logit_elem_##SFX;                                                                         \
    /* from e = e^-|x| and l1 = log1p(e), which the pass computes in loops of their own */         \
    CE_VM ce_logit_elem_##SFX ce_logit_combine_##SFX(T x, T y, T e, T l1)                          \
    {                                                                                              \
        ce_logit_elem_##SFX r;                                                                     \
        const T d = 1 + e;                                                                         \
        const T dl = (1 - d) + e; /* d + dl = 1 + e */                                             \
        const T q0 = e / d;                                                                        \
        const T c = (FNMA(q0, d, e) - q0 * dl) * (1 - q0); /* q = q0 + c */                        \
        const int nonneg = x >= 0;                                                                 \
        const T m = 1 - y;                                                                         \
        const T a = nonneg ? m : -y;                                                               \
        const T u = nonneg ? -q0 : q0, uc = nonneg ? -c : c;                                       \
        const T g = a + u;                                                                         \
        const T gl = (a - g) + u; /* exact when |a| >= |u|: every hard label */                    \
        const T q = q0 + c;                                                                        \
        r.loss = (a == 0 ? (T)0 : a * x) + l1;                                                     \
        r.grad_hi = g;                                                                             \
        r.grad_lo = gl + uc;                                                                       \
        r.grad = g + r.grad_lo;                                                                    \
        r.hess = q * (1 - q);                                                                      \
        return r;                                                                                  \
    }                                                                                              \
    CE_VM T ce_logit_e_##SFX(T x, int near) { return EXP_NEG(-FABS(x), near); }                    \
    CE_VM T ce_logit_l1_##SFX(T e) { return LOG1P_UNIT(e); }                                       \
    CE_VM ce_logit_elem_##SFX ce_logit_elem_##SFX##_eval(T x, T y)                                 \
    {                                                                                              \
        const T e = EXP_NEG(-FABS(x), 0);                                                          \
        return ce_logit_combine_##SFX(x, y, e, LOG1P_UNIT(e));                                     \
    }

CE_DEFINE_LOGIT_ELEM(float, f32, ce_exp_neg_impl_f, ce_log1p_unit_f, fabsf, ce_fnma_f)
CE_DEFINE_LOGIT_ELEM(double, f64, ce_exp_neg_impl, ce_log1p_unit, fabs, ce_fnma)

#endif /* CE_LOGIT_H */
