"""log_loss against scikit-learn's (values, warnings, exception types) and against mpmath."""

import warnings

import numpy as np
import pytest

import crossent

sk_metrics = pytest.importorskip("sklearn.metrics")
sk_log_loss = sk_metrics.log_loss


def _rows(rng, n, c, dtype=np.float64):
    """Probability rows that sum to one, away from the clipping bounds."""
    p = np.clip(rng.dirichlet(np.ones(c), size=n), 1e-6, None)
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


def _outcome(f, *args, **kwargs):
    """(value or exception, warning categories) of one call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = f(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            result = exc
    return result, sorted({w.category.__name__ for w in caught} - {"RuntimeWarning"})


def _agree(api, y, p, **kwargs):
    """Both give the same value within 1e-12 relative, with the same warnings."""
    ours, ours_w = _outcome(api.log_loss, y, p, **kwargs)
    theirs, theirs_w = _outcome(sk_log_loss, y, p, **kwargs)
    assert not isinstance(theirs, Exception), theirs
    assert not isinstance(ours, Exception), ours
    assert isinstance(ours, float)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=0), (ours, theirs)
    assert ours_w == theirs_w
    return ours


def _cases(rng):
    n = 257
    p1 = rng.random(n) * 0.98 + 0.01
    p4 = _rows(rng, n, 4)
    y4 = rng.integers(0, 4, n)
    names = np.array(["cat", "dog", "emu", "yak"])
    w = rng.random(n) * 3
    return {
        "binary 0/1": (rng.integers(0, 2, n), p1, {}),
        "binary bool": (rng.random(n) < 0.3, p1, {}),
        "binary 3/7": (np.where(rng.random(n) < 0.5, 3, 7), p1, {}),
        "binary -1/1 as float": (np.where(rng.random(n) < 0.5, -1.0, 1.0), p1, {}),
        "binary uint8 4/5": (rng.integers(4, 6, n).astype(np.uint8), p1, {}),
        "binary strings": (np.where(rng.random(n) < 0.5, "ham", "spam"), p1, {}),
        "binary (n, 1) proba": (rng.integers(0, 2, n), p1[:, None], {}),
        "binary (n, 1) labels": (rng.integers(0, 2, (n, 1)), p1, {}),
        "binary two columns": (rng.integers(0, 2, n), _rows(rng, n, 2), {}),
        "binary weighted": (rng.integers(0, 2, n), p1, {"sample_weight": w}),
        "binary sum": (rng.integers(0, 2, n), p1, {"normalize": False}),
        "binary weighted sum": (rng.integers(0, 2, n), p1,
                                {"sample_weight": w, "normalize": False}),
        "binary negative weights": (rng.integers(0, 2, n), p1, {"sample_weight": w - 1}),
        "binary list input": (list(rng.integers(0, 2, 9)), list(p1[:9]), {}),
        "multiclass 0..3": (y4, p4, {}),
        "multiclass int8": (y4.astype(np.int8), p4, {}),
        "multiclass float labels": (y4.astype(np.float64), p4, {}),
        "multiclass shifted": (y4 + 10, p4, {}),
        "multiclass strings": (names[y4], p4, {}),
        "multiclass objects": (names[y4].astype(object), p4, {}),
        "multiclass weighted": (y4, p4, {"sample_weight": w}),
        "multiclass weighted sum": (names[y4], p4, {"sample_weight": w, "normalize": False}),
        "labels absent from y_true": (np.where(y4 == 2, 1, y4), p4, {"labels": [0, 1, 2, 3]}),
        "string labels absent": (names[np.where(y4 == 0, 3, y4)], p4, {"labels": names}),
        "binary labels= one present": (np.ones(n, int), p1, {"labels": [0, 1]}),
        "labels unsorted (warns)": (y4, p4, {"labels": [3, 1, 2, 0]}),
        "rows not summing to one (warns)": (y4, p4 * 1.01, {}),
        "indicator matrix": (np.eye(4, dtype=int)[y4] | (rng.random((n, 4)) < 0.2), p4, {}),
        "indicator matrix, one column": (np.eye(2, dtype=int)[rng.integers(0, 2, n)], p1, {}),
        "clipped extremes": (np.array([0, 1, 0, 1]), np.array([0.0, 1.0, 1.0, 0.0]), {}),
    }


CASES = list(_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("case", CASES)
def test_same_value_and_warnings_as_sklearn(api, case):
    y, p, kwargs = _cases(np.random.default_rng(0))[case]
    _agree(api, y, p, **kwargs)


@pytest.mark.parametrize("c", [2, 3, 10])
def test_float32_probabilities(api, c):
    # scikit-learn computes and sums float32 input in float32; crossent keeps the float32
    # values exact and sums in float64, which is scikit-learn's value on the same numbers
    # taken as float64 (they are away from the clipping bounds of either dtype)
    rng = np.random.default_rng(c)
    y = rng.integers(0, c, 1000)
    p = _rows(rng, 1000, c, np.float32) if c > 2 else rng.random(1000).astype(np.float32)
    ours = api.log_loss(y, p)
    with warnings.catch_warnings():
        # float32 rows sum to one only within float32 rounding, not float64's tolerance
        warnings.filterwarnings("ignore", "The y_prob values do not sum to one", UserWarning)
        same_numbers = sk_log_loss(y, p.astype(np.float64))
    assert ours == pytest.approx(same_numbers, rel=1e-12, abs=0)
    assert ours == pytest.approx(sk_log_loss(y, p), rel=1e-5)


def test_float16_clips_with_its_own_epsilon(api):
    y = np.array([0, 1, 1, 0])
    p = np.array([0.0, 1.0, 0.25, 0.5], np.float16)
    eps = float(np.finfo(np.float16).eps)
    expected = -(np.log1p(-eps) + np.log1p(-eps) + np.log(0.25) + np.log(0.5)) / 4
    assert api.log_loss(y, p) == pytest.approx(expected, rel=1e-12)


def test_large_inputs_take_the_fast_paths_and_agree(api):
    rng = np.random.default_rng(5)
    n = 200_000
    y = rng.integers(0, 2, n)
    p = rng.random(n)
    _agree(api, y, p)
    y10 = rng.integers(0, 10, n)
    _agree(api, y10, _rows(rng, n, 10))
    # every class but one present: the fast path must not take the labels as 0 .. C-1
    y10[y10 == 4] = 5
    ours, _ = _outcome(api.log_loss, y10, _rows(rng, n, 10))
    assert isinstance(ours, ValueError) and "classes" in str(ours)


def test_confident_predictions_against_mpmath(api):
    # a mean loss near 1e-10, where 1 - p rounds: the exact value of the clipped formula
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 64)
    tiny = rng.random(64) * 1e-9
    p = np.where(y == 1, 1 - tiny, tiny)
    with mpmath.workdps(50):
        total = mpmath.mpf(0)
        for yi, pi in zip(y.tolist(), p.tolist(), strict=True):
            total -= mpmath.log(mpmath.mpf(pi)) if yi else mpmath.log1p(-mpmath.mpf(pi))
        exact = float(total / len(y))
    assert api.log_loss(y, p) == pytest.approx(exact, rel=4e-16)


ERRORS = {
    "continuous y_true": ([0.5, 1.5], [0.2, 0.7], {}),
    "one class": ([1, 1], [0.2, 0.7], {}),
    "three classes, one column": ([0, 1, 2], [0.2, 0.7, 0.3], {}),
    "two classes, three columns": ([0, 1], [[0.2, 0.3, 0.5], [0.5, 0.2, 0.3]], {}),
    "NaN probability": ([0, 1], [np.nan, 0.7], {}),
    "infinite probability": ([0, 1], [np.inf, 0.7], {}),
    "probability above 1": ([0, 1], [1.2, 0.7], {}),
    "probability below 0": ([0, 1], [-0.2, 0.7], {}),
    "complex probabilities": ([0, 1], np.array([0.2, 0.7], complex), {}),
    "3-D probabilities": ([0, 1], np.zeros((2, 1, 1)), {}),
    "no samples": ([], [], {}),
    "ragged probabilities": ([0, 1], [[0.2, 0.8], [0.6]], {}),
    "lengths differ": ([0, 1, 1], [0.2, 0.7], {}),
    "sample_weight length": ([0, 1], [0.2, 0.7], {"sample_weight": [1, 2, 3]}),
    "sample_weight NaN": ([0, 1], [0.2, 0.7], {"sample_weight": [1, np.nan]}),
    "sample_weight inf": ([0, 1], [0.2, 0.7], {"sample_weight": [1, np.inf]}),
    "sample_weight zero": ([0, 1], [0.2, 0.7], {"sample_weight": [0, 0]}),
    "sample_weight 2-D": ([0, 1], [0.2, 0.7], {"sample_weight": [[1], [2]]}),
    "sample_weight scalar": ([0, 1], [0.2, 0.7], {"sample_weight": 2.0}),
    "weights summing to zero": ([0, 1], [0.2, 0.7], {"sample_weight": [1, -1]}),
    "label not in labels": (["a", "c"], [0.2, 0.7], {"labels": ["a", "b"]}),
    "labels of another type": ([0, 1], [0.2, 0.7], {"labels": ["a", "b"]}),
    "a single label": (["a", "a"], [0.2, 0.7], {"labels": ["a"]}),
    "three labels, one column": (["a", "b"], [0.2, 0.7], {"labels": ["a", "b", "c"]}),
    "repeated labels": ([0, 1], [0.2, 0.7], {"labels": [0, 1, 1]}),
    "mixed label types (list)": (["a", 1], [0.2, 0.7], {}),
    "mixed label types (objects)": (np.array(["b", 1], dtype=object), [0.2, 0.7], {}),
    "NaN label": ([0, np.nan], [0.2, 0.7], {}),
    "multioutput y_true": (np.array([[2, 0, 1], [0, 1, 0]]), [[0.2, 0.3, 0.5]] * 2, {}),
    "indicator with labels": (np.array([[1, 0, 1], [0, 1, 0]]), [[0.2, 0.3, 0.5]] * 2,
                              {"labels": [0, 1, 2]}),
    "normalize not a bool": ([0, 1], [0.2, 0.7], {"normalize": 1}),
    "y_true None": (None, [0.2, 0.7], {}),
    "y_true scalar": (1, 0.5, {}),
}
NAMED = {"y_proba", "y_true", "sample_weight", "labels", "normalize", "samples", "classes",
         "label"}


@pytest.mark.parametrize("case", list(ERRORS))
def test_rejects_what_sklearn_rejects_with_the_same_exception_type(api, case):
    y, p, kwargs = ERRORS[case]
    theirs, _ = _outcome(sk_log_loss, y, p, **kwargs)
    ours, _ = _outcome(api.log_loss, y, p, **kwargs)
    assert isinstance(theirs, Exception), theirs
    assert isinstance(ours, Exception), f"crossent returned {ours!r}"
    # scikit-learn's InvalidParameterError is both a ValueError and a TypeError; so is ours
    for base in (ValueError, TypeError, ZeroDivisionError):
        if isinstance(theirs, base):
            assert isinstance(ours, base), (ours, theirs)
    message = str(ours)
    assert any(word in message for word in NAMED), message


def test_invalid_parameter_error_is_both(api):
    with pytest.raises(crossent.InvalidParameterError, match="normalize") as info:
        api.log_loss([0, 1], [0.2, 0.7], normalize="yes")
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_does_not_change_its_inputs(api):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 50)
    p = _rows(rng, 50, 3)
    w = rng.random(50)
    before = (y.copy(), p.copy(), w.copy())
    api.log_loss(y, p, sample_weight=w)
    for a, b in zip(before, (y, p, w), strict=True):
        np.testing.assert_array_equal(a, b)


# --- the one-pass fast path (crossent._log_loss._fast_sums and the backends' log_loss_pass) ---

def _passes():
    """log_loss_pass of each backend available here: numpy's, and the C kernel's."""
    from crossent import reference

    found = {"numpy": reference.log_loss_pass}
    if crossent.backend != "numpy":
        from crossent import _core

        found["c"] = _core.log_loss_pass
    return found


PASSES = _passes()


def _pass_by_hand(p, y, w, eps, tol):
    """What log_loss_pass reports, written plainly with Python floats and math.log."""
    import math

    p = p.astype(np.float64)
    c = 1 if p.ndim == 1 else p.shape[1]
    n_classes = 2 if c == 1 else c
    bad_pred = int(np.count_nonzero(~((p >= 0) & (p <= 1))))
    bad_label = sum(1 for v in y.tolist() if not 0 <= v < n_classes)
    seen = {v for v in y.tolist() if 0 <= v < n_classes}
    if bad_pred or bad_label:
        return None, None, bad_pred > 0, bad_label, None, seen
    terms, bad_sum = [], 0
    for i, yi in enumerate(y.tolist()):
        if c == 1:
            q = min(max(float(p[i]), eps), 1 - eps)
            terms.append(-math.log(q) if yi == 1 else -math.log1p(-q))
        else:
            row = [float(v) for v in p[i]]
            bad_sum += not abs(math.fsum(row) - 1.0) <= tol
            terms.append(-math.log(min(max(row[yi], eps), 1 - eps)))
    wts = [1.0] * len(terms) if w is None else w.tolist()
    return (math.fsum(t * v for t, v in zip(terms, wts, strict=True)), math.fsum(wts),
            False, 0, bad_sum, seen)


@pytest.mark.parametrize("which", list(PASSES))
@pytest.mark.parametrize("c", [1, 2, 3, 10, 700])
@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss_pass_against_a_plain_computation(which, c, weighted, dtype):
    rng = np.random.default_rng(c)
    n = 1000 if c < 700 else 300  # not a multiple of the kernel's block of rows
    if c == 1:
        p = (rng.random(n) ** 3).astype(dtype)  # many small probabilities
        p[:4] = [0.0, 1.0, 1e-30, 0.5]  # clipped, and exactly a half
        y = rng.integers(0, 2, n)
    else:
        p = _rows(rng, n, c, dtype)
        p[: n // 10] *= 1.001  # some rows off by more than the tolerance
        y = rng.integers(0, c, n)
    w = rng.standard_normal(n) if weighted else None  # either sign
    eps = float(np.finfo(dtype).eps)
    tol = 1e-8 + float(np.sqrt(eps))
    seen = np.zeros(max(c, 2), np.uint8)
    loss, weight, bad_pred, bad_label, bad_sum = PASSES[which](
        np.ascontiguousarray(p), y.astype(np.int64), w, eps, 1 - eps, tol, seen)
    e_loss, e_weight, _, _, e_bad_sum, e_seen = _pass_by_hand(p, y, w, eps, tol)
    assert (bad_pred, bad_label) == (0, 0)
    assert bad_sum == e_bad_sum and (c == 1 or bad_sum > 0)
    assert set(np.flatnonzero(seen).tolist()) == e_seen
    assert weight == pytest.approx(e_weight, rel=1e-14, abs=1e-12)
    assert loss == pytest.approx(e_loss, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("which", list(PASSES))
@pytest.mark.parametrize("c", [1, 4])
def test_log_loss_pass_counts_what_it_cannot_handle(which, c, dtype):
    rng = np.random.default_rng(7)
    n = 600
    p = (rng.random(n) if c == 1 else _rows(rng, n, c)).astype(dtype)
    y = rng.integers(0, max(c, 2), n)
    flat = p.reshape(-1)
    flat[[5, 400]] = [np.nan, 1.5]
    flat[-1] = -0.25
    y[[3, 599]] = [-1, max(c, 2)]
    seen = np.zeros(max(c, 2), np.uint8)
    _, _, bad_pred, bad_label, _ = PASSES[which](
        np.ascontiguousarray(p), y.astype(np.int64), None, 1e-7, 1 - 1e-7, 1e-4, seen)
    assert bad_pred > 0
    assert bad_label == 2


def _fast(api, y, p, sw=None):
    from crossent import _log_loss

    which = "numpy" if api.__name__ == "crossent.reference" or crossent.backend == "numpy" \
        else "c"
    return _log_loss._fast_sums(PASSES[which], y, p, sw)


def test_the_usual_calls_take_one_pass(api):
    rng = np.random.default_rng(2)
    n = 300
    p1 = rng.random(n)
    p3 = _rows(rng, n, 3)
    y2, y3 = rng.integers(0, 2, n), rng.integers(0, 3, n)
    for y, p in [(y2, p1), (y2 == 1, p1), (y2.astype(np.uint8), p1), (y2[:, None], p1),
                 (y2, p1[:, None]), (y2, p1.astype(np.float32)), (y3, p3),
                 (y3.astype(np.int16), p3.astype(np.float32)), (y3, np.asfortranarray(p3)),
                 (y3, p3.astype(">f8"))]:
        assert _fast(api, y, p) is not None, (y.dtype, p.dtype, p.shape)
    assert _fast(api, y3, p3, rng.random(n)) is not None
    # everything else goes the general way, which owns the checks and the messages
    for y, p, sw in [(np.array(["a", "b"])[y2], p1, None), (y2 + 3, p1, None),
                     (y2.astype(float), p1, None), (y2, p1.astype(np.float16), None),
                     (y3, p3 * 2, None), (np.minimum(y3, 1), p3, None),
                     (list(y2), p1, None), (y2, list(p1), None), (y2, p1, np.full(n, np.nan)),
                     (y2.astype(np.uint64), p1, None)]:
        assert _fast(api, y, p, sw) is None


@pytest.mark.parametrize("case", list(ERRORS))
def test_rejects_arrays_as_it_rejects_lists(api, case):
    # the same error cases as numpy arrays, which reach the one-pass path first
    y, p, kwargs = ERRORS[case]
    try:
        y, p = np.asarray(y), np.asarray(p)
    except ValueError:
        pytest.skip("ragged: not an array")
    theirs, _ = _outcome(sk_log_loss, y, p, **kwargs)
    if not isinstance(theirs, Exception):  # ["a", 1] as an array is two strings: valid
        _agree(api, y, p, **kwargs)
        return
    ours, _ = _outcome(api.log_loss, y, p, **kwargs)
    assert isinstance(ours, Exception), f"crossent returned {ours!r}"
    for base in (ValueError, TypeError, ZeroDivisionError):
        if isinstance(theirs, base):
            assert isinstance(ours, base), (ours, theirs)


def test_one_pass_warns_for_rows_not_summing_to_one(api):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 500)
    p = _rows(rng, 500, 3)
    p[17] *= 1.01
    assert _fast(api, y, p)[2] == 1
    _agree(api, y, p)
    with pytest.warns(UserWarning, match="do not sum to one"):
        api.log_loss(y, p)
