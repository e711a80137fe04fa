"""The numpy implementation of crossent: the same names, the same semantics, the same errors.

It is the fallback when the C extension is missing (or ``CROSSENT_BACKEND=numpy``) and the
reference the C kernel is compared with. It shares all validation with the C path
(``crossent._api``); only :func:`binary_kernel`, the pass itself, is written here, with numpy
array expressions in float64 for every input dtype.

Examples
--------
>>> from crossent import reference
>>> round(reference.binary_cross_entropy([1, 0], [0.9, 0.2]), 6)
0.164252
"""

from __future__ import annotations

import numpy as np

from ._accumulator import LossAccumulator as _LossAccumulator
from ._api import KINDS, NAN_POLICIES, make_categorical_functions, make_functions
from ._log_loss import make_log_loss

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_grad",
    "binary_logistic_grad_hess",
    "categorical_cross_entropy",
    "categorical_cross_entropy_with_grad",
    "log_loss",
    "LossAccumulator",
    "binary_kernel",
    "categorical_kernel",
]

_LN2 = float(np.log(2.0))


def _first(mask: np.ndarray) -> int:
    """Flat index of the first True in ``mask``, or -1."""
    flat = mask.ravel()
    i = int(np.argmax(flat)) if flat.size else 0
    return i if flat.size and flat[i] else -1


