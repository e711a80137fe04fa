"""crossent.gbdt: objectives and metrics for XGBoost and LightGBM.

Oracles: the libraries' built-in objectives trained on the same data (margins and accuracy),
scikit-learn's log_loss, and finite differences of the loss written out in numpy. The models
are small (a few hundred rows, ten to twenty trees, one thread) so the file runs in seconds.
"""

import doctest
import subprocess
import sys

import numpy as np
import pytest

from crossent import gbdt

ROUNDS = 10


def _xgb():
    return pytest.importorskip("xgboost")


def _lgb():
    return pytest.importorskip("lightgbm")


def _classification(n_classes, n_samples=400, seed=0):
    datasets = pytest.importorskip("sklearn.datasets")
    return datasets.make_classification(n_samples=n_samples, n_features=8, n_informative=5,
                                        n_classes=n_classes, random_state=seed)


def _weights(n, seed=1):
    return np.random.default_rng(seed).uniform(0.2, 2.0, n)


def _sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=np.float64)))


def _softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_loss(y, proba, sample_weight=None):
    metrics = pytest.importorskip("sklearn.metrics")
    return metrics.log_loss(y, proba, sample_weight=sample_weight)


# --- the objectives against finite differences of the loss -------------------------------------

def _binary_loss(y, x, w, pw):
    """w·(pw·y·softplus(-x) + (1-y)·softplus(x)) per element, the weighted logistic loss."""
    return w * (pw * y * np.logaddexp(0, -x) + (1 - y) * np.logaddexp(0, x))


def _softmax_loss(labels, z, w):
    """w·(logsumexp(z) - z[label]) per row."""
    return w * (np.logaddexp.reduce(z, axis=1) - z[np.arange(len(labels)), labels])


