"""Validation, normalisation and dispatch: the one path from the public functions to a kernel.

Design: every public function is built once per backend by :func:`make_functions`, from the same
code, around a *kernel* with the signature of ``crossent._core.binary`` (the C pass) or
``crossent.reference.binary_kernel`` (its numpy twin). Python checks the options and the shapes,
turns the arrays into native C-contiguous float32/float64 blocks, and calls the kernel exactly
once; the kernel reports bad labels, out-of-domain predictions and NaNs from the same pass, and
this module turns that report into the exception. Both backends therefore accept and reject
exactly the same inputs, with the same messages.
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Callable
from typing import Any

import numpy as np

KINDS = {"probability": 0, "logit": 1, "log_probability": 2}
REDUCTIONS = ("mean", "sum", "none")
NAN_POLICIES = {"propagate": 0, "raise": 1, "omit": 2}
_LOGIT = KINDS["logit"]
_PROBABILITY = KINDS["probability"]
_OMIT = NAN_POLICIES["omit"]
_RAISE = NAN_POLICIES["raise"]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)

Kernel = Callable[..., tuple[float, float, int, int, int, float, float]]


def _choice(name: str, value: object, allowed: Any) -> None:
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")


def _compute_dtype(name: str, y_pred: np.ndarray) -> np.dtype:
    """float32/float64 natively, float16 as float32, integers, bool and longdouble as float64."""
    kind = y_pred.dtype.kind
    if kind == "f":
        return _F32 if y_pred.dtype.itemsize <= 4 else _F64
    if kind in "biu":
        return _F64
    raise TypeError(f"{name} must hold real numbers; got an array of dtype {y_pred.dtype}")


def _to_array(name: str, value: object) -> np.ndarray:
    if type(value) is np.ndarray:
        return value
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers: {exc}") from None


def _normalised(name: str, a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``a`` as a native-endian C-contiguous array of ``dtype`` (``a`` itself when it is one)."""
    if a.dtype.kind not in "fbiu":
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {a.dtype}")
    return np.asarray(a, dtype=dtype, order="C")


