"""LossAccumulator: any batching gives the one-call value; merge, pickle and bad input."""

import math
import pickle

import numpy as np
import pytest
from conftest import random_binary


def _splits(rng, n):
    """Batch boundaries: empty batches, single rows and uneven sizes."""
    cuts = sorted(rng.integers(0, n + 1, size=6).tolist() + [0, 0, 1, n, n])
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _binary_case(rng, kind, dtype, k):
    y, x = random_binary(rng, (300, k) if k > 1 else (300,), dtype, kind)
    w = rng.random(300) * 10 ** rng.uniform(-8, 8, 300)  # weights over 16 decades
    return y, x, w


@pytest.mark.parametrize("kind", ["probability", "logit", "log_probability"])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("options", [{}, {"pos_weight": 2.5, "label_smoothing": 0.1},
                                     {"nan_policy": "omit"}], ids=["plain", "pos", "omit"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_binary_batches_equal_one_call(api, dtype, kind, k, options, weighted):
    rng = np.random.default_rng(7)
    y, x, w = _binary_case(rng, kind, dtype, k)
    if options.get("nan_policy") == "omit":
        x[rng.random(x.shape) < 0.1] = np.nan
    sw = w if weighted else None
    for reduction in ("mean", "sum"):
        acc = api.LossAccumulator("binary", kind=kind, reduction=reduction, **options)
        for a, b in _splits(rng, len(y)):
            acc.update(y[a:b], x[a:b], None if sw is None else sw[a:b])
        one = api.binary_cross_entropy(y, x, kind=kind, sample_weight=sw,
                                       reduction=reduction, **options)
        assert acc.result() == pytest.approx(one, rel=1e-13, abs=0)
        assert acc.n_updates == len(_splits(np.random.default_rng(0), len(y)))


@pytest.mark.parametrize(("targets", "options"), [
    ("labels", {}), ("labels", {"class_weight": [0.5, 1, 2, 4]}),
    ("labels", {"ignore_index": -100, "label_smoothing": 0.2}),
    ("labels", {"nan_policy": "omit", "class_weight": [1, 1, 3, 0]}),
    ("soft", {}), ("soft", {"label_smoothing": 0.2}), ("soft", {"nan_policy": "omit"}),
], ids=["plain", "class_weight", "ignore_smooth", "omit", "soft", "soft_smooth", "soft_omit"])
def test_categorical_batches_equal_one_call(api, dtype, targets, options):
    rng = np.random.default_rng(8)
    n, c = 250, 4
    x = (rng.standard_normal((n, c)) * 4).astype(dtype)
    if targets == "labels":
        y = rng.integers(0, c, n)
        if "ignore_index" in options:
            y[rng.random(n) < 0.2] = -100
    else:
        y = rng.dirichlet(np.ones(c), n)
    if options.get("nan_policy") == "omit":
        x[rng.random(n) < 0.1, 1] = np.nan
    w = rng.random(n) * 10 ** rng.uniform(-8, 8, n)
    acc = api.LossAccumulator("categorical", kind="logit", **options)
    for a, b in _splits(rng, n):
        acc.update(y[a:b], x[a:b], w[a:b])
    one = api.categorical_cross_entropy(y, x, kind="logit", sample_weight=w, **options)
    assert acc.result() == pytest.approx(one, rel=1e-13, abs=0)


def test_result_is_the_exact_ratio_of_the_batch_sums(api):
    # an independent check of the combination: fsum of per-row losses over fsum of weights
    rng = np.random.default_rng(9)
    y, x = random_binary(rng, (1000,), np.float64, "logit")
    w = 10 ** rng.uniform(-12, 12, 1000)
    rows = api.binary_cross_entropy(y, x, kind="logit", reduction="none")
    expected = math.fsum((rows * w).tolist()) / math.fsum(w.tolist())
    acc = api.LossAccumulator("binary", kind="logit")
    for i in range(0, 1000, 7):
        acc.update(y[i:i + 7], x[i:i + 7], w[i:i + 7])
    assert acc.result() == pytest.approx(expected, rel=1e-13, abs=0)


def test_merge_across_pickles_equals_one_call(api):
    rng = np.random.default_rng(10)
    y, x = random_binary(rng, (400,), np.float32, "probability")
    parts = []
    for a, b in ((0, 100), (100, 101), (101, 400)):
        acc = api.LossAccumulator("binary", eps=1e-6)
        acc.update(y[a:b], x[a:b])
        parts.append(pickle.loads(pickle.dumps(acc)))  # as if from another process
    total = parts[0].merge(parts[1]).merge(parts[2])
    assert total is parts[0] and total.n_updates == 3
    one = api.binary_cross_entropy(y, x, eps=1e-6)
    assert total.result() == pytest.approx(one, rel=1e-13, abs=0)
    assert total.weight == 400
    assert type(total).__module__ == api.__name__


def test_merge_refuses_other_settings(api):
    a = api.LossAccumulator("binary", kind="logit")
    with pytest.raises(ValueError, match="different settings"):
        a.merge(api.LossAccumulator("binary", kind="logit", pos_weight=2.0))
    with pytest.raises(ValueError, match="different settings"):
        a.merge(api.LossAccumulator("binary", kind="probability"))
    with pytest.raises(TypeError, match="LossAccumulator"):
        a.merge(0.5)
    c = api.LossAccumulator("categorical", class_weight=np.array([1.0, 2.0]))
    c.merge(api.LossAccumulator("categorical", class_weight=[1, 2]))  # same values


def test_bad_settings_and_input(api):
    with pytest.raises(ValueError, match="loss must be"):
        api.LossAccumulator("hinge")
    with pytest.raises(ValueError, match="reduction must be"):
        api.LossAccumulator("binary", reduction="none")
    with pytest.raises(TypeError, match="class_weight"):
        api.LossAccumulator("binary", class_weight=[1, 2])
    acc = api.LossAccumulator("binary", kind="logistic")
    with pytest.raises(ValueError, match="kind"):
        acc.update([1], [0.5])
    acc = api.LossAccumulator("binary")
    with pytest.raises(ValueError, match="positive total weight"):
        acc.result()
    with pytest.raises(ValueError, match="y_true"):
        acc.update([2], [0.5])
    assert acc.n_updates == 0  # a rejected batch adds nothing
    acc.update([1], [0.5])
    assert acc.result() == pytest.approx(math.log(2), rel=1e-15)


def test_nan_and_inf_propagate(api):
    acc = api.LossAccumulator("binary", kind="logit")
    acc.update([1, 0], [np.inf, np.inf])
    assert acc.result() == math.inf
    acc.update([1], [np.nan])
    assert math.isnan(acc.result())
