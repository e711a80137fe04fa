"""Shared fixtures: every behavioural test runs on both backends."""

import numpy as np
import pytest

import crossent
from crossent import reference

BACKENDS = {"default": crossent, "reference": reference}


@pytest.fixture(params=list(BACKENDS), ids=lambda name: f"{name}-{BACKENDS[name].__name__}")
def api(request):
    """The public functions of one backend: crossent itself (C when built) or crossent.reference."""
    return BACKENDS[request.param]


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return np.dtype(request.param)


def random_binary(rng, shape, dtype, kind):
    """Labels 0/1 and predictions of ``kind`` away from the clipping bounds."""
    y = (rng.random(shape) < 0.4).astype(dtype)
    x = rng.standard_normal(shape) * 3
    if kind == "probability":
        x = 1 / (1 + np.exp(-x))
    elif kind == "log_probability":
        x = -np.logaddexp(0, -x)
    return y, x.astype(dtype)
