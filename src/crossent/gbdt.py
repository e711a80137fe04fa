"""Custom objectives and evaluation metrics for XGBoost and LightGBM.

The objectives return the per-sample gradient and hessian of the log loss with respect to the raw
scores (margins), computed by crossent's fused kernels. They take ``(y_true, raw_score,
sample_weight=None)``, the form that both ``xgboost.XGBClassifier(objective=...)`` and
``lightgbm.LGBMClassifier(objective=...)`` accept:

- XGBoost's scikit-learn wrapper calls ``objective(y_true, raw_score)``, or, when the model is fit
  with sample weights, ``objective(y_true, raw_score, sample_weight=w)``; it refuses an objective
  without a parameter named ``sample_weight`` in that case.
- LightGBM's scikit-learn wrapper counts the parameters: with two it calls
  ``objective(y_true, raw_score)``, with three ``objective(y_true, raw_score, weight)``
  (``weight`` None when the model is fit without weights). Any extra parameter, even a
  keyword-only one with a default, makes it pass a fourth argument (the query groups).

So an objective here has exactly those three parameters, and options such as ``pos_weight`` are
bound by :func:`make_binary_objective`, which returns an objective of the same form.
:func:`for_xgboost` and :func:`for_lightgbm` turn an objective into the ``(raw_score, data)``
form of ``xgboost.train(obj=...)`` and ``lightgbm.train(params={"objective": ...})``, reading
the labels and weights from the ``DMatrix`` or ``Dataset``; :func:`metric_for_xgboost` and
:func:`metric_for_lightgbm` do the same for an evaluation metric, by default :func:`raw_log_loss`.

Design:

- Binary: :func:`crossent.binary_logistic_grad_hess`, ``grad = w·(σ(x) - y)`` and
  ``hess = w·σ(x)·σ(-x)``, the same quantities as XGBoost's ``binary:logistic`` and LightGBM's
  ``binary``, rounded about once even for confident predictions.
- Softmax: :func:`crossent.categorical_cross_entropy_with_grad` with ``reduction="none"``
  gives each row's loss ``-log p_y`` and ``g = p - onehot``, with ``p_y - 1`` to full relative
  precision. The hessian needs no second softmax pass. Off the label's column ``p = g`` and
  ``1 - p = 1 - g``. In the label's column ``1 - p_y = -g_y`` exactly, and ``p_y`` is
  ``exp(-loss)`` rather than ``g_y + 1``, which would lose a small ``p_y`` (below half an ULP of
  1 it rounds to 0). So ``p·(1 - p)`` keeps its relative precision for confident rows, right or
  wrong, at the cost of one exponential per row.
  The hessian returned is ``K/(K-1)·p·(1-p)`` for ``K`` classes, not the diagonal ``p·(1-p)``
  of the exact hessian. The boosting libraries fit one tree per class, each with its own
  Newton step from the diagonal; those steps ignore the coupling ``-p_j·p_k`` between classes
  and together overshoot: with two classes, both margins move, and their difference moves twice
  as far as the exact Newton step of the equivalent binary model. Scaling by ``K/(K-1)``
  (Friedman's multiclass TreeBoost factor) makes the two-class case exact. LightGBM's built-in
  ``multiclass`` uses the same factor, XGBoost's ``multi:softprob`` uses 2 for every ``K``.
- The raw scores should start at zero; neither library estimates an intercept for a custom
  objective. With ``xgboost.train`` pass ``base_score=0``: without an objective in the
  parameters XGBoost adds its default ``base_score`` (0.5) to the margins as it is.
  ``XGBClassifier`` declares ``binary:logistic`` for a callable objective, whose default
  ``base_score`` 0.5 is a margin of 0; with more classes it declares ``multi:softprob`` and
  starts every class at 0.5, a shift the softmax ignores. LightGBM starts a custom objective
  from zero (or from the ``init_score`` of the ``Dataset``).
- Weights multiply the gradient and the hessian of each row, as in both libraries' built-ins.
- Importing this module imports neither library; the adapters import the one they serve, and
  raise ImportError naming the extra to install when it is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import (
    binary_cross_entropy,
    binary_logistic_grad_hess,
    categorical_cross_entropy,
    categorical_cross_entropy_with_grad,
)
from ._api import _sample_weight

__all__ = [
    "binary_objective",
    "for_lightgbm",
    "for_xgboost",
    "make_binary_objective",
    "metric_for_lightgbm",
    "metric_for_xgboost",
    "raw_log_loss",
    "softmax_objective",
]

Objective = Callable[..., tuple[np.ndarray, np.ndarray]]
Metric = Callable[..., float]


def _as_scores(raw_score: object) -> np.ndarray:
    scores = np.asarray(raw_score)
    if scores.dtype.kind not in "fiub":
        raise TypeError(f"raw_score must hold real numbers; got an array of dtype {scores.dtype}")
    return scores


def _weights(sample_weight: object, n: int) -> np.ndarray | None:
    """sample_weight as float64 of shape (n,), validated, or None."""
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight)
    if sw.shape != (n,):
        raise ValueError(
            f"sample_weight must have shape ({n},), one weight per row of raw_score; "
            f"got shape {sw.shape}"
        )
    return _sample_weight(sw, sw, 1)[0]


def _binary_scores(y_true: object, raw_score: object) -> tuple[np.ndarray, np.ndarray]:
    scores = _as_scores(raw_score)
    labels = np.asarray(y_true)
    if scores.ndim not in (1, 2):
        raise ValueError(
            f"raw_score must have shape (n,), or (n, k) for k binary targets; got {scores.shape}"
        )
    if labels.shape != scores.shape:
        raise ValueError(
            f"y_true and raw_score must have the same shape; got y_true {labels.shape} and "
            f"raw_score {scores.shape}"
        )
    return labels, scores


def _softmax_scores(y_true: object, raw_score: object) -> tuple[np.ndarray, np.ndarray]:
    scores = _as_scores(raw_score)
    labels = np.asarray(y_true)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(
            "raw_score must have shape (n, C), one column per class with C >= 2; got shape "
            f"{scores.shape}"
        )
    if labels.shape != scores.shape[:1]:
        raise ValueError(
            f"y_true must have shape ({scores.shape[0]},), one class label per row of raw_score "
            f"{scores.shape}; got shape {labels.shape}"
        )
    return labels, scores


def _binary(
    y_true: object, raw_score: object, sample_weight: object, pos_weight: Any
) -> tuple[np.ndarray, np.ndarray]:
    labels, scores = _binary_scores(y_true, raw_score)
    sw = _weights(sample_weight, scores.shape[0])
    return binary_logistic_grad_hess(labels, scores, sample_weight=sw, pos_weight=pos_weight)


def binary_objective(
    y_true: object, raw_score: object, sample_weight: object = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and hessian of the logistic loss, as an XGBoost or LightGBM objective.

    Parameters
    ----------
    y_true : array_like of shape (n,), or (n, k) for k binary targets
        Labels in [0, 1] (soft labels allowed).
    raw_score : array_like of the same shape
        Raw scores (margins, logits) of the positive class.
    sample_weight : array_like of shape (n,), optional
        Non-negative weight of each row; multiplies its gradient and hessian.

    Returns
    -------
    grad : ndarray of the shape of raw_score
        ``w * (sigmoid(raw_score) - y_true)``, float32 for float32 scores, else float64.
    hess : ndarray of the shape of raw_score
        ``w * sigmoid(raw_score) * sigmoid(-raw_score)``.

    Raises
    ------
    ValueError
        For shapes that do not match, labels outside [0, 1], or negative or non-finite weights;
        the message names the argument.

    See Also
    --------
    make_binary_objective : the same objective with ``pos_weight``.
    for_xgboost, for_lightgbm : adapters for ``xgboost.train`` and ``lightgbm.train``.

    Examples
    --------
    >>> import numpy as np
    >>> from crossent.gbdt import binary_objective
    >>> grad, hess = binary_objective(np.array([1.0, 0.0]), np.array([0.0, 2.0]))
    >>> grad.round(6).tolist(), hess.round(6).tolist()
    ([-0.5, 0.880797], [0.25, 0.104994])
    """
    return _binary(y_true, raw_score, sample_weight, None)


