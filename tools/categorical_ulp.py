"""Max ULP of the categorical logit loss and gradient against mpmath, per dtype and row length.

    python tools/categorical_ulp.py [--rows N] [--digits D]

Rows are drawn to reach every pass and special case of the C kernel: random logits at several
scales, confident correct rows (margins 10 to 10^4, the tiny losses), ties at the maximum, masked
(-inf) classes and rows that span more than 87; row lengths 10 (64 rows per pass, one per lane),
1000 (one piece) and 3000 (blocks of 512, joined online). Each element is compared with mpmath
at D digits. Run it once per SIMD path with CROSSENT_CPU=generic|avx2|avx512; CROSSENT_BACKEND=numpy
measures the numpy reference.
"""

from __future__ import annotations

import argparse

import mpmath as mp
import numpy as np

import crossent


def rows(rng: np.random.Generator, n: int, c: int,
         wide: bool = True) -> tuple[np.ndarray, np.ndarray]:
    scale = rng.choice([0.5, 3.0, 30.0 if wide else 8.0], size=(n, 1))
    x = rng.standard_normal((n, c)) * scale
    y = rng.integers(0, c, n)
    kind = np.arange(n) % 6
    for i in np.flatnonzero(kind == 1):  # confident and correct
        x[i, y[i]] = x[i].max() + rng.choice([10.0, 30.0, 100.0, 700.0, 1e4])
    for i in np.flatnonzero(kind == 2):  # a tie at the maximum, with the label in it
        j = (y[i] + 1) % c
        x[i, y[i]] = x[i, j] = x[i].max() + 1.0
    if not wide:  # no row spans more than 87: float32 blocks of short rows take float lanes
        kind[(kind == 3) | (kind == 4)] = 0
        for i in np.flatnonzero(kind == 1):
            x[i, y[i]] = np.sort(x[i])[-2] + rng.choice([10.0, 30.0, 60.0])
    for i in np.flatnonzero(kind == 3):  # masked classes, not the label
        m = rng.random(c) < 0.3
        m[y[i]] = False
        x[i, m] = -np.inf
    for i in np.flatnonzero(kind == 4):  # spans more than 87
        x[i, rng.integers(0, c)] = x[i].max() + 95.0
    return x, y


def ulps(got: float, want: mp.mpf, dtype: type) -> float:
    """|got - want| in units of the spacing of dtype at want, want unrounded."""
    w = float(want)
    unit = float(np.spacing(dtype(max(abs(w), np.finfo(dtype).tiny))))
    return float(abs(mp.mpf(float(got)) - want) / unit)


def measure(dtype: type, c: int, n: int, digits: int, wide: bool) -> tuple[float, float]:
    mp.mp.dps = digits
    rng = np.random.default_rng(c)
    x, y = rows(rng, n, c, wide)
    x = x.astype(dtype)
    loss, grad = crossent.categorical_cross_entropy_with_grad(y, x, kind="logit",
                                                              reduction="none")
    worst_loss = worst_grad = 0.0
    for i in range(n):
        xs = [mp.mpf(float(v)) for v in x[i]]
        t = max(range(c), key=lambda j: (xs[j], -j))
        e = [mp.exp(v - xs[t]) for v in xs]
        rest = mp.fsum(e[:t] + e[t + 1:])  # apart from e[t] = 1: it can be below 1e-40
        worst_loss = max(worst_loss, ulps(loss[i], mp.log1p(rest) + (xs[t] - xs[y[i]]), dtype))
        for j in range(c):
            want = (-rest / (1 + rest) if j == t == y[i]
                    else e[j] / (1 + rest) - (1 if j == y[i] else 0))
            worst_grad = max(worst_grad, ulps(grad[i, j], want, dtype))
    return worst_loss, worst_grad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=120)
    parser.add_argument("--digits", type=int, default=40)
    args = parser.parse_args(argv)
    print(f"backend {crossent.backend}; max ULP against mpmath ({args.digits} digits), "
          f"{args.rows} rows per cell")
    print("| dtype | C | rows | loss | gradient |")
    print("|---|---:|---|---:|---:|")
    for dtype in (np.float32, np.float64):
        for c, wide in ((10, False), (10, True), (1000, True), (3000, True)):
            n = args.rows if c <= 1000 else max(6, args.rows // 4)
            lo, gr = measure(dtype, c, n, args.digits, wide)
            what = "all kinds" if wide else "none spanning > 87"
            print(f"| {np.dtype(dtype).name} | {c:,} | {what} | {lo:.2f} | {gr:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
