#!/usr/bin/env bash
# The whole test suite against an AddressSanitizer + UndefinedBehaviorSanitizer build of the
# extension: bash tools/sanitize.sh [extra pytest arguments for the main run]
#
# Copies the working tree (tracked files plus untracked, non-ignored ones: uncommitted edits
# included, no build products) into a temporary directory, builds crossent._core there in place
# with gcc -fsanitize=address,undefined and runs pytest from the copy; the installed package and
# this checkout are not touched. Exits non-zero on a test failure or on any sanitizer report, from
# pytest itself or from any process it starts (subprocess tests, Dask workers).
#
#   1. the full suite on the default (best) SIMD path; tests/test_dispatch.py already switches
#      through every path the CPU runs, in process;
#   2. a subset with CROSSENT_CPU forced to each other path (generic, avx2), so that the whole
#      import-time dispatch and the categorical / binary kernels run on each target.
#
# Environment: SANITIZE_KEEP=1 keeps the temporary directory; SANITIZE_PATH_TESTS (the subset of
# step 2, space-separated); SANITIZE_TEST_TIMEOUT (seconds, per test; default 300);
# SANITIZE_TIMEOUT (seconds, per pytest run; default 1500); SANITIZE_UBSAN_RECOVER=1 reports every
# undefined behaviour and carries on instead of stopping at the first (the run still fails).
#
# Why it is set up as it is:
# - Python is not instrumented, so libasan must be the first library loaded: LD_PRELOAD. libubsan
#   need not be preloaded (the extension pulls it in; gcc keeps UBSan in its own runtime).
#   libstdc++ is preloaded too: otherwise ASan resolves its __cxa_throw interceptor before any C++
#   library is loaded and the first C++ exception (matplotlib's ft2font, torch, ...) dies with
#   "CHECK failed: asan_interceptors.cpp: real___cxa_throw != 0" (google/sanitizers#934).
# - detect_leaks=0: CPython, numpy, torch etc. keep allocations alive until exit by design.
# - ASan reports go to files (log_path), one per process, so that a report from a subprocess whose
#   output a test captures is not lost; the plugin below fails the test during which a report
#   appears, and the script fails if any exists. gcc's UBSan ignores log_path when combined with
#   ASan (GCC PR 94328), so UBSan writes to stderr: pytest runs with --capture=sys (no fd-level
#   capture, so a report from pytest's own process is printed even though the process dies) and
#   the output is scanned for reports.
# - UB is fatal (-fno-sanitize-recover=undefined, halt_on_error, abort_on_error: the SIGABRT makes
#   faulthandler print the Python traceback of the test).
# - setup.py's own flags come after CFLAGS, so its -O3 stays: the optimised code is what is checked.
# - A Dask worker killed by a sanitizer would be retried by the scheduler (with the default
#   allowed-failures a run was seen to hang for 20 minutes): allowed-failures=0 makes the task fail
#   at once (KilledWorker). A per-test timeout (faulthandler, exit) guards against any other hang.
# - OpenMP (libgomp) and the third-party libraries of the tests (torch, scikit-learn, XGBoost,
#   LightGBM, numba, Dask, matplotlib) run under ASan without reports or crashes: nothing is
#   skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
python=${PYTHON:-python}
timeout_run=${SANITIZE_TIMEOUT:-1500}
path_tests=${SANITIZE_PATH_TESTS:-tests/test_dispatch.py tests/test_categorical.py tests/test_plain.py tests/test_layout.py tests/test_reliability.py}