def make_binary_objective(*, pos_weight: float | ArrayLike | None = None) -> Objective:
    """The binary objective with its options bound, in the form the libraries accept.

    Parameters
    ----------
    pos_weight : float, or array_like of shape (k,) for k binary targets, optional
        Weight of the positive term of the loss, ``> 0``, as XGBoost's ``scale_pos_weight``
        (which multiplies the weight of every positive row) and PyTorch's ``pos_weight``.

    Returns
    -------
    objective : callable
        ``objective(y_true, raw_score, sample_weight=None) -> (grad, hess)`` with arrays as
        :func:`binary_objective`; with hard labels, ``w * (sigmoid(x) - y)`` and
        ``w * sigmoid(x) * sigmoid(-x)`` with ``w`` multiplied by ``pos_weight`` where
        ``y = 1``.

    Raises
    ------
    ValueError
        For a ``pos_weight`` that is not finite and > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from crossent.gbdt import make_binary_objective
    >>> objective = make_binary_objective(pos_weight=3.0)
    >>> grad, hess = objective(np.array([1.0, 0.0]), np.array([0.0, 0.0]))
    >>> grad.tolist(), hess.tolist()
    ([-1.5, 0.5], [0.75, 0.25])
    """
    if pos_weight is not None:
        # check it now rather than at the first boosting round; (1,) or (1, k) for (k,)
        probe = np.zeros((1, *np.shape(pos_weight)[:1]))
        binary_logistic_grad_hess(probe, probe, pos_weight=pos_weight)

    def objective(
        y_true: object, raw_score: object, sample_weight: object = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return _binary(y_true, raw_score, sample_weight, pos_weight)

    objective.__doc__ = f"The logistic objective with pos_weight={pos_weight!r}."
    return objective


def softmax_objective(
    y_true: object, raw_score: object, sample_weight: object = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and hessian of the softmax cross-entropy, as an XGBoost or LightGBM objective.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Class labels in [0, C), integers or floats holding whole numbers.
    raw_score : array_like of shape (n, C)
        Raw scores (logits), one column per class, C >= 2.
    sample_weight : array_like of shape (n,), optional
        Non-negative weight of each row; multiplies its gradient and hessian.

    Returns
    -------
    grad : ndarray of shape (n, C)
        ``w * (softmax(raw_score) - onehot(y_true))``, float32 for float32 scores, else float64.
    hess : ndarray of shape (n, C)
        ``w * C/(C-1) * p * (1 - p)`` with ``p = softmax(raw_score)``: the diagonal of the
        hessian scaled for per-class trees (see the module's notes).

    Raises
    ------
    ValueError
        For shapes that do not match, labels that are not integers in [0, C), or negative or
        non-finite weights; the message names the argument.

    Examples
    --------
    >>> import numpy as np
    >>> from crossent.gbdt import softmax_objective
    >>> grad, hess = softmax_objective(np.array([1]), np.zeros((1, 2)))
    >>> grad.tolist(), hess.tolist()
    ([[0.5, -0.5]], [[0.5, 0.5]])
    """
    labels, scores = _softmax_scores(y_true, raw_score)
    n, c = scores.shape
    sw = _weights(sample_weight, n)
    # unweighted, so that grad = p - onehot; the kernel validates the labels
    grad: np.ndarray
    loss, grad = categorical_cross_entropy_with_grad(labels, scores, kind="logit",
                                                     reduction="none")
    rows = np.arange(n)
    cols = labels.astype(np.intp, copy=False)
    hess = np.subtract(1, grad, dtype=grad.dtype)  # 1 - p off the label's column
    hess *= grad  # p * (1 - p) there
    # the label's column: p = e^-loss, and 1 - p = -grad exactly
    p_label = np.exp(-loss.astype(np.float64, copy=False))
    hess[rows, cols] = p_label * -grad[rows, cols]
    scale = c / (c - 1)
    if sw is None:
        hess *= scale
    else:
        w: np.ndarray = sw.astype(grad.dtype, copy=False)[:, None]
        grad *= w
        hess *= w * scale
    return grad, hess


def raw_log_loss(y_true: object, raw_score: object, sample_weight: object = None) -> float:
    """Mean log loss of raw scores: sigmoid for shape (n,), softmax for shape (n, C).

    The value :func:`sklearn.metrics.log_loss` gives on the probabilities of the same scores,
    computed in float64 from the scores without forming the probabilities.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Labels in [0, 1] for binary scores, class labels in [0, C) for scores of shape (n, C).
    raw_score : array_like of shape (n,) or (n, C)
        Raw scores (margins) as the libraries pass them to a metric with a custom objective.
    sample_weight : array_like of shape (n,), optional
        Weighted mean ``sum(w * loss) / sum(w)``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from crossent.gbdt import raw_log_loss
    >>> round(raw_log_loss(np.array([1, 0]), np.array([0.0, 0.0])), 6)
    0.693147
    >>> round(raw_log_loss(np.array([2]), np.zeros((1, 4))), 6)
    1.386294
    """
    scores = _as_scores(raw_score)
    loss: Callable[..., Any]
    if scores.ndim == 1:
        labels, scores = _binary_scores(y_true, scores)
        loss = binary_cross_entropy
    else:
        labels, scores = _softmax_scores(y_true, scores)
        loss = categorical_cross_entropy
    sw = _weights(sample_weight, scores.shape[0])
    return float(loss(labels, scores.astype(np.float64, copy=False), kind="logit",
                      sample_weight=sw))


def _require(library: str, caller: str) -> Any:
    try:
        return importlib.import_module(library)
    except ImportError as exc:
        raise ImportError(
            f"crossent.gbdt.{caller} needs {library}, which could not be imported ({exc}); "
            'install it with: pip install "crossent[gbdt]"'
        ) from exc


def _reader(library: str, caller: str) -> Callable[[Any], tuple[Any, Any]]:
    """A function giving (labels, weights or None) of the library's training data."""
    module = _require(library, caller)
    data_type, estimator = ((module.DMatrix, "XGBClassifier") if library == "xgboost"
                            else (module.Dataset, "LGBMClassifier"))

    def labels_and_weights(data: Any) -> tuple[Any, Any]:
        if not isinstance(data, data_type):
            raise TypeError(
                f"{caller}(...) makes a function for {library}.train(): its second argument "
                f"must be of type {library}.{data_type.__name__}, got {type(data).__name__}. "
                f"With {estimator}, pass the objective or metric itself."
            )
        weight = data.get_weight()  # XGBoost: empty when unset; LightGBM: None
        return data.get_label(), (weight if weight is not None and weight.size else None)

    return labels_and_weights


def _objective_for(
    library: str, caller: str, objective: Objective
) -> Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]:
    read = _reader(library, caller)

    def train_objective(raw_score: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
        labels, weight = read(data)
        return objective(labels, raw_score, sample_weight=weight)

    return train_objective


def for_xgboost(objective: Objective) -> Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]:
    """An objective in the form ``xgboost.train(obj=...)`` calls: ``(raw_score, dmatrix)``.

    Parameters
    ----------
    objective : callable
        ``objective(y_true, raw_score, sample_weight=None) -> (grad, hess)``, such as
        :func:`binary_objective` or :func:`softmax_objective`.

    Returns
    -------
    callable
        ``f(raw_score, dmatrix) -> (grad, hess)``: calls ``objective`` with the labels and
        (when set) the weights of the ``xgboost.DMatrix``. ``raw_score`` is of shape (n,) for
        binary and (n, C) for ``num_class = C``, as XGBoost passes them.

    Raises
    ------
    ImportError
        If xgboost cannot be imported.

    Examples
    --------
    With xgboost, ``xgboost.train({"base_score": 0.0}, dtrain, 10,
    obj=for_xgboost(binary_objective))`` trains with the logistic loss. Each round the adapter
    returns what the objective gives for the labels and the float32 margins:

    >>> import numpy as np
    >>> from crossent.gbdt import binary_objective
    >>> labels, margins = np.array([1.0, 0.0], np.float32), np.zeros(2, np.float32)
    >>> grad, hess = binary_objective(labels, margins)
    >>> grad.tolist(), hess.tolist(), grad.dtype
    ([-0.5, 0.5], [0.25, 0.25], dtype('float32'))
    """
    return _objective_for("xgboost", "for_xgboost", objective)


def for_lightgbm(
    objective: Objective,
) -> Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]:
    """An objective in the form ``lightgbm.train`` calls: ``(raw_score, dataset)``.

    Parameters
    ----------
    objective : callable
        ``objective(y_true, raw_score, sample_weight=None) -> (grad, hess)``, such as
        :func:`binary_objective` or :func:`softmax_objective`.

    Returns
    -------
    callable
        ``f(raw_score, dataset) -> (grad, hess)``, to pass as ``params["objective"]``: calls
        ``objective`` with the labels and (when set) the weights of the ``lightgbm.Dataset``.
        ``raw_score`` is of shape (n,) for binary and (n, C) with ``num_class = C``.

    Raises
    ------
    ImportError
        If lightgbm cannot be imported.

    Examples
    --------
    With lightgbm, ``lightgbm.train({"objective": for_lightgbm(softmax_objective),
    "num_class": 3}, dataset, 10)`` trains a 3-class softmax model. Each round the adapter
    returns what the objective gives for the labels and the raw scores of shape (n, 3):

    >>> import numpy as np
    >>> from crossent.gbdt import softmax_objective
    >>> grad, hess = softmax_objective(np.array([2.0]), np.log([[1.0, 1.0, 2.0]]))
    >>> grad.round(6).tolist(), hess.round(6).tolist()
    ([[0.25, 0.25, -0.5]], [[0.28125, 0.28125, 0.375]])
    """
    return _objective_for("lightgbm", "for_lightgbm", objective)


def metric_for_xgboost(
    metric: Metric = raw_log_loss, *, name: str | None = None
) -> Callable[[np.ndarray, Any], tuple[str, float]]:
    """An evaluation metric in the form of ``xgboost.train(custom_metric=...)``.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, raw_score, sample_weight=None) -> float``; :func:`raw_log_loss` by
        default. With a custom objective XGBoost passes raw scores (margins) to the metric.
    name : str, optional
        The name in the evaluation log; ``metric.__name__`` by default.

    Returns
    -------
    callable
        ``f(raw_score, dmatrix) -> (name, value)``.

    Raises
    ------
    ImportError
        If xgboost cannot be imported.

    Examples
    --------
    With xgboost, ``xgboost.train(params, dtrain, 10, obj=for_xgboost(binary_objective),
    evals=[(dvalid, "valid")], custom_metric=metric_for_xgboost())`` logs
    ``valid-raw_log_loss``, the value of the metric on the labels and margins of ``dvalid``:

    >>> import numpy as np
    >>> from crossent.gbdt import raw_log_loss
    >>> round(raw_log_loss(np.array([1.0, 0.0]), np.array([2.0, -1.0], np.float32)), 6)
    0.220095

    With XGBoost's scikit-learn API, pass the metric itself:
    ``XGBClassifier(objective=binary_objective, eval_metric=raw_log_loss)``.
    """
    read = _reader("xgboost", "metric_for_xgboost")
    label = metric.__name__ if name is None else name

    def xgboost_metric(raw_score: np.ndarray, dmatrix: Any) -> tuple[str, float]:
        labels, weight = read(dmatrix)
        return label, float(metric(labels, raw_score, sample_weight=weight))

    return xgboost_metric


def metric_for_lightgbm(
    metric: Metric = raw_log_loss, *, name: str | None = None, higher_is_better: bool = False
) -> Callable[[np.ndarray, Any], tuple[str, float, bool]]:
    """An evaluation metric in the form of ``lightgbm.train(feval=...)``.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, raw_score, sample_weight=None) -> float``; :func:`raw_log_loss` by
        default. With a custom objective LightGBM passes raw scores to the metric.
    name : str, optional
        The name in the evaluation log; ``metric.__name__`` by default.
    higher_is_better : bool
        False for a loss.

    Returns
    -------
    callable
        ``f(raw_score, dataset) -> (name, value, higher_is_better)``.

    Raises
    ------
    ImportError
        If lightgbm cannot be imported.

    Examples
    --------
    With lightgbm, ``lightgbm.train(params, dataset, 10, valid_sets=[valid],
    feval=metric_for_lightgbm())`` logs ``raw_log_loss`` on ``valid``, the metric's value on its
    labels, weights and raw scores:

    >>> import numpy as np
    >>> from crossent.gbdt import raw_log_loss
    >>> round(raw_log_loss(np.array([0, 2]), np.zeros((2, 3)), np.array([1.0, 3.0])), 6)
    1.098612
    """
    read = _reader("lightgbm", "metric_for_lightgbm")
    label = metric.__name__ if name is None else name

    def lightgbm_metric(raw_score: np.ndarray, dataset: Any) -> tuple[str, float, bool]:
        labels, weight = read(dataset)
        return label, float(metric(labels, raw_score, sample_weight=weight)), higher_is_better

    return lightgbm_metric
