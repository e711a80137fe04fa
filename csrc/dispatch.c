/* Which SIMD path runs, and the driver that splits a pass into chunks for threads.
 *
 * Design: each target file (binary.c, binary_avx2.c, binary_avx512.c) defines the same kernels
 * with its own suffix; this file, compiled for the baseline, detects once at import what the
 * CPU and the operating system support (cpuid + xgetbv on x86-64) and keeps one table of
 * function pointers. The driver cuts the rows into fixed chunks of CE_CHUNK elements, runs them
 * (in parallel with OpenMP when there are enough), and combines the chunk results in chunk order,
 * so the loss and the gradient are bit-identical for every number of threads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crossent.h"
#include "kernel_common.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define CE_X86 1
#include <cpuid.h>
#endif

const double ce_ones[CE_BLOCK] = {
#define CE_ONE8 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0
#define CE_ONE64 CE_ONE8, CE_ONE8, CE_ONE8, CE_ONE8, CE_ONE8, CE_ONE8, CE_ONE8, CE_ONE8
    CE_ONE64, CE_ONE64, CE_ONE64, CE_ONE64, CE_ONE64, CE_ONE64, CE_ONE64, CE_ONE64,
};
typedef char ce_ones_has_ce_block_entries[(sizeof ce_ones / sizeof ce_ones[0] == CE_BLOCK) ? 1 : -1];

typedef void (*ce_rows_fn)(int kind, int want, const ce_binary_args *a, ptrdiff_t r0,
                           ptrdiff_t r1, ce_partial *out);
typedef void (*ce_vecmath_fn)(int func, int f32, const void *x, void *y, ptrdiff_t n);
typedef void (*ce_cat_fn)(int kind, const ce_categorical_args *a, ptrdiff_t r0, ptrdiff_t r1,
                          ce_partial *out);
typedef void (*ce_ll_fn)(const ce_log_loss_args *a, ce_log_loss_status *st);

#define CE_DECLARE_TARGET(SUFFIX)                                                                \
    void ce_binary_rows_f32_##SUFFIX(int, int, const ce_binary_args *, ptrdiff_t, ptrdiff_t,    \
                                     ce_partial *);                                              \
    void ce_binary_rows_f64_##SUFFIX(int, int, const ce_binary_args *, ptrdiff_t, ptrdiff_t,    \
                                     ce_partial *);                                              \
    void ce_vecmath_eval_##SUFFIX(int, int, const void *, void *, ptrdiff_t);                 \
    void ce_categorical_rows_f32_##SUFFIX(int, const ce_categorical_args *, ptrdiff_t,          \
                                          ptrdiff_t, ce_partial *);                              \
    void ce_categorical_rows_f64_##SUFFIX(int, const ce_categorical_args *, ptrdiff_t,          \
                                          ptrdiff_t, ce_partial *);                              \
    void ce_log_loss_rows_f32_##SUFFIX(const ce_log_loss_args *, ce_log_loss_status *);          \
    void ce_log_loss_rows_f64_##SUFFIX(const ce_log_loss_args *, ce_log_loss_status *);

CE_DECLARE_TARGET(generic)
#ifdef CE_X86
CE_DECLARE_TARGET(avx2)
CE_DECLARE_TARGET(avx512)
#endif

typedef struct {
    const char *name;
    ce_rows_fn f32, f64;
    ce_vecmath_fn vecmath;
    ce_cat_fn cat_f32, cat_f64;
    ce_ll_fn ll_f32, ll_f64;
} ce_target;

static const ce_target ce_targets[] = {
#if defined(__aarch64__) || defined(_M_ARM64)
    {"neon", ce_binary_rows_f32_generic, ce_binary_rows_f64_generic, ce_vecmath_eval_generic,
     ce_categorical_rows_f32_generic, ce_categorical_rows_f64_generic,
     ce_log_loss_rows_f32_generic, ce_log_loss_rows_f64_generic},
#else
    {"generic", ce_binary_rows_f32_generic, ce_binary_rows_f64_generic, ce_vecmath_eval_generic,
     ce_categorical_rows_f32_generic, ce_categorical_rows_f64_generic,
     ce_log_loss_rows_f32_generic, ce_log_loss_rows_f64_generic},
#endif
#ifdef CE_X86
    {"avx2", ce_binary_rows_f32_avx2, ce_binary_rows_f64_avx2, ce_vecmath_eval_avx2,
     ce_categorical_rows_f32_avx2, ce_categorical_rows_f64_avx2,
     ce_log_loss_rows_f32_avx2, ce_log_loss_rows_f64_avx2},
    {"avx512", ce_binary_rows_f32_avx512, ce_binary_rows_f64_avx512, ce_vecmath_eval_avx512,
     ce_categorical_rows_f32_avx512, ce_categorical_rows_f64_avx512,
     ce_log_loss_rows_f32_avx512, ce_log_loss_rows_f64_avx512},
#endif
};
#define CE_N_TARGETS (sizeof ce_targets / sizeof ce_targets[0])

static const ce_target *ce_active = &ce_targets[0];

#ifdef CE_X86
static unsigned long long ce_xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

/* Whether this CPU, and the operating system's saved register state, can run target t. */
static int ce_supported(const ce_target *t)
{
#ifdef CE_X86
    unsigned a, b, c, d;
    unsigned long long xcr0;
    if (strcmp(t->name, "generic") == 0)
        return 1;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    /* OSXSAVE (27), AVX (28), FMA (12) */
    if (!((c >> 27) & 1) || !((c >> 28) & 1) || !((c >> 12) & 1))
        return 0;
    xcr0 = ce_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) /* the OS saves XMM and YMM state */
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    if (strcmp(t->name, "avx2") == 0)
        return (b >> 5) & 1;
    if (strcmp(t->name, "avx512") == 0) {
        /* AVX512F (16), DQ (17), BW (30), VL (31); the OS saves opmask and ZMM state */
        const unsigned need = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
        return (b & need) == need && (xcr0 & 0xe6) == 0xe6;
    }
    return 0;
