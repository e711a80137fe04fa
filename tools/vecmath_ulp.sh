#!/usr/bin/env bash
# Max ULP of csrc/vecmath.h for each function: tools/vecmath_ulp.sh [float32 stride] [float64 samples]
# (stride 1 visits every float32: about two minutes). Builds for each SIMD target the CPU runs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
flags="-O2 -std=c99 -ffp-contract=off -fno-math-errno -Icsrc"
gcc $flags tools/vecmath_ulp.c -o "$out/ulp_generic" -lm
echo "== generic x86-64"; "$out/ulp_generic" "${1:-1}" "${2:-2000000}"
if grep -q avx2 /proc/cpuinfo 2>/dev/null; then
  # as the extension builds its AVX2 path: with fused multiply-add
  gcc $flags -mavx2 -mfma -DCE_HAVE_FMA -ffp-contract=fast tools/vecmath_ulp.c -o "$out/ulp_avx2" -lm
  echo "== avx2"; "$out/ulp_avx2" "${1:-1}" "${2:-2000000}"
fi
if grep -q avx512bw /proc/cpuinfo 2>/dev/null; then
  # as the extension builds its AVX-512 path: F, DQ, VL, BW, 512-bit vectors, fused multiply-add
  gcc $flags -mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma -mprefer-vector-width=512 \
    -DCE_HAVE_FMA -ffp-contract=fast tools/vecmath_ulp.c -o "$out/ulp_avx512" -lm
  echo "== avx512"; "$out/ulp_avx512" "${1:-1}" "${2:-2000000}"
fi
