"""Heatmap overlays as plain uint8 RGB arrays, shared by the GUI and the reports."""

from __future__ import annotations

import cv2
import numpy as np

from engine.imageio import to_uint8


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


def _scaled(anomaly_map: np.ndarray, low: float, high: float, shape: tuple[int, int]) -> np.ndarray:
    scaled = np.clip((anomaly_map - low) / max(high - low, 1e-9), 0.0, 1.0).astype(np.float32)
    if scaled.shape != shape:
        scaled = cv2.resize(scaled, (shape[1], shape[0]))
    return scaled


def heatmap_rgba(anomaly_map: np.ndarray, low: float, high: float, colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """The colour-mapped map as RGBA, transparent below ``low`` and opaque from a third of the way up.

    Normal areas then show the part itself, and colour marks only what approaches the threshold.
    """
    scaled = _scaled(anomaly_map, low, high, anomaly_map.shape[:2])
    coloured = cv2.applyColorMap((scaled * 255).astype(np.uint8), colormap)[..., ::-1]
    alpha = (np.clip(3.0 * scaled, 0.0, 1.0) * 255).astype(np.uint8)
    return np.ascontiguousarray(np.dstack([coloured, alpha]))


def overlay_for(image: np.ndarray, anomaly_map: np.ndarray, pixel_cut: float, opacity: float = 0.6,
                colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """The standard overlay: colours from half to twice the pixel threshold, faded in over the image."""
    base = to_uint8(image) if image.dtype != np.uint8 else image
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    low, high = overlay_scale(pixel_cut)
    rgba = heatmap_rgba(anomaly_map, low, high, colormap)
    if rgba.shape[:2] != base.shape[:2]:
        rgba = cv2.resize(rgba, (base.shape[1], base.shape[0]))
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0 * opacity
    blended = base.astype(np.float32) * (1.0 - alpha) + rgba[..., :3].astype(np.float32) * alpha
    return np.ascontiguousarray(blended.clip(0, 255).astype(np.uint8))


def overlay_scale(pixel_cut: float) -> tuple[float, float]:
    """The fixed colour scale of every overlay: half to twice the pixel threshold."""
    return 0.5 * pixel_cut, 2.0 * pixel_cut
