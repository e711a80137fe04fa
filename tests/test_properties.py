"""Property tests (Hypothesis) for every public function, on hard input, on both backends.

The functions: binary_cross_entropy, binary_cross_entropy_with_grad, binary_logistic_grad_hess,
categorical_cross_entropy, categorical_cross_entropy_with_grad, log_loss and LossAccumulator, of
``crossent`` (the active backend) and of ``crossent.reference``. The inputs: float16/32/64,
integers, bool, complex, object, strings; native and byte-swapped; 0-d, empty, (n,), (n, k),
(n, 0), (0, k) and 3-d; C-contiguous, strided, reversed, Fortran, transposed, read-only,
unaligned, lists and Python scalars; NaN, +-inf, huge, subnormal and out-of-range values; valid
and invalid options (``out=`` included). The properties:

1. A call returns, or raises ValueError or TypeError whose message names the argument at fault
   (log_loss may also raise ZeroDivisionError, as scikit-learn's does for weights summing to 0);
   never another exception and never a warning (log_loss's documented UserWarnings aside).
2. The C backend and the reference agree: the same exception type and message, or values equal
   within rtol 1e-12 (float64) / 1e-5 (float32), with NaN and inf at exactly the same places.
   Skipped when ``crossent.backend == "numpy"`` (then both are the same code); 1 runs anyway.
3. Inputs are never modified (except y_pred when it is ``out``); ``out`` is the returned gradient
   and holds the bits ``out=None`` gives; the layout of an input never changes the bits.
4. Finite valid input gives a finite result (and never an error); a NaN-free accepted input never
   gives NaN; a NaN prediction of positive weight gives a NaN loss under nan_policy="propagate".
5. ``n_threads=2``, ``-1`` and ``2**40`` give the bits of ``n_threads=1`` (C backend).

Profiles, chosen by the environment variable HYPOTHESIS_PROFILE and applied to this module only:
"ci" (the default) is derandomized and keeps no example database, so every run tests the same
examples and a red run is a regression, not bad luck; "long" runs 20 times the examples from a
random seed, with the database, for hunting bugs locally (``HYPOTHESIS_PROFILE=long pytest
tests/test_properties.py``).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import crossent
from crossent import reference

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          print_blob=True, suppress_health_check=_HEALTH)
settings.register_profile("long", derandomize=False, deadline=None, print_blob=True,
                          suppress_health_check=_HEALTH)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if _PROFILE not in ("ci", "long"):
    _PROFILE = "ci"
_SCALE = 20 if _PROFILE == "long" else 1


def budget(n: int) -> settings:
    """This module's profile with ``n`` examples (times 20 under "long")."""
    return settings(settings.get_profile(_PROFILE), max_examples=n * _SCALE)


HAVE_C = crossent.backend != "numpy"
MODULES = (crossent, reference) if HAVE_C else (crossent,)
needs_c = pytest.mark.skipif(not HAVE_C, reason="compares the C backend with the reference")

# ----------------------------------------------------------------------------------------------
# outcomes of a call


@dataclass(frozen=True)
class Err:
    type: type
    message: str


@dataclass
class Ok:
    value: Any
    warned: tuple[str, ...] = ()


ARG_NAMES = ("y_true", "y_pred", "logits", "y_proba", "sample_weight", "pos_weight",
             "class_weight", "ignore_index", "label_smoothing", "reduction", "kind", "eps",
             "nan_policy", "n_threads", "out", "grad_out", "hess_out", "labels", "normalize",
             "total weight", "loss", "other")


def call(fn: Any, args: tuple, kwargs: dict, *, allow: tuple = (ValueError, TypeError),
         user_warnings: bool = False) -> Ok | Err:
    """Property 1: the call returns or raises an allowed exception naming an argument; any
    other exception, and any warning (UserWarning too unless ``user_warnings``), fails."""
    name = getattr(fn, "__qualname__", repr(fn))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        if user_warnings:
            warnings.simplefilter("always", UserWarning)
        try:
            value = fn(*args, **kwargs)
        except allow as exc:
            message = str(exc)
            if not isinstance(exc, ZeroDivisionError):
                import re

                assert re.search(r"\b(" + "|".join(ARG_NAMES) + r")\b", message), (
                    f"{fn.__module__}.{name}: {type(exc).__name__} names no argument: {message!r}"
                )
            return Err(type(exc), message)
        except Exception as exc:  # a warning turned error lands here too
            raise AssertionError(
                f"{fn.__module__}.{name} raised {type(exc).__name__}: {exc}") from exc
    return Ok(value, tuple(f"{w.category.__name__}: {w.message}" for w in caught))


# ----------------------------------------------------------------------------------------------
# comparing results


def _parts(v: Any) -> list[Any]:
    return [x for p in v for x in _parts(p)] if isinstance(v, tuple) else [v]


def _tol(dtype: np.dtype) -> float:
    return 1e-5 if np.dtype(dtype).itemsize <= 4 else 1e-12


def assert_close(got: Any, want: Any, tol: float, what: str) -> None:
    """Values within ``tol`` (relative), NaN and +-inf at the same places, same types."""
    g, w = _parts(got), _parts(want)
    assert len(g) == len(w), what
    for i, (a, b) in enumerate(zip(g, w, strict=True)):
        where = f"{what}, part {i}"
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape, (
                f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}")
            tiny = float(np.finfo(b.dtype).tiny) if b.dtype.kind == "f" else 0.0
        else:
            tiny = float(np.finfo(np.float64).tiny)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tiny, equal_nan=True, err_msg=where)


