"""``log_loss``: the value of ``sklearn.metrics.log_loss``, computed by the crossent kernels.

Design: scikit-learn one-hot encodes the labels (a ``LabelBinarizer`` matrix of n x C floats) and
sums ``xlogy`` over it. Here the labels become what the kernels take instead: 0/1 targets for a
single column of probabilities, class indices for (n, C). For integer labels that costs a few
reductions (min, max, and a bincount when there are more than two columns); strings, floats and
``labels=`` go through a sort. The checks follow scikit-learn's order, exception types and
warnings, so that code catching its errors keeps working.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["InvalidParameterError", "make_log_loss"]


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type: both a ValueError and a TypeError, as in scikit-learn."""


def _zero_d(x: object) -> bool:
    """A 0-d array: a scalar in an array, which scikit-learn rejects as a type error."""
    return isinstance(x, np.ndarray) and x.ndim == 0


def _proba(y_proba: object) -> np.ndarray:
    """y_proba as a float array of 1 or 2 dimensions, finite, in [0, 1]."""
    if y_proba is None or np.isscalar(y_proba) or _zero_d(y_proba):
        raise InvalidParameterError(
            f"y_proba must be an array-like of probabilities; got {y_proba!r}")
    try:
        p = np.asarray(y_proba)
    except ValueError as exc:
        raise ValueError(f"y_proba must be a rectangular array of probabilities: {exc}") from None
    if p.dtype.kind == "c":
        raise ValueError(f"y_proba must hold real numbers; got complex dtype {p.dtype}")
    if p.dtype.kind == "f":
        if p.dtype.itemsize > 8:  # long double: computed in float64
            p = p.astype(np.float64)
    else:
        try:  # integers, bool, strings of numbers, objects holding numbers (None becomes NaN)
            p = p.astype(np.float64)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"y_proba must hold probabilities: {exc}") from None
    if p.ndim not in (1, 2):
        raise ValueError(f"y_proba must have shape (n,) or (n, C); got {p.ndim} dimensions "
                         f"{p.shape}")
    if p.shape[0] == 0 or p.size == 0:
        raise ValueError(f"y_proba must hold at least one sample; got shape {p.shape}")
    lo, hi = p.min(), p.max()  # NaN propagates into both
    if not (math.isfinite(lo) and math.isfinite(hi)):
        bad = np.flatnonzero(~np.isfinite(p))
        i = int(bad[0])
        where = np.unravel_index(i, p.shape)
        what = "NaN" if np.isnan(p.flat[i]) else "infinity"
        raise ValueError(f"y_proba contains {what}: y_proba{list(where)} = {p.flat[i]}")
    if hi > 1:
        raise ValueError(f"y_proba contains values greater than 1: {hi}")
    if lo < 0:
        raise ValueError(f"y_proba contains values lower than 0: {lo}")
    return np.ascontiguousarray(p)


def _y_true(y_true: object) -> np.ndarray:
    if y_true is None or np.isscalar(y_true) or _zero_d(y_true):
        raise InvalidParameterError(f"y_true must be an array-like of labels; got {y_true!r}")
    y = np.asarray(y_true)
    if y.dtype.kind in "US" and not isinstance(y_true, np.ndarray):
        # a list such as ["a", 1] becomes strings in numpy; a mix of labels is an error
        flat = list(np.asarray(y_true, dtype=object).ravel())
        if any(not isinstance(v, str | bytes) for v in flat):
            raise InvalidParameterError(
                f"y_true mixes label types (string and number); got {y[:10]}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise ValueError(f"y_true must have shape (n,) or be a (n, C) indicator matrix; got "
                         f"shape {y.shape}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        bad = np.flatnonzero(~np.isfinite(y))
        raise ValueError(f"y_true contains NaN or infinity: y_true[{int(bad[0])}] = "
                         f"{y.flat[int(bad[0])]}")
    if y.dtype.kind == "c" or y.dtype.kind not in "biufUSO":
        raise ValueError(f"y_true must hold class labels; got an array of dtype {y.dtype}")
    return y


def _sample_weight(sample_weight: object, n: int, lengths: list[int]) -> np.ndarray | None:
    if sample_weight is None:
        return None
    if np.isscalar(sample_weight):
        raise InvalidParameterError(
            f"sample_weight must be an array-like or None; got {sample_weight!r}")
    sw = np.asarray(sample_weight)
    if sw.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold real numbers; got an array of dtype {sw.dtype}")
    if sw.ndim != 1:
        raise ValueError(f"sample_weight must be a 1-D array of length {n}; got shape {sw.shape}")
    if sw.shape[0] != n:
        raise ValueError("Found input variables with inconsistent numbers of samples: "
                         f"{lengths + [sw.shape[0]]} (y_proba, y_true, sample_weight)")
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(sw))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"sample_weight must be finite; sample_weight[{i}] = {sw[i]}")
    if not sw.any():
        raise ValueError("sample_weight must contain at least one non-zero weight")
    return sw