work=$(mktemp -d "${TMPDIR:-/tmp}/crossent-sanitize.XXXXXX")
cleanup() {
    if [ "${SANITIZE_KEEP:-0}" = 1 ]; then echo "sanitize: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
tree=$work/tree logs=$work/sanitizer-logs
mkdir -p "$tree" "$logs" "$work/plugin"

echo "== copy the working tree to $tree"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    # tracked (as they are on disk, edits included) and untracked non-ignored files; a tracked file
    # deleted in the working tree is left out
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf - | tar -xf - -C "$tree"
else
    tar --exclude=./build --exclude=./dist --exclude='*.so' --exclude=./src/crossent/_core.c \
        --exclude='*.egg-info' --exclude=__pycache__ --exclude=.git -cf - . | tar -xf - -C "$tree"
fi

echo "== build with -fsanitize=address,undefined"
san="-fsanitize=address,undefined -fno-omit-frame-pointer -g"
halt=1
if [ "${SANITIZE_UBSAN_RECOVER:-0}" = 1 ]; then
    halt=0  # report every UB site and go on (the run still fails at the end)
else
    san="$san -fno-sanitize-recover=undefined"
fi
build_start=$SECONDS
(cd "$tree" && CFLAGS="$san" LDFLAGS="$san" "$python" setup.py -q build_ext --inplace \
    > "$work/build.log" 2>&1) || { cat "$work/build.log"; echo "sanitize: build failed"; exit 1; }
echo "built in $((SECONDS - build_start)) s"

libasan=$(readlink -f "$(gcc -print-file-name=libasan.so)")
libstdcxx=$(readlink -f "$(gcc -print-file-name=libstdc++.so.6)")
for lib in "$libasan" "$libstdcxx"; do
    [ -f "$lib" ] || { echo "sanitize: $lib not found (gcc's libasan / libstdc++)"; exit 1; }
done

# The plugin: checks that the sanitized copy is the one imported, times out a hung test, and fails
# the test during which an ASan report file appears.
cat > "$work/plugin/crossent_sanitize.py" <<'EOF'
import faulthandler
import os

import pytest

TREE = os.path.realpath(os.environ["CROSSENT_SANITIZE_TREE"])
LOGS = os.environ["CROSSENT_SANITIZE_LOGS"]
TIMEOUT = float(os.environ.get("SANITIZE_TEST_TIMEOUT", "300"))
_err = os.fdopen(os.dup(2), "w", buffering=1)  # the real stderr (--capture=sys)
_seen: set[str] = set()


def pytest_sessionstart(session):
    import crossent
    import crossent._core as core

    for module in (crossent, core):
        path = os.path.realpath(module.__file__)
        if not path.startswith(TREE + os.sep):
            raise pytest.UsageError(f"{module.__name__} is {path}, not in the copy {TREE}")
    with open(core.__file__, "rb") as f:
        if b"__asan_report_load8" not in f.read():
            raise pytest.UsageError(f"{core.__file__} is not built with AddressSanitizer")
    with open("/proc/self/maps") as f:
        if "libasan" not in f.read():
            raise pytest.UsageError("libasan is not loaded")
    if not crossent.backend.startswith("c-"):
        raise pytest.UsageError(f"crossent.backend is {crossent.backend!r}, not the C extension")
    _err.write(f"sanitize: crossent        {crossent.__file__}\n"
               f"sanitize: crossent._core  {core.__file__}\n"
               f"sanitize: backend {crossent.backend}, paths {core.paths_available}\n")


def pytest_unconfigure(config):
    _err.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    faulthandler.dump_traceback_later(TIMEOUT, exit=True, file=_err)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    new = sorted(set(os.listdir(LOGS)) - _seen)
    if not new:
        return
    _seen.update(new)
    report = outcome.get_result()
    text = ""
    for name in new:
        with open(os.path.join(LOGS, name), errors="replace") as f:
            text += f"--- {name}\n{f.read()}"
    _err.write(f"\nsanitize: report(s) during {item.nodeid} ({call.when}):\n{text}\n")
    if report.outcome != "failed":
        report.outcome = "failed"
        report.longrepr = f"sanitizer report(s) from a process of this test:\n{text}"
EOF

export CROSSENT_SANITIZE_TREE=$tree CROSSENT_SANITIZE_LOGS=$logs
export SANITIZE_TEST_TIMEOUT=${SANITIZE_TEST_TIMEOUT:-300}
export PYTHONPATH=$tree/src:$work/plugin
export LD_PRELOAD=$libasan:$libstdcxx
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:disable_coredump=1:log_path=$logs/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=$halt:abort_on_error=$halt:disable_coredump=1
export DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0
export CROSSENT_SANITIZED=1  # tests of RSS growth and of a 9 GB input skip themselves
export PYTHONFAULTHANDLER=1
unset CROSSENT_BACKEND CROSSENT_CPU
ulimit -c 0

status=0
run() {  # run NAME [ENV=VALUE...] -- pytest arguments
    local name=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    echo "== pytest ($name)"
    local t0=$SECONDS rc
    set +e
    (cd "$tree" && env "${envs[@]}" timeout -s ABRT -k 30 "$timeout_run" \
        "$python" -m pytest -p no:cacheprovider -p crossent_sanitize --capture=sys -q "$@") \
        2>&1 | tee "$work/pytest-$name.log"
    rc=${PIPESTATUS[0]}  # pytest's, not tee's
    set -e
    echo "sanitize: pytest ($name) exited $rc after $((SECONDS - t0)) s"
    [ "$rc" = 0 ] || status=1
}

run default -- "$@"
avail=$(cd "$tree" && "$python" -c "import crossent._core as c; print(*c.paths_available)")
for path in $avail; do
    [ "$path" = "${avail##* }" ] && continue  # the default run used the best path
    # shellcheck disable=SC2086
    run "$path" CROSSENT_CPU="$path" -- $path_tests
done

echo "== sanitizer reports"
found=0
if [ -n "$(ls -A "$logs")" ]; then
    found=1
    for f in "$logs"/*; do echo "--- $f"; cat "$f"; done
fi
pattern=': runtime error: |ERROR: AddressSanitizer|Sanitizer: CHECK failed|SUMMARY: (Address|UndefinedBehavior)Sanitizer'
if grep -E -n "$pattern" "$work"/pytest-*.log; then found=1; fi
if [ "$found" = 1 ]; then
    echo "sanitize: SANITIZER REPORTS (above)"
    status=1
else
    echo "sanitize: no sanitizer reports"
fi
echo "sanitize: $([ "$status" = 0 ] && echo OK || echo FAILED) in $((SECONDS - start)) s"
exit "$status"
