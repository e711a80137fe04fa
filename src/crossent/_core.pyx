# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# Design: the thinnest layer between Python and csrc/. The caller (crossent._api) has already
# normalised every array to a C-contiguous native-endian float32/float64 block of the right size;
# this module only re-checks what it must to never read or write out of bounds, takes the data
# pointers (no typed memoryviews: acquiring a buffer costs more than a one-element pass), and
# releases the GIL when the pass is long enough to pay for it.
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t

cnp.import_array()

cdef extern from "crossent.h" nogil:
    ctypedef struct ce_binary_args:
        ptrdiff_t n
        ptrdiff_t k
        const void *y_pred
        const void *y_true
        const double *sample_weight
        const double *pos_weight
        double label_smoothing
        double clip_lo
        double clip_hi
        double grad_scale
        int nan_policy
        void *grad
        void *hess
        void *loss
        int n_threads

    ctypedef struct ce_status:
        double loss_sum
        double weight_sum
        ptrdiff_t bad_label
        ptrdiff_t bad_pred
        ptrdiff_t nan_pred
        double bad_label_value
        double bad_pred_value

    ctypedef struct ce_categorical_args:
        ptrdiff_t n
        ptrdiff_t c
        const void *y_pred
        const long long *labels
        const void *targets
        const double *sample_weight
        const double *class_weight
        long long ignore_index
        int has_ignore
        double label_smoothing
        double clip_lo
        double clip_hi
        double grad_scale
        int nan_policy
        void *grad
        void *loss
        int n_threads

    int ce_categorical_f32(int kind, const ce_categorical_args *args, ce_status *status)
    int ce_categorical_f64(int kind, const ce_categorical_args *args, ce_status *status)
    ctypedef struct ce_log_loss_args:
        ptrdiff_t n
        ptrdiff_t c
        const void *y_pred
        const long long *labels
        const double *sample_weight
        double clip_lo
        double clip_hi
        double sum_tol
        unsigned char *seen

    ctypedef struct ce_log_loss_status:
        double loss_sum
        double weight_sum
        ptrdiff_t n_bad_pred
        ptrdiff_t n_bad_label
        ptrdiff_t n_bad_sum

    void ce_log_loss_f32(const ce_log_loss_args *args, ce_log_loss_status *status)
    void ce_log_loss_f64(const ce_log_loss_args *args, ce_log_loss_status *status)
    int ce_binary_f32(int kind, const ce_binary_args *args, ce_status *status)
    int ce_binary_f64(int kind, const ce_binary_args *args, ce_status *status)
    const char *ce_compiler()
    int ce_openmp()
    int ce_select_path(const char *name)
    const char *ce_path()
    const char *ce_paths_available()
    void ce_vecmath_eval(int func, int f32, const void *x, void *y, ptrdiff_t n)

# Elements below which the GIL is kept: releasing and re-taking it costs ~0.1 us here, a few
# percent of a pass this long (docs/decisions.md has the measurement).
cdef enum:
    GIL_RELEASE_SIZE = 2048

compiler = ce_compiler().decode()
openmp = bool(ce_openmp())
paths_available = tuple(ce_paths_available().decode().split(","))


def select_path(str name):
    """Use SIMD path ``name`` ("" for the best this CPU runs); returns the path in use."""
    cdef bytes raw = name.encode()
    cdef int rc = ce_select_path(raw)
    if rc == -1:
        raise ValueError(f"unknown SIMD path {name!r}; this build has {', '.join(paths_available)}"
                         " and perhaps others this CPU cannot run")
    if rc == -2:
        raise ValueError(f"this CPU cannot run the {name!r} path; it can run "
                         f"{', '.join(paths_available)}")
    return ce_path().decode()


def vecmath(str func, x):
    """vecmath.h's exp, expm1, log or log1p on the active path, elementwise (for measuring)."""
    cdef int code = ("exp", "expm1", "log", "log1p").index(func)
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray>x)
    cdef ptrdiff_t size = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef cnp.ndarray y = cnp.PyArray_SimpleNew(1, [size], typenum)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise TypeError("float32 or float64 expected")
    x = _aligned(x)
    ce_vecmath_eval(code, typenum == cnp.NPY_FLOAT32, _data(x, typenum, size, False, "x"),
                    cnp.PyArray_DATA(y), size)
    return y


cdef object _aligned(object a):
    """a, or an aligned copy of it: numpy hands over unaligned views (of buffers deserialised
    at odd offsets, for one), and the C code reads through typed pointers."""
    if cnp.PyArray_Check(a) and not cnp.PyArray_ISALIGNED(<cnp.ndarray>a):
        return (<cnp.ndarray>a).copy()
    return a


