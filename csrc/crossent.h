/* crossent C API: plain C99, no Python objects, only pointers and lengths.
 *
 * Design: Python validates and normalises every argument once (dtype, contiguity, shapes,
 * option values) and then calls exactly one function here, which makes one pass over the data.
 * That pass computes the loss, its gradient (and the hessian when asked), the weighted sums in
 * double, and reports the first bad label / out-of-domain prediction / NaN prediction, so that
 * validating the data costs no pass of its own.
 */
#ifndef CROSSENT_H
#define CROSSENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What y_pred holds. */
enum ce_kind {
    CE_PROBABILITY = 0,
    CE_LOGIT = 1,
    CE_LOG_PROBABILITY = 2
};

/* What a NaN prediction does. */
enum ce_nan_policy {
    CE_NAN_PROPAGATE = 0, /* IEEE: the loss becomes NaN */
    CE_NAN_RAISE = 1,     /* reported in ce_status.nan_pred; the caller raises */
    CE_NAN_OMIT = 2       /* no loss, no weight, zero gradient */
};

/* Elements of one vectorised run, summed in a fixed order before joining a compensated total;
 * its working buffers (a few arrays of CE_BLOCK doubles) stay in a 32 KiB L1 cache. */
#define CE_BLOCK 512
/* Elements of one unit of work for a thread: fixed, so the sum order does not depend on threads. */
#define CE_CHUNK 32768
/* Below this many elements a pass never starts threads: it would spend more starting them. */
#define CE_THREAD_MIN 131072

/* One binary cross-entropy pass over an (n, k) C-contiguous array.
 * y_pred, y_true, grad, hess and loss all have the element type of the function called
 * (float for *_f32, double for *_f64); the weights are always double. */
typedef struct {
    ptrdiff_t n;                 /* rows */
    ptrdiff_t k;                 /* columns (1 for a 1-D input) */
    const void *y_pred;          /* (n, k) */
    const void *y_true;          /* (n, k), values in [0, 1] */
    const double *sample_weight; /* (n,) finite >= 0, or NULL for all ones */
    const double *pos_weight;    /* (k,) finite > 0, or NULL for all ones */
    double label_smoothing;      /* y <- y (1 - s) + s / 2 */
    double clip_lo;              /* probability / log-probability clipping bounds */
    double clip_hi;
    double grad_scale;           /* multiplies every gradient (1 / total weight for "mean") */
    int nan_policy;              /* enum ce_nan_policy */
    void *grad;                  /* (n, k) output or NULL */
    void *hess;                  /* (n, k) output or NULL; CE_LOGIT only */
    void *loss;                  /* (n, k) per-element weighted loss output, or NULL */
    int n_threads;               /* >= 1; the result does not depend on it */
} ce_binary_args;

typedef struct {
    double loss_sum;     /* sum of w * loss over the elements not omitted */
    double weight_sum;   /* sum of w over the elements not omitted */
    ptrdiff_t bad_label; /* first flat index of a label outside [0, 1] or NaN, else -1 */
    ptrdiff_t bad_pred;  /* first flat index of a prediction outside its domain, else -1 */
    ptrdiff_t nan_pred;  /* first flat index of a NaN prediction, else -1 */
    double bad_label_value; /* the values at bad_label and bad_pred, read before any output */
    double bad_pred_value;  /* is written (out may be y_pred) */
} ce_status;

/* Return 0, or -1 when kind is unknown. Invalid data is reported in *status, never by a crash:
 * the pass always completes and writes every output element. */
int ce_binary_f32(int kind, const ce_binary_args *args, ce_status *status);
int ce_binary_f64(int kind, const ce_binary_args *args, ce_status *status);

/* One categorical cross-entropy pass over the rows of an (n, c) C-contiguous array. y_pred,
 * targets, grad and loss have the element type of the function called; weights are double.
 * Per row, with the target vector t (one-hot of the label, or the soft row) smoothed to
 * (1 - s) t + s / c and a = class_weight * t: loss = sum_j a_j (-log p_j), and the gradient is
 * A p - a (logit; A = sum_j a_j), -a / p (probability) or -a (log-probability), each times the
 * row's sample weight and grad_scale. Inputs are validated by the caller, except NaNs. */
