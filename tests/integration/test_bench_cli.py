"""``main.py bench`` end to end on a synthetic pack in the MVTec layout, mixed file formats."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from engine.synthetic import Defect, defect_mask, synthetic_part

ROOT = Path(__file__).resolve().parents[2]


def _make_pack(root: Path) -> Path:
    pack = root / "synthetic_disc"
    for index, suffix in enumerate([".png", ".jpg", ".bmp"]):
        (pack / "train" / "good").mkdir(parents=True, exist_ok=True)
        Image.fromarray(synthetic_part(index, side=128)).save(pack / "train" / "good" / f"{index:03d}{suffix}")
    (pack / "test" / "good").mkdir(parents=True)
    for index in range(2):
        Image.fromarray(synthetic_part(50 + index, side=128)).save(pack / "test" / "good" / f"{index:03d}.png")
    (pack / "test" / "pit").mkdir(parents=True)
    (pack / "ground_truth" / "pit").mkdir(parents=True)
    for index, (x, y) in enumerate([(0.3, 0.3), (0.65, 0.6)]):
        defects = (Defect("pit", x, y, 0.12),)
        Image.fromarray(synthetic_part(80 + index, side=128, defects=defects)).save(
            pack / "test" / "pit" / f"{index:03d}.tiff")
        mask = (defect_mask(defects, 128) * 255).astype(np.uint8)
        Image.fromarray(mask).save(pack / "ground_truth" / "pit" / f"{index:03d}_mask.png")
    return pack


def test_bench_writes_table_json_and_scores(tmp_path):
    pack = _make_pack(tmp_path / "data")
    (pack / "test" / "good" / "002.png").write_bytes(b"not an image")  # a corrupt file in a customer folder
    no_good = _make_pack(tmp_path / "other")
    shutil.rmtree(no_good / "test" / "good")
    no_good.rename(tmp_path / "data" / "no_good_tests")
    out_json, out_csv = tmp_path / "bench.json", tmp_path / "scores.csv"
    proc = subprocess.run(
        [sys.executable, "main.py", "bench", "--data", str(pack.parent), "--shots", "1", "2", "8", "--seeds", "0", "1",
         "--json", str(out_json), "--scores-csv", str(out_csv), "--threads", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "synthetic_disc" in proc.stdout and "MEAN" in proc.stdout
    assert "k=8 skipped" in proc.stdout + proc.stderr
    assert "test/good/002.png left out, corrupt or unreadable" in proc.stdout
    result = json.loads(out_json.read_text())
    for key in ("backbone", "device", "packs", "mean", "latency_ms", "backbone_ref_ms", "bank_build_s", "peak_rss_mb"):
        assert key in result
    row = result["packs"]["synthetic_disc"]["2"]
    assert set(row) == {"image_auroc", "pixel_auroc", "aupro", "frr", "recall", "f1"}
    assert 0.0 <= row["frr"] <= 1.0 and row["recall"] >= 0.5 and 0.0 < row["f1"] <= 1.0
    assert row["image_auroc"] == 1.0 and row["pixel_auroc"] > 0.9
    assert "8" not in result["packs"]["synthetic_disc"]
    # Without good test images a pack has no image AUROC or FRR: null, and left out of the mean.
    assert result["packs"]["no_good_tests"]["2"]["image_auroc"] is None
    assert result["packs"]["no_good_tests"]["2"]["frr"] is None
    assert result["packs"]["no_good_tests"]["2"]["recall"] is not None
    assert result["mean"]["2"]["image_auroc"] == 1.0
    assert "NaN" not in out_json.read_text()
    assert result["latency_ms"] > 0 and result["backbone_ref_ms"] > 0
    assert result["search_precision"] in ("float32", "bfloat16")
    assert f"search in {result['search_precision']}" in proc.stdout
    with open(out_csv, newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["pack"] == "synthetic_disc"]
    assert len(rows) == 2 * 2 * 4  # shots run x seeds x test images
    assert {r["image"] for r in rows} >= {"test/pit/000.tiff", "test/good/001.png"}
    assert {r["label"] for r in rows if r["image"].startswith("test/pit")} == {"1"}


def test_bench_reference_choice_is_the_documented_rule(tmp_path):
    import random

    from engine.bench import reference_paths
    from engine.datasets import read_pack

    pack = read_pack(_make_pack(tmp_path))
    names = sorted(p.name for p in pack.train_good)
    assert [p.name for p in reference_paths(pack, 2, 1)] == random.Random(1).sample(names, 2)


def test_bench_help_missing_data_and_unusable_device(tmp_path):
    help_out = subprocess.run([sys.executable, "main.py", "bench", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert help_out.returncode == 0 and "--scores-csv" in help_out.stdout
    missing = subprocess.run([sys.executable, "main.py", "bench", "--data", str(tmp_path / "nope")], cwd=ROOT,
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "not found" in missing.stderr
    wrong_device = subprocess.run([sys.executable, "main.py", "bench", "--data", str(tmp_path), "--device", "tpu"],
                                  cwd=ROOT, capture_output=True, text=True)
    assert wrong_device.returncode == 2 and "error: Cannot run on device 'tpu'" in wrong_device.stderr
    assert "Traceback" not in wrong_device.stderr
    no_shots = subprocess.run([sys.executable, "main.py", "bench", "--data", str(tmp_path), "--shots", "0"],
                              cwd=ROOT, capture_output=True, text=True)
    assert no_shots.returncode == 2 and "--shots: must be 1 or more" in no_shots.stderr


def test_eval_chat_scores_the_grounded_answers(tmp_path):
    pack = _make_pack(tmp_path / "data")
    out_json = tmp_path / "chat.json"
    proc = subprocess.run(
        [sys.executable, "main.py", "eval-chat", "--data", str(pack.parent), "--shots", "2", "--seeds", "0",
         "--json", str(out_json)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "synthetic_disc" in proc.stdout and "contradictions" in proc.stdout
    result = json.loads(out_json.read_text())
    row = result["packs"]["synthetic_disc"]
    assert set(row) == {"yes_no", "position_any", "position_first", "count", "contradictions"}
    assert row["contradictions"] == 0.0
    assert row["yes_no"] >= 0.75 and row["position_any"] == 1.0
    assert result["backend"] == "grounded" and result["guard_replaced"] is None


def _make_stripes_pack(root: Path) -> Path:
    """Another part type altogether: coloured diagonal stripes, no ground truth."""
    pack = root / "stripes"
    yy, xx = np.mgrid[0:128, 0:128]
    for folder, offsets in (("train/good", (0, 3)), ("test/good", (5,)), ("test/blot", (7,))):
        (pack / folder).mkdir(parents=True)
        for offset in offsets:
            stripes = ((xx + yy + offset) // 12 % 2).astype(np.float32)
            image = np.stack([stripes * 0.9, stripes * 0.5 + 0.2, 1 - stripes * 0.7], axis=2)
            if folder == "test/blot":
                image[50:70, 50:70] = 0.1
            Image.fromarray((image * 255).astype(np.uint8)).save(pack / folder / f"{offset:03d}.png")
    return pack


def test_bench_scene_check_flags_the_other_packs_images_and_none_of_its_own(tmp_path):
    from engine.bench import BenchOptions, format_table, run_bench

    data = tmp_path / "data"
    _make_pack(data)
    _make_stripes_pack(data)
    result = run_bench(BenchOptions(data=data, shots=[2], seeds=[0], device="cpu"), log=lambda _: None)
    scene = result["scene_check"]
    assert scene["own_count"] == 4 + 2 and scene["own_flagged"] == 0.0
    assert scene["other_count"] == 4 + 2 and scene["other_flagged"] == 1.0
    assert "scene check" in format_table(result)


def test_output_piped_to_a_reader_that_stops_early_ends_quietly(tmp_path):
    """``main.py project list | head -1``: the reader's early exit is not an error to print a traceback for."""
    import os

    env = {**os.environ, "IAD_INSPECTOR_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "main.py", "project", "list"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
