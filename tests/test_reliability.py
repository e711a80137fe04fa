"""Regressions from the reliability work: in-place gradients read nothing they have already
overwritten, options are validated on every path, NaN and infinite logits follow one rule on
both backends, and overflowing weights are errors rather than NaN."""

import math
import warnings

import numpy as np
import pytest

import crossent


@pytest.mark.parametrize("c", [2, 5, 32, 33, 100, 2048, 2049, 3000])
@pytest.mark.parametrize("rows", ["plain", "tied", "special"])
def test_in_place_gradient_equals_a_separate_one(api, dtype, c, rows):
    """out=y_pred gives the bit-identical loss and gradient of a separate out, for every row
    length (each of the categorical passes), rows whose maximum is tied (found after the
    gradient has overwritten the row, formerly) and special rows (inf, all -inf, NaN, ignored)
    that a batched pass leaves to the general one."""
    rng = np.random.default_rng(c)
    n = 70
    x = rng.standard_normal((n, c)).astype(dtype)
    y = rng.integers(0, c, n)
    if rows != "plain":
        x[:, 1] = x.max(axis=1)
        x[:, 0] = x[:, 1]
        y[::5] = 0
        y[1::5] = 1
    kwargs = {}
    if rows == "special":
        x[3, c - 1] = np.inf
        x[4, :] = -np.inf
        x[5, 1] = np.nan
        y[6] = -100
        kwargs["ignore_index"] = -100
    for reduction in ("mean", "none"):
        want_loss, want_grad = api.categorical_cross_entropy_with_grad(
            y, x.copy(), kind="logit", reduction=reduction, **kwargs)
        xx = x.copy()
        loss, grad = api.categorical_cross_entropy_with_grad(
            y, xx, kind="logit", reduction=reduction, out=xx, **kwargs)
        assert grad is xx
        np.testing.assert_array_equal(np.asarray(loss), np.asarray(want_loss))
        np.testing.assert_array_equal(grad, want_grad)
        assert not np.isnan(want_grad[:5]).any()  # only the NaN row is NaN
        assert np.isnan(want_grad[5]).all() if rows == "special" else True


@pytest.mark.parametrize("value", [True, False, 1.0, 2.5, "1", None, 0, -2])
def test_n_threads_is_a_positive_int_on_every_path(api, value):
    """bool and float n_threads are rejected, including by the fast path of plain calls."""
    calls = [
        lambda: api.binary_cross_entropy([1, 0], [0.9, 0.2], n_threads=value),
        lambda: api.binary_cross_entropy_with_grad([1, 0], np.array([0.9, 0.2]), n_threads=value),
        lambda: api.binary_logistic_grad_hess([1, 0], np.array([0.5, -1.0]), n_threads=value),
        lambda: api.categorical_cross_entropy([1], [[0.3, 0.7]], n_threads=value),
        lambda: api.categorical_cross_entropy_with_grad([1], np.array([[0.3, 0.7]]),
                                                        n_threads=value),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="n_threads must be a positive integer"):
            call()


@pytest.mark.parametrize("kind", ["probability", "log_probability", "logit"])
def test_a_nan_anywhere_in_a_row_makes_the_row_nan(api, kind):
    """The NaN in a class the label does not weight still marks the row: NaN under
    "propagate" (loss and the row's gradient), the row dropped under "omit", an error under
    "raise"; a zero sample weight removes the row first."""
    p = np.array([[0.5, np.nan, 0.5], [0.2, 0.3, 0.5]])
    x = np.log(p) if kind == "log_probability" else p
    y = [0, 2]
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind=kind, reduction="none")
    assert np.isnan(loss[0]) and np.isnan(grad[0]).all()
    assert np.isfinite(loss[1]) and np.isfinite(grad[1]).all()
    for cw in ([1.0, 0.0, 1.0], [0.0, 0.0, 1.0]):
        assert math.isnan(api.categorical_cross_entropy(y, x, kind=kind, class_weight=cw,
                                                        reduction="sum"))
    omitted = api.categorical_cross_entropy(y, x, kind=kind, nan_policy="omit", reduction="sum")
    assert omitted == api.categorical_cross_entropy([2], x[1:], kind=kind, reduction="sum")
    with pytest.raises(ValueError, match=r"y_pred\[0, 1\] is NaN"):
        api.categorical_cross_entropy(y, x, kind=kind, nan_policy="raise")
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind=kind, reduction="none",
                                                         sample_weight=[0.0, 1.0])
    assert loss[0] == 0 and not grad[0].any()
    soft = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert math.isnan(api.categorical_cross_entropy(soft, x, kind=kind, reduction="sum"))