def _classes_of(values: np.ndarray, name: str) -> np.ndarray:
    """The sorted distinct labels of ``values``."""
    try:
        classes = np.unique(values)
    except TypeError:
        raise InvalidParameterError(
            f"{name} mixes label types (string and number); got {values[:10]}") from None
    if classes.dtype.kind == "f" and np.any(classes != np.floor(classes)):
        bad = classes[classes != np.floor(classes)][0]
        raise ValueError(f"Unknown label type: {name} holds continuous values such as {bad}; "
                         "log_loss needs class labels")
    return classes


def _indices(y: np.ndarray, classes: np.ndarray, declared: bool) -> np.ndarray:
    """The position of each label of y in the sorted ``classes``."""
    try:
        idx = np.searchsorted(classes, y)
        found = np.take(classes, np.minimum(idx, classes.size - 1)) == y
    except TypeError:  # labels of another type than y_true's (strings and numbers)
        idx = np.zeros(y.shape, np.int64)
        found = np.zeros(y.shape, bool)
    if not found.all():
        missing = sorted({v.item() if hasattr(v, "item") else v for v in y[~found][:1000]},
                         key=str)
        if declared:
            raise ValueError(f"y_true contains values {set(missing)} not belonging to the "
                             f"passed labels {classes.tolist()}")
        raise AssertionError("a label is missing from the classes found in y_true")
    return np.asarray(idx, dtype=np.int64)


def _integer_codes(y: np.ndarray) -> np.ndarray | None:
    """y as int64 when it holds integers (bool, int, or floats that are whole numbers)."""
    if y.dtype.kind in "bi" or (y.dtype.kind == "u" and y.dtype.itemsize < 8):
        return y.astype(np.int64, copy=False)
    if y.dtype.kind == "u":
        return y.astype(np.int64) if y.max() < 2**63 else None
    if y.dtype.kind == "f" and np.abs(y).max() < 2**53 and np.array_equal(y, np.floor(y)):
        return y.astype(np.int64)
    return None