def _dropping_zero(coef: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``coef * value`` where a zero coefficient gives 0 even against an infinite value."""
    return np.where(coef == 0, 0.0, coef * value)


def _logit(x: np.ndarray, y: np.ndarray, pw: np.ndarray) -> tuple[np.ndarray, ...]:
    e = np.exp(-np.abs(x))
    d = 1.0 + e
    nonneg = x >= 0
    sig_pos = np.where(nonneg, 1.0 / d, e / d)
    sig_neg = np.where(nonneg, e / d, 1.0 / d)
    q = pw * y
    lw = np.where(pw == 1.0, 1.0, q + (1.0 - y))  # 1 + (pw - 1) y would lose a tiny pw
    loss = _dropping_zero(np.where(nonneg, 1.0 - y, -q), x) + lw * np.log1p(e)
    grad = (1.0 - y) * sig_pos - q * sig_neg
    hess = lw * (e / (d * d))
    return loss, grad, hess


def _probability(x, y, pw, lo, hi):  # type: ignore[no-untyped-def]
    p = np.clip(x, lo, hi)
    q = pw * y
    m = 1.0 - y
    loss = -(_dropping_zero(q, np.log(p)) + _dropping_zero(m, np.log1p(-p)))
    grad = _dropping_zero(m, 1.0 / (1.0 - p)) - _dropping_zero(q, 1.0 / p)
    return loss, grad, None


def _log_probability(x, y, pw, lo, hi):  # type: ignore[no-untyped-def]
    a = np.clip(x, lo, hi)
    q = pw * y
    m = 1.0 - y
    log1mexp = np.where(a > -_LN2, np.log(-np.expm1(a)), np.log1p(-np.exp(a)))
    loss = -(_dropping_zero(q, a) + _dropping_zero(m, log1mexp))
    # 0.0 - a, not -a: expm1 must see +0 at a = -0 so that the limit +inf keeps its sign
    grad = _dropping_zero(m, 1.0 / np.expm1(0.0 - a)) - q
    return loss, grad, None


def binary_kernel(
    kind: int,
    n: int,
    k: int,
    y_pred: np.ndarray,
    y_true: np.ndarray,
    sample_weight: np.ndarray | None,
    pos_weight: np.ndarray | None,
    label_smoothing: float,
    clip_lo: float,
    clip_hi: float,
    grad_scale: float,
    nan_policy: int,
    grad: np.ndarray | None,
    hess: np.ndarray | None,
    loss: np.ndarray | None,
    n_threads: int = 1,
) -> tuple[float, float, int, int, int, float, float]:
    """The binary pass in numpy, with the contract of ``crossent._core.binary`` (serial: numpy
    is single-threaded here, so ``n_threads`` is accepted and ignored)."""
    x = y_pred.reshape(n, k).astype(np.float64)
    y = y_true.reshape(n, k).astype(np.float64)
    bad_label = _first(~((y >= 0) & (y <= 1)))
    nan = np.isnan(x)
    nan_pred = _first(nan)
    if kind == KINDS["probability"]:
        bad_pred = _first((x < 0) | (x > 1))
    elif kind == KINDS["log_probability"]:
        bad_pred = _first(x > 0)
    else:
        bad_pred = -1
    bad_label_value = float(y.flat[bad_label]) if bad_label >= 0 else 0.0
    bad_pred_value = float(x.flat[bad_pred]) if bad_pred >= 0 else 0.0
    with np.errstate(all="ignore"):  # a bad label is reported by value, not by a warning
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    pw = np.ones((1, k)) if pos_weight is None else pos_weight.reshape(1, k)
    w = (np.ones(n) if sample_weight is None else sample_weight).reshape(n, 1)
    with np.errstate(all="ignore"):
        if kind == KINDS["logit"]:
            el, eg, eh = _logit(x, y, pw)
        elif kind == KINDS["probability"]:
            el, eg, eh = _probability(x, y, pw, clip_lo, clip_hi)
        else:
            el, eg, eh = _log_probability(x, y, pw, clip_lo, clip_hi)
        # an omitted element has weight 0, and a zero weight removes the element entirely
        omit = nan_policy == NAN_POLICIES["omit"]
        wk = np.where(nan, 0.0, w) if omit else np.broadcast_to(w, (n, k))
        weighted_loss = _dropping_zero(wk, el)
        if grad is not None:
            grad.reshape(n, k)[...] = _dropping_zero(wk * grad_scale, eg)
        if hess is not None and eh is not None:
            hess.reshape(n, k)[...] = _dropping_zero(wk, eh)
        if loss is not None:
            loss.reshape(n, k)[...] = weighted_loss
        loss_sum = float(np.sum(weighted_loss))
        weight_sum = float(np.sum(wk))
    return loss_sum, weight_sum, bad_label, bad_pred, nan_pred, bad_label_value, bad_pred_value


def _neg_log_softmax(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-log softmax of each row, the softmax, 1 - softmax at each row's maximum, and where that
    maximum is. The log-sum-exp is m + log1p(rest), rest the exponentials of the other classes
    (relative to the maximum m), so a confident row keeps the full relative precision of its
    small loss; 1 - softmax at the maximum is rest / sum for the same reason."""
    n = z.shape[0]
    top = np.argmax(z, axis=1)
    m = z[np.arange(n), top][:, None]
    # z - m is inexact in float64; its rounding error dl (two-sum) goes into the exponential,
    # where one ULP of a difference near -700 would be hundreds of ULP
    # z == m gives a difference of 0 also at an infinite maximum: the classes at +-inf share
    # the row equally (the limit of equal growth), as in the C kernel
    at_max = z == m
    d = np.where(at_max, 0.0, z - m)
    b = d - z
    dl = np.where(np.isfinite(d) & np.isfinite(z), (z - (d - b)) - (m + b), 0.0)
    e = np.exp(d)
    e = e + e * dl
    others = e.copy()
    others[np.arange(n), top] = 0.0
    rest = others.sum(axis=1, keepdims=True)
    total = 1.0 + rest
    nls = -d + np.log1p(rest)
    p = e / total
    return nls, p, rest / total, top


def categorical_kernel(
    kind: int,
    y_pred: np.ndarray,
    labels: np.ndarray | None,
    targets: np.ndarray | None,
    sample_weight: np.ndarray | None,
    class_weight: np.ndarray | None,
    ignore_index: int | None,
    label_smoothing: float,
    clip_lo: float,
    clip_hi: float,
    grad_scale: float,
    nan_policy: int,
    grad: np.ndarray | None,
    loss: np.ndarray | None,
    n_threads: int = 1,
) -> tuple[float, int]:
    """The categorical pass in numpy, with the contract of ``crossent._core.categorical``, on
    validated input: y_pred (n, C), and either integer ``labels`` (n,) or soft ``targets``
    (n, C). Per row i, with the target vector t (one-hot, or the soft row), smoothed to
    (1 - eps) t + eps / C, and a = class_weight * t: loss_i = w_i sum_c a_c (-log p_c) and
    grad_i = w_i (A p - a) for logits (A = sum_c a_c), -w_i a / p for probabilities and
    -w_i a for log-probabilities, w_i the sample weight (0 for an ignored row, and for a row
    with a NaN under nan_policy "omit"; a NaN row is NaN otherwise). Writes the gradient times
    ``grad_scale`` (one rounding to the output dtype) and the per-row weighted loss where
    asked; returns (sum of the weighted losses, flat index of the first NaN in y_pred or -1).
    ``n_threads`` is accepted and ignored."""
    x = y_pred.astype(np.float64)
    n, c = x.shape
    cw = np.ones(c) if class_weight is None else class_weight.astype(np.float64)
    sw = np.ones(n) if sample_weight is None else sample_weight.astype(np.float64)
    nan = np.isnan(x)
    nan_pred = _first(nan)
    rows = np.arange(n)
    if labels is not None:
        keep = np.ones(n, dtype=bool) if ignore_index is None else labels != ignore_index
        lab = np.where(keep, labels, 0).astype(np.intp)
        t = np.zeros((n, c))
        t[rows, lab] = 1.0
    else:
        keep = np.ones(n, dtype=bool)
        t = targets.astype(np.float64)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / c
    a = cw[None, :] * t
    w = np.where(keep, sw, 0.0)
    if nan_policy == NAN_POLICIES["omit"]:
        bad_row = nan.any(axis=1)
        w = np.where(bad_row, 0.0, w)
    with np.errstate(all="ignore"):
        if kind == KINDS["logit"]:
            nls, p, one_minus_top, top = _neg_log_softmax(x)
            big_a = a.sum(axis=1, keepdims=True)
            g = big_a * p - a
            # at the row maximum, when p > 1/2: A p - a = (A - a) - A (1 - p), without the
            # cancellation of p - 1 (below 1/2, A p - a as it is has none)
            rest_a = np.where(np.arange(c)[None, :] == top[:, None], 0.0, a).sum(axis=1)
            omt = one_minus_top[:, 0]
            g[rows, top] = np.where(omt < 0.5, rest_a - big_a[:, 0] * omt, g[rows, top])
        elif kind == KINDS["probability"]:
            q = np.clip(x, clip_lo, clip_hi)
            nls = -np.log(q)
            g = -_dropping_zero(a, 1.0 / q)  # 0, not 0/0, for an absent class at q = 0
        else:
            q = np.clip(x, clip_lo, clip_hi)
            nls = -q
            g = -a
        row_loss = _dropping_zero(a, nls).sum(axis=1)
        if nan_policy != NAN_POLICIES["omit"]:
            # a NaN anywhere in a row makes the row NaN, whatever its target weights
            nan_row = nan.any(axis=1)
            row_loss = np.where(nan_row, np.nan, row_loss)
            g = np.where(nan_row[:, None], np.nan, g)
        weighted = _dropping_zero(w, row_loss)
        if grad is not None:
            grad[...] = _dropping_zero(w[:, None] * grad_scale, g)
        if loss is not None:
            loss[...] = weighted
        return float(np.sum(weighted)), nan_pred


def log_loss_pass(
    y_pred: np.ndarray,
    labels: np.ndarray,
    sample_weight: np.ndarray | None,
    clip_lo: float,
    clip_hi: float,
    sum_tol: float,
    seen: np.ndarray,
) -> tuple[float, float, int, int, int]:
    """log_loss's pass, as ``crossent._core.log_loss_pass``: (loss_sum, weight_sum, n_bad_pred,
    n_bad_label, n_bad_sum), with seen[code] set to 1 for the codes that occur."""
    x = y_pred.astype(np.float64)
    c = 1 if x.ndim == 1 else x.shape[1]
    n_classes = 2 if c == 1 else c
    bad_pred = int(np.count_nonzero(~((x >= 0) & (x <= 1))))
    ok = (labels >= 0) & (labels < n_classes)
    seen[labels[ok]] = 1
    bad_label = int(labels.size - np.count_nonzero(ok))
    if bad_pred or bad_label:
        return float("nan"), float("nan"), bad_pred, bad_label, 0
    if c == 1:
        q = np.clip(x, clip_lo, clip_hi)
        row = np.where(labels == 1, -np.log(q), -np.log1p(-q))
        bad_sum = 0
    else:
        bad_sum = int(np.count_nonzero(~(np.abs(x.sum(axis=1) - 1.0) <= sum_tol)))
        row = -np.log(np.clip(x[np.arange(x.shape[0]), labels], clip_lo, clip_hi))
    if sample_weight is None:
        return float(np.sum(row)), float(row.size), 0, 0, bad_sum
    return float(row @ sample_weight), float(np.sum(sample_weight)), 0, 0, bad_sum


_functions = make_functions(binary_kernel, __name__)
binary_cross_entropy = _functions["binary_cross_entropy"]
binary_cross_entropy_with_grad = _functions["binary_cross_entropy_with_grad"]
binary_logistic_grad_hess = _functions["binary_logistic_grad_hess"]
_categorical = make_categorical_functions(categorical_kernel, __name__)
categorical_cross_entropy = _categorical["categorical_cross_entropy"]
categorical_cross_entropy_with_grad = _categorical["categorical_cross_entropy_with_grad"]
log_loss = make_log_loss(binary_cross_entropy, categorical_cross_entropy, __name__, log_loss_pass)
_parts = {"binary": _functions["parts"], "categorical": _categorical["parts"]}


class LossAccumulator(_LossAccumulator):
    """``crossent.LossAccumulator`` on this module's numpy functions."""

    _module = __name__
