"""SIMD paths: each one the CPU can run meets the accuracy targets; CROSSENT_CPU forces one."""

import math
import os
import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest

import crossent
from crossent._accuracy import exact_binary, max_ulp, ulp_error

core = pytest.importorskip("crossent._core") if crossent.backend != "numpy" else None
pytestmark = pytest.mark.skipif(core is None, reason="the C extension is not in use")
PATHS = list(core.paths_available) if core is not None else []


@pytest.fixture(params=PATHS)
def path(request):
    """Switch the process to one SIMD path for the test, then back."""
    before = crossent.backend.removeprefix("c-")
    assert core.select_path(request.param) == request.param
    try:
        yield request.param
    finally:
        core.select_path(before)


def test_the_best_path_is_chosen():
    if os.environ.get("CROSSENT_CPU"):
        pytest.skip("a path is forced")
    assert crossent.backend == f"c-{PATHS[-1]}"
    assert PATHS[0] in ("generic", "neon")


@pytest.mark.parametrize("kind", ["logit", "probability", "log_probability"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_accuracy_on_every_path(path, kind, dtype):
    for pos_weight, limit in ((None, 2.0), (3.0, 3.0)):
        worst = max_ulp(crossent, kind, dtype, pos_weight=pos_weight)
        assert worst["loss"] <= limit and worst["grad"] <= limit, (path, worst)
        assert worst.get("hess", 0.0) <= 4.0, (path, worst)


def test_paths_agree(path):
    rng = np.random.default_rng(30)
    x = rng.standard_normal((3000, 2)) * 20
    y = (rng.random((3000, 2)) < 0.5).astype(np.float64)
    w = rng.random(3000)
    got = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", sample_weight=w,
                                                  pos_weight=[2.0, 0.5])
    core.select_path(PATHS[0])
    want = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", sample_weight=w,
                                                   pos_weight=[2.0, 0.5])
    core.select_path(path)
    assert got[0] == pytest.approx(want[0], rel=1e-15)
    np.testing.assert_allclose(got[1], want[1], rtol=4e-16, atol=1e-300)


def _softmax_row_mp(row, label):
    """mpmath (50 digits): the loss and gradient of one logit row with a hard label."""
    mp.mp.dps = 50
    xs = [mp.mpf(float(v)) for v in row]
    top = max(xs)
    e = [mp.exp(v - top) for v in xs]
    total = mp.fsum(e)
    return top - xs[label] + mp.log(total), [ej / total - (j == label) for j, ej in enumerate(e)]


def test_categorical_float32_rows_on_every_path(path):
    """float32 softmax rows that each path's one-block pass takes (64 to 2048 classes), edges
    included: the maximum alone in the masked tail, a row spanning exactly 87 (its smallest
    exponential just above the smallest normal float), large logits with a tie at the maximum,
    a long row. Loss and every gradient element within 8 ULP of mpmath on every path."""
    rng = np.random.default_rng(31)
    rows = []
    r = rng.uniform(-5.0, 5.0, 65)
    r[64] = 9.0                      # c = 65: the maximum in the tail, one lane
    rows.append((r, 64))
    r = rng.uniform(-70.0, 10.0, 127)
    r[3], r[100] = 10.0, -77.0       # spans exactly 87
    rows.append((r, 100))
    r = 3e5 + rng.uniform(-80.0, 0.0, 64)
    r[5] = r[40] = 3e5               # large logits, a tie at the maximum
    rows.append((r, 40))
    rows.append((rng.standard_normal(2048) * 3, 1000))
    for row, label in rows:
        x = row.astype(np.float32)[None, :]
        loss, grad = crossent.categorical_cross_entropy_with_grad([label], x, kind="logit",
                                                                  reduction="sum")
        want_loss, want_grad = _softmax_row_mp(x[0], label)
        worst = max(ulp_error(g, w, np.float32) for g, w in zip(grad[0], want_grad, strict=True))
        assert ulp_error(loss, want_loss, np.float32) <= 8, (path, x.shape)
        assert worst <= 8, (path, x.shape, worst)


