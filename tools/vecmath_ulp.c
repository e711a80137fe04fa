/* Measures the max ULP error of csrc/vecmath.h.
 *   float32: every float input, against glibc's double functions (accurate far below a float ULP).
 *   float64: N random inputs per range, against glibc's long double functions (11 more bits).
 * Build and run: tools/vecmath_ulp.sh [stride]  (stride 1 = exhaustive float32).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vecmath.h"

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
    return status;
}
