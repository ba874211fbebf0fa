"""The inspection area: the rectangle of the image that is scored, for fixtures, labels or a tray
edge that lie in every photo but are not the part; and ignored rectangles inside it, for what is
on the part but differs from part to part by design (a printed date code, a lot number).

A rectangle is (left, top, right, bottom) as fractions of the image's width and height, so it
holds for any resolution of the same camera view.  Each image is cropped to the area before the
model sees it, so the processing size (about 256x256 pixels) is spent on the part, not on the
fixture around it: a part that fills a quarter of the frame's width is seen at four times the
detail.  Outside the area and inside an ignored rectangle the anomaly map is zero: no region, no
contribution to the score, in calibration as in inspection.  A mark inside an ignored rectangle
would still reach the features around it (a stride-16 cell, its pooling and the map's smoothing
spread it by about a tenth of the area), so before the backbone each ignored rectangle is also
filled with the same rectangle of the first reference: every part then looks alike there, to the
features around it too.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.errors import EngineError

Area = tuple[float, float, float, float]
# Narrower than this, an area holds too few feature cells (stride 16 at about 256 px) to score.
MIN_SIDE = 0.05
# An ignored rectangle only has to cover what it hides: a date code may be small.
MIN_IGNORED_SIDE = 0.01


class InvalidAreaError(EngineError):
    """An inspection area that is not a rectangle inside the image."""

    def __init__(self, area: object, reason: str,
                 hint: str = "Give left, top, right, bottom as fractions of the image (0 to 1).") -> None:
        super().__init__(f"Invalid inspection area {area}: {reason}. {hint}")


def checked_area(area: object, min_side: float = MIN_SIDE) -> Area:
    """``area`` as four floats, or InvalidAreaError saying what is wrong with it."""
    try:
        left, top, right, bottom = (float(value) for value in area)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidAreaError(area, "it needs four numbers") from None
    if not all(0.0 <= value <= 1.0 for value in (left, top, right, bottom)):
        raise InvalidAreaError(area, "a value lies outside 0 to 1")
    if right - left < min_side or bottom - top < min_side:
        raise InvalidAreaError(area, f"right must exceed left, and bottom top, by at least {min_side:.0%}")
    return left, top, right, bottom


def check_something_is_scored(area: Area | None, ignored: tuple[Area, ...]) -> None:
    """InvalidAreaError when the ignored rectangles cover the whole area: nothing would be inspected."""
    grid = scored_pixels((100, 100), area, ignored)
    if grid is not None and grid.mean() < MIN_SIDE * MIN_SIDE:
        raise InvalidAreaError(list(ignored), "the ignored rectangles cover (almost) the whole inspected area",
                               "Make them smaller, or the inspected area larger.")


def checked_ignored(rectangles: object) -> tuple[Area, ...]:
    """Ignored rectangles as a tuple of areas, each checked (sides down to ``MIN_IGNORED_SIDE``)."""
    try:
        items = list(rectangles)  # type: ignore[call-overload]
    except TypeError:
        raise InvalidAreaError(rectangles, "ignored areas must be a list of rectangles") from None
    return tuple(checked_area(rectangle, MIN_IGNORED_SIDE) for rectangle in items)


def area_box(size: tuple[int, int], area: Area) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) pixel bounds of ``area`` on an image of ``size``; at least one
    pixel each way, rounded outwards."""
    height, width = size
    left, top, right, bottom = area
    x0, y0 = int(np.floor(left * width)), int(np.floor(top * height))
    x1, y1 = max(int(np.ceil(right * width)), x0 + 1), max(int(np.ceil(bottom * height)), y0 + 1)
    return y0, min(y1, height), x0, min(x1, width)


def area_share(area: Area | None) -> float:
    """The smaller of the area's shares of the image's width and height (1 for the whole image)."""
    return 1.0 if area is None else min(area[2] - area[0], area[3] - area[1])