def _index(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return ""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_USABLE_CORES = _usable_cores()
_MAX_THREADS = 1024
# Below this total weight, 1 / total (the gradient's scale for "mean") comes near overflow
_TINY_TOTAL = 2.0**-900


def _rescaled(name: str, weights: np.ndarray, total: float) -> tuple[np.ndarray, float]:
    """``weights`` times the power of 2 that brings ``total`` into [1/2, 1): exact, and
    neither a mean nor its gradient changes when every weight is scaled alike. ValueError if
    a weight that does not count in the total is too large to scale."""
    shift = -math.frexp(total)[1]  # up to 1074: in two steps, as 2^1074 is not a double
    f1, f2 = math.ldexp(1.0, shift // 2), math.ldexp(1.0, shift - shift // 2)
    with np.errstate(over="ignore"):
        scaled = np.asarray(weights * f1 * f2)  # 0-d stays an array
    if not np.isfinite(scaled).all():
        raise ValueError(f"{name}: the weights span too wide a range for reduction='mean' "
                         f"(total weight {total!r}, largest weight {float(weights.max())!r}); "
                         "rescale them")
    return scaled, total * f1 * f2


def _n_threads(n_threads: object) -> int:
    """The number of threads to use: n_threads itself, or the usable cores for -1."""
    if n_threads == 1 and type(n_threads) is int:
        return 1
    try:
        value = operator.index(n_threads)  # type: ignore[arg-type]
    except TypeError:
        value = 0
    if isinstance(n_threads, bool) or not (value == -1 or value >= 1):
        raise ValueError(
            f"n_threads must be a positive integer or -1 (all cores); got {n_threads!r}"
        )
    # more threads than this would only queue; it also keeps the value a C int
    return _USABLE_CORES if value == -1 else min(value, _MAX_THREADS)


def _real_scalar(name: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number; got {value!r}") from None


def _eps(eps: object, dtype: np.dtype) -> float:
    if eps is None:
        return float(np.finfo(dtype).eps)
    e = _real_scalar("eps", eps)
    if not 0.0 <= e < 0.5:
        raise ValueError(f"eps must be in [0, 0.5); got {eps!r}")
    return e


def _inward(value: float, dtype: np.dtype, toward: float) -> float:
    """``value`` as a value of ``dtype``, rounded toward ``toward`` when it is not one."""
    with np.errstate(over="ignore", under="ignore"):
        v = dtype.type(value)
        if float(v) != value and (float(v) - value) * (toward - value) < 0:
            v = np.nextafter(v, dtype.type(toward))
    return float(v)


def _eps_bounds(e: float, kind: int, dtype: np.dtype) -> tuple[float, float]:
    """Clipping bounds as values of the dtype, rounded inward: clipping never reaches 0 or 1
    (or log 0, log 1) unless eps is 0."""
    if kind == _PROBABILITY:
        lo, hi = e, 1.0 - e
        mid = 0.5
    else:
        with np.errstate(divide="ignore"):
            lo, hi = float(np.log(e)), math.log1p(-e)
        mid = -math.log(2.0)
    if e == 0.0:
        return float(dtype.type(lo)), float(dtype.type(hi))
    lo, hi = _inward(lo, dtype, mid), _inward(hi, dtype, mid)
    # an eps below the resolution of the dtype near the end still leaves the end out
    top = dtype.type(1.0 if kind == _PROBABILITY else 0.0)
    if hi >= top:
        hi = float(np.nextafter(top, dtype.type(mid)))
    if kind == _PROBABILITY and lo <= 0.0:
        lo = float(np.nextafter(dtype.type(0), dtype.type(1)))
    return lo, hi


def _sample_weight(
    sample_weight: object, y_pred: np.ndarray, k: int
) -> tuple[np.ndarray, float]:
    """The weights as float64 of shape y_pred.shape[:1], and k times their sum."""
    sw = _to_array("sample_weight", sample_weight)
    if sw.dtype.kind not in "fbiu":
        raise TypeError(f"sample_weight must hold real numbers; got an array of dtype {sw.dtype}")
    sw = np.asarray(sw, dtype=_F64, order="C")
    expected = y_pred.shape[:1]
    if sw.shape != expected:
        raise ValueError(
            f"sample_weight has shape {sw.shape}, but y_pred has shape {y_pred.shape}; "
            f"expected shape {expected}"
        )
    with np.errstate(over="ignore"):
        total = float(sw.sum()) * k
    if sw.size and not (math.isfinite(total) and sw.min() >= 0):
        bad = np.flatnonzero(~(np.isfinite(sw) & (sw >= 0)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                "sample_weight must be finite and >= 0; "
                f"sample_weight{_index(i, sw.shape)} = {sw.flat[i]}"
            )
        raise ValueError("sample_weight: the total weight overflows float64; rescale the weights")
    return sw, total


def _pos_weight(pos_weight: object, y_pred: np.ndarray, k: int) -> np.ndarray | None:
    """pos_weight as float64 of shape (k,), or None when it is 1 everywhere."""
    pw = _to_array("pos_weight", pos_weight)
    if pw.dtype.kind not in "fbiu":
        raise TypeError(f"pos_weight must hold real numbers; got an array of dtype {pw.dtype}")
    pw = np.asarray(pw, dtype=_F64, order="C")
    if pw.ndim == 0:
        value = float(pw)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"pos_weight must be finite and > 0; got {value!r}")
        return None if value == 1.0 else np.full(k, value)
    expected = y_pred.shape[1:] if y_pred.ndim == 2 else (1,)
    if pw.shape != expected:
        raise ValueError(
            f"pos_weight has shape {pw.shape}, but y_pred has shape {y_pred.shape}; "
            f"expected a scalar or shape {expected}"
        )
    bad = np.flatnonzero(~(np.isfinite(pw) & (pw > 0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"pos_weight must be finite and > 0; pos_weight[{i}] = {pw[i]}")
    return pw


def _same_block(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a and b are the same C-contiguous block of memory (views of one another)."""
    return (
        a.shape == b.shape and a.dtype == b.dtype and a.flags.c_contiguous
        and b.flags.c_contiguous
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def _check_out(
    name: str,
    out: object,
    shape: tuple[int, ...],
    dtype: np.dtype,
    inputs: tuple[tuple[str, object, bool], ...],
) -> np.ndarray:
    """``out`` if it can receive the result. ``inputs`` holds (name, array, may_alias): the
    arrays the pass reads; out may be exactly an array marked may_alias, and overlap no other."""
    if not isinstance(out, np.ndarray):
        raise ValueError(f"{name} must be a numpy array; got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}, expected {shape}")
    if out.dtype != dtype:
        raise ValueError(f"{name} has dtype {out.dtype}, expected {dtype}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    if not out.flags.aligned:
        raise ValueError(f"{name} must be aligned to its dtype (as numpy allocates arrays)")
    alias = next(n for n, _, may_alias in inputs if may_alias)
    for input_name, a, may_alias in inputs:
        if isinstance(a, np.ndarray) and np.may_share_memory(out, a):
            if may_alias and _same_block(out, a):
                continue
            raise ValueError(
                f"{name} overlaps {input_name}; {name} may be {alias} itself but must not "
                "overlap any other input"
            )
    return out


def _read_arrays(
    pred_name: str,
    yp0: object, yp: object, yt0: object, yt: object,
    sw0: object, sw: object, pw0: object, pw: object,
) -> tuple[tuple[str, object, bool], ...]:
    """The arrays a pass reads, as given and as normalised; only the predictions may be out."""
    return (
        (pred_name, yp0, True), (pred_name, yp, True), ("y_true", yt0, False),
        ("y_true", yt, False), ("sample_weight", sw0, False), ("sample_weight", sw, False),
        ("pos_weight", pw0, False), ("pos_weight", pw, False),
    )


def _raise_for_status(
    status: tuple[float, float, int, int, int, float, float],
    kind: int,
    nan_policy: int,
    yt: np.ndarray,
    yp: np.ndarray,
    pred_name: str,
) -> None:
    _, _, bad_label, bad_pred, nan_pred, label_value, pred_value = status
    if bad_label >= 0:
        value = yt.dtype.type(label_value)
        raise ValueError(
            f"y_true must hold labels in [0, 1]; y_true{_index(bad_label, yt.shape)} = {value}"
        )
    if bad_pred >= 0:
        domain = "[0, 1]" if kind == _PROBABILITY else "(-inf, 0]"
        name = next(k for k, v in KINDS.items() if v == kind)
        raise ValueError(
            f"{pred_name} must be in {domain} for kind={name!r}; "
            f"{pred_name}{_index(bad_pred, yp.shape)} = {yp.dtype.type(pred_value)}"
        )
    if nan_pred >= 0 and nan_policy == _RAISE:
        raise ValueError(
            f"{pred_name}{_index(nan_pred, yp.shape)} is NaN (nan_policy='raise')"
        )


def default_bounds() -> tuple[tuple[tuple[float, float], ...], ...]:
    """[float64, float32][kind] -> the default clipping interval, for the C fast path."""
    kinds = sorted(KINDS.values())
    return tuple(
        tuple(_eps_bounds(_eps(None, dt), kind, dt) if kind != _LOGIT else (0.0, 0.0)
              for kind in kinds)
        for dt in (_F64, _F32)
    )


def _prepare_binary(y_true: object, y_pred: object, pred_name: str) -> tuple[Any, ...]:
    """Normalised (y_pred, y_true, dtype, n, k) for a binary call."""
    yp0 = _to_array(pred_name, y_pred)
    dtype = _compute_dtype(pred_name, yp0)
    yp = np.asarray(yp0, dtype=dtype, order="C")
    yt0 = _to_array("y_true", y_true)
    if yt0.dtype.kind == "f" and yt0.dtype.itemsize > dtype.itemsize:
        # a narrowing cast could round a bad label into [0, 1] (1 + 1e-10 -> 1.0): check first
        bad = np.flatnonzero(~((yt0 >= 0) & (yt0 <= 1)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"y_true must hold labels in [0, 1]; y_true{_index(i, yt0.shape)} = {yt0.flat[i]}"
            )
    yt = _normalised("y_true", yt0, dtype)
    if yt.shape != yp.shape:
        raise ValueError(
            f"y_true and {pred_name} must have the same shape; got y_true {yt.shape} and "
            f"{pred_name} {yp.shape}"
        )
    if yp.ndim > 2:
        raise ValueError(
            f"{pred_name} must have shape (n,) or (n, k); got {yp.ndim} dimensions {yp.shape}"
        )
    n = yp.shape[0] if yp.ndim else 1
    k = yp.shape[1] if yp.ndim == 2 else 1
    return yp0, yp, yt0, yt, dtype, n, k


def make_functions(
    kernel: Kernel, module: str, fast: Callable[..., Any] | None = None
) -> dict[str, Callable[..., Any]]:
    """The public binary functions, bound to ``kernel`` (the C pass or its numpy twin).

    ``fast`` (the C backend's ``binary_fast``) serves the common call, plain contiguous float
    arrays with default options, without the Python-level checks below; it returns None for
    anything else, which then takes the general path.
    """

    def _binary(
        y_true: object,
        y_pred: object,
        kind: object,
        sample_weight: object,
        pos_weight: object,
        label_smoothing: object,
        reduction: object,
        eps: object,
        nan_policy: object,
        n_threads: object,
        out: object,
        want_grad: bool,
        parts: bool = False,
    ) -> Any:
        """The value (and gradient); with ``parts``, the pair (weighted loss sum, total weight)
        that "mean" divides, for combining calls over chunks."""
        _choice("kind", kind, KINDS)
        _choice("reduction", reduction, REDUCTIONS)
        _choice("nan_policy", nan_policy, NAN_POLICIES)
        threads = _n_threads(n_threads)
        kind_code = KINDS[kind]  # type: ignore[index]
        policy = NAN_POLICIES[nan_policy]  # type: ignore[index]
        smoothing = _real_scalar("label_smoothing", label_smoothing)
        if not 0.0 <= smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}")
        yp0, yp, yt0, yt, dtype, n, k = _prepare_binary(y_true, y_pred, "y_pred")
        e = _eps(eps, dtype)
        lo, hi = (0.0, 0.0) if kind_code == _LOGIT else _eps_bounds(e, kind_code, dtype)
        sw = None
        if sample_weight is None:
            total = float(n * k)
        else:
            sw, total = _sample_weight(sample_weight, yp, k)
        pw = None if pos_weight is None else _pos_weight(pos_weight, yp, k)
        grad = None
        if want_grad:
            if out is None:
                grad = np.empty(yp.shape, dtype)
            else:
                inputs = _read_arrays("y_pred", yp0, yp, yt0, yt, sample_weight, sw,
                                      pos_weight, pw)
                grad = _check_out("out", out, yp.shape, dtype, inputs)
        if reduction == "mean" and not parts and sw is not None and 0 < total < _TINY_TOTAL:
            sw, total = _rescaled("sample_weight", sw, total)
        if policy == _OMIT and (reduction == "mean" or parts) and yp.size:
            # the denominator excludes the NaNs: known before the pass, so the gradient is
            # scaled once, in the pass
            kept = ~np.isnan(yp.reshape(n, k))
            total = (float(np.count_nonzero(kept)) if sw is None else
                     float(sw.reshape(n) @ kept.sum(axis=1)))
            if reduction == "mean" and not parts and sw is not None and 0 < total < _TINY_TOTAL:
                # a row of NaNs alone may weigh much more: it leaves the pass with weight 0
                row_w = np.where(kept.any(axis=1), sw.reshape(n), 0.0)
                sw = _rescaled("sample_weight", row_w, total)[0].reshape(sw.shape)
                total = float(sw.reshape(n) @ kept.sum(axis=1))
            if total == 0 and n * k and not parts:
                raise ValueError("reduction='mean' needs a positive total weight; every "
                                 "element with weight is NaN and omitted")
        if reduction == "mean":
            if total == 0:
                raise ValueError("reduction='mean' needs a positive total weight; got 0 "
                                 f"({n * k} elements)")
            scale = 1.0 / total
        else:
            scale = 1.0
        loss = np.empty(yp.shape, dtype) if reduction == "none" else None
        if yp.size:
            status = kernel(kind_code, n, k, yp, yt, sw, pw, smoothing, lo, hi, scale, policy,
                            grad, None, loss, threads)
            _raise_for_status(status, kind_code, policy, yt, yp, "y_pred")
            loss_sum = status[0]
        else:
            loss_sum = 0.0
        if parts:
            return loss_sum, total
        if reduction == "none":
            value: Any = loss
        elif reduction == "sum":
            value = loss_sum
        else:
            value = loss_sum / total
        return (value, grad) if want_grad else value

    def binary_cross_entropy(
        y_true: object,
        y_pred: object,
        *,
        kind: str = "probability",
        sample_weight: object = None,
        pos_weight: object = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        eps: float | None = None,
        nan_policy: str = "propagate",
        n_threads: int = 1,
    ) -> Any:
        """Binary cross-entropy (log loss) of ``y_pred`` against ``y_true``.

        Parameters
        ----------
        y_true : array_like of shape (n,) or (n, k)
            Labels in [0, 1]: bool, integer or float (soft labels allowed).
        y_pred : array_like of the same shape
            Probabilities, logits or log-probabilities, as ``kind`` says.
        kind : {"probability", "logit", "log_probability"}
            What ``y_pred`` holds. Logits may be infinite.
        sample_weight : array_like of shape (n,), optional
            Finite non-negative weight of each row (broadcast over the k columns).
        pos_weight : float or array_like of shape (k,), optional
            Weight of the positive term, as in PyTorch's ``BCEWithLogitsLoss``.
        label_smoothing : float in [0, 1]
            Labels become ``y * (1 - label_smoothing) + label_smoothing / 2``.
        reduction : {"mean", "sum", "none"}
            ``"mean"`` is ``sum(w * loss) / sum(w)``; ``"none"`` returns ``w * loss`` per element.
        eps : float in [0, 0.5), optional
            Probabilities are clipped to [eps, 1 - eps] (log-probabilities to
            [log eps, log1p(-eps)]); defaults to the machine epsilon of the dtype.
        nan_policy : {"propagate", "raise", "omit"}
            What a NaN in ``y_pred`` does: a NaN loss, a ValueError, or the element is left out.
        n_threads : int
            Threads to use; -1 means all usable cores.

        Returns
        -------
        loss : float, or ndarray of the shape of y_pred for reduction="none"

        Examples
        --------
        >>> from crossent import binary_cross_entropy
        >>> round(binary_cross_entropy([1, 0], [0.9, 0.2]), 6)
        0.164252
        >>> print(f'{binary_cross_entropy([1, 0], [40.0, -40.0], kind="logit"):.6e}')
        4.248354e-18
        """
        if (fast is not None and sample_weight is None and pos_weight is None and eps is None
                and label_smoothing == 0.0 and nan_policy == "propagate"
                and n_threads.__class__ is int and 0 < n_threads <= _MAX_THREADS):
            r = fast(y_true, y_pred, kind, reduction, None, False, n_threads)
            if r is not None:
                return r[0]
        return _binary(y_true, y_pred, kind, sample_weight, pos_weight, label_smoothing,
                       reduction, eps, nan_policy, n_threads, None, False)

    def binary_cross_entropy_with_grad(
        y_true: object,
        y_pred: object,
        *,
        kind: str = "probability",
        sample_weight: object = None,
        pos_weight: object = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        eps: float | None = None,
        nan_policy: str = "propagate",
        n_threads: int = 1,
        out: np.ndarray | None = None,
    ) -> tuple[Any, np.ndarray]:
        """Binary cross-entropy and its gradient with respect to ``y_pred``, in one pass.

        Takes the parameters of :func:`binary_cross_entropy`, and:

        Parameters
        ----------
        out : ndarray, optional
            Receives the gradient: the shape of ``y_pred``, its float dtype (float32 for float16
            input, float64 for integers), C-contiguous and writeable. It may be ``y_pred``
            itself, which is then overwritten by its gradient; no other overlap is allowed.

        Returns
        -------
        loss : float, or ndarray for reduction="none"
        grad : ndarray of the shape of y_pred
            The gradient of the returned loss: for "mean" it includes the division by
            ``sum(w)``; for "none" it is ``w * dloss/dy_pred`` per element. It is ``out``
            when ``out`` is given.

        Examples
        --------
        >>> import numpy as np
        >>> from crossent import binary_cross_entropy_with_grad
        >>> loss, grad = binary_cross_entropy_with_grad(
        ...     [1, 0], np.array([0.0, 0.0]), kind="logit", reduction="sum")
        >>> round(loss, 6), grad.tolist()
        (1.386294, [-0.5, 0.5])
        """
        if (fast is not None and sample_weight is None and pos_weight is None and eps is None
                and label_smoothing == 0.0 and nan_policy == "propagate"
                and n_threads.__class__ is int and 0 < n_threads <= _MAX_THREADS):
            r = fast(y_true, y_pred, kind, reduction, out, True, n_threads)
            if r is not None:
                return r  # type: ignore[no-any-return]
        return _binary(y_true, y_pred, kind, sample_weight, pos_weight, label_smoothing,  # type: ignore[no-any-return]
                       reduction, eps, nan_policy, n_threads, out, True)

    def binary_logistic_grad_hess(
        y_true: object,
        logits: object,
        *,
        sample_weight: object = None,
        pos_weight: object = None,
        grad_out: np.ndarray | None = None,
        hess_out: np.ndarray | None = None,
        n_threads: int = 1,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample gradient and hessian of the logistic loss, as gradient boosting expects.

        Parameters
        ----------
        y_true : array_like of shape (n,) or (n, k)
            Labels in [0, 1].
        logits : array_like of the same shape
            Raw scores (margins); may be infinite.
        sample_weight : array_like of shape (n,), optional
            Multiplies both the gradient and the hessian of each row.
        pos_weight : float or array_like of shape (k,), optional
            Weight of the positive term.
        grad_out, hess_out : ndarray, optional
            Receive the results (same rules as ``out`` of
            :func:`binary_cross_entropy_with_grad`; either may be ``logits`` itself).
        n_threads : int
            Threads to use; -1 means all usable cores.

        Returns
        -------
        grad : ndarray
            ``w * (lw * sigmoid(x) - pos_weight * y)`` with ``lw = 1 + (pos_weight - 1) y``.
        hess : ndarray
            ``w * lw * sigmoid(x) * sigmoid(-x)``.

        Examples
        --------
        >>> from crossent import binary_logistic_grad_hess
        >>> grad, hess = binary_logistic_grad_hess([1, 0], [0.0, 0.0])
        >>> grad.tolist(), hess.tolist()
        ([-0.5, 0.5], [0.25, 0.25])
        """
        threads = _n_threads(n_threads)
        yp0, yp, yt0, yt, dtype, n, k = _prepare_binary(y_true, logits, "logits")
        sw = None if sample_weight is None else _sample_weight(sample_weight, yp, k)[0]
        pw = None if pos_weight is None else _pos_weight(pos_weight, yp, k)
        inputs = _read_arrays("logits", yp0, yp, yt0, yt, sample_weight, sw, pos_weight, pw)
        grad = (np.empty(yp.shape, dtype) if grad_out is None else
                _check_out("grad_out", grad_out, yp.shape, dtype, inputs))
        hess = (np.empty(yp.shape, dtype) if hess_out is None else
                _check_out("hess_out", hess_out, yp.shape, dtype, inputs))
        if grad_out is not None and hess_out is not None and np.may_share_memory(grad, hess):
            raise ValueError("grad_out and hess_out overlap; they must be different arrays")
        if yp.size:
            status = kernel(_LOGIT, n, k, yp, yt, sw, pw, 0.0, 0.0, 0.0, 1.0, 0, grad, hess,
                            None, threads)
            _raise_for_status(status, _LOGIT, 0, yt, yp, "logits")
        return grad, hess

    def binary_parts(y_true: object, y_pred: object, sample_weight: object = None,
                     *, kind: str = "probability", pos_weight: object = None,
                     label_smoothing: float = 0.0, eps: float | None = None,
                     nan_policy: str = "propagate", n_threads: int = 1) -> tuple[float, float]:
        return _binary(y_true, y_pred, kind, sample_weight, pos_weight,  # type: ignore[no-any-return]
                       label_smoothing, "sum", eps, nan_policy, n_threads, None, False, True)

    functions: dict[str, Callable[..., Any]] = {
        "binary_cross_entropy": binary_cross_entropy,
        "binary_cross_entropy_with_grad": binary_cross_entropy_with_grad,
        "binary_logistic_grad_hess": binary_logistic_grad_hess,
    }
    for name, f in functions.items():
        f.__module__ = module
        f.__qualname__ = name
    functions["parts"] = binary_parts
    return functions


raise_for_status = _raise_for_status  # the C fast path raises through the same messages


def _labels(yt0: np.ndarray, n: int, c: int, ignore_index: int | None) -> np.ndarray:
    """Integer labels (n,) as int64, each in [0, c) or equal to ignore_index."""
    if yt0.dtype.kind not in "biuf":
        raise TypeError(f"y_true must hold integer labels; got an array of dtype {yt0.dtype}")
    if yt0.shape != (n,):
        raise ValueError(
            f"y_true holds labels of shape {yt0.shape}, but y_pred has {n} rows; expected "
            f"shape ({n},) (or soft targets of the shape of y_pred)"
        )
    if yt0.dtype.kind == "f":
        bad = np.flatnonzero(~(np.isfinite(yt0) & (np.floor(yt0) == yt0)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"y_true must hold integer labels; y_true[{i}] = {yt0[i]}")
        if yt0.size and np.abs(yt0).max() >= 2.0**62:
            i = int(np.argmax(np.abs(yt0)))
            raise ValueError(f"y_true must hold labels in [0, {c}); y_true[{i}] = {yt0[i]}")
    if yt0.dtype.kind == "u" and yt0.dtype.itemsize == 8 and yt0.size and yt0.max() >= 2**63:
        i = int(np.argmax(yt0))
        raise ValueError(f"y_true must hold labels in [0, {c}); y_true[{i}] = {yt0[i]}")
    labels = np.ascontiguousarray(yt0, dtype=np.int64)
    if ignore_index is None and (not n or (labels.min() >= 0 and labels.max() < c)):
        return labels  # the common case, in two reductions without temporaries
    ok = (labels >= 0) & (labels < c)
    if ignore_index is not None:
        ok |= labels == ignore_index
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = int(bad[0])
        also = "" if ignore_index is None else f" or equal to ignore_index={ignore_index}"
        raise ValueError(f"y_true must hold labels in [0, {c}){also}; y_true[{i}] = {yt0[i]}")
    return labels


def _class_weight(class_weight: object, c: int) -> np.ndarray:
    cw = _to_array("class_weight", class_weight)
    if cw.dtype.kind not in "fbiu":
        raise TypeError(f"class_weight must hold real numbers; got an array of dtype {cw.dtype}")
    cw = np.ascontiguousarray(cw, dtype=_F64)
    if cw.shape != (c,):
        raise ValueError(f"class_weight has shape {cw.shape}; expected ({c},), one weight per "
                         "class (column of y_pred)")
    bad = np.flatnonzero(~(np.isfinite(cw) & (cw >= 0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"class_weight must be finite and >= 0; class_weight[{i}] = {cw[i]}")
    with np.errstate(over="ignore"):
        total = float(cw.sum())
    if not math.isfinite(total):  # label smoothing spreads weight over every class
        raise ValueError("class_weight: the total weight overflows float64; rescale the weights")
    return cw


def _check_total_weight(sw: np.ndarray | None, cw: np.ndarray | None, labels: np.ndarray | None,
                        targets: np.ndarray | None, ignore: int | None) -> None:
    """ValueError unless the total weight of the targets, sum_i w_i sum_j cw_j t_ij, is finite:
    then so is every row's, and the loss, its denominator and the gradient stay free of
    inf - inf. Each weight, and each weight's total, is checked already."""
    with np.errstate(over="ignore", invalid="ignore"):
        if targets is not None:
            total = float(np.sum(targets, dtype=_F64))  # one pass; the bound below usually does
            if cw is not None:
                total *= float(cw.max())
            if sw is not None and sw.size:
                total *= float(sw.max())
            if not math.isfinite(total):  # the bound overflows: the exact total
                mass = targets.sum(axis=1, dtype=_F64) if cw is None else targets @ cw
                total = float(np.sum(mass if sw is None else sw * mass))
        elif cw is not None and labels is not None:
            rows = labels if ignore is None else np.where(labels == ignore, 0, labels)
            total = float(np.sum(cw[rows] if sw is None else sw * cw[rows]))
        else:
            return
    if not math.isfinite(total):
        raise ValueError("sample_weight, class_weight and y_true: the total weight of the "
                         "targets overflows float64; rescale the weights")


def make_categorical_functions(
    kernel: Callable[..., tuple[float, int]], module: str
) -> dict[str, Callable[..., Any]]:
    """The public categorical functions, bound to ``kernel`` (the signature of
    ``crossent.reference.categorical_kernel``)."""

    def _categorical(
        y_true: object, y_pred: object, kind: object, sample_weight: object,
        class_weight: object, ignore_index: object, label_smoothing: object, reduction: object,
        eps: object, nan_policy: object, n_threads: object, out: object, want_grad: bool,
        parts: bool = False,
    ) -> Any:
        """The value (and gradient); with ``parts``, (weighted loss sum, total weight)."""
        _choice("kind", kind, KINDS)
        _choice("reduction", reduction, REDUCTIONS)
        _choice("nan_policy", nan_policy, NAN_POLICIES)
        threads = _n_threads(n_threads)
        kind_code = KINDS[kind]  # type: ignore[index]
        policy = NAN_POLICIES[nan_policy]  # type: ignore[index]
        smoothing = _real_scalar("label_smoothing", label_smoothing)
        if not 0.0 <= smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}")
        ignore = None
        if ignore_index is not None:
            if isinstance(ignore_index, bool):
                raise ValueError(f"ignore_index must be an integer; got {ignore_index!r}")
            try:
                ignore = operator.index(ignore_index)  # type: ignore[arg-type]
            except TypeError:
                raise ValueError(
                    f"ignore_index must be an integer; got {ignore_index!r}") from None
        yp0 = _to_array("y_pred", y_pred)
        dtype = _compute_dtype("y_pred", yp0)
        yp = np.asarray(yp0, dtype=dtype, order="C")
        if yp.ndim != 2:
            raise ValueError(f"y_pred must have shape (n, C), one column per class; got "
                             f"{yp.ndim} dimensions {yp.shape}")
        n, c = yp.shape
        if c == 0:
            raise ValueError(f"y_pred must have at least one class (column); got shape {yp.shape}")
        yt0 = _to_array("y_true", y_true)
        labels = targets = None
        if yt0.ndim == 2:
            if ignore is not None:
                raise ValueError("ignore_index applies to integer labels, not to soft targets")
            if yt0.dtype.kind not in "fbiu":
                raise TypeError(
                    f"y_true must hold real numbers; got an array of dtype {yt0.dtype}")
            if yt0.shape != yp.shape:
                raise ValueError(f"y_true holds soft targets of shape {yt0.shape}, but "
                                 f"y_pred has shape {yp.shape}; they must match")
            # checked as given, before the cast to y_pred's dtype can round a value to 0 or inf
            ok = (np.isfinite(yt0) & (yt0 >= 0)) if yt0.dtype.kind == "f" else (yt0 >= 0)
            bad = np.flatnonzero(~ok)
            if bad.size:
                i = int(bad[0])
                raise ValueError("y_true (soft targets) must be finite and >= 0; "
                                 f"y_true{_index(i, yt0.shape)} = {yt0.flat[i].item()!r}")
            with np.errstate(over="ignore"):  # overflow is reported below, by value
                targets = np.asarray(yt0, dtype=dtype, order="C")
            bad = np.flatnonzero(~np.isfinite(targets))
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"y_true (soft targets) must fit in {dtype.name}, the dtype of "
                                 f"y_pred; y_true{_index(i, yt0.shape)} = {yt0.flat[i].item()!r}")
        else:
            labels = _labels(yt0, n, c, ignore)
        sw = None if sample_weight is None else _sample_weight(sample_weight, yp, 1)[0]
        cw = None if class_weight is None else _class_weight(class_weight, c)
        _check_total_weight(sw, cw, labels, targets, ignore)
        e = _eps(eps, dtype)
        lo, hi = (0.0, 0.0) if kind_code == _LOGIT else _eps_bounds(e, kind_code, dtype)
        if kind_code != _LOGIT:
            bad_pred = (~((yp >= 0) & (yp <= 1)) if kind_code == _PROBABILITY else yp > 0)
            bad = np.flatnonzero(bad_pred & ~np.isnan(yp))
            if bad.size:
                i = int(bad[0])
                domain = "[0, 1]" if kind_code == _PROBABILITY else "(-inf, 0]"
                raise ValueError(f"y_pred must be in {domain} for kind={kind!r}; "
                                 f"y_pred{_index(i, yp.shape)} = {yp.flat[i]}")
        grad = None
        if want_grad:
            if out is None:
                grad = np.empty(yp.shape, dtype)
            else:
                inputs = (("y_pred", yp0, True), ("y_pred", yp, True), ("y_true", yt0, False),
                          ("sample_weight", sample_weight, False),
                          ("class_weight", class_weight, False))
                grad = _check_out("out", out, yp.shape, dtype, inputs)
        loss = np.empty(n, dtype) if reduction == "none" else None
        scale, denom = 1.0, 1.0

        def total_weight(sw: np.ndarray | None, cw: np.ndarray | None) -> float:
            if sw is None and cw is None and ignore is None and policy != _OMIT:
                return float(n)  # n rows of weight 1, without a pass over them
            row_w = np.ones(n) if sw is None else sw
            if labels is not None:
                if cw is not None:
                    row_w = row_w * cw[np.where(labels == ignore, 0, labels)
                                       if ignore is not None else labels]
                if ignore is not None:
                    row_w = np.where(labels == ignore, 0.0, row_w)
            if policy == _OMIT and n:
                row_w = np.where(np.isnan(yp).any(axis=1), 0.0, row_w)
            return float(np.sum(row_w))

        if reduction == "mean" or parts:
            # the denominator is known before the pass, so the gradient is scaled in it, once
            denom = total_weight(sw, cw)
            if reduction == "mean" and not parts and 0 < denom < _TINY_TOTAL:
                if sw is not None:
                    sw = _rescaled("sample_weight", sw, denom)[0]
                else:
                    cw = _rescaled("class_weight", cw, denom)[0]  # type: ignore[arg-type]
                denom = total_weight(sw, cw)
        if reduction == "mean":
            if not denom > 0:
                raise ValueError(
                    "reduction='mean' needs a positive total weight; got 0 (every row is "
                    "ignored, omitted or of weight 0)" if n else
                    "reduction='mean' needs a positive total weight; got 0 (0 rows)")
            scale = 1.0 / denom
        # an ignore_index no int64 label can equal ignores nothing
        k_ignore = ignore if ignore is not None and -2**63 <= ignore < 2**63 else None
        total, nan_at = kernel(kind_code, yp, labels, targets, sw, cw, k_ignore, smoothing, lo,
                               hi, scale, policy, grad, loss, threads)
        if nan_at >= 0 and policy == _RAISE:
            raise ValueError(f"y_pred{_index(nan_at, yp.shape)} is NaN (nan_policy='raise')")
        if parts:
            return total, denom
        if reduction == "mean":
            value: Any = total / denom
        else:
            value = loss if reduction == "none" else total
        return (value, grad) if want_grad else value

    def categorical_cross_entropy(
        y_true: object,
        y_pred: object,
        *,
        kind: str = "probability",
        sample_weight: object = None,
        class_weight: object = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        eps: float | None = None,
        nan_policy: str = "propagate",
        n_threads: int = 1,
    ) -> Any:
        """Categorical cross-entropy of ``y_pred`` (n, C) against labels or soft targets.

        Parameters
        ----------
        y_true : array_like of shape (n,) or (n, C)
            Integer class labels in [0, C) (any integer dtype, or floats holding integers;
            ``ignore_index`` marks rows to leave out), or soft targets >= 0 of the shape of
            ``y_pred``.
        y_pred : array_like of shape (n, C)
            Probabilities, logits or log-probabilities, as ``kind`` says.
        kind : {"probability", "logit", "log_probability"}
            ``"logit"`` is softmax cross-entropy (PyTorch's ``cross_entropy``);
            ``"log_probability"`` is the negative log-likelihood (``nll_loss``).
        sample_weight : array_like of shape (n,), optional
            Finite non-negative weight of each row.
        class_weight : array_like of shape (C,), optional
            Finite non-negative weight of each class, as PyTorch's ``weight``.
        ignore_index : int, optional
            Rows whose label equals it contribute no loss, weight or gradient.
        label_smoothing : float in [0, 1]
            The target becomes ``(1 - label_smoothing) * target + label_smoothing / C``.
        reduction : {"mean", "sum", "none"}
            ``"mean"`` divides by the total weight: the sum over rows of sample weight times
            the class weight of the row's label (the sample weights alone for soft targets).
            ``"none"`` returns the weighted loss of each row, shape (n,).
        eps : float in [0, 0.5), optional
            Probabilities are clipped to [eps, 1 - eps] (log-probabilities to
            [log eps, log1p(-eps)]); defaults to the machine epsilon of the dtype; 0 clips
            nothing (PyTorch's ``nll_loss``).
        nan_policy : {"propagate", "raise", "omit"}
            What a NaN in ``y_pred`` does: a NaN loss for its row, a ValueError, or the row
            is left out.
        n_threads : int
            Threads to use; -1 means all usable cores.

        Returns
        -------
        loss : float, or ndarray of shape (n,) for reduction="none"

        Examples
        --------
        >>> from crossent import categorical_cross_entropy
        >>> round(categorical_cross_entropy([0, 2], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]), 6)
        0.289909
        """
        return _categorical(y_true, y_pred, kind, sample_weight, class_weight, ignore_index,
                            label_smoothing, reduction, eps, nan_policy, n_threads, None, False)

    def categorical_cross_entropy_with_grad(
        y_true: object,
        y_pred: object,
        *,
        kind: str = "probability",
        sample_weight: object = None,
        class_weight: object = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        eps: float | None = None,
        nan_policy: str = "propagate",
        n_threads: int = 1,
        out: np.ndarray | None = None,
    ) -> tuple[Any, np.ndarray]:
        """Categorical cross-entropy and its gradient with respect to ``y_pred``.

        Takes the parameters of :func:`categorical_cross_entropy`, and ``out``: receives the
        gradient (shape (n, C), the float dtype of the computation, C-contiguous, writeable;
        it may be ``y_pred`` itself). The gradient is that of the returned loss: for "mean" it
        includes the division by the total weight; for "none" it is each row's weighted
        gradient. For logits it is ``softmax * A - a`` per row (``a`` the weighted, smoothed
        target, ``A`` its sum): ``softmax - onehot`` in the plain case.

        Examples
        --------
        >>> import numpy as np
        >>> from crossent import categorical_cross_entropy_with_grad
        >>> loss, grad = categorical_cross_entropy_with_grad(
        ...     [1], np.array([[0.0, 0.0]]), kind="logit")
        >>> round(loss, 6), grad.tolist()
        (0.693147, [[0.5, -0.5]])
        """
        return _categorical(y_true, y_pred, kind, sample_weight, class_weight,  # type: ignore[no-any-return]
                            ignore_index, label_smoothing, reduction, eps, nan_policy, n_threads,
                            out, True)

    def categorical_parts(y_true: object, y_pred: object, sample_weight: object = None,
                          *, kind: str = "probability", class_weight: object = None,
                          ignore_index: int | None = None, label_smoothing: float = 0.0,
                          eps: float | None = None, nan_policy: str = "propagate",
                          n_threads: int = 1) -> tuple[float, float]:
        return _categorical(y_true, y_pred, kind, sample_weight,  # type: ignore[no-any-return]
                            class_weight, ignore_index, label_smoothing, "sum", eps, nan_policy,
                            n_threads, None, False, True)

    functions: dict[str, Callable[..., Any]] = {
        "categorical_cross_entropy": categorical_cross_entropy,
        "categorical_cross_entropy_with_grad": categorical_cross_entropy_with_grad,
    }
    for name, f in functions.items():
        f.__module__ = module
        f.__qualname__ = name
    functions["parts"] = categorical_parts
    return functions
