"""Backend selection, the fallback warning, show_config, the CLI and the docstring examples."""

import doctest
import importlib.machinery
import importlib.metadata
import importlib.util
import math
import os
import re
import shutil
import subprocess
import sys

import pytest

import crossent
from crossent import reference

BACKENDS = {"c-avx512", "c-avx2", "c-neon", "c-generic", "numpy"}


def _run(code, **env):
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=120, check=False)


def test_backend_name():
    assert crossent.backend in BACKENDS
    if os.environ.get("CROSSENT_BACKEND") == "numpy":
        assert crossent.backend == "numpy"


def test_forced_numpy_backend():
    r = _run("import crossent; print(crossent.backend)", CROSSENT_BACKEND="numpy")
    assert r.returncode == 0 and r.stdout.strip() == "numpy" and r.stderr == ""


def test_bad_backend_request_is_an_error():
    r = _run("import crossent", CROSSENT_BACKEND="fortran")
    assert r.returncode != 0 and "CROSSENT_BACKEND must be" in r.stderr


def _has_extension_file():
    return importlib.machinery.PathFinder.find_spec("crossent._core", crossent.__path__) is not None


@pytest.mark.skipif(not _has_extension_file(), reason="a pure-Python install: no extension")
def test_missing_extension_warns_once_and_falls_back():
    code = (
        "import sys, warnings\n"
        "sys.modules['crossent._core'] = None  # makes the import fail\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import crossent\n"
        "print(crossent.backend, len(w), w[0].category.__name__)\n"
        "print(w[0].message)\n"
        "print(crossent.binary_cross_entropy([1, 0], [0.9, 0.2]))\n"
    )
    r = _run(code, CROSSENT_BACKEND="")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "numpy 1 RuntimeWarning"
    assert "compiled extension could not be imported" in lines[1]
    assert abs(float(lines[2]) - 0.16425203348601802) < 1e-15


def test_pure_python_install_is_quiet(tmp_path):
    # the package's Python files alone, as CROSSENT_NO_EXTENSION=1 installs them: numpy, and no
    # warning (an error here); CROSSENT_BACKEND=c is then an ImportError
    pkg = tmp_path / "crossent"
    pkg.mkdir()
    for name in os.listdir(crossent.__path__[0]):
        if name.endswith((".py", ".pyi", ".typed")):
            shutil.copy(os.path.join(crossent.__path__[0], name), pkg / name)
    code = "import crossent; print(crossent.backend, crossent.log_loss([0, 1], [0.25, 0.5]))"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "CROSSENT_BACKEND": ""}
    r = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                       text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    backend, value = r.stdout.split()
    assert backend == "numpy"
    assert abs(float(value) - (-(math.log(0.75) + math.log(0.5)) / 2)) < 1e-15
    env["CROSSENT_BACKEND"] = "c"
    r = subprocess.run([sys.executable, "-c", "import crossent"], capture_output=True, text=True,
                       env=env, cwd=tmp_path)
    assert r.returncode != 0 and "ImportError" in r.stderr


def test_missing_extension_with_c_requested_raises():
    code = "import sys; sys.modules['crossent._core'] = None; import crossent"
    r = _run(code, CROSSENT_BACKEND="c")
    assert r.returncode != 0 and "import of crossent._core halted" in r.stderr


def test_show_config(capsys):
    crossent.show_config()
    out = capsys.readouterr().out
    assert f"backend:    {crossent.backend}" in out
    assert crossent.__version__ in out
    if crossent.backend != "numpy":
        assert "compiler:" in out


def test_cli_info():
    r = subprocess.run([sys.executable, "-m", "crossent", "info"], capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 0 and "backend:" in r.stdout


def test_cli_rejects_unknown_command():
    r = subprocess.run([sys.executable, "-m", "crossent", "frobnicate"], capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 2 and "invalid choice" in r.stderr


@pytest.mark.parametrize("module", [crossent, reference], ids=["crossent", "reference"])
def test_docstring_examples(module):
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    names = [n for n in module.__all__ if callable(getattr(module, n, None))]
    tests = []
    for name in names:
        tests += finder.find(getattr(module, name), name, globs={})
    tests += finder.find(module, module.__name__)
    assert sum(len(t.examples) for t in tests) >= 6
    for t in tests:
        runner.run(t)
    assert runner.failures == 0


def test_readme_examples():
    readme = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
    if not os.path.exists(readme):
        pytest.skip("README.md is not beside the tests")
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    for i, block in enumerate(blocks):
        # a block using an optional library runs only where it is installed
        imported = re.findall(r"^>>> (?:import|from) (\w+)", block, flags=re.M)
        if any(importlib.util.find_spec(name) is None for name in imported):
            continue
        runner.run(parser.get_doctest(block, {}, f"README[{i}]", readme, 0))
    assert runner.failures == 0 and runner.tries >= 3


def test_one_version():
    # the installed metadata reads the version from crossent/_version.py, its one source
    assert importlib.metadata.version("crossent") == crossent.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.dev\d+)?", crossent.__version__)
