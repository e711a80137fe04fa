"""The README's binary accuracy table: max ULP against mpmath over the hard inputs of
crossent._accuracy, labels 0 and 1, for every SIMD path this CPU runs (each in a subprocess with
CROSSENT_CPU set) and the numpy backend.

    python tools/accuracy_table.py

A cell shows one number when every path agrees, else the paths' numbers in the order of the
header.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

KINDS = ["logit", "probability", "log_probability"]
DTYPES = ["float32", "float64"]

CHILD = r"""
import json, sys
import numpy as np
import crossent
from crossent._accuracy import max_ulp
out = {}
for kind in %(kinds)r:
    for dtype in %(dtypes)r:
        for pw in (None, 3.0):
            w = max_ulp(crossent, kind, np.dtype(dtype), pos_weight=pw)
            out[f"{kind} {dtype} {pw}"] = w
json.dump({"backend": crossent.backend, "worst": out}, sys.stdout)
"""


def _run(env_update: dict[str, str]) -> dict:
    env = dict(os.environ, **env_update)
    code = CHILD % {"kinds": KINDS, "dtypes": DTYPES}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def main() -> int:
    from crossent import _core  # the SIMD paths this CPU runs

    paths = list(_core.paths_available)
    runs = [_run({"CROSSENT_CPU": p}) for p in paths]
    runs.append(_run({"CROSSENT_BACKEND": "numpy"}))
    names = [r["backend"] for r in runs]
    print("cells: " + " / ".join(names) + " (one number when they agree)")
    print("| kind | dtype | loss | grad | hess | with pos_weight=3: loss ; grad ; hess |")
    print("|---|---|---:|---:|---:|---|")

    def cell(key: str, q: str) -> str:
        vals = [f"{r['worst'][key][q]:.2f}" for r in runs]
        return vals[0] if len(set(vals)) == 1 else " / ".join(vals)

    for kind in KINDS:
        for dtype in DTYPES:
            plain, pw = f"{kind} {dtype} None", f"{kind} {dtype} 3.0"
            hess = cell(plain, "hess") if kind == "logit" else "—"
            qs = ["loss", "grad"] + (["hess"] if kind == "logit" else [])
            print(f"| {kind} | {dtype} | {cell(plain, 'loss')} | {cell(plain, 'grad')} | {hess} | "
                  + " ; ".join(cell(pw, q) for q in qs) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