cdef void *_data(object a, int typenum, ptrdiff_t size, bint writeable, str name) except NULL:
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{name} must be a numpy array")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != typenum or cnp.PyArray_SIZE(arr) != size:
        raise ValueError(f"{name}: internal error, wrong dtype or size")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr) or not cnp.PyArray_ISNOTSWAPPED(arr):
        raise ValueError(f"{name}: internal error, not a native C-contiguous array")
    if writeable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name}: internal error, not writeable")
    if not cnp.PyArray_ISALIGNED(arr):
        raise ValueError(f"{name}: internal error, not aligned")
    # a non-NULL pointer even for an empty array, so that NULL keeps meaning "absent"
    return cnp.PyArray_DATA(arr) if size else <void *>arr


def binary(int kind, ptrdiff_t n, ptrdiff_t k, y_pred, y_true, sample_weight, pos_weight,
           double label_smoothing, double clip_lo, double clip_hi, double grad_scale,
           int nan_policy, grad, hess, loss, int n_threads=1):
    """One binary pass; returns (loss_sum, weight_sum, bad_label, bad_pred, nan_pred,
    bad_label_value, bad_pred_value).

    The arrays are C-contiguous and native-endian, all of one float dtype except the weights
    (float64); grad, hess, loss and the weights may be None.
    """
    cdef ce_binary_args a
    cdef ce_status st
    cdef int rc
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray>y_pred) if cnp.PyArray_Check(y_pred) else -1
    cdef ptrdiff_t size = n * k
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise TypeError("y_pred: internal error, float32 or float64 array expected")
    if n < 0 or k < 0 or (k and size // k != n):
        raise ValueError("internal error: bad shape")
    a.n = n
    a.k = k
    y_pred, y_true = _aligned(y_pred), _aligned(y_true)
    sample_weight, pos_weight = _aligned(sample_weight), _aligned(pos_weight)
    a.y_pred = _data(y_pred, typenum, size, False, "y_pred")
    a.y_true = _data(y_true, typenum, size, False, "y_true")
    a.sample_weight = <const double *>(
        NULL if sample_weight is None
        else _data(sample_weight, cnp.NPY_FLOAT64, n, False, "sample_weight"))
    a.pos_weight = <const double *>(
        NULL if pos_weight is None
        else _data(pos_weight, cnp.NPY_FLOAT64, k, False, "pos_weight"))
    a.label_smoothing = label_smoothing
    a.clip_lo = clip_lo
    a.clip_hi = clip_hi
    a.grad_scale = grad_scale
    a.nan_policy = nan_policy
    a.grad = NULL if grad is None else _data(grad, typenum, size, True, "grad")
    a.hess = NULL if hess is None else _data(hess, typenum, size, True, "hess")
    a.loss = NULL if loss is None else _data(loss, typenum, size, True, "loss")
    a.n_threads = n_threads if n_threads > 0 else 1
    if size >= GIL_RELEASE_SIZE:
        with nogil:
            if typenum == cnp.NPY_FLOAT32:
                rc = ce_binary_f32(kind, &a, &st)
            else:
                rc = ce_binary_f64(kind, &a, &st)
    elif typenum == cnp.NPY_FLOAT32:
        rc = ce_binary_f32(kind, &a, &st)
    else:
        rc = ce_binary_f64(kind, &a, &st)
    if rc == -2:
        raise MemoryError("crossent: could not allocate the per-chunk results")
    if rc != 0:
        raise ValueError(f"internal error: bad kind {kind} or outputs")
    return (st.loss_sum, st.weight_sum, st.bad_label, st.bad_pred, st.nan_pred,
            st.bad_label_value, st.bad_pred_value)


def categorical(int kind, y_pred, labels, targets, sample_weight, class_weight, ignore_index,
                double label_smoothing, double clip_lo, double clip_hi, double grad_scale,
                int nan_policy, grad, loss, int n_threads=1):
    """One categorical pass over y_pred (n, C); returns (loss_sum, nan_pred).

    y_pred, targets and grad are C-contiguous native arrays of one float dtype, labels int64
    (n,), loss (n,) of that dtype, the weights float64; labels or targets is None, and so may
    be grad, loss and the weights.
    """
    cdef ce_categorical_args a
    cdef ce_status st
    cdef int rc
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray>y_pred) if cnp.PyArray_Check(y_pred) else -1
    cdef ptrdiff_t n, c, size
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise TypeError("y_pred: internal error, float32 or float64 array expected")
    if cnp.PyArray_NDIM(<cnp.ndarray>y_pred) != 2:
        raise ValueError("internal error: y_pred must be 2-D")
    n = cnp.PyArray_DIM(<cnp.ndarray>y_pred, 0)
    c = cnp.PyArray_DIM(<cnp.ndarray>y_pred, 1)
    size = n * c
    if (labels is None) == (targets is None):
        raise ValueError("internal error: labels or targets, exactly one")
    a.n = n
    a.c = c
    y_pred, labels, targets = _aligned(y_pred), _aligned(labels), _aligned(targets)
    sample_weight, class_weight = _aligned(sample_weight), _aligned(class_weight)
    a.y_pred = _data(y_pred, typenum, size, False, "y_pred")
    a.labels = <const long long *>(
        NULL if labels is None else _data(labels, cnp.NPY_INT64, n, False, "labels"))
    a.targets = NULL if targets is None else _data(targets, typenum, size, False, "targets")
    a.sample_weight = <const double *>(
        NULL if sample_weight is None
        else _data(sample_weight, cnp.NPY_FLOAT64, n, False, "sample_weight"))
    a.class_weight = <const double *>(
        NULL if class_weight is None
        else _data(class_weight, cnp.NPY_FLOAT64, c, False, "class_weight"))
    a.has_ignore = ignore_index is not None
    a.ignore_index = ignore_index if ignore_index is not None else 0
    a.label_smoothing = label_smoothing
    a.clip_lo = clip_lo
    a.clip_hi = clip_hi
    a.grad_scale = grad_scale
    a.nan_policy = nan_policy
    a.grad = NULL if grad is None else _data(grad, typenum, size, True, "grad")
    a.loss = NULL if loss is None else _data(loss, typenum, n, True, "loss")
    a.n_threads = n_threads if n_threads > 0 else 1
    with nogil:
        if typenum == cnp.NPY_FLOAT32:
            rc = ce_categorical_f32(kind, &a, &st)
        else:
            rc = ce_categorical_f64(kind, &a, &st)
    if rc == -2:
        raise MemoryError("crossent: could not allocate the per-chunk results")
    if rc != 0:
        raise ValueError(f"internal error: bad kind {kind}")
    if st.bad_label >= 0:
        raise ValueError(f"labels must be in [0, {c}) or ignore_index; got "
                         f"{int(st.bad_label_value)} at row {st.bad_label}")
    return st.loss_sum, st.nan_pred


