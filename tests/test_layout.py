"""Dtypes, layouts, outputs, weights, NaN policies and reductions: the semantics of DESIGN.md."""

import math

import numpy as np
import pytest
from conftest import random_binary

KINDS = ["logit", "probability", "log_probability"]


@pytest.mark.parametrize("kind", KINDS)
def test_layouts_give_the_same_answer(api, kind, dtype):
    rng = np.random.default_rng(1)
    y, x = random_binary(rng, (6, 5), dtype, kind)
    ref_loss, ref_grad = api.binary_cross_entropy_with_grad(y, x, kind=kind, reduction="sum")
    variants = {
        "fortran": (np.asfortranarray(y), np.asfortranarray(x)),
        "byteswapped": (y.astype(y.dtype.newbyteorder()), x.astype(x.dtype.newbyteorder())),
        "lists": (y.tolist(), x.tolist()),
        "strided": (np.repeat(y, 2, axis=1)[:, ::2], np.repeat(x, 2, axis=1)[:, ::2]),
        "bool labels": (y.astype(bool), x),
        "int8 labels": (y.astype(np.int8), x),
        "uint64 labels": (y.astype(np.uint64), x),
    }
    ro_y, ro_x = y.copy(), x.copy()
    ro_y.flags.writeable = ro_x.flags.writeable = False
    variants["read-only"] = (ro_y, ro_x)
    for name, (yv, xv) in variants.items():
        if name == "lists" and dtype == np.float32:
            xv = np.asarray(xv, dtype=np.float32)  # a list of Python floats is float64
        loss, grad = api.binary_cross_entropy_with_grad(yv, xv, kind=kind, reduction="sum")
        assert loss == ref_loss, name
        assert grad.dtype == dtype and grad.flags.c_contiguous, name
        np.testing.assert_array_equal(grad, ref_grad, err_msg=name)


def test_float16_computes_as_float32(api):
    x16 = np.array([-3.0, 0.5, 2.0], dtype=np.float16)
    y = [1, 0, 1]
    loss, grad = api.binary_cross_entropy_with_grad(y, x16, kind="logit", reduction="none")
    loss32, grad32 = api.binary_cross_entropy_with_grad(
        y, x16.astype(np.float32), kind="logit", reduction="none")
    assert loss.dtype == grad.dtype == np.float32
    np.testing.assert_array_equal(loss, loss32)
    np.testing.assert_array_equal(grad, grad32)


def test_integer_and_bool_predictions_compute_as_float64(api):
    loss, grad = api.binary_cross_entropy_with_grad([1, 0], np.array([1, 0]), reduction="none")
    assert grad.dtype == np.float64
    # p = 1 and p = 0 clip to 1 - eps and eps: loss -log(1 - eps) each
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(loss, [-math.log1p(-eps)] * 2, rtol=1e-15)
    loss_b = api.binary_cross_entropy([True, False], np.array([True, False]), reduction="none")
    np.testing.assert_array_equal(loss_b, loss)