def _bits(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        c = np.where(np.isnan(v), np.nan, v).astype(v.dtype) if v.dtype.kind == "f" else v
        return (type(v), v.dtype.str, v.shape, c.tobytes())
    if isinstance(v, float) and math.isnan(v):
        return (type(v), "nan")
    return (type(v), repr(v))


def assert_identical(got: Ok | Err, want: Ok | Err, what: str, same_message: bool = True) -> None:
    """The same bits (NaN payloads aside), or the same exception."""
    if isinstance(want, Err) or isinstance(got, Err):
        if same_message:
            assert got == want, what
        else:
            assert isinstance(got, Err) and isinstance(want, Err), f"{what}: {got} vs {want}"
            assert got.type is want.type, f"{what}: {got} vs {want}"
        return
    g, w = _parts(got.value), _parts(want.value)
    assert [_bits(a) for a in g] == [_bits(b) for b in w], f"{what}: {g} vs {w}"


def assert_agree(got: Ok | Err, want: Ok | Err, tol: float, what: str) -> None:
    """Property 2: both raise the same exception with the same message, or values agree."""
    if isinstance(got, Err) or isinstance(want, Err):
        assert got == want, f"{what}: C {got} vs reference {want}"
        return
    assert got.warned == want.warned, what
    assert_close(got.value, want.value, tol, what)


# ----------------------------------------------------------------------------------------------
# inputs: values in a dtype, then a layout

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
FLOATS = [F32, F64, F32, F64, F32, F64, F16]
OTHERS = [np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64,
                                np.bool_, np.complex64, np.complex128, object, "U4",
                                np.longdouble)]
LAYOUTS = ["c", "c", "c", "strided", "reversed", "fortran", "transposed", "readonly", "swapped",
           "unaligned", "list", "scalar"]

F32MAX = float(np.finfo(np.float32).max)
HUGE = [1e308, -1e308, F32MAX, -F32MAX, 1.7976931348623157e308, 65504.0]
TINY = [5e-324, -5e-324, 1e-310, 1.4e-45, 1e-40, 2.2250738585072014e-308, 6e-8]
SPECIAL = [0.0, -0.0, 1.0, 0.5, np.nan, np.inf, -np.inf, *HUGE, *TINY]


def _filler(dtype: np.dtype) -> Any:
    return {"b": True, "U": "9", "O": 0.25}.get(dtype.kind, dtype.type(1))