#else
    (void)t;
    return 1;
#endif
}

int ce_select_path(const char *name)
{
    size_t i;
    if (name == NULL || name[0] == '\0') {
        for (i = 0; i < CE_N_TARGETS; ++i)
            if (ce_supported(&ce_targets[i]))
                ce_active = &ce_targets[i];
        return 0;
    }
    for (i = 0; i < CE_N_TARGETS; ++i) {
        if (strcmp(ce_targets[i].name, name) == 0) {
            if (!ce_supported(&ce_targets[i]))
                return -2;
            ce_active = &ce_targets[i];
            return 0;
        }
    }
    return -1;
}

const char *ce_path(void)
{
    return ce_active->name;
}

const char *ce_paths_available(void)
{
    static char names[64];
    size_t i, used = 0;
    names[0] = '\0';
    for (i = 0; i < CE_N_TARGETS; ++i) {
        size_t len = strlen(ce_targets[i].name);
        if (!ce_supported(&ce_targets[i]) || used + len + 2 > sizeof names)
            continue;
        if (used)
            names[used++] = ',';
        memcpy(names + used, ce_targets[i].name, len + 1);
        used += len;
    }
    return names;
}

void ce_vecmath_eval(int func, int f32, const void *x, void *y, ptrdiff_t n)
{
    ce_active->vecmath(func, f32, x, y, n);
}

int ce_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

const char *ce_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(_MSC_VER)
#define CE_STR2(x) #x
#define CE_STR(x) CE_STR2(x)
    return "msvc " CE_STR(_MSC_VER);
#else
    return "unknown C compiler";
#endif
}

/* Fold chunk p into the running result, keeping the earliest offenders (chunks come in order). */
static void ce_fold(ce_partial *acc, const ce_partial *p)
{
    ce_add_compensated(&acc->loss_sum, &acc->loss_comp, p->loss_sum);
    acc->loss_comp += p->loss_comp;
    ce_add_compensated(&acc->weight_sum, &acc->weight_comp, p->weight_sum);
    acc->weight_comp += p->weight_comp;
    acc->n_bad_label += p->n_bad_label;
    acc->n_bad_pred += p->n_bad_pred;
    acc->n_nan_pred += p->n_nan_pred;
    if (acc->bad_label < 0 && p->bad_label >= 0) {
        acc->bad_label = p->bad_label;
        acc->bad_label_value = p->bad_label_value;
    }
    if (acc->bad_pred < 0 && p->bad_pred >= 0) {
        acc->bad_pred = p->bad_pred;
        acc->bad_pred_value = p->bad_pred_value;
    }
    if (acc->nan_pred < 0 && p->nan_pred >= 0)
        acc->nan_pred = p->nan_pred;
}

