# Dask's array API has no type annotations, so its calls and results are untyped here.
# mypy: disable-error-code="no-untyped-call,no-any-return"
"""Cross-entropy and log loss of Dask arrays: the crossent kernel on each chunk, lazily.

Design: each function returns a lazy Dask array and computes nothing until ``.compute()``.
Every block of rows is passed to the in-memory crossent code (C kernel or numpy, whichever
``crossent.backend`` names), which validates it and returns its weighted loss sum and, for
"mean", its total weight (DESIGN.md: sample weight times class weight of the label, 0 for
ignored and omitted rows), both from the one call that ``crossent.LossAccumulator`` uses too.
The (loss sum, weight) pairs are combined by Dask's tree reduction, each node
adding its inputs with ``math.fsum`` (exactly rounded, so the result depends on the chunking only
through the block sums), and the mean is one division at the end: the same value as one in-memory
call over the whole array, to within the rounding of the block sums. Options are checked when the
graph is built, by calling the in-memory function on zero rows, so a bad option fails at once
with the in-memory message; data errors (bad labels, NaN with ``nan_policy="raise"``, ...) are
found in a block at compute time and raised with the in-memory exception type and message (its
indices are within the block; a note names the block's rows).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    import dask.array as da
    from dask.array.core import unify_chunks
    from dask.delayed import delayed
except ImportError as exc:  # pragma: no cover - exercised only where Dask is absent
    raise ImportError(
        'crossent.dask needs Dask (dask.array); install it with: pip install "crossent[dask]"'
    ) from exc

import crossent

__all__ = ["binary_cross_entropy", "categorical_cross_entropy", "log_loss"]

_F64 = np.dtype(np.float64)


# ---------------------------------------------------------------------------------------------
# graph construction helpers


def _as_dask(name: str, value: object) -> da.Array:
    """``value`` as a Dask array (numpy arrays and lists become one chunk) with known shape."""
    try:
        arr = value if isinstance(value, da.Array) else da.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers: {exc}") from None
    if any(math.isnan(s) for s in arr.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {arr.shape}); call "
            f"{name}.compute_chunk_sizes() first"
        )
    return arr


def _one_column_chunk(arr: da.Array) -> da.Array:
    """A 2-D array whose columns are all in one chunk (rows keep their chunks)."""
    return arr if arr.numblocks[1] == 1 else arr.rechunk({1: -1})


def _aligned(*arrays: da.Array) -> list[da.Array]:
    """2-D arrays rechunked to the same row chunks; columns (any number) in one chunk."""
    args: list[Any] = []
    for i, a in enumerate(arrays):
        args += [_one_column_chunk(a), f"r{chr(ord('a') + i)}"]
    return list(unify_chunks(*args)[1])


def _same_rows(names: tuple[str, ...], arrays: tuple[da.Array, ...]) -> None:
    first = arrays[0].shape[0]
    for name, a in zip(names[1:], arrays[1:], strict=True):
        if a.shape[0] != first:
            raise ValueError(
                f"{name} has shape {a.shape}, but {names[0]} has shape {arrays[0].shape}; "
                "they must have the same number of rows"
            )


def _column(a: da.Array) -> da.Array:
    return a.reshape(a.shape[0], 1) if a.ndim == 1 else a


def _with_rows(exc: BaseException, block_id: tuple[int, ...] | None,
               starts: tuple[int, ...]) -> BaseException:
    """Name the block's rows in a note (Python >= 3.11), so a block-local index can be placed."""
    if block_id is not None and hasattr(exc, "add_note"):
        b = block_id[0]
        exc.add_note(f"in rows {starts[b]}:{starts[b + 1]} of the Dask array (indices in the "
                     "message count from the first of them)")
    return exc


def _row_starts(arr: da.Array) -> tuple[int, ...]:
    return (0, *np.cumsum(arr.chunks[0]).tolist())


def _fsum_rows(x: np.ndarray) -> np.ndarray:
    """Column sums of the block partials, exactly rounded (plain sum if fsum overflows)."""
    out = np.empty((1, x.shape[1]), _F64)
    for j in range(x.shape[1]):
        try:
            out[0, j] = math.fsum(x[:, j].tolist())
        except (OverflowError, ValueError):  # an intermediate overflow, or inf + -inf
            out[0, j] = np.sum(x[:, j])
    return out


