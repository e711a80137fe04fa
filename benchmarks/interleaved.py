"""The targets' ratios measured in interleaved rounds, for a shared and noisy machine.

    python benchmarks/interleaved.py [--rounds R] [--n N] [--kind logit]
    python benchmarks/interleaved.py [--rounds R] --categorical 100000x10 [--categorical ...]
                                     [--back-to-back]
    python benchmarks/interleaved.py [--rounds R] --log-loss 1000000 [--log-loss ...]

pytest-benchmark times each peer's rounds one after the other, so a machine whose speed drifts
by tens of percent within minutes (a shared cloud host) can favour whichever peer ran in a fast
minute. Here every round times each peer once, in turn, on the same arrays; a ratio is taken
within each round (peer time / crossent time, above 1 means crossent is faster) and the table
gives the median over rounds, next to each peer's median time. "crossent-2threads" is reported
as crossent's own speed-up (1-thread time / 2-thread time). n = 1 calls are timed in loops of
several thousand calls per round, so that the clock's resolution does not matter.

"crossent-2threads" in that table starts each 2-thread call after the other peers' single-thread
calls, when the second core has been idle for a few hundred milliseconds; on a virtual machine
such a core comes back slowly, and the 1-thread call just before it also pays for a cold start.
`--threads` measures the speed-up as a loop that calls crossent repeatedly sees it: each round
makes a few 1-thread calls back to back, then a few 2-thread calls, and times all but the first
of each (pytest-benchmark's rounds are back to back too).

    python benchmarks/interleaved.py [--rounds R] --threads [--n N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_bench_binary import _data, _make_call  # noqa: E402
from test_bench_categorical import CAT_PEERS, cat_data, make_cat_call  # noqa: E402
from test_bench_log_loss import (  # noqa: E402
    CASES,
    LOG_LOSS_PEERS,
    log_loss_data,
    make_log_loss_call,
)

PEERS = ["crossent", "crossent-2threads", "sklearn", "torch", "numba", "np.subtract"]


def _available(peer: str, kind: str) -> bool:
    module = {"sklearn": "sklearn", "torch": "torch", "numba": "numba"}.get(peer)
    if peer == "sklearn" and kind != "logit":
        return False
    return module is None or importlib.util.find_spec(module) is not None


def measure(kind: str, n: int, dtype: type, rounds: int) -> dict[str, tuple[float, float]]:
    """Per peer: (median seconds per call, median over rounds of the within-round ratio)."""
    x, y = _data(kind, n, dtype)
    calls = {p: _make_call(kind, p, x, y) for p in PEERS if _available(p, kind)}
    return _rounds(calls, max(1, 20_000 // n) if n < 1000 else 1, rounds)


def measure_categorical(n: int, c: int, rounds: int,
                        warm: bool = False) -> dict[str, tuple[float, float]]:
    """As measure, for float32 softmax cross-entropy over (n, c) logits."""
    x, y = cat_data(n, c)
    calls = {p: make_cat_call(p, x, y) for p in CAT_PEERS}
    loops = max(1, 20_000 // (n * c))
    return _rounds(calls, max(loops, 3) if warm else loops, rounds, warm)


def _rounds(calls: dict, loops: int, rounds: int,
            warm: bool = False) -> dict[str, tuple[float, float]]:
    """warm: each peer's timed calls follow an untimed one of its own (its arrays in cache)."""
    times: dict[str, list[float]] = {p: [] for p in calls}
    for fn in calls.values():  # warm-up: first-call costs, page faults, numba compilation
        fn()
    for _ in range(rounds):
        for peer, fn in calls.items():
            if warm:
                fn()
            t0 = time.perf_counter()
            for _ in range(loops):
                fn()
            times[peer].append((time.perf_counter() - t0) / loops)
    base = times["crossent"]
    out = {}
    for peer, ts in times.items():
        if peer == "crossent-2threads":
            ratios = [b / t for b, t in zip(base, ts, strict=True)]
        else:
            ratios = [t / b for b, t in zip(base, ts, strict=True)]
        out[peer] = (statistics.median(ts), statistics.median(ratios))
    return out