@pytest.mark.parametrize("c", [3, 40, 3000])
def test_infinite_logits_take_the_limit(api, dtype, c):
    """Classes at +inf (or a row all -inf) share the row equally, the limit of logits that grow
    alike: one +inf class is certain (loss 0 at its label, +inf elsewhere, gradient 0 or
    finite), two share it (log 2), and no combination gives NaN. Hand-computed values."""
    inf = np.inf
    x = np.zeros((4, c), dtype)
    x[0, 0] = inf                 # one class at +inf
    x[1, 0] = x[1, 1] = inf       # two
    x[2, :] = -inf                # nothing but -inf: uniform
    x[3, 0], x[3, 2] = inf, -inf  # +inf and a masked class
    for y, want in (([0, 0, 0, 0], [0.0, math.log(2), math.log(c), 0.0]),
                    ([1, 2, 1, 1], [inf, inf, math.log(c), inf])):
        loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit",
                                                             reduction="none")
        np.testing.assert_allclose(loss, want, rtol=4 * np.finfo(dtype).eps)
        assert not np.isnan(grad).any()
        p = np.zeros((4, c))
        p[0, 0] = p[3, 0] = 1.0
        p[1, :2] = 0.5
        p[2, :] = 1.0 / c
        np.testing.assert_allclose(grad, p - np.eye(c)[y], rtol=4 * np.finfo(dtype).eps,
                                   atol=1e-300)
    # smoothing weights every class: a class at -inf or below +inf costs +inf
    assert api.categorical_cross_entropy([0], x[:1], kind="logit", label_smoothing=0.1) == inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert api.categorical_cross_entropy([1], x[1:2], kind="logit") == pytest.approx(
            math.log(2))


