"""Foreground estimation: where the part is, for parts photographed on a plain background.

The background colour is the median of a thin ring along the image border; pixels that differ
from it by more than an Otsu threshold are the part.  The mask is cleaned (closing, largest
components) and dilated by a margin so that defects on the part's edge stay inside.  Used to
ignore background dust and paper texture when scoring small parts (a screw on a sheet), and to
express region sizes as a share of the part.

``masking_applies`` decides from the references whether a part type suits this at all: the
border must be plain, and the part must cover a clear, consistent share of the frame.  Textures
that fill the frame (tiles, fabric) and parts on busy backgrounds keep the full image.
"""

from __future__ import annotations

import cv2
import numpy as np

BORDER_FRACTION = 0.04
MIN_SHARE, MAX_SHARE = 0.02, 0.6
MAX_BORDER_SPREAD = 0.12
DILATE_FRACTION = 0.04


def _border_ring(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    band = max(2, int(round(min(height, width) * BORDER_FRACTION)))
    return np.concatenate([image[:band].reshape(-1, 3), image[-band:].reshape(-1, 3),
                           image[:, :band].reshape(-1, 3), image[:, -band:].reshape(-1, 3)])


def border_spread(image: np.ndarray) -> float:
    """How far border pixels stray from their median colour (90th percentile distance, 0..1)."""
    ring = _border_ring(image)
    return float(np.percentile(np.linalg.norm(ring - np.median(ring, axis=0), axis=1), 90))


def foreground_mask(image: np.ndarray) -> np.ndarray:
    """Boolean mask of the part on a float RGB image, dilated by a small margin."""
    ring = _border_ring(image)
    background = np.median(ring, axis=0)
    distance = np.linalg.norm(image - background, axis=2)
    distance = cv2.GaussianBlur(distance.astype(np.float32), (0, 0), sigmaX=max(1.0, min(image.shape[:2]) / 200))
    scaled = np.clip(distance / max(float(distance.max()), 1e-6) * 255, 0, 255).astype(np.uint8)
    _, binary = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    side = min(image.shape[:2])
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, side // 40) | 1,) * 2)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel)
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count > 1:
        largest = stats[1:, cv2.CC_STAT_AREA].max()
        keep = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= 0.1 * largest]
        binary = np.isin(labels, keep).astype(np.uint8) * 255
    margin = max(3, int(side * DILATE_FRACTION)) | 1
    binary = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (margin, margin)))
    return binary > 0


def masking_applies(references: list[np.ndarray]) -> bool:
    """True when every reference shows a part on a plain border covering a moderate share."""
    for image in references:
        if border_spread(image) > MAX_BORDER_SPREAD:
            return False
        share = float(foreground_mask(image).mean())
        if not MIN_SHARE <= share <= MAX_SHARE:
            return False
    return True
