"""Agreement with PyTorch and scikit-learn (skipped where they are not installed)."""

import numpy as np
import pytest
from conftest import random_binary


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_torch_bce_with_logits(api, reduction, weighted, soft):
    torch = _torch()
    rng = np.random.default_rng(11)
    n, k = 64, 4
    x = rng.standard_normal((n, k)) * 5
    y = rng.random((n, k)) if soft else (rng.random((n, k)) < 0.3).astype(np.float64)
    w = rng.random(n) * 2 if weighted else None
    pw = np.array([0.5, 1.0, 2.0, 7.0])
    tx = torch.from_numpy(x.copy()).requires_grad_()
    tw = None if w is None else torch.from_numpy(w[:, None])
    # torch's "mean" divides by n * k whatever the weights; crossent's by sum(w) * k
    t_red = "sum" if reduction == "mean" else reduction
    t_loss = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, torch.from_numpy(y), weight=tw, pos_weight=torch.from_numpy(pw), reduction=t_red)
    denom = (k * w.sum() if w is not None else n * k) if reduction == "mean" else 1.0
    t_loss = t_loss / denom
    t_loss.sum().backward()
    loss, grad = api.binary_cross_entropy_with_grad(
        y, x, kind="logit", sample_weight=w, pos_weight=pw, reduction=reduction)
    # torch's formulas cancel (sigma(x) - y; x - x y + log1p terms): it is accurate only to
    # a few eps * |x| absolute, so that is the tolerance where its value is small
    eps = 2.0**-52
    np.testing.assert_allclose(loss, t_loss.detach().numpy(), rtol=1e-13,
                               atol=8 * eps * np.abs(x).max() * pw.max() / denom)
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-12, atol=8 * eps * pw.max() / denom)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_torch_bce_probabilities(api, dtype, reduction):
    torch = _torch()
    rng = np.random.default_rng(12)
    y, p = random_binary(rng, (200,), dtype, "probability")
    p = np.clip(p, 1e-3, 1 - 1e-3)  # torch clamps log at -100 instead of clipping p
    tp = torch.from_numpy(p.copy()).requires_grad_()
    t_loss = torch.nn.functional.binary_cross_entropy(tp, torch.from_numpy(y), reduction=reduction)
    t_loss.backward()
    loss, grad = api.binary_cross_entropy_with_grad(y, p, reduction=reduction)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(loss, t_loss.item(), rtol=rtol)
    np.testing.assert_allclose(grad, tp.grad.numpy(), rtol=rtol)


def test_torch_log_probabilities_via_logsigmoid(api):
    torch = _torch()
    rng = np.random.default_rng(13)
    y, x = random_binary(rng, (100,), np.float64, "logit")
    tx = torch.from_numpy(x.copy()).requires_grad_()
    a = torch.nn.functional.logsigmoid(tx)  # log p; the loss in terms of a is the logit loss
    t_loss = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.from_numpy(y))
    t_loss.backward()
    a_np = a.detach().numpy()
    loss, grad_a = api.binary_cross_entropy_with_grad(y, a_np, kind="log_probability")
    np.testing.assert_allclose(loss, t_loss.item(), rtol=1e-13)
    # chain rule: d loss / d x = d loss / d a * sigma(-x)
    np.testing.assert_allclose(grad_a / (1 + np.exp(x)), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_sklearn_half_binomial_loss(api, dtype, weighted):
    loss_mod = pytest.importorskip("sklearn._loss.loss")
    rng = np.random.default_rng(14)
    y, x = random_binary(rng, (500,), dtype, "logit")
    w = rng.random(500).astype(dtype) if weighted else None
    sk_loss, sk_grad = loss_mod.HalfBinomialLoss().loss_gradient(y, x, sample_weight=w)
    _, hess = loss_mod.HalfBinomialLoss().gradient_hessian(y, x, sample_weight=w)
    loss, grad = api.binary_cross_entropy_with_grad(y, x, kind="logit", sample_weight=w,
                                                    reduction="none")
    g2, h2 = api.binary_logistic_grad_hess(y, x, sample_weight=w)
    rtol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(loss, sk_loss, rtol=rtol)
    np.testing.assert_allclose(grad, sk_grad, rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(g2, sk_grad, rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(h2, hess, rtol=rtol, atol=1e-30)


def test_sklearn_log_loss(api):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(15)
    y, p = random_binary(rng, (1000,), np.float64, "probability")
    w = rng.random(1000)
    for kwargs in ({}, {"sample_weight": w}):
        expected = metrics.log_loss(y, p, **kwargs)
        assert api.binary_cross_entropy(y, p, **kwargs) == pytest.approx(expected, rel=1e-13)
    assert api.binary_cross_entropy(y, p, reduction="sum") == pytest.approx(
        metrics.log_loss(y, p, normalize=False), rel=1e-13)
