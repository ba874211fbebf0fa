"""The CUDA path (fp16 backbone and fp16 nearest-neighbour search) against the CPU's fp32.

These run only where a CUDA GPU is present; CI has none, so they are run on a lent GPU machine
(see the GPU part of docs/measurements.md).  What they guard: half precision must not move a score enough to
change a verdict, and a bank built on a GPU workstation must score the same on a CPU one.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.bank import ReferenceBank
from engine.config import EngineConfig
from engine.synthetic import Defect, defect_mask, synthetic_part

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; CI machines have none")

PIT = Defect("pit", 0.32, 0.30, size=0.08)
SCRATCH = Defect("scratch", 0.7, 0.65, 0.1)
# fp16 keeps 11 bits of mantissa: a cosine near 1 moves by about 5e-4, a few per cent of a
# typical normal patch distance, and far less than the gap between good and defective parts.
RELATIVE_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def gpu_detector():
    from engine.detector import Detector

    return Detector("cuda")


@pytest.fixture(scope="module")
def test_parts() -> list[np.ndarray]:
    return [synthetic_part(200), synthetic_part(201), synthetic_part(301, defects=(PIT,)),
            synthetic_part(302, defects=(SCRATCH,))]


def test_auto_device_is_cuda_and_runs_in_half_precision(gpu_detector):
    from engine.detector import Detector

    assert Detector("auto").device.type == "cuda"
    backbone = gpu_detector.backbone(gpu_detector.resolve_config(EngineConfig()))
    assert next(backbone.model.parameters()).dtype == torch.float16


def test_gpu_scores_and_verdicts_match_the_cpu(detector, gpu_detector, good_parts, test_parts):
    config = EngineConfig(augment="none")
    cpu_bank = detector.build_bank(good_parts, config)
    gpu_bank = gpu_detector.build_bank(good_parts, config)
    expected = pytest.approx(cpu_bank.calibration.image_threshold, rel=RELATIVE_TOLERANCE)
    assert gpu_bank.calibration.image_threshold == expected
    cpu = [detector.inspect(part, cpu_bank) for part in test_parts]
    gpu = [gpu_detector.inspect(part, gpu_bank) for part in test_parts]
    for on_cpu, on_gpu in zip(cpu, gpu):
        assert on_gpu.score == pytest.approx(on_cpu.score, rel=RELATIVE_TOLERANCE)
        assert on_gpu.verdict == on_cpu.verdict
        assert on_gpu.anomaly_map.dtype == np.float32 and np.isfinite(on_gpu.anomaly_map).all()
    assert [r.verdict for r in gpu] == ["OK", "OK", "NG", "NG"]
    peak = np.unravel_index(np.argmax(gpu[2].anomaly_map), gpu[2].anomaly_map.shape)
    assert defect_mask((PIT,), test_parts[2].shape[0])[peak]


def test_bank_built_on_gpu_scores_the_same_on_the_cpu(detector, gpu_detector, good_parts, test_parts, tmp_path):
    gpu_bank = gpu_detector.build_bank(good_parts, EngineConfig(augment="auto"))
    assert all(f.device.type == "cuda" for f in gpu_bank.features.values())
    moved = ReferenceBank.load(gpu_bank.save(tmp_path / "gpu.bank"))
    assert all(f.device.type == "cpu" for f in moved.features.values())
    for part in test_parts:
        on_gpu = gpu_detector.inspect(part, gpu_bank)
        on_cpu = detector.inspect(part, moved)
        assert on_cpu.score == pytest.approx(on_gpu.score, rel=RELATIVE_TOLERANCE)
        assert on_cpu.verdict == on_gpu.verdict


def test_clip_backbone_runs_on_cuda(tiny_clip_checkpoint, gpu_detector, good_parts):
    config = EngineConfig(backbone="clip:iad-tiny-vit", backbone_weights=str(tiny_clip_checkpoint), augment="none")
    bank = gpu_detector.build_bank(good_parts[:2], config)
    result = gpu_detector.inspect(good_parts[2], bank)
    assert gpu_detector.backbone(bank.config).dtype == torch.float16
    assert result.anomaly_map.shape == good_parts[2].shape[:2]
    assert np.isfinite(result.anomaly_map).all() and np.isfinite(result.score)


def test_feature_extraction_of_new_sizes_leaves_the_cudnn_setting_as_it_was(gpu_detector):
    """Convolutions run without cuDNN (see ``engine.backbones.efficientnet``) but only inside the call."""
    config = gpu_detector.resolve_config(EngineConfig())
    backbone = gpu_detector.backbone(config)
    assert torch.backends.cudnn.enabled
    for side in (96, 136, 200):
        features = backbone.extract(torch.zeros(1, 3, side, side + 8), config.layers)
        assert all(f.is_cuda and torch.isfinite(f).all() for f in features.values())
    assert torch.backends.cudnn.enabled
