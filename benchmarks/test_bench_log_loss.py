"""pytest-benchmark suite: ``crossent.log_loss`` against ``sklearn.metrics.log_loss``.

Sizes come from CROSSENT_LOG_LOSS_SIZES (comma-separated, default "1000,1000000"). Cases: binary
integer labels with one column of probabilities, 10 integer classes with (n, 10) rows, and
string labels ("ham"/"spam"), all float64. ``benchmarks/interleaved.py --log-loss N`` measures
the same calls in interleaved rounds for the README.
"""

import importlib.util
import os

import numpy as np
import pytest

import crossent

SIZES = [int(float(s)) for s in os.environ.get("CROSSENT_LOG_LOSS_SIZES", "1000,1000000")
         .split(",")]
CASES = ["binary", "10 classes", "strings"]
LOG_LOSS_PEERS = ["crossent"] + (["sklearn"] if importlib.util.find_spec("sklearn") else [])


def log_loss_data(case, n):
    """(y_true, y_proba) for one case, with rows that sum to one."""
    rng = np.random.default_rng(0)
    if case == "10 classes":
        p = rng.random((n, 10)) + 0.01
        return rng.integers(0, 10, n), p / p.sum(axis=1, keepdims=True)
    y = rng.integers(0, 2, n)
    if case == "strings":
        y = np.array(["ham", "spam"])[y]
    return y, rng.random(n) * 0.98 + 0.01


def make_log_loss_call(peer, y, p):
    if peer == "crossent":
        return lambda: crossent.log_loss(y, p)
    from sklearn.metrics import log_loss

    return lambda: log_loss(y, p)


@pytest.mark.parametrize("peer", LOG_LOSS_PEERS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("n", SIZES)
def test_log_loss(benchmark, peer, case, n):
    y, p = log_loss_data(case, n)
    benchmark.group = f"log_loss {case} float64 n={n}"
    benchmark.extra_info.update(kind=f"log_loss {case}", peer=peer, n=n, dtype="float64")
    result = benchmark(make_log_loss_call(peer, y, p))
    assert result > 0
