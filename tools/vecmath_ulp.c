/* Measures the max ULP error of csrc/vecmath.h.
 *   float32: every float input, against glibc's double functions (accurate far below a float ULP).
 *   float64: N random inputs per range, against glibc's long double functions (11 more bits).
 * Also the narrow-domain functions of the logit pass (e^z for z <= 0, log1p on [0, 1]) and the
 * logit loss, gradient and hessian they make (csrc/logit.h), for labels 0 and 1; built for
 * AVX-512, also the float32 run of the plain pass that target has (csrc/logit_avx512.h): its
 * e^z and its gradient and hessian, wherever it is taken (|x| <= 87).
 * Build and run: tools/vecmath_ulp.sh [stride]  (stride 1 = exhaustive float32).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logit.h"
#include "vecmath.h"
#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__)
#define CE_HAVE_AVX512 1
#include "binary_kernel.h" /* with logit_avx512.h */
const double ce_ones[CE_BLOCK] = {1.0};
#endif

static double ulps_f32(float got, double want)
{
    if (isnan(want))
        return isnan(got) ? 0.0 : INFINITY;
    if (isinf(want) || fabs(want) > FLT_MAX)
        return (float)want == got ? 0.0 : INFINITY;
    int e;
    frexp(want, &e);
    double ulp = ldexp(1.0, (e - 24 < -149) ? -149 : e - 24);
    return fabs((double)got - want) / ulp;
}

static double ulps_f64(double got, long double want)
{
    if (isnan(want))
        return isnan(got) ? 0.0 : INFINITY;
    if (isinf(want) || fabsl(want) > DBL_MAX)
        return (double)want == got ? 0.0 : INFINITY;
    int e;
    frexpl(want, &e);
    long double ulp = ldexpl(1.0L, (e - 53 < -1074) ? -1074 : e - 53);
    return (double)(fabsl((long double)got - want) / ulp);
}

