"""The public categorical functions on both backends: PyTorch's cross_entropy and nll_loss with
autograd for every option combination, dtypes and outputs, and the errors of DESIGN.md."""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


def torch_ce(x, target, *, weight=None, ignore_index=None, smoothing=0.0, reduction="mean"):
    t = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    kw = {"weight": None if weight is None else torch.tensor(weight),
          "label_smoothing": smoothing, "reduction": reduction}
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index
    out = F.cross_entropy(t, torch.tensor(target), **kw)
    (out.sum() if reduction == "none" else out).backward()
    return out.detach().numpy(), t.grad.numpy()


CASES = [c for c in itertools.product(["labels", "soft"], [False, True], [False, True],
                                      [0.0, 0.1], ["mean", "sum", "none"])
         if not (c[0] == "soft" and c[2])]


@pytest.mark.parametrize("target_kind, weighted, ignore, smoothing, reduction", CASES)
def test_logit_matches_torch(api, target_kind, weighted, ignore, smoothing, reduction):
    rng = np.random.default_rng(abs(hash(CASES.index(
        (target_kind, weighted, ignore, smoothing, reduction)))))
    n, c = 20, 5
    x = rng.standard_normal((n, c)) * 4
    cw = rng.uniform(0.3, 2.0, c) if weighted else None
    if target_kind == "soft":
        y = rng.dirichlet(np.ones(c), n)
    else:
        y = rng.integers(0, c, n).astype(np.int32)
        if ignore:
            y[1::4] = -1
    ii = -1 if ignore else None
    loss, grad = api.categorical_cross_entropy_with_grad(
        y, x, kind="logit", class_weight=cw, ignore_index=ii, label_smoothing=smoothing,
        reduction=reduction)
    want, want_grad = torch_ce(x, y.astype(np.int64) if target_kind == "labels" else y,
                               weight=cw, ignore_index=ii, smoothing=smoothing,
                               reduction=reduction)
    # absolute slack for torch's own rounding: it forms lse - z with cancellation, so a small
    # row loss is off there by about eps * |lse| (the precise values are checked by mpmath)
    np.testing.assert_allclose(loss, want, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15)
    only = api.categorical_cross_entropy(
        y, x, kind="logit", class_weight=cw, ignore_index=ii, label_smoothing=smoothing,
        reduction=reduction)
    np.testing.assert_array_equal(only, loss)


@pytest.mark.parametrize("kind", ["probability", "log_probability"])
def test_nll_kinds_match_torch(api, kind):
    rng = np.random.default_rng(5)
    n, c = 15, 4
    logp = np.log(rng.dirichlet(np.ones(c), n))
    y = rng.integers(0, c, n)
    x = np.exp(logp) if kind == "probability" else logp
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind=kind, eps=0)
    t = torch.tensor(x, requires_grad=True)
    out = F.nll_loss(torch.log(t) if kind == "probability" else t, torch.tensor(y))
    out.backward()
    np.testing.assert_allclose(loss, out.item(), rtol=1e-13)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12)


def test_probability_clipping(api):
    """A zero probability for the label is clipped to eps: a finite loss of -log(eps)."""
    loss = api.categorical_cross_entropy([1], [[1.0, 0.0]], reduction="sum")
    assert loss == pytest.approx(-np.log(np.finfo(np.float64).eps), rel=1e-15)
    assert api.categorical_cross_entropy([1], [[1.0, 0.0]], eps=0) == np.inf


def test_sample_weight(api):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((12, 3))
    y = rng.integers(0, 3, 12)
    sw = rng.uniform(0, 2, 12)
    cw = np.array([0.5, 1.0, 2.0])
    per_row, _ = torch_ce(x, y, weight=cw, reduction="none")
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", sample_weight=sw,
                                                         class_weight=cw)
    assert loss == pytest.approx(np.sum(sw * per_row) / np.sum(sw * cw[y]), rel=1e-13)
    _, row_grads = torch_ce(x, y, weight=cw, reduction="none")
    np.testing.assert_allclose(grad, sw[:, None] * row_grads / np.sum(sw * cw[y]), rtol=1e-12)


@pytest.mark.parametrize("label_dtype", [np.int8, np.uint8, np.int16, np.int64, np.uint64,
                                         np.float32, bool])
def test_label_dtypes(api, label_dtype):
    x = np.array([[1.0, 2.0], [0.5, -0.5], [3.0, 0.0]])
    y = np.array([1, 0, 1]).astype(label_dtype)
    want, _ = torch_ce(x, np.array([1, 0, 1]))
    assert api.categorical_cross_entropy(y, x, kind="logit") == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtypes_and_out(api, dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((9, 4)) * 2).astype(dtype)
    y = rng.integers(0, 4, 9)
    want, want_grad = torch_ce(x.astype(np.float64), y)
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit")
    expect = np.float32 if dtype != np.float64 else np.float64
    assert grad.dtype == expect
    tol = 1e-13 if dtype == np.float64 else 1e-6
    assert loss == pytest.approx(want, rel=tol)
    np.testing.assert_allclose(grad, want_grad, rtol=tol * 10, atol=tol)
    if dtype != np.float16:
        buf = x.copy()
        loss2, g2 = api.categorical_cross_entropy_with_grad(y, buf, kind="logit", out=buf)
        assert g2 is buf and loss2 == loss
        np.testing.assert_array_equal(buf, grad)


