"""One still frame from a camera, taken once the camera has settled.

A USB camera opened for a single grab first hands out the frames its driver buffered, and then,
while its automatic exposure and white balance converge (a fraction of a second to about two
seconds), frames that are too dark or tinted.  Inspected, such a frame scores like a defect, and
taken as a reference it spoils the bank.  So frames are read until the driver's buffer is flushed
and the mean brightness of the last few frames holds still, within ``SETTLE_TOLERANCE`` grey
levels, or until ``SETTLE_SECONDS`` have passed (lights that flicker may never hold still); the
last frame read is the one used.  Which camera, and whether to ask it for its highest
resolution instead of the driver's default (often 640x480), is the user's choice (Settings).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

SETTLE_MIN_FRAMES = 5  # more than the 4 frames a V4L2 driver buffers: none of them is fresh
SETTLE_WINDOW = 3  # frames whose mean brightness must agree
SETTLE_TOLERANCE = 1.5  # grey levels (of 255) the window's mean brightness may spread
SETTLE_SECONDS = 2.5
HIGHEST_SIDE = 10_000  # asked for as width and height, the driver answers with its largest mode

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraChoice:
    """Which camera to grab from (0 is the first the system lists) and at what resolution."""

    index: int = 0
    highest_resolution: bool = False

    def describe(self) -> str:
        """The camera as the Settings dialog names it."""
        return "the first camera (0)" if self.index == 0 else f"camera {self.index}"


FIRST_CAMERA = CameraChoice()


@dataclass(frozen=True)
class CameraFrame:
    """A grabbed frame (uint8 RGB, or grey for a mono camera) and how it was taken."""

    pixels: np.ndarray
    frames_read: int
    settled: bool


def grab_frame(choice: CameraChoice = FIRST_CAMERA, settle_seconds: float = SETTLE_SECONDS) -> CameraFrame:
    """One frame from ``choice``'s camera once it has settled (see the module docstring).

    Raises RuntimeError saying what to do when the camera cannot be opened or gives no frame.
    """
    import cv2

    capture = cv2.VideoCapture(choice.index)
    try:
        if not capture.isOpened():
            raise RuntimeError(f"No camera found as {choice.describe()}: connect a camera, choose another "
                               "in Settings, or open image files instead.")
        if choice.highest_resolution:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, HIGHEST_SIDE)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, HIGHEST_SIDE)
        frame, frames_read, settled = _settled_frame(capture, settle_seconds)
    finally:
        capture.release()
    if frame is None:
        raise RuntimeError(f"{choice.describe().capitalize()} opened but gave no picture: another program may be "
                           "using it, or its cable is loose.")
    if not settled:
        _log.warning("%s did not settle within %.1f s (%d frames); the last frame is used",
                     choice.describe(), settle_seconds, frames_read)
    return CameraFrame(_to_rgb(frame), frames_read, settled)


def _settled_frame(capture: object, settle_seconds: float) -> tuple[np.ndarray | None, int, bool]:
    """(last frame, frames read, whether the brightness held still) from an opened capture."""
    deadline = time.monotonic() + settle_seconds
    brightness: list[float] = []
    last = None
    while True:
        ok, frame = capture.read()  # type: ignore[attr-defined]
        if not ok or frame is None:
            return last, len(brightness), False
        last = frame
        brightness.append(float(np.mean(frame)))
        recent = brightness[-SETTLE_WINDOW:]
        if len(brightness) >= SETTLE_MIN_FRAMES and max(recent) - min(recent) <= SETTLE_TOLERANCE:
            return last, len(brightness), True
        if time.monotonic() >= deadline:
            return last, len(brightness), False


def _to_rgb(frame: np.ndarray) -> np.ndarray:
    """OpenCV's BGR (or BGRA) frame as RGB; a mono camera's grey frame stays grey."""
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[-1] == 1):
        return np.ascontiguousarray(frame.reshape(frame.shape[:2]))
    return np.ascontiguousarray(frame[..., 2::-1])