typedef float (*f32fn)(float);
typedef double (*f64fn)(double);
static float v_expf(float x) { return ce_expf(x); }
static float v_expm1f(float x) { return ce_expm1f(x); }
static float v_logf(float x) { return ce_logf(x); }
static float v_log1pf(float x) { return ce_log1pf(x); }
static double v_exp(double x) { return ce_exp(x); }
static double v_expm1(double x) { return ce_expm1(x); }
static double v_log(double x) { return ce_log(x); }
static double v_log1p(double x) { return ce_log1p(x); }

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static float u2f(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The worst errors of one logit element against a reference (loss, grad, hess for y = 0, 1). */
typedef struct {
    double err[6];
    double at[6];
} logit_worst;

static void logit_record(logit_worst *w, const double *err, double x)
{
    for (int j = 0; j < 6; ++j)
        if (err[j] > w->err[j]) {
            w->err[j] = err[j];
            w->at[j] = x;
        }
}

/* from: the first of the six to report (2: no loss) */
static int logit_report(const char *dtype, const logit_worst *w, const char *how, int from)
{
    static const char *what[6] = {"loss y=0", "loss y=1", "grad y=0", "grad y=1", "hess y=0",
                                  "hess y=1"};
    /* the targets: loss and gradient 2 ULP, hessian 4 */
    static const double limit[6] = {2.0, 2.0, 2.0, 2.0, 4.0, 4.0};
    int status = 0;
    for (int j = from; j < 6; ++j) {
        printf("%s logit %-8s max %.3f ULP at %a (%s)\n", dtype, what[j], w->err[j], w->at[j], how);
        if (w->err[j] > limit[j])
            status = 1;
    }
    return status;
}

static int measure_logit(uint64_t stride, long samples)
{
    int status = 0;
    double worst = 0.0, at = 0.0;
    /* e^z over every float z <= 0 (sign bit set), log1p over every float t in [0, 1] */
    for (uint64_t b = 0x80000000ULL; b <= 0xff800000ULL; b += stride) {
        const float z = u2f((uint32_t)b);
        const double err = ulps_f32(ce_exp_neg_f(z), exp((double)z));
        if (err > worst) {
            worst = err;
            at = z;
        }
    }
    printf("float32 exp(z<=0)   max %.3f ULP at %a (stride %llu)\n", worst, at,
           (unsigned long long)stride);
    status |= worst > 1.0;
    /* the short form where the pass uses it must give the same bits */
    for (uint64_t b = 0x80000000ULL; b <= 0xc2ae0000ULL; b += stride) { /* to -87 */
        const float z = u2f((uint32_t)b);
        const float near = ce_exp_neg_impl_f(z, 1), full = ce_exp_neg_impl_f(z, 0);
        if (memcmp(&near, &full, sizeof near) != 0) {
            printf("float32 exp(z<=0) near and full forms differ at %a\n", (double)z);
            status = 1;
            break;
        }
    }
    worst = 0.0;
    for (uint64_t b = 0; b <= 0x3f800000ULL; b += stride) {
        const float t = u2f((uint32_t)b);
        const double err = ulps_f32(ce_log1p_unit_f(t), log1p((double)t));
        if (err > worst) {
            worst = err;
            at = t;
        }
    }
    printf("float32 log1p[0,1]  max %.3f ULP at %a (stride %llu)\n", worst, at,
           (unsigned long long)stride);
    status |= worst > 1.0;
    {
        logit_worst w = {{0}, {0}};
        char how[64];
        for (uint64_t b = 0; b < (1ULL << 32); b += stride) {
            const float x = u2f((uint32_t)b);
            if (isnan(x))
                continue;
            const double e = exp(-fabs((double)x)), l1 = log1p(e), q = e / (1.0 + e);
            const double pos = x >= 0 ? (double)x : 0.0, neg = x < 0 ? -(double)x : 0.0;
            const ce_logit_elem_f32 r0 = ce_logit_elem_f32_eval(x, 0.0f);
            const ce_logit_elem_f32 r1 = ce_logit_elem_f32_eval(x, 1.0f);
            const double err[6] = {
                ulps_f32(r0.loss, pos + l1),
                ulps_f32(r1.loss, neg + l1),
                ulps_f32(r0.grad, x >= 0 ? 1.0 / (1.0 + e) : q),
                ulps_f32(r1.grad, x >= 0 ? -q : -1.0 / (1.0 + e)),
                ulps_f32(r0.hess, q / (1.0 + e)),
                ulps_f32(r1.hess, q / (1.0 + e)),
            };
            logit_record(&w, err, x);
        }
        snprintf(how, sizeof how, "stride %llu", (unsigned long long)stride);
        status |= logit_report("float32", &w, how, 0);
    }
    worst = 0.0;
    for (long i = 0; i < samples; ++i) {
        const double z = -760.0 * (double)(next_u64() >> 11) * 0x1p-53;
        const double err = ulps_f64(ce_exp_neg(z), expl((long double)z));
        if (err > worst) {
            worst = err;
            at = z;
        }
    }
    printf("float64 exp(z<=0)   max %.3f ULP at %a (%ld samples)\n", worst, at, samples);
    status |= worst > 1.0;
    for (long i = 0; i < samples; ++i) {
        const double z = -CE_EXP_NEAR * (double)(next_u64() >> 11) * 0x1p-53;
        const double near = ce_exp_neg_impl(z, 1), full = ce_exp_neg_impl(z, 0);
        if (memcmp(&near, &full, sizeof near) != 0) {
            printf("float64 exp(z<=0) near and full forms differ at %a\n", z);
            status = 1;
            break;
        }
    }
    worst = 0.0;
    for (long i = 0; i < samples; ++i) {
        /* half uniform on [0, 1], half log-uniform down to 2^-1074 */
        const double u = (double)(next_u64() >> 11) * 0x1p-53;
        const double t = (i & 1) ? u : ldexp(1.0 + u, -(int)(next_u64() % 1075));
        const double err = ulps_f64(ce_log1p_unit(t), log1pl((long double)t));
        if (err > worst) {
            worst = err;
            at = t;
        }
    }
    printf("float64 log1p[0,1]  max %.3f ULP at %a (%ld samples)\n", worst, at, samples);
    status |= worst > 1.0;
    {
        logit_worst w = {{0}, {0}};
        char how[64];
        for (long i = 0; i < samples; ++i) {
            /* half uniform on [-40, 40], half over every magnitude to 1024 and both signs */
            const uint64_t r = next_u64();
            const double u = (double)(r >> 11) * 0x1p-53;
            const double mag = (i & 1) ? 40.0 * u : ldexp(1.0 + u, (int)(r % 60) - 50);
            const double x = ((r >> 8) & 1) ? -mag : mag;
            const long double e = expl(-fabsl((long double)x)), l1 = log1pl(e);
            const long double q = e / (1.0L + e);
            const long double pos = x >= 0 ? x : 0.0L, neg = x < 0 ? -(long double)x : 0.0L;
            const ce_logit_elem_f64 r0 = ce_logit_elem_f64_eval(x, 0.0);
            const ce_logit_elem_f64 r1 = ce_logit_elem_f64_eval(x, 1.0);
            const double err[6] = {
                ulps_f64(r0.loss, pos + l1),
                ulps_f64(r1.loss, neg + l1),
                ulps_f64(r0.grad, x >= 0 ? 1.0L / (1.0L + e) : q),
                ulps_f64(r1.grad, x >= 0 ? -q : -1.0L / (1.0L + e)),
                ulps_f64(r0.hess, q / (1.0L + e)),
                ulps_f64(r1.hess, q / (1.0L + e)),
            };
            logit_record(&w, err, x);
        }
        snprintf(how, sizeof how, "%ld samples", samples);
        status |= logit_report("float64", &w, how, 0);
    }
    return status;
}

#ifdef CE_HAVE_AVX512
/* The AVX-512 run (logit_avx512.h), sixteen inputs at a time: e^z over every float z in
 * [-87, 0]; the gradient and hessian over every float x in [-87, 87], labels 0 and 1 (its loss
 * is only ever summed: tests/test_plain.py checks the sums). */
static int measure_logit_zmm(uint64_t stride)
{
    const __m512 th = _mm512_loadu_ps(ce_exp2_16_hi), tl = _mm512_loadu_ps(ce_exp2_16_lo);
    const __m512 sign = _mm512_set1_ps(-0.0f), zero = _mm512_setzero_ps();
    const uint64_t last = 0xc2ae0000ULL; /* -87 */
    float in[16], out[16], g0[16], g1[16], h0[16], h1[16], y0[16] = {0}, y1[16];
    double worst = 0.0, at = 0.0;
    logit_worst w = {{0}, {0}};
    char how[64];
    int status = 0;
    for (int j = 0; j < 16; ++j)
        y1[j] = 1.0f;
    for (uint64_t b = 0x80000000ULL; b <= last; b += 16 * stride) {
        for (int j = 0; j < 16; ++j) {
            const uint64_t bj = b + (uint64_t)j * stride;
            in[j] = u2f((uint32_t)(bj <= last ? bj : last));
        }
        _mm512_storeu_ps(out, ce_exp_neg_zmm(_mm512_loadu_ps(in), th, tl));
        for (int j = 0; j < 16; ++j) {
            const double err = ulps_f32(out[j], exp((double)in[j]));
            if (err > worst) {
                worst = err;
                at = in[j];
            }
        }
    }
    printf("float32 exp(z<=0)   max %.3f ULP at %a (avx512 run, stride %llu)\n", worst, at,
           (unsigned long long)stride);
    status |= worst > 1.0;
    for (uint64_t b = 0x80000000ULL; b <= last; b += 16 * stride) {
        /* x = +-|z|: the lanes alternate in sign */
        for (int j = 0; j < 16; ++j) {
            const uint64_t bj = b + (uint64_t)j * stride;
            in[j] = u2f((uint32_t)(bj <= last ? bj : last));
            in[j] = (j & 1) ? in[j] : -in[j];
        }
        ce_plain_acc_zmm acc = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_set1_pd(1.0),
                                _mm512_setzero_pd()};
        _mm512_storeu_ps(out, ce_exp_neg_zmm(_mm512_or_ps(_mm512_loadu_ps(in), sign), th, tl));
        ce_plain_elems_zmm(CE_WANT_GRAD | CE_WANT_HESS, 0, zero, zero, in, y0, out, g0, h0,
                           0xffff, &acc);
        ce_plain_elems_zmm(CE_WANT_GRAD | CE_WANT_HESS, 0, zero, zero, in, y1, out, g1, h1,
                           0xffff, &acc);
        for (int j = 0; j < 16; ++j) {
            const double x = in[j], e = exp(-fabs(x)), q = e / (1.0 + e);
            const double err[6] = {
                0.0,
                0.0,
                ulps_f32(g0[j], x >= 0 ? 1.0 / (1.0 + e) : q),
                ulps_f32(g1[j], x >= 0 ? -q : -1.0 / (1.0 + e)),
                ulps_f32(h0[j], q / (1.0 + e)),
                ulps_f32(h1[j], q / (1.0 + e)),
            };
            logit_record(&w, err, x);
        }
    }
    snprintf(how, sizeof how, "avx512 run, stride %llu", (unsigned long long)stride);
    status |= logit_report("float32", &w, how, 2);
    return status;
}
#endif