def _partial_chunk(x: np.ndarray, axis: Any = None, keepdims: bool = True) -> np.ndarray:
    return _fsum_rows(x)


def _partial_aggregate(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return _fsum_rows(x)[0]


def _reduce(partials: da.Array, finish: Callable[[np.ndarray], np.ndarray]) -> da.Array:
    """Tree-reduce the (blocks, m) partials to m totals, then ``finish`` them into a 0-d array."""
    totals = da.reduction(
        partials, _partial_chunk, _partial_aggregate, combine=_partial_chunk, axis=0,
        keepdims=False, dtype=_F64, concatenate=True, meta=np.empty((0,), _F64),
    )
    return totals.map_blocks(finish, drop_axis=0, dtype=_F64, meta=np.empty((), _F64))


def _finish_sum(totals: np.ndarray) -> np.ndarray:
    return np.asarray(totals[0], _F64)


def _finish_mean(totals: np.ndarray) -> np.ndarray:
    loss, weight = float(totals[0]), float(totals[1])
    if not weight > 0:
        raise ValueError("reduction='mean' needs a positive total weight; got 0 (every row is "
                         "ignored, omitted or of weight 0, or there are no rows)")
    if math.isinf(weight):
        raise ValueError("sample_weight: the total weight overflows float64; rescale the weights")
    return np.asarray(loss / weight, _F64)


def _probe_reduction(reduction: Any) -> Any:
    """The reduction of the zero-row check: "none" (whose result has the output dtype), or an
    unknown value as given, to be rejected with the in-memory message."""
    return "none" if reduction in ("mean", "sum") else reduction


def _parts(loss: str) -> Callable[..., tuple[float, float]]:
    """The in-memory (weighted loss sum, total weight) of one block, for "mean"."""
    return crossent._parts[loss]  # type: ignore[attr-defined]


def _partials_meta(width: int) -> np.ndarray:
    return np.empty((0, width), _F64)


# ---------------------------------------------------------------------------------------------
# binary


def _binary_block(yt: np.ndarray, yp: np.ndarray, sw: np.ndarray | None = None, *,
                  flat: bool, reduction: Any, options: dict[str, Any], starts: tuple[int, ...],
                  block_id: tuple[int, ...] | None = None) -> Any:
    """One block of rows: (loss sum, weight) of shape (1, 2), or the per-element losses."""
    if sw is not None:
        sw = sw[:, 0]
    if flat:
        yt, yp = yt[:, 0], yp[:, 0]
    try:
        if reduction == "mean":
            value, weight = _parts("binary")(yt, yp, sw, **options)
        else:
            value = crossent.binary_cross_entropy(yt, yp, sample_weight=sw, reduction=reduction,
                                                  **options)
    except (ValueError, TypeError) as exc:
        raise _with_rows(exc, block_id, starts)  # noqa: B904 - the exception itself, annotated
    if reduction == "none":
        return value
    return np.array([[value, weight if reduction == "mean" else 0.0]], _F64)


def binary_cross_entropy(
    y_true: Any,
    y_pred: Any,
    *,
    kind: str = "probability",
    sample_weight: Any = None,
    pos_weight: Any = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    eps: float | None = None,
    nan_policy: str = "propagate",
    n_threads: int = 1,
) -> da.Array:
    """Binary cross-entropy of Dask arrays, computed lazily by the crossent kernel per chunk.

    Takes the options of :func:`crossent.binary_cross_entropy`, with the same meaning, and
    returns the same value once computed. Rows may be chunked in any way; the chunks of
    ``y_true``, ``y_pred`` and ``sample_weight`` are aligned (rechunked to common row chunks)
    and the columns of a 2-D ``y_pred`` are brought into one chunk.

    Parameters
    ----------
    y_true : dask or numpy array of shape (n,) or (n, k)
        Labels in [0, 1] (bool, integer or float; soft labels allowed).
    y_pred : dask or numpy array of the same shape
        Probabilities, logits or log-probabilities, as ``kind`` says.
    kind : {"probability", "logit", "log_probability"}
        What ``y_pred`` holds.
    sample_weight : dask or numpy array of shape (n,), optional
        Finite non-negative weight of each row.
    pos_weight : float or array_like of shape (k,), optional
        Weight of the positive term (an in-memory value, sent with every chunk).
    label_smoothing : float in [0, 1]
        Labels become ``y * (1 - label_smoothing) + label_smoothing / 2``.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` is ``sum(w * loss) / sum(w)`` over the whole array: each chunk gives its
        weighted loss sum and its weight, and the two totals are divided once. ``"none"``
        gives the lazy array of weighted per-element losses, chunked by rows as the aligned
        inputs.
    eps : float in [0, 0.5), optional
        Clipping of probabilities (see :func:`crossent.binary_cross_entropy`).
    nan_policy : {"propagate", "raise", "omit"}
        What a NaN in ``y_pred`` does.
    n_threads : int
        Threads for each chunk's kernel call (-1: all usable cores).

    Returns
    -------
    loss : dask array
        0-d float64 for ``"mean"`` and ``"sum"`` (``.compute()`` gives a ``numpy.float64``);
        for ``"none"``, the shape of ``y_pred`` in its compute dtype (float32 or float64).

    Raises
    ------
    ValueError, TypeError
        Bad options, dtypes or shapes when the graph is built; bad data (labels,
        predictions outside their domain, NaN with ``nan_policy="raise"``, a zero total weight
        for ``"mean"``) when it is computed. Both with the in-memory function's type and message.

    Examples
    --------
    >>> import dask.array as da
    >>> import crossent.dask as cd
    >>> y = da.from_array([1, 0, 1, 1], chunks=2)
    >>> p = da.from_array([0.9, 0.2, 0.6, 0.99], chunks=3)
    >>> loss = cd.binary_cross_entropy(y, p)     # lazy: nothing has run yet
    >>> round(float(loss.compute()), 6)
    0.212345
    """
    yt, yp = _as_dask("y_true", y_true), _as_dask("y_pred", y_pred)
    sw = None if sample_weight is None else _as_dask("sample_weight", sample_weight)
    options = {"kind": kind, "pos_weight": pos_weight, "label_smoothing": label_smoothing,
               "eps": eps, "nan_policy": nan_policy, "n_threads": n_threads}
    scalar = yp.ndim == 0
    if scalar and yt.ndim == 0 and (sw is None or sw.ndim == 0):
        yt, yp = yt.reshape(1), yp.reshape(1)
        sw = None if sw is None else sw.reshape(1)
    # the in-memory function checks options, dtypes and trailing shapes on zero rows
    probe = crossent.binary_cross_entropy(
        np.empty((0, *yt.shape[1:]), yt.dtype), np.empty((0, *yp.shape[1:]), yp.dtype),
        sample_weight=None if sw is None else np.empty((0, *sw.shape[1:]), sw.dtype),
        reduction=_probe_reduction(reduction), **options)
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got y_true {yt.shape} "
                         f"and y_pred {yp.shape}")
    arrays = [_column(yt), _column(yp)]
    if sw is not None:
        if sw.shape != yp.shape[:1]:
            raise ValueError(f"sample_weight has shape {sw.shape}, but y_pred has shape "
                             f"{yp.shape}; expected shape {yp.shape[:1]}")
        arrays.append(_column(sw))
    arrays = _aligned(*arrays)
    flat = yp.ndim == 1
    rows = arrays[1].chunks[0]
    kwargs = {"flat": flat, "reduction": reduction, "options": options,
              "starts": _row_starts(arrays[1])}
    if reduction == "none":
        out = da.map_blocks(
            _binary_block, *arrays, **kwargs, dtype=probe.dtype,
            chunks=(rows,) if flat else (rows, arrays[1].chunks[1]),
            drop_axis=1 if flat else [], meta=np.empty((0,) * (1 if flat else 2), probe.dtype))
        return out.reshape(()) if scalar else out
    partials = da.map_blocks(_binary_block, *arrays, **kwargs, dtype=_F64,
                             chunks=((1,) * len(rows), (2,)), meta=_partials_meta(2))
    return _reduce(partials, _finish_mean if reduction == "mean" else _finish_sum)


