"""crossent.dask against the in-memory functions, on the threaded scheduler and a local cluster.

Every lazy result is computed and compared with one in-memory call over the whole data, which
is the oracle here: the Dask functions must give its value (1e-12 relative) for any chunking.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import crossent  # noqa: E402
import crossent.dask as cd  # noqa: E402

RTOL = 1e-12


@pytest.fixture(scope="module")
def client():
    """Two worker processes on loopback, started once for the module."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                 host="127.0.0.1", dashboard_address=":0") as cluster,
        distributed.Client(cluster, set_as_default=False) as c,
    ):
        yield c


def threaded(*lazy):
    """Compute Dask objects together (sharing their common tasks) on the threaded scheduler."""
    return dask.compute(*lazy, scheduler="threads")


@pytest.fixture(params=["threads", "distributed"])
def compute(request):
    """Compute Dask objects together, on the threaded scheduler or the local cluster."""
    if request.param == "threads":
        return threaded
    c = request.getfixturevalue("client")

    def on_cluster(*lazy):
        return tuple(c.gather(c.compute(list(lazy))))

    return on_cluster


def assert_close(got, want, rtol=RTOL):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(invalid="ignore"):
        close = np.abs(got - want) <= rtol * np.abs(want)
    assert np.all(same | close), (got, want)


def chunked(a, rows, cols=None):
    """``a`` as a Dask array with the given row chunks (and column chunks for 2-D)."""
    if a.ndim == 1:
        return da.from_array(a, chunks=(rows,))
    return da.from_array(a, chunks=(rows, cols if cols is not None else a.shape[1]))


N = 23
# row chunkings of N rows: one chunk, chunks of one row, uneven (with a chunk of one row)
ROWS = {"whole": (N,), "ones": (1,) * N, "uneven": (5, 1, 9, 8)}


def binary_data(rng, dtype, kind, shape):
    y = (rng.random(shape) < 0.4).astype(dtype)
    x = rng.standard_normal(shape) * 4
    if kind == "probability":
        x = 1 / (1 + np.exp(-x))
    elif kind == "log_probability":
        x = -np.logaddexp(0, -x)
    return y, x.astype(dtype)


def categorical_data(rng, dtype, kind, n, c):
    z = rng.standard_normal((n, c)) * 3
    logp = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
    x = {"logit": z, "probability": np.exp(logp), "log_probability": logp}[kind]
    return rng.integers(0, c, n), x.astype(dtype)


# --------------------------------------------------------------------------- binary


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kind", ["probability", "logit", "log_probability"])
@pytest.mark.parametrize("rows", list(ROWS), ids=list(ROWS))
def test_binary_matches_in_memory(dtype, kind, rows):
    rng = np.random.default_rng(1)
    y, x = binary_data(rng, dtype, kind, N)
    w = rng.random(N) * 3
    w[3] = 0
    x[[4, 11]] = np.nan
    # y_true and the weights chunked differently from y_pred: aligned by crossent.dask
    yd, xd, wd = chunked(y, 4), chunked(x, ROWS[rows]), chunked(w, (20, 3))
    lazy, wanted = [], []
    for options in ({}, {"sample_weight": wd, "pos_weight": 2.5, "label_smoothing": 0.1}):
        weights = {"sample_weight": w} if "sample_weight" in options else {}
        for reduction in ("mean", "sum", "none"):
            kw = {**options, "kind": kind, "reduction": reduction, "nan_policy": "omit"}
            lazy.append(cd.binary_cross_entropy(yd, xd, **kw))
            wanted.append(crossent.binary_cross_entropy(y, x, **{**kw, **weights}))
    # without omit, the NaNs propagate, as in memory
    lazy.append(cd.binary_cross_entropy(yd, xd, kind=kind))
    wanted.append(np.nan)
    assert all(isinstance(r, da.Array) for r in lazy)
    for got, value, want in zip(lazy, threaded(*lazy), wanted, strict=True):
        assert_close(value, want)
        assert value.dtype == got.dtype == np.asarray(want).dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_binary_multilabel(dtype, compute):
    rng = np.random.default_rng(2)
    y, x = binary_data(rng, dtype, "logit", (N, 3))
    w = rng.random(N)
    pw = np.array([1.0, 3.0, 0.5])
    # the label columns split over two chunks: rechunked into one
    yd, xd, wd = chunked(y, (6, 17), (1, 2)), chunked(x, ROWS["uneven"], 2), chunked(w, 10)
    lazy, wanted = [], []
    for reduction in ("mean", "sum", "none"):
        kw = {"kind": "logit", "pos_weight": pw, "reduction": reduction}
        wanted.append(crossent.binary_cross_entropy(y, x, sample_weight=w, **kw))
        lazy.append(cd.binary_cross_entropy(yd, xd, sample_weight=wd, **kw))
    for value, want in zip(compute(*lazy), wanted, strict=True):
        assert_close(value, want)


