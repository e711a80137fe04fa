from typing import Any

import numpy as np

from ._accumulator import LossAccumulator as LossAccumulator
from ._functions import (
    binary_cross_entropy as binary_cross_entropy,
)
from ._functions import (
    binary_cross_entropy_with_grad as binary_cross_entropy_with_grad,
)
from ._functions import (
    binary_logistic_grad_hess as binary_logistic_grad_hess,
)
from ._functions import (
    categorical_cross_entropy as categorical_cross_entropy,
)
from ._functions import (
    categorical_cross_entropy_with_grad as categorical_cross_entropy_with_grad,
)
from ._functions import (
    log_loss as log_loss,
)

def binary_kernel(
    kind: int,
    n: int,
    k: int,
    y_pred: np.ndarray[Any, Any],
    y_true: np.ndarray[Any, Any],
    sample_weight: np.ndarray[Any, Any] | None,
    pos_weight: np.ndarray[Any, Any] | None,
    label_smoothing: float,
    clip_lo: float,
    clip_hi: float,
    grad_scale: float,
    nan_policy: int,
    grad: np.ndarray[Any, Any] | None,
    hess: np.ndarray[Any, Any] | None,
    loss: np.ndarray[Any, Any] | None,
    n_threads: int = 1,
) -> tuple[float, float, int, int, int, float, float]: ...
def categorical_kernel(
    kind: int,
    y_pred: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any] | None,
    targets: np.ndarray[Any, Any] | None,
    sample_weight: np.ndarray[Any, Any] | None,
    class_weight: np.ndarray[Any, Any] | None,
    ignore_index: int | None,
    label_smoothing: float,
    clip_lo: float,
    clip_hi: float,
    grad_scale: float,
    nan_policy: int,
    grad: np.ndarray[Any, Any] | None,
    loss: np.ndarray[Any, Any] | None,
    n_threads: int = 1,
) -> tuple[float, int]: ...
def log_loss_pass(
    y_pred: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any],
    sample_weight: np.ndarray[Any, Any] | None,
    clip_lo: float,
    clip_hi: float,
    sum_tol: float,
    seen: np.ndarray[Any, Any],
) -> tuple[float, float, int, int, int]: ...