def relayout(a: np.ndarray, layout: str) -> Any:
    """A new object holding the values of ``a`` in ``layout``."""
    nbytes_ok = a.dtype.kind in "fciu" and a.dtype.itemsize > 1
    if layout == "list":
        return a.tolist()
    if layout == "scalar":
        return a.item() if a.ndim == 0 else a.tolist()
    if layout == "strided" and a.ndim:
        big = np.empty((2 * a.shape[0], *a.shape[1:]), a.dtype)
        big[1::2] = _filler(a.dtype)  # what a reader of the wrong stride would see
        big[::2] = a
        return big[::2]
    if layout == "reversed" and a.ndim:
        return np.ascontiguousarray(a[::-1])[::-1]
    if layout == "fortran":
        return np.array(a, order="F")  # a copy: asfortranarray may return ``a`` itself
    if layout == "transposed":
        return np.array(a.T, order="C").T
    if layout == "readonly":
        b = a.copy()
        b.flags.writeable = False
        return b
    if layout == "swapped" and nbytes_ok:
        return a.astype(a.dtype.newbyteorder())
    if layout == "unaligned" and nbytes_ok:
        buf = np.zeros(a.nbytes + 1, np.uint8)[1:]
        b = buf.view(a.dtype).reshape(a.shape)
        b[...] = a
        return b
    return a.copy()


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float64 ``values`` as an array of ``dtype`` (integers truncated and clipped)."""
    return np.asarray(_to_dtype(values, dtype))


def _to_dtype(values: np.ndarray, dtype: np.dtype) -> Any:
    with np.errstate(all="ignore"):
        if dtype.kind in "fc":
            return values.astype(dtype)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            v = np.nan_to_num(values, nan=0.0, posinf=2.0, neginf=-1.0)
            v = np.clip(np.trunc(v), max(info.min, -2**52), min(info.max, 2**52))
            return v.astype(dtype)
        if dtype.kind == "b":
            return np.asarray(values != 0)
        if dtype.kind == "U":
            return values.astype(dtype)
        return values.astype(object)


@dataclass
class Arr:
    """An input array: its values (in its dtype) and the layout it is passed in."""

    values: np.ndarray
    layout: str = "c"

    def build(self, canonical: bool = False) -> Any:
        built = relayout(self.values, self.layout)
        if canonical:  # what the function sees, as a native C-contiguous array
            c = np.array(built, order="C")
            return c if c.dtype.isnative else c.astype(c.dtype.newbyteorder("="))
        return built


def snapshot(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return ("array", x.dtype.str, x.shape, x.strides, x.flags.writeable, x.tobytes())
    return ("object", type(x).__name__, repr(x))


def compute_dtype(y_pred: Any) -> np.dtype:
    a = np.asarray(y_pred) if not isinstance(y_pred, np.ndarray) else y_pred
    if a.dtype.kind == "f":
        return F32 if a.dtype.itemsize <= 4 else F64
    return F64


OUT_MODES = ["none", "none", "none", "fresh", "fresh", "inplace", "inplace", "wrong_dtype",
             "wrong_shape", "strided", "readonly", "alias_y_true", "overlap", "swapped", "list",
             "alias_weight"]


def make_out(mode: str, pred: Any, y_true: Any, weight: Any) -> Any:
    """An ``out`` of the kind ``mode`` for a call on ``pred``."""
    shape = np.shape(pred)
    dtype = compute_dtype(pred)
    if mode == "inplace" and isinstance(pred, np.ndarray):
        return pred
    if mode == "wrong_dtype":
        return np.zeros(shape, F32 if dtype == F64 else F64)
    if mode == "wrong_shape":
        return np.zeros((*shape, 1), dtype)
    if mode == "strided":
        return np.zeros((*shape, 2), dtype)[..., 0]
    if mode == "readonly":
        b = np.zeros(shape, dtype)
        b.flags.writeable = False
        return b
    if mode == "alias_y_true" and isinstance(y_true, np.ndarray):
        return y_true
    if mode == "alias_weight" and isinstance(weight, np.ndarray):
        return weight
    if mode == "overlap" and isinstance(pred, np.ndarray) and pred.ndim == 1 and pred.size > 1:
        base = pred.base if pred.base is not None and pred.base.ndim == 1 else None
        if base is not None and base.dtype == dtype and base.flags.writeable:
            return base[1:1 + pred.size] if base.size > pred.size else np.zeros(shape, dtype)
    if mode == "swapped":
        return np.zeros(shape, dtype.newbyteorder())
    if mode == "list":
        return np.zeros(shape, dtype).tolist()
    return np.zeros(shape, dtype)  # fresh, or a mode that does not apply here


# ----------------------------------------------------------------------------------------------
# strategies


def floats_for(role: str, wild: bool) -> st.SearchStrategy[float]:
    """Element values for an array of ``role``; ``wild`` adds values out of the domain."""
    if role == "logit":
        s = st.one_of(st.floats(-60, 60), st.sampled_from([x for x in SPECIAL if x == x]),
                      st.floats(allow_nan=False), st.integers(-3, 3).map(float))
    elif role == "probability":
        s = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, 0.5, 5e-324, 1e-40, 6e-8,
                                                        1 - 2**-53, 1 - 2**-24, 1e-300]))
    elif role == "log_probability":
        s = st.one_of(st.floats(-60, 0), st.sampled_from([0.0, -0.0, -np.inf, -1e308, -5e-324,
                                                          -1e-40, -0.6931471805599453, -745.0,
                                                          -2**-53, -88.0]))
    elif role == "label":
        s = st.one_of(st.sampled_from([0.0, 1.0, 0.0, 1.0]), st.floats(0, 1))
    elif role == "weight":
        s = st.one_of(st.floats(0, 10), st.sampled_from([0.0, 1.0, 1e-300, 5e-324, 2.0, 1e6]))
    elif role == "class_weight":
        s = st.sampled_from([0.0, 1.0, 1e-300, 2.0, 9e307, 9e307, 1e300, 0.5])
    else:  # "any"
        s = st.one_of(st.floats(), st.sampled_from(SPECIAL))
    if wild:
        s = st.one_of(s, st.sampled_from([np.nan, 2.0, -0.5, 1 + 1e-10, -1e-9, np.inf, -np.inf,
                                          1e308, -1.0, 3.0, 1e40]))
    return s


@st.composite
def arrays(draw: Any, shape: tuple[int, ...], role: str, dtype: np.dtype | None = None,
           nan: bool = False, wild: bool | None = None, layout: str | None = None) -> Arr:
    if dtype is None:
        dtype = draw(st.sampled_from(FLOATS * 4 + OTHERS))
    if wild is None:
        wild = chance(draw, 8)
    elems = floats_for(role, wild)
    if nan:
        elems = st.one_of(elems, st.just(math.nan))
    size = math.prod(shape)
    values = np.array(draw(st.lists(elems, min_size=size, max_size=size)), np.float64)
    values = to_dtype(values.reshape(shape), dtype)
    if layout is None:
        layout = draw(st.sampled_from(LAYOUTS))
    return Arr(values, layout)


def chance(draw: Any, k: int) -> bool:
    """True once in ``k`` draws (Hypothesis's integers favour their bounds; this does not)."""
    return draw(st.sampled_from([True] + [False] * (k - 1)))


def option(valid: list[Any], invalid: list[Any], k: int = 12) -> st.SearchStrategy[Any]:
    """A valid value, or once in ``k`` an invalid one."""
    return st.sampled_from([True] + [False] * (k - 1)).flatmap(
        lambda bad: st.sampled_from(invalid if bad else valid))


def pick(draw: Any, choices: tuple[list[Any], list[Any]], wild: bool) -> Any:
    """A value of ``choices`` = (valid, invalid): invalid ones only in a ``wild`` case."""
    return draw(option(*choices) if wild else st.sampled_from(choices[0]))


KIND = (["logit", "probability", "log_probability"], ["logits", None, 1, "LOGIT"])
REDUCTION = (["mean", "sum", "none"], ["avg", None, "MEAN", 0])
NAN_POLICY = (["propagate", "raise", "omit"], ["skip", None, True])
SMOOTHING = ([0.0, 0.0, 0.1, 0.5, 1.0, 1.0, 1e-300, np.float32(0.25)],
                   [-0.1, 1.0000001, math.nan, math.inf, "a", None, True, 1 + 0j, [0.1]])
EPS = ([None, None, 0.0, 1e-50, 1e-10, 1e-3, 0.25, 0.4999, np.float32(1e-4)],
             [0.5, -1e-3, math.nan, math.inf, "x", True, [1e-3]])
N_THREADS = ([1, 1, 2, -1, np.int64(2)],
                   [0, -2, True, False, 1.0, 2.5, 2**40, 2**31, 2**70, -2**70, "2", None])


def _shape(draw: Any) -> tuple[int, ...]:
    """(n,) or (n, k) mostly; sometimes 0-d, empty or 3-d."""
    if chance(draw, 3):
        return draw(st.sampled_from([(), (), (), (0,), (0, 3), (4, 0), (2, 2, 2)]))
    if draw(st.booleans()):
        return (draw(st.integers(1, 24)),)
    return (draw(st.integers(1, 8)), draw(st.integers(1, 4)))


def _other_shape(draw: Any, shape: tuple[int, ...], wild: bool) -> tuple[int, ...]:
    """``shape``, or in a ``wild`` case sometimes a different one."""
    if not (wild and chance(draw, 4)):
        return shape
    return draw(st.sampled_from([(), (3,), (1,), (2, 3), (*shape, 1), shape[:-1] or (2,)]))


VALID_DTYPES = FLOATS * 3 + [np.dtype(t) for t in (np.int8, np.int64, np.uint8, np.bool_)]


def dtypes(draw: Any, wild: bool) -> np.dtype:
    return draw(st.sampled_from(FLOATS * 3 + OTHERS if wild else VALID_DTYPES))


@dataclass
class Case:
    """A call: the function, its array inputs (positional first), options and out modes."""

    fname: str
    positional: tuple[str, ...]
    arrays: dict[str, Any]  # name -> Arr, or a plain object (a scalar weight)
    options: dict[str, Any] = field(default_factory=dict)
    outs: dict[str, str] = field(default_factory=dict)  # out / grad_out / hess_out -> mode

    def build(self, canonical: bool = False) -> tuple[tuple, dict, dict[str, Any]]:
        built = {k: v.build(canonical) if isinstance(v, Arr) else v
                 for k, v in self.arrays.items()}
        args = tuple(built[k] for k in self.positional)
        kwargs = {k: v for k, v in built.items() if k not in self.positional}
        kwargs.update(self.options)
        pred = args[1]
        weight = built.get("sample_weight")
        for name, mode in self.outs.items():
            if mode != "none":
                kwargs[name] = make_out(mode, pred, args[0], weight)
        return args, kwargs, built

    def without_out(self) -> Case:
        return replace(self, outs={k: "none" for k in self.outs})

    def has_out(self) -> bool:
        return any(m != "none" for m in self.outs.values())


@st.composite
def sample_weights(draw: Any, rows: tuple[int, ...], wild: bool) -> Any:
    if not chance(draw, 3):
        return None
    if wild and chance(draw, 5):
        return draw(st.sampled_from([1.0, "w", [1.0, 2.0], np.ones(7)]))
    shape = _other_shape(draw, rows, wild)
    return draw(arrays(shape, "weight", dtype=F64 if chance(draw, 2) else dtypes(draw, wild),
                       wild=wild and chance(draw, 2)))


def out_mode(draw: Any, wild: bool) -> str:
    return draw(st.sampled_from(OUT_MODES if wild else ["none", "none", "fresh", "inplace"]))


@st.composite
def binary_cases(draw: Any, fname: str | None = None) -> Case:
    wild = chance(draw, 3)  # invalid options and values only in a third of the cases
    fname = fname or draw(st.sampled_from(["binary_cross_entropy",
                                           "binary_cross_entropy_with_grad",
                                           "binary_logistic_grad_hess"]))
    grad_hess = fname == "binary_logistic_grad_hess"
    kind = "logit" if grad_hess else pick(draw, KIND, wild)
    role = kind if kind in ("logit", "probability", "log_probability") else "any"
    shape = _shape(draw)
    pred = draw(arrays(shape, role, dtype=dtypes(draw, wild), nan=draw(st.booleans()),
                       wild=wild and chance(draw, 2)))
    label_dtype = draw(st.sampled_from([F64, np.dtype(np.int8), np.dtype(bool),
                                        dtypes(draw, wild)]))
    y = draw(arrays(_other_shape(draw, shape, wild), "label", dtype=label_dtype,
                    wild=wild and chance(draw, 2)))
    arrs: dict[str, Any] = {"y_true": y, "logits" if grad_hess else "y_pred": pred}
    sw = draw(sample_weights(shape[:1], wild))
    if sw is not None:
        arrs["sample_weight"] = sw
    pw_choice = draw(st.sampled_from([0, 0, 0, 1, 2]))
    if pw_choice == 1:
        arrs["pos_weight"] = pick(draw, ([0.5, 2.0, 1.0, 100.0, 1e-3, 1e300, 1e-300],
                                         [0.0, -1.0, math.nan, math.inf, "p"]), wild)
    elif pw_choice == 2:
        k = shape[1] if len(shape) == 2 else 1
        pw_shape = draw(st.sampled_from([(k,), (k,), (k + 1,), ()])) if wild else (k,)
        arrs["pos_weight"] = draw(arrays(pw_shape, "weight", dtype=F64,
                                         wild=wild and draw(st.booleans())))
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["n_threads"] = pick(draw, N_THREADS, wild)
    outs = {}
    if grad_hess:
        outs = {"grad_out": out_mode(draw, wild), "hess_out": out_mode(draw, wild)}
    else:
        options["kind"] = kind
        for name, strategy in (("reduction", REDUCTION), ("nan_policy", NAN_POLICY),
                               ("label_smoothing", SMOOTHING), ("eps", EPS)):
            if draw(st.booleans()):
                options[name] = pick(draw, strategy, wild)
        if fname.endswith("_with_grad"):
            outs = {"out": out_mode(draw, wild)}
    return Case(fname, ("y_true", "logits" if grad_hess else "y_pred"), arrs, options, outs)


LABEL_DTYPES = [np.dtype(t) for t in (np.int64, np.int64, np.int32, np.int8, np.uint8, np.uint64,
                                      np.float64, np.float32, np.bool_, np.int16)]


@st.composite
def categorical_cases(draw: Any) -> Case:
    wild = chance(draw, 3)
    fname = draw(st.sampled_from(["categorical_cross_entropy",
                                  "categorical_cross_entropy_with_grad"]))
    kind = pick(draw, KIND, wild)
    role = kind if kind in ("logit", "probability", "log_probability") else "any"
    n = draw(st.integers(0, 10))
    c = draw(st.integers(1, 5))
    odd = chance(draw, 4)
    shape = draw(st.sampled_from([(), (n,), (n, 0), (2, 2, 2)])) if wild and odd else (n, c)
    pred = draw(arrays(shape, role, dtype=dtypes(draw, wild), nan=draw(st.booleans()),
                       wild=wild and chance(draw, 2)))
    if len(shape) == 2 and shape[1] > 1 and pred.values.dtype.kind == "f" and chance(draw, 3):
        j = draw(st.integers(1, shape[1] - 1))  # ties at the maximum, +-inf ones too
        pred.values[:, j] = pred.values[:, 0]
    c_eff = shape[1] if len(shape) == 2 else 3
    ignore = pick(draw, ([None, None, -100, 0, c_eff - 1, np.int64(-1)],
                         [True, 1.5, "a", 2**70, -2**70, None]), wild)
    if not chance(draw, 4):  # integer labels
        choices = list(range(max(c_eff, 1)))
        if isinstance(ignore, int) and not isinstance(ignore, bool) and abs(ignore) < 2**63:
            choices.append(int(ignore))
        bad = [-1, c_eff, 2**62, 2**63 + 5, -100, 1.5, math.nan, math.inf, 1e300]
        rows = shape[0] if len(shape) >= 1 else 1
        lshape = _other_shape(draw, (rows,), wild)
        vals = draw(st.lists(option(choices, bad) if wild and chance(draw, 2)
                             else st.sampled_from(choices),
                             min_size=math.prod(lshape), max_size=math.prod(lshape)))
        dtype = draw(st.sampled_from(LABEL_DTYPES))
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            raw = [min(max(int(v), info.min), info.max) if math.isfinite(v) else 0 for v in vals]
            values = np.array(raw, dtype).reshape(lshape)
        else:
            values = to_dtype(np.array([float(v) for v in vals]).reshape(lshape), dtype)
        y = Arr(values, draw(st.sampled_from(LAYOUTS)))
    else:  # soft targets
        ignore = ignore if wild else None
        y = draw(arrays(_other_shape(draw, shape, wild), "weight",
                        dtype=draw(st.sampled_from([F64, F32, F16, np.dtype(np.int8)])),
                        wild=wild and chance(draw, 2)))
    arrs: dict[str, Any] = {"y_true": y, "y_pred": pred}
    sw = draw(sample_weights(shape[:1], wild))
    if sw is not None:
        arrs["sample_weight"] = sw
    if draw(st.booleans()):
        cw_shape = draw(st.sampled_from([(c_eff + 1,), ()])) if wild and odd else (c_eff,)
        arrs["class_weight"] = draw(arrays(cw_shape, "class_weight", dtype=dtypes(draw, wild),
                                           wild=wild and chance(draw, 2)))
    options: dict[str, Any] = {"kind": kind}
    if ignore is not None:
        options["ignore_index"] = ignore
    for name, strategy in (("reduction", REDUCTION), ("nan_policy", NAN_POLICY),
                           ("label_smoothing", SMOOTHING), ("eps", EPS),
                           ("n_threads", N_THREADS)):
        if draw(st.booleans()):
            options[name] = pick(draw, strategy, wild)
    outs = {"out": out_mode(draw, wild)} if fname.endswith("_with_grad") else {}
    return Case(fname, ("y_true", "y_pred"), arrs, options, outs)


# ----------------------------------------------------------------------------------------------
# running a case


def run(module: Any, case: Case, canonical: bool = False) -> Ok | Err:
    """Call ``case`` on ``module``; check that inputs are unchanged and out is returned."""
    args, kwargs, built = case.build(canonical)
    before = {k: snapshot(v) for k, v in built.items()}
    result = call(getattr(module, case.fname), args, kwargs)
    pred_name = case.positional[1]
    for name, value in built.items():
        if name == pred_name and any(kwargs.get(o) is value for o in case.outs):
            continue  # y_pred passed as out: overwritten by the gradient
        assert snapshot(value) == before[name], f"{case.fname} modified its input {name}"
    if isinstance(result, Ok):
        if case.fname == "binary_logistic_grad_hess":
            grads = result.value
            for i, name in enumerate(("grad_out", "hess_out")):
                if name in kwargs:
                    assert grads[i] is kwargs[name], f"{name} is not the returned array"
        elif "out" in kwargs:
            assert result.value[1] is kwargs["out"], "out is not the returned gradient"
    return result


def _weighted_rows(case: Case, canonical: dict[str, Any], n: int) -> np.ndarray:
    sw = canonical.get("sample_weight")
    w = np.ones(n) if sw is None else np.broadcast_to(np.asarray(sw, np.float64), (n,))
    return w > 0


def check_semantics(case: Case, result: Ok, categorical: bool) -> None:
    """Property 4 on an accepted call: NaN in -> NaN loss (propagate), no NaN in -> no NaN."""
    _, _, built = case.build(canonical=True)
    pred = np.asarray(built[case.positional[1]], np.float64)
    values = [np.asarray(v, np.float64) for v in _parts(result.value)]
    nan = np.isnan(pred)
    if not nan.any():
        if categorical and case.options.get("kind") == "logit" and pred.size:
            top = pred.max(axis=1)
            ties = (pred == top[:, None]).sum(axis=1)
            if np.any(np.isinf(top) & (ties > 1)) or np.any(top == -np.inf):
                return  # +inf twice, or every logit -inf: the limit is undefined
        for v in values:
            assert not np.isnan(v).any(), f"{case.fname}: NaN from NaN-free input: {v}"
        return
    if case.options.get("nan_policy", "propagate") != "propagate" or case.fname.endswith("hess"):
        return
    n = pred.shape[0] if pred.ndim else 1
    rows = nan.reshape(n, -1).any(axis=1) & _weighted_rows(case, built, n)
    if categorical:
        y = np.asarray(built["y_true"])
        cw = built.get("class_weight")
        if cw is not None and not (np.asarray(cw, np.float64) > 0).all():
            return
        if y.ndim == 1:
            ignore = case.options.get("ignore_index")
            if ignore is not None:
                rows &= y.astype(np.float64) != float(ignore)
        elif not case.options.get("label_smoothing"):
            rows &= np.asarray(y, np.float64).sum(axis=1) > 0
    if not rows.any():
        return
    loss = values[0]
    if loss.ndim == 0:
        assert np.isnan(loss), f"{case.fname}: NaN in y_pred gave loss {loss} (propagate)"
    else:
        per_row = np.isnan(loss.reshape(n, -1)).any(axis=1)
        assert per_row[rows].all(), f"{case.fname}: NaN rows {np.flatnonzero(rows)}: {loss}"


def check_case(case: Case, categorical: bool = False) -> None:
    note(f"case: {case}")
    results = []
    for module in MODULES:
        result = run(module, case)
        note(f"{module.__name__}: {result}")
        results.append(result)
        if case.has_out():  # property 3: out= gives the bits out=None gives
            plain = run(module, case.without_out())
            if isinstance(result, Ok):
                assert_identical(result, plain, f"{module.__name__}: out= vs out=None")
        if not {"inplace", "overlap", "alias_y_true", "alias_weight"} & set(case.outs.values()):
            # property 3: the layout of an input changes nothing
            canon = run(module, case, canonical=True)
            assert_identical(result, canon, f"{module.__name__}: layout vs C-contiguous",
                             same_message=False)
        if isinstance(result, Ok):
            check_semantics(case, result, categorical)
    if HAVE_C:
        args = case.build()[0]
        assert_agree(results[0], results[1], _tol(compute_dtype(args[1])),
                     f"{case.fname}: C vs reference")


# ----------------------------------------------------------------------------------------------
# the tests


@budget(800)
@given(binary_cases())
def test_binary_functions(case: Case) -> None:
    """binary_cross_entropy[_with_grad] and binary_logistic_grad_hess: properties 1-4."""
    check_case(case)


@budget(800)
@given(categorical_cases())
def test_categorical_functions(case: Case) -> None:
    """categorical_cross_entropy[_with_grad]: properties 1-4."""
    check_case(case, categorical=True)


# --- property 4: finite valid input, finite result, never an error


@st.composite
def finite_cases(draw: Any) -> Case:
    family = draw(st.sampled_from(["binary", "binary", "grad_hess", "categorical"]))
    dtype = draw(st.sampled_from([F32, F64, F16]))
    layout = draw(st.sampled_from(LAYOUTS))
    kind = "logit" if family == "grad_hess" else draw(st.sampled_from(
        ["logit", "probability", "log_probability"]))
    bound = 60.0 if dtype == F16 else 1e30
    elems = {"logit": st.one_of(st.floats(-bound, bound), st.floats(-40, 40)),
             "probability": st.floats(0, 1),
             "log_probability": st.one_of(st.floats(-bound, 0), st.floats(-40, 0))}[kind]
    options: dict[str, Any] = {}
    if family == "categorical":
        n, c = draw(st.integers(1, 8)), draw(st.integers(1, 5))
        shape: tuple[int, ...] = (n, c)
    else:
        shape = draw(st.sampled_from([(), (draw(st.integers(1, 20)),),
                                      (draw(st.integers(1, 6)), draw(st.integers(1, 4)))]))
    size = math.prod(shape)
    pred = to_dtype(np.array(draw(st.lists(elems, min_size=size, max_size=size)))
                    .reshape(shape), dtype)
    n = shape[0] if shape else 1
    positive = st.floats(1e-3, 1e3)
    arrs: dict[str, Any] = {}
    if family == "categorical":
        if draw(st.booleans()):
            y = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
            if draw(st.booleans()):
                options["ignore_index"] = -100
                y[draw(st.integers(0, n - 1))] = -100  # one row ignored; n > 1 keeps a row
        else:
            y = np.array(draw(st.lists(st.floats(0, 10), min_size=size, max_size=size)))
            y = y.reshape(shape)
            y[:, 0] += 1.0  # every row carries weight
        if draw(st.booleans()):
            arrs["class_weight"] = Arr(np.array(draw(st.lists(positive, min_size=c,
                                                              max_size=c))), layout)
    else:
        y = np.array(draw(st.lists(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)),
                                   min_size=size, max_size=size))).reshape(shape)
        if draw(st.booleans()):
            arrs["pos_weight"] = draw(st.one_of(st.floats(0.01, 100), st.just(np.array(2.0))))
    arrs = {"y_true": Arr(y, layout), "y_pred": Arr(pred, layout), **arrs}
    if draw(st.booleans()):
        arrs["sample_weight"] = Arr(np.array(draw(st.lists(positive, min_size=n, max_size=n)))
                                    .reshape(shape[:1]), layout)
    options["n_threads"] = draw(st.sampled_from([1, 2, -1]))
    if family == "grad_hess":
        arrs["logits"] = arrs.pop("y_pred")
        return Case("binary_logistic_grad_hess", ("y_true", "logits"), arrs, options)
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    if options.get("ignore_index") is not None and n == 1:
        reduction = "sum"  # every row ignored: "mean" has no weight
    options.update(kind=kind, reduction=reduction,
                   nan_policy=draw(st.sampled_from(["propagate", "raise", "omit"])),
                   label_smoothing=draw(st.sampled_from([0.0, 0.1, 1.0])),
                   eps=draw(st.sampled_from([None, 1e-7, 1e-3])))
    fname = f"{family}_cross_entropy" + draw(st.sampled_from(["", "_with_grad"]))
    return Case(fname, ("y_true", "y_pred"), arrs, options)