def test_binary_numpy_inputs_and_scalar(compute):
    y = np.array([1, 0, 1, 1, 0])
    p = np.array([0.9, 0.2, 0.6, 0.99, 0.01])
    # a numpy y_true (one chunk) is aligned with a chunked y_pred
    mean, scalar = compute(
        cd.binary_cross_entropy(y, chunked(p, (2, 3))),
        cd.binary_cross_entropy(da.asarray(1.0), da.asarray(0.25), reduction="none"))
    assert_close(mean, crossent.binary_cross_entropy(y, p))
    assert_close(scalar, crossent.binary_cross_entropy(1.0, 0.25, reduction="none"))


# --------------------------------------------------------------------------- categorical


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kind", ["probability", "logit", "log_probability"])
@pytest.mark.parametrize("rows", list(ROWS), ids=list(ROWS))
def test_categorical_matches_in_memory(dtype, kind, rows):
    rng = np.random.default_rng(3)
    c = 5
    y, x = categorical_data(rng, dtype, kind, N, c)
    y[[2, 9]] = -100
    x[5, 1] = np.nan
    w = rng.random(N) * 2
    cw = np.array([1.0, 0.5, 2.0, 0.0, 1.5])
    # the class axis arrives in chunks of 2 and is brought into one chunk
    yd, xd, wd = chunked(y, 6), chunked(x, ROWS[rows], 2), chunked(w, (11, 12))
    lazy, wanted = [], []
    for reduction in ("mean", "sum", "none"):
        kw = {"kind": kind, "class_weight": cw, "ignore_index": -100, "nan_policy": "omit",
              "reduction": reduction}
        wanted.append(crossent.categorical_cross_entropy(y, x, sample_weight=w, **kw))
        lazy.append(cd.categorical_cross_entropy(yd, xd, sample_weight=wd, **kw))
    kw = {"kind": kind, "label_smoothing": 0.2}
    lazy.append(cd.categorical_cross_entropy(chunked(y % c, 6), xd, **kw))
    wanted.append(np.nan)  # the NaN propagates
    x[5, 1] = x[5, 0]  # a valid value of the kind
    lazy.append(cd.categorical_cross_entropy(chunked(y % c, 6), chunked(x, ROWS[rows], 2), **kw))
    wanted.append(crossent.categorical_cross_entropy(y % c, x, **kw))
    for got, value, want in zip(lazy, threaded(*lazy), wanted, strict=True):
        assert_close(value, want)
        assert value.dtype == got.dtype == np.asarray(want).dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_categorical_options_on_cluster(dtype, compute):
    rng = np.random.default_rng(4)
    y, x = categorical_data(rng, dtype, "logit", N, 4)
    y[7] = 99
    w = rng.random(N)
    cw = np.array([2.0, 1.0, 0.25, 1.0])
    yd, xd, wd = chunked(y, ROWS["uneven"]), chunked(x, (12, 11), 3), chunked(w, 9)
    lazy, wanted = [], []
    for reduction in ("mean", "sum", "none"):
        kw = {"kind": "logit", "class_weight": cw, "ignore_index": 99, "reduction": reduction,
              "label_smoothing": 0.05}
        wanted.append(crossent.categorical_cross_entropy(y, x, sample_weight=w, **kw))
        lazy.append(cd.categorical_cross_entropy(yd, xd, sample_weight=wd, **kw))
    for value, want in zip(compute(*lazy), wanted, strict=True):
        assert_close(value, want)


def test_categorical_soft_targets(compute):
    rng = np.random.default_rng(5)
    t = rng.dirichlet(np.ones(6), N)
    x = rng.standard_normal((N, 6))
    w = rng.random(N)
    kw = {"kind": "logit", "class_weight": np.arange(1.0, 7.0)}
    want = crossent.categorical_cross_entropy(t, x, sample_weight=w, **kw)
    got = cd.categorical_cross_entropy(chunked(t, 5, 4), chunked(x, (1, 22), 2),
                                       sample_weight=chunked(w, 8), **kw)
    assert_close(*compute(got), want)


# --------------------------------------------------------------------------- log_loss

needs_log_loss = pytest.mark.skipif(not hasattr(crossent, "log_loss"),
                                    reason="this build has no crossent.log_loss")