typedef struct {
    ptrdiff_t n;                 /* rows */
    ptrdiff_t c;                 /* classes (columns), >= 1 */
    const void *y_pred;          /* (n, c) */
    const long long *labels;     /* (n,) in [0, c) or ignore_index, or NULL */
    const void *targets;         /* (n, c) soft targets >= 0 when labels is NULL */
    const double *sample_weight; /* (n,) finite >= 0, or NULL for all ones */
    const double *class_weight;  /* (c,) finite >= 0, or NULL for all ones */
    long long ignore_index;      /* rows with this label contribute nothing */
    int has_ignore;              /* whether ignore_index applies */
    double label_smoothing;
    double clip_lo;              /* probability / log-probability clipping bounds */
    double clip_hi;
    double grad_scale;           /* multiplies every gradient (1 / total weight for "mean") */
    int nan_policy;              /* enum ce_nan_policy: a row with a NaN is NaN, or left out */
    void *grad;                  /* (n, c) output or NULL */
    void *loss;                  /* (n,) per-row weighted loss output, or NULL */
    int n_threads;
    double sum_class_weight;     /* set by the driver: the sum of class_weight (or c) */
} ce_categorical_args;

/* Returns 0, or -1 for an unknown kind, -2 when out of memory. status->loss_sum is the sum
 * of the weighted row losses, status->nan_pred the first flat index of a NaN in y_pred (or
 * -1); the other fields of status are unused. */
int ce_categorical_f32(int kind, const ce_categorical_args *args, ce_status *status);
int ce_categorical_f64(int kind, const ce_categorical_args *args, ce_status *status);

/* log_loss's pass over an (n, c) C-contiguous array of probabilities (c = 1: the probability
 * of class 1 of two) and integer class codes. Serial; the sums are compensated and in a fixed
 * order. When every value is in [0, 1] and every code in [0, max(c, 2)), loss_sum is the sum of
 * w_i * -log(clip(p[i, y_i])) (for c = 1, -log of the clipped p or 1 - p), weight_sum the sum of
 * the weights (n without them), n_bad_sum the rows (c >= 2) whose sum is farther than sum_tol
 * from 1; otherwise loss_sum is meaningless and the counts say what is wrong. */
typedef struct {
    ptrdiff_t n;                 /* rows */
    ptrdiff_t c;                 /* columns, >= 1 */
    const void *y_pred;          /* (n, c) */
    const long long *labels;     /* (n,) */
    const double *sample_weight; /* (n,) finite (of any sign), or NULL for all ones */
    double clip_lo;              /* clipping bounds of the probabilities */
    double clip_hi;
    double sum_tol;
    unsigned char *seen;         /* (max(c, 2),) zeroed by the caller; 1 where a code occurs */
} ce_log_loss_args;

typedef struct {
    double loss_sum;
    double weight_sum;
    ptrdiff_t n_bad_pred;  /* values outside [0, 1], NaN included */
    ptrdiff_t n_bad_label; /* codes outside [0, max(c, 2)) */
    ptrdiff_t n_bad_sum;   /* rows whose sum is not within sum_tol of 1 */
} ce_log_loss_status;

void ce_log_loss_f32(const ce_log_loss_args *args, ce_log_loss_status *status);
void ce_log_loss_f64(const ce_log_loss_args *args, ce_log_loss_status *status);

/* Short description of the build ("gcc 12.2.0"), for show_config(). */
const char *ce_compiler(void);

/* 1 when built with OpenMP (threads), else 0. */
int ce_openmp(void);

/* Choose the SIMD path: "" or NULL for the best this CPU runs, else "generic", "avx2",
 * "avx512" (x86-64) or "neon" (aarch64). Returns 0, -1 for an unknown name, -2 when this
 * CPU or build cannot run it. Called once at import, before any pass. */
int ce_select_path(const char *name);

/* The path in use ("generic", "avx2", "avx512", "neon"). */
const char *ce_path(void);

/* Comma-separated paths this CPU and build can run, best last. */
const char *ce_paths_available(void);

/* vecmath.h on one path, for measuring it: func 0..3 = exp, expm1, log, log1p; f32 != 0 for the
 * float versions (x and y are then float arrays). */
void ce_vecmath_eval(int func, int f32, const void *x, void *y, ptrdiff_t n);

#ifdef __cplusplus
}
#endif

#endif /* CROSSENT_H */
