"""The references' camera frame: one size shared by every reference, and which images show that view.

Kept free of torch so that what only reasons about sizes (``engine.physical``) stays light to import.
"""

from __future__ import annotations

# Aspect ratios within this relative difference count as the same camera frame.
FRAME_ASPECT_TOLERANCE = 0.01


def same_frame(height: int, width: int, frame: tuple[int, int] | None) -> bool:
    """True when an image of (height, width) has the aspect ratio of the references' common ``frame``."""
    if not frame:
        return False
    return abs((width / height) / (frame[1] / frame[0]) - 1.0) <= FRAME_ASPECT_TOLERANCE


def reference_frame(sizes: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The references' common (h, w) when they all have one size; None for crops of varying size."""
    unique = {tuple(size) for size in sizes}
    return (int(sizes[0][0]), int(sizes[0][1])) if len(unique) == 1 else None


def other_frame(size: tuple[int, int], frame: tuple[int, int] | None) -> tuple[float, float] | None:
    """(width / height of ``size``, of ``frame``) when the references share a ``frame`` and an image of
    (h, w) ``size`` has another shape; None when it has theirs or they share none (crops of any size)."""
    if not frame or same_frame(size[0], size[1], frame):
        return None
    return round(size[1] / size[0], 3), round(frame[1] / frame[0], 3)