def _differences(loss, x, step):
    """Central first and second differences of a loss along x + step (step zero or h)."""
    h1, h2 = 1e-5, 1e-3  # balance truncation against rounding for each order
    d1 = (loss(x + h1 * step) - loss(x - h1 * step)) / (2 * h1)
    d2 = (loss(x + h2 * step) - 2 * loss(x) + loss(x - h2 * step)) / (h2 * h2)
    return d1, d2


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_binary_objective_finite_differences(weighted, pos_weight):
    rng = np.random.default_rng(3)
    n = 12
    x = rng.standard_normal(n) * 3
    y = np.concatenate([np.array([0.0, 1.0, 0.3]), (rng.random(n - 3) < 0.5).astype(float)])
    w = _weights(n) if weighted else None
    objective = (gbdt.binary_objective if pos_weight is None
                 else gbdt.make_binary_objective(pos_weight=pos_weight))
    grad, hess = objective(y, x, w)
    wf = np.ones(n) if w is None else w
    pw = 1.0 if pos_weight is None else pos_weight
    d1, d2 = _differences(lambda v: _binary_loss(y, v, wf, pw), x, np.ones(n))
    np.testing.assert_allclose(grad, d1, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(hess, d2, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n_classes", [2, 5])
def test_softmax_objective_finite_differences(weighted, n_classes):
    rng = np.random.default_rng(4)
    n = 10
    z = rng.standard_normal((n, n_classes)) * 2
    labels = rng.integers(0, n_classes, n)
    w = _weights(n) if weighted else None
    grad, hess = gbdt.softmax_objective(labels, z, w)
    wf = np.ones(n) if w is None else w
    d1, d2 = np.empty_like(z), np.empty_like(z)
    for j in range(n_classes):  # the rows are independent: move column j of every row at once
        step = np.zeros_like(z)
        step[:, j] = 1
        d1[:, j], d2[:, j] = _differences(lambda v: _softmax_loss(labels, v, wf), z, step)
    np.testing.assert_allclose(grad, d1, rtol=1e-7, atol=1e-9)
    # the diagonal of the hessian, scaled by C/(C-1) for per-class trees
    np.testing.assert_allclose(hess, n_classes / (n_classes - 1) * d2, rtol=1e-6,
                               atol=1e-8)


def test_softmax_hessian_of_confident_rows():
    # 1 - p of the label is about 2e-40 here: 1 - p computed from p would be 0
    z = np.array([[92.0, 0.0, 0.0], [0.0, -50.0, 0.0]])
    grad, hess = gbdt.softmax_objective(np.array([0, 1]), z)
    s = 2 * np.exp(-92.0)  # Σ of the other classes' e^(z - z_label) in row 0
    one_minus_p = s / (1 + s)
    np.testing.assert_allclose(grad[0], [-one_minus_p, one_minus_p / 2, one_minus_p / 2],
                               rtol=1e-14)
    np.testing.assert_allclose(hess[0, 0], 1.5 * one_minus_p / (1 + s), rtol=1e-14)
    p1 = np.exp(-50.0) / (2 + np.exp(-50.0))  # row 1: the label is the unlikely class
    np.testing.assert_allclose(hess[1, 1], 1.5 * p1 * (1 - p1), rtol=1e-14)
    np.testing.assert_allclose(grad[1, 1], p1 - 1, rtol=1e-15)


@pytest.mark.parametrize("objective", ["binary", "softmax"])
def test_objectives_keep_float32(objective):
    # XGBoost passes float32 scores and labels
    if objective == "binary":
        grad, hess = gbdt.binary_objective(np.array([1, 0], np.float32),
                                           np.array([0.5, -1.0], np.float32))
    else:
        grad, hess = gbdt.softmax_objective(np.array([1, 0], np.float32),
                                            np.zeros((2, 3), np.float32))
    assert grad.dtype == hess.dtype == np.float32


# --- bad input ---------------------------------------------------------------------------------

BAD_INPUT = [
    (gbdt.binary_objective, ([0, 1, 1], [0.0, 1.0]), {}, "y_true and raw_score must have the same"),
    (gbdt.binary_objective, ([0, 2], [0.0, 1.0]), {}, r"y_true must hold labels in \[0, 1\]"),
    (gbdt.binary_objective, ([0, 1], [0.0, 1.0]), {"sample_weight": [1.0]},
     r"sample_weight must have shape \(2,\)"),
    (gbdt.binary_objective, ([0, 1], [0.0, 1.0]), {"sample_weight": [1.0, -1.0]},
     r"sample_weight must be finite and >= 0; sample_weight\[1\] = -1.0"),
    (gbdt.binary_objective, (np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), {},
     r"raw_score must have shape \(n,\)"),
    (gbdt.softmax_objective, ([0, 1], [0.0, 1.0]), {}, r"raw_score must have shape \(n, C\)"),
    (gbdt.softmax_objective, ([0], np.zeros((1, 1))), {}, "C >= 2"),
    (gbdt.softmax_objective, ([0, 1, 1], np.zeros((2, 3))), {}, r"y_true must have shape \(2,\)"),
    (gbdt.softmax_objective, ([0, 3], np.zeros((2, 3))), {},
     r"y_true must hold labels in \[0, 3\); y_true\[1\] = 3"),
    (gbdt.softmax_objective, ([0, 1.5], np.zeros((2, 3))), {}, "y_true must hold integer labels"),
    (gbdt.softmax_objective, ([0, 1], np.zeros((2, 3))), {"sample_weight": [1.0, np.nan]},
     r"sample_weight must be finite and >= 0; sample_weight\[1\] = nan"),
    (gbdt.raw_log_loss, ([0, 1], np.zeros(3)), {}, "y_true and raw_score must have the same"),
    (gbdt.raw_log_loss, ([0, 5], np.zeros((2, 3))), {}, r"y_true must hold labels in \[0, 3\)"),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "message"), BAD_INPUT)
def test_bad_input_names_the_argument(function, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        function(*args, **kwargs)


@pytest.mark.parametrize("pos_weight", [0.0, -1.0, np.inf, np.nan])
def test_make_binary_objective_checks_pos_weight(pos_weight):
    with pytest.raises(ValueError, match="pos_weight must be finite and > 0"):
        gbdt.make_binary_objective(pos_weight=pos_weight)


def test_raw_scores_must_be_numbers():
    with pytest.raises(TypeError, match="raw_score must hold real numbers"):
        gbdt.binary_objective([0, 1], np.array(["a", "b"]))


# --- optional dependencies ---------------------------------------------------------------------

def test_import_does_not_import_the_libraries():
    code = ("import sys, crossent, crossent.gbdt; "
            "print(sorted(m for m in ('xgboost', 'lightgbm') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize(("adapter", "library"), [
    (gbdt.for_xgboost, "xgboost"), (gbdt.metric_for_xgboost, "xgboost"),
    (gbdt.for_lightgbm, "lightgbm"), (gbdt.metric_for_lightgbm, "lightgbm"),
])
def test_missing_library_raises_import_error(monkeypatch, adapter, library):
    monkeypatch.setitem(sys.modules, library, None)  # makes `import library` fail
    with pytest.raises(ImportError, match=rf'needs {library}.*pip install "crossent\[gbdt\]"'):
        adapter(gbdt.binary_objective)


def test_adapters_reject_arrays_for_data():
    # what XGBClassifier would pass if given for_xgboost(...) instead of the objective itself
    _xgb()
    _lgb()
    xgb_objective = gbdt.for_xgboost(gbdt.binary_objective)
    with pytest.raises(TypeError, match="must be of type xgboost.DMatrix, got ndarray"):
        xgb_objective(np.zeros(2), np.array([0.0, 1.0]))
    lgb_metric = gbdt.metric_for_lightgbm()
    with pytest.raises(TypeError, match="must be of type lightgbm.Dataset, got ndarray"):
        lgb_metric(np.zeros(2), np.array([0.0, 1.0]))


# --- XGBoost: margins against its built-in objectives ------------------------------------------

XGB_PARAMS = {"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_xgboost_binary_matches_builtin(weighted, pos_weight):
    xgb = _xgb()
    X, y = _classification(2)
    dtrain = xgb.DMatrix(X, label=y, weight=_weights(len(y)) if weighted else None, nthread=1)
    builtin = dict(XGB_PARAMS, objective="binary:logistic", base_score=0.5)  # margin 0
    if pos_weight is None:
        objective = gbdt.binary_objective
    else:
        builtin["scale_pos_weight"] = pos_weight
        objective = gbdt.make_binary_objective(pos_weight=pos_weight)
    theirs = xgb.train(builtin, dtrain, ROUNDS)
    ours = xgb.train(dict(XGB_PARAMS, base_score=0.0), dtrain, ROUNDS,
                     obj=gbdt.for_xgboost(objective))
    m_theirs = theirs.predict(dtrain, output_margin=True)
    m_ours = ours.predict(dtrain, output_margin=True)
    assert m_ours.shape == (len(y),)
    assert np.abs(m_theirs).max() > 1  # the models learnt something
    np.testing.assert_allclose(m_ours, m_theirs, rtol=0, atol=1e-5)


def test_xgboost_multilabel_matches_builtin():
    # k binary targets: labels and margins of shape (n, k), one tree per target and round
    xgb = _xgb()
    rng = np.random.default_rng(6)
    X = rng.standard_normal((300, 4))
    Y = (X[:, :3] + 0.5 * rng.standard_normal((300, 3)) > 0).astype(np.float64)
    dtrain = xgb.DMatrix(X, label=Y, nthread=1)
    theirs = xgb.train(dict(XGB_PARAMS, objective="binary:logistic", base_score=0.5), dtrain,
                       ROUNDS)
    objective = gbdt.make_binary_objective(pos_weight=np.array([1.0, 1.0, 1.0]))
    ours = xgb.train(dict(XGB_PARAMS, base_score=0.0), dtrain, ROUNDS,
                     obj=gbdt.for_xgboost(objective))
    m_ours = ours.predict(dtrain, output_margin=True)
    assert m_ours.shape == (300, 3)
    np.testing.assert_allclose(m_ours, theirs.predict(dtrain, output_margin=True), rtol=0,
                               atol=1e-5)


def test_xgboost_softmax_two_classes_matches_softprob():
    # with two classes C/(C-1) = 2 is XGBoost's own factor, so the models agree exactly
    xgb = _xgb()
    X, y = _classification(2)
    dtrain = xgb.DMatrix(X, label=y, weight=_weights(len(y)), nthread=1)
    params = dict(XGB_PARAMS, num_class=2, base_score=0.0)
    theirs = xgb.train(dict(params, objective="multi:softprob"), dtrain, ROUNDS)
    ours = xgb.train(params, dtrain, ROUNDS, obj=gbdt.for_xgboost(gbdt.softmax_objective))
    m_ours = ours.predict(dtrain, output_margin=True)
    assert m_ours.shape == (len(y), 2)
    np.testing.assert_allclose(m_ours, theirs.predict(dtrain, output_margin=True), rtol=0,
                               atol=1e-5)


def test_xgboost_softmax_accuracy_matches_softprob():
    xgb = _xgb()
    X, y = _classification(3, n_samples=2400)
    dtrain = xgb.DMatrix(X[:400], label=y[:400], nthread=1)
    dtest = xgb.DMatrix(X[400:], nthread=1)
    params = dict(XGB_PARAMS, num_class=3)
    theirs = xgb.train(dict(params, objective="multi:softprob"), dtrain, 15)
    ours = xgb.train(dict(params, base_score=0.0), dtrain, 15,
                     obj=gbdt.for_xgboost(gbdt.softmax_objective))
    acc_theirs = np.mean(theirs.predict(dtest).argmax(axis=1) == y[400:])
    acc_ours = np.mean(ours.predict(dtest, output_margin=True).argmax(axis=1) == y[400:])
    assert acc_theirs > 0.6
    assert abs(acc_ours - acc_theirs) <= 0.02, (acc_ours, acc_theirs)


# --- LightGBM: raw scores against its built-in objectives --------------------------------------

LGB_PARAMS = {"num_leaves": 8, "learning_rate": 0.3, "num_threads": 1, "seed": 0,
              "deterministic": True, "verbose": -1}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_lightgbm_binary_matches_builtin(weighted, pos_weight):
    lgb = _lgb()
    X, y = _classification(2)
    w = _weights(len(y)) if weighted else None
    builtin = dict(LGB_PARAMS, objective="binary", boost_from_average=False)
    if pos_weight is None:
        objective = gbdt.binary_objective
    else:
        builtin["scale_pos_weight"] = pos_weight
        objective = gbdt.make_binary_objective(pos_weight=pos_weight)
    theirs = lgb.train(builtin, lgb.Dataset(X, label=y, weight=w), ROUNDS)
    ours = lgb.train(dict(LGB_PARAMS, objective=gbdt.for_lightgbm(objective)),
                     lgb.Dataset(X, label=y, weight=w), ROUNDS)
    r_theirs = theirs.predict(X, raw_score=True)
    assert np.abs(r_theirs).max() > 1
    np.testing.assert_allclose(ours.predict(X, raw_score=True), r_theirs, rtol=0, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_lightgbm_softmax_matches_builtin_multiclass(weighted):
    # LightGBM's multiclass hessian is C/(C-1)·p·(1-p) too, so the models agree
    lgb = _lgb()
    X, y = _classification(3, n_samples=1400)
    w = _weights(400) if weighted else None
    params = dict(LGB_PARAMS, num_class=3)
    theirs = lgb.train(dict(params, objective="multiclass", boost_from_average=False),
                       lgb.Dataset(X[:400], label=y[:400], weight=w), ROUNDS)
    ours = lgb.train(dict(params, objective=gbdt.for_lightgbm(gbdt.softmax_objective)),
                     lgb.Dataset(X[:400], label=y[:400], weight=w), ROUNDS)
    r_theirs = theirs.predict(X[400:], raw_score=True)
    r_ours = ours.predict(X[400:], raw_score=True)
    assert r_ours.shape == (1000, 3)
    np.testing.assert_allclose(r_ours, r_theirs, rtol=0, atol=1e-6)
    acc_theirs = np.mean(r_theirs.argmax(axis=1) == y[400:])
    assert acc_theirs > 0.6
    assert np.mean(r_ours.argmax(axis=1) == y[400:]) == acc_theirs


# --- metrics against scikit-learn's log_loss ---------------------------------------------------

@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_raw_log_loss_matches_sklearn(n_classes, weighted):
    rng = np.random.default_rng(5)
    n = 50
    y = rng.integers(0, n_classes, n)
    w = _weights(n) if weighted else None
    if n_classes == 2:
        raw = rng.standard_normal(n) * 4
        proba = _sigmoid(raw)
    else:
        raw = rng.standard_normal((n, n_classes)) * 4
        proba = _softmax(raw)
    expected = _log_loss(y, proba, sample_weight=w)
    assert gbdt.raw_log_loss(y, raw, w) == pytest.approx(expected, rel=1e-12)
    assert gbdt.raw_log_loss(y, raw.astype(np.float32), w) == pytest.approx(
        _log_loss(y, _sigmoid(raw.astype(np.float32)) if n_classes == 2
                  else _softmax(raw.astype(np.float32)), sample_weight=w), rel=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_xgboost_metric_matches_sklearn(n_classes):
    xgb = _xgb()
    X, y = _classification(n_classes, n_samples=600)
    w = _weights(600).astype(np.float32)  # as the libraries store weights
    dtrain = xgb.DMatrix(X[:400], label=y[:400], weight=w[:400], nthread=1)
    dvalid = xgb.DMatrix(X[400:], label=y[400:], weight=w[400:], nthread=1)
    objective = gbdt.binary_objective if n_classes == 2 else gbdt.softmax_objective
    params = dict(XGB_PARAMS, base_score=0.0)
    if n_classes > 2:
        params["num_class"] = n_classes
    log = {}
    booster = xgb.train(params, dtrain, ROUNDS, obj=gbdt.for_xgboost(objective),
                        custom_metric=gbdt.metric_for_xgboost(), evals=[(dvalid, "valid")],
                        evals_result=log, verbose_eval=False)
    raw = booster.predict(dvalid, output_margin=True)
    proba = _sigmoid(raw) if n_classes == 2 else _softmax(raw)
    expected = _log_loss(y[400:], proba, sample_weight=w[400:])
    name, value = gbdt.metric_for_xgboost()(raw, dvalid)
    assert name == "raw_log_loss"
    assert value == pytest.approx(expected, rel=1e-12)
    # XGBoost logs custom metrics with six decimals
    assert log["valid"]["raw_log_loss"][-1] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_lightgbm_metric_matches_sklearn(n_classes):
    lgb = _lgb()
    X, y = _classification(n_classes, n_samples=600)
    w = _weights(600).astype(np.float32)  # as the libraries store weights
    dtrain = lgb.Dataset(X[:400], label=y[:400], weight=w[:400])
    dvalid = lgb.Dataset(X[400:], label=y[400:], weight=w[400:], reference=dtrain)
    objective = gbdt.binary_objective if n_classes == 2 else gbdt.softmax_objective
    params = dict(LGB_PARAMS, objective=gbdt.for_lightgbm(objective), metric="None")
    if n_classes > 2:
        params["num_class"] = n_classes
    log = {}
    feval = gbdt.metric_for_lightgbm(name="logloss_raw")
    booster = lgb.train(params, dtrain, ROUNDS, valid_sets=[dvalid], valid_names=["valid"],
                        feval=feval, callbacks=[lgb.record_evaluation(log)])
    raw = booster.predict(X[400:], raw_score=True)
    proba = _sigmoid(raw) if n_classes == 2 else _softmax(raw)
    expected = _log_loss(y[400:], proba, sample_weight=w[400:])
    assert feval(raw, dvalid) == ("logloss_raw", pytest.approx(expected, rel=1e-12), False)
    assert log["valid"]["logloss_raw"][-1] == pytest.approx(expected, rel=1e-12)


# --- the scikit-learn APIs ---------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_xgbclassifier_binary(weighted):
    xgb = _xgb()
    X, y = _classification(2, n_samples=600)
    w = _weights(400) if weighted else None
    common = {"n_estimators": ROUNDS, "max_depth": 3, "learning_rate": 0.3, "n_jobs": 1,
              "random_state": 0}
    theirs = xgb.XGBClassifier(objective="binary:logistic", base_score=0.5, scale_pos_weight=2.0,
                               **common)
    theirs.fit(X[:400], y[:400], sample_weight=w)
    ours = xgb.XGBClassifier(objective=gbdt.make_binary_objective(pos_weight=2.0),
                             eval_metric=gbdt.raw_log_loss, **common)
    ours.fit(X[:400], y[:400], sample_weight=w, eval_set=[(X[400:], y[400:])], verbose=False)
    proba = ours.predict_proba(X[400:])
    np.testing.assert_allclose(proba, theirs.predict_proba(X[400:]), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X[400:]), theirs.predict(X[400:]))
    logged = ours.evals_result()["validation_0"]["raw_log_loss"][-1]
    assert logged == pytest.approx(_log_loss(y[400:], proba[:, 1]), abs=1e-6)


def test_xgbclassifier_softmax():
    xgb = _xgb()
    X, y = _classification(3, n_samples=2400)
    common = {"n_estimators": 15, "max_depth": 3, "learning_rate": 0.3, "n_jobs": 1,
              "random_state": 0}
    w = _weights(400)
    theirs = xgb.XGBClassifier(objective="multi:softprob", **common)
    theirs.fit(X[:400], y[:400], sample_weight=w)
    ours = xgb.XGBClassifier(objective=gbdt.softmax_objective, **common)
    ours.fit(X[:400], y[:400], sample_weight=w)
    proba = ours.predict_proba(X[400:])
    assert proba.shape == (2000, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    acc_theirs = np.mean(theirs.predict(X[400:]) == y[400:])
    acc_ours = np.mean(proba.argmax(axis=1) == y[400:])
    assert abs(acc_ours - acc_theirs) <= 0.02, (acc_ours, acc_theirs)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_lgbmclassifier(n_classes, weighted):
    lgb = _lgb()
    X, y = _classification(n_classes)
    w = _weights(len(y)) if weighted else None
    common = {"n_estimators": ROUNDS, "num_leaves": 8, "learning_rate": 0.3, "n_jobs": 1,
              "random_state": 0, "deterministic": True, "verbose": -1}
    builtin = "binary" if n_classes == 2 else "multiclass"
    objective = gbdt.binary_objective if n_classes == 2 else gbdt.softmax_objective
    theirs = lgb.LGBMClassifier(objective=builtin, boost_from_average=False, **common)
    theirs.fit(X, y, sample_weight=w)
    ours = lgb.LGBMClassifier(objective=objective, **common).fit(X, y, sample_weight=w)
    # with a custom objective LightGBM returns raw scores, and warns unless asked for them
    raw = ours.predict(X, raw_score=True)
    assert raw.shape == ((len(y),) if n_classes == 2 else (len(y), n_classes))
    np.testing.assert_allclose(raw, theirs.predict(X, raw_score=True), rtol=0, atol=1e-6)


# --- docstring examples ------------------------------------------------------------------------

def test_docstring_examples():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    tests = finder.find(gbdt, "crossent.gbdt")  # the module and its functions
    assert sum(len(t.examples) for t in tests) >= 10
    for t in tests:
        runner.run(t)
    assert runner.failures == 0
