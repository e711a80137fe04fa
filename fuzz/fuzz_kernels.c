/* fuzz_kernels.c: a libFuzzer harness over the C API of crossent's kernels (csrc/crossent.h).
 *
 * Each input becomes one call the Python layer (src/crossent/_api.py, _core.pyx, _log_loss.py)
 * could make: binary cross-entropy of every kind (with and without gradient, every reduction),
 * binary_logistic_grad_hess (gradient and hessian), categorical cross-entropy of every kind with
 * labels (and ignore_index) or soft targets, and log_loss's pass, in float32 or float64. Shapes
 * are small (a few thousand elements; up to 36,000 in a rare "big" mode, so that a pass is cut
 * into several chunks), with class counts up to ~4,400 so that the 32-, 512- and 2048-class
 * thresholds of csrc/categorical_kernel.h are crossed. Values are raw float bits from the input
 * (NaN, infinities, subnormals, huge values), a small palette of them (ties), or moderate numbers;
 * once the input is used up, a generator seeded from it continues. The options are the Python
 * layer's: weights finite and >= 0 with finite totals, pos_weight > 0, label smoothing in [0, 1],
 * the clipping bounds its _eps_bounds computes, grad_scale = 1 / total weight for "mean" (a call
 * Python would refuse with a ValueError is skipped), n_threads 1 or 2, and out = y_pred (or, for
 * the hessian, hess_out = logits) as the only aliasing. As Python guarantees, probabilities and
 * log-probabilities are in their domain for the categorical pass (the binary pass gets anything:
 * it validates itself); categorical labels are in [0, C) or ignore_index, except in a "guard"
 * mode that checks the kernel's own guard against bad labels.
 *
 * Every array is malloc'ed at its exact size, so AddressSanitizer catches any read or write out
 * of bounds; UndefinedBehaviorSanitizer runs too. On each SIMD path this CPU runs, the harness
 * checks, and abort()s on a failure:
 *  - every output element is written (outputs start as a signalling-NaN sentinel that no
 *    arithmetic produces) and no input is modified;
 *  - the in-place call (gradient or hessian written into a copy of y_pred) gives bit for bit the
 *    status, loss sum, per-element losses and outputs of the call with separate buffers, with
 *    the other n_threads;
 *  - the validation the kernel reports is exact: the first bad label, out-of-domain prediction
 *    and NaN prediction (index and value); log_loss's counts of bad values, labels and row sums,
 *    and the classes it marks as seen;
 *  - what the semantics say for sure: a zero weight, an ignored row or an omitted NaN gives loss
 *    0 and gradient 0; a NaN prediction under "propagate" gives a NaN loss (a NaN row, in the
 *    categorical pass); valid finite-weight input gives losses that are not NaN and not negative,
 *    and gradients (and hessians >= 0) that are not NaN while the weights times grad_scale stay
 *    finite; a bad categorical label is reported and its row is NaN; an unknown kind returns -1;
 *  - the SIMD paths agree: identical status, weight sums and NaN patterns, and losses and
 *    gradients within a tolerance (1e-12 for float64, 1e-5 for float32, relative to a bound on
 *    the terms of each value) when the input is valid.
 * CROSSENT_CPU=generic (or avx2, avx512) restricts the run to one path; FUZZ_KERNELS_VERBOSE=1
 * prints what each input calls. Build and run: tools/fuzz.sh.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crossent.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP_SMALL 4400  /* elements of a call, normally */
#define CAP_BIG 36000   /* in the big mode: more than CE_CHUNK, so several chunks */
#define MAX_PATHS 8
#define F64_SENTINEL 0x7FF5A5A5A5A5A5A5ull /* signalling NaNs: never the result of arithmetic */
#define F32_SENTINEL 0x7FA5A5A5u

static char path_names[MAX_PATHS][16];
static int n_paths;
static int verbose; /* FUZZ_KERNELS_VERBOSE=1: one line per input, what it calls */

/* ------------------------------------------------------------------------------------------ */
/* Failure reports                                                                             */

static const char *g_what = "";  /* the call being checked, for the report */
static const char *g_path = "";

#define FAIL(...)                                                                              \
    do {                                                                                       \
        fprintf(stderr, "\nfuzz_kernels: CHECK FAILED (%s, path %s, %s:%d): ", g_what, g_path,   \
                __FILE__, __LINE__);                                                           \
        fprintf(stderr, __VA_ARGS__);                                                          \
        fputc('\n', stderr);                                                                   \
        abort();                                                                               \
    } while (0)

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond))                                                                           \
            FAIL(__VA_ARGS__);                                                                 \
    } while (0)

/* ------------------------------------------------------------------------------------------ */
/* Reading the input: bytes, then a generator seeded from the whole input                     */

typedef struct {
    const uint8_t *data;
    size_t size, pos;
    uint64_t state;
} reader;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void reader_init(reader *r, const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    size_t i;
    for (i = 0; i < size; ++i)
        h = (h ^ data[i]) * 1099511628211ull;
    r->data = data;
    r->size = size;
    r->pos = 0;
    r->state = h;
}

static unsigned rd8(reader *r)
{
    if (r->pos < r->size)
        return r->data[r->pos++];
    return (unsigned)(splitmix(&r->state) >> 56);
}

static unsigned rd16(reader *r)
{
    const unsigned lo = rd8(r);
    return lo | (rd8(r) << 8);
}

static uint32_t rd32(reader *r)
{
    const uint32_t lo = rd16(r);
    return lo | ((uint32_t)rd16(r) << 16);
}

static uint64_t rd64(reader *r)
{
    const uint64_t lo = rd32(r);
    return lo | ((uint64_t)rd32(r) << 32);
}

/* ------------------------------------------------------------------------------------------ */
/* Elements of float32 or float64 arrays                                                      */

static size_t esz(int f32) { return f32 ? sizeof(float) : sizeof(double); }