/* Whether the byte ranges [p, p + size) and [q, q + size) share a byte (NULL shares none). */
static int ce_overlap(const void *p, const void *q, size_t size)
{
    const uintptr_t a = (uintptr_t)p, b = (uintptr_t)q;
    return p != NULL && q != NULL && a < b + size && b < a + size;
}

/* Whether the pass can take the plain logit loop (binary_kernel.h, CE_PLAIN): nothing to weight,
 * smooth or omit, and every output either apart from the inputs or exactly y_pred (in place: each
 * run reads its elements before it writes them, and locates its errors before it writes). */
static int ce_plain(int kind, int f32, const ce_binary_args *a)
{
    const size_t size = (size_t)a->n * (size_t)a->k * (f32 ? sizeof(float) : sizeof(double));
    const void *outs[3] = {a->grad, a->hess, a->loss};
    int i;
    if (kind != CE_LOGIT || a->sample_weight || a->pos_weight || a->label_smoothing != 0.0 ||
        a->nan_policy == CE_NAN_OMIT)
        return 0;
    for (i = 0; i < 3; ++i)
        if ((outs[i] != a->y_pred && ce_overlap(outs[i], a->y_pred, size)) ||
            ce_overlap(outs[i], a->y_true, size))
            return 0;
    return 1;
}

static int ce_binary(int kind, int f32, const ce_binary_args *a, ce_status *st)
{
    const ce_rows_fn rows = f32 ? ce_active->f32 : ce_active->f64;
    const ptrdiff_t n = a->n, k = a->k;
    int want = (a->grad ? CE_WANT_GRAD : 0) | (a->loss ? CE_WANT_LOSS : 0) |
               (a->hess ? CE_WANT_HESS : 0);
    ce_partial acc = {0.0, 0.0, 0.0, 0.0, 0, 0, 0, -1, -1, -1, 0.0, 0.0};
    ptrdiff_t rows_per_chunk, n_chunks, c;

    st->loss_sum = st->weight_sum = 0.0;
    st->bad_label = st->bad_pred = st->nan_pred = -1;
    st->bad_label_value = st->bad_pred_value = 0.0;
    if (kind != CE_PROBABILITY && kind != CE_LOGIT && kind != CE_LOG_PROBABILITY)
        return -1;
    if ((a->hess && kind != CE_LOGIT) || (a->hess && !a->grad) || (a->hess && a->loss))
        return -1;
    if (n <= 0 || k <= 0)
        return 0;
    if (ce_plain(kind, f32, a))
        want |= CE_PLAIN;
    rows_per_chunk = k >= CE_CHUNK ? 1 : CE_CHUNK / k;
    n_chunks = (n + rows_per_chunk - 1) / rows_per_chunk;
    if (n_chunks == 1) {
        rows(kind, want, a, 0, n, &acc);
    } else {
        ce_partial *parts = (ce_partial *)malloc((size_t)n_chunks * sizeof(ce_partial));
        /* no more threads than chunks: each chunk is one thread's work at most */
        const int threads = (a->n_threads > 1 && n * k >= CE_THREAD_MIN)
                                ? (n_chunks < a->n_threads ? (int)n_chunks : a->n_threads)
                                : 1;
        if (parts == NULL)
            return -2;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
        for (c = 0; c < n_chunks; ++c) {
            const ptrdiff_t r0 = c * rows_per_chunk;
            const ptrdiff_t r1 = n - r0 > rows_per_chunk ? r0 + rows_per_chunk : n;
            rows(kind, want, a, r0, r1, &parts[c]);
        }
        (void)threads;
        for (c = 0; c < n_chunks; ++c)
            ce_fold(&acc, &parts[c]);
        free(parts);
    }
    /* an infinite total leaves a NaN compensation behind; the total alone is then the answer */
    st->loss_sum = isfinite(acc.loss_sum) ? acc.loss_sum + acc.loss_comp : acc.loss_sum;
    st->weight_sum = acc.weight_sum + acc.weight_comp;
    st->bad_label = acc.bad_label;
    st->bad_pred = acc.bad_pred;
    st->nan_pred = acc.nan_pred;
    st->bad_label_value = acc.bad_label_value;
    st->bad_pred_value = acc.bad_pred_value;
    return 0;
}