def test_backends_agree_on_random_infinite_rows(dtype):
    """Random rows of finite, +inf and -inf logits, hard and soft targets, with smoothing and
    class weights: the C kernel and the reference give the same losses and gradients."""
    if crossent.backend == "numpy":
        pytest.skip("compares C with numpy")
    from crossent import reference

    rng = np.random.default_rng(7)
    tol = 64 * np.finfo(dtype).eps
    for _ in range(300):
        c, n = int(rng.integers(2, 40)), int(rng.integers(1, 6))
        x = rng.standard_normal((n, c))
        for v in (np.inf, -np.inf):
            x[rng.random((n, c)) < 0.3] = v
        x[0, :] = rng.choice([np.inf, -np.inf, 0.0])
        x = x.astype(dtype)
        kwargs = {"kind": "logit", "reduction": "none"}
        if rng.random() < 0.5:
            kwargs["label_smoothing"] = 0.1
        if rng.random() < 0.5:
            kwargs["class_weight"] = rng.random(c)
        y = rng.dirichlet(np.ones(c), n) if rng.random() < 0.3 else rng.integers(0, c, n)
        got = crossent.categorical_cross_entropy_with_grad(y, x, **kwargs)
        want = reference.categorical_cross_entropy_with_grad(y, x, **kwargs)
        for g, w in zip(got, want, strict=True):
            assert not np.isnan(g).any()
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", ["probability", "logit"])
def test_weights_whose_total_overflows_are_errors(api, kind):
    """Each weight finite, but their total (or a row's product) beyond float64: a ValueError
    that says so, for every reduction, instead of inf - inf in the loss or the gradient."""
    x = np.array([[0.3, 0.7], [0.5, 0.5]])
    cases = [
        ({"class_weight": [9e307, 9e307]}, "class_weight: the total weight overflows"),
        ({"class_weight": [9e307, 9e307], "label_smoothing": 0.1},
         "class_weight: the total weight overflows"),
        ({"class_weight": [1e300, 1.0], "sample_weight": [1e10, 1.0]},
         "the total weight of the targets overflows"),
        ({"class_weight": [1e308, 1.0]}, "the total weight of the targets overflows"),
    ]
    for kwargs, message in cases:
        labels = [0, 0] if "sample_weight" not in kwargs else [0, 1]
        for reduction in ("mean", "sum", "none"):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with pytest.raises(ValueError, match=message):
                    api.categorical_cross_entropy_with_grad(labels, x, kind=kind,
                                                            reduction=reduction, **kwargs)
    soft = np.array([[1e308, 1e308], [0.0, 1.0]])
    with pytest.raises(ValueError, match="the total weight of the targets overflows"):
        api.categorical_cross_entropy(soft, x, kind=kind)
    soft = np.array([[1e300, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="the total weight of the targets overflows"):
        api.categorical_cross_entropy(soft, x, kind=kind, sample_weight=[1e10, 1.0])
    # large but representable totals are fine
    loss = api.categorical_cross_entropy([0, 1], x, kind="probability", class_weight=[1e300, 1.0],
                                         sample_weight=[1e5, 1.0], reduction="sum")
    assert loss == pytest.approx(1e305 * -math.log(0.3) + -math.log(0.5), rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_zero_dimensional_input_with_weight_and_omit(api, reduction):
    """A scalar prediction with a scalar weight and nan_policy="omit" (it once reached a matrix
    product that needs a dimension)."""
    loss, grad = api.binary_cross_entropy_with_grad(1.0, np.array(0.25), sample_weight=2.0,
                                                    nan_policy="omit", reduction=reduction)
    assert float(loss) == pytest.approx(-math.log(0.25) * (1 if reduction == "mean" else 2))
    assert float(grad) == pytest.approx(-4.0 * (1 if reduction == "mean" else 2))
    if reduction == "mean":
        with pytest.raises(ValueError, match="every element with weight is NaN"):
            api.binary_cross_entropy(1.0, np.array(np.nan), sample_weight=2.0,
                                     nan_policy="omit")
    else:
        assert float(api.binary_cross_entropy(1.0, np.array(np.nan), sample_weight=2.0,
                                              nan_policy="omit", reduction=reduction)) == 0.0


@pytest.mark.parametrize("label", [np.inf, -np.inf, np.nan, 2.0])
@pytest.mark.parametrize("smoothing", [0.0, 0.5, 1.0])
def test_a_bad_label_is_an_error_not_a_warning(api, label, smoothing):
    """Smoothing is applied after the labels are checked: an infinite label with
    label_smoothing=1 (inf * 0) is reported by value, with no RuntimeWarning first."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"y_true must hold labels in \[0, 1\]; y_true\[0\]"):
            api.binary_cross_entropy_with_grad([label, 0.0], np.array([0.3, 0.4]), kind="logit",
                                               label_smoothing=smoothing)


def test_merging_an_infinite_loss_keeps_it_infinite():
    """An accumulator that has seen an infinite loss (eps=0 and p=0 at a positive label) merges
    as +inf, whichever side it is on, not as NaN."""
    def acc(y, p):
        a = crossent.LossAccumulator("binary", reduction="sum", eps=0)
        a.update(y, p)
        return a

    assert acc([1.0], [0.0]).result() == math.inf
    assert acc([1.0], [0.5]).merge(acc([1.0], [0.0])).result() == math.inf
    assert acc([1.0], [0.0]).merge(acc([1.0], [0.5])).result() == math.inf
    merged = acc([1.0], [0.0]).merge(acc([1.0], [0.0]))
    merged.update([0.0], [0.5])
    assert merged.result() == math.inf
    finite = acc([1.0], [0.5]).merge(acc([0.0], [0.25]))
    assert finite.result() == pytest.approx(math.log(2) - math.log(0.75), rel=1e-15)


def test_huge_n_threads_is_capped_not_an_overflow(api):
    """n_threads beyond a C int, or far beyond the work, gives the n_threads=1 result: no
    OverflowError, and no more threads are started than there are chunks of work."""
    rng = np.random.default_rng(5)
    y, x = rng.integers(0, 2, 300_000).astype(np.float64), rng.standard_normal(300_000)
    yc, xc = rng.integers(0, 7, 40_000), rng.standard_normal((40_000, 7))
    for n_threads in (2**31, 10**12, 5000):
        assert api.binary_cross_entropy(y, x, kind="logit", n_threads=n_threads) == \
            api.binary_cross_entropy(y, x, kind="logit")
        assert api.categorical_cross_entropy(yc, xc, kind="logit", n_threads=n_threads) == \
            api.categorical_cross_entropy(yc, xc, kind="logit")


@pytest.mark.parametrize("tiny", [5e-324, 1e-310, 2.0**-950])
def test_a_tiny_total_weight_still_gives_the_mean_and_its_gradient(api, tiny):
    """A positive total weight below 2^-900, where 1 / total would overflow: the weights are
    scaled by a power of 2 first, so the mean and the gradient w_i / sum(w) come out right."""
    loss, grad = api.binary_cross_entropy_with_grad([0.0, 0.0], np.array([0.0, 0.0]),
                                                    kind="logit", sample_weight=[0.0, tiny])
    assert loss == pytest.approx(math.log(2), rel=1e-15)
    np.testing.assert_array_equal(grad, [0.0, 0.5])
    loss, grad = api.binary_cross_entropy_with_grad(
        [0.0, 0.0], np.array([0.0, np.nan]), kind="logit", sample_weight=[tiny, tiny],
        nan_policy="omit")
    assert loss == pytest.approx(math.log(2), rel=1e-15)
    np.testing.assert_array_equal(grad, [0.5, 0.0])
    p = np.array([[0.5, 0.5], [0.5, 0.5]])
    for kwargs in ({"sample_weight": [0.0, tiny]}, {"class_weight": [0.0, tiny]}):
        loss, grad = api.categorical_cross_entropy_with_grad([0, 1], p, **kwargs)
        assert loss == pytest.approx(math.log(2), rel=1e-15)
        np.testing.assert_array_equal(grad, [[0.0, 0.0], [0.0, -2.0]])
    # a weight that does not count in the total but cannot be scaled with it: an error
    with pytest.raises(ValueError, match="the weights span too wide a range"):
        api.categorical_cross_entropy_with_grad([0, 1], p, sample_weight=[1e300, tiny],
                                                class_weight=[0.0, 1.0])


@pytest.mark.parametrize("pw", [1e-300, 1e-17, 0.1])
def test_a_small_pos_weight_is_kept(api, pw):
    """lw = pw y + (1 - y): a positive label's weight is pw itself, however small (as
    1 + (pw - 1) y it rounded to 0 below 2^-53). Hand-computed at x = 0 and x = -3."""
    for x in (0.0, -3.0):
        loss, grad = api.binary_cross_entropy_with_grad([1.0], np.array([x]), kind="logit",
                                                        pos_weight=pw, reduction="none")
        sp = math.log1p(math.exp(x))
        sig = 1 / (1 + math.exp(-x))
        assert loss[0] == pytest.approx(pw * (sp - x), rel=4e-16)
        assert grad[0] == pytest.approx(pw * (sig - 1), rel=4e-16)
        grad, hess = api.binary_logistic_grad_hess([1.0], np.array([x]), pos_weight=pw)
        assert grad[0] == pytest.approx(pw * (sig - 1), rel=4e-16)
        assert hess[0] == pytest.approx(pw * sig * (1 - sig), rel=4e-16)


def _unaligned(a):
    """A C-contiguous copy of a at an address that is not a multiple of its item size."""
    buf = np.zeros(a.nbytes + 2 * a.itemsize, np.uint8)
    off = (-buf.ctypes.data) % a.itemsize + 1
    u = buf[off:off + a.nbytes].view(a.dtype).reshape(a.shape)
    u[...] = a
    assert not u.flags.aligned and u.flags.c_contiguous
    return u


def test_unaligned_inputs_give_the_aligned_results(api, dtype):
    """Contiguous but unaligned arrays (as buffers deserialised at odd offsets are) are read
    through aligned copies, never by typed pointers at odd addresses; an unaligned out is
    refused by name."""
    rng = np.random.default_rng(11)
    y = (rng.random(50) < 0.5).astype(dtype)
    x = rng.standard_normal(50).astype(dtype)
    w = rng.random(50)
    want = api.binary_cross_entropy_with_grad(y, x, kind="logit", sample_weight=w)
    got = api.binary_cross_entropy_with_grad(_unaligned(y), _unaligned(x), kind="logit",
                                             sample_weight=_unaligned(w))
    np.testing.assert_array_equal(got[1], want[1])
    assert got[0] == want[0]
    labels = rng.integers(0, 6, 40)
    z = rng.standard_normal((40, 6)).astype(dtype)
    cw = rng.random(6) + 0.5
    want = api.categorical_cross_entropy_with_grad(labels, z, kind="logit", class_weight=cw,
                                                   sample_weight=w[:40])
    got = api.categorical_cross_entropy_with_grad(_unaligned(labels), _unaligned(z),
                                                  kind="logit", class_weight=_unaligned(cw),
                                                  sample_weight=_unaligned(w[:40]))
    np.testing.assert_array_equal(got[1], want[1])
    assert got[0] == want[0]
    p = rng.dirichlet(np.ones(6), 40)
    assert api.log_loss(_unaligned(labels), _unaligned(p)) == api.log_loss(labels, p)
    with pytest.raises(ValueError, match="out must be aligned"):
        api.binary_cross_entropy_with_grad(y, x, kind="logit", out=_unaligned(x))


@pytest.mark.parametrize("c", [3, 40, 3000])
def test_underflowing_row_weight_in_place(api, c):
    """A row whose weight times the mean's scale underflows to 0 gets a zero gradient, after
    its NaN and its loss are read: in place (out=y_pred) as with a separate out."""
    x = np.linspace(-1.0, 1.0, 2 * c).reshape(2, c)
    x[0, 0] = np.nan
    kwargs = {"kind": "logit", "sample_weight": [5e-324, 4.0]}
    want_loss, want_grad = api.categorical_cross_entropy_with_grad([1, 2], x, **kwargs)
    xx = x.copy()
    loss, grad = api.categorical_cross_entropy_with_grad([1, 2], xx, out=xx, **kwargs)
    assert math.isnan(loss) and math.isnan(want_loss)  # the NaN row still counts
    np.testing.assert_array_equal(grad, want_grad)
    assert not grad[0].any() and np.isfinite(grad[1]).all()
