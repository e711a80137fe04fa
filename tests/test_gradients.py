"""The gradient is the derivative of the returned value: checked by central finite differences."""

import numpy as np
import pytest
from conftest import random_binary

KINDS = ["logit", "probability", "log_probability"]


def _numeric_grad(f, x, h=1e-6):
    g = np.empty_like(x)
    for i in np.ndindex(x.shape):
        step = h * max(1.0, abs(x[i]))
        xp, xm = x.copy(), x.copy()
        xp[i] += step
        xm[i] -= step
        g[i] = (f(xp) - f(xm)) / (2 * step)
    return g


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "options",
    [{}, {"sample_weight": True}, {"pos_weight": True}, {"label_smoothing": 0.1},
     {"sample_weight": True, "pos_weight": True, "label_smoothing": 0.05}],
    ids=["plain", "sample_weight", "pos_weight", "smoothing", "all"],
)
def test_finite_differences(api, kind, reduction, options):
    rng = np.random.default_rng(20)
    y, x = random_binary(rng, (6, 3), np.float64, kind)
    y[0, 0] = 0.3  # one soft label
    if kind == "probability":
        x = np.clip(x, 0.05, 0.95)
    elif kind == "log_probability":
        x = np.clip(x, np.log(0.05), np.log(0.95))
    kwargs = {"kind": kind, "reduction": reduction}
    if options.get("sample_weight"):
        kwargs["sample_weight"] = rng.random(6) + 0.1
    if options.get("pos_weight"):
        kwargs["pos_weight"] = np.array([0.5, 2.0, 3.0])
    if "label_smoothing" in options:
        kwargs["label_smoothing"] = options["label_smoothing"]

    def value(xv):
        out = api.binary_cross_entropy(y, xv, **kwargs)
        return float(np.sum(out))  # for "none", each element depends only on its own x

    _, grad = api.binary_cross_entropy_with_grad(y, x, **kwargs)
    # atol: the rounding noise of f / h
    np.testing.assert_allclose(grad, _numeric_grad(value, x), rtol=2e-6, atol=1e-7)


def test_hessian_is_derivative_of_gradient(api):
    rng = np.random.default_rng(21)
    y, x = random_binary(rng, (40,), np.float64, "logit")
    w = rng.random(40)
    pw = 2.5
    g, h = api.binary_logistic_grad_hess(y, x, sample_weight=w, pos_weight=pw)
    step = 1e-6
    gp, _ = api.binary_logistic_grad_hess(y, x + step, sample_weight=w, pos_weight=pw)
    gm, _ = api.binary_logistic_grad_hess(y, x - step, sample_weight=w, pos_weight=pw)
    np.testing.assert_allclose(h, (gp - gm) / (2 * step), rtol=1e-6, atol=1e-10)
    # and the gradient is the per-sample (unreduced) loss gradient
    _, g_none = api.binary_cross_entropy_with_grad(y, x, kind="logit", sample_weight=w,
                                                   pos_weight=pw, reduction="none")
    np.testing.assert_array_equal(g, g_none)
