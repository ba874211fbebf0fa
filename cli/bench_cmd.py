"""``main.py bench``: detection quality, latency and memory on MVTec-layout packs."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from cli.common import add_benchmark_options, positive_int, print_benchmark, unit_fraction, user_errors
from engine.config import AUGMENT_MODES, EngineConfig


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``bench`` command."""
    parser = commands.add_parser(
        "bench", help="benchmark the engine on MVTec-layout packs",
        description="Few-shot benchmark: image AUROC, pixel AUROC and AUPRO per pack and shot count (mean "
                    "over seeds), latency, bank build time and peak memory. The table goes to stdout, "
                    "progress to stderr.")
    add_benchmark_options(parser, seeds=[0, 1, 2])
    parser.add_argument("--shots", type=positive_int, nargs="+", default=[1, 2, 4, 8],
                        help="reference counts k (default 1 2 4 8)")
    parser.add_argument("--backbone", default="efficientnet-lite0", help="backbone name (default efficientnet-lite0)")
    parser.add_argument("--backbone-weights", help="checkpoint file for clip:<model> backbones")
    parser.add_argument("--scores-csv", type=Path, help="write one row per (pack, k, seed, test image) here")
    parser.add_argument("--threads", type=positive_int, help="torch threads (default: the usable cores)")
    tuning = parser.add_argument_group("engine settings (defaults are the app's)")
    tuning.add_argument("--layers", nargs="+", help="feature layers, e.g. s3 s5")
    tuning.add_argument("--input-side", type=positive_int, help="processing size: about SIDE x SIDE pixels")
    tuning.add_argument("--augment", choices=AUGMENT_MODES, help="reference augmentation")
    tuning.add_argument("--rotation-steps", type=positive_int, help="rotated views per reference, 360/STEPS apart")
    tuning.add_argument("--pooling", type=positive_int, help="local feature pooling kernel")
    tuning.add_argument("--sigma", type=float, help="map smoothing sigma, pixels at SIDE x SIDE")
    tuning.add_argument("--top-fraction", type=unit_fraction, help="image score: mean of this top fraction of the map")
    tuning.add_argument("--text-guidance", type=unit_fraction, metavar="WEIGHT",
                        help="clip backbones: weight the map by each pack's prompts, 0 to 1 (engine/text_guidance.py)")
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its table."""
    from engine.bench import BenchOptions, format_table, run_bench, save_json

    overrides = {"layers": tuple(args.layers) if args.layers else None, "input_side": args.input_side,
                 "augment": args.augment, "rotation_steps": args.rotation_steps, "pooling": args.pooling,
                 "smoothing_sigma": args.sigma, "top_fraction": args.top_fraction,
                 "text_guidance": args.text_guidance}
    config = replace(EngineConfig(backbone=args.backbone, backbone_weights=args.backbone_weights),
                     **{k: v for k, v in overrides.items() if v is not None})
    options = BenchOptions(data=args.data, shots=args.shots, seeds=args.seeds, config=config, device=args.device,
                           threads=args.threads, scores_csv=args.scores_csv)
    return print_benchmark(lambda: run_bench(options), format_table, save_json, args.json)
