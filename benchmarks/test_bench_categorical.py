"""pytest-benchmark suite: categorical (softmax) cross-entropy, loss + gradient, against the peers.

Shapes come from CROSSENT_CAT_SHAPES ("n x C" pairs, comma-separated; default
"100000x10,2000x1000,64x50257"), float32 logits with integer labels. Peers: PyTorch's
``cross_entropy`` forward + backward, scikit-learn's ``HalfMultinomialLoss.loss_gradient``, and
the numpy/scipy expression with ``scipy.special.logsumexp`` (loss) and the softmax it implies
(gradient). Compare within a group only; ``benchmarks/interleaved.py --categorical`` measures
the same calls in interleaved rounds for the README's ratio table.
"""

import importlib.util
import os

import numpy as np
import pytest

import crossent

SHAPES = [tuple(int(float(v)) for v in s.split("x")) for s in
          os.environ.get("CROSSENT_CAT_SHAPES", "100000x10,2000x1000,64x50257").split(",")]
HAVE = {name: importlib.util.find_spec(name) is not None for name in ("sklearn", "torch", "scipy")}
CAT_PEERS = [p for p in ["crossent", "crossent-2threads", "torch", "sklearn", "scipy"]
             if HAVE.get(p.split("-")[0], True)]


def cat_data(n, c, dtype=np.float32):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, c)) * 3).astype(dtype), rng.integers(0, c, n)


def make_cat_call(peer, x, y):
    """One call of each peer computing the mean loss and its gradient with respect to x."""
    n, c = x.shape
    g = np.empty_like(x)
    if peer == "crossent":
        return lambda: crossent.categorical_cross_entropy_with_grad(y, x, kind="logit", out=g)
    if peer == "crossent-2threads":
        return lambda: crossent.categorical_cross_entropy_with_grad(y, x, kind="logit", out=g,
                                                                    n_threads=2)
    if peer == "sklearn":
        from sklearn._loss.loss import HalfMultinomialLoss

        loss = HalfMultinomialLoss(n_classes=c)
        yf, lo = y.astype(x.dtype), np.empty(n, dtype=x.dtype)
        return lambda: loss.loss_gradient(yf, x, loss_out=lo, gradient_out=g, n_threads=1)
    if peer == "scipy":
        from scipy.special import logsumexp

        rows = np.arange(n)

        def call():
            lse = logsumexp(x, axis=1)
            loss = np.mean(lse - x[rows, y])
            np.exp(x - lse[:, None].astype(x.dtype), out=g)
            g[rows, y] -= 1
            np.divide(g, n, out=g)
            return loss

        return call
    import torch

    torch.set_num_threads(1)
    tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y)

    def call():
        t = tx.requires_grad_()
        t.grad = None
        torch.nn.functional.cross_entropy(t, ty).backward()
        return t.grad

    return call


@pytest.mark.parametrize("peer", CAT_PEERS)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}x{c}" for n, c in SHAPES])
def test_categorical_loss_grad(benchmark, peer, shape):
    x, y = cat_data(*shape)
    benchmark.group = f"categorical logit float32 {shape[0]}x{shape[1]}"
    benchmark.extra_info.update(kind="categorical", peer=peer, n=shape[0], c=shape[1],
                                dtype="float32")
    result = benchmark(make_cat_call(peer, x, y))
    assert result is not None
