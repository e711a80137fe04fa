"""Build and runtime facts, for show_config() and ``python -m crossent info``."""

from __future__ import annotations

import os
import platform
import sys

import numpy as np


def config_lines() -> list[str]:
    import crossent

    lines = [
        f"crossent:   {crossent.__version__}",
        f"backend:    {crossent.backend}",
    ]
    if crossent.backend.startswith("c-"):
        from . import _core  # type: ignore[attr-defined]

        lines += [
            f"compiler:   {_core.compiler}",
            f"openmp:     {'yes' if _core.openmp else 'no (serial)'}",
        ]
    lines += [
        f"cpus:       {os.cpu_count()}",
        f"numpy:      {np.__version__}",
        f"python:     {sys.version.split()[0]} ({platform.python_implementation()})",
        f"platform:   {platform.platform()}",
    ]
    return lines