def test_masked_logits_and_confident_rows(api):
    x = np.array([[5.0, -np.inf, 1.0], [800.0, 0.0, -np.inf]])
    loss, grad = api.categorical_cross_entropy_with_grad([0, 0], x, kind="logit",
                                                         reduction="none")
    np.testing.assert_allclose(loss, [np.log1p(np.exp(-4.0)), 0.0], rtol=1e-15)
    assert np.all(np.isfinite(grad)) and grad[0, 1] == 0.0
    tiny = api.categorical_cross_entropy([0], [[40.0, 0.0]], kind="logit")
    assert tiny == pytest.approx(np.exp(-40.0), rel=1e-15)  # log1p(e^-40) = e^-40 (1 - ...)


def test_nan_policy(api):
    x = np.array([[0.0, 1.0], [np.nan, 0.0], [1.0, 2.0]])
    y = [0, 1, 1]
    assert np.isnan(api.categorical_cross_entropy(y, x, kind="logit"))
    with pytest.raises(ValueError, match=r"y_pred\[1, 0\] is NaN"):
        api.categorical_cross_entropy(y, x, kind="logit", nan_policy="raise")
    kept = api.categorical_cross_entropy(y, x, kind="logit", nan_policy="omit")
    want = api.categorical_cross_entropy([0, 1], x[[0, 2]], kind="logit")
    assert kept == pytest.approx(want, rel=1e-15)


def test_empty_and_all_ignored(api):
    x = np.zeros((0, 3))
    assert api.categorical_cross_entropy(np.zeros(0, int), x, reduction="sum") == 0.0
    with pytest.raises(ValueError, match="positive total weight"):
        api.categorical_cross_entropy(np.zeros(0, int), x)
    with pytest.raises(ValueError, match="positive total weight"):
        api.categorical_cross_entropy([-100, -100], np.zeros((2, 3)), kind="logit",
                                      ignore_index=-100)


@pytest.mark.parametrize("call, match", [
    (lambda api: api.categorical_cross_entropy([0, 3], np.zeros((2, 3)), kind="logit"),
     r"labels in \[0, 3\); y_true\[1\] = 3"),
    (lambda api: api.categorical_cross_entropy([0, -1], np.zeros((2, 3)), kind="logit"),
     r"y_true\[1\] = -1"),
    (lambda api: api.categorical_cross_entropy([0, 1.5], np.zeros((2, 3)), kind="logit"),
     r"integer labels; y_true\[1\] = 1.5"),
    (lambda api: api.categorical_cross_entropy([0, np.nan], np.zeros((2, 3)), kind="logit"),
     r"integer labels; y_true\[1\] = nan"),
    (lambda api: api.categorical_cross_entropy([[0.5, -0.1, 0.6]], np.zeros((1, 3)),
                                               kind="logit"),
     r"soft targets\) must be finite and >= 0; y_true\[0, 1\] = -0.1"),
    (lambda api: api.categorical_cross_entropy([[0.5, -1e-50, 0.6]],
                                               np.zeros((1, 3), np.float32), kind="logit"),
     r"soft targets\) must be finite and >= 0; y_true\[0, 1\] = -1e-50"),
    (lambda api: api.categorical_cross_entropy([[0.5, 1e39, 0.6]],
                                               np.zeros((1, 3), np.float32), kind="logit"),
     r"must fit in float32, the dtype of y_pred; y_true\[0, 1\] = 1e\+39"),
    (lambda api: api.categorical_cross_entropy([0], np.zeros((1, 3)), kind="logit",
                                               class_weight=[1, 2]),
     r"class_weight has shape \(2,\); expected \(3,\)"),
    (lambda api: api.categorical_cross_entropy([0], np.zeros((1, 3)), kind="logit",
                                               class_weight=[1, -2, 1]),
     r"class_weight\[1\] = -2"),
    (lambda api: api.categorical_cross_entropy([0, 1, 2], np.zeros((2, 3)), kind="logit"),
     r"shape \(3,\), but y_pred has 2 rows"),
    (lambda api: api.categorical_cross_entropy([0, 1], np.zeros(2), kind="logit"),
     r"shape \(n, C\).*1 dimensions"),
    (lambda api: api.categorical_cross_entropy([0], [[0.5, 1.5]]),
     r"in \[0, 1\] for kind='probability'; y_pred\[0, 1\] = 1.5"),
    (lambda api: api.categorical_cross_entropy([0], [[-0.5, 0.5]], kind="log_probability"),
     r"\(-inf, 0\] for kind='log_probability'; y_pred\[0, 1\] = 0.5"),
    (lambda api: api.categorical_cross_entropy([0], [[0.5, 0.5]], ignore_index=1.5),
     r"ignore_index must be an integer; got 1.5"),
    (lambda api: api.categorical_cross_entropy([[0.5, 0.5]], [[0.5, 0.5]], ignore_index=0),
     r"ignore_index applies to integer labels"),
    (lambda api: api.categorical_cross_entropy([0], [[0.5, 0.5]], sample_weight=[1, 2]),
     r"sample_weight has shape \(2,\)"),
    (lambda api: api.categorical_cross_entropy([0], [[0.5, 0.5]], label_smoothing=2),
     r"label_smoothing must be in \[0, 1\]"),
    (lambda api: api.categorical_cross_entropy([0], [[0.5, 0.5]], reduction="avg"),
     r"reduction must be one of"),
])
def test_errors(api, call, match):
    with pytest.raises(ValueError, match=match):
        call(api)