@budget(300)
@given(finite_cases())
def test_finite_input_gives_finite_output(case: Case) -> None:
    note(f"case: {case}")
    results = []
    for module in MODULES:
        result = run(module, case)
        note(f"{module.__name__}: {result}")
        assert isinstance(result, Ok), f"{module.__name__}.{case.fname} rejected valid input"
        for part in _parts(result.value):
            assert np.isfinite(part).all(), f"{module.__name__}.{case.fname}: {part}"
        results.append(result)
    if HAVE_C:
        args = case.build()[0]
        assert_agree(results[0], results[1], _tol(compute_dtype(args[1])), case.fname)


# --- property 5: threads


@needs_c
@budget(12)
@given(family=st.sampled_from(["binary", "grad_hess", "categorical"]),
       kind=st.sampled_from(["logit", "probability", "log_probability"]),
       dtype=st.sampled_from([F32, F64]), reduction=st.sampled_from(["mean", "sum", "none"]),
       weighted=st.booleans(), specials=st.booleans(), seed=st.integers(0, 2**32 - 1),
       nan_policy=st.sampled_from(["propagate", "omit"]))
def test_threads_give_identical_bits(family: str, kind: str, dtype: np.dtype, reduction: str,
                                     weighted: bool, specials: bool, seed: int,
                                     nan_policy: str) -> None:
    rng = np.random.default_rng(seed)
    shape = {"binary": (70_001, 2), "grad_hess": (140_003,), "categorical": (30_011, 5)}[family]
    x = rng.standard_normal(shape) * 4
    if kind == "probability":
        x = 1 / (1 + np.exp(-x))
    elif kind == "log_probability":
        x = -np.logaddexp(0, -x)
    if specials:
        flat = x.reshape(-1)
        picks = rng.integers(0, flat.size, 50)
        flat[picks] = rng.choice({"logit": [np.inf, -np.inf, 40.0, np.nan],
                                  "probability": [0.0, 1.0, np.nan],
                                  "log_probability": [0.0, -np.inf, np.nan]}[kind], 50)
    x = x.astype(dtype)
    n = shape[0]
    kwargs: dict[str, Any] = {}
    if weighted:
        kwargs["sample_weight"] = rng.random(n) * 3
    if family == "categorical":
        y = rng.integers(0, shape[1], n)
        fn = crossent.categorical_cross_entropy_with_grad
        kwargs.update(kind=kind, reduction=reduction, nan_policy=nan_policy)
    else:
        y = (rng.random(shape) < 0.5).astype(dtype)
        if family == "grad_hess":
            fn = crossent.binary_logistic_grad_hess
        else:
            fn = crossent.binary_cross_entropy_with_grad
            kwargs.update(kind=kind, reduction=reduction, nan_policy=nan_policy)
    one = call(fn, (y, x), {**kwargs, "n_threads": 1})
    for threads in (2, -1, 2**40):  # above 1024 is capped
        assert_identical(call(fn, (y, x), {**kwargs, "n_threads": threads}), one,
                         f"n_threads={threads} vs 1")


