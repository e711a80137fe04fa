"""Every bad input raises a clear error naming the argument and the value, on both backends."""


import numpy as np
import pytest

import crossent
from crossent import reference

bce = "binary_cross_entropy"
bceg = "binary_cross_entropy_with_grad"
gh = "binary_logistic_grad_hess"

# (function, args, kwargs, exception, message pattern)
BAD_INPUTS = [
    (bce, ([0, 2], [0.5, 0.5]), {}, ValueError, r"y_true.*\[0, 1\].*y_true\[1\] = 2\.0"),
    (bce, ([0, -0.5], [0.5, 0.5]), {}, ValueError, r"y_true\[1\] = -0\.5"),
    (bce, ([0, np.nan], [0.5, 0.5]), {}, ValueError, r"y_true\[1\] = nan"),
    (bce, ([[0, 1], [1, 3]], [[0.5, 0.5]] * 2), {}, ValueError, r"y_true\[1, 1\] = 3\.0"),
    (bce, ([0, 1], [0.5, 1.5]), {}, ValueError, r"y_pred must be in \[0, 1\].*y_pred\[1\] = 1\.5"),
    (bce, ([0, 1], [-1e-9, 0.5]), {}, ValueError, r"y_pred\[0\] = -1e-09"),
    (bce, ([0, 1], [-1.0, 0.5]), {"kind": "log_probability"}, ValueError,
     r"y_pred must be in \(-inf, 0\].*y_pred\[1\] = 0\.5"),
    (bce, ([0, 1], [0.5, np.nan]), {"nan_policy": "raise"}, ValueError,
     r"y_pred\[1\] is NaN \(nan_policy='raise'\)"),
    (bce, ([0, 1], [0.5, 0.5]), {"sample_weight": [1, -1]}, ValueError,
     r"sample_weight must be finite and >= 0; sample_weight\[1\] = -1\.0"),
    (bce, ([0, 1], [0.5, 0.5]), {"sample_weight": [np.nan, 1]}, ValueError,
     r"sample_weight\[0\] = nan"),
    (bce, ([0, 1], [0.5, 0.5]), {"sample_weight": [np.inf, 1]}, ValueError,
     r"sample_weight\[0\] = inf"),
    (bce, ([0, 1], [0.5, 0.5]), {"sample_weight": [1, 1, 1]}, ValueError,
     r"sample_weight has shape \(3,\), but y_pred has shape \(2,\)"),
    (bce, ([0, 1], [0.5, 0.5, 0.5]), {}, ValueError,
     r"same shape; got y_true \(2,\) and y_pred \(3,\)"),
    (bce, (np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), {}, ValueError, r"y_pred must have shape"),
    (bce, ([0, 1], [0.5, 0.5]), {"kind": "logits"}, ValueError,
     r"kind must be one of 'probability', 'logit', 'log_probability'; got 'logits'"),
    (bce, ([0, 1], [0.5, 0.5]), {"reduction": "avg"}, ValueError, r"reduction must be one of"),
    (bce, ([0, 1], [0.5, 0.5]), {"reduction": None}, ValueError, r"reduction .*got None"),
    (bce, ([0, 1], [0.5, 0.5]), {"nan_policy": "skip"}, ValueError, r"nan_policy must be one of"),
    (bce, ([0, 1], [0.5, 0.5]), {"n_threads": 0}, ValueError, r"n_threads .*got 0"),
    (bce, ([0, 1], [0.5, 0.5]), {"n_threads": -2}, ValueError, r"n_threads .*got -2"),
    (bce, ([0, 1], [0.5, 0.5]), {"n_threads": 1.5}, ValueError, r"n_threads .*got 1\.5"),
    (bce, ([0, 1], [0.5, 0.5]), {"n_threads": True}, ValueError, r"n_threads .*got True"),
    (bce, ([0, 1], [0.5, 0.5]), {"pos_weight": 0}, ValueError, r"pos_weight must be finite"),
    (bce, ([0, 1], [0.5, 0.5]), {"pos_weight": np.inf}, ValueError, r"pos_weight.*inf"),
    (bce, ([[0, 1]], [[0.5, 0.5]]), {"pos_weight": [1, 2, 3]}, ValueError,
     r"pos_weight has shape \(3,\), but y_pred has shape \(1, 2\)"),
    (bce, ([[0, 1]], [[0.5, 0.5]]), {"pos_weight": [1, -2]}, ValueError,
     r"pos_weight\[1\] = -2\.0"),
    (bce, ([0, 1], [0.5, 0.5]), {"label_smoothing": 1.5}, ValueError, r"label_smoothing .*1\.5"),
    (bce, ([0, 1], [0.5, 0.5]), {"label_smoothing": "a"}, ValueError, r"label_smoothing .*'a'"),
    (bce, ([0, 1], [0.5, 0.5]), {"eps": 0.5}, ValueError, r"eps must be in \[0, 0\.5\); got 0\.5"),
    (bce, ([0, 1], [0.5, 0.5]), {"eps": -1e-3}, ValueError, r"eps must be"),
    (bce, ([], []), {}, ValueError, r"reduction='mean' needs a positive total weight"),
    (bce, ([0, 1], [0.5, 0.5]), {"sample_weight": [0, 0]}, ValueError, r"positive total weight"),
    (bce, ([0], [np.nan]), {"nan_policy": "omit"}, ValueError, r"every element .* omitted"),
    (bce, ([0, 1], np.array([0.5, 0.5], dtype=complex)), {}, TypeError,
     r"y_pred must hold real numbers; got an array of dtype complex128"),
    (bce, ([0, 1], np.array([0.5, 0.5], dtype=object)), {}, TypeError, r"y_pred .*object"),
    (bce, ([0, 1], ["a", "b"]), {}, TypeError, r"y_pred .*dtype <U1"),
    (bce, (["a", "b"], [0.5, 0.5]), {}, TypeError, r"y_true must hold real numbers"),
    (bce, ([0, 1], [0.5, 0.5]), {"sample_weight": ["a", "b"]}, TypeError, r"sample_weight must"),
    (bce, ([0, 1], [[0.5], 0.5]), {}, TypeError, r"y_pred must be array-like"),
    (gh, ([0, 2], [0.5, 0.5]), {}, ValueError, r"y_true\[1\] = 2\.0"),
    (gh, ([0, 1], [0.5]), {}, ValueError, r"y_true and logits must have the same shape"),
    (gh, ([0, 1], [0.5, 0.5]), {"n_threads": 0}, ValueError, r"n_threads"),
    (gh, ([0, 1], [0.5, 0.5]), {"sample_weight": [-1, 0]}, ValueError, r"sample_weight\[0\]"),
]


