"""Shared fixtures: offscreen Qt, passive OpenMP, a UTC clock, a session-wide detector, synthetic parts."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ["TZ"] = "UTC"  # the app shows local time; expected days and hours hold on any CI clock
time.tzset()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

TINY_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 4, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}

BENCH_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "iad-bench"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that quit the QApplication run last: after ``QApplication.quit()``, pytest-qt's waits
    return at once, so any GUI test after them would fail."""
    items.sort(key=lambda item: item.get_closest_marker("quits_app") is not None)


@pytest.fixture(scope="session")
def detector():
    """One CPU detector for the whole session: loading weights once keeps the suite quick."""
    from engine.detector import Detector
    from engine.runtime import configure_torch

    configure_torch()
    return Detector("cpu")


@pytest.fixture(scope="session")
def good_parts() -> list[np.ndarray]:
    """Four synthetic good parts."""
    from engine.synthetic import synthetic_part

    return [synthetic_part(seed) for seed in range(4)]


@pytest.fixture
def bench_data() -> Path:
    """The shared real-image packs; tests that need them skip with the reason when absent."""
    if not BENCH_DATA.is_dir():
        pytest.skip(f"real test data not found at {BENCH_DATA} (shared/data/iad-bench is not checked out)")
    return BENCH_DATA


@pytest.fixture
def tiny_clip_checkpoint(tmp_path):
    """A randomly initialised tiny open_clip ViT saved as a local checkpoint (no CLIP weights install here)."""
    import open_clip
    import torch

    config = tmp_path / "iad-tiny-vit.json"
    config.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model("iad-tiny-vit", pretrained=None)
    checkpoint = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), checkpoint)
    return checkpoint
