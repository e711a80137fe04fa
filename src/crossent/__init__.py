"""crossent: cross-entropy (log loss) with its gradient and hessian, fast and exact at the extremes.

The functions run in a C kernel when the compiled extension is available, otherwise in numpy
(``crossent.reference``); ``crossent.backend`` names the one in use.
"""

from __future__ import annotations

import importlib.machinery
import os
import warnings

from ._accumulator import LossAccumulator
from ._api import make_categorical_functions, make_functions
from ._log_loss import InvalidParameterError, make_log_loss
from ._version import __version__

__all__ = [
    "__version__",
    "backend",
    "binary_cross_entropy",
    "binary_cross_entropy_with_grad",
    "binary_logistic_grad_hess",
    "categorical_cross_entropy",
    "categorical_cross_entropy_with_grad",
    "InvalidParameterError",
    "LossAccumulator",
    "log_loss",
    "show_config",
]


def _select_backend() -> tuple[str, object]:
    """(backend name, binary kernel), from CROSSENT_BACKEND, CROSSENT_CPU and what imports."""
    requested = os.environ.get("CROSSENT_BACKEND", "").strip().lower()
    if requested not in ("", "auto", "c", "numpy"):
        raise ImportError(
            f"CROSSENT_BACKEND must be 'c', 'numpy' or unset; got {requested!r}"
        )
    if requested != "numpy":
        try:
            from . import _core
        except ImportError as exc:
            if requested == "c":
                raise
            # a pure-Python install (CROSSENT_NO_EXTENSION=1) has no extension to miss: quietly
            # numpy; a built extension that fails to import is worth a warning
            if importlib.machinery.PathFinder.find_spec("crossent._core", __path__) is None:
                from .reference import binary_kernel

                return "numpy", binary_kernel
            warnings.warn(
                f"crossent: the compiled extension could not be imported ({exc}); "
                "using the much slower numpy implementation. Reinstall crossent from a wheel "
                "or with a C compiler to get the C kernel.",
                RuntimeWarning,
                stacklevel=3,
            )
        else:
            cpu = os.environ.get("CROSSENT_CPU", "").strip().lower()
            try:
                path = _core.select_path(cpu)
            except ValueError as exc:
                raise ImportError(f"CROSSENT_CPU={cpu!r}: {exc}") from None
            from ._api import default_bounds, raise_for_status

            _core.fast_setup(default_bounds(), raise_for_status)
            return f"c-{path}", _core.binary
    from .reference import binary_kernel

    return "numpy", binary_kernel


backend, _kernel = _select_backend()
_fast = None
if backend != "numpy":
    from ._core import binary_fast as _fast
_functions = make_functions(_kernel, __name__, _fast)  # type: ignore[arg-type]
binary_cross_entropy = _functions["binary_cross_entropy"]
binary_cross_entropy_with_grad = _functions["binary_cross_entropy_with_grad"]
binary_logistic_grad_hess = _functions["binary_logistic_grad_hess"]

if backend == "numpy":
    from .reference import categorical_kernel as _categorical_kernel
    from .reference import log_loss_pass as _log_loss_pass
else:
    from ._core import categorical as _categorical_kernel  # type: ignore[no-redef]
    from ._core import log_loss_pass as _log_loss_pass  # type: ignore[no-redef]
_categorical = make_categorical_functions(_categorical_kernel, __name__)
categorical_cross_entropy = _categorical["categorical_cross_entropy"]
categorical_cross_entropy_with_grad = _categorical["categorical_cross_entropy_with_grad"]
log_loss = make_log_loss(binary_cross_entropy, categorical_cross_entropy, __name__,
                         _log_loss_pass)
_parts = {"binary": _functions["parts"], "categorical": _categorical["parts"]}  # for batches
LossAccumulator.__module__ = __name__


def show_config() -> None:
    """Print the version, the backend in use and how the extension was built."""
    from ._info import config_lines

    print("\n".join(config_lines()))
