"""Near-minimax coefficients for the narrow-domain logit functions of csrc/vecmath.h.

    python tools/fit_poly.py

Fits, with mpmath's Chebyshev interpolation at 200-bit precision, the polynomials that
ce_log1p_unit and ce_log1p_unit_f evaluate:

    T(z) = (atanh(s) / s - 1) / z,   z = s^2 in [0, 1/25]

(log1p(f) = 2 s (1 + z T(z)) with s = f / (2 + f), f in [-1/4, 1/2)), and prints the
coefficients, lowest order first, as C hex literals, with the fit's maximum absolute error and
the relative error it gives log1p (at most z times the error of T).
"""

from __future__ import annotations

import mpmath as mp

mp.mp.prec = 200
Z_MAX = mp.mpf(1) / 25


def t_of_z(z: mp.mpf) -> mp.mpf:
    if z < mp.mpf("1e-50"):
        return mp.mpf(1) / 3 + z / 5
    s = mp.sqrt(z)
    return (mp.atanh(s) / s - 1) / z


def fit(degree: int, dtype: str) -> None:
    coeffs, err = mp.chebyfit(t_of_z, [0, Z_MAX], degree + 1, error=True)
    low_first = list(reversed(coeffs))
    if dtype == "float":
        import numpy as np

        lits = [float(np.float32(float(c))).hex() + "f" for c in low_first]
    else:
        lits = [float(c).hex() for c in low_first]
    print(f"T for {dtype}: degree {degree}, max |error| {mp.nstr(err, 3)}, "
          f"log1p relative error <= {mp.nstr(err * Z_MAX, 3)}")
    for k, lit in enumerate(lits):
        print(f"  z^{k}: {lit}")


if __name__ == "__main__":
    fit(7, "double")
    fit(3, "float")