def log_loss_pass(y_pred, labels, sample_weight, double clip_lo, double clip_hi,
                  double sum_tol, seen):
    """log_loss's pass (csrc/crossent.h, ce_log_loss_args): returns (loss_sum, weight_sum,
    n_bad_pred, n_bad_label, n_bad_sum) and marks the codes that occur in seen.

    y_pred is a C-contiguous native float32/float64 array of shape (n,) or (n, c), labels int64
    (n,), sample_weight float64 (n,) or None, seen a zeroed uint8 array of max(c, 2) entries.
    """
    cdef ce_log_loss_args a
    cdef ce_log_loss_status st
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray>y_pred) if cnp.PyArray_Check(y_pred) else -1
    cdef int ndim
    cdef ptrdiff_t n, c
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise TypeError("y_pred: internal error, float32 or float64 array expected")
    ndim = cnp.PyArray_NDIM(<cnp.ndarray>y_pred)
    if ndim != 1 and ndim != 2:
        raise ValueError("internal error: y_pred must be 1-D or 2-D")
    n = cnp.PyArray_DIM(<cnp.ndarray>y_pred, 0)
    c = 1 if ndim == 1 else cnp.PyArray_DIM(<cnp.ndarray>y_pred, 1)
    if n < 1 or c < 1:
        raise ValueError("internal error: y_pred must not be empty")
    a.n = n
    a.c = c
    y_pred, labels, sample_weight = _aligned(y_pred), _aligned(labels), _aligned(sample_weight)
    a.y_pred = _data(y_pred, typenum, n * c, False, "y_pred")
    a.labels = <const long long *>_data(labels, cnp.NPY_INT64, n, False, "labels")
    a.sample_weight = <const double *>(
        NULL if sample_weight is None
        else _data(sample_weight, cnp.NPY_FLOAT64, n, False, "sample_weight"))
    a.clip_lo = clip_lo
    a.clip_hi = clip_hi
    a.sum_tol = sum_tol
    a.seen = <unsigned char *>_data(seen, cnp.NPY_UINT8, c if c > 1 else 2, True, "seen")
    with nogil:
        if typenum == cnp.NPY_FLOAT32:
            ce_log_loss_f32(&a, &st)
        else:
            ce_log_loss_f64(&a, &st)
    return st.loss_sum, st.weight_sum, st.n_bad_pred, st.n_bad_label, st.n_bad_sum


