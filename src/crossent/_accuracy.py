"""Hard inputs and an mpmath oracle: how far (in ULP) a backend is from the exact answer.

Used by ``python -m crossent bench`` and by the test suite. The oracle evaluates the definitions
of DESIGN.md at 80 significant digits with mpmath, from the exact binary value of each input;
it shares no code with the kernels. Requires mpmath.

The inputs sit on every threshold where exp, log1p or expm1 change regime, underflow or
overflow in float32 or float64, with their floating-point neighbours, plus a dense sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# Logits where exp(-|x|) or log1p change regime: eps-level terms (17, 18.5 / 33.3, 36.04, 37),
# overflow/underflow of exp (88.7, 103.97, 104 in float32; 709.78, 745.13 in float64), and beyond.
_LOGIT_POINTS = (
    0.0, 1e-300, 1e-40, 1e-8, 0.25, 0.5, 0.6931471805599453, 1.0, 2.0, 5.0, 8.0, 10.0,
    15.9, 16.64, 17.0, 17.33, 18.5, 20.0, 25.0, 30.0, 33.3, 36.04, 37.0, 40.0, 50.0, 80.0,
    87.33, 88.72, 89.0, 100.0, 103.28, 103.97, 104.0, 120.0, 500.0, 708.39, 709.78, 710.0,
    744.44, 745.13, 746.0, 1e4, 1e5, 1e30, 1e300, 87.0, 708.0,
)
_PROB_POINTS = (
    0.0, 1e-320, 1e-300, 1e-45, 1e-38, 1e-20, 1e-10, 1e-5, 1e-3, 0.01, 0.1, 0.25, 0.3,
    0.5, 0.7, 0.75, 0.9, 0.99, 0.999, 1 - 1e-5, 1 - 1e-7, 1.0,
)
_LOGPROB_POINTS = (
    0.0, -1e-320, -1e-300, -1e-40, -1e-20, -1e-16, -1e-10, -1e-7, -1e-5, -1e-3, -0.1, -0.5,
    -0.6931471805599453, -0.7, -1.0, -2.0, -10.0, -16.0, -17.0, -36.0, -37.0, -50.0, -87.0,
    -88.0, -100.0, -103.0, -104.0, -700.0, -708.0, -745.0, -746.0, -1e5, -1e30, -1e300,
)


def _with_neighbours(values: np.ndarray, dtype: np.dtype, steps: int = 2) -> np.ndarray:
    out = [values]
    up = down = values
    with np.errstate(over="ignore"):
        for _ in range(steps):
            up = np.nextafter(up, dtype.type(np.inf))
            down = np.nextafter(down, dtype.type(-np.inf))
            out += [up, down]
    return np.concatenate(out)


def _clean(values: Any, dtype: np.dtype) -> np.ndarray:
    with np.errstate(over="ignore"):
        v = np.asarray(values, dtype=np.float64).astype(dtype)
    return np.unique(v[np.isfinite(v)])


def hard_logits(dtype: Any) -> np.ndarray:
    """Logits of ``dtype`` on every regime threshold (both signs, with neighbours), and +-inf."""
    dt = np.dtype(dtype)
    base = _clean(np.array(_LOGIT_POINTS), dt)
    eps = np.finfo(dt).eps
    base = np.concatenate([base, _clean([np.finfo(dt).tiny, eps, eps / 2, np.finfo(dt).max], dt)])
    sweep = _clean(np.geomspace(1e-6, 800.0, 160), dt)
    values = _with_neighbours(np.concatenate([base, sweep]), dt)
    values = np.concatenate([values, -values, [dt.type(np.inf), dt.type(-np.inf)]])
    return np.unique(values[~np.isnan(values)]).astype(dt)


def hard_probabilities(dtype: Any) -> np.ndarray:
    """Probabilities of ``dtype``: 0, subnormals, eps/2, eps, 1 - eps, 1 and a sweep."""
    dt = np.dtype(dtype)
    eps = float(np.finfo(dt).eps)
    base = _clean([*_PROB_POINTS, eps / 4, eps / 2, eps, 2 * eps, 1 - eps, 1 - eps / 2,
                   1 - 2 * eps, float(np.finfo(dt).smallest_subnormal)], dt)
    sweep = _clean(np.concatenate([np.linspace(0, 1, 101), np.geomspace(1e-12, 0.5, 60)]), dt)
    values = _with_neighbours(np.concatenate([base, sweep]), dt)
    return np.unique(values[(values >= 0) & (values <= 1)]).astype(dt)


def hard_log_probabilities(dtype: Any) -> np.ndarray:
    """Log-probabilities of ``dtype``: near 0, near -ln 2, very negative, and -inf."""
    dt = np.dtype(dtype)
    eps = float(np.finfo(dt).eps)
    base = _clean([*_LOGPROB_POINTS, -eps / 2, -eps, -2 * eps], dt)
    sweep = -_clean(np.geomspace(1e-12, 1e3, 120), dt)
    values = _with_neighbours(np.concatenate([base, sweep]), dt)
    values = np.concatenate([values[values <= 0], [dt.type(-np.inf)]])
    return np.unique(values).astype(dt)


HARD_INPUTS: dict[str, Callable[[Any], np.ndarray]] = {
    "logit": hard_logits,
    "probability": hard_probabilities,
    "log_probability": hard_log_probabilities,
}


def clip_bounds(kind: str, dtype: Any, eps: float | None = None) -> tuple[float, float]:
    """The clipping interval of DESIGN.md, with its ends rounded to the dtype."""
    dt = np.dtype(dtype)
    e = float(np.finfo(dt).eps) if eps is None else eps
    if kind == "probability":
        lo, hi = e, 1.0 - e
    else:
        with np.errstate(divide="ignore"):
            lo, hi = float(np.log(e)), float(np.log1p(-e))
    return float(dt.type(lo)), float(dt.type(hi))


def exact_binary(kind: str, x: float, y: float, pos_weight: float = 1.0,
                 bounds: tuple[float, float] = (0.0, 1.0)) -> tuple[Any, Any, Any]:
    """(loss, grad, hess) at 80 digits; hess is None except for logits.

    A term whose label coefficient is exactly zero is left out (0 * inf is 0 here, the limit).
    """
    import mpmath as mp

    with mp.workdps(80):
        y_, pw = mp.mpf(y), mp.mpf(pos_weight)
        q, m = pw * y_, 1 - y_
        lw = 1 + (pw - 1) * y_

        def term(coef: Any, value: Any) -> Any:
            return mp.mpf(0) if coef == 0 else coef * value

        if kind == "logit":
            xm = mp.mpf(x)
            if mp.isinf(xm):
                s_pos = mp.mpf(1) if xm > 0 else mp.mpf(0)
                s_neg = 1 - s_pos
                # -log sigma(x) and -log sigma(-x): 0 and +inf in the limit
                nls_pos = mp.mpf(0) if xm > 0 else mp.inf
                nls_neg = mp.inf if xm > 0 else mp.mpf(0)
            else:
                s_pos = 1 / (1 + mp.exp(-xm))
                s_neg = 1 / (1 + mp.exp(xm))
                nls_pos = mp.log1p(mp.exp(-xm))
                nls_neg = mp.log1p(mp.exp(xm))
            loss = term(q, nls_pos) + term(m, nls_neg)
            grad = m * s_pos - q * s_neg
            hess = lw * s_pos * s_neg
            return loss, grad, hess
        lo, hi = bounds
        a = mp.mpf(min(max(x, lo), hi))
        if kind == "probability":
            loss = -(term(q, mp.log(a)) + term(m, mp.log1p(-a)))
            grad = term(m, 1 / (1 - a)) - term(q, 1 / a)
            return loss, grad, None
        if kind == "log_probability":
            if mp.isinf(a):
                log1mexp = mp.mpf(0)
            elif a < -1:
                log1mexp = mp.log1p(-mp.exp(a))
            else:
                log1mexp = mp.log(-mp.expm1(a))
            loss = -(term(q, a) + term(m, log1mexp))
            grad = term(m, 1 / mp.expm1(-a)) - q
            return loss, grad, None
        raise ValueError(f"unknown kind {kind!r}")


def ulp_error(computed: float, exact: Any, dtype: Any) -> float:
    """|computed - exact| in units of the last place of ``exact`` in ``dtype``."""
    import mpmath as mp

    dt = np.dtype(dtype)
    fi = np.finfo(dt)
    computed = float(computed)
    if np.isnan(computed):
        return 0.0 if mp.isnan(exact) else float("inf")
    if mp.isinf(exact) or abs(exact) > mp.mpf(float(fi.max)):
        # the exact value rounds to +-inf in this dtype (or is close enough to its edge)
        with np.errstate(over="ignore"):
            rounds_to = float(dt.type(float(exact)))
        return 0.0 if computed == rounds_to else float("inf")
    with mp.workdps(80):
        min_exp = int(fi.minexp) - int(fi.nmant)  # exponent of the smallest subnormal
        if exact == 0:
            ulp = mp.ldexp(1, min_exp)
        else:
            _, e = mp.frexp(exact)
            ulp = mp.ldexp(1, max(int(e) - int(fi.nmant) - 1, min_exp))
        return float(abs(mp.mpf(computed) - exact) / ulp)


def max_ulp(functions: Any, kind: str, dtype: Any, *, pos_weight: float | None = None,
            labels: tuple[float, ...] = (0.0, 1.0)) -> dict[str, float]:
    """Max ULP error of loss, grad (and hess for logits) of a backend over the hard inputs."""
    dt = np.dtype(dtype)
    x = HARD_INPUTS[kind](dt)
    bounds = clip_bounds(kind, dt)
    pw = 1.0 if pos_weight is None else pos_weight
    worst = {"loss": 0.0, "grad": 0.0}
    if kind == "logit":
        worst["hess"] = 0.0
    for y in labels:
        yt = np.full(x.shape, y, dtype=dt)
        loss, grad = functions.binary_cross_entropy_with_grad(
            yt, x, kind=kind, reduction="none", pos_weight=pos_weight)
        hess = None
        if kind == "logit":
            hess = functions.binary_logistic_grad_hess(yt, x, pos_weight=pos_weight)[1]
        label = float(yt[0])  # the label as the dtype holds it
        for i, xi in enumerate(x.tolist()):
            el, eg, eh = exact_binary(kind, xi, label, pw, bounds)
            worst["loss"] = max(worst["loss"], ulp_error(loss[i], el, dt))
            worst["grad"] = max(worst["grad"], ulp_error(grad[i], eg, dt))
            if hess is not None:
                worst["hess"] = max(worst["hess"], ulp_error(hess[i], eh, dt))
    return worst