def _near_logits(n, seed):
    """float32 logits with every |x| <= 87, the runs an AVX-512 path takes in its own float32
    run: tiny, moderate and confident magnitudes, exactly +-87 and +-0, both signs."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * rng.choice([1e-6, 1.0, 4.0, 20.0, 60.0], n)
    x = np.clip(x, -87.0, 87.0)
    x[rng.random(n) < 0.02] = 87.0
    x[rng.random(n) < 0.02] = -87.0
    x[rng.random(n) < 0.02] = -0.0
    return x.astype(np.float32)


@pytest.mark.parametrize("n", [16, 17, 255, 256, 600])
def test_float32_near_runs_on_every_path(path, n):
    """The plain float32 pass over runs with no far logit (the ones an AVX-512 path computes in
    its own run, with its own exponential and no division), with and without the "mean"
    scale, and the hessian: each gradient element within 2 ULP and each hessian within 4 of
    mpmath, the summed loss within 2^-23 of mpmath's sum for the same float32 inputs, hard and
    soft labels; in place too."""
    x = _near_logits(n, 40 + n)
    rng = np.random.default_rng(50 + n)
    for y in ((rng.random(n) < 0.5).astype(np.float32), rng.random(n).astype(np.float32)):
        exact = [exact_binary("logit", float(v), float(t)) for v, t in zip(x, y, strict=True)]
        total, g_sum = crossent.binary_cross_entropy_with_grad(y, x, kind="logit",
                                                               reduction="sum")
        mean, g_mean = crossent.binary_cross_entropy_with_grad(y, x, kind="logit")
        g_gh, h_gh = crossent.binary_logistic_grad_hess(y, x)
        want_total = mp.fsum(e[0] for e in exact)
        assert abs(total - want_total) <= 2**-23 * want_total, (path, total, want_total)
        assert abs(mean - want_total / n) <= 2**-23 * want_total / n, (path, mean)
        hard = bool(np.all((y == 0) | (y == 1)))
        for i, (_, eg, eh) in enumerate(exact):
            if hard:  # a soft label's gradient can cancel: its bound is absolute, below
                assert ulp_error(g_sum[i], eg, np.float32) <= 2.0, (path, x[i], y[i])
                assert ulp_error(g_mean[i], eg / n, np.float32) <= 2.0, (path, x[i], y[i])
                assert ulp_error(g_gh[i], eg, np.float32) <= 2.0, (path, x[i], y[i])
            else:
                assert abs(g_sum[i] - float(eg)) <= 2**-23, (path, x[i], y[i])
            assert ulp_error(h_gh[i], eh, np.float32) <= 4.0, (path, x[i])
        xx = x.copy()
        _, g_in = crossent.binary_cross_entropy_with_grad(y, xx, kind="logit", reduction="sum",
                                                          out=xx)
        np.testing.assert_array_equal(g_in, g_sum)


@pytest.mark.parametrize("case", ["mixed", "confident"])
def test_float32_mean_of_near_runs_on_every_path(path, case):
    """DESIGN.md's reduced-loss target for float32 input, on runs an AVX-512 path computes in its
    own run: the mean of mixed logits within 1e-9 of the exact mean of the float32 inputs'
    losses (the float64 computation on the same widened values gives them to ~1e-15). When
    every loss is tiny (confident correct logits, losses 1e-35 to 1e-13) the mean is nearly the
    sum of the float exponentials e^-|x| themselves, each within an ulp: then float precision
    (measured here: 5e-10 on AVX-512, up to 1.3e-9 with the portable exponential)."""
    rng = np.random.default_rng(60)
    n = 200_000
    y = (rng.random(n) < 0.5).astype(np.float32)
    if case == "mixed":
        x = np.clip(rng.standard_normal(n) * 4.0, -87.0, 87.0).astype(np.float32)
    else:
        x = (np.where(y == 1, 1.0, -1.0) * (30.0 + 50.0 * rng.random(n))).astype(np.float32)
    mean = crossent.binary_cross_entropy(y, x, kind="logit")
    wide = crossent.binary_cross_entropy(y.astype(np.float64), x.astype(np.float64),
                                         kind="logit", reduction="none")
    exact = math.fsum(wide.tolist()) / n
    assert abs(mean / exact - 1) < (1e-9 if case == "mixed" else 2**-23), (path, case, mean)


def test_float32_runs_with_one_bad_or_far_value_on_every_path(path):
    """A run with one far logit (|x| > 87, inf), NaN or bad label among near ones is computed
    by the portable loops (an AVX-512 path's own run refuses it having written nothing): the
    same results as the element alone would give, and the error names the element."""
    x = _near_logits(512, 7)
    y = (np.random.default_rng(8).random(512) < 0.5).astype(np.float32)
    _, g_ref = crossent.binary_cross_entropy_with_grad(y, x, kind="logit", reduction="sum")
    for i, v in ((3, 87.5), (300, -np.inf), (255, 1e30)):
        xf = x.copy()
        xf[i] = v
        _, g = crossent.binary_cross_entropy_with_grad(y, xf, kind="logit", reduction="sum")
        eg = exact_binary("logit", float(xf[i]), float(y[i]))[1]
        assert ulp_error(g[i], eg, np.float32) <= 2.0, (path, v)
        others = np.arange(512) != i
        # the other elements of that run are now computed by the portable loops: within 4 ULP
        # of the AVX-512 run's (each is within 2 of exact)
        np.testing.assert_allclose(g[others], g_ref[others], rtol=2**-21, atol=0)
    xn = x.copy()
    xn[260] = np.nan
    with pytest.raises(ValueError, match=r"y_pred\[260\] is NaN"):
        crossent.binary_cross_entropy_with_grad(y, xn, kind="logit", nan_policy="raise")
    yb = y.copy()
    yb[100] = 1.5
    with pytest.raises(ValueError, match=r"y_true\[100\] = 1\.5"):
        crossent.binary_cross_entropy_with_grad(yb, x, kind="logit")
    yb[100] = -0.0  # a valid label
    loss = crossent.binary_cross_entropy(yb, x, kind="logit", reduction="sum")
    assert np.isfinite(loss)


def _run(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120, check=False)


def test_crossent_cpu_forces_a_path():
    r = _run("import crossent; print(crossent.backend)", CROSSENT_CPU="generic",
             CROSSENT_BACKEND="")
    assert r.returncode == 0 and r.stdout.strip() in ("c-generic", "c-neon"), r.stderr


def test_crossent_cpu_rejects_unknown_and_unsupported_paths():
    r = _run("import crossent", CROSSENT_CPU="sse9", CROSSENT_BACKEND="")
    assert r.returncode != 0 and "unknown SIMD path 'sse9'" in r.stderr
    unsupported = [p for p in ("avx2", "avx512") if p not in PATHS]
    if unsupported:
        r = _run("import crossent", CROSSENT_CPU=unsupported[0], CROSSENT_BACKEND="")
        assert r.returncode != 0 and "this CPU cannot run" in r.stderr


# vecmath.h, measured on each path: float32 against numpy's float64 functions (errors far
# below a float ULP), float64 against mpmath at 40 digits.
FUNCS = {"exp": (np.exp, mp.exp), "expm1": (np.expm1, mp.expm1), "log": (np.log, mp.log),
         "log1p": (np.log1p, mp.log1p)}


def _float32_sweep(stride=4099):
    bits = np.arange(0, 2**32, stride, dtype=np.uint64).astype(np.uint32)
    return bits.view(np.float32)


@pytest.mark.parametrize("func", list(FUNCS))
def test_vecmath_float32(path, func):
    x = _float32_sweep()
    with np.errstate(all="ignore"):
        want = FUNCS[func][0](x.astype(np.float64))
        got = core.vecmath(func, x).astype(np.float64)
        fin = np.isfinite(want) & (np.abs(want) <= np.finfo(np.float32).max)
        ulp = np.spacing(np.abs(want[fin]).astype(np.float32)).astype(np.float64)
        err = np.abs(got[fin] - want[fin]) / ulp
    assert err.max() <= 1.0, (func, x[fin][np.argmax(err)])
    # outside the finite range: same inf / NaN / overflow as the exact answer
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got[~fin], want[~fin].astype(np.float32))


@pytest.mark.parametrize("func", list(FUNCS))
def test_vecmath_float64(path, func):
    rng = np.random.default_rng(31)
    if func in ("exp", "expm1"):
        x = np.concatenate([rng.uniform(-750, 710, 1500), rng.uniform(-1, 1, 500)])
    else:
        near = rng.uniform(-0.99, 1, 500) + (1.0 if func == "log" else 0.0)
        x = np.concatenate([np.exp(rng.uniform(-740, 700, 1500)), near])
    got = core.vecmath(func, x)
    worst = 0.0
    with mp.workdps(40):
        for xi, gi in zip(x.tolist(), got.tolist(), strict=True):
            worst = max(worst, ulp_error(gi, FUNCS[func][1](mp.mpf(xi)), np.float64))
    assert worst <= 1.5, (func, worst)


def test_vecmath_special_values(path):
    inf, nan = np.inf, np.nan
    x = np.array([inf, -inf, nan, 0.0, -0.0, 710.0, -746.0, -1.0, -2.0])
    assert core.vecmath("exp", x)[:7].tolist()[:2] == [inf, 0.0]
    assert np.isnan(core.vecmath("exp", x)[2])
    assert core.vecmath("exp", x)[5:7].tolist() == [inf, 0.0]
    assert core.vecmath("exp", np.array([-745.0]))[0] == 5e-324
    em1 = core.vecmath("expm1", x)
    assert em1[0] == inf and em1[1] == -1.0 and np.isnan(em1[2]) and em1[3] == 0.0
    lg = core.vecmath("log", x)
    assert lg[0] == inf and np.isnan(lg[1]) and np.isnan(lg[2]) and lg[3] == -inf
    assert np.isnan(lg[8]) and core.vecmath("log", np.array([5e-324]))[0] == np.log(5e-324)
    l1p = core.vecmath("log1p", x)
    assert l1p[0] == inf and np.isnan(l1p[1]) and l1p[7] == -inf and np.isnan(l1p[8])
    assert core.vecmath("log1p", np.array([1e-300]))[0] == 1e-300
