"""Heatmap overlays as plain uint8 RGB arrays, shared by the GUI and the reports."""

from __future__ import annotations

import cv2
import numpy as np

from engine.imageio import to_uint8


def heatmap_overlay(image: np.ndarray, anomaly_map: np.ndarray, low: float, high: float,
                    opacity: float = 0.5, colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Blend a colour-mapped anomaly map over the image; ``low``/``high`` fix the colour scale.

    A fixed scale (not per-image min-max) keeps a good part blue and a defect red across images.
    """
    base = to_uint8(image) if image.dtype != np.uint8 else image
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    span = max(high - low, 1e-9)
    scaled = np.clip((anomaly_map - low) / span, 0.0, 1.0)
    if scaled.shape != base.shape[:2]:
        scaled = cv2.resize(scaled.astype(np.float32), (base.shape[1], base.shape[0]))
    coloured = cv2.applyColorMap((scaled * 255).astype(np.uint8), colormap)[..., ::-1]
    blended = base.astype(np.float32) * (1.0 - opacity) + coloured.astype(np.float32) * opacity
    return np.ascontiguousarray(blended.clip(0, 255).astype(np.uint8))