# --- n_threads: the rule of DESIGN.md, on every function and every path (the C fast path too)

THREADS = [1, 2, -1, 3, 1024, 2**31, 2**40, 2**70, np.int64(2), np.int32(-1), np.uint8(1), 0, -2,
           -2**70, True, False, 1.0, 2.0, 2.5, -1.0, "1", None, np.float64(1.0), np.bool_(True),
           1 + 0j, [1]]


def _valid_threads(n: Any) -> bool:
    integer = isinstance(n, int | np.integer) and not isinstance(n, bool | np.bool_)
    return integer and (n == -1 or n >= 1)


@budget(120)
@given(n_threads=st.sampled_from(THREADS), fname=st.sampled_from([
    "binary_cross_entropy", "binary_cross_entropy_with_grad", "binary_logistic_grad_hess",
    "categorical_cross_entropy", "categorical_cross_entropy_with_grad"]),
    dtype=st.sampled_from([F32, F64]), plain=st.booleans())
def test_n_threads_rule(n_threads: Any, fname: str, dtype: np.dtype, plain: bool) -> None:
    """A positive integer (capped) or -1 works and changes nothing; anything else, bools and
    floats included, is a ValueError -- on the fast path (plain arrays, defaults) too."""
    if fname.startswith("categorical"):
        args: tuple = (np.array([0, 1]), np.array([[0.3, 0.7], [0.6, 0.4]], dtype))
    else:
        args = (np.array([0.0, 1.0], dtype), np.array([0.3, 0.6], dtype))
    kwargs: dict[str, Any] = {} if plain or fname.endswith("hess") else {"reduction": "sum"}
    for module in MODULES:
        fn = getattr(module, fname)
        got = call(fn, args, {**kwargs, "n_threads": n_threads})
        if _valid_threads(n_threads):
            assert_identical(got, call(fn, args, kwargs), f"{module.__name__}: {n_threads!r}")
        else:
            assert isinstance(got, Err) and got.type is ValueError, (
                f"{module.__name__}.{fname}(n_threads={n_threads!r}) gave {got}")


