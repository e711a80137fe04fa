from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float32] | NDArray[np.float64]
Objective = Callable[..., tuple[FloatArray, FloatArray]]
Metric = Callable[..., float]

def binary_objective(
    y_true: ArrayLike, raw_score: ArrayLike, sample_weight: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]: ...
def make_binary_objective(*, pos_weight: float | ArrayLike | None = None) -> Objective: ...
def softmax_objective(
    y_true: ArrayLike, raw_score: ArrayLike, sample_weight: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]: ...
def raw_log_loss(
    y_true: ArrayLike, raw_score: ArrayLike, sample_weight: ArrayLike | None = None
) -> float: ...
def for_xgboost(objective: Objective) -> Callable[[Any, Any], tuple[FloatArray, FloatArray]]: ...
def for_lightgbm(objective: Objective) -> Callable[[Any, Any], tuple[FloatArray, FloatArray]]: ...
def metric_for_xgboost(
    metric: Metric = ..., *, name: str | None = None
) -> Callable[[Any, Any], tuple[str, float]]: ...
def metric_for_lightgbm(
    metric: Metric = ..., *, name: str | None = None, higher_is_better: bool = False
) -> Callable[[Any, Any], tuple[str, float, bool]]: ...