def area_size(size: tuple[int, int], area: Area | None) -> tuple[int, int]:
    """(height, width) of ``area`` on an image of ``size``; the image's own size for None."""
    if area is None:
        return size
    y0, y1, x0, x1 = area_box(size, area)
    return y1 - y0, x1 - x0


def crop_to_area(pixels: np.ndarray, area: Area | None) -> np.ndarray:
    """The pixels of ``area`` (a view, not a copy); the whole image for None."""
    if area is None:
        return pixels
    y0, y1, x0, x1 = area_box(pixels.shape[:2], area)
    return pixels[y0:y1, x0:x1]


def relative_to_area(rectangles: tuple[Area, ...], area: Area | None) -> tuple[Area, ...]:
    """``rectangles`` (fractions of the image) as fractions of ``area``, clipped to it.

    A rectangle that lies outside the area, or keeps less than ``MIN_IGNORED_SIDE`` of it either
    way, is left out: outside the area nothing is scored anyway.
    """
    if area is None:
        return rectangles
    left, top, right, bottom = area
    width, height = right - left, bottom - top
    inside = []
    for r_left, r_top, r_right, r_bottom in rectangles:
        clipped = (max(0.0, (r_left - left) / width), max(0.0, (r_top - top) / height),
                   min(1.0, (r_right - left) / width), min(1.0, (r_bottom - top) / height))
        if clipped[2] - clipped[0] >= MIN_IGNORED_SIDE and clipped[3] - clipped[1] >= MIN_IGNORED_SIDE:
            inside.append(clipped)
    return tuple(inside)


def paste_into_frame(area_map: np.ndarray, size: tuple[int, int], area: Area) -> np.ndarray:
    """A map of ``area`` (at any resolution) placed, resized bilinearly, on a zero map of the whole
    image's ``size``."""
    height, width = size
    y0, y1, x0, x1 = area_box(size, area)
    frame = np.zeros((height, width), dtype=np.float32)
    frame[y0:y1, x0:x1] = cv2.resize(area_map.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return frame


def area_mask(size: tuple[int, int], area: Area) -> np.ndarray:
    """Boolean (h, w) mask of ``area`` on an image of ``size``; at least one pixel each way."""
    y0, y1, x0, x1 = area_box(size, area)
    mask = np.zeros(size, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def scored_pixels(size: tuple[int, int], area: Area | None, ignored: tuple[Area, ...]) -> np.ndarray | None:
    """Boolean (h, w) mask of what is scored: the area (or the whole image) less the ignored
    rectangles; None when that is every pixel."""
    if area is None and not ignored:
        return None
    mask = area_mask(size, area) if area is not None else np.ones(size, dtype=bool)
    for rectangle in ignored:
        mask &= ~area_mask(size, rectangle)
    return mask


def fill_ignored(image: np.ndarray, fill: np.ndarray | None, ignored: tuple[Area, ...]) -> np.ndarray:
    """``image`` (float RGB) with each ignored rectangle taken from ``fill`` (the first reference,
    resized to the image when its size differs); the image itself when there is nothing to fill."""
    if not ignored or fill is None:
        return image
    size = image.shape[:2]
    if fill.shape[:2] != size:
        fill = cv2.resize(fill, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    hidden = ~scored_pixels(size, None, ignored)
    filled = image.copy()
    filled[hidden] = fill[hidden]
    return filled


def is_whole_image(area: Area | None) -> bool:
    """True for no area, or one that covers the whole image."""
    return area is None or tuple(area) == (0.0, 0.0, 1.0, 1.0)


def describe_area(area: Area | None, ignored: tuple[Area, ...] = ()) -> str:
    """The area in words, as percentages of the image ("the whole image" for None), and how many
    rectangles inside it are ignored."""
    if area is None:
        text = "the whole image"
    else:
        left, top, right, bottom = (round(100 * value) for value in area)
        text = f"left {left} % to right {right} %, top {top} % to bottom {bottom} % of the image"
    if ignored:
        text += f", less {len(ignored)} ignored rectangle{'s' if len(ignored) > 1 else ''}"
    return text
