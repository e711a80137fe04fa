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
            loss.backward()  # type: ignore[no-untyped-call]
            return t.grad

        calls["torch"] = torch_call
    return calls


class _Progress:
    """A one-line progress bar on stderr (redrawn in place), or nothing."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled

    def step(self, what: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {self.done}/{self.total} {what:<32.32}")
        sys.stderr.flush()
        self.done += 1

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()


def _speed_table(sizes: tuple[int, ...], repeat: int, out: Any,
                 progress: _Progress) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    header = None
    records: list[dict[str, Any]] = []
    for dtype in (np.float32, np.float64):
        for n in sizes:
            x = (rng.standard_normal(n) * 4).astype(dtype)
            y = (rng.random(n) < 0.5).astype(dtype)
            calls = _peers(x, y)
            times = {}
            for name, fn in calls.items():
                progress.step(f"{np.dtype(dtype).name} n={n:,} {name}")
                times[name] = _time_per_call(fn, repeat)
            others = [k for k in ("numpy-ref", "sklearn", "torch", "np.subtract") if k in calls]
            if header is None:
                header = (f"{'dtype':<8} {'n':>10} {'crossent':>10} {'ns/elem':>9} "
                          + " ".join(f"{k:>11}" for k in others))
                _print(header, out, progress)
                _print("-" * len(header), out, progress)
            t = times["crossent"]
            cells = " ".join(f"{times[k] / t:>10.2f}x" for k in others)
            _print(f"{np.dtype(dtype).name:<8} {n:>10,} {_fmt_time(t):>10} {t / n * 1e9:>9.2f} "
                   f"{cells}", out, progress)
            records += [{"dtype": np.dtype(dtype).name, "n": n, "peer": name, "seconds": sec,
                         "ratio": sec / t} for name, sec in times.items()]
    return records


def _print(line: str, out: Any, progress: _Progress) -> None:
    """A table line, printed over the progress bar when both go to the terminal."""
    if progress.enabled:
        sys.stderr.write("\r" + " " * 80 + "\r")
        sys.stderr.flush()
    print(line, file=out, flush=True)


def _plot(records: list[dict[str, Any]], path: str, title: str) -> None:
    """Throughput against n, log-log, one line per implementation, one panel per dtype."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install 'crossent[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = sorted({r["dtype"] for r in records})
    fig, axes = plt.subplots(1, len(dtypes), figsize=(5.5 * len(dtypes), 4.2), sharey=True,
                             squeeze=False)
    for ax, dtype in zip(axes[0], dtypes, strict=True):
        peers = list(dict.fromkeys(r["peer"] for r in records if r["dtype"] == dtype))
        for peer in peers:
            rows = sorted((r["n"], r["n"] / r["seconds"]) for r in records
                          if r["dtype"] == dtype and r["peer"] == peer)
            style = {"linewidth": 2.5, "color": "black"} if peer == "crossent" else {}
            ax.loglog([n for n, _ in rows], [v for _, v in rows], marker="o", label=peer,
                      **style)
        ax.set_title(f"binary logit loss + gradient, {dtype}")
        ax.set_xlabel("n (elements)")
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel("elements per second (1 thread)")
    axes[0][-1].legend(loc="lower right", fontsize="small")
    fig.suptitle(title, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
            loss.sum().backward()  # type: ignore[no-untyped-call]
            assert t.grad is not None
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


def _accuracy_table(out: Any, progress: _Progress) -> list[dict[str, Any]]:
    import crossent

    from ._accuracy import max_ulp

    records: list[dict[str, Any]] = []
    _print(f"{'kind':<16} {'dtype':<8} {'loss':>8} {'grad':>8} {'hess':>8}   "
           "(max ULP vs mpmath, labels 0/1, hard inputs)", out, progress)
    for kind in ("logit", "probability", "log_probability"):
        for dtype in (np.float32, np.float64):
            progress.step(f"accuracy {kind} {np.dtype(dtype).name}")
            w = max_ulp(crossent, kind, dtype)
            hess = f"{w['hess']:>8.2f}" if "hess" in w else f"{'-':>8}"
            _print(f"{kind:<16} {np.dtype(dtype).name:<8} {w['loss']:>8.2f} {w['grad']:>8.2f} "
                   f"{hess}", out, progress)
            records.append({"implementation": "crossent", "kind": kind,
                            "dtype": np.dtype(dtype).name, **w})
    for dtype in (np.float32, np.float64):
        progress.step(f"accuracy of the peers, {np.dtype(dtype).name}")
        for name, w in _peer_accuracy(dtype).items():
            _print(f"{name + ' (logit)':<16} {np.dtype(dtype).name:<8} {w['loss']:>8.3g} "
                   f"{w['grad']:>8.3g} {'-':>8}", out, progress)
            records.append({"implementation": name, "kind": "logit",
                            "dtype": np.dtype(dtype).name, **w})
    return records


def _n_peers() -> int:
    return 3 + sum(importlib.util.find_spec(m) is not None for m in ("sklearn", "torch"))


def run(quick: bool = False, sizes: list[int] | None = None, repeat: int | None = None,
        out: Any = None, json_path: str | None = None, plot_path: str | None = None,
        progress: bool | None = None, accuracy: bool = True) -> int:
    """Print the speed and accuracy tables; optionally write them as JSON and plot the speed.

    ``progress`` None shows the bar when stderr is a terminal.
    """
    import crossent

    out = sys.stdout if out is None else out
    chosen = tuple(sizes) if sizes else (QUICK_SIZES if quick else FULL_SIZES)
    repeat = repeat or (3 if quick else 7)
    if plot_path is not None and importlib.util.find_spec("matplotlib") is None:
        # fail before minutes of timing, not after
        raise ImportError("--plot needs matplotlib: pip install 'crossent[plot]'")
    have_mpmath = accuracy and importlib.util.find_spec("mpmath") is not None
    show = sys.stderr.isatty() if progress is None else progress
    bar = _Progress(2 * len(chosen) * _n_peers() + (8 if have_mpmath else 0), show)
    versions = [f"crossent {crossent.__version__} ({crossent.backend})", f"numpy {np.__version__}"]
    for mod in ("sklearn", "torch"):
        if importlib.util.find_spec(mod) is not None:
            versions.append(f"{mod} {__import__(mod).__version__}")
        else:
            versions.append(f"{mod} not installed")
    machine = (f"{platform.machine()}, {platform.processor() or platform.system()}, "
               f"python {platform.python_version()}")
    print("; ".join(versions), file=out)
    print(machine, file=out)
    print("\nBinary logit loss + gradient, 1 thread; ratio = peer time / crossent time\n",
          file=out, flush=True)
    speed = _speed_table(chosen, repeat, out, bar)
    print(file=out)
    ulps: list[dict[str, Any]] = []
    if have_mpmath:
        ulps = _accuracy_table(out, bar)
    elif accuracy:
        print("accuracy: install mpmath (pip install 'crossent[bench]') to measure ULP errors",
              file=out)
    bar.close()
    if json_path is not None:
        import json

        with open(json_path, "w", encoding="utf-8") as f:
            json.dump({"versions": versions, "machine": machine, "repeat": repeat,
                       "speed": speed, "accuracy": ulps}, f, indent=1)
        print(f"\nwrote {json_path}", file=out)
    if plot_path is not None:
        _plot(speed, plot_path, "; ".join(versions) + "\n" + machine)
        print(f"wrote {plot_path}", file=out)
    return 0