# --- log_loss


@st.composite
def log_loss_cases(draw: Any) -> tuple[tuple, dict]:
    n = draw(st.integers(0, 12))
    c = draw(st.integers(2, 4))
    form = draw(st.sampled_from(["1d", "col", "2d", "2d", "2d", "0d", "3d"]))
    pshape = {"1d": (n,), "col": (n, 1), "2d": (n, c), "0d": (), "3d": (n, 2, 2)}[form]
    ncls = c if form == "2d" else 2
    p = draw(arrays(pshape, "probability", nan=chance(draw, 6)))
    if form == "2d" and draw(st.booleans()) and p.values.dtype.kind == "f":
        with np.errstate(all="ignore"):
            s = p.values.sum(axis=1, keepdims=True)
            p = Arr((p.values / np.where(s > 0, s, 1)).astype(p.values.dtype), p.layout)
    label_form = draw(st.sampled_from(["int", "int", "str", "bool", "float", "indicator",
                                       "wild"]))
    codes = draw(st.lists(st.integers(0, ncls - 1), min_size=n, max_size=n))
    if label_form == "int":
        dt = draw(st.sampled_from([np.int64, np.int8, np.uint8, np.uint64, np.int32]))
        offset = draw(st.sampled_from([0, 0, 1, 5]))
        y: Any = np.array([v + offset for v in codes], dt)
    elif label_form == "str":
        y = np.array(["ant", "bee", "cat", "dog"])[np.array(codes, int)]
    elif label_form == "bool":
        y = np.array(codes, int) > 0
    elif label_form == "float":
        y = np.array(codes, np.float64) + draw(st.sampled_from([0.0, 0.5, -1.0]))
    elif label_form == "indicator":
        y = np.eye(ncls, dtype=np.int64)[np.array(codes, int)] if n else np.zeros((0, ncls))
    else:
        y = draw(st.sampled_from([np.array([np.nan] * n), ["a", 1] * (n // 2), 3.0, None,
                                  np.zeros((n, 2, 2)), np.arange(n) * 0.5]))
    args = (relayout(y, draw(st.sampled_from(LAYOUTS))) if isinstance(y, np.ndarray) else y,
            p.build())
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        kwargs["sample_weight"] = draw(st.one_of(
            arrays((n,), "any", dtype=F64, layout="c"),
            arrays((n,), "weight", dtype=F64),
            st.sampled_from([1.0, [1.0], "w"])))
        if isinstance(kwargs["sample_weight"], Arr):
            kwargs["sample_weight"] = kwargs["sample_weight"].build()
    if chance(draw, 4):
        classes = {"int": list(range(ncls)), "str": ["ant", "bee", "cat", "dog"][:ncls],
                   "bool": [False, True]}.get(label_form, list(range(ncls)))
        kwargs["labels"] = draw(st.sampled_from([classes, classes[::-1], classes[:1],
                                                 classes + classes[:1], [*classes, "zz"]]))
    if draw(st.booleans()):
        kwargs["normalize"] = draw(st.sampled_from([True, False, np.bool_(False), 1, "yes"]))
    return args, kwargs


@budget(300)
@given(log_loss_cases())
def test_log_loss(case: tuple[tuple, dict]) -> None:
    args, kwargs = case
    note(f"args {args!r}, kwargs {kwargs!r}")
    results = []
    for module in MODULES:
        before = [snapshot(a) for a in (*args, *kwargs.values())]
        result = call(module.log_loss, args, kwargs, user_warnings=True,
                      allow=(ValueError, TypeError, ZeroDivisionError))
        after = [snapshot(a) for a in (*args, *kwargs.values())]
        assert before == after, "log_loss modified an input"
        note(f"{module.__name__}: {result}")
        results.append(result)
    if HAVE_C:
        p = np.asarray(args[1])
        tol = _tol(p.dtype) if p.dtype.kind == "f" else 1e-12
        assert_agree(results[0], results[1], tol, "log_loss: C vs reference")


# --- LossAccumulator


@st.composite
def accumulator_cases(draw: Any) -> tuple[str, dict, np.ndarray, np.ndarray, Any, list[int]]:
    loss = draw(st.sampled_from(["binary", "categorical"]))
    kind = draw(st.sampled_from(["logit", "probability", "log_probability"]))
    dtype = draw(st.sampled_from([F32, F64]))
    n = draw(st.integers(0, 16))
    c = draw(st.integers(1, 4))
    shape = (n, c) if loss == "categorical" or draw(st.booleans()) else (n,)
    size = math.prod(shape)
    elems = floats_for(kind, False)
    if draw(st.booleans()):
        elems = st.one_of(elems, st.just(math.nan))
    x = to_dtype(np.array(draw(st.lists(elems, min_size=size, max_size=size)),
                          np.float64).reshape(shape), dtype)
    options: dict[str, Any] = {"kind": kind,
                               "nan_policy": draw(st.sampled_from(["propagate", "omit"])),
                               "reduction": draw(st.sampled_from(["mean", "sum"]))}
    if loss == "categorical":
        y = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), np.int64)
        if draw(st.booleans()):
            options["class_weight"] = np.array(draw(st.lists(
                st.sampled_from([0.5, 1.0, 2.0, 1e-3]), min_size=c, max_size=c)))
    else:
        y = np.array(draw(st.lists(floats_for("label", False), min_size=size,
                                   max_size=size))).reshape(shape).astype(dtype)
        if draw(st.booleans()):
            options["pos_weight"] = draw(st.sampled_from([0.5, 3.0]))
    if n and kind == "logit" and chance(draw, 2):  # an infinite loss in the first row
        row = draw(st.integers(0, n - 1))
        if loss == "categorical":
            x[row, y[row]] = -np.inf
            if c == 1:
                x[row, 0] = np.nan
        else:
            x[row] = -np.inf
            y[row] = 1
    if draw(st.booleans()):
        options["label_smoothing"] = 0.1
    sw = None
    if draw(st.booleans()):
        sw = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=n,
                                    max_size=n)))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    return loss, options, y, x, sw, cuts


