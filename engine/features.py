"""Preprocessing and patch features: image -> normalised tensor -> pooled, unit-length features.

Each layer's map is average-pooled over a small neighbourhood (PatchCore's local aggregation,
which makes a patch describe its surroundings and tolerates small shifts) and L2-normalised
along channels, so that a dot product is IAD-GPT's cosine similarity.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engine.backbones import Backbone
from engine.config import EngineConfig
from engine.frame import same_frame

# An image far larger than the references is processed at a lower scale, to bound time and memory.
MAX_PIXELS_FACTOR = 4.0


def target_size(height: int, width: int, config: EngineConfig) -> tuple[int, int]:
    """Processing size (h, w): at the bank's scale, or about ``input_side``² pixels; aspect kept.

    When the references all share one frame size and the image has that frame's aspect ratio, the
    image is taken to show the same field of view at another resolution (another camera setting)
    and is processed at the references' processing size, so the part keeps its size in pixels.
    """
    if config.fixed_size:
        return config.fixed_size, config.fixed_size
    if config.reference_frame and same_frame(height, width, config.reference_frame):
        height, width = config.reference_frame
    multiple = config.input_multiple
    area_scale = config.input_side / float(np.sqrt(height * width))
    scale = config.scale or area_scale
    if scale * scale * height * width > MAX_PIXELS_FACTOR * config.input_side ** 2:
        scale = area_scale * float(np.sqrt(MAX_PIXELS_FACTOR))
    th = max(multiple * 2, int(round(height * scale / multiple)) * multiple)
    tw = max(multiple * 2, int(round(width * scale / multiple)) * multiple)
    return th, tw


def reference_scale(sizes: list[tuple[int, int]], config: EngineConfig) -> float | None:
    """The scale that brings the references' median area to ``input_side``²."""
    if config.fixed_size or not config.scale_from_references or not sizes:
        return None
    return config.input_side / float(np.sqrt(np.median([h * w for h, w in sizes])))


def to_tensor(images: list[np.ndarray], config: EngineConfig) -> torch.Tensor:
    """Stack equally sized float RGB images into a normalised (N, 3, H, W) tensor."""
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    mean = torch.tensor(config.mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(config.std, dtype=torch.float32).view(1, 3, 1, 1)
    return (batch - mean) / std


class FeatureExtractor:
    """Backbone plus the configured pooling and normalisation; one call per batch."""

    def __init__(self, backbone: Backbone, config: EngineConfig) -> None:
        self.backbone = backbone
        self.config = config
        self.layers = config.layers or backbone.spec.layers

    @torch.inference_mode()
    def __call__(self, images: list[np.ndarray]) -> dict[str, torch.Tensor]:
        """Pooled unit features per layer, (N, C, h, w), for equally sized preprocessed images."""
        batch = to_tensor(images, self.config)
        raw = self.backbone.extract(batch, self.layers)
        kernel = self.config.pooling
        out: dict[str, torch.Tensor] = {}
        for name in self.layers:
            fmap = raw[name].float()
            if kernel > 1:
                fmap = F.avg_pool2d(fmap, kernel, stride=1, padding=kernel // 2, count_include_pad=False)
            out[name] = F.normalize(fmap, dim=1)
        return out
