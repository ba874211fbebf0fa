"""``main.py bench-drift``: how often the score-drift check raises a false alarm and how often it
catches a disturbed set-up, on MVTec-layout packs."""

from __future__ import annotations

import argparse

from cli.common import add_benchmark_options, positive_int, print_benchmark, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``bench-drift`` command."""
    parser = commands.add_parser(
        "bench-drift", help="benchmark the score-drift warning",
        description="Build a few-shot bank per pack and seed, score its good parts as they are and blurred or "
                    "re-lit, and count how often the drift rule flags random windows of good parts (false "
                    "alarms) and windows of disturbed ones (catches). Table to stdout, progress to stderr.")
    add_benchmark_options(parser, seeds=[0, 1])
    parser.add_argument("--shots", type=positive_int, default=4, help="references per bank (default 4)")
    parser.add_argument("--draws", type=positive_int, default=300, help="random window draws (default 300)")
    parser.add_argument("--window", type=positive_int, help="parts per window (default: the app's, 20)")
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its table."""
    from engine.bench import save_json
    from engine.drift import DRIFT_WINDOW
    from engine.drift_bench import DriftBenchOptions, format_drift_table, run_drift_bench

    options = DriftBenchOptions(data=args.data, shots=args.shots, seeds=args.seeds, draws=args.draws,
                                window=args.window or DRIFT_WINDOW, device=args.device)
    return print_benchmark(lambda: run_drift_bench(options), format_drift_table, save_json, args.json)
