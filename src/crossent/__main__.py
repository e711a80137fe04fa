"""Command line: ``python -m crossent info`` and ``python -m crossent bench``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crossent", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="print the version, backend and build")
    bench = sub.add_parser("bench", help="time crossent against numpy and its peers")
    bench.add_argument("--quick", action="store_true", help="small sizes only (under 30 s)")
    bench.add_argument("--sizes", type=lambda s: [int(float(v)) for v in s.split(",")],
                       help="comma-separated element counts, e.g. 1,1e3,1e5")
    bench.add_argument("--repeat", type=int, default=None, help="timing repeats per cell")
    bench.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    bench.add_argument("--plot", metavar="FILE.png",
                       help="plot throughput against n, log-log (needs matplotlib)")
    bench.add_argument("--no-accuracy", dest="accuracy", action="store_false",
                       help="time only; skip the ULP tables")
    bench.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="show a progress bar on stderr (default: when it is a terminal)")
    args = parser.parse_args(argv)
    if args.command == "info":
        import crossent

        crossent.show_config()
        return 0
    from ._bench import run

    return run(quick=args.quick, sizes=args.sizes, repeat=args.repeat, json_path=args.json,
               plot_path=args.plot, progress=args.progress, accuracy=args.accuracy)


if __name__ == "__main__":
    sys.exit(main())
