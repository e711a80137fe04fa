"""Accuracy against an mpmath oracle at 80 digits, on the hard inputs of crossent._accuracy."""

import functools
import math

import mpmath as mp
import numpy as np
import pytest

from crossent._accuracy import (
    HARD_INPUTS,
    clip_bounds,
    exact_binary,
    max_ulp,
    ulp_error,
)

KINDS = ["logit", "probability", "log_probability"]


@mp.workdps(80)
def test_oracle_hand_values():
    # x = 0: loss ln 2 for either label, gradient -+1/2, hessian 1/4
    loss, grad, hess = exact_binary("logit", 0.0, 1.0)
    assert abs(loss - mp.log(2)) < mp.mpf(10) ** -70
    assert grad == mp.mpf(-0.5) and hess == mp.mpf(0.25)
    # p = 0.25, y = 0: -log(0.75), gradient 1 / 0.75
    loss, grad, _ = exact_binary("probability", 0.25, 0.0)
    assert abs(loss + mp.log(mp.mpf(3) / 4)) < mp.mpf(10) ** -70
    assert abs(grad - mp.mpf(4) / 3) < mp.mpf(10) ** -70
    # a = -ln 2 (p = 1/2), y = 0: loss ln 2, gradient 1 / (2 - 1) = 1
    loss, grad, _ = exact_binary("log_probability", float(-mp.log(2)), 0.0, bounds=(-1e300, 0))
    assert abs(loss - mp.log(2)) < 1e-15 and abs(grad - 1) < 1e-15
    # confident correct logit 40: loss = log1p(e^-40) ~ 4.248e-18
    loss, _, _ = exact_binary("logit", 40.0, 1.0)
    assert abs(loss / mp.mpf("4.2483542552915889e-18") - 1) < 1e-15


def test_ulp_error_hand_values():
    one_ulp_above_one = float(np.nextafter(1.0, 2.0))
    assert ulp_error(one_ulp_above_one, mp.mpf(1), np.float64) == 1.0
    assert ulp_error(1.0, mp.mpf(1), np.float64) == 0.0
    assert ulp_error(float(np.float32(1) + np.float32(2**-23) * 3), mp.mpf(1), np.float32) == 3.0
    assert ulp_error(math.inf, mp.inf, np.float64) == 0.0
    assert ulp_error(1.0, mp.inf, np.float64) == math.inf
    assert ulp_error(5e-324, mp.mpf(0), np.float64) == 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_hard_inputs_cover_the_thresholds(kind, dtype):
    x = HARD_INPUTS[kind](dtype)
    assert x.dtype == dtype and len(x) > 300
    if kind == "logit":
        assert np.isinf(x).sum() == 2
        for t in (17.0, 18.5, 36.04, 88.72, 103.97):
            assert (np.abs(np.abs(x) - t) < 1e-3).any()
    if kind == "probability":
        assert 0 in x and 1 in x and np.finfo(dtype).eps in x


@pytest.mark.parametrize("pos_weight", [None, 3.0, 0.25], ids=["pw1", "pw3", "pw0.25"])
@pytest.mark.parametrize("kind", KINDS)
def test_hard_labels_within_ulp_targets(api, kind, dtype, pos_weight):
    worst = max_ulp(api, kind, dtype, pos_weight=pos_weight)
    limit = 2.0 if pos_weight is None else 3.0
    assert worst["loss"] <= limit, worst
    assert worst["grad"] <= limit, worst
    if kind == "logit":
        assert worst["hess"] <= 4.0, worst


@pytest.mark.parametrize("kind", KINDS)
def test_soft_labels(api, kind, dtype):
    """Loss within 3 ULP; the gradient within 4 ULP of its terms' magnitude (it may cancel)."""
    x = HARD_INPUTS[kind](dtype)
    bounds = clip_bounds(kind, dtype)
    eps = float(np.finfo(dtype).eps)
    for label in (0.1, 0.5, 0.875):
        y = np.full(x.shape, label, dtype=dtype)
        loss, grad = api.binary_cross_entropy_with_grad(y, x, kind=kind, reduction="none")
        yl = float(y[0])
        for i, xi in enumerate(x.tolist()):
            el, eg, _ = exact_binary(kind, xi, yl, 1.0, bounds)
            assert ulp_error(loss[i], el, dtype) <= 3.0, (xi, yl)
            if kind == "logit":
                scale = 1.0
            elif kind == "probability":
                pc = min(max(xi, bounds[0]), bounds[1])
                scale = (1 - yl) / (1 - pc) + yl / pc
            else:
                a = min(max(xi, bounds[0]), bounds[1])
                scale = (1 - yl) / -math.expm1(a) + yl if a > -math.inf else 1.0
            assert abs(float(grad[i]) - float(eg)) <= 4 * eps * scale, (xi, yl)


