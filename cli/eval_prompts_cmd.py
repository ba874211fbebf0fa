"""``main.py eval-prompts``: how many of the language model's answers the CLIP prompt writer keeps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import print_benchmark, user_errors

# The part types of the dev packs (shared/data/iad-bench).
DEV_PARTS = ("bottle", "screw", "hazelnut", "transistor", "magnetic tile", "cookie")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``eval-prompts`` command."""
    parser = commands.add_parser(
        "eval-prompts", help="benchmark the language model's defect prompts for CLIP projects",
        description="Have the language model write defect prompts for each part name, as 'project prompts --write' "
                    "does, and count the prompts kept and refused and the time taken. Table to stdout, progress "
                    "to stderr.")
    parser.add_argument("--parts", nargs="+", default=list(DEV_PARTS),
                        help=f"part names (default: the dev packs' {', '.join(DEV_PARTS)})")
    parser.add_argument("--model", type=Path, help="LLM folder or .gguf (default: the embedded SmolLM2)")
    parser.add_argument("--json", type=Path, help="write the result as JSON here")
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its table."""
    from engine.bench import save_json
    from engine.explain.llm import LocalLLM
    from engine.prompt_bench import format_prompt_table, run_prompt_bench

    llm = LocalLLM(args.model)
    llm.load()
    return print_benchmark(lambda: run_prompt_bench(llm, args.parts, lambda part: print(part, file=sys.stderr)),
                           format_prompt_table, save_json, args.json)