def _id(case):
    f, args, kwargs, exc, pattern = case
    return f"{f}-{'-'.join(f'{k}={v!r}' for k, v in kwargs.items()) or 'data'}-{pattern[:20]}"


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[_id(c) for c in BAD_INPUTS])
def test_bad_input_raises_on_both_backends(case):
    name, args, kwargs, exc, pattern = case
    messages = []
    for module in (crossent, reference):
        with pytest.raises(exc, match=pattern) as info:
            getattr(module, name)(*args, **kwargs)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


OUT_CASES = [
    (lambda x: np.empty(3), r"out has shape \(3,\), expected \(4,\)"),
    (lambda x: np.empty(4, dtype=np.float32), r"out has dtype float32, expected float64"),
    (lambda x: np.empty(4, dtype=">f8"), r"out has dtype >f8, expected float64"),
    (lambda x: np.empty(8)[::2], r"out must be C-contiguous"),
    (lambda x: [0.0] * 4, r"out must be a numpy array; got list"),
]


@pytest.mark.parametrize("make, pattern", OUT_CASES)
def test_bad_out(api, make, pattern):
    x = np.linspace(-2, 2, 4)
    with pytest.raises(ValueError, match=pattern):
        api.binary_cross_entropy_with_grad([0, 1, 0, 1], x, kind="logit", out=make(x))


