"""pytest-benchmark suite: binary logit loss + gradient against the peers, grouped by dtype and n.

Sizes come from CROSSENT_BENCH_SIZES (comma-separated, default "1,1000,100000"); CI runs it
with --benchmark-disable as a smoke test. Compare within a group only: one run, same arrays.
"""

import importlib.util
import os

import numpy as np
import pytest

import crossent
from crossent import reference

SIZES = [int(float(s)) for s in os.environ.get("CROSSENT_BENCH_SIZES", "1,1000,100000").split(",")]
PEERS = ["crossent", "numpy-ref", "np.subtract"]
if importlib.util.find_spec("sklearn"):
    PEERS.append("sklearn")
if importlib.util.find_spec("torch"):
    PEERS.append("torch")


def _make_call(peer, x, y):
    g = np.empty_like(x)
    if peer == "crossent":
        return lambda: crossent.binary_cross_entropy_with_grad(y, x, kind="logit", out=g)
    if peer == "numpy-ref":
        return lambda: reference.binary_cross_entropy_with_grad(y, x, kind="logit", out=g)
    if peer == "np.subtract":
        return lambda: np.subtract(x, y, out=g)
    if peer == "sklearn":
        from sklearn._loss.loss import HalfBinomialLoss

        loss, lo = HalfBinomialLoss(), np.empty_like(x)
        return lambda: loss.loss_gradient(y, x, loss_out=lo, gradient_out=g)
    import torch

    torch.set_num_threads(1)
    tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y)

    def call():
        t = tx.requires_grad_()
        t.grad = None
        torch.nn.functional.binary_cross_entropy_with_logits(t, ty).backward()
        return t.grad

    return call


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_binary_logit_loss_grad(benchmark, dtype, n, peer):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 4).astype(dtype)
    y = (rng.random(n) < 0.5).astype(dtype)
    benchmark.group = f"binary logit {np.dtype(dtype).name} n={n}"
    result = benchmark(_make_call(peer, x, y))
    assert result is not None
