"""Camera grabs: the frame is taken once the camera has settled, from the chosen camera, with clear errors.

No camera is attached to CI machines, so OpenCV's VideoCapture is replaced by a scripted one that
plays what a USB camera hands out: its buffered frames, then frames whose exposure converges.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from services.camera import SETTLE_MIN_FRAMES, CameraChoice, grab_frame


class ScriptedCamera:
    """Plays BGR frames of the given mean brightness; records how it was opened and set."""

    opened: list[int] = []
    settings: dict[int, float] = {}

    def __init__(self, levels, is_open: bool = True) -> None:
        self._levels = iter(levels)
        self._open = is_open
        self.reads = 0

    def isOpened(self) -> bool:  # noqa: N802 (cv2 API)
        return self._open

    def set(self, prop: int, value: float) -> bool:
        ScriptedCamera.settings[prop] = value
        return True

    def read(self):
        level = next(self._levels, None)
        if level is None:
            return False, None
        self.reads += 1
        frame = np.full((24, 32, 3), level, dtype=np.uint8)
        frame[..., 0] = 0  # blue channel dark: RGB order shows in the red channel being dark
        return True, frame

    def release(self) -> None:
        pass


@pytest.fixture
def camera(monkeypatch):
    """Install a scripted camera: ``camera(levels, is_open=True)``."""
    import cv2

    ScriptedCamera.opened, ScriptedCamera.settings = [], {}

    def install(levels, is_open: bool = True):
        def open_capture(index):
            ScriptedCamera.opened.append(index)
            return ScriptedCamera(levels, is_open)

        monkeypatch.setattr(cv2, "VideoCapture", open_capture)

    return install


def _brightness(frame: np.ndarray) -> float:
    return float(frame[..., 1].mean())  # green: the channel the script sets and leaves in place


def test_the_frame_is_taken_after_the_buffer_and_the_exposure_settle(camera):
    buffered = [200] * 4  # the driver's stale frames agree with each other, but are not the scene
    converging = [20, 60, 100, 130, 145, 150, 151, 151, 151, 151]
    camera(buffered + converging)
    frame = grab_frame(CameraChoice(1))
    assert ScriptedCamera.opened == [1]
    assert frame.settled and frame.frames_read == len(buffered) + 8
    assert _brightness(frame.pixels) == 151
    assert frame.pixels[..., 2].max() == 0 and frame.pixels[..., 0].min() == 151  # BGR turned into RGB
    assert not ScriptedCamera.settings  # the driver's default resolution unless asked


def test_a_camera_that_is_steady_at_once_still_flushes_its_buffer(camera):
    camera(itertools.repeat(120))
    frame = grab_frame()
    assert frame.settled and frame.frames_read == SETTLE_MIN_FRAMES and ScriptedCamera.opened == [0]


def test_flickering_light_gives_the_last_frame_after_the_time_allowed(camera):
    camera(itertools.cycle([100, 110]))
    frame = grab_frame(settle_seconds=0.05)
    assert not frame.settled and frame.frames_read > SETTLE_MIN_FRAMES
    assert _brightness(frame.pixels) in (100, 110)


def test_the_highest_resolution_is_asked_for_when_chosen(camera):
    import cv2

    camera(itertools.repeat(90))
    grab_frame(CameraChoice(0, highest_resolution=True))
    assert ScriptedCamera.settings[cv2.CAP_PROP_FRAME_WIDTH] >= 4000
    assert ScriptedCamera.settings[cv2.CAP_PROP_FRAME_HEIGHT] >= 4000


def test_a_missing_camera_and_a_silent_one_say_what_to_do(camera):
    camera([], is_open=False)
    with pytest.raises(RuntimeError, match="No camera found as camera 2.*choose another in Settings"):
        grab_frame(CameraChoice(2))
    camera([])
    with pytest.raises(RuntimeError, match="opened but gave no picture"):
        grab_frame()


def test_a_camera_that_stops_mid_grab_gives_its_last_frame(camera):
    camera([30, 70])
    frame = grab_frame()
    assert not frame.settled and frame.frames_read == 2 and _brightness(frame.pixels) == 70
