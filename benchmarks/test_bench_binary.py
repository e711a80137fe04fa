"""pytest-benchmark suite: binary loss + gradient against the peers, one group per kind, dtype, n.

Sizes come from CROSSENT_BENCH_SIZES (comma-separated; default "1,1000,100000,10000000"). CI
runs tiny sizes with --benchmark-disable as a smoke test. Compare within a group only (one run,
the same arrays); `python benchmarks/ratio_table.py RUN.json` turns a saved run
(--benchmark-json=RUN.json) into the ratio table of the README.
"""

import importlib.util
import os

import numpy as np
import pytest

import crossent
from crossent import reference

SIZES = [int(float(s)) for s in
         os.environ.get("CROSSENT_BENCH_SIZES", "1,1000,100000,10000000").split(",")]
HAVE = {name: importlib.util.find_spec(name) is not None for name in ("sklearn", "torch", "numba")}
PEERS = {
    "logit": ["crossent", "crossent-2threads", "numpy-ref", "np.subtract", "sklearn", "torch",
              "numba"],
    "probability": ["crossent", "numpy-ref", "np.subtract", "torch", "numba"],
    "log_probability": ["crossent", "numpy-ref", "np.subtract", "numba"],
}
CASES = [(kind, peer) for kind, peers in PEERS.items() for peer in peers
         if HAVE.get(peer.split("-")[0], True)]


def _data(kind, n, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n) * 4
    if kind == "probability":
        x = 1 / (1 + np.exp(-x))
    elif kind == "log_probability":
        x = -np.logaddexp(0, -x)
    return x.astype(dtype), (rng.random(n) < 0.5).astype(dtype)


_NUMBA = {}


def _numba_kernels():
    """What a numba user writes: one fused loop with the usual stable formulas."""
    if not _NUMBA:
        import numba

        @numba.njit(cache=False)
        def logit(x, y, g):
            n = x.size
            s = 0.0
            for i in range(n):
                e = np.exp(-abs(x[i]))
                s += max(x[i], 0.0) - x[i] * y[i] + np.log1p(e)
                sig = 1.0 / (1.0 + e) if x[i] >= 0 else e / (1.0 + e)
                g[i] = (sig - y[i]) / n
            return s / n

        @numba.njit(cache=False)
        def probability(p, y, g):
            n = p.size
            eps = np.finfo(p.dtype).eps
            s = 0.0
            for i in range(n):
                q = min(max(p[i], eps), 1 - eps)
                s -= y[i] * np.log(q) + (1 - y[i]) * np.log1p(-q)
                g[i] = ((1 - y[i]) / (1 - q) - y[i] / q) / n
            return s / n

        @numba.njit(cache=False)
        def log_probability(a, y, g):
            n = a.size
            s = 0.0
            for i in range(n):
                s -= y[i] * a[i] + (1 - y[i]) * np.log(-np.expm1(a[i]))
                g[i] = ((1 - y[i]) / np.expm1(-a[i]) - y[i]) / n
            return s / n

        _NUMBA.update(logit=logit, probability=probability, log_probability=log_probability)
    return _NUMBA


def _make_call(kind, peer, x, y):
    g = np.empty_like(x)
    if peer == "crossent":
        return lambda: crossent.binary_cross_entropy_with_grad(y, x, kind=kind, out=g)
    if peer == "crossent-2threads":
        return lambda: crossent.binary_cross_entropy_with_grad(y, x, kind=kind, out=g,
                                                               n_threads=2)
    if peer == "numpy-ref":
        return lambda: reference.binary_cross_entropy_with_grad(y, x, kind=kind, out=g)
    if peer == "np.subtract":
        return lambda: np.subtract(x, y, out=g)
    if peer == "sklearn":
        from sklearn._loss.loss import HalfBinomialLoss

        loss, lo = HalfBinomialLoss(), np.empty_like(x)
        return lambda: loss.loss_gradient(y, x, loss_out=lo, gradient_out=g)
    if peer == "numba":
        fn = _numba_kernels()[kind]
        fn(x, y, g)  # compile outside the timing
        return lambda: fn(x, y, g)
    import torch

    torch.set_num_threads(1)
    tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y)
    loss_fn = (torch.nn.functional.binary_cross_entropy_with_logits if kind == "logit"
               else torch.nn.functional.binary_cross_entropy)

    def call():
        t = tx.requires_grad_()
        t.grad = None
        loss_fn(t, ty).backward()
        return t.grad

    return call


@pytest.mark.parametrize("kind, peer", CASES, ids=[f"{k}-{p}" for k, p in CASES])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_binary_loss_grad(benchmark, kind, peer, n, dtype):
    x, y = _data(kind, n, dtype)
    benchmark.group = f"binary {kind} {np.dtype(dtype).name} n={n}"
    benchmark.extra_info.update(kind=kind, peer=peer, n=n, dtype=np.dtype(dtype).name)
    result = benchmark(_make_call(kind, peer, x, y))
    assert result is not None
