"""The numpy categorical pass (``reference.categorical_kernel``) against PyTorch's
``cross_entropy`` / ``nll_loss`` with autograd, mpmath on confident rows, and finite
differences. The public categorical functions build on this kernel."""

import itertools

import mpmath as mp
import numpy as np
import pytest

from crossent._api import KINDS, NAN_POLICIES
from crossent.reference import categorical_kernel

torch = pytest.importorskip("torch")
F = torch.nn.functional

PROPAGATE = NAN_POLICIES["propagate"]


def run(kind, x, labels=None, targets=None, sample_weight=None, class_weight=None,
        ignore_index=None, label_smoothing=0.0, clip=(0.0, 1.0), nan_policy=PROPAGATE):
    """The kernel's sum, the "mean" denominator (torch's, computed here), the first NaN,
    the unscaled gradient and the per-row losses."""
    grad, loss = np.empty_like(x), np.empty(x.shape[0])
    total, nan_at = categorical_kernel(
        KINDS[kind], x, labels, targets, sample_weight, class_weight, ignore_index,
        label_smoothing, clip[0], clip[1], 1.0, nan_policy, grad, loss)
    n = x.shape[0]
    w = np.ones(n) if sample_weight is None else sample_weight
    if labels is not None:
        kept = np.ones(n, bool) if ignore_index is None else labels != ignore_index
        cw = np.ones(x.shape[1]) if class_weight is None else class_weight
        w = np.where(kept, w * cw[np.where(kept, labels, 0)], 0.0)
    if nan_policy == NAN_POLICIES["omit"]:
        w = np.where(np.isnan(x).any(axis=1), 0.0, w)
    return total, float(np.sum(w)), nan_at, grad, loss


