"""The unweighted logit pass (the plain loop: each element in its own precision, see
csrc/logit.h) against the weighted pass and the oracle, across its runs, shapes and options."""

import numpy as np
import pytest

import crossent
from crossent._accuracy import exact_binary, ulp_error

pytestmark = pytest.mark.skipif(not crossent.backend.startswith("c"),
                                reason="the plain loop is part of the C backend")


def _logits(n, dtype, seed):
    """Random logits with every regime: small, moderate, confident, subnormal e^-|x|, inf."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * rng.choice([0.01, 3.0, 30.0, 300.0], n)
    x[rng.random(n) < 0.01] = np.inf
    x[rng.random(n) < 0.01] = -np.inf
    return x.astype(dtype)


def _assert_within_ulps(got, want, ulps):
    fin = np.isfinite(want)
    np.testing.assert_array_equal(got[~fin], want[~fin])
    spacing = np.spacing(np.abs(want[fin])).astype(np.float64)
    diff = np.abs(got[fin].astype(np.float64) - want[fin]) / spacing
    assert diff.max() <= ulps


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_plain_and_weighted_passes_agree(dtype):
    """sample_weight=ones takes the weighted pass; both are within 2 ULP of exact, so within 4
    ULP of each other (float32 data: float arithmetic here, double there)."""
    x = _logits(5000, dtype, 1)
    y = (np.random.default_rng(2).random(5000) < 0.5).astype(dtype)
    plain = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    weighted = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="none",
                                                       sample_weight=np.ones(5000))
    for got, want in zip(plain, weighted, strict=True):
        _assert_within_ulps(got, want, 4.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_plain_pass_against_the_oracle_on_random_data(dtype):
    x = _logits(600, dtype, 3)
    y = (np.random.default_rng(4).random(600) < 0.5).astype(dtype)
    loss, grad = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    hess = crossent.binary_logistic_grad_hess(y, x)[1]
    for i in range(600):
        el, eg, eh = exact_binary("logit", float(x[i]), float(y[i]))
        assert ulp_error(loss[i], el, dtype) <= 2.0, x[i]
        assert ulp_error(grad[i], eg, dtype) <= 2.0, x[i]
        assert ulp_error(hess[i], eh, dtype) <= 4.0, x[i]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape", [(1,), (255,), (257,), (1000,), (300, 7), (3, 1000)])
def test_every_run_length_and_shape(dtype, shape):
    """Runs of 256 floats / 128 doubles, a last partial run, 2-D rows: the same as 1-D."""
    n = int(np.prod(shape))
    x = _logits(n, dtype, 5)
    y = np.random.default_rng(6).random(n).astype(dtype)  # soft labels too
    flat = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    shaped = crossent.binary_cross_entropy_with_grad(y.reshape(shape), x.reshape(shape),
                                                     kind="logit", reduction="none")
    np.testing.assert_array_equal(shaped[0].ravel(), flat[0])
    np.testing.assert_array_equal(shaped[1].ravel(), flat[1])
    total = crossent.binary_cross_entropy(y, x, kind="logit", reduction="sum")
    if dtype == np.float64:
        assert total == pytest.approx(np.sum(flat[0]), rel=1e-12)
    else:
        # the sum is not made of the per-element losses rounded to float32 (it takes their
        # logs as one product): the same to float precision, as is the float64 computation on
        # the same (widened) inputs
        wide = crossent.binary_cross_entropy(y.astype(np.float64), x.astype(np.float64),
                                             kind="logit", reduction="sum")
        assert total == pytest.approx(np.sum(flat[0].astype(np.float64)), rel=2**-22)
        assert total == pytest.approx(wide, rel=2**-22)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_mean_gradient_is_scaled_before_its_last_rounding(dtype):
    """The "mean" gradient is (sigma(x) - y) / n rounded once: within 2 ULP of exact, as the
    unscaled one, and within 1.5 ULP of the unscaled one divided by n."""
    n = 700
    x = _logits(n, dtype, 7)
    y = (np.random.default_rng(8).random(n) < 0.5).astype(dtype)
    _, g_none = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    _, g_mean = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="mean")
    for i in range(n):
        eg = exact_binary("logit", float(x[i]), float(y[i]))[1] / n
        assert ulp_error(g_mean[i], eg, dtype) <= 2.0, x[i]
    _assert_within_ulps(g_mean, (g_none.astype(np.float64) / n).astype(dtype), 1.5)


def test_in_place_output_gives_the_same_values():
    x = _logits(2000, np.float64, 9)
    y = (np.random.default_rng(10).random(2000) < 0.5).astype(np.float64)
    _, want = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    xx = x.copy()
    _, got = crossent.binary_cross_entropy_with_grad(y, xx, kind="logit", reduction="none",
                                                     out=xx)
    assert got is xx
    _assert_within_ulps(got, want, 4.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_first_bad_values_are_found_across_runs(dtype):
    x = np.zeros(5000, dtype)
    y = np.zeros(5000, dtype)
    y[3001], y[4000] = 2.0, -1.0
    x[1500], x[4500] = np.nan, np.nan
    with pytest.raises(ValueError, match=r"y_true\[3001\] = 2\.0"):
        crossent.binary_cross_entropy(y, x, kind="logit")
    y[3001] = y[4000] = 0.0
    with pytest.raises(ValueError, match=r"y_pred\[1500\] is NaN"):
        crossent.binary_cross_entropy(y, x, kind="logit", nan_policy="raise")
    loss = crossent.binary_cross_entropy(y, x, kind="logit", reduction="none")
    assert np.isnan(loss[[1500, 4500]]).all() and np.isfinite(np.delete(loss, [1500, 4500])).all()


def test_threads_give_the_same_bits_on_the_plain_pass():
    x = _logits(400_000, np.float32, 11)
    y = (np.random.default_rng(12).random(400_000) < 0.5).astype(np.float32)
    one = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", n_threads=1)
    two = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", n_threads=2)
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1], two[1])
