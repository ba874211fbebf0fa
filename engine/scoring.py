"""Nearest-neighbour scoring against the reference bank, map fusion and the image score.

Per layer, IAD-GPT's few-shot map is M = 1 - max_b cos(f, b): the cosine distance of each test
patch to its nearest reference patch.  The search runs in chunks of the bank so that memory
stays bounded however many references and augmented views there are.  Layer maps are resized to
the processing resolution, averaged (fine layers see texture, coarse layers structure), smoothed
with a Gaussian, and the image score is the mean of the top fraction of the fused map, which is
steadier than the single maximum.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F


@torch.inference_mode()
def nearest_distance(query: torch.Tensor, bank: torch.Tensor, chunk_size: int = 16384) -> torch.Tensor:
    """1 - max cosine similarity of each query row (Q, C) to the bank rows (N, C); unit vectors."""
    best = torch.full((query.shape[0],), -1.0, dtype=torch.float32, device=query.device)
    for start in range(0, bank.shape[0], chunk_size):
        block = bank[start:start + chunk_size]
        sims = query @ block.T
        best = torch.maximum(best, sims.max(dim=1).values.float())
    return (1.0 - best).clamp_(min=0.0)


def layer_distance_map(features: torch.Tensor, bank: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """Distance map (h, w) of one image's layer features (C, h, w) against that layer's bank."""
    channels, height, width = features.shape
    query = features.reshape(channels, -1).T.to(bank.dtype)
    return nearest_distance(query, bank, chunk_size).reshape(height, width)


def fuse_layer_maps(layer_maps: list[torch.Tensor], size: tuple[int, int], sigma: float) -> np.ndarray:
    """Average the layer maps at ``size`` (h, w) and smooth them: the fused map, float32."""
    resized = [F.interpolate(m[None, None].float().cpu(), size=size, mode="bilinear", align_corners=False)[0, 0]
               for m in layer_maps]
    fused = torch.stack(resized).mean(dim=0).numpy()
    if sigma > 0:
        fused = cv2.GaussianBlur(fused, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    return fused.astype(np.float32)


def image_score(fused: np.ndarray, top_fraction: float) -> float:
    """Mean of the highest ``top_fraction`` of the map's values (at least one value)."""
    flat = fused.ravel()
    count = max(1, int(round(flat.size * top_fraction)))
    return float(np.partition(flat, flat.size - count)[-count:].mean())


def to_original_size(fused: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize the fused map to the input image's own resolution."""
    if fused.shape == (height, width):
        return fused
    return cv2.resize(fused, (width, height), interpolation=cv2.INTER_LINEAR)
