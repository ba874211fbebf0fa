"""Extra views of reference images for parts that appear in any orientation.

Rotating the few good images (as AnomalyDINO does) lets a bank of 1-4 photos cover a screw lying
at any angle.  Rotations keep the image size and fill the corners by reflection, so the bank
learns no artificial black corners.
"""

from __future__ import annotations

import cv2
import numpy as np


def flip_views(image: np.ndarray) -> list[np.ndarray]:
    """The horizontal and vertical mirror images."""
    return [np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(image[::-1, :])]


def rotation_views(image: np.ndarray, steps: int) -> list[np.ndarray]:
    """``steps - 1`` rotations of the image by multiples of 360/steps degrees (the original excluded)."""
    height, width = image.shape[:2]
    centre = (width / 2.0, height / 2.0)
    views = []
    for index in range(1, steps):
        angle = 360.0 * index / steps
        if height == width and angle % 90 == 0:
            views.append(np.ascontiguousarray(np.rot90(image, k=int(angle // 90))))
            continue
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        views.append(cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT_101))
    return views


def augmented_views(image: np.ndarray, mode: str, rotation_steps: int) -> list[np.ndarray]:
    """The extra views (not the original) that ``mode`` adds for one reference image."""
    if mode == "flips":
        return flip_views(image)
    if mode == "rotations":
        return rotation_views(image, rotation_steps)
    return []


def shifted_view(image: np.ndarray) -> np.ndarray:
    """A plausible re-take of a good part: shifted by 3 % of its size and 6 % brighter."""
    height, width = image.shape[:2]
    shift = np.float32([[1, 0, 0.03 * width], [0, 1, 0.03 * height]])
    shifted = cv2.warpAffine(image, shift, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return np.clip(shifted * 1.06, 0.0, 1.0).astype(np.float32)
