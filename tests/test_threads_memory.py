"""Many Python threads at once, memory over many calls, and inputs of more than 2^31 elements.

The thread tests compare each thread's results with serial calls bit for bit: the kernels keep
no state between calls and the reduced loss is summed in a fixed order. The memory tests call
each function (and its error paths) 10^5 times and require flat Python allocations
(tracemalloc) and a flat resident set. The large-input test needs about 9 GB and is skipped
where that much memory is not available, under the sanitizers (CROSSENT_SANITIZED=1) and on
the numpy backend."""

import gc
import math
import os
import threading
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import crossent

SANITIZED = os.environ.get("CROSSENT_SANITIZED") == "1"


def _inputs(seed, n=40_000, c=12):
    rng = np.random.default_rng(seed)
    return {
        "yb": (rng.random(n) < 0.4).astype(np.float32),
        "xb": (rng.standard_normal(n) * 4).astype(np.float32),
        "pb": rng.uniform(0.01, 0.99, n),
        "wb": rng.uniform(0, 2, n),
        "yc": rng.integers(0, c, n // 10),
        "xc": rng.standard_normal((n // 10, c)),
        "tc": rng.dirichlet(np.ones(c), n // 10).astype(np.float32),
        "zc": rng.standard_normal((n // 10, c)).astype(np.float32),
        "pc": rng.dirichlet(np.ones(c), n // 10),
    }


def _work(d, n_threads=1):
    """Every public function on the inputs d: a list of arrays and floats."""
    out = []
    out.append(crossent.binary_cross_entropy(d["yb"], d["xb"], kind="logit",
                                             n_threads=n_threads))
    g = np.empty_like(d["xb"])
    out += crossent.binary_cross_entropy_with_grad(d["yb"], d["xb"], kind="logit", out=g,
                                                   sample_weight=d["wb"], n_threads=n_threads)
    out += crossent.binary_cross_entropy_with_grad(d["yb"], d["pb"], reduction="none",
                                                   label_smoothing=0.1, n_threads=n_threads)
    out += crossent.binary_logistic_grad_hess(d["yb"], d["xb"], n_threads=n_threads)
    out += crossent.categorical_cross_entropy_with_grad(d["yc"], d["xc"], kind="logit",
                                                        n_threads=n_threads)
    out += crossent.categorical_cross_entropy_with_grad(d["tc"], d["zc"], kind="logit",
                                                        label_smoothing=0.05,
                                                        reduction="none", n_threads=n_threads)
    out.append(crossent.categorical_cross_entropy(d["yc"], d["pc"], n_threads=n_threads))
    out.append(crossent.log_loss(d["yc"], d["pc"]))
    out.append(crossent.log_loss(d["yb"], d["pb"], sample_weight=d["wb"]))
    acc = crossent.LossAccumulator("categorical", kind="logit")
    for i in range(0, len(d["yc"]), 1000):
        acc.update(d["yc"][i:i + 1000], d["xc"][i:i + 1000])
    out.append(acc.result())
    return out


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b, strict=True):
        u, v = np.asarray(u), np.asarray(v)
        assert u.dtype == v.dtype and u.shape == v.shape
        assert u.tobytes() == v.tobytes()  # bit for bit, NaN payloads included


@pytest.mark.parametrize("inner_threads", [1, 2])
def test_many_threads_give_the_serial_results(inner_threads):
    """Eight threads, each calling every function 6 times on shared inputs and on inputs of
    its own, started together: every result equals the serial one bit for bit, also when each
    call runs its own OpenMP threads (n_threads=2 inside Python threads)."""
    shared = _inputs(0)
    own = [_inputs(100 + t) for t in range(8)]
    want_shared = _work(shared)
    want_own = [_work(d) for d in own]
    start = threading.Barrier(8)

    def run(t):
        start.wait()
        got = []
        for r in range(6):
            d = shared if (t + r) % 2 else own[t]
            got.append(((t + r) % 2, _work(d, inner_threads)))
        return got

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, range(8)))
    for t, got in enumerate(results):
        for is_shared, values in got:
            _same(values, want_shared if is_shared else want_own[t])


def test_shared_inputs_are_not_written():
    """Concurrent calls only read their inputs: the shared arrays end as they began."""
    d = _inputs(1)
    before = {k: v.copy() for k, v in d.items()}
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: _work(d, 2), range(8)))
    for k, v in d.items():
        np.testing.assert_array_equal(v, before[k])


def _calls():
    """Small calls, each path once: successes, in-place gradients and error paths."""
    rng = np.random.default_rng(3)
    yb = rng.integers(0, 2, 64).astype(np.float64)
    xb = rng.standard_normal(64)
    g = np.empty(64)
    yc = rng.integers(0, 5, 16)
    xc = rng.standard_normal((16, 5))
    gc_ = np.empty((16, 5))
    bad_label = yb.copy()
    bad_label[7] = 3.0
    bad_class = yc.copy()
    bad_class[2] = 9
    nan_x = xb.copy()
    nan_x[5] = np.nan

    def expect_error(f, *args, **kwargs):
        try:
            f(*args, **kwargs)
        except (ValueError, TypeError):
            return
        raise AssertionError("no error")

    return [
        lambda: crossent.binary_cross_entropy(yb, xb, kind="logit"),
        lambda: crossent.binary_cross_entropy_with_grad(yb, xb, kind="logit", out=g),
        lambda: crossent.binary_logistic_grad_hess(yb, xb),
        lambda: crossent.binary_cross_entropy(yb[:1], xb[:1], kind="logit"),
        lambda: crossent.categorical_cross_entropy_with_grad(yc, xc, kind="logit", out=gc_),
        lambda: crossent.categorical_cross_entropy(yc, xc, kind="logit", label_smoothing=0.1,
                                                   reduction="none"),
        lambda: crossent.log_loss(yb, 1 / (1 + np.exp(-xb))),
        lambda: expect_error(crossent.binary_cross_entropy, bad_label, xb, kind="logit"),
        lambda: expect_error(crossent.binary_cross_entropy, yb, nan_x, kind="logit",
                             nan_policy="raise"),
        lambda: expect_error(crossent.binary_cross_entropy, yb, xb, kind="nope"),
        lambda: expect_error(crossent.binary_cross_entropy_with_grad, yb, xb, out=g[:3]),
        lambda: expect_error(crossent.categorical_cross_entropy, bad_class, xc, kind="logit"),
        lambda: expect_error(crossent.categorical_cross_entropy, yc, xc.astype(complex)),
        lambda: expect_error(crossent.log_loss, yb, xb),
        lambda: expect_error(crossent.binary_cross_entropy, yb, xb, n_threads=0),
    ]


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(SANITIZED, reason="the sanitizers' own allocations grow by design")
def test_memory_stays_flat_over_many_calls():
    """10^5 calls of every path above, errors included: Python's allocations (tracemalloc)
    and the process's resident set stay flat; a leak of a few bytes a call would show."""
    calls = _calls()
    rounds = 100_000 // len(calls) + 1
    for f in calls * 200:  # warm up caches, pools and lazily created objects
        f()
    gc.collect()
    tracemalloc.start()
    try:
        rss0 = _rss_bytes() if os.path.exists("/proc/self/statm") else None
        py0 = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            for f in calls:
                f()
        gc.collect()
        py1 = tracemalloc.get_traced_memory()[0]
        rss1 = _rss_bytes() if rss0 is not None else None
    finally:
        tracemalloc.stop()
    n_calls = rounds * len(calls)
    assert n_calls >= 100_000
    assert py1 - py0 < 64 * 1024, f"Python allocations grew {py1 - py0} bytes over {n_calls} calls"
    if rss0 is not None:
        assert rss1 - rss0 < 8 * 2**20, f"RSS grew {rss1 - rss0} bytes over {n_calls} calls"


def _available_memory():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@pytest.mark.skipif(SANITIZED, reason="9 GB under the sanitizers' shadow memory is too much")
@pytest.mark.skipif(crossent.backend == "numpy",
                    reason="the numpy backend computes in float64 temporaries: several times 9 GB")
@pytest.mark.skipif(_available_memory() < 14 * 2**30, reason="needs about 9 GB of free memory")
def test_more_than_2_31_elements():
    """A float32 (32772, 65536) array of logits, 2^31 + 262,144 elements (8.6 GB), with uint8
    labels: element offsets beyond 2^31 are read and written correctly. Loss per row, then the
    gradient written in place, checked against hand-computed values in the rows past 2^31."""
    n, c = 32772, 65536
    assert n * c > 2**31
    x = np.zeros((n, c), np.float32)
    y = np.zeros(n, np.uint8)
    y[-1], x[-1, 200] = 200, 30.0  # a confident correct row, at offsets past 2^31
    x[-2, -1] = 30.0               # a confident wrong row: its last element is the last one
    confident = math.log1p((c - 1) * math.exp(-30.0))
    loss = crossent.categorical_cross_entropy(y, x, kind="logit", reduction="none",
                                              n_threads=-1)
    eps = float(np.finfo(np.float32).eps)  # a float: pytest.approx refuses a numpy rel
    np.testing.assert_allclose(loss[:-2], math.log(c), rtol=2 * eps)
    assert loss[-1] == pytest.approx(confident, rel=8 * eps)
    assert loss[-2] == pytest.approx(30.0 + confident, rel=2 * eps)
    total, grad = crossent.categorical_cross_entropy_with_grad(
        y, x, kind="logit", reduction="sum", n_threads=-1, out=x)
    assert grad is x
    assert total == pytest.approx((n - 2) * math.log(c) + 30.0 + 2 * confident, rel=1e-12)
    p_other = math.exp(-30.0) / (1 + (c - 1) * math.exp(-30.0))
    assert grad[-1, 200] == pytest.approx(-(c - 1) * p_other, rel=8 * eps)
    assert grad[-1, 0] == pytest.approx(p_other, rel=8 * eps)
    assert grad[-2, -1] == pytest.approx(1 - p_other, rel=8 * eps)
    assert grad[-2, 0] == pytest.approx(p_other - 1, rel=8 * eps)
    np.testing.assert_allclose(grad[n // 2, :3], [1 / c - 1, 1 / c, 1 / c], rtol=2 * eps)