# ---------------------------------------------------------------------------------------------
# categorical


def _categorical_block(yt: np.ndarray, yp: np.ndarray, sw: np.ndarray | None = None, *,
                       soft: bool, reduction: Any, options: dict[str, Any],
                       starts: tuple[int, ...],
                       block_id: tuple[int, ...] | None = None) -> Any:
    """One block of rows: (loss sum, weight) of shape (1, 2), or the per-row losses."""
    if not soft:
        yt = yt[:, 0]
    if sw is not None:
        sw = sw[:, 0]
    try:
        if reduction == "mean":
            value, weight = _parts("categorical")(yt, yp, sw, **options)
        else:
            value = crossent.categorical_cross_entropy(yt, yp, sample_weight=sw,
                                                       reduction=reduction, **options)
    except (ValueError, TypeError) as exc:
        raise _with_rows(exc, block_id, starts)  # noqa: B904 - the exception itself, annotated
    if reduction == "none":
        return value
    return np.array([[value, weight if reduction == "mean" else 0.0]], _F64)


def categorical_cross_entropy(
    y_true: Any,
    y_pred: Any,
    *,
    kind: str = "probability",
    sample_weight: Any = None,
    class_weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    eps: float | None = None,
    nan_policy: str = "propagate",
    n_threads: int = 1,
) -> da.Array:
    """Categorical cross-entropy of Dask arrays, computed lazily by the crossent kernel per chunk.

    Takes the options of :func:`crossent.categorical_cross_entropy`, with the same meaning, and
    returns the same value once computed. Rows may be chunked in any way; the class axis of
    ``y_pred`` (and of soft targets) is rechunked into one chunk, and the row chunks of all
    inputs are aligned.

    Parameters
    ----------
    y_true : dask or numpy array of shape (n,) or (n, C)
        Integer labels in [0, C) (or equal to ``ignore_index``), or soft targets >= 0.
    y_pred : dask or numpy array of shape (n, C)
        Probabilities, logits or log-probabilities, as ``kind`` says.
    kind : {"probability", "logit", "log_probability"}
        What ``y_pred`` holds.
    sample_weight : dask or numpy array of shape (n,), optional
        Finite non-negative weight of each row.
    class_weight : array_like of shape (C,), optional
        Finite non-negative weight of each class (an in-memory value, sent with every chunk).
    ignore_index : int, optional
        Rows whose label equals it contribute no loss and no weight.
    label_smoothing : float in [0, 1]
        The target becomes ``(1 - label_smoothing) * target + label_smoothing / C``.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` divides the total weighted loss by the total weight (sample weight times the
        class weight of the label, summed over rows not ignored or omitted; the sample weights
        alone for soft targets), both summed over chunks and divided once. ``"none"`` gives the
        lazy array of weighted per-row losses, shape (n,).
    eps : float in [0, 0.5), optional
        Clipping of probabilities (see :func:`crossent.categorical_cross_entropy`).
    nan_policy : {"propagate", "raise", "omit"}
        What a NaN in ``y_pred`` does.
    n_threads : int
        Threads for each chunk's kernel call (-1: all usable cores).

    Returns
    -------
    loss : dask array
        0-d float64 for ``"mean"`` and ``"sum"`` (``.compute()`` gives a ``numpy.float64``);
        shape (n,) in the compute dtype of ``y_pred`` for ``"none"``.

    Raises
    ------
    ValueError, TypeError
        As :func:`binary_cross_entropy`: option errors at once, data errors at compute time.

    Examples
    --------
    >>> import dask.array as da
    >>> import crossent.dask as cd
    >>> y = da.from_array([0, 2, 1], chunks=2)
    >>> p = da.from_array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]], chunks=(1, 2))
    >>> round(float(cd.categorical_cross_entropy(y, p).compute()), 6)
    0.498703
    """
    yt, yp = _as_dask("y_true", y_true), _as_dask("y_pred", y_pred)
    sw = None if sample_weight is None else _as_dask("sample_weight", sample_weight)
    options = {"kind": kind, "class_weight": class_weight, "ignore_index": ignore_index,
               "label_smoothing": label_smoothing, "eps": eps, "nan_policy": nan_policy,
               "n_threads": n_threads}
    probe = crossent.categorical_cross_entropy(
        np.empty((0, *yt.shape[1:]), yt.dtype), np.empty((0, *yp.shape[1:]), yp.dtype),
        sample_weight=None if sw is None else np.empty((0, *sw.shape[1:]), sw.dtype),
        reduction=_probe_reduction(reduction), **options)
    names: tuple[str, ...] = ("y_pred", "y_true")
    given: tuple[da.Array, ...] = (yp, yt)
    if sw is not None:
        names, given = (*names, "sample_weight"), (*given, sw)
    _same_rows(names, given)
    soft = yt.ndim == 2
    arrays = _aligned(_column(yt), yp, *([] if sw is None else [_column(sw)]))
    rows = arrays[1].chunks[0]
    kwargs = {"soft": soft, "reduction": reduction, "options": options,
              "starts": _row_starts(arrays[1])}
    if reduction == "none":
        return da.map_blocks(_categorical_block, *arrays, **kwargs, dtype=probe.dtype,
                             chunks=(rows,), drop_axis=1, meta=np.empty((0,), probe.dtype))
    partials = da.map_blocks(_categorical_block, *arrays, **kwargs, dtype=_F64,
                             chunks=((1,) * len(rows), (2,)), meta=_partials_meta(2))
    return _reduce(partials, _finish_mean if reduction == "mean" else _finish_sum)