def test_infinite_logits_never_nan(api, dtype):
    x = np.array([np.inf, -np.inf, np.inf, -np.inf], dtype=dtype)
    y = np.array([1, 0, 0, 1], dtype=dtype)
    loss, grad = api.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    assert loss.tolist() == [0.0, 0.0, math.inf, math.inf]
    assert grad.tolist() == [0.0, 0.0, 1.0, -1.0]
    g, h = api.binary_logistic_grad_hess(y, x)
    assert g.tolist() == [0.0, 0.0, 1.0, -1.0] and h.tolist() == [0.0] * 4


def _reduced_case(n, shift, dtype):
    """Labels and logits: mixed (shift 0), confident and correct (|x| near shift), and for
    shift 700 half of them infinite, each with its own label."""
    rng = np.random.default_rng(n)
    y = (rng.random(n) < 0.5).astype(np.float64)
    x = rng.standard_normal(n) * (4.0 if shift == 0 else 1.0)
    x = np.where(y == 1, 1, -1) * (x + shift) if shift else x
    if shift == 700.0:
        x[: n // 2] = np.where(y[: n // 2] == 1, np.inf, -np.inf)
    return y.astype(dtype), x.astype(dtype)


@functools.cache
def _exact_sum(n, shift, dtype):
    """mpmath's sum of the exact per-element losses of a case (0 for an infinite logit with its
    label), computed once for both backends."""
    y, x = _reduced_case(n, shift, dtype)
    return mp.fsum(exact_binary("logit", v, t)[0]
                   for v, t in zip(x.tolist(), y.tolist(), strict=True))


@pytest.mark.parametrize("n", [1, 15, 17, 127, 128, 129, 1000, 40_000])
@pytest.mark.parametrize("shift", [0.0, 30.0, 700.0])
def test_reduced_loss_against_mpmath(api, n, shift):
    """The summed loss against mpmath's sum of the exact per-element losses: mixed logits
    (shift 0), confident correct ones whose losses are all near 1e-13 (a sum of tiny terms keeps
    its relative precision), and logits whose e^-|x| is subnormal or 0 (shift 700)."""
    y, x = _reduced_case(n, shift, np.float64)
    exact = _exact_sum(n, shift, np.float64)
    total, _ = api.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="sum")
    assert abs(total - exact) <= 1e-14 * exact, (float(exact), total)
    mean = api.binary_cross_entropy(y, x, kind="logit")
    assert abs(mean - exact / n) <= 1e-14 * exact / n
    if shift != 700.0:
        # float32 data: each e^-|x| is a float (within an ulp), so float precision, and no
        # more than that lost in the sum (the oracle on the same float32 inputs)
        y32, x32 = _reduced_case(n, shift, np.float32)
        exact32 = _exact_sum(n, shift, np.float32)
        total32, _ = api.binary_cross_entropy_with_grad(y32, x32, kind="logit", reduction="sum")
        assert abs(total32 - exact32) <= 2**-23 * exact32, (float(exact32), total32)


def test_reduced_loss_is_accurate(api):
    """The mean is within 1e-12 of the exactly rounded sum of the per-element losses."""
    rng = np.random.default_rng(7)
    n = 200_000
    y = (rng.random(n) < 0.5).astype(np.float64)
    x = rng.standard_normal(n) * 30
    per_element = api.binary_cross_entropy(y, x, kind="logit", reduction="none")
    exact = math.fsum(per_element.tolist())
    total = api.binary_cross_entropy(y, x, kind="logit", reduction="sum")
    assert abs(total - exact) <= 1e-13 * exact
    # float32 input: within 1e-9 of the exact mean of the float32 inputs' losses, which the
    # float64 computation on the same (widened) values gives to ~1e-15
    x32 = x.astype(np.float32)
    mean32 = api.binary_cross_entropy(y.astype(np.float32), x32, kind="logit")
    exact64 = api.binary_cross_entropy(y, x32.astype(np.float64), kind="logit", reduction="none")
    assert abs(mean32 / (math.fsum(exact64.tolist()) / n) - 1) < 1e-9
