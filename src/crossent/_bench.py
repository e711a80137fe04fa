"""``python -m crossent bench``: speed against numpy and the peers, and accuracy in ULP.

Every cell of a row is measured in the same run on the same arrays: binary logit loss and
gradient, labels 0/1, logits drawn from N(0, 4^2), one thread. The times are medians of
several repeats; the ratios are peer time / crossent time, so higher is better for crossent.
"""

from __future__ import annotations

import importlib.util
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

FULL_SIZES = (1, 1_000, 100_000, 10_000_000)
QUICK_SIZES = (1, 1_000, 100_000)


def _time_per_call(fn: Callable[[], object], repeat: int, min_time: float = 0.02) -> float:
    """Median seconds per call over ``repeat`` runs of an auto-sized loop."""
    fn()
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time or loops >= 1 << 20:
            break
        loops *= 2 if elapsed > min_time / 8 else 8
    samples = [elapsed / loops]
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - t0) / loops)
    return statistics.median(samples)


def _peers(x: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    """The callables timed for one (dtype, n): each computes loss and gradient of the logits."""
    import crossent
    from crossent import reference

    g = np.empty_like(x)
    calls: dict[str, Callable[[], object]] = {
        "crossent": lambda: crossent.binary_cross_entropy_with_grad(y, x, kind="logit", out=g),
        "numpy-ref": lambda: reference.binary_cross_entropy_with_grad(
            y, x, kind="logit", out=g),
        "np.subtract": lambda: np.subtract(x, y, out=g),
    }
    if importlib.util.find_spec("sklearn") is not None:
        from sklearn._loss.loss import HalfBinomialLoss

        sk = HalfBinomialLoss()
        lo, go = np.empty_like(x), np.empty_like(x)
        calls["sklearn"] = lambda: sk.loss_gradient(y, x, loss_out=lo, gradient_out=go)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)
        tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y)

        def torch_call() -> object:
            t = tx.requires_grad_()
            t.grad = None
            loss = torch.nn.functional.binary_cross_entropy_with_logits(t, ty)
            loss.backward()
            return t.grad

        calls["torch"] = torch_call
    return calls


def _speed_table(sizes: tuple[int, ...], repeat: int, out: Any) -> None:
    rng = np.random.default_rng(0)
    header = None
    for dtype in (np.float32, np.float64):
        for n in sizes:
            x = (rng.standard_normal(n) * 4).astype(dtype)
            y = (rng.random(n) < 0.5).astype(dtype)
            calls = _peers(x, y)
            times = {name: _time_per_call(fn, repeat) for name, fn in calls.items()}
            others = [k for k in ("numpy-ref", "sklearn", "torch", "np.subtract") if k in calls]
            if header is None:
                header = (f"{'dtype':<8} {'n':>10} {'crossent':>10} {'ns/elem':>9} "
                          + " ".join(f"{k:>11}" for k in others))
                print(header, file=out)
                print("-" * len(header), file=out)
            t = times["crossent"]
            cells = " ".join(f"{times[k] / t:>10.2f}x" for k in others)
            print(f"{np.dtype(dtype).name:<8} {n:>10,} {_fmt_time(t):>10} {t / n * 1e9:>9.2f} "
                  f"{cells}", file=out, flush=True)


def _fmt_time(t: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def _peer_accuracy(dtype: Any) -> dict[str, dict[str, float]]:
    """Max ULP of the peers' logistic loss and gradient on the same hard logits."""
    from ._accuracy import exact_binary, hard_logits, ulp_error

    dt = np.dtype(dtype)
    x = hard_logits(dt)
    x = x[np.isfinite(x)]
    results: dict[str, dict[str, float]] = {}
    computed: dict[str, list[tuple[float, np.ndarray, np.ndarray]]] = {}
    if importlib.util.find_spec("sklearn") is not None:
        from sklearn._loss.loss import HalfBinomialLoss

        sk = HalfBinomialLoss()
        computed["sklearn"] = []
        for label in (0.0, 1.0):
            y = np.full(x.shape, label, dtype=dt)
            loss, grad = sk.loss_gradient(y, x)
            computed["sklearn"].append((label, loss, grad))
    if importlib.util.find_spec("torch") is not None:
        import torch

        computed["torch"] = []
        for label in (0.0, 1.0):
            t = torch.from_numpy(x.copy()).requires_grad_()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                t, torch.full_like(t, label), reduction="none")
            loss.sum().backward()
            computed["torch"].append((label, loss.detach().numpy(), t.grad.numpy()))
    for name, rows in computed.items():
        worst = {"loss": 0.0, "grad": 0.0}
        for label, loss, grad in rows:
            for i, xi in enumerate(x.tolist()):
                el, eg, _ = exact_binary("logit", xi, label)
                worst["loss"] = max(worst["loss"], ulp_error(loss[i], el, dt))
                worst["grad"] = max(worst["grad"], ulp_error(grad[i], eg, dt))
        results[name] = worst
    return results


def _accuracy_table(out: Any) -> None:
    import crossent

    from ._accuracy import max_ulp

    print(f"{'kind':<16} {'dtype':<8} {'loss':>8} {'grad':>8} {'hess':>8}   "
          "(max ULP vs mpmath, labels 0/1, hard inputs)", file=out)
    for kind in ("logit", "probability", "log_probability"):
        for dtype in (np.float32, np.float64):
            w = max_ulp(crossent, kind, dtype)
            hess = f"{w['hess']:>8.2f}" if "hess" in w else f"{'-':>8}"
            print(f"{kind:<16} {np.dtype(dtype).name:<8} {w['loss']:>8.2f} {w['grad']:>8.2f} "
                  f"{hess}", file=out, flush=True)
    for dtype in (np.float32, np.float64):
        for name, w in _peer_accuracy(dtype).items():
            print(f"{name + ' (logit)':<16} {np.dtype(dtype).name:<8} {w['loss']:>8.3g} "
                  f"{w['grad']:>8.3g} {'-':>8}", file=out, flush=True)


def run(quick: bool = False, sizes: list[int] | None = None, repeat: int | None = None,
        out: Any = None) -> int:
    import crossent

    out = sys.stdout if out is None else out
    chosen = tuple(sizes) if sizes else (QUICK_SIZES if quick else FULL_SIZES)
    repeat = repeat or (3 if quick else 7)
    versions = [f"crossent {crossent.__version__} ({crossent.backend})", f"numpy {np.__version__}"]
    for mod in ("sklearn", "torch"):
        if importlib.util.find_spec(mod) is not None:
            versions.append(f"{mod} {__import__(mod).__version__}")
        else:
            versions.append(f"{mod} not installed")
    print("; ".join(versions), file=out)
    print(f"{platform.machine()}, {platform.processor() or platform.system()}, "
          f"python {platform.python_version()}", file=out)
    print("\nBinary logit loss + gradient, 1 thread; ratio = peer time / crossent time\n",
          file=out, flush=True)
    _speed_table(chosen, repeat, out)
    print(file=out)
    if importlib.util.find_spec("mpmath") is None:
        print("accuracy: install mpmath (pip install 'crossent[bench]') to measure ULP errors",
              file=out)
    else:
        _accuracy_table(out)
    return 0