# ---------------------------------------------------------------------------------------------
# log_loss


def _in_memory_log_loss() -> Callable[..., float]:
    in_memory = getattr(crossent, "log_loss", None)
    if in_memory is None:
        raise ImportError("crossent.dask.log_loss needs crossent.log_loss, which this build of "
                          "crossent lacks")
    return in_memory


def _log_loss_block(yt: np.ndarray, yp: np.ndarray, sw: np.ndarray | None = None, *,
                    indicator: bool, classes: np.ndarray | None, starts: tuple[int, ...],
                    block_id: tuple[int, ...] | None = None) -> Any:
    """One block of rows: (weighted loss sum, weight sum, count of non-zero weights)."""
    if not indicator:
        yt = yt[:, 0]
    if sw is not None:
        sw = sw[:, 0]
    if yp.shape[0] == 0:
        return np.zeros((1, 3), _F64)
    nonzero = yp.shape[0] if sw is None else int(np.count_nonzero(sw))
    # the in-memory function rejects weights that are all 0; here such a block is still checked
    # (without its weights) and adds nothing
    weights = None if sw is None or nonzero == 0 else sw
    try:
        value = _in_memory_log_loss()(yt, yp, normalize=False, sample_weight=weights,
                                      labels=classes)
    except (ValueError, TypeError) as exc:
        raise _with_rows(exc, block_id, starts)  # noqa: B904 - the exception itself, annotated
    if weights is None and sw is not None:
        return np.array([[0.0, 0.0, 0.0]], _F64)
    weight = float(yp.shape[0]) if sw is None else float(np.sum(sw, dtype=_F64))
    return np.array([[value, weight, nonzero]], _F64)


