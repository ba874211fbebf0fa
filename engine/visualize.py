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


def draw_regions(image: np.ndarray, regions: list, colour: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Outline each region's box on a uint8 RGB image and label it with its number."""
    out = image.copy()
    side = max(out.shape[:2])
    thickness = max(1, side // 300)
    scale = max(0.4, side / 900)
    for region in regions:
        x, y, w, h = region.bbox
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (0, 0, 0), thickness + 2, cv2.LINE_AA)
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), colour, thickness, cv2.LINE_AA)
        label = str(region.index)
        origin = (x, max(int(18 * scale), y - 4))
        cv2.putText(out, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
        cv2.putText(out, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)
    return out


def overlay_for(image: np.ndarray, anomaly_map: np.ndarray, pixel_cut: float, opacity: float = 0.5) -> np.ndarray:
    """The standard overlay: colour scale from half to one and a half times the pixel threshold."""
    return heatmap_overlay(image, anomaly_map, low=0.5 * pixel_cut, high=1.5 * pixel_cut, opacity=opacity)