def test_zero_d_and_empty(api):
    loss, grad = api.binary_cross_entropy_with_grad(1.0, np.float64(0.0), kind="logit")
    assert loss == pytest.approx(math.log(2), rel=1e-15)
    assert grad.shape == () and float(grad) == -0.5
    assert api.binary_cross_entropy([], [], reduction="sum") == 0.0
    loss, grad = api.binary_cross_entropy_with_grad(
        np.zeros((0, 3)), np.zeros((0, 3)), reduction="none")
    assert loss.shape == grad.shape == (0, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_inputs_never_modified(api, kind):
    rng = np.random.default_rng(2)
    y, x = random_binary(rng, (20,), np.float64, kind)
    w = rng.random(20)
    x[3] = np.nan
    copies = [a.copy() for a in (y, x, w)]
    api.binary_cross_entropy_with_grad(y, x, kind=kind, sample_weight=w, pos_weight=2.0,
                                       label_smoothing=0.1, nan_policy="omit")
    if kind == "logit":
        api.binary_logistic_grad_hess(y, x, sample_weight=w)
    for before, after in zip(copies, (y, x, w), strict=True):
        np.testing.assert_array_equal(before, after)


def test_out_is_returned_and_may_be_y_pred(api, dtype):
    rng = np.random.default_rng(3)
    y, x = random_binary(rng, (7, 3), dtype, "logit")
    loss, grad = api.binary_cross_entropy_with_grad(y, x, kind="logit")
    out = np.empty_like(x)
    loss_out, g = api.binary_cross_entropy_with_grad(y, x, kind="logit", out=out)
    assert g is out and loss_out == loss
    np.testing.assert_array_equal(out, grad)
    loss_in, g = api.binary_cross_entropy_with_grad(y, x, kind="logit", out=x)
    assert g is x and loss_in == loss
    np.testing.assert_array_equal(x, grad)


def test_grad_hess_outputs_and_in_place(api, dtype):
    rng = np.random.default_rng(4)
    y, x = random_binary(rng, (50,), dtype, "logit")
    g, h = api.binary_logistic_grad_hess(y, x)
    go, ho = np.empty_like(x), np.empty_like(x)
    g2, h2 = api.binary_logistic_grad_hess(y, x, grad_out=go, hess_out=ho)
    assert g2 is go and h2 is ho
    np.testing.assert_array_equal(go, g)
    np.testing.assert_array_equal(ho, h)
    g3, h3 = api.binary_logistic_grad_hess(y, x, grad_out=x)
    assert g3 is x
    np.testing.assert_array_equal(g3, g)
    np.testing.assert_array_equal(h3, h)


def test_grad_hess_weights_scale_per_sample(api):
    rng = np.random.default_rng(5)
    y, x = random_binary(rng, (30,), np.float64, "logit")
    w = rng.random(30) * 3
    g, h = api.binary_logistic_grad_hess(y, x)
    gw, hw = api.binary_logistic_grad_hess(y, x, sample_weight=w)
    np.testing.assert_allclose(gw, w * g, rtol=1e-15)
    np.testing.assert_allclose(hw, w * h, rtol=1e-15)
    # hand values at x = 0: sigma = 1/2
    g0, h0 = api.binary_logistic_grad_hess([1.0, 0.0], [0.0, 0.0], pos_weight=3.0)
    assert g0.tolist() == [-1.5, 0.5] and h0.tolist() == [0.75, 0.25]


def test_reductions_and_weights(api):
    rng = np.random.default_rng(6)
    y, x = random_binary(rng, (40, 3), np.float64, "probability")
    w = rng.random(40)
    none = api.binary_cross_entropy(y, x, sample_weight=w, reduction="none")
    unweighted = api.binary_cross_entropy(y, x, reduction="none")
    np.testing.assert_allclose(none, w[:, None] * unweighted, rtol=1e-15)
    total = api.binary_cross_entropy(y, x, sample_weight=w, reduction="sum")
    mean = api.binary_cross_entropy(y, x, sample_weight=w)
    assert total == pytest.approx(math.fsum(none.ravel()), rel=1e-14)
    assert mean == pytest.approx(total / (3 * w.sum()), rel=1e-14)
    # gradients of the returned value: mean = sum / sum(w)
    _, g_sum = api.binary_cross_entropy_with_grad(y, x, sample_weight=w, reduction="sum")
    _, g_mean = api.binary_cross_entropy_with_grad(y, x, sample_weight=w)
    _, g_none = api.binary_cross_entropy_with_grad(y, x, sample_weight=w, reduction="none")
    np.testing.assert_allclose(g_mean, g_sum / (3 * w.sum()), rtol=1e-14)
    np.testing.assert_array_equal(g_none, g_sum)


def test_zero_weight_removes_an_infinite_loss(api):
    y = [1.0, 1.0]
    x = np.array([-np.inf, 0.0])
    loss, grad = api.binary_cross_entropy_with_grad(y, x, kind="logit", sample_weight=[0, 2],
                                                    reduction="none")
    assert loss.tolist() == [0.0, 2 * math.log(2)] and grad.tolist() == [0.0, -1.0]
    assert api.binary_cross_entropy(y, x, kind="logit", sample_weight=[0, 2]) == pytest.approx(
        math.log(2), rel=1e-15)


def test_pos_weight_per_column(api):
    rng = np.random.default_rng(8)
    y, x = random_binary(rng, (10, 3), np.float64, "logit")
    pw = np.array([0.5, 1.0, 4.0])
    loss = api.binary_cross_entropy(y, x, kind="logit", pos_weight=pw, reduction="none")
    for j in range(3):
        col = api.binary_cross_entropy(y[:, j], x[:, j], kind="logit", pos_weight=pw[j],
                                       reduction="none")
        np.testing.assert_array_equal(loss[:, j], col)
    # by hand: loss = -(pw y log sigma(x) + (1 - y) log(1 - sigma(x)))
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(loss, -(pw * y * np.log(s) + (1 - y) * np.log1p(-s)), rtol=1e-12)


def test_label_smoothing_is_soft_labels(api):
    rng = np.random.default_rng(9)
    y, x = random_binary(rng, (25,), np.float64, "logit")
    a = api.binary_cross_entropy_with_grad(y, x, kind="logit", label_smoothing=0.2)
    b = api.binary_cross_entropy_with_grad(y * 0.8 + 0.1, x, kind="logit")
    assert a[0] == pytest.approx(b[0], rel=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14, atol=1e-17)


def test_clipping(api, dtype):
    eps = np.finfo(dtype).eps
    loss, grad = api.binary_cross_entropy_with_grad(
        [1, 0], np.array([0.0, 1.0], dtype=dtype), reduction="none")
    np.testing.assert_allclose(loss, [-math.log(eps)] * 2, rtol=1e-6)
    np.testing.assert_allclose(grad, [-1 / eps, 1 / eps], rtol=1e-6)
    loss = api.binary_cross_entropy([1, 0], np.array([0.0, 1.0]), eps=1e-3, reduction="none")
    np.testing.assert_allclose(loss, [-math.log(1e-3)] * 2, rtol=1e-12)
    # eps = 0: an exact 0 or 1 gives an infinite loss where the label disagrees, 0 where it agrees
    loss = api.binary_cross_entropy([1, 0, 1, 0], np.array([0.0, 1.0, 1.0, 0.0]), eps=0,
                                    reduction="none")
    assert loss.tolist() == [math.inf, math.inf, 0.0, 0.0]
    loss = api.binary_cross_entropy([1, 0, 0], np.array([-np.inf, 0.0, -np.inf]),
                                    kind="log_probability", eps=0, reduction="none")
    assert loss.tolist() == [math.inf, math.inf, 0.0]


def test_nan_policies(api, dtype):
    y = np.array([1, 0, 1, 0], dtype=dtype)
    x = np.array([0.5, np.nan, 2.0, -1.0], dtype=dtype)
    loss, grad = api.binary_cross_entropy_with_grad(y, x, kind="logit")
    assert math.isnan(loss) and np.isnan(grad[1]) and not np.isnan(grad[[0, 2, 3]]).any()
    keep = [0, 2, 3]
    expected, g_expected = api.binary_cross_entropy_with_grad(y[keep], x[keep], kind="logit")
    loss, grad = api.binary_cross_entropy_with_grad(y, x, kind="logit", nan_policy="omit")
    # float32: "omit" takes the weighted pass (double inside), the call without NaN the plain
    # one (float inside); both are within 2 ULP of exact per element
    assert loss == pytest.approx(expected, rel=1e-15 if dtype == np.float64 else 4e-7)
    assert grad[1] == 0
    np.testing.assert_allclose(grad[keep], g_expected, rtol=2e-7)
    none = api.binary_cross_entropy(y, x, kind="logit", nan_policy="omit", reduction="none")
    assert none[1] == 0
    total = api.binary_cross_entropy(y, x, kind="logit", nan_policy="omit", reduction="sum")
    assert total == pytest.approx(3 * expected, rel=1e-6)


@pytest.mark.parametrize("shape", [(300_000,), (70_000, 3)])
@pytest.mark.parametrize("kind", KINDS)
def test_threads_and_runs_are_bit_identical(api, kind, shape, dtype):
    # large enough that the kernel starts threads (and cuts several chunks)
    rng = np.random.default_rng(10)
    y, x = random_binary(rng, shape, dtype, kind)
    w = rng.random(shape[0])
    runs = [api.binary_cross_entropy_with_grad(y, x, kind=kind, sample_weight=w, n_threads=t)
            for t in (1, 2, 3, -1, 1)]
    for loss, grad in runs[1:]:
        assert loss == runs[0][0]
        np.testing.assert_array_equal(grad, runs[0][1])
    none = [api.binary_cross_entropy(y, x, kind=kind, reduction="none", n_threads=t)
            for t in (1, 2)]
    np.testing.assert_array_equal(none[0], none[1])
    if kind == "logit":
        gh = [api.binary_logistic_grad_hess(y, x, n_threads=t) for t in (1, 2)]
        np.testing.assert_array_equal(gh[0][0], gh[1][0])
        np.testing.assert_array_equal(gh[0][1], gh[1][1])


def test_lists_compute_as_float64(api):
    loss, grad = api.binary_cross_entropy_with_grad([1, 0], [0.25, 0.5], reduction="none")
    assert grad.dtype == np.float64
    np.testing.assert_allclose(loss, [math.log(4), math.log(2)], rtol=1e-15)


def test_empty_rows_and_columns(api):
    z = np.zeros((10**12, 0))
    assert api.binary_cross_entropy(z, z, reduction="sum") == 0.0
    loss, grad = api.binary_cross_entropy_with_grad(z, z, reduction="none")
    assert loss.shape == grad.shape == (10**12, 0)
    with pytest.raises(ValueError, match="positive total weight"):
        api.binary_cross_entropy(z, z)


def test_omit_with_mean_scales_the_gradient_once(api):
    y = np.zeros(2)
    x = np.array([np.nan, 0.0])
    loss, grad = api.binary_cross_entropy_with_grad(
        y, x, kind="logit", sample_weight=[1e300, 1e-300], nan_policy="omit")
    assert loss == pytest.approx(math.log(2), rel=1e-15)
    assert grad[0] == 0.0 and grad[1] == pytest.approx(0.5, rel=2**-52)
    # float32: the gradient of a kept element does not pass through a subnormal on the way
    n = 100_001
    x32 = np.full(n, np.nan, dtype=np.float32)
    x32[0] = -80.0
    _, g32 = api.binary_cross_entropy_with_grad(np.zeros(n, np.float32), x32, kind="logit",
                                                nan_policy="omit")
    assert g32[0] == np.float32(1 / (1 + math.exp(80.0)))


def test_in_place_out_through_a_subclass(api, tmp_path):
    x = np.memmap(tmp_path / "x.bin", dtype=np.float64, mode="w+", shape=(4,))
    x[:] = [-1.0, 0.0, 1.0, 2.0]
    expected = api.binary_cross_entropy_with_grad([0, 1, 0, 1], np.array(x), kind="logit")
    loss, grad = api.binary_cross_entropy_with_grad([0, 1, 0, 1], x, kind="logit", out=x)
    assert grad is x and loss == expected[0]
    np.testing.assert_array_equal(np.asarray(x), expected[1])


def test_tiny_eps_still_clips_inward(api):
    # float32: 1 - 1e-10 rounds to 1.0; the bound is taken inward, so the loss stays finite
    loss = api.binary_cross_entropy([0, 1], np.array([1.0, 0.0], np.float32), eps=1e-10,
                                    reduction="none")
    assert np.isfinite(loss).all()
    assert loss[0] == pytest.approx(-math.log1p(-float(np.nextafter(np.float32(1), 0))), 1e-6)
    loss = api.binary_cross_entropy([0, 1], np.array([1.0, 0.0], np.float32), eps=1e-50,
                                    reduction="none")
    assert np.isfinite(loss).all()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fast_and_general_paths_agree(api, kind, dtype, reduction):
    """Plain calls take the C fast path; an explicit default eps forces the general one."""
    rng = np.random.default_rng(40)
    for shape in [(1,), (7,), (5, 3), (5000,)]:
        y, x = random_binary(rng, shape, dtype, kind)
        eps = float(np.finfo(dtype).eps)
        fast = api.binary_cross_entropy_with_grad(y, x, kind=kind, reduction=reduction)
        general = api.binary_cross_entropy_with_grad(y, x, kind=kind, reduction=reduction,
                                                     eps=eps)
        assert fast[0] == general[0]
        assert fast[1].dtype == dtype and fast[1].shape == shape
        np.testing.assert_array_equal(fast[1], general[1])
        assert api.binary_cross_entropy(y, x, kind=kind, reduction=reduction) == general[0]
        out = np.empty_like(x)
        loss, g = api.binary_cross_entropy_with_grad(y, x, kind=kind, reduction=reduction,
                                                     out=out)
        assert g is out and loss == general[0]
        np.testing.assert_array_equal(out, general[1])


def test_fast_path_errors_match(api):
    x = np.array([0.5, 1.5, 0.2])
    y = np.array([0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"y_pred\[1\] = 1\.5"):
        api.binary_cross_entropy_with_grad(y, x, out=x)
    with pytest.raises(ValueError, match=r"y_true\[2\] = 3\.0"):
        api.binary_cross_entropy(np.array([0.0, 1.0, 3.0]), np.zeros(3), kind="logit")
    with pytest.raises(ValueError, match="out overlaps y_true"):
        api.binary_cross_entropy_with_grad(y, np.zeros(3), kind="logit", out=y)
    with pytest.raises(ValueError, match="positive total weight"):
        api.binary_cross_entropy(np.zeros(0), np.zeros(0))


def test_concurrent_calls_from_python_threads(api, dtype):
    """Calls from several Python threads (the kernel releases the GIL) give the serial answers."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(50)
    cases = [random_binary(rng, (60_000,), dtype, kind) + (kind,)
             for kind in KINDS for _ in range(2)]
    serial = [api.binary_cross_entropy_with_grad(y, x, kind=kind) for y, x, kind in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(api.binary_cross_entropy_with_grad, y, x, kind=kind,
                               n_threads=(i % 2) + 1)
                   for i, (y, x, kind) in enumerate(cases * 3)]
        results = [f.result() for f in futures]
    for i, (loss, grad) in enumerate(results):
        want = serial[i % len(cases)]
        assert loss == want[0]
        np.testing.assert_array_equal(grad, want[1])