def _found_classes(values: np.ndarray) -> np.ndarray:
    """The sorted classes of y_true; one alone cannot be scored (the in-memory rule)."""
    if values.size == 1:
        raise ValueError(
            f"y_true contains only one label ({values[0]}). Please provide the list of all "
            "expected class labels explicitly through the labels argument.")
    return values


def _finish_log_loss(normalize: bool) -> Callable[[np.ndarray], np.ndarray]:
    def finish(totals: np.ndarray) -> np.ndarray:
        loss, weight, nonzero = (float(t) for t in totals)
        if nonzero == 0:
            raise ValueError("sample_weight must contain at least one non-zero weight")
        if not normalize:
            return np.asarray(loss, _F64)
        if weight == 0:
            raise ZeroDivisionError("sample_weight sums to zero, so the mean is undefined")
        return np.asarray(loss / weight, _F64)

    return finish


def log_loss(
    y_true: Any,
    y_proba: Any,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
) -> da.Array:
    """Log loss of Dask arrays, with the semantics of :func:`crossent.log_loss`, lazily.

    Each chunk of rows is scored by ``crossent.log_loss(..., normalize=False, labels=classes)``;
    the weighted loss sums and weight sums are added over chunks and divided once.

    Parameters
    ----------
    y_true : dask or numpy array of shape (n,), (n, 1), or an indicator matrix (n, C)
        Class labels (integers, bools, strings, floats holding whole numbers).
    y_proba : dask or numpy array of shape (n, C), (n,) or (n, 1)
        Probabilities of the classes in sorted order; a single column is the probability of
        the larger of two classes.
    normalize : bool
        True for the weighted mean over samples, False for the weighted sum.
    sample_weight : dask or numpy array of shape (n,), optional
        Finite weights (negative ones allowed, as in the in-memory function).
    labels : array_like, optional
        All the classes. When omitted (and ``y_true`` holds labels), the classes are the
        distinct values of ``y_true``: a lazy ``unique`` computed once, as part of the same
        graph, before the chunks are scored.

    Returns
    -------
    loss : dask array
        0-d float64; ``.compute()`` gives a ``numpy.float64``.

    Raises
    ------
    ValueError, TypeError
        With the in-memory function's types: ``normalize`` and ``labels`` are checked when
        the graph is built, the data when it is computed. Its warnings (probabilities that do
        not sum to one) are emitted where a chunk runs, once per chunk.

    Examples
    --------
    >>> import dask.array as da
    >>> import crossent.dask as cd
    >>> y = da.from_array(["spam", "ham", "ham", "spam"], chunks=3)
    >>> p = da.from_array([[.1, .9], [.9, .1], [.8, .2], [.35, .65]], chunks=2)
    >>> round(float(cd.log_loss(y, p).compute()), 5)
    0.21616
    """
    in_memory = _in_memory_log_loss()
    in_memory([0, 1], [0.25, 0.75], normalize=normalize)  # checks normalize, as in memory
    yt, yp = _as_dask("y_true", y_true), _as_dask("y_proba", y_proba)
    sw = None if sample_weight is None else _as_dask("sample_weight", sample_weight)
    if yt.ndim == 2 and yt.shape[1] == 1:
        yt = yt[:, 0]
    indicator = yt.ndim == 2
    if yp.ndim not in (1, 2) or yt.ndim not in (1, 2) or (sw is not None and sw.ndim != 1):
        # shapes the in-memory function rejects: let it say so, on (the start of) the data
        in_memory(np.asarray(yt[:2]), np.asarray(yp[:2]), normalize=normalize,
                  sample_weight=None if sw is None else np.asarray(sw[:2]), labels=labels)
    names: tuple[str, ...] = ("y_proba", "y_true")
    given: tuple[da.Array, ...] = (yp, yt)
    if sw is not None:
        names, given = (*names, "sample_weight"), (*given, sw)
    _same_rows(names, given)
    classes: Any = None
    if labels is not None and not indicator:
        lab = np.asarray(labels).ravel()
        m = lab.size
        # the in-memory checks of labels (repeats, fewer than two, mixed types, order), once
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            in_memory(lab[:1] if m else np.zeros(1), np.full((1, max(m, 2)), 1 / max(m, 2)),
                      labels=labels)
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=2)
        classes = np.unique(lab)
    elif labels is not None:
        in_memory(np.asarray(yt[:1]), np.asarray(yp[:1]), labels=labels)  # raises, as in memory
    elif not indicator:
        classes = delayed(_found_classes, pure=True)(da.unique(yt))
    arrays = _aligned(_column(yt), _column(yp), *([] if sw is None else [_column(sw)]))
    rows = arrays[1].chunks[0]
    partials = da.map_blocks(
        _log_loss_block, *arrays, indicator=indicator, classes=classes,
        starts=_row_starts(arrays[1]), dtype=_F64, chunks=((1,) * len(rows), (3,)),
        meta=_partials_meta(3))
    return _reduce(partials, _finish_log_loss(bool(normalize)))
