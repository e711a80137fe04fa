"""Turn a pytest-benchmark JSON run into the README's ratio table.

    CROSSENT_BENCH_SIZES=1,1000,100000,10000000 python -m pytest benchmarks \
        --benchmark-json=run.json
    python benchmarks/ratio_table.py run.json

Each peer cell is the peer's median time divided by crossent's median time in the same group
(same run, same arrays): above 1, crossent is faster. "2 threads" is crossent's speed-up from
n_threads=2. ns/elem is crossent's median per element.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

ORDER = ["numpy-ref", "sklearn", "torch", "numba", "scipy", "np.subtract"]


def table(run: dict) -> str:
    groups: dict[tuple[str, str, int, int], dict[str, float]] = defaultdict(dict)
    for bench in run["benchmarks"]:
        info = bench["extra_info"]  # categorical runs also give c, the classes per row
        key = (info["kind"], info["dtype"], int(info["n"]), int(info.get("c", 1)))
        groups[key][info["peer"]] = bench["stats"]["median"]
    peers = [p for p in ORDER if any(p in g for g in groups.values())]
    lines = [
        "| kind | dtype | n | crossent | ns/elem | 2 threads | " + " | ".join(peers) + " |",
        "|---|---|---:|---:|---:|---:|" + "---:|" * len(peers),
    ]
    for (kind, dtype, n, c), times in sorted(groups.items()):
        base = times.get("crossent")
        if base is None:
            continue
        cells = [f"{times[p] / base:.2f}x" if p in times else "-" for p in peers]
        two = times.get("crossent-2threads")
        speedup = f"{base / two:.2f}x" if two else "-"
        size = f"{n:,}" if c == 1 else f"{n:,} x {c:,}"
        lines.append(f"| {kind} | {dtype} | {size} | {_fmt(base)} | {base / (n * c) * 1e9:.2f} | "
                     f"{speedup} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        print(table(json.load(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
