#!/usr/bin/env bash
# Fuzz the C kernels (csrc/) through their C API: build fuzz/fuzz_kernels.c and the kernels with
# clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, fuzz for [seconds] (default
# 60) starting from a copy of the committed corpus fuzz/corpus/, then run every input of the
# committed corpus once as a regression test. Exits non-zero on any crash, sanitizer report, leak,
# timeout or failed check of the harness; the input that failed is kept in the artifact directory
# it prints (add it to fuzz/corpus/ once the bug is fixed).
#
#   bash tools/fuzz.sh [seconds]
#
# Environment:
#   FUZZ_BUILD_DIR   where objects, logs and artifacts go (default build/fuzz); the kernel objects
#                    are reused while csrc/, the flags and the compiler are unchanged
#   FUZZ_CORPUS_DIR  fuzz in this directory and keep it (default: a temporary copy, removed)
#   FUZZ_ARGS        more libFuzzer options, e.g. "-max_len=20000"
#   CROSSENT_CPU     generic, avx2 or avx512: check only that SIMD path (default: every path
#                    this CPU runs, compared with one another)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
case $seconds in
    '' | *[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac
cc=${FUZZ_CC:-clang}
build=${FUZZ_BUILD_DIR:-build/fuzz}
mkdir -p "$build"
build=$(cd "$build" && pwd)

# clang with libFuzzer and the sanitizer runtimes; on a fresh CI machine, install them as .ci/run
# installs its compilers
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    > "$build/probe.c"
probe() {
    "$cc" -fsanitize=fuzzer,address,undefined "$build/probe.c" -o "$build/probe" > /dev/null 2>&1
}
if ! probe; then
    echo "== installing clang and libclang-rt-14-dev (libFuzzer)"
    { apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev \
        || { apt-get update -q && apt-get install -y -q --no-install-recommends clang \
             libclang-rt-14-dev; }; } > /dev/null
    probe || { echo "fuzz.sh: $cc cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi

# OpenMP only where it compiles and links (libomp may be missing); passes this small never start
# threads, but the code is then the code that ships
omp=""
printf '#include <omp.h>\n#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return omp_get_max_threads() < 1; }\n' \
    > "$build/probe_omp.c"
if "$cc" -fopenmp -fsanitize=fuzzer,address,undefined "$build/probe_omp.c" \
        -o "$build/probe_omp" > /dev/null 2>&1; then
    omp="-fopenmp"
fi

# setup.py's flags for the kernels (the AVX files set their targets with pragmas), plus the
# sanitizers; -fsanitize=fuzzer-no-link instruments the objects, the link brings in libFuzzer
flags="-g -O1 -std=c99 -ffp-contract=off -fno-math-errno -fno-trapping-math -Wall -Wextra
       -fno-sanitize-recover=undefined $omp -Icsrc"
sanitize="address,undefined"
kernels="binary binary_avx2 binary_avx512 dispatch"

stamp=$( { "$cc" --version; echo "$flags $sanitize"; cat csrc/*.c csrc/*.h; } | sha256sum | cut -c1-16)
if [ "$(cat "$build/kernels.stamp" 2> /dev/null)" != "$stamp" ]; then
    echo "== compiling the kernels (a few minutes: each SIMD target's file is large)"
    rm -f "$build/kernels.stamp"
    # shellcheck disable=SC2086
    printf '%s\n' $kernels | xargs -P "$(nproc)" -I{} \
        "$cc" $flags -fsanitize=fuzzer-no-link,$sanitize -c csrc/{}.c -o "$build/{}.o"
    echo "$stamp" > "$build/kernels.stamp"
fi
echo "== compiling fuzz/fuzz_kernels.c and linking"
# shellcheck disable=SC2086
"$cc" $flags -fsanitize=fuzzer-no-link,$sanitize -c fuzz/fuzz_kernels.c -o "$build/fuzz_kernels.o"
# shellcheck disable=SC2086
"$cc" $omp -fsanitize=fuzzer,$sanitize "$build/fuzz_kernels.o" \
    $(printf "$build/%s.o " $kernels) -lm -o "$build/fuzz_kernels"

artifacts="$build/artifacts"
mkdir -p "$artifacts"
if [ -n "${FUZZ_CORPUS_DIR:-}" ]; then
    work=$FUZZ_CORPUS_DIR
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
cp fuzz/corpus/* "$work/"

status=0
echo "== fuzzing for ${seconds}s from $(ls fuzz/corpus | wc -l) committed inputs (log: $build/fuzz.log)"
# shellcheck disable=SC2086
"$build/fuzz_kernels" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=60 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} \
    > "$build/fuzz.log" 2>&1 || status=$?
grep -E '^#[0-9]+[[:space:]]+DONE' "$build/fuzz.log" || true
executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz.log" | tail -1)
echo "executed ${executed:-?} inputs; the working corpus has $(ls "$work" | wc -l) inputs"
if [ "$status" -ne 0 ]; then
    tail -n 60 "$build/fuzz.log"
    echo "fuzz.sh: the fuzzer failed (exit $status); inputs in $artifacts" >&2
    exit "$status"
fi

echo "== regression: each committed input once (log: $build/regress.log)"
"$build/fuzz_kernels" -rss_limit_mb=2048 -timeout=60 fuzz/corpus/* \
    > "$build/regress.log" 2>&1 || status=$?
ran=$(grep -c '^Executed ' "$build/regress.log" || true)
echo "ran $ran of $(ls fuzz/corpus | wc -l) committed inputs"
if [ "$status" -ne 0 ]; then
    tail -n 60 "$build/regress.log"
    echo "fuzz.sh: a committed input fails (exit $status)" >&2
    exit "$status"
fi
echo "fuzz.sh: no crash, no failed check"