def measure_threads(n: int, dtype: type, rounds: int, calls: int = 4) -> tuple[float, float, float]:
    """Median 1-thread and 2-thread seconds per call, and the median within-round speed-up,
    for back-to-back calls (the first call of each block is a warm-up, not timed)."""
    x, y = _data("logit", n, dtype)
    one, two = _make_call("logit", "crossent", x, y), _make_call("logit", "crossent-2threads", x, y)
    t1s, t2s, ratios = [], [], []
    for _ in range(rounds):
        per = []
        for fn in (one, two):
            fn()
            t0 = time.perf_counter()
            for _ in range(calls - 1):
                fn()
            per.append((time.perf_counter() - t0) / (calls - 1))
        t1s.append(per[0])
        t2s.append(per[1])
        ratios.append(per[0] / per[1])
    return statistics.median(t1s), statistics.median(t2s), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--n", type=int, action="append", help="sizes (default 1 and 10^7)")
    parser.add_argument("--kind", default="logit")
    parser.add_argument("--categorical", action="append", metavar="NxC",
                        help="categorical shapes instead of binary sizes, e.g. 100000x10")
    parser.add_argument("--log-loss", action="append", type=int, metavar="N",
                        help="log_loss against scikit-learn's at these sizes")
    parser.add_argument("--threads", action="store_true",
                        help="the 2-thread speed-up of back-to-back binary logit calls")
    parser.add_argument("--back-to-back", action="store_true",
                        help="categorical: time each peer's calls after an untimed one of its "
                             "own, its arrays in cache, as a loop over the same batch sees it")
    args = parser.parse_args(argv)
    if args.threads:
        print(f"binary logit, n_threads=2 against 1, back-to-back calls, {args.rounds} rounds")
        print("| dtype | n | 1 thread | 2 threads | speed-up |")
        print("|---|---:|---:|---:|---:|")
        for dtype in (np.float32, np.float64):
            for n in args.n or [10_000_000]:
                t1, t2, r = measure_threads(n, dtype, args.rounds)
                print(f"| {np.dtype(dtype).name} | {n:,} | {t1 / n * 1e9:.2f} ns/el | "
                      f"{t2 / n * 1e9:.2f} ns/el | {r:.2f}x |")
        return 0
    if args.log_loss:
        print(f"log_loss float64, {args.rounds} interleaved rounds; cells: median time, "
              "median within-round ratio")
        print("| case | n | " + " | ".join(LOG_LOSS_PEERS) + " |")
        print("|---|---:|" + "---:|" * len(LOG_LOSS_PEERS))
        for n in args.log_loss:
            for case in CASES:
                y, p = log_loss_data(case, n)
                calls = {peer: make_log_loss_call(peer, y, p) for peer in LOG_LOSS_PEERS}
                res = _rounds(calls, max(1, 20_000 // n), args.rounds)
                cells = [f"{res[peer][0] * 1e3:.3g} ms" + ("" if peer == "crossent" else
                                                          f", {res[peer][1]:.1f}x")
                         for peer in LOG_LOSS_PEERS]
                print(f"| {case} | {n:,} | " + " | ".join(cells) + " |")
        return 0
    if args.categorical:
        print(f"categorical logit float32, {args.rounds} interleaved rounds"
              + (", each peer's calls back to back" if args.back_to_back else "")
              + "; cells: median time, median within-round ratio")
        print("| n x C | " + " | ".join(CAT_PEERS) + " |")
        print("|---|" + "---:|" * len(CAT_PEERS))
        for shape in args.categorical:
            n, c = (int(float(v)) for v in shape.split("x"))
            res = measure_categorical(n, c, args.rounds, args.back_to_back)
            cells = []
            for p in CAT_PEERS:
                t, r = res[p]
                per = f"{t / (n * c) * 1e9:.2f} ns/el"
                cells.append(per if p == "crossent" else f"{per}, {r:.2f}x")
            print(f"| {n:,} x {c:,} | " + " | ".join(cells) + " |")
        return 0
    sizes = args.n or [1, 10_000_000]
    cols = [p for p in PEERS if _available(p, args.kind)]
    print(f"binary {args.kind}, {args.rounds} interleaved rounds; cells: median time, "
          "median within-round ratio")
    print("| dtype | n | " + " | ".join(cols) + " |")
    print("|---|---:|" + "---:|" * len(cols))
    for dtype in (np.float32, np.float64):
        for n in sizes:
            res = measure(args.kind, n, dtype, args.rounds)
            cells = []
            for p in cols:
                t, r = res[p]
                per = f"{t / n * 1e9:.2f} ns/el" if n > 1 else f"{t * 1e6:.2f} us"
                cells.append(per if p == "crossent" else f"{per}, {r:.2f}x")
            print(f"| {np.dtype(dtype).name} | {n:,} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