# The fast path: the common call (no weights, default options), checked in C without any
# Python-level work, for the many small calls of scoring code. Anything else returns None and
# takes the general path in crossent._api, which owns every error message.
cdef double _fast_lo[2][3]
cdef double _fast_hi[2][3]
cdef object _raise_hook = None


def fast_setup(bounds, raise_hook):
    """bounds[f32][kind] = (lo, hi), the default clipping; raise_hook(status, kind, policy,
    y_true, y_pred, name) raises the error a status reports."""
    global _raise_hook
    cdef int f, kind
    for f in range(2):
        for kind in range(3):
            _fast_lo[f][kind], _fast_hi[f][kind] = bounds[f][kind]
    _raise_hook = raise_hook


cdef inline bint _overlap(cnp.ndarray a, cnp.ndarray b):
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    return pa < pb + cnp.PyArray_NBYTES(b) and pb < pa + cnp.PyArray_NBYTES(a)


def binary_fast(y_true, y_pred, kind, reduction, out, bint want_grad, int n_threads):
    """(loss, grad or None) for plain contiguous float arrays, or None for the general path.
    n_threads is a valid count (1 to the cap), checked by the caller."""
    cdef int kcode, typenum, nd, f32
    cdef bint mean
    cdef cnp.ndarray yp, yt, g = None
    cdef ce_binary_args a
    cdef ce_status st
    cdef ptrdiff_t size
    if kind == "logit":
        kcode = 1
    elif kind == "probability":
        kcode = 0
    elif kind == "log_probability":
        kcode = 2
    else:
        return None
    if reduction == "mean":
        mean = True
    elif reduction == "sum":
        mean = False
    else:
        return None
    if not (cnp.PyArray_CheckExact(y_pred) and cnp.PyArray_CheckExact(y_true)):
        return None
    yp = <cnp.ndarray>y_pred
    yt = <cnp.ndarray>y_true
    typenum = cnp.PyArray_TYPE(yp)
    if (typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64) or \
            cnp.PyArray_TYPE(yt) != typenum:
        return None
    nd = cnp.PyArray_NDIM(yp)
    if nd < 1 or nd > 2 or cnp.PyArray_NDIM(yt) != nd:
        return None
    if not cnp.PyArray_SAMESHAPE(yp, yt):
        return None
    if not (cnp.PyArray_ISCARRAY_RO(yp) and cnp.PyArray_ISCARRAY_RO(yt)):
        return None
    size = cnp.PyArray_SIZE(yp)
    if size == 0:
        return None
    if want_grad:
        if out is None:
            g = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(yp), typenum, 0)
        else:
            if not cnp.PyArray_CheckExact(out):
                return None
            g = <cnp.ndarray>out
            if cnp.PyArray_TYPE(g) != typenum or not cnp.PyArray_ISCARRAY(g) or \
                    cnp.PyArray_NDIM(g) != nd or not cnp.PyArray_SAMESHAPE(g, yp):
                return None
            if _overlap(g, yt) or (_overlap(g, yp) and
                                   cnp.PyArray_DATA(g) != cnp.PyArray_DATA(yp)):
                return None
    f32 = typenum == cnp.NPY_FLOAT32
    a.n = cnp.PyArray_DIM(yp, 0)
    a.k = cnp.PyArray_DIM(yp, 1) if nd == 2 else 1
    a.y_pred = cnp.PyArray_DATA(yp)
    a.y_true = cnp.PyArray_DATA(yt)
    a.sample_weight = NULL
    a.pos_weight = NULL
    a.label_smoothing = 0.0
    a.clip_lo = _fast_lo[f32][kcode]
    a.clip_hi = _fast_hi[f32][kcode]
    a.grad_scale = 1.0 / <double>size if mean else 1.0
    a.nan_policy = 0
    a.grad = cnp.PyArray_DATA(g) if want_grad else NULL
    a.hess = NULL
    a.loss = NULL
    a.n_threads = n_threads
    if size >= GIL_RELEASE_SIZE:
        with nogil:
            if f32:
                ce_binary_f32(kcode, &a, &st)
            else:
                ce_binary_f64(kcode, &a, &st)
    elif f32:
        ce_binary_f32(kcode, &a, &st)
    else:
        ce_binary_f64(kcode, &a, &st)
    if st.bad_label >= 0 or st.bad_pred >= 0:
        _raise_hook((st.loss_sum, st.weight_sum, st.bad_label, st.bad_pred, st.nan_pred,
                     st.bad_label_value, st.bad_pred_value), kcode, 0, yt, yp, "y_pred")
    return (st.loss_sum / <double>size if mean else st.loss_sum), g
