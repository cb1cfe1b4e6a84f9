"""`python -m bench [NAME ...] [--runs N] [--warmup N] [--no-profile] [--no-write]`."""

from __future__ import annotations

import argparse
import importlib
import sys

from bench import BENCHMARKS
from bench.core import RESULTS_PATH, Options, Result, machine, section, write_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of {', '.join(BENCHMARKS)}")
    parser.add_argument("--runs", type=int, help="measured runs per figure (median reported)")
    parser.add_argument("--warmup", type=int, help="unmeasured runs first")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled pass")
    parser.add_argument(
        "--no-write", action="store_true", help=f"print only; leave {RESULTS_PATH.name} alone"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)

    print(f"Machine: {machine()}\n", flush=True)
    results: list[Result] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        defaults = getattr(module, "DEFAULTS", Options())
        options = Options(
            runs=args.runs if args.runs is not None else defaults.runs,
            warmup=args.warmup if args.warmup is not None else defaults.warmup,
            profile=not args.no_profile,
        )
        print(f"Running {name} ({options.runs} runs, {options.warmup} warm-up)…", flush=True)
        result = module.run(options)
        results.append(result)
        print(section(result), flush=True)
    if not args.no_write:
        write_results(results, list(BENCHMARKS))
        print(f"Written to {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
