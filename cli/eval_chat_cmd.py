"""``main.py eval-chat``: answer accuracy of the explainer on MVTec-layout packs."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import add_benchmark_options, positive_int, print_benchmark, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``eval-chat`` command."""
    parser = commands.add_parser(
        "eval-chat", help="benchmark the explainer's answers",
        description="Inspect every test image with a few-shot bank, ask a fixed script of questions, and score "
                    "yes/no, position and count accuracy and the contradiction rate. Table to stdout, progress "
                    "to stderr.")
    add_benchmark_options(parser, seeds=[0, 1, 2])
    parser.add_argument("--shots", type=positive_int, default=4, help="references per bank (default 4)")
    parser.add_argument("--backend", choices=("grounded", "llm"), default="grounded")
    parser.add_argument("--model", type=Path, help="LLM folder or .gguf (default: the embedded SmolLM2)")
    parser.add_argument("--limit", type=positive_int,
                        help="test images per pack, spread over its folders (default: all)")
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its table."""
    from engine.bench import save_json
    from engine.chat_bench import ChatBenchOptions, format_chat_table, run_chat_bench

    options = ChatBenchOptions(data=args.data, shots=args.shots, seeds=args.seeds, backend=args.backend,
                               limit=args.limit, model=args.model, device=args.device)
    return print_benchmark(lambda: run_chat_bench(options), format_chat_table, save_json, args.json)
