"""The benchmark: few-shot detection and segmentation quality and speed on MVTec-layout packs.

For every pack, k (shots) and seed, the references are
``random.Random(seed).sample(sorted(train/good names), k)``; a bank is built from them and every
test image is scored.  Metrics per (pack, k) are means over seeds.  Test-image features do not
depend on the references (only on the processing scale the bank fixes), so they are
extracted once per pack and scale and reused; the run with the
largest k a pack allows and the first seed instead scores every test image end to end from its file, and that
run gives the latency figure.

With two packs or more, the scene check (``engine.scene``) is measured too, at k = 4 (or the
nearest k a pack allows) and the first seed: the share of a pack's own test images it flags
(false alarms) and the share of ``SCENE_SAMPLES`` images from each other pack it flags (images
inspected with the wrong project).
"""

from __future__ import annotations

import csv
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from engine.bank import ReferenceBank
from engine.config import EngineConfig
from engine.datasets import Pack, find_packs, load_mask, read_pack, without_unreadable
from engine.detector import Detector, PreparedImage
from engine.features import to_tensor
from engine.imageio import image_shape
from engine.metrics import aupro, auroc, pixel_auroc
from engine.prompts import PromptLibrary
from engine.runtime import configure_torch, peak_rss_mb
from engine.scoring import search_dtype, to_original_size

METRICS = ("image_auroc", "pixel_auroc", "aupro", "frr", "recall", "f1")
SCENE_SHOTS = 4
SCENE_SAMPLES = 6
PackMetrics = dict[str, dict[str, dict[str, float | None]]]


@dataclass
class BenchOptions:
    """What to run: data, shots, seeds and the engine configuration."""

    data: Path
    shots: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    config: EngineConfig = field(default_factory=EngineConfig)
    device: str = "auto"
    threads: int | None = None
    scores_csv: Path | None = None


def reference_paths(pack: Pack, k: int, seed: int) -> list[Path]:
    """The benchmark's reference choice for (k, seed)."""
    names = sorted(p.name for p in pack.train_good)
    by_name = {p.name: p for p in pack.train_good}
    return [by_name[name] for name in random.Random(seed).sample(names, k)]


