"""4-shot detection on the real MVTec AD bottle images (skips when shared data is absent)."""

from __future__ import annotations

import pytest

from engine.bench import BenchOptions, run_bench


@pytest.mark.slow
def test_bottle_4shot_image_auroc(bench_data):
    result = run_bench(BenchOptions(data=bench_data / "mvtec_bottle", shots=[4], seeds=[0]), log=lambda _: None)
    row = result["packs"]["mvtec_bottle"]["4"]
    assert row["image_auroc"] >= 0.97
    assert row["pixel_auroc"] >= 0.9