@budget(200)
@given(accumulator_cases())
def test_loss_accumulator(case: tuple) -> None:
    """Batches (updated in turn, or accumulated apart and merged) give the one-call loss."""
    loss, options, y, x, sw, cuts = case
    note(f"{case}")
    options = dict(options)
    reduction = options.pop("reduction")
    bounds = list(zip([0, *cuts], [*cuts, len(y)], strict=True))
    tol = _tol(x.dtype) * 10
    results = []
    for module in MODULES:
        one_call = getattr(module, f"{loss}_cross_entropy")
        one = call(one_call, (y, x), {"sample_weight": sw, "reduction": reduction, **options})
        acc = call(module.LossAccumulator, (loss,), {"reduction": reduction, **options})
        assert isinstance(acc, Ok)
        parts = []
        for a, b in bounds:
            part = call(module.LossAccumulator, (loss,), {"reduction": reduction, **options})
            assert isinstance(part, Ok)
            w = None if sw is None else sw[a:b]
            for target in (acc.value, part.value):
                got = call(target.update, (y[a:b], x[a:b], w), {})
                assert isinstance(got, Ok), f"update of rows {a}:{b} failed: {got}"
            parts.append(part.value)
        merged = parts[0]
        for p in parts[1:]:
            assert call(merged.merge, (p,), {}).value is merged
        sequential = call(acc.value.result, (), {})
        joined = call(merged.result, (), {})
        note(f"{module.__name__}: one call {one}, sequential {sequential}, merged {joined}")
        for what, got in (("sequential updates", sequential), ("merged", joined)):
            if isinstance(one, Err):
                assert isinstance(got, Err) and got.type is one.type, f"{what}: {got} vs {one}"
            else:
                assert isinstance(got, Ok), f"{what}: {got} vs {one}"
                assert_close(float(got.value), float(one.value), tol, what)
        results.append(one)
    if HAVE_C:
        assert_agree(results[0], results[1], _tol(x.dtype), "C vs reference")
