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
    ce_vecmath_eval(code, typenum == cnp.NPY_FLOAT32, _data(x, typenum, size, False, "x"),
                    cnp.PyArray_DATA(y), size)
    return y


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