int main(int argc, char **argv)
{
    const uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    const long samples = argc > 2 ? atol(argv[2]) : 2000000;
    const char *names[4] = {"exp", "expm1", "log", "log1p"};
    f32fn f32[4] = {v_expf, v_expm1f, v_logf, v_log1pf};
    double (*r32[4])(double) = {exp, expm1, log, log1p};
    f64fn f64[4] = {v_exp, v_expm1, v_log, v_log1p};
    long double (*r64[4])(long double) = {expl, expm1l, logl, log1pl};
    int status = 0;
    for (int f = 0; f < 4; ++f) {
        double worst = 0.0;
        float at = 0.0f;
        for (uint64_t b = 0; b < (1ULL << 32); b += stride) {
            uint32_t u = (uint32_t)b;
            float x;
            memcpy(&x, &u, sizeof x);
            double err = ulps_f32(f32[f](x), r32[f]((double)x));
            if (err > worst) {
                worst = err;
                at = x;
            }
        }
        printf("float32 %-6s max %.3f ULP at %a (stride %llu)\n", names[f], worst, (double)at,
               (unsigned long long)stride);
        if (worst > 1.0)
            status = 1;
    }
    for (int f = 0; f < 4; ++f) {
        double worst = 0.0, at = 0.0;
        for (long i = 0; i < samples; ++i) {
            /* half uniform on the useful range, half uniform over all bit patterns */
            uint64_t r = next_u64();
            double x;
            if (i & 1) {
                memcpy(&x, &r, sizeof x);
            } else {
                double unit = (double)(r >> 11) * 0x1p-53;
                x = (f < 2) ? -750.0 + 1465.0 * unit : (f == 2 ? exp(-700.0 + 1400.0 * unit)
                                                                : expm1(-40.0 + 80.0 * unit));
            }
            double err = ulps_f64(f64[f](x), r64[f]((long double)x));
            if (err > worst) {
                worst = err;
                at = x;
            }
        }
        printf("float64 %-6s max %.3f ULP at %a (%ld samples)\n", names[f], worst, at, samples);
        if (worst > 2.0)
            status = 1;
    }
    status |= measure_logit(stride, samples);
#ifdef CE_HAVE_AVX512
    status |= measure_logit_zmm(stride);
#endif
    return status;
}
