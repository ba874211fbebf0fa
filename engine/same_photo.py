"""References that are the same photo: one good part shot twice without moving, or one file saved twice.

The threshold is estimated from how good parts differ from one another (``engine.calibration``):
each reference is scored against a bank of the others.  A second shot of the same part sits in that
bank as its twin, the held-out reference scores almost zero, and the threshold falls so low that
every new good part is rejected.  Measured on the dev packs (4 references, `/tmp` script): two
parts shot twice each rejected 100 % of the good bottles and cookies, one part shot four times
65 % and 100 %, against 15 % and 3 % for four different parts.

Two references count as the same photo when their 64x64 grey images, each set to zero mean and
unit spread (so that a flicker of the lamp does not matter), correlate above 1 - ``SAME_PHOTO_DISTANCE``.
Measured: re-saved as JPEG, brightened 5 % or with sensor noise added, a photo stays within
0.0003 of itself; two different good parts lay at least 0.0017 apart (bottle, the most uniform
part, over 3486 pairs) and mostly far more (cookies, screws, tiles, transistors, hazelnuts:
0.003-0.05 at the closest).
"""

from __future__ import annotations

import cv2
import numpy as np

SAME_PHOTO_DISTANCE = 0.0006
COMPARISON_SIDE = 64


def photo_signature(image: np.ndarray) -> np.ndarray:
    """An RGB (or grey) image, of any pixel type, as a small grey vector with zero mean and unit spread."""
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[..., :3], np.float32),
                                                      cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey.astype(np.float32), (COMPARISON_SIDE, COMPARISON_SIDE), interpolation=cv2.INTER_AREA)
    centred = small.ravel() - small.mean()
    return centred / max(float(centred.std()), 1e-6)


def is_same_photo(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two ``photo_signature`` vectors are of the same photo."""
    return 1.0 - float(first @ second) / first.shape[0] < SAME_PHOTO_DISTANCE


def same_photo_groups(images: list[np.ndarray]) -> list[int]:
    """For each image, the index of the first image it is the same photo as (itself when none)."""
    signatures = [photo_signature(image) for image in images]
    group = list(range(len(images)))
    for second in range(len(images)):
        for first in range(second):
            if group[first] == first and is_same_photo(signatures[first], signatures[second]):
                group[second] = first
                break
    return group


def repeated(group: list[int]) -> tuple[tuple[int, ...], ...]:
    """The groups of two or more images in ``same_photo_groups``'s labels, as positions."""
    members: dict[int, list[int]] = {}
    for position, label in enumerate(group):
        members.setdefault(label, []).append(position)
    return tuple(tuple(positions) for positions in members.values() if len(positions) > 1)