def test_type_errors(api):
    with pytest.raises(TypeError, match="y_true must hold integer labels"):
        api.categorical_cross_entropy(np.array(["a"]), [[0.5, 0.5]])
    with pytest.raises(TypeError, match="y_pred must hold real numbers"):
        api.categorical_cross_entropy([0], np.array([[1 + 1j, 0]]))


def test_out_rules(api):
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="out has shape"):
        api.categorical_cross_entropy_with_grad([0, 1], x, kind="logit", out=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="out overlaps y_true"):
        y = np.zeros((2, 3))
        api.categorical_cross_entropy_with_grad(y, x, kind="logit", out=y)
    y = np.array([[1.0, 0.0, 0.0]])
    before = y.copy()
    api.categorical_cross_entropy_with_grad(y, np.zeros((1, 3)), kind="logit")
    np.testing.assert_array_equal(y, before)


@pytest.mark.parametrize("kind", ["logit", "probability", "log_probability"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("soft, weighted, smoothing", [
    (False, False, 0.0), (False, True, 0.1), (True, False, 0.0), (True, True, 0.2)])
@pytest.mark.parametrize("c", [13, 40, 2100])
def test_backends_agree(kind, dtype, soft, weighted, smoothing, c):
    import crossent
    from crossent import reference

    if crossent.backend == "numpy":
        pytest.skip("compares the C kernel with the numpy reference")
    rng = np.random.default_rng(17)
    n = 300
    z = rng.standard_normal((n, c)) * 5
    z[::7, 3] = -np.inf  # masked classes
    if kind == "logit":
        x = z
    else:
        z = np.where(np.isinf(z), -40.0, z)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        x = np.exp(logp) if kind == "probability" else logp
    x = x.astype(dtype)
    if soft:
        y = rng.dirichlet(np.ones(c), n).astype(dtype)
        y[::7, 3] = 0.0
    else:
        y = rng.integers(0, c, n)
        y[::7] = np.where(y[::7] == 3, 4, y[::7])
        y[5::11] = -1
    # (with smoothing, the masked -inf classes get target weight: infinite losses, both sides)
    opts = dict(kind=kind, label_smoothing=smoothing,
                class_weight=rng.uniform(0.5, 2, c) if weighted else None,
                sample_weight=rng.uniform(0, 2, n) if weighted else None,
                ignore_index=None if soft else -1)
    tol = 1e-13 if dtype == np.float64 else 2e-6
    for reduction in ("mean", "sum", "none"):
        got = crossent.categorical_cross_entropy_with_grad(y, x, reduction=reduction, **opts)
        want = reference.categorical_cross_entropy_with_grad(y, x, reduction=reduction, **opts)
        np.testing.assert_allclose(got[0], want[0], rtol=tol, atol=1e-300)
        scale = np.max(np.abs(want[1]))
        np.testing.assert_allclose(got[1], want[1], rtol=tol, atol=tol * scale)


def test_threads_give_the_same_bits():
    import crossent

    if crossent.backend == "numpy":
        pytest.skip("the numpy backend has no threads")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30000, 10)).astype(np.float32)
    y = rng.integers(0, 10, 30000)
    one = crossent.categorical_cross_entropy_with_grad(y, x, kind="logit", n_threads=1)
    two = crossent.categorical_cross_entropy_with_grad(y, x, kind="logit", n_threads=2)
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1], two[1])


@pytest.mark.parametrize("c", [1, 2, 7, 8, 9, 32, 33, 1000, 2048, 2049, 5000])
@pytest.mark.parametrize("n", [5, 130])
def test_row_lengths(api, c, n):
    """Each pass and its edges, against torch: rows of up to 32 classes go 64 at a time one per
    lane (n = 130: two full blocks and a tail), rows up to 2048 in one piece, longer ones in
    blocks of 512 joined online."""
    rng = np.random.default_rng(c)
    x = rng.standard_normal((n, c)) * 10
    y = rng.integers(0, c, n)
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit")
    want, want_grad = torch_ce(x, y)
    assert loss == pytest.approx(want, rel=1e-13, abs=1e-14)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15)


def _mp_row(xrow, label):
    """mpmath (60 digits) loss and gradient of one logit row with a hard label."""
    import mpmath as mp

    mp.mp.dps = 60
    xs = [mp.mpf(float(v)) for v in xrow]
    t = max(range(len(xs)), key=lambda j: (xs[j], -j))  # the first maximum
    e = [mp.exp(v - xs[t]) for v in xs]
    rest = mp.fsum(e[:t] + e[t + 1:])  # kept apart from e[t] = 1: it can be below 1e-60
    loss = mp.log1p(rest) + (xs[t] - xs[label])
    grad = [e[j] / (1 + rest) - (1 if j == label else 0) for j in range(len(xs))]
    if label == t:
        grad[t] = -rest / (1 + rest)
    return loss, grad


