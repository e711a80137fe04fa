"""Build the C kernel and its Cython wrapper; all metadata lives in pyproject.toml."""

import os
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

CSRC = ["csrc/binary.c", "csrc/dispatch.c"]

if sys.platform == "win32":
    extra_compile_args = ["/O2"]
else:
    # -fno-math-errno lets exp/log be inlined or vectorised; no -ffast-math: it breaks inf/NaN rules.
    extra_compile_args = ["-O3", "-std=c99", "-fno-math-errno", "-Wall", "-Wextra"]

extensions = [
    Extension(
        "crossent._core",
        sources=["src/crossent/_core.pyx", *CSRC],
        include_dirs=["csrc", np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=extra_compile_args,
    )
]

if os.environ.get("CROSSENT_NO_EXTENSION") == "1":
    extensions = []
else:
    extensions = cythonize(extensions, compiler_directives={"language_level": "3"})

setup(ext_modules=extensions)
