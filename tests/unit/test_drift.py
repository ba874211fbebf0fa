"""The score-drift rule and its benchmark."""

from __future__ import annotations

import random

import numpy as np

from engine.drift import compare_windows
from engine.drift_bench import FIELDS, DriftBenchOptions, flag_rate, format_drift_table, run_drift_bench
from tests.helpers import write_parts


def _scores(seed: int, count: int = 20, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.20 + shift, 0.02, count)


def test_a_shift_of_the_scores_is_found_and_a_redraw_is_not():
    steady = compare_windows(_scores(1), _scores(2))
    assert not steady.drifting
    up = compare_windows(_scores(1), _scores(2, shift=0.05))
    assert up.drifting and up.rising
    down = compare_windows(_scores(1), _scores(2, shift=-0.05))
    assert down.drifting and not down.rising
    assert compare_windows([0.2] * 5, [0.2] * 5).p_value == 1.0


def test_flag_rate_counts_false_alarms_and_catches():
    good = _scores(3, 200)
    assert flag_rate(good, None, 20, 200, random.Random(0)) < 0.02
    assert flag_rate(good, good + 0.04, 20, 200, random.Random(0)) > 0.95


def test_the_benchmark_catches_a_blurred_set_up_and_skips_a_pack_too_small(tmp_path):
    pack = tmp_path / "packs" / "disc"
    write_parts(pack / "train" / "good", range(8))
    write_parts(pack / "test" / "good", range(40, 50))
    small = tmp_path / "packs" / "tiny"
    write_parts(small / "train" / "good", range(3))
    write_parts(small / "test" / "good", range(60, 62))
    result = run_drift_bench(DriftBenchOptions(data=tmp_path / "packs", shots=2, seeds=[0], draws=40, window=8),
                             log=lambda message: None)
    row = result["packs"]["disc"]["0"]
    assert row["good_parts"] == 16  # 10 test images and the 6 training images that are not references
    assert row["false_alarms"] <= 0.1
    assert row["blur 1.5 px"] >= 0.8
    assert "tiny" not in result["packs"] and "tiny: 3 good parts" in result["skipped"][0]
    table = format_drift_table(result)
    assert all(name in table for name in FIELDS) and "skipped: tiny" in table
