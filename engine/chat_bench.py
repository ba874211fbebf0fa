"""The answer-accuracy benchmark of the explainer (``main.py eval-chat``).

Per pack and seed, a few-shot bank is built exactly as in ``engine.bench``; every test image is
inspected, its fact sheet built, and a fixed script of questions asked in one conversation.
The answers are parsed with the guard's parser (``engine.explain.claims``) and scored:

* yes/no accuracy against the folder label (good vs defective);
* position accuracy on defective images with masks: a stated 3x3 cell must contain the centroid
  of the largest ground-truth component (cells on the fact sheet's part grid).  ``position_any``
  accepts any stated cell (the answer lists up to three regions); ``position_first`` only the
  first, i.e. the most severe region.  A missed defect (no position stated) counts as wrong;
* count accuracy: the stated count within +-1 of the ground-truth components larger than 0.1 %
  of the image (0 for good images);
* contradiction rate: answers whose parsed claims disagree with the fact sheet.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engine.bench import reference_paths
from engine.config import EngineConfig
from engine.datasets import find_packs, load_mask, read_pack, without_unreadable
from engine.detector import Detector
from engine.explain import Conversation, conflicts, parse_claims
from engine.explain.llm import LocalLLM
from engine.facts import build_facts
from engine.imageio import decode_for_inspection
from engine.regions import grid_cell
from engine.runtime import configure_torch

QUESTIONS = ("Is there any anomaly in the image?", "Where is the anomaly?", "How many defects are there?")
MIN_COMPONENT_FRACTION = 0.001
FIELDS = ("yes_no", "position_any", "position_first", "count", "contradictions")


@dataclass
class ChatBenchOptions:
    """What to run."""

    data: Path
    shots: int = 4
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    backend: str = "grounded"
    limit: int | None = None
    model: Path | None = None
    device: str = "auto"


def ground_truth(mask: np.ndarray) -> tuple[int, tuple[float, float] | None]:
    """(count of components above 0.1 % of the image, centroid (x, y) of the largest)."""
    count, _, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return 0, None
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = int(np.argmax(areas)) + 1
    big = int((areas > MIN_COMPONENT_FRACTION * mask.size).sum())
    return big, (float(centroids[largest][0]), float(centroids[largest][1]))


def run_chat_bench(options: ChatBenchOptions, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the script on every pack and return the JSON-ready result."""
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    configure_torch()
    detector = Detector(options.device)
    config = detector.resolve_config(EngineConfig())
    llm = LocalLLM(options.model) if options.backend == "llm" else None
    packs: dict[str, dict[str, float | None]] = {}
    speeds: list[tuple[float, float]] = []
    replaced = completed = answered = 0
    for pack_dir in find_packs(options.data):
        pack, unreadable = without_unreadable(read_pack(pack_dir))
        for problem in unreadable:
            log(problem)
        if len(pack.train_good) < options.shots:
            log(f"[{pack.name}] skipped: {len(pack.train_good)} training images < {options.shots}")
            continue
        samples = pack.test if options.limit is None else _spread(pack.test, options.limit)
        tallies: dict[str, list[float]] = {name: [] for name in FIELDS}
        for seed in options.seeds:
            bank = detector.build_bank(reference_paths(pack, options.shots, seed), config)
            for sample in samples:
                image = decode_for_inspection(sample.path)  # as the app decodes a file
                facts = build_facts(image.pixels, detector.inspect(image, bank), bank)
                conversation = Conversation(facts, llm=llm)
                answers = [conversation.ask(q) for q in QUESTIONS]
                for answer in answers:
                    answered += 1
                    replaced += bool(answer.conflicts)
                    completed += bool(answer.completed)
                    if answer.first_token_s is not None:
                        speeds.append((answer.first_token_s, answer.tokens_per_s or 0.0))
                    tallies["contradictions"].append(float(bool(conflicts(answer.text, facts))))
                said = [parse_claims(a.text) for a in answers]
                tallies["yes_no"].append(float(said[0].defective == bool(sample.label)))
                mask = load_mask(sample, image.size) if sample.label else np.zeros(image.size, bool)
                gt_count, centroid = ground_truth(mask)
                tallies["count"].append(float(bool(said[2].counts) and abs(said[2].counts[0] - gt_count) <= 1))
                if sample.label and sample.mask_path is not None and centroid is not None:
                    cell = grid_cell(*centroid, facts.part_box)
                    cells = said[1].cells
                    tallies["position_any"].append(float(cell in cells))
                    tallies["position_first"].append(float(bool(cells) and cells[0] == cell))
            log(f"[{pack.name}] seed {seed}: yes/no {np.mean(tallies['yes_no']):.3f}")
        packs[pack.name] = {name: (float(np.mean(v)) if v else None) for name, v in tallies.items()}
    mean = {name: _mean([p[name] for p in packs.values()]) for name in FIELDS}
    result: dict[str, Any] = {"backend": options.backend, "shots": options.shots, "seeds": options.seeds,
                              "packs": packs, "mean": mean, "answers": answered,
                              "guard_replaced": replaced if llm else None,
                              "guard_completed": completed if llm else None}
    if speeds:
        result["llm"] = {"model": llm.name, "load_s": round(llm.load_s, 2),
                         "first_token_s": float(np.median([s[0] for s in speeds])),
                         "tokens_per_s": float(np.median([s[1] for s in speeds]))}
    return result


def _spread(samples: list, limit: int) -> list:
    """``limit`` samples spread evenly over the list (keeps good and defective folders)."""
    if len(samples) <= limit:
        return samples
    index = np.linspace(0, len(samples) - 1, limit).round().astype(int)
    return [samples[i] for i in sorted(set(index))]


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def format_chat_table(result: dict[str, Any]) -> str:
    """The result as a text table (percentages)."""
    header = f"{'pack':<22}" + "".join(f"{name:>16}" for name in FIELDS)
    lines = [f"eval-chat: backend {result['backend']}, {result['shots']}-shot, seeds {result['seeds']}", header]
    for name, values in list(result["packs"].items()) + [("MEAN", result["mean"])]:
        cells = "".join(f"{'-' if values[f] is None else f'{100 * values[f]:.1f} %':>16}" for f in FIELDS)
        lines.append(f"{name:<22}{cells}")
    if result.get("llm"):
        info = result["llm"]
        lines.append(f"LLM {info['model']}: load {info['load_s']} s, median first token {info['first_token_s']:.2f} s, "
                     f"{info['tokens_per_s']:.1f} tokens/s; of {result['answers']} answers the guard replaced "
                     f"{result['guard_replaced']} and completed {result.get('guard_completed', 0)} from the facts")
    return "\n".join(lines)
