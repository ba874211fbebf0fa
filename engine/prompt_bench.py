"""How many of a language model's answers the prompt writer keeps, per part (``main.py eval-prompts``).

For each part name, the model answers the writer's 18 questions (``engine.prompt_writer``); the
table gives the prompts kept and refused, the seconds taken with the model loaded, and how many
prompts each type got.  It measures the writer's yield, not whether the prompts type defects
well: that needs CLIP weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from engine.prompt_writer import WrittenPrompts, llm_asker, write_prompts
from engine.prompts import PromptLibrary


def run_prompt_bench(llm: Any, parts: Sequence[str], progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Have ``llm`` (a loaded ``LocalLLM``) write prompts for each part; the result as plain data."""
    ask = llm_asker(llm)
    result: dict[str, Any] = {"model": llm.name, "load_s": round(llm.load_s, 2), "parts": {}}
    for part in parts:
        if progress is not None:
            progress(part)
        start = time.perf_counter()
        written = write_prompts(ask, part, PromptLibrary.load(part), llm.name)
        result["parts"][part] = {**written.to_dict(), "kept": written.kept,
                                 "seconds": round(time.perf_counter() - start, 1)}
    return result


def format_prompt_table(result: dict[str, Any]) -> str:
    """The table ``eval-prompts`` prints."""
    lines = [f"prompt writer: {result['model']} (loaded in {result['load_s']:.1f} s)", "",
             f"{'part':16} {'kept':>4} {'refused':>7} {'s':>5}  prompts per type"]
    for part, row in result["parts"].items():
        written = WrittenPrompts.from_dict(row)
        per_type = ", ".join([f"normal {len(written.normal)}"] + [f"{k} {len(v)}" for k, v in written.defects.items()])
        lines.append(f"{part:16} {written.kept:>4} {written.refused:>7} {row['seconds']:>5.0f}  {per_type}")
    kept = sum(r["kept"] for r in result["parts"].values())
    refused = sum(r["refused"] for r in result["parts"].values())
    lines.append(f"{'ALL':16} {kept:>4} {refused:>7}")
    return "\n".join(lines)
