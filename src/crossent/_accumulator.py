"""LossAccumulator: the loss of data seen in batches, equal to the loss of one call over all of it.

Design: each batch contributes two numbers, its weighted loss sum and its total weight (the
denominator of "mean"), both computed by the kernel's own call. They are added as exact
double-double sums (two-sum), so the order and size of the batches changes the result by no
more than the rounding of the final division. The state is a few floats and the options, so an
accumulator pickles, crosses process boundaries and merges with another one.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

__all__ = ["LossAccumulator"]

_LOSSES = {
    "binary": ("kind", "pos_weight", "label_smoothing", "eps", "nan_policy", "n_threads"),
    "categorical": ("kind", "class_weight", "ignore_index", "label_smoothing", "eps",
                    "nan_policy", "n_threads"),
}


def _two_sum(hi: float, lo: float, x: float) -> tuple[float, float]:
    """(hi, lo) + x as a new unevaluated pair: hi is the rounded sum, lo what it lost (0 once
    the sum is inf or NaN, where the error terms would be NaN and nothing is lost)."""
    s = hi + x
    if not math.isfinite(s):
        return s, 0.0
    b = s - hi
    err = (hi - (s - b)) + (x - b)
    return s, lo + err


class LossAccumulator:
    """The binary or categorical cross-entropy of data that arrives in batches.

    Parameters
    ----------
    loss : {"binary", "categorical"}
        ``binary_cross_entropy`` or ``categorical_cross_entropy`` semantics.
    kind : {"probability", "logit", "log_probability"}
        What the predictions hold.
    reduction : {"mean", "sum"}
        What :meth:`result` returns: the weighted mean over everything seen, or the sum.
    **options
        The other options of that function (``pos_weight``, ``class_weight``,
        ``ignore_index``, ``label_smoothing``, ``eps``, ``nan_policy``, ``n_threads``),
        applied to every batch.

    Examples
    --------
    >>> from crossent import LossAccumulator, binary_cross_entropy
    >>> acc = LossAccumulator("binary", kind="logit")
    >>> acc.update([1, 0], [2.0, -1.0])
    >>> acc.update([1], [0.5])
    >>> round(acc.result(), 12) == round(binary_cross_entropy([1, 0, 1], [2.0, -1.0, 0.5],
    ...                                                       kind="logit"), 12)
    True
    """

    _module = "crossent"

    def __init__(self, loss: str = "binary", kind: str = "probability", *,
                 reduction: str = "mean", **options: Any) -> None:
        if not isinstance(loss, str) or loss not in _LOSSES:
            raise ValueError(f"loss must be 'binary' or 'categorical'; got {loss!r}")
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum'; got {reduction!r}")
        unknown = sorted(set(options) - set(_LOSSES[loss]))
        if unknown:
            raise TypeError(f"LossAccumulator(loss={loss!r}) got unknown options {unknown}; "
                            f"it takes {list(_LOSSES[loss])}")
        self.loss = loss
        self.reduction = reduction
        self.options = {"kind": kind, **options}  # their values are checked by each update
        self._sum = (0.0, 0.0)
        self._weight = (0.0, 0.0)
        self.n_updates = 0

    def _parts(self) -> Any:
        module = importlib.import_module(self._module)
        return module._parts[self.loss]

    def update(self, y_true: object, y_pred: object, sample_weight: object = None) -> None:
        """Add one batch: arrays as the one-call function takes them.

        Parameters
        ----------
        y_true, y_pred : array_like
            Labels and predictions of the batch.
        sample_weight : array_like, optional
            Weights of the batch's samples (rows).
        """
        loss_sum, weight = self._parts()(y_true, y_pred, sample_weight, **self.options)
        self._sum = _two_sum(*self._sum, float(loss_sum))
        self._weight = _two_sum(*self._weight, float(weight))
        self.n_updates += 1

    def merge(self, other: LossAccumulator) -> LossAccumulator:
        """Add everything ``other`` has seen (same loss and options); returns self."""
        if not isinstance(other, LossAccumulator):
            raise TypeError(f"other must be a LossAccumulator; got {type(other).__name__}")
        mine = (self.loss, self.reduction, _comparable(self.options))
        theirs = (other.loss, other.reduction, _comparable(other.options))
        if mine != theirs:
            raise ValueError(f"cannot merge accumulators with different settings: {mine} and "
                             f"{theirs}")
        for name in ("_sum", "_weight"):
            hi, lo = getattr(self, name)
            hi, lo = _two_sum(hi, lo, getattr(other, name)[0])
            setattr(self, name, _two_sum(hi, lo, getattr(other, name)[1]))
        self.n_updates += other.n_updates
        return self

    @property
    def weight(self) -> float:
        """The total weight seen: the denominator of the mean."""
        hi, lo = self._weight
        return hi + lo if math.isfinite(hi) else hi

    def result(self) -> float:
        """The loss of everything seen, as one call over all of it would give."""
        hi, lo = self._sum
        total = hi + lo if math.isfinite(hi) else hi  # an inf or NaN sum leaves lo NaN
        if self.reduction == "sum":
            return total
        weight = self.weight
        if not weight > 0:
            raise ValueError("reduction='mean' needs a positive total weight; got "
                             f"{weight} after {self.n_updates} updates")
        return total / weight

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return (f"{type(self).__name__}({self.loss!r}, {opts}, reduction={self.reduction!r}; "
                f"{self.n_updates} updates, weight {self.weight:g})")


def _comparable(options: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Options as a tuple that compares by value (arrays as tuples)."""
    import numpy as np

    return tuple(sorted((k, tuple(np.ravel(v).tolist()) if np.ndim(v) else v)
                        for k, v in options.items()))