int ce_binary_f32(int kind, const ce_binary_args *args, ce_status *status)
{
    return ce_binary(kind, 1, args, status);
}

int ce_binary_f64(int kind, const ce_binary_args *args, ce_status *status)
{
    return ce_binary(kind, 0, args, status);
}

/* The categorical driver: chunks of whole rows (about CE_CHUNK elements), as ce_binary. */
static int ce_categorical(int kind, int f32, const ce_categorical_args *args, ce_status *st)
{
    const ce_cat_fn rows = f32 ? ce_active->cat_f32 : ce_active->cat_f64;
    const ptrdiff_t n = args->n, c = args->c;
    ce_partial acc = {0.0, 0.0, 0.0, 0.0, 0, 0, 0, -1, -1, -1, 0.0, 0.0};
    ptrdiff_t rows_per_chunk, n_chunks, i;
    ce_categorical_args local = *args;
    const ce_categorical_args *a = &local;

    st->loss_sum = st->weight_sum = 0.0;
    st->bad_label = st->bad_pred = st->nan_pred = -1;
    st->bad_label_value = st->bad_pred_value = 0.0;
    if (kind != CE_PROBABILITY && kind != CE_LOGIT && kind != CE_LOG_PROBABILITY)
        return -1;
    if (n <= 0 || c <= 0)
        return 0;
    local.sum_class_weight = (double)c;
    if (local.class_weight) { /* once, compensated, for every row's total target weight */
        double sum = 0.0, comp = 0.0;
        for (i = 0; i < c; ++i)
            ce_add_compensated(&sum, &comp, local.class_weight[i]);
        local.sum_class_weight = sum + comp;
    }
    rows_per_chunk = c >= CE_CHUNK ? 1 : CE_CHUNK / c;
    n_chunks = (n + rows_per_chunk - 1) / rows_per_chunk;
    if (n_chunks == 1) {
        rows(kind, a, 0, n, &acc);
    } else {
        ce_partial *parts = (ce_partial *)malloc((size_t)n_chunks * sizeof(ce_partial));
        /* no more threads than chunks: each chunk is one thread's work at most */
        const int threads = (a->n_threads > 1 && n * c >= CE_THREAD_MIN)
                                ? (n_chunks < a->n_threads ? (int)n_chunks : a->n_threads)
                                : 1;
        if (parts == NULL)
            return -2;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
        for (i = 0; i < n_chunks; ++i) {
            const ptrdiff_t r0 = i * rows_per_chunk;
            const ptrdiff_t r1 = n - r0 > rows_per_chunk ? r0 + rows_per_chunk : n;
            rows(kind, a, r0, r1, &parts[i]);
        }
        (void)threads;
        for (i = 0; i < n_chunks; ++i)
            ce_fold(&acc, &parts[i]);
        free(parts);
    }
    st->loss_sum = isfinite(acc.loss_sum) ? acc.loss_sum + acc.loss_comp : acc.loss_sum;
    st->nan_pred = acc.nan_pred;
    st->bad_label = acc.bad_label;
    st->bad_label_value = acc.bad_label_value;
    return 0;
}

int ce_categorical_f32(int kind, const ce_categorical_args *args, ce_status *status)
{
    return ce_categorical(kind, 1, args, status);
}

int ce_categorical_f64(int kind, const ce_categorical_args *args, ce_status *status)
{
    return ce_categorical(kind, 0, args, status);
}


void ce_log_loss_f32(const ce_log_loss_args *args, ce_log_loss_status *status)
{
    ce_active->ll_f32(args, status);
}

void ce_log_loss_f64(const ce_log_loss_args *args, ce_log_loss_status *status)
{
    ce_active->ll_f64(args, status);
}
