"""Synthetic parts with drawn defects, for unit tests and the demo project.

A "part" is a round metal-like disc with a regular machined texture on a plain background; each
seed shifts the texture phase and the noise a little, as real good parts differ.  Defects are
drawn as dark pits or bright scratches at known places, so tests know where the map must peak.
No dataset files are needed: everything is made here.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Defect:
    """A drawn defect: ``kind`` is "pit" (dark blob) or "scratch" (bright line); position in 0..1."""

    kind: str
    x: float
    y: float
    size: float = 0.06

    def box(self, side: int) -> tuple[int, int, int, int]:
        """Bounding box (x0, y0, x1, y1) in pixels of an image ``side`` pixels wide."""
        half = int(self.size * side / 2) + 2
        cx, cy = int(self.x * side), int(self.y * side)
        return max(0, cx - half), max(0, cy - half), min(side, cx + half), min(side, cy + half)


def synthetic_part(seed: int, side: int = 256, defects: tuple[Defect, ...] = ()) -> np.ndarray:
    """A uint8 RGB image of a good part (seed varies texture phase and noise), with ``defects`` drawn."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=2)
    period = side / 16.0
    texture = 0.5 + 0.08 * np.sin(2 * np.pi * xx / period + phase[0]) * np.sin(2 * np.pi * yy / period + phase[1])
    texture += rng.normal(0.0, 0.015, size=(side, side)).astype(np.float32)
    centre = side / 2 + rng.uniform(-2, 2, size=2)
    radius = side * 0.42
    inside = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 < radius ** 2
    base = np.array([0.62, 0.64, 0.70], dtype=np.float32)
    background = np.array([0.12, 0.13, 0.15], dtype=np.float32)
    image = np.where(inside[..., None], texture[..., None] * base / 0.5, background)
    image = np.clip(image, 0, 1)
    out = (image * 255).astype(np.uint8)
    for defect in defects:
        _draw(out, defect, side, rng)
    return out


def _draw(image: np.ndarray, defect: Defect, side: int, rng: np.random.Generator) -> None:
    cx, cy = int(defect.x * side), int(defect.y * side)
    extent = max(3, int(defect.size * side / 2))
    if defect.kind == "pit":
        cv2.ellipse(image, (cx, cy), (extent, max(2, int(extent * 0.7))), float(rng.uniform(0, 180)), 0, 360,
                    (35, 28, 22), thickness=-1, lineType=cv2.LINE_AA)
    elif defect.kind == "scratch":
        dx = int(extent * 0.9)
        dy = int(extent * 0.4)
        cv2.line(image, (cx - dx, cy - dy), (cx + dx, cy + dy), (250, 245, 235), thickness=max(2, side // 100),
                 lineType=cv2.LINE_AA)
    else:
        raise ValueError(f"unknown defect kind {defect.kind!r}")


def defect_mask(defects: tuple[Defect, ...], side: int) -> np.ndarray:
    """Boolean mask of the defects' bounding boxes (a generous ground truth for tests)."""
    mask = np.zeros((side, side), dtype=bool)
    for defect in defects:
        x0, y0, x1, y1 = defect.box(side)
        mask[y0:y1, x0:x1] = True
    return mask
