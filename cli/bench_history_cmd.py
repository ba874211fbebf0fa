"""``main.py bench-history``: how the history's queries hold up as a line's history grows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import positive_int, print_benchmark, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``bench-history`` command."""
    parser = commands.add_parser(
        "bench-history", help="benchmark the history's queries on a long history",
        description="Build a history of PARTS inspections of one project in a data folder of its own (the demo "
                    "project's inspections copied, one part every 10 s) and time the queries the app makes on it: "
                    "the drift check, the Lot suggestions, a catch-up lookup, the project list and the history "
                    "table's reads. Table to stdout, progress to stderr.")
    parser.add_argument("--parts", type=positive_int, default=200_000, help="inspections (default 200000)")
    parser.add_argument("--repeats", type=positive_int, default=3, help="runs of each query; the best counts "
                                                                        "(default 3)")
    parser.add_argument("--reports", action="store_true", help="also time the project report in HTML and CSV")
    parser.add_argument("--keep", type=Path, help="build the history in this folder and leave it there "
                                                  "(default: a temporary folder, removed)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda, for the demo's inspections")
    parser.add_argument("--json", type=Path, help="write the result as JSON here")
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its table."""
    from engine.bench import save_json
    from services.history_bench import HistoryBenchOptions, format_history_table, run_history_bench

    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        raise ValueError(f"{args.keep} is not empty; --keep builds a new history in an empty or new folder.")
    options = HistoryBenchOptions(parts=args.parts, repeats=args.repeats, reports=args.reports, keep=args.keep,
                                  device=args.device)
    return print_benchmark(lambda: run_history_bench(options, lambda line: print(line, file=sys.stderr)),
                           format_history_table, save_json, args.json)