def test_read_only_out(api):
    out = np.empty(4)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writeable"):
        api.binary_cross_entropy_with_grad([0, 1, 0, 1], np.zeros(4), kind="logit", out=out)


def test_out_overlapping_an_input(api):
    buf = np.zeros(8)
    y = np.array([0.0, 1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="out overlaps y_true"):
        api.binary_cross_entropy_with_grad(y, np.zeros(4), kind="logit", out=y)
    x = buf[:4]
    with pytest.raises(ValueError, match="out overlaps y_pred"):
        api.binary_cross_entropy_with_grad(y, x, kind="logit", out=buf[2:6])
    w = np.ones(4)
    with pytest.raises(ValueError, match="out overlaps sample_weight"):
        api.binary_cross_entropy_with_grad(y, np.zeros(4), kind="logit", sample_weight=w, out=w)
    g = np.empty(4)
    with pytest.raises(ValueError, match="grad_out and hess_out overlap"):
        api.binary_logistic_grad_hess(y, np.zeros(4), grad_out=g, hess_out=g)
    x = np.zeros(4)
    with pytest.raises(ValueError, match="grad_out and hess_out overlap"):
        api.binary_logistic_grad_hess(y, x, grad_out=x, hess_out=x)
    g = np.empty(8)
    with pytest.raises(ValueError, match="grad_out and hess_out overlap"):
        api.binary_logistic_grad_hess(y, np.zeros(4), grad_out=g[:4], hess_out=g[2:6])
    with pytest.raises(ValueError, match="hess_out overlaps y_true; hess_out may be logits"):
        api.binary_logistic_grad_hess(y, np.zeros(4), hess_out=y)


def test_out_overlapping_pos_weight(api):
    out = np.full((3, 2), 2.0)
    with pytest.raises(ValueError, match="out overlaps pos_weight"):
        api.binary_cross_entropy_with_grad(np.ones((3, 2)), np.zeros((3, 2)), kind="logit",
                                           pos_weight=out[0], out=out)
    g = np.full((3, 2), 2.0)
    with pytest.raises(ValueError, match="grad_out overlaps pos_weight"):
        api.binary_logistic_grad_hess(np.ones((3, 2)), np.zeros((3, 2)), pos_weight=g[0],
                                      grad_out=g)


def test_out_may_not_be_the_labels_even_when_they_are_y_pred(api):
    x = np.array([0.0, 1.0])
    with pytest.raises(ValueError, match="out overlaps y_true"):
        api.binary_cross_entropy_with_grad(x, x, kind="logit", out=x)
    with pytest.raises(ValueError, match="hess_out overlaps y_true"):
        api.binary_logistic_grad_hess(x, x, hess_out=x)


def test_in_place_error_names_the_original_value(api):
    x = np.array([0.5, 1.5, 0.2])
    with pytest.raises(ValueError, match=r"y_pred\[1\] = 1\.5"):
        api.binary_cross_entropy_with_grad([0, 1, 0], x, out=x)


def test_labels_checked_before_a_narrowing_cast(api):
    x = np.array([0.5, 0.5], np.float32)
    with pytest.raises(ValueError, match=r"y_true\[0\] = 1\.0000000001"):
        api.binary_cross_entropy(np.array([1 + 1e-10, 0.0]), x)
    with pytest.raises(ValueError, match=r"y_true\[0\] = 1e\+40"):
        api.binary_cross_entropy(np.array([1e40, 0.0]), x)


def test_total_weight_overflow(api):
    with pytest.raises(ValueError, match="total weight overflows"):
        api.binary_cross_entropy([0, 1], [0.5, 0.5], sample_weight=[1e308, 1e308])
    with pytest.raises(ValueError, match="total weight overflows"):
        api.binary_cross_entropy(np.ones((1, 2)), np.full((1, 2), 0.5), sample_weight=[1.5e308])


def test_eps_is_validated_for_every_kind(api):
    with pytest.raises(ValueError, match="eps must be a real number; got 'junk'"):
        api.binary_cross_entropy([0, 1], [0.5, 0.5], kind="logit", eps="junk")