def torch_ce(x, target, class_weight, ignore_index, smoothing, reduction):
    t = torch.tensor(x, requires_grad=True)
    kw = {"weight": None if class_weight is None else torch.tensor(class_weight),
          "label_smoothing": smoothing, "reduction": reduction}
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index
    out = F.cross_entropy(t, torch.tensor(target), **kw)
    (out.sum() if reduction == "none" else out).backward()
    return out.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("soft, weighted, ignore, smoothing", [
    case for case in itertools.product([False, True], [False, True], [False, True], [0.0, 0.2])
    if not (case[0] and case[2])  # torch has no ignore_index for soft targets
])
def test_logit_matches_torch(soft, weighted, ignore, smoothing):
    rng = np.random.default_rng(hash((soft, weighted, ignore, smoothing)) % 2**32)
    n, c = 40, 7
    x = rng.standard_normal((n, c)) * 3
    cw = rng.uniform(0.2, 3.0, c) if weighted else None
    if soft:
        target = rng.dirichlet(np.ones(c), n)
        labels, targets, ignore_index = None, target, None
    else:
        labels = rng.integers(0, c, n)
        ignore_index = -100 if ignore else None
        if ignore:
            labels[::5] = -100
        target, targets = labels, None
    total, denom, nan_at, grad, loss = run("logit", x, labels, targets, class_weight=cw,
                                           ignore_index=ignore_index, label_smoothing=smoothing)
    assert nan_at == -1
    t_none, _ = torch_ce(x, target, cw, ignore_index, smoothing, "none")
    np.testing.assert_allclose(loss, t_none, rtol=1e-13, atol=1e-14)  # torch: lse - z
    t_sum, t_sum_grad = torch_ce(x, target, cw, ignore_index, smoothing, "sum")
    np.testing.assert_allclose(total, t_sum, rtol=1e-13)
    np.testing.assert_allclose(grad, t_sum_grad, rtol=1e-12, atol=1e-15)
    t_mean, t_mean_grad = torch_ce(x, target, cw, ignore_index, smoothing, "mean")
    np.testing.assert_allclose(total / denom, t_mean, rtol=1e-13)
    np.testing.assert_allclose(grad / denom, t_mean_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["probability", "log_probability"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_kinds_match_torch(kind, weighted):
    rng = np.random.default_rng(7)
    n, c = 30, 5
    logp = np.log(rng.dirichlet(np.ones(c), n))
    labels = rng.integers(0, c, n)
    cw = rng.uniform(0.2, 3.0, c) if weighted else None
    x = np.exp(logp) if kind == "probability" else logp
    clip = (1e-300, 1.0) if kind == "probability" else (-np.inf, 0.0)
    total, denom, _, grad, _ = run(kind, x, labels, class_weight=cw, clip=clip)
    t = torch.tensor(x, requires_grad=True)
    inp = torch.log(t) if kind == "probability" else t
    out = F.nll_loss(inp, torch.tensor(labels),
                     weight=None if cw is None else torch.tensor(cw), reduction="mean")
    out.backward()
    np.testing.assert_allclose(total / denom, out.item(), rtol=1e-13)
    np.testing.assert_allclose(grad / denom, t.grad.numpy(), rtol=1e-12)


def test_sample_weight_scales_rows():
    rng = np.random.default_rng(3)
    n, c = 25, 4
    x = rng.standard_normal((n, c))
    labels = rng.integers(0, c, n)
    cw = rng.uniform(0.5, 2.0, c)
    sw = rng.uniform(0.0, 2.0, n)
    total, denom, _, grad, loss = run("logit", x, labels, sample_weight=sw, class_weight=cw)
    t_none, t_grad = torch_ce(x, labels, cw, None, 0.0, "none")
    np.testing.assert_allclose(loss, sw * t_none, rtol=1e-13)
    np.testing.assert_allclose(total, np.sum(sw * t_none), rtol=1e-13)
    # torch's per-row gradient of sum(loss) is that row's gradient alone: scale it by sw
    np.testing.assert_allclose(grad, sw[:, None] * t_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("margin", [10.0, 30.0, 100.0, 700.0, 1e4])
def test_confident_rows_keep_relative_precision(margin):
    """Label at the maximum, every other class margin + j below it: the loss is tiny and the
    target-class gradient is -(1 - p_y); both to a few ULP of mpmath at 50 digits."""
    mp.mp.dps = 50
    c = 6
    z = np.array([[0.0] + [-(margin + j) for j in range(c - 1)]])
    _, _, _, grad, loss = run("logit", z, np.array([0]))
    zm = [mp.mpf(v) for v in z[0]]
    rest = mp.fsum(mp.exp(v - zm[0]) for v in zm[1:])  # exact to 50 digits, however small
    want_loss = mp.log1p(rest)
    want_grad = -rest / (1 + rest)
    if float(want_loss) == 0.0:
        assert loss[0] == 0.0 and grad[0, 0] == 0.0
        return
    ulp = np.spacing(abs(float(want_loss)))
    assert abs(loss[0] - float(want_loss)) <= 2 * ulp
    assert abs(grad[0, 0] - float(want_grad)) <= 2 * np.spacing(abs(float(want_grad)))


def test_masked_classes_give_finite_results():
    x = np.array([[2.0, -np.inf, 0.5, -np.inf], [-np.inf, 1.0, -np.inf, -np.inf]])
    total, denom, nan_at, grad, loss = run("logit", x, np.array([0, 1]))
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad)) and nan_at == -1
    want0 = np.log1p(np.exp(-1.5))
    np.testing.assert_allclose(loss, [want0, 0.0], rtol=1e-15)
    assert grad[0, 1] == 0.0 and grad[0, 3] == 0.0 and np.all(grad[1] == 0.0)


def test_gradient_is_the_derivative_of_the_loss():
    """Central finite differences of the summed loss, soft targets with smoothing."""
    rng = np.random.default_rng(11)
    n, c = 6, 5
    x = rng.standard_normal((n, c))
    targets = rng.dirichlet(np.ones(c), n)
    cw = rng.uniform(0.5, 2.0, c)
    sw = rng.uniform(0.5, 2.0, n)
    opts = dict(targets=targets, sample_weight=sw, class_weight=cw, label_smoothing=0.1)
    _, _, _, grad, _ = run("logit", x, **opts)
    h = 1e-6
    for i, j in itertools.product(range(n), range(c)):
        up, down = x.copy(), x.copy()
        up[i, j] += h
        down[i, j] -= h
        fd = (run("logit", up, **opts)[0] - run("logit", down, **opts)[0]) / (2 * h)
        assert abs(fd - grad[i, j]) <= 1e-7 * max(1.0, abs(fd))


def test_nan_rows_follow_nan_policy():
    x = np.array([[0.0, 1.0], [np.nan, 0.0], [1.0, 2.0]])
    labels = np.array([0, 1, 1])
    total, denom, nan_at, _, loss = run("logit", x, labels)
    assert nan_at == 2 and np.isnan(total) and np.isnan(loss[1]) and denom == 3.0
    total, denom, nan_at, grad, loss = run("logit", x, labels,
                                           nan_policy=NAN_POLICIES["omit"])
    assert nan_at == 2 and denom == 2.0 and loss[1] == 0.0 and np.all(grad[1] == 0.0)
    np.testing.assert_allclose(total, np.log1p(np.exp(1.0)) + np.log1p(np.exp(-1.0)),
                               rtol=1e-15)
