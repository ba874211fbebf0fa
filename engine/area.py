"""The inspection area: the rectangle of the image that is scored, for fixtures, labels or a tray
edge that lie in every photo but are not the part.

An area is (left, top, right, bottom) as fractions of the image's width and height, so it holds
for any resolution of the same camera view.  Outside it the anomaly map is zero: no region, no
contribution to the score, in calibration as in inspection.
"""

from __future__ import annotations

import numpy as np

from engine.errors import EngineError

Area = tuple[float, float, float, float]
# Narrower than this, an area holds too few feature cells (stride 16 at about 256 px) to score.
MIN_SIDE = 0.05


class InvalidAreaError(EngineError):
    """An inspection area that is not a rectangle inside the image."""

    def __init__(self, area: object, reason: str) -> None:
        super().__init__(f"Invalid inspection area {area}: {reason}. Give left, top, right, bottom as "
                         f"fractions of the image (0 to 1), each side at least {MIN_SIDE:.0%} of the image.")


def checked_area(area: object) -> Area:
    """``area`` as four floats, or InvalidAreaError saying what is wrong with it."""
    try:
        left, top, right, bottom = (float(value) for value in area)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidAreaError(area, "it needs four numbers") from None
    if not all(0.0 <= value <= 1.0 for value in (left, top, right, bottom)):
        raise InvalidAreaError(area, "a value lies outside 0 to 1")
    if right - left < MIN_SIDE or bottom - top < MIN_SIDE:
        raise InvalidAreaError(area, "right must exceed left, and bottom top, by the minimum side")
    return left, top, right, bottom


def area_mask(size: tuple[int, int], area: Area) -> np.ndarray:
    """Boolean (h, w) mask of ``area`` on an image of ``size``; at least one pixel each way."""
    height, width = size
    left, top, right, bottom = area
    x0, x1 = int(np.floor(left * width)), max(int(np.ceil(right * width)), int(np.floor(left * width)) + 1)
    y0, y1 = int(np.floor(top * height)), max(int(np.ceil(bottom * height)), int(np.floor(top * height)) + 1)
    mask = np.zeros((height, width), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def is_whole_image(area: Area | None) -> bool:
    """True for no area, or one that covers the whole image."""
    return area is None or tuple(area) == (0.0, 0.0, 1.0, 1.0)


def describe_area(area: Area | None) -> str:
    """The area in words, as percentages of the image ("the whole image" for None)."""
    if area is None:
        return "the whole image"
    left, top, right, bottom = (round(100 * value) for value in area)
    return f"left {left} % to right {right} %, top {top} % to bottom {bottom} % of the image"
