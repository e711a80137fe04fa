# Signatures shared by crossent and crossent.reference.
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Kind = Literal["probability", "logit", "log_probability"]
Reduction = Literal["mean", "sum", "none"]
NanPolicy = Literal["propagate", "raise", "omit"]
FloatArray = NDArray[np.float32] | NDArray[np.float64]

def binary_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    kind: Kind = "probability",
    sample_weight: ArrayLike | None = None,
    pos_weight: float | ArrayLike | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
    eps: float | None = None,
    nan_policy: NanPolicy = "propagate",
    n_threads: int = 1,
) -> Any: ...
def binary_cross_entropy_with_grad(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    kind: Kind = "probability",
    sample_weight: ArrayLike | None = None,
    pos_weight: float | ArrayLike | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
    eps: float | None = None,
    nan_policy: NanPolicy = "propagate",
    n_threads: int = 1,
    out: FloatArray | None = None,
) -> tuple[Any, FloatArray]: ...
def binary_logistic_grad_hess(
    y_true: ArrayLike,
    logits: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    pos_weight: float | ArrayLike | None = None,
    grad_out: FloatArray | None = None,
    hess_out: FloatArray | None = None,
    n_threads: int = 1,
) -> tuple[FloatArray, FloatArray]: ...
def categorical_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    kind: Kind = "probability",
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
    eps: float | None = None,
    nan_policy: NanPolicy = "propagate",
    n_threads: int = 1,
) -> Any: ...
def categorical_cross_entropy_with_grad(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    kind: Kind = "probability",
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
    eps: float | None = None,
    nan_policy: NanPolicy = "propagate",
    n_threads: int = 1,
    out: FloatArray | None = None,
) -> tuple[Any, FloatArray]: ...
def log_loss(
    y_true: ArrayLike,
    y_proba: ArrayLike,
    *,
    normalize: bool = True,
    sample_weight: ArrayLike | None = None,
    labels: ArrayLike | None = None,
) -> float: ...