static double getv(const void *p, int f32, ptrdiff_t i)
{
    return f32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static void setv(void *p, int f32, ptrdiff_t i, double v)
{
    if (f32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

static uint64_t getbits(const void *p, int f32, ptrdiff_t i)
{
    if (f32) {
        uint32_t u;
        memcpy(&u, (const char *)p + 4 * i, 4);
        return u;
    } else {
        uint64_t u;
        memcpy(&u, (const char *)p + 8 * i, 8);
        return u;
    }
}

static void setbits(void *p, int f32, ptrdiff_t i, uint64_t bits)
{
    if (f32) {
        const uint32_t u = (uint32_t)bits;
        memcpy((char *)p + 4 * i, &u, 4);
    } else {
        memcpy((char *)p + 8 * i, &bits, 8);
    }
}

static uint64_t tobits(double v, int f32)
{
    if (f32) {
        const float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        return u;
    } else {
        uint64_t u;
        memcpy(&u, &v, 8);
        return u;
    }
}

static double bits_value(uint64_t bits, int f32)
{
    if (f32) {
        const uint32_t u = (uint32_t)bits;
        float f;
        memcpy(&f, &u, 4);
        return (double)f;
    } else {
        double d;
        memcpy(&d, &bits, 8);
        return d;
    }
}

/* Exactly `bytes` bytes (ASan flags any access past them); never NULL, so that NULL keeps
 * meaning "absent" as in the C API, also for an empty array. */
static void *xalloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (p == NULL && bytes == 0)
        p = malloc(1);
    if (p == NULL) {
        fprintf(stderr, "fuzz_kernels: out of memory\n");
        abort();
    }
    return p;
}

static void *xdup(const void *p, size_t bytes)
{
    void *q = xalloc(bytes);
    if (bytes)
        memcpy(q, p, bytes);
    return q;
}

static void *sentinel_array(ptrdiff_t count, int f32)
{
    void *p = xalloc((size_t)count * esz(f32));
    ptrdiff_t i;
    for (i = 0; i < count; ++i)
        setbits(p, f32, i, f32 ? F32_SENTINEL : F64_SENTINEL);
    return p;
}

static void check_written(const void *p, ptrdiff_t count, int f32, const char *name)
{
    const uint64_t s = f32 ? F32_SENTINEL : F64_SENTINEL;
    ptrdiff_t i;
    for (i = 0; i < count; ++i)
        CHECK(getbits(p, f32, i) != s, "%s[%td] was not written", name, i);
}

/* Equal bits, or both NaN. */
static int same(double a, double b)
{
    return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0;
}

static int same_elem(const void *p, const void *q, int f32, ptrdiff_t i)
{
    const double a = getv(p, f32, i), b = getv(q, f32, i);
    return (a != a && b != b) || getbits(p, f32, i) == getbits(q, f32, i);
}

static void check_same_array(const void *p, const void *q, ptrdiff_t count, int f32,
                             const char *name)
{
    ptrdiff_t i;
    for (i = 0; i < count; ++i)
        CHECK(same_elem(p, q, f32, i), "%s[%td]: %.17g in place, %.17g apart", name, i,
              getv(p, f32, i), getv(q, f32, i));
}

/* a and b from two SIMD paths agree: within rtol * scale + atol, where scale bounds the terms
 * the value is made of, and NaN only with NaN. Near overflow (or with no bound) anything goes:
 * where a product of the terms overflows, a path with fused multiply-add may round to a finite
 * value or infinity where another gets infinity or inf - inf. */
static int close_enough(double a, double b, double scale, int f32)
{
    const double rtol = f32 ? 1e-5 : 1e-12, atol = f32 ? 1e-36 : 1e-300;
    const double big = f32 ? (double)FLT_MAX / 4 : DBL_MAX / 4;
    if (!(scale <= big))
        return 1;
    if (a != a || b != b)
        return a != a && b != b;
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= rtol * scale + atol;
}

/* Two losses (sums of terms >= 0) from two paths: NaN only with NaN, else close */
static int close_values(double a, double b, int f32)
{
    if (a != a || b != b)
        return a != a && b != b;
    return close_enough(a, b, fmax(fabs(a), fabs(b)), f32);
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                     */

static const double specials[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, 2.0, INFINITY, -INFINITY, NAN, -NAN, DBL_MAX, -DBL_MAX, DBL_MIN,
    -DBL_MIN, 0x1p-1074, -0x1p-1074, DBL_EPSILON, 1.0 - 0x1p-53, 1.0 + 0x1p-52, 87.0, -87.0,
    87.5, 88.72, -103.9, 708.0, 709.78, -745.13, -746.0, 750.0, 1e300, -1e300, 1e-300, FLT_MAX,
    -FLT_MAX, FLT_MIN, 0x1p-149, -0x1p-149, 18.5, 36.04, -36.04, 0.6931471805599453,
    -0.6931471805599453, 1e-8, 1.0 - 1e-8, 3.0, 100.0, -100.0, 1e10, -1e10, 20.0, -20.0, 0.25,
    0.75, 1e-45, 3.4028235e38, 1e-30, 16.0, -16.0, 0x1p-24, 1.0 - 0x1p-24,
};
#define N_SPECIALS ((int)(sizeof specials / sizeof specials[0]))

/* One value's bits, from specials or a signalling NaN */
static uint64_t special_bits(unsigned idx, int f32)
{
    idx %= (unsigned)N_SPECIALS + 1;
    if (idx == (unsigned)N_SPECIALS)
        return f32 ? 0x7FA00000u : 0x7FF4000000000000ull; /* signalling NaN */
    return tobits(specials[idx], f32);
}

static uint64_t raw_bits(reader *r, int f32) { return f32 ? (uint64_t)rd32(r) : rd64(r); }

typedef struct {
    int mode;        /* 0 mixed, 1 moderate, 2 wide, 3 palette only */
    uint64_t pal[8]; /* element bits */
} vsrc;

static void palette_init(reader *r, vsrc *v, int f32, int mode)
{
    int i;
    v->mode = mode;
    for (i = 0; i < 8; ++i) {
        const unsigned b = rd8(r);
        if (b < 128)
            v->pal[i] = special_bits(b, f32);
        else if (b < 192)
            v->pal[i] = tobits((signed char)rd8(r) * 0.25, f32);
        else
            v->pal[i] = raw_bits(r, f32);
    }
}

static uint64_t gen_bits(reader *r, const vsrc *v, int f32)
{
    unsigned b;
    switch (v->mode) {
    case 1:
        return tobits((signed char)rd8(r) * 0.25, f32);
    case 2:
        return tobits((int16_t)rd16(r) / 64.0, f32);
    case 3:
        return v->pal[rd8(r) & 7];
    default:
        b = rd8(r);
        if (b < 96)
            return v->pal[b & 7];
        if (b < 144)
            return special_bits(rd8(r), f32);
        if (b < 208)
            return raw_bits(r, f32);
        return tobits((signed char)rd8(r) * 0.25, f32);
    }
}

/* v moved into the domain of kind (NaN stays NaN), as the categorical pass needs it */
static double to_domain(double v, int kind)
{
    if (v != v || kind == CE_LOGIT)
        return v;
    v = fabs(v);
    if (kind == CE_PROBABILITY)
        return v > 1.0 ? 1.0 / v : v;
    return -v;
}

static void gen_values(reader *r, const vsrc *v, int f32, void *x, ptrdiff_t count, int kind,
                       int map)
{
    ptrdiff_t i;
    for (i = 0; i < count; ++i) {
        const uint64_t bits = gen_bits(r, v, f32);
        const double val = bits_value(bits, f32);
        if (map && kind != CE_LOGIT && val == val)
            setv(x, f32, i, to_domain(val, kind));
        else
            setbits(x, f32, i, bits);
    }
}

static const double weight_specials[] = {
    0x1p-1074, 1e-300, DBL_MIN, 1e-8, 0.5, 3.0, 1e8, 1e300, DBL_MAX, 1e-20, 7.0, 0.1,
};

/* A weight, finite and >= 0 */
static double gen_weight(reader *r)
{
    const unsigned b = rd8(r);
    double w;
    uint64_t u;
    if (b < 80)
        return 1.0;
    if (b < 112)
        return 0.0;
    if (b < 176)
        return (b - 112) / 16.0;
    if (b < 208)
        return weight_specials[b % (sizeof weight_specials / sizeof weight_specials[0])];
    u = rd64(r);
    memcpy(&w, &u, sizeof w);
    w = fabs(w);
    return isfinite(w) ? w : 1.0;
}

/* Clipping bounds as _api._eps_bounds computes them */
static double inward(double v, int f32, double toward)
{
    float f;
    if (!f32)
        return v;
    f = (float)v;
    if ((double)f != v && ((double)f - v) * (toward - v) < 0)
        f = nextafterf(f, (float)toward);
    return (double)f;
}

static double gen_eps(reader *r, int f32)
{
    const unsigned b = rd8(r);
    if (b < 128)
        return f32 ? (double)FLT_EPSILON : DBL_EPSILON;
    if (b < 160)
        return 0.0;
    if (b < 192)
        return rd16(r) / 65536.0 * 0.5;
    if (b < 224)
        return b & 1 ? 1e-300 : 1e-12;
    return 0.25;
}

static void eps_bounds(double e, int kind, int f32, double *lo, double *hi)
{
    double l, h, mid, top;
    if (kind == CE_PROBABILITY) {
        l = e;
        h = 1.0 - e;
        mid = 0.5;
    } else {
        l = log(e);
        h = log1p(-e);
        mid = -log(2.0);
    }
    if (e == 0.0) {
        *lo = f32 ? (double)(float)l : l;
        *hi = f32 ? (double)(float)h : h;
        return;
    }
    l = inward(l, f32, mid);
    h = inward(h, f32, mid);
    top = kind == CE_PROBABILITY ? 1.0 : 0.0;
    if (h >= top)
        h = f32 ? (double)nextafterf((float)top, (float)mid) : nextafter(top, mid);
    if (kind == CE_PROBABILITY && l <= 0.0)
        l = f32 ? (double)nextafterf(0.0f, 1.0f) : nextafter(0.0, 1.0);
    *lo = l;
    *hi = h;
}

static double gen_smoothing(reader *r)
{
    const unsigned b = rd8(r);
    if (b < 160)
        return 0.0;
    if (b < 192)
        return 1.0;
    if (b < 224)
        return 0.1;
    return rd16(r) / 65535.0;
}

static double clip(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Python's _rescaled: when the total weight of a "mean" is below 2^-900 (1 / total near
 * overflow), the weights times the power of 2 that brings the total into [1/2, 1). Returns
 * 0 when a weight then overflows (Python raises). */
#define TINY_TOTAL 0x1p-900
static int rescale(double *w, ptrdiff_t len, double total)
{
    int e;
    ptrdiff_t i;
    (void)frexp(total, &e);
    for (i = 0; i < len; ++i) {
        w[i] = ldexp(ldexp(w[i], -e / 2), -e - (-e / 2));
        if (!isfinite(w[i]))
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* SIMD paths                                                                                 */

static void select_path(int p)
{
    g_path = path_names[p];
    if (ce_select_path(path_names[p]) != 0)
        FAIL("cannot select path %s", path_names[p]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *forced = getenv("CROSSENT_CPU");
    const char *list = ce_paths_available();
    (void)argc, (void)argv;
    verbose = getenv("FUZZ_KERNELS_VERBOSE") != NULL;
    while (*list && n_paths < MAX_PATHS) {
        size_t len = strcspn(list, ",");
        if (len >= sizeof path_names[0])
            len = sizeof path_names[0] - 1;
        memcpy(path_names[n_paths], list, len);
        path_names[n_paths][len] = '\0';
        if (!forced || !*forced || strcmp(forced, path_names[n_paths]) == 0)
            ++n_paths;
        list += strcspn(list, ",");
        if (*list == ',')
            ++list;
    }
    if (n_paths == 0) {
        fprintf(stderr, "fuzz_kernels: no SIMD path to run (CROSSENT_CPU=%s; available: %s)\n",
                forced ? forced : "", ce_paths_available());
        exit(1);
    }
    fprintf(stderr, "fuzz_kernels: paths");
    {
        int p;
        for (p = 0; p < n_paths; ++p)
            fprintf(stderr, " %s", path_names[p]);
    }
    fputc('\n', stderr);
    return 0;
}

static ptrdiff_t size_sel(reader *r, ptrdiff_t cap)
{
    /* a class count (or row length): small, around the thresholds, or anything up to ~4400 */
    static const ptrdiff_t table[] = {2,    31,   32,   33,   34,   63,   64,   511,
                                      512,  513,  1023, 1024, 1025, 2047, 2048, 2049,
                                      2100, 1,    3,    4096};
    const unsigned b = rd8(r);
    ptrdiff_t c;
    if (b < 112)
        c = 1 + b % 40;
    else if (b < 176)
        c = 1 + (ptrdiff_t)(rd16(r) % 2100);
    else if (b < 240)
        c = table[b % (sizeof table / sizeof table[0])];
    else
        c = 2049 + (ptrdiff_t)(rd16(r) % 2300);
    return c > cap ? cap : c;
}

/* A row count in [0, maxn] from 16 bits: at most 200 (most inputs small and fast) when the top
 * bit is clear (the low bits themselves up to 200), else any count up to maxn. */
static ptrdiff_t pick_n(unsigned v, ptrdiff_t maxn)
{
    const ptrdiff_t low = (ptrdiff_t)(v & 0x7FFF);
    ptrdiff_t n;
    if (maxn <= 0)
        return 0;
    if (v & 0x8000)
        return low % (maxn + 1);
    n = low <= 200 ? low : low % 201;
    return n > maxn ? maxn : n;
}

/* ------------------------------------------------------------------------------------------ */
/* Binary cross-entropy and binary_logistic_grad_hess                                          */

typedef struct {
    int kind, f32, policy, threads;
    ptrdiff_t n, k;
    void *x, *y;
    double *sw, *pw;
    double smooth, lo, hi, gs;
    int want_grad, want_hess, want_loss;
} bin_case;

typedef struct {
    int rc;
    ce_status st;
    void *grad, *hess, *loss; /* one of grad or hess may be the in-place copy of x */
} bin_out;

/* alias: 0 separate outputs, 1 grad written into a copy of x passed as y_pred, 2 the hessian */
static void bin_run(const bin_case *c, int alias, int threads, bin_out *o)
{
    const ptrdiff_t count = c->n * c->k;
    ce_binary_args a;
    void *xa = alias ? xdup(c->x, (size_t)count * esz(c->f32)) : NULL;
    o->grad = c->want_grad ? (alias == 1 ? xa : sentinel_array(count, c->f32)) : NULL;
    o->hess = c->want_hess ? (alias == 2 ? xa : sentinel_array(count, c->f32)) : NULL;
    o->loss = c->want_loss ? sentinel_array(count, c->f32) : NULL;
    a.n = c->n;
    a.k = c->k;
    a.y_pred = alias ? xa : c->x;
    a.y_true = c->y;
    a.sample_weight = c->sw;
    a.pos_weight = c->pw;
    a.label_smoothing = c->smooth;
    a.clip_lo = c->lo;
    a.clip_hi = c->hi;
    a.grad_scale = c->gs;
    a.nan_policy = c->policy;
    a.grad = o->grad;
    a.hess = o->hess;
    a.loss = o->loss;
    a.n_threads = threads;
    memset(&o->st, 0xA5, sizeof o->st);
    o->rc = c->f32 ? ce_binary_f32(c->kind, &a, &o->st) : ce_binary_f64(c->kind, &a, &o->st);
}

static void bin_free(bin_out *o)
{
    free(o->grad);
    free(o->hess);
    free(o->loss);
}

static int label_ok(double y) { return y >= 0.0 && y <= 1.0; }

static int pred_in_domain(int kind, double x)
{
    if (kind == CE_PROBABILITY)
        return !(x < 0.0 || x > 1.0);
    if (kind == CE_LOG_PROBABILITY)
        return !(x > 0.0);
    return 1;
}

static void check_status_same(const ce_status *a, const ce_status *b, int weights)
{
    CHECK(a->bad_label == b->bad_label && a->bad_pred == b->bad_pred &&
              a->nan_pred == b->nan_pred,
          "status indices differ: bad_label %td/%td bad_pred %td/%td nan_pred %td/%td",
          a->bad_label, b->bad_label, a->bad_pred, b->bad_pred, a->nan_pred, b->nan_pred);
    CHECK(same(a->bad_label_value, b->bad_label_value) &&
              same(a->bad_pred_value, b->bad_pred_value),
          "status values differ");
    if (weights)
        CHECK(same(a->weight_sum, b->weight_sum), "weight_sum differs: %.17g vs %.17g",
              a->weight_sum, b->weight_sum);
}

/* The scale of the gradient (and hessian) terms of element i, for comparing paths */
static void bin_scales(const bin_case *c, ptrdiff_t i, double *gscale, double *hscale)
{
    const ptrdiff_t r = i / c->k, j = i % c->k;
    const double w = c->sw ? c->sw[r] : 1.0, pw = c->pw ? c->pw[j] : 1.0;
    const double x = getv(c->x, c->f32, i);
    const double y = getv(c->y, c->f32, i) * (1.0 - c->smooth) + 0.5 * c->smooth;
    const double q = pw * y, m = 1.0 - y, lw = pw == 1.0 ? 1.0 : q + m, wg = fabs(w * c->gs);
    if (c->kind == CE_LOGIT) {
        *gscale = wg * (lw + q + 1.0);
    } else if (c->kind == CE_PROBABILITY) {
        const double pc = clip(x, c->lo, c->hi);
        *gscale = wg * (m / (1.0 - pc) + q / pc);
    } else {
        const double ac = clip(x, c->lo, c->hi);
        *gscale = wg * (m / fabs(expm1(-ac)) + q);
    }
    *hscale = fabs(w) * lw;
}

/* Everything that must hold of one path's result o of case c */
static void bin_check(const bin_case *c, const bin_out *o)
{
    const ptrdiff_t count = c->n * c->k;
    const int f32 = c->f32;
    ptrdiff_t i, first_label = -1, first_pred = -1, first_nan = -1, kept = 0;
    int any_nan_loss = 0, all_valid = 1;
    CHECK(o->rc == 0, "rc %d", o->rc);
    if (o->grad)
        check_written(o->grad, count, f32, "grad");
    if (o->hess)
        check_written(o->hess, count, f32, "hess");
    if (o->loss)
        check_written(o->loss, count, f32, "loss");
    for (i = 0; i < count; ++i) {
        const ptrdiff_t r = i / c->k;
        const double x = getv(c->x, f32, i), y = getv(c->y, f32, i);
        const double w = c->sw ? c->sw[r] : 1.0;
        const int omitted = c->policy == CE_NAN_OMIT && x != x;
        const int zero = omitted || w == 0.0;
        const int valid = label_ok(y) && pred_in_domain(c->kind, x) && x == x;
        if (first_label < 0 && !label_ok(y))
            first_label = i;
        if (first_pred < 0 && !pred_in_domain(c->kind, x))
            first_pred = i;
        if (first_nan < 0 && x != x)
            first_nan = i;
        kept += !omitted;
        if (zero) {
            if (o->loss)
                CHECK(getv(o->loss, f32, i) == 0.0, "loss[%td] = %g with weight 0 or omitted",
                      i, getv(o->loss, f32, i));
            if (o->grad && isfinite(c->gs))
                CHECK(getv(o->grad, f32, i) == 0.0, "grad[%td] = %g with weight 0 or omitted",
                      i, getv(o->grad, f32, i));
            if (o->hess)
                CHECK(getv(o->hess, f32, i) == 0.0, "hess[%td] = %g with weight 0 or omitted",
                      i, getv(o->hess, f32, i));
        } else if (x != x) {
            any_nan_loss = 1;
            if (o->loss)
                CHECK(isnan(getv(o->loss, f32, i)), "loss[%td] = %g for a NaN prediction", i,
                      getv(o->loss, f32, i));
        } else if (valid) {
            if (o->loss) {
                const double l = getv(o->loss, f32, i);
                CHECK(l == l && !(l < 0.0), "loss[%td] = %g for valid x = %g, y = %g", i, l, x,
                      y);
            }
            if (o->grad && isfinite(w * c->gs))
                CHECK(!isnan(getv(o->grad, f32, i)), "grad[%td] NaN for valid x = %g, y = %g",
                      i, x, y);
            if (o->hess) {
                const double h = getv(o->hess, f32, i);
                CHECK(h == h && !(h < 0.0), "hess[%td] = %g for valid x = %g, y = %g", i, h, x,
                      y);
            }
        } else {
            all_valid = 0;
        }
    }
    CHECK(o->st.bad_label == first_label, "bad_label %td, expected %td", o->st.bad_label,
          first_label);
    CHECK(o->st.bad_pred == first_pred, "bad_pred %td, expected %td", o->st.bad_pred,
          first_pred);
    CHECK(o->st.nan_pred == first_nan, "nan_pred %td, expected %td", o->st.nan_pred,
          first_nan);
    if (first_label >= 0)
        CHECK(same(o->st.bad_label_value, getv(c->y, f32, first_label)),
              "bad_label_value %g, y_true[%td] = %g", o->st.bad_label_value, first_label,
              getv(c->y, f32, first_label));
    if (first_pred >= 0)
        CHECK(same(o->st.bad_pred_value, getv(c->x, f32, first_pred)),
              "bad_pred_value %g, y_pred[%td] = %g", o->st.bad_pred_value, first_pred,
              getv(c->x, f32, first_pred));
    if (!c->sw)
        CHECK(o->st.weight_sum == (double)kept, "weight_sum %.17g, expected %td",
              o->st.weight_sum, kept);
    if (any_nan_loss)
        CHECK(isnan(o->st.loss_sum), "loss_sum %g with a NaN prediction kept",
              o->st.loss_sum);
    else if (all_valid)
        CHECK(o->st.loss_sum == o->st.loss_sum && !(o->st.loss_sum < 0.0),
              "loss_sum %g for valid input", o->st.loss_sum);
    if (count == 0)
        CHECK(o->st.loss_sum == 0.0 && o->st.weight_sum == 0.0, "empty pass: sums not 0");
}

/* The in-place result q (with the other n_threads) against the separate-buffer result o */
static void bin_check_alias(const bin_case *c, const bin_out *o, const bin_out *q)
{
    const ptrdiff_t count = c->n * c->k;
    CHECK(q->rc == o->rc, "rc %d in place, %d apart", q->rc, o->rc);
    check_status_same(&q->st, &o->st, 1);
    CHECK(same(q->st.loss_sum, o->st.loss_sum), "loss_sum %.17g in place, %.17g apart",
          q->st.loss_sum, o->st.loss_sum);
    if (o->grad)
        check_same_array(q->grad, o->grad, count, c->f32, "grad");
    if (o->hess)
        check_same_array(q->hess, o->hess, count, c->f32, "hess");
    if (o->loss)
        check_same_array(q->loss, o->loss, count, c->f32, "loss");
}

/* Path p's result q against the first path's o: identical validation, close values */
static void bin_check_paths(const bin_case *c, const bin_out *o, const bin_out *q)
{
    const ptrdiff_t count = c->n * c->k;
    ptrdiff_t i;
    check_status_same(&q->st, &o->st, 1);
    if (o->st.bad_label >= 0 || o->st.bad_pred >= 0)
        return; /* invalid input: the values mean nothing */
    CHECK(close_values(q->st.loss_sum, o->st.loss_sum, c->f32),
          "loss_sum %.17g here, %.17g on %s", q->st.loss_sum, o->st.loss_sum, path_names[0]);
    for (i = 0; i < count; ++i) {
        double gscale, hscale;
        bin_scales(c, i, &gscale, &hscale);
        if (o->loss)
            CHECK(close_values(getv(q->loss, c->f32, i), getv(o->loss, c->f32, i), c->f32),
                  "loss[%td] %.17g here, %.17g on %s", i, getv(q->loss, c->f32, i),
                  getv(o->loss, c->f32, i), path_names[0]);
        if (o->grad)
            CHECK(close_enough(getv(q->grad, c->f32, i), getv(o->grad, c->f32, i), gscale,
                               c->f32),
                  "grad[%td] %.17g here, %.17g on %s (x %.17g y %.17g scale %g)", i,
                  getv(q->grad, c->f32, i), getv(o->grad, c->f32, i), path_names[0],
                  getv(c->x, c->f32, i), getv(c->y, c->f32, i), gscale);
        if (o->hess)
            CHECK(close_enough(getv(q->hess, c->f32, i), getv(o->hess, c->f32, i), hscale,
                               c->f32),
                  "hess[%td] %.17g here, %.17g on %s (x %.17g y %.17g scale %g)", i,
                  getv(q->hess, c->f32, i), getv(o->hess, c->f32, i), path_names[0],
                  getv(c->x, c->f32, i), getv(c->y, c->f32, i), hscale);
    }
}

static double gen_binary_label(reader *r, const vsrc *v, int f32, int mode)
{
    unsigned b;
    if (mode == 0)
        return rd8(r) & 1;
    b = rd8(r);
    if (mode == 1)
        return b < 96 ? 0.0 : b < 192 ? 1.0 : rd8(r) / 255.0;
    if (b < 64)
        return 0.0;
    if (b < 128)
        return 1.0;
    if (b < 192)
        return rd8(r) / 255.0;
    return bits_value(gen_bits(r, v, f32), f32);
}

/* Layout: flags (bit 0 float32, 1-2 value mode, 3 big, 4 predictions into their domain, 5-6
 * label mode), kind (255: unknown), k selector, n (16 bits), options (bit 0 sample_weight, 1-2
 * pos_weight none/scalar/array, 3-4 reduction mean/sum/none/mean, 5 gradient, 6 in place,
 * 7 two threads; grad_hess: bit 3 puts the hessian in place), nan_policy, smoothing, eps;
 * [scalar pos_weight], palette, y_pred, y_true, sample_weight, pos_weight. */
static void fuzz_binary(reader *r, int grad_hess)
{
    static const ptrdiff_t ks[16] = {1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 8, 17, 511, 513, 600};
    const unsigned flags = rd8(r), kind_b = rd8(r), k_b = rd8(r), n_b = rd16(r);
    const unsigned opt = rd8(r), pol_b = rd8(r);
    const int f32 = flags & 1, big = (flags >> 3) & 1, map = (flags >> 4) & 1;
    const int lmode = (flags >> 5) & 3;
    const ptrdiff_t cap = big ? CAP_BIG : CAP_SMALL;
    bin_case c;
    vsrc v;
    int alias, reduction, pw_mode, p;
    ptrdiff_t i, count;
    double pw1 = 1.0, total;
    void *x0, *y0;
    double *sw0 = NULL, *pw0 = NULL;
    bin_out res[MAX_PATHS];

    memset(&c, 0, sizeof c);
    c.f32 = f32;
    c.kind = grad_hess ? CE_LOGIT : (int)(kind_b % 3);
    c.k = ks[k_b % 16];
    c.n = pick_n(n_b, cap / c.k);
    count = c.n * c.k;
    c.policy = grad_hess ? CE_NAN_PROPAGATE : (int)(pol_b % 3);
    if (grad_hess)
        (void)rd8(r); /* the smoothing byte, unused */
    c.smooth = grad_hess ? 0.0 : gen_smoothing(r);
    {
        const double e = gen_eps(r, f32);
        if (c.kind == CE_LOGIT)
            c.lo = c.hi = 0.0;
        else
            eps_bounds(e, c.kind, f32, &c.lo, &c.hi);
    }
    reduction = grad_hess ? 1 : (int)((opt >> 3) & 3) % 3;
    pw_mode = (opt >> 1) & 3;
    if (pw_mode == 1)
        pw1 = gen_weight(r);
    c.threads = (opt >> 7) & 1 ? 2 : 1;
    if (grad_hess) {
        c.want_grad = c.want_hess = 1;
        alias = (opt >> 6) & 1 ? ((opt >> 3) & 1 ? 2 : 1) : 0;
    } else {
        c.want_grad = (opt >> 5) & 1;
        c.want_loss = reduction == 2;
        alias = c.want_grad && ((opt >> 6) & 1);
    }
    g_what = grad_hess ? "binary_logistic_grad_hess" : "binary";

    palette_init(r, &v, f32, (flags >> 1) & 3);
    c.x = xalloc((size_t)count * esz(f32));
    c.y = xalloc((size_t)count * esz(f32));
    gen_values(r, &v, f32, c.x, count, c.kind, map);
    for (i = 0; i < count; ++i)
        setv(c.y, f32, i, gen_binary_label(r, &v, f32, lmode));
    if (opt & 1) {
        c.sw = (double *)xalloc((size_t)c.n * sizeof(double));
        for (i = 0; i < c.n; ++i)
            c.sw[i] = gen_weight(r);
    }
    if (pw_mode == 1 || pw_mode == 2) {
        /* Python: a scalar pos_weight of 1 is no pos_weight; any other is np.full(k, value) */
        if (pw_mode == 1 && pw1 == 1.0) {
            c.pw = NULL;
        } else {
            c.pw = (double *)xalloc((size_t)c.k * sizeof(double));
            for (i = 0; i < c.k; ++i) {
                const double w = pw_mode == 1 ? pw1 : gen_weight(r);
                c.pw[i] = w > 0.0 ? w : 1.0;
            }
            if (pw_mode == 1 && !(pw1 > 0.0))
                goto done; /* Python: pos_weight must be > 0 */
        }
    }

    /* what Python checks before the pass, and the mean's denominator */
    total = (double)count;
    if (c.sw) {
        double s = 0.0;
        for (i = 0; i < c.n; ++i)
            s += c.sw[i];
        if (!isfinite(s * (double)c.k))
            goto done; /* Python: the total weight overflows */
        total = s * (double)c.k;
    }
    if (c.policy == CE_NAN_OMIT && reduction == 0) {
        total = 0.0;
        for (i = 0; i < c.n; ++i) {
            ptrdiff_t j, kept = 0;
            for (j = 0; j < c.k; ++j)
                kept += getv(c.x, f32, i * c.k + j) == getv(c.x, f32, i * c.k + j);
            total += (c.sw ? c.sw[i] : 1.0) * (double)kept;
        }
    }
    if (reduction == 0 && total == 0.0)
        goto done; /* Python: "mean" needs a positive total weight */
    if (reduction == 0 && total < TINY_TOTAL) {
        double s = 0.0;
        if (c.policy == CE_NAN_OMIT || !c.sw || !rescale(c.sw, c.n, total))
            goto done; /* (Python rescales NaN rows apart, which this leaves out) */
        for (i = 0; i < c.n; ++i)
            s += c.sw[i];
        total = s * (double)c.k;
    }
    c.gs = reduction == 0 ? 1.0 / total : 1.0;
    if (count == 0 && rd8(r) < 192)
        goto done; /* Python never calls with no element; now and then, the C API anyway */

    if (verbose)
        fprintf(stderr,
                "%s f%d kind %d n %td k %td policy %d smoothing %g clip [%g, %g] grad_scale %g "
                "sw %d pw %d grad %d hess %d loss %d in place %d threads %d\n",
                g_what, f32 ? 32 : 64, c.kind, c.n, c.k, c.policy, c.smooth, c.lo, c.hi, c.gs,
                c.sw != NULL, c.pw != NULL, c.want_grad, c.want_hess, c.want_loss, alias,
                c.threads);
    x0 = xdup(c.x, (size_t)count * esz(f32));
    y0 = xdup(c.y, (size_t)count * esz(f32));
    if (c.sw)
        sw0 = (double *)xdup(c.sw, (size_t)c.n * sizeof(double));
    if (c.pw)
        pw0 = (double *)xdup(c.pw, (size_t)c.k * sizeof(double));

    if (kind_b == 255) { /* an unknown kind: -1, and a status that says nothing */
        bin_case bad = c;
        bad.kind = 3;
        select_path(0);
        bin_run(&bad, 0, c.threads, &res[0]);
        CHECK(res[0].rc == -1, "unknown kind: rc %d", res[0].rc);
        CHECK(res[0].st.bad_label == -1 && res[0].st.bad_pred == -1 &&
                  res[0].st.nan_pred == -1 && res[0].st.loss_sum == 0.0,
              "unknown kind: status not reset");
        bin_free(&res[0]);
    }

    for (p = 0; p < n_paths; ++p) {
        select_path(p);
        bin_run(&c, 0, c.threads, &res[p]);
        CHECK(memcmp(c.x, x0, (size_t)count * esz(f32)) == 0, "y_pred modified");
        CHECK(memcmp(c.y, y0, (size_t)count * esz(f32)) == 0, "y_true modified");
        CHECK(!c.sw || memcmp(c.sw, sw0, (size_t)c.n * sizeof(double)) == 0,
              "sample_weight modified");
        CHECK(!c.pw || memcmp(c.pw, pw0, (size_t)c.k * sizeof(double)) == 0,
              "pos_weight modified");
        bin_check(&c, &res[p]);
        if (alias) {
            bin_out q;
            bin_run(&c, alias, 3 - c.threads, &q);
            CHECK(memcmp(c.y, y0, (size_t)count * esz(f32)) == 0, "y_true modified in place");
            bin_check_alias(&c, &res[p], &q);
            bin_free(&q);
        } else if (c.threads == 2 || (count & 7) == 0) {
            bin_out q; /* n_threads changes nothing */
            bin_run(&c, 0, 3 - c.threads, &q);
            bin_check_alias(&c, &res[p], &q);
            bin_free(&q);
        }
        if (p > 0)
            bin_check_paths(&c, &res[0], &res[p]);
    }
    for (p = 0; p < n_paths; ++p)
        bin_free(&res[p]);
    free(x0);
    free(y0);
    free(sw0);
    free(pw0);
done:
    free(c.x);
    free(c.y);
    free(c.sw);
    free(c.pw);
}

/* ------------------------------------------------------------------------------------------ */
/* Categorical cross-entropy                                                                   */

typedef struct {
    int kind, f32, policy, threads, has_ignore, guard;
    long long ignore;
    ptrdiff_t n, c;
    void *x, *t;
    long long *labels;
    double *sw, *cw;
    double smooth, lo, hi, gs;
    int want_grad, want_loss;
} cat_case;

typedef struct {
    int rc;
    ce_status st;
    void *grad, *loss;
} cat_out;

static void cat_run(const cat_case *c, int alias, int threads, cat_out *o)
{
    const ptrdiff_t count = c->n * c->c;
    ce_categorical_args a;
    void *xa = alias ? xdup(c->x, (size_t)count * esz(c->f32)) : NULL;
    o->grad = c->want_grad ? (alias ? xa : sentinel_array(count, c->f32)) : NULL;
    o->loss = c->want_loss ? sentinel_array(c->n, c->f32) : NULL;
    memset(&a, 0, sizeof a);
    a.n = c->n;
    a.c = c->c;
    a.y_pred = alias ? xa : c->x;
    a.labels = c->labels;
    a.targets = c->t;
    a.sample_weight = c->sw;
    a.class_weight = c->cw;
    a.ignore_index = c->ignore;
    a.has_ignore = c->has_ignore;
    a.label_smoothing = c->smooth;
    a.clip_lo = c->lo;
    a.clip_hi = c->hi;
    a.grad_scale = c->gs;
    a.nan_policy = c->policy;
    a.grad = o->grad;
    a.loss = o->loss;
    a.n_threads = threads;
    a.sum_class_weight = NAN; /* set by the driver */
    memset(&o->st, 0xA5, sizeof o->st);
    o->rc = c->f32 ? ce_categorical_f32(c->kind, &a, &o->st)
                   : ce_categorical_f64(c->kind, &a, &o->st);
}

static void cat_free(cat_out *o)
{
    free(o->grad);
    free(o->loss);
}

static int cat_ignored(const cat_case *c, ptrdiff_t i)
{
    return c->labels && c->has_ignore && c->labels[i] == c->ignore;
}

static int cat_bad_label(const cat_case *c, ptrdiff_t i)
{
    return c->labels && !cat_ignored(c, i) && (c->labels[i] < 0 || c->labels[i] >= c->c);
}

static int cat_row_nan(const cat_case *c, ptrdiff_t i, ptrdiff_t *at)
{
    ptrdiff_t j;
    for (j = 0; j < c->c; ++j)
        if (isnan(getv(c->x, c->f32, i * c->c + j))) {
            if (at)
                *at = i * c->c + j;
            return 1;
        }
    return 0;
}

/* a_j, the weighted smoothed target of class j in row i, as the kernel defines it */
static double cat_target(const cat_case *c, ptrdiff_t i, ptrdiff_t j)
{
    const double smc = c->smooth / (double)c->c, keep = 1.0 - c->smooth;
    const double cj = c->cw ? c->cw[j] : 1.0;
    if (c->t)
        return cj * (keep * getv(c->t, c->f32, i * c->c + j) + smc);
    return cj * ((j == c->labels[i] ? keep : 0.0) + smc);
}

static double cat_big_a(const cat_case *c, ptrdiff_t i)
{
    double a = 0.0;
    ptrdiff_t j;
    for (j = 0; j < c->c; ++j)
        a += cat_target(c, i, j);
    return a;
}

static void cat_check(const cat_case *c, const cat_out *o)
{
    const ptrdiff_t n = c->n, nc = c->c;
    const int f32 = c->f32;
    ptrdiff_t i, j, first_bad = -1, first_nan = -1;
    int any_nan_row = 0, all_ok = 1;
    CHECK(o->rc == 0, "rc %d", o->rc);
    if (o->grad)
        check_written(o->grad, n * nc, f32, "grad");
    if (o->loss)
        check_written(o->loss, n, f32, "loss");
    for (i = 0; i < n; ++i) {
        const double w = c->sw ? c->sw[i] : 1.0;
        ptrdiff_t at = -1;
        const int row_nan = cat_row_nan(c, i, &at);
        const double l = o->loss ? getv(o->loss, f32, i) : 0.0;
        if (cat_bad_label(c, i)) {
            if (first_bad < 0)
                first_bad = i;
            any_nan_row = 1;
            if (o->loss)
                CHECK(isnan(l), "row %td with bad label %lld: loss %g", i, c->labels[i], l);
            for (j = 0; o->grad && w * c->gs != 0.0 && j < nc; ++j)
                CHECK(isnan(getv(o->grad, f32, i * nc + j)),
                      "row %td with bad label %lld: grad[%td] = %g", i, c->labels[i], j,
                      getv(o->grad, f32, i * nc + j));
            continue;
        }
        if (row_nan && first_nan < 0)
            first_nan = at;
        if (cat_ignored(c, i) || w == 0.0 || (row_nan && c->policy == CE_NAN_OMIT)) {
            if (o->loss)
                CHECK(l == 0.0, "row %td ignored, of weight 0 or omitted: loss %g", i, l);
            for (j = 0; o->grad && j < nc; ++j)
                CHECK(getv(o->grad, f32, i * nc + j) == 0.0,
                      "row %td ignored, of weight 0 or omitted: grad[%td] = %g", i, j,
                      getv(o->grad, f32, i * nc + j));
        } else if (row_nan) {
            any_nan_row = 1;
            if (o->loss)
                CHECK(isnan(l), "row %td with a NaN: loss %g", i, l);
            /* (w times grad_scale may underflow to 0: a zero gradient then, as binary gives) */
            for (j = 0; o->grad && w * c->gs != 0.0 && j < nc; ++j)
                CHECK(isnan(getv(o->grad, f32, i * nc + j)), "row %td with a NaN: grad[%td] = %g",
                      i, j, getv(o->grad, f32, i * nc + j));
        } else {
            const double ga = fabs(w * c->gs) * cat_big_a(c, i);
            if (o->loss)
                CHECK(l == l && !(l < 0.0), "row %td (label %lld): loss %g", i,
                      c->labels ? c->labels[i] : -1, l);
            if (o->grad && ga < 1e300)
                for (j = 0; j < nc; ++j)
                    CHECK(!isnan(getv(o->grad, f32, i * nc + j)),
                          "row %td (label %lld): grad[%td] NaN", i,
                          c->labels ? c->labels[i] : -1, j);
        }
    }
    if (first_bad >= 0)
        all_ok = 0;
    CHECK(o->st.bad_label == first_bad, "bad_label %td, expected %td", o->st.bad_label,
          first_bad);
    if (first_bad >= 0)
        CHECK(o->st.bad_label_value == (double)c->labels[first_bad],
              "bad_label_value %.17g, label %lld", o->st.bad_label_value, c->labels[first_bad]);
    else
        CHECK(o->st.nan_pred == first_nan, "nan_pred %td, expected %td", o->st.nan_pred,
              first_nan);
    if (any_nan_row)
        CHECK(isnan(o->st.loss_sum), "loss_sum %g with a NaN row", o->st.loss_sum);
    else if (all_ok)
        CHECK(o->st.loss_sum == o->st.loss_sum && !(o->st.loss_sum < 0.0), "loss_sum %g",
              o->st.loss_sum);
}

static void cat_check_alias(const cat_case *c, const cat_out *o, const cat_out *q)
{
    CHECK(q->rc == o->rc, "rc %d in place, %d apart", q->rc, o->rc);
    CHECK(q->st.bad_label == o->st.bad_label && q->st.nan_pred == o->st.nan_pred &&
              same(q->st.bad_label_value, o->st.bad_label_value),
          "status differs in place: bad_label %td/%td nan_pred %td/%td", q->st.bad_label,
          o->st.bad_label, q->st.nan_pred, o->st.nan_pred);
    CHECK(same(q->st.loss_sum, o->st.loss_sum), "loss_sum %.17g in place, %.17g apart",
          q->st.loss_sum, o->st.loss_sum);
    if (o->grad)
        check_same_array(q->grad, o->grad, c->n * c->c, c->f32, "grad");
    if (o->loss)
        check_same_array(q->loss, o->loss, c->n, c->f32, "loss");
}

static void cat_check_paths(const cat_case *c, const cat_out *o, const cat_out *q)
{
    const int f32 = c->f32;
    ptrdiff_t i, j;
    CHECK(q->st.bad_label == o->st.bad_label && q->st.nan_pred == o->st.nan_pred,
          "status differs between paths: bad_label %td/%td nan_pred %td/%td", q->st.bad_label,
          o->st.bad_label, q->st.nan_pred, o->st.nan_pred);
    if (o->st.bad_label >= 0)
        return;
    CHECK(close_values(q->st.loss_sum, o->st.loss_sum, c->f32),
          "loss_sum %.17g here, %.17g on %s", q->st.loss_sum, o->st.loss_sum, path_names[0]);
    for (i = 0; i < c->n; ++i) {
        const double gs = fabs((c->sw ? c->sw[i] : 1.0) * c->gs);
        const double row_scale = 3.0 * gs * cat_big_a(c, i);
        if (o->loss)
            CHECK(close_values(getv(q->loss, f32, i), getv(o->loss, f32, i), f32),
                  "loss[%td] %.17g here, %.17g on %s", i, getv(q->loss, f32, i),
                  getv(o->loss, f32, i), path_names[0]);
        for (j = 0; o->grad && j < c->c; ++j) {
            const ptrdiff_t e = i * c->c + j;
            double s;
            if (c->kind == CE_LOGIT)
                s = row_scale;
            else if (c->kind == CE_PROBABILITY)
                s = gs * cat_target(c, i, j) / clip(getv(c->x, f32, e), c->lo, c->hi);
            else
                s = gs * cat_target(c, i, j);
            CHECK(close_enough(getv(q->grad, f32, e), getv(o->grad, f32, e), s, f32),
                  "grad[%td, %td] %.17g here, %.17g on %s", i, j, getv(q->grad, f32, e),
                  getv(o->grad, f32, e), path_names[0]);
        }
    }
}

static long long gen_cat_label(reader *r, const cat_case *c)
{
    const unsigned v = rd16(r), cls = v >> 13, low = v & 0x1FFF;
    const long long nc = (long long)c->c;
    if (cls <= 4 || (cls == 6 && !c->has_ignore) || (cls == 7 && !c->guard))
        return (long long)low % nc;
    if (cls == 5)
        return v & 1 ? nc - 1 : 0;
    if (cls == 6)
        return c->ignore;
    switch (v & 7) { /* guard mode: a label Python would refuse */
    case 0: return -1;
    case 1: return nc;
    case 2: return nc + 1;
    case 3: return LLONG_MIN;
    case 4: return LLONG_MAX;
    case 5: return -2;
    case 6: return 2 * nc;
    default: return nc + (long long)(low >> 3);
    }
}

/* Layout: flags (bit 0 float32, 1-2 value mode, 3 big), kind, class-count selector (maybe 16
 * more bits), n (16 bits), options (bit 0 soft targets, 1 sample_weight, 2 class_weight, 3-4
 * reduction mean/sum/none/mean, 5 gradient, 6 in place, 7 two threads), options2 (bits 0-1
 * nan_policy, 2-4 ignore_index: none/none/none/none/-100/0/C-1/16 bits, 5 guard mode),
 * smoothing, eps, palette, y_pred, labels or soft targets, sample_weight, class_weight. */
static void fuzz_categorical(reader *r)
{
    const unsigned flags = rd8(r), kind_b = rd8(r);
    const int f32 = flags & 1, big = (flags >> 3) & 1;
    const ptrdiff_t cap = big ? CAP_BIG : CAP_SMALL;
    cat_case c;
    vsrc v;
    unsigned opt, opt2, ign;
    int reduction, alias, p;
    ptrdiff_t i, j, count, maxn;
    void *x0, *t0 = NULL;
    long long *l0 = NULL;
    double *sw0 = NULL, *cw0 = NULL;
    cat_out res[MAX_PATHS];

    memset(&c, 0, sizeof c);
    c.f32 = f32;
    c.kind = (int)(kind_b % 3);
    c.c = size_sel(r, cap);
    maxn = cap / c.c;
    c.n = pick_n(rd16(r), maxn);
    count = c.n * c.c;
    opt = rd8(r);
    opt2 = rd8(r);
    c.smooth = gen_smoothing(r);
    {
        const double e = gen_eps(r, f32);
        if (c.kind == CE_LOGIT)
            c.lo = c.hi = 0.0;
        else
            eps_bounds(e, c.kind, f32, &c.lo, &c.hi);
    }
    reduction = (int)((opt >> 3) & 3) % 3;
    c.want_grad = (opt >> 5) & 1;
    c.want_loss = reduction == 2;
    alias = c.want_grad && ((opt >> 6) & 1);
    c.threads = (opt >> 7) & 1 ? 2 : 1;
    c.policy = (int)(opt2 & 3) % 3;
    c.guard = (opt2 >> 5) & 1;
    ign = (opt2 >> 2) & 7;
    if (!(opt & 1) && ign >= 4) { /* ignore_index applies to labels only */
        c.has_ignore = 1;
        c.ignore = ign == 4 ? -100 : ign == 5 ? 0 : ign == 6 ? (long long)c.c - 1
                                                             : (long long)(int16_t)rd16(r);
    }
    g_what = "categorical";

    palette_init(r, &v, f32, (flags >> 1) & 3);
    c.x = xalloc((size_t)count * esz(f32));
    gen_values(r, &v, f32, c.x, count, c.kind, 1); /* Python checks the domain first */
    if (opt & 1) {
        c.t = xalloc((size_t)count * esz(f32));
        for (i = 0; i < count; ++i) {
            const unsigned b = rd8(r); /* finite and >= 0, as Python checks */
            double t;
            if (b < 96)
                t = 0.0;
            else if (b < 160)
                t = 1.0;
            else if (b < 224)
                t = (b - 160) / 16.0;
            else
                t = fabs(bits_value(raw_bits(r, f32), f32));
            setv(c.t, f32, i, isfinite(t) ? t : 0.0);
        }
    } else {
        c.labels = (long long *)xalloc((size_t)c.n * sizeof(long long));
        for (i = 0; i < c.n; ++i)
            c.labels[i] = gen_cat_label(r, &c);
    }
    if (opt & 2) {
        c.sw = (double *)xalloc((size_t)c.n * sizeof(double));
        for (i = 0; i < c.n; ++i)
            c.sw[i] = gen_weight(r);
    }
    if (opt & 4) {
        c.cw = (double *)xalloc((size_t)c.c * sizeof(double));
        for (j = 0; j < c.c; ++j)
            c.cw[j] = gen_weight(r);
    }

    /* Python's checks of the weights, and the mean's denominator (twice if it rescales) */
    for (;;) {
        double s = 0.0, total = 0.0, denom = 0.0;
        for (i = 0; c.sw && i < c.n; ++i)
            s += c.sw[i];
        if (!isfinite(s))
            goto done;
        s = 0.0;
        for (j = 0; c.cw && j < c.c; ++j)
            s += c.cw[j];
        if (!isfinite(s))
            goto done;
        for (i = 0; i < c.n; ++i) {
            const double w = c.sw ? c.sw[i] : 1.0;
            double mass = 0.0, roww = w;
            if (c.t) {
                for (j = 0; j < c.c; ++j)
                    mass += getv(c.t, f32, i * c.c + j) * (c.cw ? c.cw[j] : 1.0);
            } else {
                const long long y = c.labels[i];
                const int in = y >= 0 && y < c.c && !cat_ignored(&c, i);
                mass = c.cw ? c.cw[in ? y : 0] : 1.0;
                if (c.cw)
                    roww *= mass;
                if (cat_ignored(&c, i))
                    roww = 0.0;
            }
            total += w * mass;
            if (c.policy == CE_NAN_OMIT && cat_row_nan(&c, i, NULL))
                roww = 0.0;
            denom += roww;
        }
        if ((c.t || c.cw) && !isfinite(total))
            goto done; /* Python: the total weight of the targets overflows */
        if (!c.sw && !c.cw && !c.has_ignore && c.policy != CE_NAN_OMIT)
            denom = (double)c.n;
        if (reduction == 0 && !(denom > 0.0))
            goto done; /* Python: "mean" needs a positive total weight */
        if (reduction == 0 && denom < TINY_TOTAL) {
            if (c.sw ? !rescale(c.sw, c.n, denom) : !c.cw || !rescale(c.cw, c.c, denom))
                goto done;
            continue;
        }
        c.gs = reduction == 0 ? 1.0 / denom : 1.0;
        break;
    }

    if (verbose) {
        fprintf(stderr,
                "categorical f%d kind %d n %td c %td %s policy %d smoothing %g clip [%g, %g] "
                "grad_scale %g sw %d cw %d ignore %s%lld guard %d grad %d loss %d in place %d "
                "threads %d\n",
                f32 ? 32 : 64, c.kind, c.n, c.c, c.t ? "soft" : "labels", c.policy, c.smooth,
                c.lo, c.hi, c.gs, c.sw != NULL, c.cw != NULL, c.has_ignore ? "" : "none ",
                c.ignore, c.guard, c.want_grad, c.want_loss, alias, c.threads);
        for (i = 0; c.labels && i < c.n && i < 20; ++i)
            fprintf(stderr, "  row %td label %lld\n", i, c.labels[i]);
    }
    x0 = xdup(c.x, (size_t)count * esz(f32));
    if (c.t)
        t0 = xdup(c.t, (size_t)count * esz(f32));
    if (c.labels)
        l0 = (long long *)xdup(c.labels, (size_t)c.n * sizeof(long long));
    if (c.sw)
        sw0 = (double *)xdup(c.sw, (size_t)c.n * sizeof(double));
    if (c.cw)
        cw0 = (double *)xdup(c.cw, (size_t)c.c * sizeof(double));

    if (kind_b == 255) {
        cat_case bad = c;
        bad.kind = 7;
        select_path(0);
        cat_run(&bad, 0, c.threads, &res[0]);
        CHECK(res[0].rc == -1, "unknown kind: rc %d", res[0].rc);
        cat_free(&res[0]);
    }

    for (p = 0; p < n_paths; ++p) {
        select_path(p);
        cat_run(&c, 0, c.threads, &res[p]);
        CHECK(memcmp(c.x, x0, (size_t)count * esz(f32)) == 0, "y_pred modified");
        CHECK(!c.t || memcmp(c.t, t0, (size_t)count * esz(f32)) == 0, "targets modified");
        CHECK(!c.labels || memcmp(c.labels, l0, (size_t)c.n * sizeof(long long)) == 0,
              "labels modified");
        CHECK(!c.sw || memcmp(c.sw, sw0, (size_t)c.n * sizeof(double)) == 0,
              "sample_weight modified");
        CHECK(!c.cw || memcmp(c.cw, cw0, (size_t)c.c * sizeof(double)) == 0,
              "class_weight modified");
        cat_check(&c, &res[p]);
        if (alias || c.threads == 2 || (count & 7) == 0) {
            cat_out q; /* in place (or not), with the other n_threads */
            cat_run(&c, alias, 3 - c.threads, &q);
            CHECK(!c.t || memcmp(c.t, t0, (size_t)count * esz(f32)) == 0,
                  "targets modified in place");
            cat_check_alias(&c, &res[p], &q);
            cat_free(&q);
        }
        if (p > 0)
            cat_check_paths(&c, &res[0], &res[p]);
    }
    for (p = 0; p < n_paths; ++p)
        cat_free(&res[p]);
    free(x0);
    free(t0);
    free(l0);
    free(sw0);
    free(cw0);
done:
    free(c.x);
    free(c.t);
    free(c.labels);
    free(c.sw);
    free(c.cw);
}

/* ------------------------------------------------------------------------------------------ */
/* log_loss's pass                                                                             */

/* Layout: flags (bit 0 float32, 1-2 value mode, 3 big, 4 values into [0, 1], 5 rows summing to
 * one, 6 sample_weight, 7 weights of both signs), class-count selector (< 96: one column),
 * n (16 bits), palette, y_pred, labels, sample_weight. */
static void fuzz_log_loss(reader *r)
{
    const unsigned flags = rd8(r), c_b = rd8(r);
    const int f32 = flags & 1, big = (flags >> 3) & 1, map = (flags >> 4) & 1;
    const int normalise = (flags >> 5) & 1, signs = (flags >> 7) & 1;
    const ptrdiff_t cap = big ? CAP_BIG : CAP_SMALL;
    const double eps = f32 ? (double)FLT_EPSILON : DBL_EPSILON;
    ptrdiff_t n, nc, ncodes, i, j, maxn, count;
    ptrdiff_t bad_pred = 0, bad_label = 0, bad_sum = 0, n_ones = 0;
    void *x, *x0;
    long long *labels;
    double *sw = NULL;
    unsigned char *want_seen;
    int p, bounded = 1, nonneg = 1;
    vsrc v;
    ce_log_loss_args a;
    ce_log_loss_status st[MAX_PATHS];

    g_what = "log_loss";
    nc = c_b < 96 ? 1 : size_sel(r, cap);
    maxn = cap / nc;
    if (maxn > 1000)
        maxn = 1000;
    n = pick_n(rd16(r), maxn - 1) + 1;
    count = n * nc;
    ncodes = nc > 1 ? nc : 2;
    palette_init(r, &v, f32, (flags >> 1) & 3);
    x = xalloc((size_t)count * esz(f32));
    gen_values(r, &v, f32, x, count, CE_PROBABILITY, map);
    if (normalise && nc > 1) {
        for (i = 0; i < n; ++i) {
            double s = 0.0;
            for (j = 0; j < nc; ++j)
                s += getv(x, f32, i * nc + j);
            if (s > 0.0 && isfinite(s))
                for (j = 0; j < nc; ++j)
                    setv(x, f32, i * nc + j, getv(x, f32, i * nc + j) / s);
        }
    }
    labels = (long long *)xalloc((size_t)n * sizeof(long long));
    for (i = 0; i < n; ++i) {
        const unsigned u = rd16(r), cls = u >> 13;
        if (cls <= 5)
            labels[i] = (long long)(u & 0x1FFF) % ncodes;
        else if (cls == 6)
            labels[i] = u & 1 ? -1 : ncodes;
        else
            labels[i] = u & 1 ? LLONG_MIN : LLONG_MAX - (long long)(u & 0xFF);
    }
    if ((flags >> 6) & 1) {
        sw = (double *)xalloc((size_t)n * sizeof(double));
        for (i = 0; i < n; ++i) {
            sw[i] = gen_weight(r);
            if (signs && (rd8(r) & 1))
                sw[i] = -sw[i];
            bounded &= fabs(sw[i]) <= 1e300;
            nonneg &= sw[i] >= 0.0;
        }
    }
    x0 = xdup(x, (size_t)count * esz(f32));
    if (verbose)
        fprintf(stderr, "log_loss f%d n %td c %td sw %d\n", f32 ? 32 : 64, n, nc, sw != NULL);

    /* what the pass must count, and the codes it must mark */
    want_seen = (unsigned char *)xalloc((size_t)ncodes);
    memset(want_seen, 0, (size_t)ncodes);
    for (i = 0; i < n; ++i) {
        double s = 0.0;
        for (j = 0; j < nc; ++j) {
            const double val = getv(x, f32, i * nc + j);
            s += val;
            bad_pred += !(val >= 0.0 && val <= 1.0);
        }
        if (nc == 1) {
            bad_label += labels[i] != 0 && labels[i] != 1;
            n_ones += labels[i] == 1;
        } else {
            bad_sum += !(fabs(s - 1.0) <= 1e-8 + sqrt(eps));
            if (labels[i] >= 0 && labels[i] < nc)
                want_seen[labels[i]] = 1;
            else
                ++bad_label;
        }
    }
    if (nc == 1) {
        want_seen[0] = n_ones < n - bad_label;
        want_seen[1] = n_ones > 0;
    }

    for (p = 0; p < n_paths; ++p) {
        unsigned char *seen = (unsigned char *)xalloc((size_t)ncodes);
        memset(seen, 0, (size_t)ncodes);
        memset(&a, 0, sizeof a);
        a.n = n;
        a.c = nc;
        a.y_pred = x;
        a.labels = labels;
        a.sample_weight = sw;
        a.clip_lo = eps;
        a.clip_hi = 1.0 - eps;
        a.sum_tol = 1e-8 + sqrt(eps);
        a.seen = seen;
        select_path(p);
        memset(&st[p], 0xA5, sizeof st[p]);
        if (f32)
            ce_log_loss_f32(&a, &st[p]);
        else
            ce_log_loss_f64(&a, &st[p]);
        CHECK(memcmp(x, x0, (size_t)count * esz(f32)) == 0, "y_pred modified");
        CHECK(st[p].n_bad_pred == bad_pred, "n_bad_pred %td, expected %td", st[p].n_bad_pred,
              bad_pred);
        CHECK(st[p].n_bad_label == bad_label, "n_bad_label %td, expected %td",
              st[p].n_bad_label, bad_label);
        CHECK(st[p].n_bad_sum == bad_sum, "n_bad_sum %td, expected %td", st[p].n_bad_sum,
              bad_sum);
        for (j = 0; j < ncodes; ++j)
            CHECK(seen[j] == want_seen[j], "seen[%td] = %d, expected %d", j, seen[j],
                  want_seen[j]);
        free(seen);
        if (bad_pred == 0 && bad_label == 0) {
            if (!sw)
                CHECK(st[p].weight_sum == (double)n, "weight_sum %.17g, n = %td",
                      st[p].weight_sum, n);
            if (bounded)
                CHECK(st[p].loss_sum == st[p].loss_sum, "loss_sum NaN for valid input");
            if (p > 0) {
                CHECK(same(st[p].weight_sum, st[0].weight_sum),
                      "weight_sum %.17g here, %.17g on %s", st[p].weight_sum, st[0].weight_sum,
                      path_names[0]);
                if (nonneg)
                    CHECK(close_values(st[p].loss_sum, st[0].loss_sum, f32),
                          "loss_sum %.17g here, %.17g on %s", st[p].loss_sum, st[0].loss_sum,
                          path_names[0]);
            }
        }
    }
    free(want_seen);
    free(x);
    free(x0);
    free(labels);
    free(sw);
}

/* ------------------------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r;
    reader_init(&r, data, size);
    switch (rd8(&r) % 4) {
    case 0:
        fuzz_binary(&r, 0);
        break;
    case 1:
        fuzz_binary(&r, 1);
        break;
    case 2:
        fuzz_categorical(&r);
        break;
    default:
        fuzz_log_loss(&r);
        break;
    }
    return 0;
}