def reference_forward_ms(detector: Detector, repeats: int = 30) -> float:
    """Median time of the bare EfficientNet-Lite0 forward pass (full network) on one 256x256 image."""
    backbone = detector.backbone(EngineConfig(backbone="efficientnet-lite0"))
    batch = to_tensor([np.full((256, 256, 3), 0.5, dtype=np.float32)], EngineConfig())
    times = []
    with torch.inference_mode():
        for index in range(repeats + 3):
            start = time.perf_counter()
            backbone.classify(batch)  # type: ignore[attr-defined]
            if detector.device.type == "cuda":
                torch.cuda.synchronize()
            if index >= 3:
                times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def run_bench(options: BenchOptions, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark and return the JSON-ready result (see ``format_table``)."""
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    threads = configure_torch(options.threads)
    detector = Detector(options.device)
    config = detector.resolve_config(options.config)
    # The bare forward is timed at the start and again beside each pack's end-to-end pass, so
    # that the latency ratio compares the two under the same machine load.
    ref_times = [reference_forward_ms(detector)]
    packs: PackMetrics = {}
    skipped: list[str] = []
    latencies: list[float] = []
    build_times: list[float] = []
    csv_rows: list[list[Any]] = []
    scene_banks: dict[str, ReferenceBank] = {}
    scene_own: list[bool] = []
    scene_samples: dict[str, list[Path]] = {}
    pack_dirs = find_packs(options.data)
    if not pack_dirs:
        raise FileNotFoundError(f"No packs (folders with train/good and test) under {options.data}")
    for pack_dir in pack_dirs:
        pack, unreadable = without_unreadable(read_pack(pack_dir))
        for problem in unreadable:
            skipped.append(problem)
            log(problem)
        log(f"[{pack.name}] {len(pack.train_good)} train/good, {len(pack.test)} test images")
        cache: dict[Path, PreparedImage] = {}
        cache_key: tuple[float | None, tuple[int, int] | None, str, bool] | None = None
        in_pixel_metrics = pack.in_pixel_metrics()
        masks = PackedMasks([load_mask(s, image_shape(s.path)) for s, used in zip(pack.test, in_pixel_metrics) if used])
        packs[pack.name] = {}
        prompts = PromptLibrary.load(pack.part_name()) if config.text_guidance > 0 else None
        runnable = [k for k in options.shots if k <= len(pack.train_good)]
        scene_k = min(runnable, key=lambda k: abs(k - SCENE_SHOTS)) if runnable else None
        spaced = pack.test[::max(1, len(pack.test) // SCENE_SAMPLES)][:SCENE_SAMPLES]
        scene_samples[pack.name] = [sample.path for sample in spaced]
        for k in options.shots:
            if len(pack.train_good) < k:
                skipped.append(f"{pack.name}: k={k} skipped ({len(pack.train_good)} training images)")
                log(skipped[-1])
                continue
            per_seed: dict[str, list[float]] = {m: [] for m in METRICS}
            for seed in options.seeds:
                refs = reference_paths(pack, k, seed)
                start = time.perf_counter()
                bank = detector.build_bank(refs, config, reference_ids=[pack.relative(p) for p in refs],
                                           prompts=prompts)
                if k == 8:
                    build_times.append(time.perf_counter() - start)
                end_to_end = k == max(runnable) and seed == options.seeds[0]
                if end_to_end:
                    ref_times.append(reference_forward_ms(detector, repeats=10))
                if k == scene_k and seed == options.seeds[0] and bank.calibration.scene_limit is not None:
                    scene_banks[pack.name] = bank
                scores: list[float] = []
                maps = ResizedMaps()
                for sample, pixel_metric in zip(pack.test, in_pixel_metrics):
                    if end_to_end:
                        start = time.perf_counter()
                        result = detector.inspect(sample.path, bank)
                        _ = result.anomaly_map  # made on demand, but part of an end-to-end result
                        latencies.append((time.perf_counter() - start) * 1e3)
                    else:
                        key = (bank.config.scale, bank.config.reference_frame, bank.config.foreground,
                               bank.config.grey_references)
                        if cache_key != key:  # keep one scale's features only, to bound memory
                            cache, cache_key = {}, key
                        if sample.path not in cache:
                            cache[sample.path] = detector.prepare(sample.path, bank.config)
                        result = detector.score_prepared(cache[sample.path], bank)
                    scores.append(result.score)
                    if k == scene_k and seed == options.seeds[0] and result.scene_distance is not None:
                        scene_own.append(result.scene_distance > bank.calibration.scene_limit)
                    if pixel_metric:
                        maps.append(result.processing_map, result.image_size)
                    csv_rows.append([pack.name, k, seed, pack.relative(sample.path), sample.label, result.score])
                labels = np.array([s.label for s in pack.test])
                per_seed["image_auroc"].append(auroc(labels, np.array(scores)))
                threshold = bank.calibration.threshold() if bank.calibration else float("inf")
                for name, value in decision_rates(labels, np.array(scores) > threshold).items():
                    per_seed[name].append(value)
                if pack.pixel_level:
                    per_seed["pixel_auroc"].append(pixel_auroc(masks, maps))
                    per_seed["aupro"].append(aupro(masks, maps))
                log(f"[{pack.name}] k={k} seed={seed} image AUROC {per_seed['image_auroc'][-1]:.3f} "
                    f"(bank: {bank.augmentation}, {bank.patch_count()} patches)")
            packs[pack.name][str(k)] = {m: _seed_mean(v) for m, v in per_seed.items()}
    result = {
        "backbone": config.backbone,
        "device": str(detector.device),
        "torch_threads": threads,
        "search_precision": str(search_dtype(detector.device)).removeprefix("torch."),
        "shots": options.shots,
        "seeds": options.seeds,
        "config": config.to_dict(),
        "packs": packs,
        "mean": _means(packs, options.shots),
        "latency_ms": float(np.mean(latencies)) if latencies else None,
        "latency_k": max(options.shots),
        "backbone_ref_ms": float(np.median(ref_times)),
        "bank_build_s": float(np.mean(build_times)) if build_times else None,
        "peak_rss_mb": peak_rss_mb(),
        "skipped": skipped,
        "scene_check": _scene_check(detector, scene_banks, scene_own, scene_samples, log),
    }
    if options.scores_csv:
        write_scores_csv(options.scores_csv, csv_rows)
    return result


class PackedMasks(Sequence[np.ndarray]):
    """Ground-truth masks stored one bit per pixel and unpacked when read.

    Every test image's mask is needed for each (k, seed); a byte per pixel would hold 150 MB
    for 150 masks of 1024x1024.
    """

    def __init__(self, masks: list[np.ndarray]) -> None:
        self._shapes = [mask.shape for mask in masks]
        self._bits = [np.packbits(mask.ravel()) for mask in masks]

    def __len__(self) -> int:
        return len(self._bits)

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        shape = self._shapes[index]
        return np.unpackbits(self._bits[index], count=shape[0] * shape[1]).reshape(shape).astype(bool)


class ResizedMaps(Sequence[np.ndarray]):
    """Anomaly maps kept at the processing size and resized to their image's size when read.

    The resize is the one ``Detector`` applies, so the values are the same as the full-size
    maps; holding those instead would take 4 MB per 1024x1024 test image.
    """

    def __init__(self) -> None:
        self._maps: list[tuple[np.ndarray, tuple[int, int]]] = []

    def append(self, processing_map: np.ndarray, image_size: tuple[int, int]) -> None:
        """Add one test image's map at the processing size, with that image's (h, w)."""
        self._maps.append((processing_map, image_size))

    def __len__(self) -> int:
        return len(self._maps)

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        processing_map, (height, width) = self._maps[index]
        return to_original_size(processing_map, height, width)


def decision_rates(labels: np.ndarray, rejected: np.ndarray) -> dict[str, float]:
    """False-reject rate on good parts, detection rate on defective ones, and F1 of the rejects."""
    good, bad = labels == 0, labels == 1
    true_pos = float((rejected & bad).sum())
    false_pos = float((rejected & good).sum())
    false_neg = float((~rejected & bad).sum())
    return {
        "frr": float(rejected[good].mean()) if good.any() else float("nan"),
        "recall": float(rejected[bad].mean()) if bad.any() else float("nan"),
        "f1": 2 * true_pos / max(2 * true_pos + false_pos + false_neg, 1.0),
    }


def _scene_check(detector: Detector, banks: dict[str, ReferenceBank], own: list[bool],
                 samples: dict[str, list[Path]], log: Callable[[str], None]) -> dict[str, Any] | None:
    """Scene-check rates: own test images flagged, and other packs' sample images flagged."""
    if len(banks) < 2:
        return None
    flagged = []
    crossed = [(bank, path) for name, bank in banks.items() for other, paths in samples.items() if other != name
               for path in paths]
    for bank, path in crossed:
        distance = detector.scene_distance(detector.prepare(path, bank.config), bank)
        flagged.append(distance is not None and distance > bank.calibration.scene_limit)
    log(f"scene check: {sum(own)} of {len(own)} own test images flagged, {sum(flagged)} of {len(flagged)} "
        "images of other packs flagged")
    return {"own_flagged": float(np.mean(own)) if own else None, "own_count": len(own),
            "other_flagged": float(np.mean(flagged)) if flagged else None, "other_count": len(flagged)}


def _seed_mean(values: list[float]) -> float | None:
    """Mean over the seeds that could measure the metric; None when none could.

    A pack without good test images has no image AUROC or false-reject rate: it gets null in
    the JSON and a dash in the table, and stays out of the mean over packs, instead of a NaN
    that would make that mean NaN too.
    """
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def _means(packs: PackMetrics, shots: list[int]) -> dict[str, dict[str, float | None]]:
    means: dict[str, dict[str, float | None]] = {}
    for k in shots:
        row: dict[str, float | None] = {}
        for metric in METRICS:
            values = [p[str(k)][metric] for p in packs.values() if str(k) in p and p[str(k)][metric] is not None]
            row[metric] = float(np.mean(values)) if values else None
        means[str(k)] = row
    return means


def write_scores_csv(path: Path, rows: list[list[Any]]) -> None:
    """One row per (pack, k, seed, test image)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["pack", "k", "seed", "image", "label", "score"])
        writer.writerows(rows)


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def format_table(result: dict[str, Any]) -> str:
    """The benchmark result as a plain-text table."""
    lines = [f"backbone {result['backbone']} on {result['device']}, torch threads {result['torch_threads']}, "
             f"search in {result.get('search_precision', 'float32')}",
             "", f"{'pack':<24} {'k':>2}  {'img AUROC':>9}  {'px AUROC':>8}  {'AUPRO':>6}  "
                 f"{'FRR':>5}  {'recall':>6}  {'F1':>5}  {'bal.acc':>7}"]
    rows = [(name, k, row) for name, per_k in result["packs"].items() for k, row in per_k.items()]
    rows += [("MEAN", k, row) for k, row in result["mean"].items()]
    for name, k, row in rows:
        balanced = None if row["frr"] is None or row["recall"] is None else (1 - row["frr"] + row["recall"]) / 2
        lines.append(f"{name:<24} {k:>2}  {_fmt(row['image_auroc']):>9}  {_fmt(row['pixel_auroc']):>8}  "
                     f"{_fmt(row['aupro']):>6}  {_fmt(row['frr']):>5}  {_fmt(row['recall']):>6}  "
                     f"{_fmt(row['f1']):>5}  {_fmt(balanced):>7}")
    lines.append("FRR, recall and F1 use the image threshold calibrated from the k references only.")
    lines.append("")
    latency = result["latency_ms"]
    ref = result["backbone_ref_ms"]
    if latency is not None:
        lines.append(f"latency per image (end to end, k={result['latency_k']} or a pack's largest): {latency:.1f} ms "
                     f"= {latency / ref:.2f} x bare Lite0 forward at 256x256 ({ref:.1f} ms)")
    if result["bank_build_s"] is not None:
        lines.append(f"bank build, k=8: {result['bank_build_s']:.2f} s")
    if result["peak_rss_mb"] is not None:
        lines.append(f"peak RSS: {result['peak_rss_mb']:.0f} MB")
    scene = result.get("scene_check")
    if scene and scene["own_flagged"] is not None and scene["other_flagged"] is not None:
        lines.append(f"scene check (k={SCENE_SHOTS} or nearest, first seed): flags {100 * scene['own_flagged']:.1f} % "
                     f"of the packs' own test images ({scene['own_count']}) and {100 * scene['other_flagged']:.1f} % "
                     f"of other packs' images ({scene['other_count']})")
    lines.extend(result["skipped"])
    return "\n".join(lines)


def save_json(result: dict[str, Any], path: Path) -> None:
    """Write the result as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")


def print_report(result: dict[str, Any], out: TextIO = sys.stdout) -> None:
    """Print the table to ``out``."""
    print(format_table(result), file=out)


__all__ = ["BenchOptions", "format_table", "reference_paths", "run_bench", "save_json"]