def _ulps(got, want, dtype):
    """|got - want| in units of the spacing of dtype at want, want unrounded (mpmath)."""
    import mpmath as mp

    w = float(want)
    unit = float(np.spacing(dtype(max(abs(w), np.finfo(dtype).tiny))))
    return float(abs(mp.mpf(float(got)) - want) / unit)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("margin", [0.5, 10.0, 30.0, 100.0, 700.0, 1e4])
@pytest.mark.parametrize("c", [2, 10, 50, 513, 1000, 1025, 3000])
@pytest.mark.parametrize("where", ["first", "later"])
def test_accuracy_against_mpmath(api, dtype, margin, c, where):
    """Loss and every gradient element within 8 ULP of mpmath (60 digits) for a row whose label
    leads the others by ``margin`` (the tiny losses of confident rows included), with the label
    first or in a later block of the row."""
    rng = np.random.default_rng(c)
    pos = 0 if where == "first" else c - 1 - (c // 3)
    row = -margin - rng.uniform(0, 3, c)
    row[pos] = 0.0
    x = row.astype(dtype)[None, :]
    loss, grad = api.categorical_cross_entropy_with_grad([pos], x, kind="logit",
                                                         reduction="sum")
    want_loss, want_grad = _mp_row(x[0], pos)
    assert _ulps(loss, want_loss, dtype) <= 8
    assert max(_ulps(g, w, dtype) for g, w in zip(grad[0], want_grad, strict=True)) <= 8


@pytest.mark.parametrize("case", ["max_positive_narrow", "all_negative", "max_positive_wide",
                                  "max_zero"])
def test_float32_row_differences_against_mpmath(api, case):
    """float32 rows whose differences x - max are formed in each of the one-block pass's ways
    (the maximum's exponent at least every other's, at most, or neither), with logits of very
    different magnitudes so that the differences are not exact in float: loss and every
    gradient element within 8 ULP of mpmath."""
    rng = np.random.default_rng(["max_positive_narrow", "all_negative", "max_positive_wide",
                                 "max_zero"].index(case) + 40)
    c = 300
    if case == "max_positive_narrow":  # |x| < 64 = 2 ufp(60), differences down to -86
        row = rng.uniform(-26.0, 59.0, c)
        row[7] = 60.0
    elif case == "all_negative":  # every |x| at least |max|
        row = -rng.uniform(0.5, 60.0, c)
        row[7] = -1e-3
    elif case == "max_positive_wide":
        row = rng.uniform(-40.0, 1.0, c)
        row[7] = 1.5
    else:
        row = rng.uniform(-30.0, -1.0, c)
        row[7] = 0.0
    row[20:40] = rng.choice([1, -1], 20) * 10.0 ** rng.uniform(-9, -2, 20)  # tiny, far exponents
    if case == "all_negative":
        row[20:40] = -np.abs(row[20:40]) - 1e-3
    if case == "max_zero":  # the maximum 0, tied with a -0
        row[20:40] = -np.abs(row[20:40])
        row[8] = -0.0
    x = row.astype(np.float32)[None, :]
    for label in (7, 25, 200):
        loss, grad = api.categorical_cross_entropy_with_grad([label], x, kind="logit",
                                                             reduction="sum")
        want_loss, want_grad = _mp_row(x[0], label)
        assert _ulps(loss, want_loss, np.float32) <= 8
        assert max(_ulps(g, w, np.float32) for g, w in zip(grad[0], want_grad, strict=True)) <= 8


@pytest.mark.parametrize("offset", [-3e6, -2.0**20, -3e5, -2.0**18, -1e3, 1e3, 2e5, 2.0**18,
                                    3e5, 2.0**20, 2e6])
def test_float32_large_logits_against_mpmath(api, offset):
    """float32 rows of large logits, their maximum at |m| up to 2^18 and beyond: the AVX-512
    one-block pass reduces each logit x (not x - m) by multiples of ln 2 / 16, so the reduction
    must stay exact for large k; beyond 2^18 a row takes the general code. Three rows (the next
    one's prefetch in use), labels at and below the maximum: loss and every gradient element
    within 8 ULP of mpmath."""
    rng = np.random.default_rng(int(abs(offset)) % 1000)
    c = 500
    x = (offset + rng.uniform(-86.0, 0.0, (3, c))).astype(np.float32)
    x[:, 7] = np.float32(offset)
    x[1, 300] = np.float32(offset)  # a tie at the maximum
    assert np.all(x.max(axis=1) == np.float32(offset))
    assert np.all(x.max(axis=1).astype(np.float64) - x.min(axis=1) <= 87)
    y = np.array([7, 25, 400])
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    for i in range(3):
        want_loss, want_grad = _mp_row(x[i], y[i])
        assert _ulps(loss[i], want_loss, np.float32) <= 8, i
        assert max(_ulps(g, w, np.float32) for g, w in zip(grad[i], want_grad, strict=True)) <= 8


@pytest.mark.parametrize("c", [64, 100, 1001, 2048])
def test_float32_ties_across_vectors_against_mpmath(api, c):
    """Classes at the maximum spread over the one-block pass's groups of four vectors and its
    masked tail (the AVX-512 row looks for them once per four vectors, then per vector): each
    one counted and the first found, whether the label is one of them or below; loss and
    every gradient element within 8 ULP of mpmath."""
    rng = np.random.default_rng(c)
    x = (rng.standard_normal((5, c)) * 3).astype(np.float32)
    top = np.float32(12.5)
    x[0, [3, 17, 63, c - 1]] = top          # ties in the first group and in the last vector
    x[1, c - 1] = top                       # the one maximum in the last vector (or tail)
    x[2, [min(70, c - 2), c - 1]] = top     # the first past the first group when c > 64
    x[3, :] = top                           # every class
    x[4, [0, c // 2]] = top
    y = np.array([17, 4, c - 1, c // 3, c // 2])
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    for i in range(len(y)):
        want_loss, want_grad = _mp_row(x[i], y[i])
        assert _ulps(loss[i], want_loss, np.float32) <= 8, i
        assert max(_ulps(g, w, np.float32) for g, w in zip(grad[i], want_grad, strict=True)) <= 8, i


@pytest.mark.parametrize("c", [64, 100, 1000, 2048])
def test_float32_rows_that_leave_the_pass_between_others(api, c):
    """The AVX-512 one-block pass makes the next row's constants while finishing the current
    one, and keeps them for that row only; it writes each row's gradient during the next row's
    pass, or before the next row that it does not take, or at the end of a thread's rows. Pairs
    of ordinary rows (the second uses what the first made for it, and writes its gradient)
    alternate with other rows: some the pass cannot take (an ignored label, a zero weight, a
    NaN, a label's logit beyond 2^18, an infinite logit, a class 89 above the label, whose
    exponential overflows, a label so far ahead that the others' mass is below 2^-80), some
    it takes (a span over 87, masked classes), one it takes whose gradient scale is too small
    for float lanes (written alone). Each row's loss and gradient equal those of the same row
    computed alone, bit for bit, also in place and with two threads, and the ordinary rows are
    within 8 ULP of mpmath. (On other paths and on the numpy backend the same must hold,
    without the state.)"""
    rng = np.random.default_rng(c + 5)
    specials = ["ignored", "weight 0", "wide", "nan", "huge", "inf", "masked", "far below",
                "confident", "tiny weight"]
    n = 3 * len(specials)
    x = (rng.standard_normal((n, c)) * 3).astype(np.float32)
    y = rng.integers(0, c, n)
    w = rng.uniform(0.5, 2.0, n)
    ordinary = [i for i in range(n) if i % 3 != 2]
    for k, what in enumerate(specials):
        i = 3 * k + 2
        if what == "ignored":
            y[i] = -1
        elif what == "weight 0":
            w[i] = 0.0
        elif what == "wide":
            x[i, c // 2] = -100.0
        elif what == "nan":
            x[i, c // 2] = np.nan
        elif what == "huge":
            x[i] += np.float32(3e5)
        elif what == "inf":
            x[i, 5] = np.inf
        elif what == "masked":
            x[i, ::3] = -np.inf
            x[i, y[i]] = 1.0
        elif what == "far below":
            x[i, (y[i] + 1) % c] = x[i, y[i]] + 89.0
        elif what == "confident":
            x[i, y[i]] = x[i].max() + 80.0
        else:
            w[i] = 1e-35
    opts = dict(kind="logit", reduction="none", ignore_index=-1)
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, sample_weight=w, **opts)
    for i in range(n):
        alone, alone_grad = api.categorical_cross_entropy_with_grad(
            y[i:i + 1], x[i:i + 1], sample_weight=w[i:i + 1], **opts)
        np.testing.assert_array_equal(loss[i:i + 1], alone, err_msg=str(i))
        np.testing.assert_array_equal(grad[i:i + 1], alone_grad, err_msg=str(i))
    finite = [3 * k + 2 for k, what in enumerate(specials)
              if what in ("wide", "masked", "far below", "confident")]
    for i in ordinary + finite:
        want_loss, want_grad = _mp_row(x[i], y[i])
        assert _ulps(loss[i] / w[i], want_loss, np.float32) <= 8, i
        assert max(_ulps(g / w[i], v, np.float32)
                   for g, v in zip(grad[i], want_grad, strict=True)) <= 8, i
    inplace = x.copy()
    got = api.categorical_cross_entropy_with_grad(y, inplace, sample_weight=w, out=inplace, **opts)
    np.testing.assert_array_equal(got[0], loss)
    np.testing.assert_array_equal(inplace, grad)
    # enough rows to be split between two threads (and into chunks, each ending a run of rows)
    reps = -(-2 * 131072 // (n * c))
    xs, ys, ws = np.tile(x, (reps, 1)), np.tile(y, reps), np.tile(w, reps)
    for threads in (1, 2):
        got = api.categorical_cross_entropy_with_grad(ys, xs, sample_weight=ws,
                                                      n_threads=threads, **opts)
        np.testing.assert_array_equal(got[0], np.tile(loss, reps))
        np.testing.assert_array_equal(got[1], np.tile(grad, (reps, 1)))
    inplace = xs.copy()
    got = api.categorical_cross_entropy_with_grad(ys, inplace, sample_weight=ws, n_threads=2,
                                                  out=inplace, **opts)
    np.testing.assert_array_equal(got[0], np.tile(loss, reps))
    np.testing.assert_array_equal(inplace, np.tile(grad, (reps, 1)))


@pytest.mark.parametrize("c", [64, 1000])
def test_float32_label_below_the_maximum_against_mpmath(api, c):
    """The AVX-512 one-block pass takes each row relative to its label's logit, so the other
    classes' exponentials grow with the label's distance below the maximum: up to e^88 (rest
    near 10^38) the row stays in the pass, from about 88.7 the exponential overflows and the
    row goes to the general code. Distances 0.5 to 300, the maximum in one class or in many;
    loss and every gradient element within 8 ULP of mpmath."""
    rng = np.random.default_rng(c + 11)
    dists = [0.5, 30.0, 80.0, 86.0, 88.0, 88.6, 88.8, 89.5, 95.0, 300.0]
    x = (rng.standard_normal((2 * len(dists), c)) * 3).astype(np.float32)
    y = rng.integers(0, c, len(x))
    for i, d in enumerate(dists):
        for k in (0, 1):  # one class at the maximum; a fifth of them
            r = 2 * i + k
            x[r, y[r]] = np.float32(1.5)
            at = (y[r] + 1 + np.arange(1 if k == 0 else c // 5) * 5) % c
            x[r, at[at != y[r]]] = np.float32(1.5 + d)
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    for r in range(len(x)):
        want_loss, want_grad = _mp_row(x[r], y[r])
        assert _ulps(loss[r], want_loss, np.float32) <= 8, r
        assert max(_ulps(g, v, np.float32) for g, v in zip(grad[r], want_grad, strict=True)) <= 8, r


@pytest.mark.parametrize("mask", [-np.inf, float(np.finfo(np.float32).min), -1e20, -1e12, -1e9,
                                  -1e4, -200.0])
def test_float32_masked_classes_against_mpmath(api, mask):
    """Classes masked with -inf or a large negative logit (attention-style masks use -1e9 and
    float32's lowest) have exponentials that round to 0 relative to the label: the AVX-512
    one-block pass clamps them, so their gradient is +0.0 (unclamped, the reduction of -1e12 is
    far off and its cubic negative: -0.0) and the row stays in the pass. Labels at, below and
    above the others; loss and every gradient element within 8 ULP of mpmath."""
    rng = np.random.default_rng(7)
    c = 300
    x = (rng.standard_normal((3, c)) * 3).astype(np.float32)
    masked = rng.random((3, c)) < 0.4
    y = np.array([4, 150, 299])
    masked[np.arange(3), y] = False
    x[masked] = np.float32(mask)
    x[0, 4] = 12.0  # the label at the maximum; the others' mass about 0.02
    x[2, 299] = -9.0  # the label below most
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    assert np.all(grad[masked] == 0.0) and not np.any(np.signbit(grad[masked]))
    for r in range(3):
        want_loss, want_grad = _mp_row(x[r], y[r])
        assert _ulps(loss[r], want_loss, np.float32) <= 8, r
        assert max(_ulps(g, v, np.float32) for g, v in zip(grad[r], want_grad, strict=True)) <= 8, r


@pytest.mark.parametrize("c", [100, 1000])
def test_float32_heavy_weights_with_far_classes_against_mpmath(api, c):
    """A class more than 87.3 below the label has a subnormal float exponential, within 2^-150;
    a gradient scale above 1 (large sample or class weights, reduction "sum" or "none") would
    carry that error into a normal gradient element, so the AVX-512 one-block pass hands such
    rows to the general code. Sample weights up to 10^9 and a class weight of 50, classes 88 to
    105 below the label: the weighted gradient itself (not divided by the weight) within 8 ULP
    of mpmath's. And a label of class weight 0: the gradient is +0.0 everywhere."""
    import mpmath as mp

    rng = np.random.default_rng(c + 3)
    weights = [1.0, 64.0, 1e6, 1e9]
    x = (rng.standard_normal((len(weights) + 1, c)) * 3).astype(np.float32)
    y = np.full(len(x), 10)
    x[:, 10] = 8.0
    x[:, 20:30] = (8.0 - np.linspace(88.0, 105.0, 10)).astype(np.float32)
    cw = np.ones(c)
    cw[10] = 50.0
    for class_weight in (None, cw):
        sw = np.array(weights + [1.0])
        loss, grad = api.categorical_cross_entropy_with_grad(
            y, x, kind="logit", reduction="none", sample_weight=sw, class_weight=class_weight)
        for r in range(len(x)):
            scale = sw[r] * (1.0 if class_weight is None else class_weight[10])
            want_loss, want_grad = _mp_row(x[r], y[r])
            assert _ulps(loss[r], want_loss * mp.mpf(scale), np.float32) <= 8, r
            assert max(_ulps(g, v * mp.mpf(scale), np.float32)
                       for g, v in zip(grad[r], want_grad, strict=True)) <= 8, r
    zero = np.ones(c)
    zero[10] = 0.0
    x[:, 10] = 20.0  # the others' mass below 1: the label's gradient as -A rest / (1 + rest)
    _, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="sum",
                                                      class_weight=zero)
    assert np.all(grad == 0.0) and not np.any(np.signbit(grad))


def _placed(a, shift):
    """A copy of a whose data starts shift elements past a 64-byte boundary, with a line or more
    of sentinels on either side; and a function that checks they are untouched."""
    per_line = 64 // a.itemsize
    buf = np.full(a.size + 4 * per_line, -7.25, a.dtype)
    start = per_line + (-(buf.ctypes.data // a.itemsize)) % per_line + shift
    out = buf[start:start + a.size].reshape(a.shape)
    out[...] = a
    assert out.ctypes.data % 64 == shift * a.itemsize

    def untouched():
        assert np.all(buf[:start] == -7.25) and np.all(buf[start + a.size:] == -7.25)

    return out, untouched


@pytest.mark.parametrize("c", [64, 100, 1000, 1001, 2048])
def test_float32_rows_wherever_they_lie_in_memory(api, c):
    """The same logits at every float offset from a 64-byte boundary, the gradient at the same
    offset, at another and in place, give the same bits: the AVX-512 pass takes the first
    classes up to a boundary as a masked vector of their own (for the maximum and the
    gradient), and sums the exponentials by class, not by address. The rows put the maximum,
    a tie and the label in those first classes or in the last; the results are within 8 ULP of
    mpmath, and nothing around the arrays is written."""
    rng = np.random.default_rng(c)
    x = (rng.standard_normal((6, c)) * 3).astype(np.float32)
    y = rng.integers(0, c, 6)
    x[0, 0] = 12.0  # the maximum in the first class
    x[1, [3, 14]] = 12.0  # a tie, both within the first 16 classes
    x[2, c - 1] = 12.0  # the maximum in the last class
    y[3], x[3, 1] = 1, 12.0  # the label at the maximum, early
    y[4] = 0  # the label first
    opts = dict(kind="logit", reduction="none")
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, **opts)
    for i in range(len(y)):
        want_loss, want_grad = _mp_row(x[i], y[i])
        assert _ulps(loss[i], want_loss, np.float32) <= 8, i
        assert max(_ulps(g, v, np.float32) for g, v in zip(grad[i], want_grad, strict=True)) <= 8
    for sx in range(16):
        xs, xs_untouched = _placed(x, sx)
        for sg in sorted({sx, (sx + 5) % 16, 0}):
            g, g_untouched = _placed(np.full_like(x, np.nan), sg)
            got_loss, got_grad = api.categorical_cross_entropy_with_grad(y, xs, out=g, **opts)
            assert got_grad is g
            np.testing.assert_array_equal(got_loss, loss, err_msg=f"{sx} {sg}")
            np.testing.assert_array_equal(g, grad, err_msg=f"{sx} {sg}")
            g_untouched()
        np.testing.assert_array_equal(xs, x)
        xs_untouched()
        inplace, inplace_untouched = _placed(x, sx)
        got_loss, _ = api.categorical_cross_entropy_with_grad(y, inplace, out=inplace, **opts)
        np.testing.assert_array_equal(got_loss, loss, err_msg=f"{sx} in place")
        np.testing.assert_array_equal(inplace, grad, err_msg=f"{sx} in place")
        inplace_untouched()


@pytest.mark.parametrize("c", [64, 1000, 1001])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_float32_long_rows_with_a_nan(api, c, where):
    """A NaN anywhere in a float32 row of the one-block pass (the first class, the middle, the
    last, which lies in a masked tail when c is not a multiple of 16) follows nan_policy, and
    the rows around it keep their values."""
    rng = np.random.default_rng(c)
    x = (rng.standard_normal((3, c)) * 3).astype(np.float32)
    j = {"first": 0, "middle": c // 2, "last": c - 1}[where]
    x[1, j] = np.nan
    y = np.array([3, 5, 7])
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    assert np.isnan(loss[1]) and np.all(np.isfinite(loss[[0, 2]]))
    alone, alone_grad = api.categorical_cross_entropy_with_grad(y[[0, 2]], x[[0, 2]], kind="logit",
                                                                reduction="none")
    np.testing.assert_array_equal(loss[[0, 2]], alone)
    np.testing.assert_array_equal(grad[[0, 2]], alone_grad)
    with pytest.raises(ValueError, match=rf"y_pred\[1, {j}\] is NaN"):
        api.categorical_cross_entropy(y, x, kind="logit", nan_policy="raise")
    kept = api.categorical_cross_entropy(y, x, kind="logit", nan_policy="omit")
    assert kept == pytest.approx(alone.mean(), rel=1e-6)


@pytest.mark.parametrize("weight", [1e-35, 1e-30, 1e-28, 1.0, 1e30, 1e35])
@pytest.mark.parametrize("c", [10, 700])
def test_float32_gradient_scale_against_mpmath(api, weight, c):
    """float32 rows whose gradient scale (the sample weight) is very small or very large, so
    that the gradient's factor is or is not a pair of normal floats (1e-28: it is, and many
    products are subnormal), for rows of the batched (10) and the one-block pass (700): every
    element within 8 ULP of mpmath times the weight."""
    import mpmath as mp

    rng = np.random.default_rng(c * 100 + 50 + int(np.log10(weight)))
    x = (rng.standard_normal((3, c)) * 6).astype(np.float32)
    y = rng.integers(0, c, 3)
    _, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="sum",
                                                      sample_weight=np.full(3, weight))
    assert grad.dtype == np.float32
    with mp.workdps(60):
        for r in range(3):
            _, want = _mp_row(x[r], int(y[r]))
            w = mp.mpf(weight)
            worst = max(_ulps(g, w * v, np.float32) for g, v in zip(grad[r], want, strict=True))
            assert worst <= 8, (r, worst)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", [3, 10, 32, 40, 63, 64, 65, 127, 700, 2048, 2049])
@pytest.mark.parametrize("wide", [True, False])
def test_rows_of_every_shape_against_mpmath(api, dtype, c, wide):
    """A block of rows that exercises each pass's special cases, each row against mpmath to
    8 ULP: the label below the maximum, ties at the maximum (with and without the label among
    them), a constant row, -inf (masked) classes, rows spanning more than 87 (whose small
    exponentials are subnormal in float32), and a label in the last column."""
    rng = np.random.default_rng(1000 + c)
    n = 70
    x = rng.standard_normal((n, c)) * 4
    y = rng.integers(0, c, n)
    if c > 1:
        x[1::9, 1] = x[1::9, 0] = x[1::9].max(axis=1) + 1   # a tie, the label maybe in it
        y[1::18] = 1
        x[2] = 0.5                                          # constant row
        x[3::9, c // 2] = -np.inf if wide else x[3::9, c // 2]  # masked classes
        if wide:  # without such rows, float32 blocks of short rows take the float lanes
            x[4::9, -1] = x[4::9].max(axis=1) + 95          # spans more than 87
        y[5::9] = c - 1
        x[6::9, y[6::9]] = x[6::9].max(axis=1) + (40 if wide else 12)  # confident, correct
    x = x.astype(dtype)
    y[7::9] = 2 if c > 2 else 0                               # ignored (an in-range label)
    w = rng.choice([0.5, 1.0, 2.0, 4.0], n)  # powers of two: exact to divide out again
    w[8::9] = 0.0                                             # zero weight
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="none",
                                                         ignore_index=2 if c > 2 else 0,
                                                         sample_weight=w)
    ignored = (y == (2 if c > 2 else 0)) | (w == 0)
    assert np.all(loss[ignored] == 0) and np.all(grad[ignored] == 0)
    loss, grad = loss / np.where(ignored, 1, w), grad / np.where(ignored, 1, w)[:, None]
    worst_loss = worst_grad = 0.0
    for i in np.flatnonzero(~ignored):
        want_loss, want_grad = _mp_row(x[i], y[i])
        worst_loss = max(worst_loss, _ulps(loss[i], want_loss, dtype))
        worst_grad = max(worst_grad, max(_ulps(gj, wj, dtype)
                                         for gj, wj in zip(grad[i], want_grad, strict=True)))
    assert worst_loss <= 8
    assert worst_grad <= 8


def test_probability_with_zero_clip_has_no_nan_for_absent_classes(api):
    """With eps=0, a class of target weight 0 and probability 0 has gradient 0 (not 0/0)."""
    p = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    loss, grad = api.categorical_cross_entropy_with_grad([0, 1], p, kind="probability", eps=0.0,
                                                         reduction="sum")
    assert loss == pytest.approx(np.log(2.0), rel=1e-15)
    np.testing.assert_array_equal(grad, [[-1.0, 0.0, 0.0], [0.0, -2.0, 0.0]])


def test_kernel_guards_labels_it_is_given():
    """The C kernel checks labels too (the Python layer validates them first): a label out of
    range reaching it raises instead of reading outside the row."""
    import crossent

    if crossent.backend == "numpy":
        pytest.skip("C kernel guard")
    from crossent import _core

    x = np.zeros((3, 4))
    for bad in (4, -2, 1 << 40):
        labels = np.array([0, bad, 1], dtype=np.int64)
        with pytest.raises(ValueError, match="labels"):
            _core.categorical(1, x, labels, None, None, None, None, 0.0, 0.0, 0.0, 1.0, 0,
                              np.empty_like(x), None, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_language_model_vocabulary(api, dtype):
    """C = 256,000 + 7 (blocks of 512 joined online, a tail): ordinary rows against torch, and a
    confident row's tiny loss against an exact sum (float32-valued inputs: x - max is exact in
    double, math.fsum adds the exponentials exactly, so only exp and log1p round)."""
    import math

    c = 256_007
    rng = np.random.default_rng(256)
    # float32 values in either dtype, so that x - max is exact in double for the oracle
    x = (rng.standard_normal((3, c)) * 3).astype(np.float32)
    x[2, 100_000] = x[2].max() + np.float32(30)  # confident and correct
    x = x.astype(dtype)
    y = np.array([5, c - 1, 100_000])
    loss, grad = api.categorical_cross_entropy_with_grad(y, x, kind="logit", reduction="none")
    want, want_grad = torch_ce(x[:2], y[:2], reduction="none")
    tol = 1e-12 if dtype == np.float64 else 4e-7
    np.testing.assert_allclose(loss[:2], want, rtol=tol)
    np.testing.assert_allclose(grad[:2], want_grad, rtol=tol, atol=1e-12 * np.abs(want_grad).max())
    row = x[2].astype(np.float64)
    top = row[100_000]
    rest = math.fsum(np.exp(np.delete(row, 100_000) - top).tolist())
    assert loss[2] == pytest.approx(math.log1p(rest), rel=8 * np.finfo(dtype).eps)
    assert grad[2, 100_000] == pytest.approx(-rest / (1 + rest), rel=8 * np.finfo(dtype).eps)