def log_loss_cases():
    rng = np.random.default_rng(6)
    n = N
    p3 = rng.dirichlet([1.0, 1.0, 1.0], n)
    p1 = rng.random(n)
    strings = np.array(["ham", "spam", "eggs"])[rng.integers(0, 3, n)]
    ints = rng.integers(0, 3, n) * 10
    binary = rng.integers(0, 2, n)
    w = rng.random(n)
    w[:8] = 0  # whole chunks of zero weight
    signed = rng.standard_normal(n)
    return {
        "strings": (strings, p3, {}),
        "ints-weighted": (ints, p3, {"sample_weight": w}),
        "signed-weights-sum": (ints, p3, {"sample_weight": signed, "normalize": False}),
        "signed-weights-mean": (ints, p3, {"sample_weight": signed}),
        "labels": (ints[ints > 0], p3[ints > 0], {"labels": [0, 10, 20]}),
        "binary-1d": (binary, p1, {"sample_weight": w}),
        "binary-n1": (binary[:, None], p1[:, None], {"normalize": False}),
        "indicator": (np.eye(3)[ints // 10], p3, {}),
        "float32": (strings, p3.astype(np.float32), {}),
    }


def lazy_log_loss(y, p, kw, rows):
    dkw = dict(kw)
    if "sample_weight" in kw:
        dkw["sample_weight"] = chunked(kw["sample_weight"], 8)  # the first chunk weighs 0
    got = cd.log_loss(chunked(y, rows), chunked(p, 5), **dkw)
    assert isinstance(got, da.Array)
    return got


@needs_log_loss
@pytest.mark.parametrize("case", list(log_loss_cases()))
def test_log_loss_matches_in_memory(case):
    y, p, kw = log_loss_cases()[case]
    want = crossent.log_loss(y, p, **kw)
    n = y.shape[0]
    for value in threaded(*(lazy_log_loss(y, p, kw, rows) for rows in ((1, 6, n - 7), 4))):
        assert_close(value, want)


@needs_log_loss
def test_log_loss_on_cluster(client):
    cases = log_loss_cases()
    names = ["strings", "signed-weights-mean", "binary-1d", "indicator"]
    lazy = [lazy_log_loss(*cases[name], rows=(1, 6, N - 7)) for name in names]
    for name, value in zip(names, client.gather(client.compute(lazy)), strict=True):
        assert_close(value, crossent.log_loss(*cases[name][:2], **cases[name][2]))


@needs_log_loss
def test_log_loss_errors():
    y = np.array([0, 10, 20, 10, 0, 20])
    p = np.full((6, 3), 1 / 3)
    cases = [
        ({"labels": [0, 10]}, ValueError),
        ({"sample_weight": np.zeros(6)}, ValueError),
        ({"labels": [0, 10, 10]}, ValueError),
        ({"normalize": "yes"}, (ValueError, TypeError)),
    ]
    for kw, exc in cases:
        with pytest.raises(exc):
            crossent.log_loss(y, p, **kw)
        with pytest.raises(exc):
            cd.log_loss(chunked(y, 2), chunked(p, 3), **kw).compute(scheduler="threads")
    with pytest.raises(ValueError, match="only one label"):
        cd.log_loss(chunked(np.zeros(6), 2), p[:, :2]).compute(scheduler="threads")
    with pytest.warns(UserWarning, match="not in sorted order"):
        got = cd.log_loss(chunked(y, 2), p, labels=[20, 0, 10])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        want = crossent.log_loss(y, p, labels=[20, 0, 10])
    assert_close(got.compute(scheduler="threads"), want)


# --------------------------------------------------------------------------- laziness


def test_lazy_until_compute(monkeypatch):
    calls = []
    binary = crossent.binary_cross_entropy
    categorical = crossent.categorical_cross_entropy

    def counting(f):
        def wrapper(y_true, y_pred, *args, **kw):
            if len(y_pred):  # the zero-row check made when the graph is built is not a chunk
                calls.append(len(y_pred))
            return f(y_true, y_pred, *args, **kw)
        return wrapper

    # every in-memory entry point a chunk may call
    monkeypatch.setattr(crossent, "binary_cross_entropy", counting(binary))
    monkeypatch.setattr(crossent, "categorical_cross_entropy", counting(categorical))
    for loss in ("binary", "categorical"):
        monkeypatch.setitem(crossent._parts, loss, counting(crossent._parts[loss]))
    rng = np.random.default_rng(7)
    y, x = binary_data(rng, np.float64, "logit", N)
    yc, xc = categorical_data(rng, np.float64, "logit", N, 3)
    lazy = [
        cd.binary_cross_entropy(chunked(y, 5), chunked(x, 5), kind="logit"),
        cd.binary_cross_entropy(chunked(y, 5), chunked(x, 5), kind="logit", reduction="none"),
        cd.categorical_cross_entropy(chunked(yc, 5), chunked(xc, 5), kind="logit",
                                     reduction="sum"),
    ]
    if hasattr(crossent, "log_loss"):
        lazy.append(cd.log_loss(chunked(yc, 5), chunked(np.exp(xc) / np.exp(xc).sum(1)[:, None],
                                                         5)))
    assert all(isinstance(r, da.Array) for r in lazy)
    assert lazy[0].shape == () and lazy[1].shape == (N,)
    assert calls == []
    lazy[0].compute(scheduler="threads")
    assert sorted(calls) == [3, 5, 5, 5, 5]
    lazy[2].compute(scheduler="sync")
    assert len(calls) == 10


# --------------------------------------------------------------------------- errors


def test_option_errors_raise_at_once():
    y, x = chunked(np.array([0, 1, 1]), 2), chunked(np.array([0.2, 0.7, 0.5]), 2)
    with pytest.raises(ValueError, match="kind must be one of"):
        cd.binary_cross_entropy(y, x, kind="logits")
    with pytest.raises(ValueError, match="reduction must be one of"):
        cd.binary_cross_entropy(y, x, reduction="avg")
    with pytest.raises(ValueError, match="n_threads"):
        cd.categorical_cross_entropy(y, chunked(np.ones((3, 2)) / 2, 2), n_threads=0)
    with pytest.raises(ValueError, match="class_weight has shape"):
        cd.categorical_cross_entropy(y, chunked(np.ones((3, 2)) / 2, 2), class_weight=[1.0])
    with pytest.raises(TypeError, match="y_pred must hold real numbers"):
        cd.binary_cross_entropy(y, x.astype(complex))
    with pytest.raises(ValueError, match="same shape"):
        cd.binary_cross_entropy(y, chunked(np.array([0.5, 0.5]), 1))
    with pytest.raises(ValueError, match="sample_weight has shape"):
        cd.binary_cross_entropy(y, x, sample_weight=chunked(np.ones(4), 2))
    with pytest.raises(ValueError, match="rows"):
        cd.categorical_cross_entropy(chunked(np.array([0, 1]), 1), chunked(np.ones((3, 2)), 2))


def test_chunk_errors_have_the_in_memory_type(compute):
    rng = np.random.default_rng(8)
    y, x = binary_data(rng, np.float64, "probability", N)
    bad_label = y.copy()
    bad_label[17] = 2.0
    with pytest.raises(ValueError) as in_memory:
        crossent.binary_cross_entropy(bad_label, x)
    with pytest.raises(ValueError, match=r"y_true must hold labels in \[0, 1\]") as chunk:
        compute(cd.binary_cross_entropy(chunked(bad_label, ROWS["uneven"]), chunked(x, 4)))
    assert type(chunk.value) is type(in_memory.value)
    notes = getattr(chunk.value, "__notes__", [])
    assert sys.version_info < (3, 11) or any("rows 16:20" in n for n in notes)

    x_nan = x.copy()
    x_nan[9] = np.nan
    with pytest.raises(ValueError, match="is NaN"):
        compute(cd.binary_cross_entropy(chunked(y, 4), chunked(x_nan, 4), nan_policy="raise"))
    yc, xc = categorical_data(rng, np.float32, "logit", N, 3)
    yc[20] = 3
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"):
        compute(cd.categorical_cross_entropy(chunked(yc, 6), chunked(xc, 6), kind="logit"))
    with pytest.raises(TypeError):
        crossent.categorical_cross_entropy(yc.astype(str), xc, kind="logit")
    with pytest.raises(TypeError):
        cd.categorical_cross_entropy(chunked(yc.astype(str), 6), chunked(xc, 6), kind="logit")
    # a "mean" over no weight is an error in memory and when computed
    zero = chunked(np.zeros(N), 5)
    with pytest.raises(ValueError, match="positive total weight"):
        compute(cd.binary_cross_entropy(chunked(y, 4), chunked(x, 4), sample_weight=zero))
    assert compute(cd.binary_cross_entropy(chunked(y, 4), chunked(x, 4), sample_weight=zero,
                                           reduction="sum")) == (0.0,)


# --------------------------------------------------------------------------- optional imports

IMPORT_CHECK = """
import sys
import crossent
assert "dask" not in sys.modules, "import crossent imported dask"
sys.modules["dask"] = None  # as if Dask were not installed
try:
    import crossent.dask
except ImportError as exc:
    assert 'pip install "crossent[dask]"' in str(exc), exc
else:
    raise AssertionError("crossent.dask imported without Dask")
"""


def test_dask_stays_optional():
    result = subprocess.run([sys.executable, "-c", IMPORT_CHECK], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
