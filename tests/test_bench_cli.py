"""``python -m crossent bench``: tables, progress bar, JSON and plot (tiny sizes, nothing timed)."""

import io
import json
import subprocess
import sys

import pytest

from crossent import _bench


def test_json_progress_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = io.StringIO()
    path, png = tmp_path / "run.json", tmp_path / "run.png"
    assert _bench.run(sizes=[1, 64], repeat=1, out=out, json_path=str(path),
                      plot_path=str(png), progress=True, accuracy=False) == 0
    text = out.getvalue()
    assert "float32" in text and "float64" in text and f"wrote {path}" in text
    bar = capsys.readouterr().err
    assert "[" in bar and "/" in bar and "float64 n=64 crossent" in bar
    run = json.loads(path.read_text())
    cells = {(r["dtype"], r["n"], r["peer"]) for r in run["speed"]}
    assert {("float32", 1, "crossent"), ("float64", 64, "np.subtract")} <= cells
    for r in run["speed"]:
        assert r["seconds"] > 0 and r["ratio"] > 0
        if r["peer"] == "crossent":
            assert r["ratio"] == 1.0
    assert run["accuracy"] == [] and run["versions"][0].startswith("crossent ")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_fails_before_timing(monkeypatch, tmp_path):
    real = _bench.importlib.util.find_spec
    monkeypatch.setattr(_bench.importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    out = io.StringIO()
    with pytest.raises(ImportError, match=r"crossent\[plot\]"):
        _bench.run(sizes=[1], repeat=1, out=out, plot_path=str(tmp_path / "x.png"))
    assert out.getvalue() == ""  # nothing was timed


def test_no_progress_bar_when_not_asked(capsys):
    _bench.run(sizes=[1], repeat=1, out=io.StringIO(), progress=False, accuracy=False)
    assert capsys.readouterr().err == ""


def test_cli_writes_json(tmp_path):
    path = tmp_path / "cli.json"
    r = subprocess.run([sys.executable, "-m", "crossent", "bench", "--sizes", "1,8",
                        "--repeat", "1", "--no-accuracy", "--json", str(path)],
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # not a terminal: no progress bar
    assert len(json.loads(path.read_text())["speed"]) >= 6


def test_importing_crossent_imports_no_optional_dependency():
    optional = ["dask", "distributed", "xgboost", "lightgbm", "sklearn", "torch", "matplotlib",
                "scipy", "mpmath"]
    code = ("import sys, numpy as np, crossent\n"
            "crossent.log_loss([0, 1, 1], np.array([0.2, 0.7, 0.9]))\n"
            "acc = crossent.LossAccumulator(); acc.update([1], [0.5]); acc.result()\n"
            f"print([m for m in {optional!r} if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
