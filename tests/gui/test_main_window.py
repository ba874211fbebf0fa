"""The first main window, driven through pytest-qt offscreen: build a bank, inspect, see the overlay."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.synthetic import Defect, synthetic_part


@pytest.fixture
def window(qtbot):
    from desktop.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    yield win
    win.worker.shutdown()


def test_build_then_inspect_shows_overlay_and_score(qtbot, window, tmp_path):
    refs = []
    for seed in range(3):
        path = tmp_path / f"good{seed}.png"
        Image.fromarray(synthetic_part(seed, side=160)).save(path)
        refs.append(path)
    defective = tmp_path / "bad.png"
    Image.fromarray(synthetic_part(9, side=160, defects=(Defect("pit", 0.4, 0.4, 0.12),))).save(defective)

    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.build_bank(refs)
    assert window.bank is not None and window.bank.image_count == 3
    assert window.inspect_action.isEnabled()

    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.inspect(defective)
    pixmap = window.image_label.pixmap()
    assert pixmap is not None and pixmap.width() == 160
    message = window.statusBar().currentMessage()
    assert "bad.png: NG" in message and "threshold 0.50" in message
    image = pixmap.toImage()
    colours = np.array([[image.pixelColor(x, y).red() for x in range(0, 160, 8)] for y in range(0, 160, 8)])
    assert colours.std() > 10  # an overlay was drawn, not a blank pixmap


def test_corrupt_image_reports_error_and_keeps_window_usable(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    good = tmp_path / "good.png"
    Image.fromarray(synthetic_part(1, side=128)).save(good)
    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.build_bank([good])
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not really a png")
    with qtbot.waitSignal(window.worker.failed, timeout=60000):
        window.inspect(broken)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "broken.png" in shown[0]
    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.inspect(good)
