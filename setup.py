"""Build the C kernel and its Cython wrapper; all metadata lives in pyproject.toml."""

import os
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# binary*.c: the same kernels compiled for each SIMD target; dispatch.c picks one at import.
CSRC = ["csrc/binary.c", "csrc/binary_avx2.c", "csrc/binary_avx512.c", "csrc/dispatch.c"]


def _compiler_accepts(flag: str) -> bool:
    """Whether the C compiler Python was built with compiles and links a program with flag."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        cmd = [*cc, flag, src, "-o", os.path.join(tmp, "t")]
        try:
            return subprocess.run(cmd, capture_output=True, check=False).returncode == 0
        except OSError:
            return False


if sys.platform == "win32":
    compile_args = ["/O2", "/fp:precise", "/openmp"]
    link_args: list[str] = []
else:
    # -ffp-contract=off: no fused multiply-add behind our back, so every path rounds alike;
    # -fno-math-errno and -fno-trapping-math (no errno, no FP exception flags: results are
    # unchanged) let selects with arithmetic vectorise; never -ffast-math (inf/NaN rules).
    # -fno-wrapv undoes the -fwrapv in Python's own CFLAGS: with wrapping signed integers the
    # compiler cannot assume a 32-bit loop index never wraps, and some kernel loops lose their
    # vectorisation (the categorical float32 pass took 40% longer). The code does not rely on
    # signed overflow; the sanitizer build checks that.
    compile_args = ["-O3", "-std=c99", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math",
                    "-fno-wrapv", "-Wall", "-Wextra"]
    link_args = []
    if os.environ.get("CROSSENT_NO_OPENMP") != "1" and _compiler_accepts("-fopenmp"):
        compile_args.append("-fopenmp")
        link_args.append("-fopenmp")

extensions = [
    Extension(
        "crossent._core",
        sources=["src/crossent/_core.pyx", *CSRC],
        include_dirs=["csrc", np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        depends=["csrc/crossent.h", "csrc/vecmath.h", "csrc/kernel_common.h",
                 "csrc/binary_kernel.h", "csrc/logit.h", "csrc/categorical_kernel.h",
                 "csrc/log_loss_kernel.h", "csrc/categorical_avx512.h", "csrc/logit_avx512.h"],
    )
]

if os.environ.get("CROSSENT_NO_EXTENSION") == "1":
    extensions = []
else:
    extensions = cythonize(extensions, compiler_directives={"language_level": "3"})


class ParallelBuildExt(build_ext):
    """Compiles the sources of the extension side by side: each SIMD target's file is a
    minute of compiler time, and they do not depend on each other."""

    def build_extension(self, ext: Extension) -> None:
        compiler = self.compiler
        if not hasattr(compiler, "_compile") or not hasattr(compiler, "_setup_compile"):
            super().build_extension(ext)
            return

        def compile_all(sources, output_dir=None, macros=None, include_dirs=None, debug=0,
                        extra_preargs=None, extra_postargs=None, depends=None):
            macros, objects, extra_postargs, pp_opts, build = compiler._setup_compile(
                output_dir, macros, include_dirs, sources, depends, extra_postargs)
            cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)

            def one(obj: str) -> None:
                src, ext_ = build[obj]
                compiler._compile(obj, src, ext_, cc_args, extra_postargs, pp_opts)

            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                list(pool.map(one, [o for o in objects if o in build]))
            return objects

        serial = compiler.compile
        compiler.compile = compile_all
        try:
            super().build_extension(ext)
        finally:
            compiler.compile = serial


setup(ext_modules=extensions, cmdclass={"build_ext": ParallelBuildExt})
