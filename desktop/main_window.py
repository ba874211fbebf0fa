"""A first main window: pick good reference images, build the bank, inspect images, see heatmaps.

The full application (projects, history, chat, export) is built on this in later issues; this
window already runs every engine call on the worker thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QToolBar,
)

from desktop.worker import InferenceWorker
from engine.visualize import heatmap_overlay

if TYPE_CHECKING:
    from engine.detector import AnomalyResult

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff)"


class MainWindow(QMainWindow):
    """References -> bank -> inspect, with the result shown as an overlay and a score."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("IAD Inspector")
        self.resize(1100, 760)
        self.bank = None
        self.worker = InferenceWorker()
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.progress.connect(self._on_progress)
        self.image_label = QLabel("Add good reference images, then inspect a part.")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.image_label)
        scroll.setWidgetResizable(True)
        self.setCentralWidget(scroll)
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.hide()
        self.statusBar().addPermanentWidget(self.progress_bar)
        self._build_actions()

    def _build_actions(self) -> None:
        toolbar = QToolBar("Main")
        self.addToolBar(toolbar)
        self.add_refs_action = QAction("Build from references…", self)
        self.add_refs_action.setShortcut(QKeySequence("Ctrl+R"))
        self.add_refs_action.triggered.connect(self.choose_references)
        self.inspect_action = QAction("Inspect image…", self)
        self.inspect_action.setShortcut(QKeySequence.StandardKey.Open)
        self.inspect_action.setEnabled(False)
        self.inspect_action.triggered.connect(self.choose_image)
        toolbar.addAction(self.add_refs_action)
        toolbar.addAction(self.inspect_action)

    def choose_references(self) -> None:
        """Ask for good images and build the bank from them on the worker."""
        files, _ = QFileDialog.getOpenFileNames(self, "Good reference images", "", IMAGE_FILTER)
        if files:
            self.build_bank([Path(f) for f in files])

    def build_bank(self, paths: list[Path]) -> None:
        """Queue a bank build from ``paths``."""
        self.statusBar().showMessage(f"Building reference bank from {len(paths)} images…")
        self.progress_bar.setRange(0, len(paths))
        self.progress_bar.show()
        self.worker.submit("build", lambda det, progress, cancelled: det.build_bank(
            paths, progress=progress, cancel=cancelled))

    def choose_image(self) -> None:
        """Ask for an image and inspect it on the worker."""
        path, _ = QFileDialog.getOpenFileName(self, "Image to inspect", "", IMAGE_FILTER)
        if path:
            self.inspect(Path(path))

    def inspect(self, path: Path) -> None:
        """Queue an inspection of ``path`` against the current bank."""
        from engine.imageio import load_image

        bank = self.bank
        self.statusBar().showMessage(f"Inspecting {path.name}…")
        self.worker.submit("inspect", lambda det, progress, cancelled: (
            path, load_image(path), det.inspect(path, bank)))

    def _on_progress(self, job_id: str, done: int, total: int) -> None:
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)

    def _on_finished(self, job_id: str, result: object) -> None:
        self.progress_bar.hide()
        if job_id == "build":
            self.bank = result
            self.inspect_action.setEnabled(True)
            self.statusBar().showMessage(
                f"Bank ready: {self.bank.image_count} references, augmentation {self.bank.augmentation}.")
        elif job_id == "inspect":
            path, pixels, anomaly = result  # type: ignore[misc]
            self.show_result(path, pixels, anomaly)

    def show_result(self, path: Path, pixels: np.ndarray, anomaly: AnomalyResult) -> None:
        """Draw the heatmap overlay and the verdict with the normalised score.

        The colour scale is fixed by the bank's pixel threshold, so a good part stays blue.
        """
        calibration = self.bank.calibration if self.bank is not None else None
        cut = calibration.pixel_cut() if calibration else float(anomaly.anomaly_map.max())
        overlay = heatmap_overlay(pixels, anomaly.anomaly_map, low=0.5 * cut, high=1.5 * cut)
        height, width = overlay.shape[:2]
        qimage = QImage(overlay.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
        self.image_label.setPixmap(QPixmap.fromImage(qimage))
        if anomaly.verdict is not None:
            self.statusBar().showMessage(
                f"{path.name}: {anomaly.verdict}, score {anomaly.normalised_score:.2f} (threshold 0.50)")
        else:
            self.statusBar().showMessage(f"{path.name}: uncalibrated raw score {anomaly.score:.4f}")

    def _on_failed(self, job_id: str, message: str) -> None:
        self.progress_bar.hide()
        self.statusBar().showMessage("Failed.")
        QMessageBox.warning(self, "IAD Inspector", message.split("\n\n")[0])

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Stop the worker thread cleanly before the window goes."""
        self.worker.shutdown()
        super().closeEvent(event)