def _multiclass_codes(y: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """(classes, index of each label) for labels inferred from y_true."""
    codes = _integer_codes(y) if y.dtype.kind in "biuf" else None
    if codes is not None:
        lo, hi = int(codes.min()), int(codes.max())
        if n_cols == 2 and lo < hi:
            if hi - lo == 1:  # whole numbers in [lo, lo + 1]: two classes, nothing else
                return np.array([lo, hi]), codes if lo == 0 else codes - lo
            positive = codes == hi
            if np.count_nonzero(positive | (codes == lo)) == codes.size:
                return np.array([lo, hi]), positive
        elif lo == 0 and hi == n_cols - 1 and np.bincount(codes, minlength=n_cols).all():
            return np.arange(n_cols), codes  # labels 0 .. C-1, every one present
    classes = _classes_of(y, "y_true")
    return classes, _indices(y, classes, False) if classes.size > 1 else np.zeros(0, np.int64)


def _fast_sums(
    pass_: Callable[..., Any], y_true: object, y_proba: object, sample_weight: object
) -> tuple[float, float, int] | None:
    """(weighted loss sum, weight sum, rows not summing to one) from one pass, for the usual
    call: integer (or bool) labels 0 .. C-1 that all occur, float32/float64 probabilities of
    shape (n, C) or (n,) in [0, 1], and valid weights. None for anything else, which the
    general path then handles, with its checks in scikit-learn's order and its messages."""
    if not (isinstance(y_proba, np.ndarray) and isinstance(y_true, np.ndarray)):
        return None
    p, y = y_proba, y_true
    if p.dtype.kind != "f" or p.dtype.itemsize not in (4, 8) or p.ndim not in (1, 2) \
            or p.size == 0:
        return None
    if not (y.dtype.kind in "bi" or (y.dtype.kind == "u" and y.dtype.itemsize < 8)) \
            or y.shape not in ((p.shape[0],), (p.shape[0], 1)):
        return None
    if p.ndim == 2 and p.shape[1] == 1:
        p = p.reshape(-1)
    try:
        sw = _sample_weight(sample_weight, p.shape[0], [p.shape[0], y.shape[0]])
    except (ValueError, TypeError):
        return None
    p = np.ascontiguousarray(p)
    if not p.dtype.isnative:
        p = p.astype(p.dtype.newbyteorder("="))
    codes = np.ascontiguousarray(y.reshape(-1), dtype=np.int64)
    eps = float(np.finfo(p.dtype).eps)
    seen = np.zeros(2 if p.ndim == 1 else p.shape[1], np.uint8)
    loss, weight, bad_pred, bad_label, bad_sum = pass_(
        p, codes, sw, eps, 1.0 - eps, 1e-8 + math.sqrt(eps), seen)
    if bad_pred or bad_label or not seen.all():
        return None
    return loss, weight, bad_sum


def make_log_loss(
    binary: Callable[..., Any],
    categorical: Callable[..., Any],
    module: str,
    pass_: Callable[..., Any] | None = None,
) -> Callable[..., float]:
    """``log_loss`` on ``binary`` and ``categorical`` (crossent's or crossent.reference's), with
    ``pass_`` (their ``log_loss_pass``) for the usual call in one read of the data."""

    def log_loss(
        y_true: object,
        y_proba: object,
        *,
        normalize: bool = True,
        sample_weight: object = None,
        labels: object = None,
    ) -> float:
        """Log loss of predicted probabilities, with the semantics of ``sklearn.metrics.log_loss``.

        Parameters
        ----------
        y_true : array_like of shape (n,), or an indicator matrix of shape (n, C)
            Class labels of any type scikit-learn accepts (integers, bools, strings, floats
            holding whole numbers).
        y_proba : array_like of shape (n, C), (n,) or (n, 1)
            Probabilities of the classes in sorted order; a single column is the probability
            of the larger of two classes. Clipped to ``[eps, 1 - eps]``, ``eps`` the machine
            epsilon of its dtype.
        normalize : bool
            True for the weighted mean over samples, False for the weighted sum.
        sample_weight : array_like of shape (n,), optional
            Finite weights (negative ones are allowed, as in scikit-learn).
        labels : array_like, optional
            All the classes, when ``y_true`` may lack some; sorted, as the columns are.

        Returns
        -------
        loss : float

        Examples
        --------
        >>> from crossent import log_loss
        >>> round(log_loss(["spam", "ham", "ham", "spam"],
        ...                [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 6)
        0.216162
        """
        if not isinstance(normalize, bool | np.bool_):
            raise InvalidParameterError(f"normalize must be a bool; got {normalize!r}")
        fast = None if labels is not None or pass_ is None else _fast_sums(
            pass_, y_true, y_proba, sample_weight)
        if fast is not None:
            total, weight, bad_sum = fast
            if bad_sum:
                warnings.warn("The y_proba values do not sum to one. Make sure to pass "
                              "probabilities.", UserWarning, stacklevel=2)
            if not normalize:
                return total
            if weight == 0:
                raise ZeroDivisionError("sample_weight sums to zero, so the mean is undefined")
            return total / weight
        p = _proba(y_proba)
        y = _y_true(y_true)
        n = p.shape[0]
        if y.shape[0] != n:
            raise ValueError("Found input variables with inconsistent numbers of samples: "
                             f"{[n, y.shape[0]]} (y_proba, y_true)")
        sw = _sample_weight(sample_weight, n, [n, y.shape[0]])
        n_cols = 2 if p.ndim == 1 or p.shape[1] == 1 else p.shape[1]
        targets = codes = None
        if y.ndim == 2:  # an indicator matrix: its columns are the classes
            if labels is not None:
                raise ValueError("labels cannot be given with an indicator matrix y_true; its "
                                 "columns are the classes")
            if not (y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all()):
                raise ValueError("y_true of shape (n, C) must be an indicator matrix of 0 and "
                                 "1 (a multioutput target is not a classification target)")
            classes = np.arange(y.shape[1])
            targets = y
        elif labels is not None:
            lab = np.asarray(labels)
            if lab.ndim != 1:
                lab = lab.ravel()
            classes = _classes_of(lab, "labels")
            if classes.size != lab.size:
                raise ValueError(f"labels must not repeat a class; got {lab.tolist()}")
            if classes.size < 2:
                raise ValueError(f"labels must hold at least two classes; got {lab.tolist()}")
            if not np.array_equal(classes, lab):
                warnings.warn(
                    f"labels {lab.tolist()} are not in sorted order; the columns of y_proba "
                    f"are taken to be the classes sorted, {classes.tolist()}",
                    UserWarning, stacklevel=2)
            codes = _indices(y, classes, True)
        else:
            classes, codes = _multiclass_codes(y, n_cols)
            if classes.size == 1:
                raise ValueError(
                    f"y_true contains only one label ({classes[0]}). Please provide the list "
                    "of all expected class labels explicitly through the labels argument.")
        if classes.size != n_cols:
            found = "labels" if labels is not None else "y_true"
            raise ValueError(
                f"y_true and y_proba contain different numbers of classes: {classes.size} "
                f"in {found} vs {n_cols} columns of y_proba. "
                + ("Please provide the true labels explicitly through the labels argument. "
                   if labels is None else "")
                + f"Classes found in {found}: {classes}")
        eps = float(np.finfo(p.dtype).eps)
        if p.ndim == 2 and p.shape[1] > 1:
            tol = math.sqrt(eps)
            sums = p.sum(axis=1, dtype=np.float64)
            if not (np.abs(sums - 1.0) <= 1e-8 + tol).all():
                warnings.warn("The y_proba values do not sum to one. Make sure to pass "
                              "probabilities.", UserWarning, stacklevel=2)
        if p.dtype == np.float16:
            p = p.astype(np.float32)
        # the kernels take non-negative weights; others are applied here, to the row losses
        signed = sw is not None and sw.min() < 0
        reduction = "none" if signed else ("mean" if normalize else "sum")
        kw: dict[str, Any] = {"kind": "probability", "eps": eps, "reduction": reduction,
                              "sample_weight": None if signed else sw}
        if p.ndim == 1 or p.shape[1] == 1:
            p = p.reshape(n)
            if codes is not None:
                value = binary(codes, p, **kw)
            else:  # both columns of an indicator matrix may hold a 1
                value = categorical(targets, np.stack([1 - p, p], axis=1), **kw)
        else:
            value = categorical(codes if codes is not None else targets, p, **kw)
        if signed:
            assert sw is not None
            row = np.asarray(value, dtype=np.float64)
            total = float(row @ sw)
            if not normalize:
                return total
            weight = float(sw.sum())
            if weight == 0:
                raise ZeroDivisionError("sample_weight sums to zero, so the mean is undefined")
            return total / weight
        return float(value)

    log_loss.__module__ = module
    return log_loss
