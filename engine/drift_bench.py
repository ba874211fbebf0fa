"""The score-drift check's benchmark (``main.py bench-drift``): its false alarms and catches on real parts.

Per pack and seed a k-shot bank is built as in ``engine.bench``.  Its good parts are the test
set's good images plus up to ``SPARE_TRAINING`` training images that are not references; each is
scored as it is and after each disturbance of the set-up in ``DISTURBANCES`` (a lens out of
focus, light dimmed or brightened).  Then, over ``draws`` random draws of ``engine.drift``'s
windows:

* the false-alarm rate: two disjoint windows of undisturbed good parts, flagged;
* each disturbance's catch rate: a window of undisturbed parts against a window of disturbed
  ones, flagged.

Packs with fewer than two windows of good parts are skipped, and the output says so.  Images are
decoded to float RGB (``load_image``) and disturbed before the detector sees them.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engine.bench import reference_paths
from engine.config import EngineConfig
from engine.datasets import find_packs, read_pack, without_unreadable
from engine.detector import Detector
from engine.drift import DRIFT_P_VALUE, DRIFT_WINDOW, compare_windows
from engine.imageio import load_image
from engine.runtime import configure_torch

SPARE_TRAINING = 40


def _blur(sigma: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: cv2.GaussianBlur(image, (0, 0), sigma)


def _light(gain: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: np.clip(image * gain, 0.0, 1.0)


DISTURBANCES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "blur 0.8 px": _blur(0.8), "blur 1.5 px": _blur(1.5),
    "light x0.70": _light(0.70), "light x0.85": _light(0.85), "light x1.15": _light(1.15),
}
FIELDS = ("false_alarms", *DISTURBANCES)


@dataclass
class DriftBenchOptions:
    """What to run: data, references per bank, seeds, draws and the window."""

    data: Path
    shots: int = 4
    seeds: list[int] = field(default_factory=lambda: [0, 1])
    draws: int = 300
    window: int = DRIFT_WINDOW
    device: str = "auto"


def flag_rate(before: np.ndarray, after: np.ndarray | None, window: int, draws: int, rng: random.Random) -> float:
    """How often the drift rule flags a window of ``before`` against a window of ``after`` (disjoint
    windows of ``before`` itself when ``after`` is None)."""
    flagged = 0
    for _ in range(draws):
        if after is None:
            picked = rng.sample(range(len(before)), 2 * window)
            first, latest = before[picked[:window]], before[picked[window:]]
        else:
            first = before[rng.sample(range(len(before)), window)]
            latest = after[rng.sample(range(len(after)), window)]
        flagged += compare_windows(first, latest).drifting
    return flagged / draws


def run_drift_bench(options: DriftBenchOptions, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark and return the JSON-ready result."""
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    configure_torch()
    detector = Detector(options.device)
    config = detector.resolve_config(EngineConfig())
    packs: dict[str, dict[str, dict[str, float]]] = {}
    skipped: list[str] = []
    for pack_dir in find_packs(options.data):
        pack, unreadable = without_unreadable(read_pack(pack_dir))
        for problem in unreadable:
            log(problem)
        for seed in options.seeds:
            references = reference_paths(pack, options.shots, seed) if len(pack.train_good) >= options.shots else []
            chosen = set(references)
            spare = [path for path in pack.train_good if path not in chosen][:SPARE_TRAINING]
            goods = [sample.path for sample in pack.test if sample.label == 0] + spare
            if not references or len(goods) < 2 * options.window:
                skipped.append(f"{pack.name}: {len(goods)} good parts, {len(pack.train_good)} training images "
                               f"(needs {options.shots} references and {2 * options.window} good parts)")
                log(skipped[-1])
                break
            bank = detector.build_bank(references, config)
            variants = {"none": lambda image: image, **DISTURBANCES}
            scored: dict[str, list[float]] = {name: [] for name in variants}
            for path in goods:  # one photo in memory at a time
                image = load_image(path)
                for name, disturb in variants.items():
                    scored[name].append(detector.inspect(np.ascontiguousarray(disturb(image)), bank).score)
            scores = {name: np.array(values) for name, values in scored.items()}
            rng = random.Random(seed)
            row = {"good_parts": float(len(goods)),
                   "false_alarms": flag_rate(scores["none"], None, options.window, options.draws, rng)}
            row.update({name: flag_rate(scores["none"], scores[name], options.window, options.draws, rng)
                        for name in DISTURBANCES})
            packs.setdefault(pack.name, {})[str(seed)] = row
            log(f"[{pack.name}] seed {seed}: false alarms {row['false_alarms']:.3f}")
    rows = [row for seeds in packs.values() for row in seeds.values()]
    mean = {name: float(np.mean([row[name] for row in rows])) for name in FIELDS} if rows else {}
    return {"shots": options.shots, "seeds": options.seeds, "draws": options.draws, "window": options.window,
            "p_value": DRIFT_P_VALUE, "packs": packs, "mean": mean, "skipped": skipped}


def format_drift_table(result: dict[str, Any]) -> str:
    """The result as a text table: flag rates in percent."""
    lines = [f"bench-drift: {result['shots']}-shot banks, windows of {result['window']} parts, p < "
             f"{result['p_value']}, {result['draws']} draws; flagged (%)",
             f"{'pack':<22}{'seed':>5}{'goods':>7}" + "".join(f"{name:>14}" for name in FIELDS)]
    def cells(row: dict[str, float]) -> str:
        return "".join(f"{100 * row[name]:>13.1f}%" for name in FIELDS)

    for pack, seeds in result["packs"].items():
        for seed, row in seeds.items():
            lines.append(f"{pack:<22}{seed:>5}{int(row['good_parts']):>7}{cells(row)}")
    if result["mean"]:
        lines.append(f"{'MEAN':<22}{'':>5}{'':>7}{cells(result['mean'])}")
    lines.extend(f"skipped: {line}" for line in result["skipped"])
    return "\n".join(lines)
