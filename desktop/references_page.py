"""The references page: a project's good images as a thumbnail grid; add, disable, remove, build,
and the way to the inspection area and the threshold refinement.

Adding (files, a folder, or drag and drop) and building run on the worker; the grid shows each
reference's leave-one-out score after a build and flags the ones that look unlike the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.drops import dropped_paths
from desktop.thumbnails import ThumbnailLoader, place_icon
from engine.imageio import IMAGE_SUFFIXES
from engine.physical import MAX_PIXEL_SIZE_MM
from services.detail import DETAIL_SIDES
from services.drift import MAX_DRIFT_WINDOW, MIN_DRIFT_WINDOW

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)) + ")"


@dataclass
class ReferenceEntry:
    """One reference as the grid shows it."""

    id: int
    file_name: str
    path: Path
    active: bool
    loo_score: float | None = None
    outlier: bool = False
    same_photo_as: str | None = None  # the earlier reference this one looks like another shot of


TEXT_GUIDANCE_TIP = ("IAD-GPT's Text-Guided Enhancer: a deviation from the references counts more where CLIP finds "
                     "it closer to this part's defect prompts than to its normal ones, and less where it finds it "
                     "closer to the normal ones. Not measured on real CLIP weights. The reference bank is rebuilt "
                     "at the next build or inspection.")
PROMPTS_TIP = ("Have the local language model describe each defect type on this part, for the CLIP backbone's "
               "defect typing (about a minute). Only descriptions that name the part and their type are kept; "
               "the curated prompts stay.")


class ReferencesPage(QWidget):
    """Thumbnail grid of references with add, enable/disable, remove and build."""

    add_requested = Signal(list)
    camera_requested = Signal()
    paste_requested = Signal()
    toggle_requested = Signal(int, bool)
    remove_requested = Signal(int)
    build_requested = Signal()
    refine_requested = Signal()
    verify_requested = Signal()
    area_requested = Signal()
    detail_requested = Signal(str)
    drift_window_requested = Signal(int)
    pixel_size_requested = Signal(object)  # millimetres per pixel, or None
    prompts_requested = Signal()
    text_guidance_requested = Signal(bool)

    def __init__(self, thumbnails: ThumbnailLoader) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.thumbnails = thumbnails
        thumbnails.loaded.connect(self._thumbnail_loaded)
        self.summary = QLabel("No project selected.")
        self.summary.setWordWrap(True)
        self.grid = QListWidget()
        self.grid.setViewMode(QListWidget.ViewMode.IconMode)
        self.grid.setIconSize(QSize(120, 120))
        self.grid.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setSpacing(8)
        self.grid.setWordWrap(True)
        self.grid.setToolTip("After a build, each reference shows its score against the others (leave-one-out, "
                             "on the 0-1 scale with the threshold at 0.50).")
        self.add_files_button = QPushButton("Add images…")
        self.add_folder_button = QPushButton("Add folder…")
        self.camera_button = QPushButton("From camera")
        self.camera_button.setToolTip("Add a frame of the camera chosen in Settings as a good reference")
        self.camera_button.clicked.connect(self.camera_requested)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Add the image on the clipboard as a good reference")
        self.paste_button.clicked.connect(self.paste_requested)
        self.toggle_button = QPushButton("Disable / enable")
        self.remove_button = QPushButton("Remove")
        self.build_button = QPushButton("Build reference bank")
        self.build_button.setDefault(True)
        self.refine_button = QPushButton("Refine threshold…")
        self.refine_button.setToolTip("Set the threshold from reviewed inspections or a validation folder "
                                      "with good and defective images")
        self.refine_button.clicked.connect(self.refine_requested)
        self.verify_button = QPushButton("Verify with master parts…")
        self.verify_button.setToolTip("Start-of-shift check: photos of known-good master parts (in good/) must get OK "
                                      "and of known-defective ones (in other sub-folders) must be held back. Nothing "
                                      "is added to the history; each run is kept in the audit log.")
        self.verify_button.clicked.connect(self.verify_requested)
        self.area_button = QPushButton("Inspection area…")
        self.area_button.setToolTip("Inspect only a rectangle of each image, in finer detail: fixtures, labels or "
                                    "a tray outside it are ignored")
        self.area_button.clicked.connect(self.area_requested)
        self.prompts_button = QPushButton("Write defect prompts")
        self.prompts_button.setToolTip(PROMPTS_TIP)
        self.prompts_button.clicked.connect(self.prompts_requested)
        self.prompts_button.hide()
        self.guidance_box = QCheckBox("Text guidance")
        self.guidance_box.setToolTip(TEXT_GUIDANCE_TIP)
        self.guidance_box.toggled.connect(self.text_guidance_requested)
        self.guidance_box.hide()
        self.detail_box = QComboBox()
        self.detail_box.addItems(list(DETAIL_SIDES))
        self.detail_box.setToolTip("Level of detail: each image (or its inspection area) is inspected at about "
                                   + ", ".join(f"{side} px ({name})" for name, side in DETAIL_SIDES.items())
                                   + ". Finer finds smaller defects on parts that fill the photo, and takes longer "
                                     "(finest about 9x standard). The bank is rebuilt at the next build or inspection.")
        self.detail_box.textActivated.connect(self.detail_requested)
        self.drift_window_box = QSpinBox()
        self.drift_window_box.setRange(MIN_DRIFT_WINDOW, MAX_DRIFT_WINDOW)
        self.drift_window_box.setSuffix(" parts")
        self.drift_window_box.setToolTip("Score-drift check: the raw scores of the latest this many parts are compared "
                                         "with those of the first this many inspected with the current references. "
                                         "Smaller answers sooner on a slow line; larger sees a slower drift.")
        self.drift_window_box.editingFinished.connect(
            lambda: self.drift_window_requested.emit(self.drift_window_box.value()))
        self.pixel_size_box = QDoubleSpinBox()
        self.pixel_size_box.setRange(0.0, MAX_PIXEL_SIZE_MM)
        self.pixel_size_box.setDecimals(4)
        self.pixel_size_box.setSingleStep(0.001)
        self.pixel_size_box.setSuffix(" mm")
        self.pixel_size_box.setSpecialValueText("not set")
        self.pixel_size_box.setToolTip("The millimetres one pixel spans on the part, at the references' resolution "
                                       "(a part 50 mm wide that spans 1000 px: 0.05). Set, region sizes are given in "
                                       "millimetres too; 'not set' keeps them in pixels. The bank is not rebuilt.")
        self.pixel_size_box.editingFinished.connect(
            lambda: self.pixel_size_requested.emit(self.pixel_size_box.value() or None))
        self.progress = QProgressBar()
        self.progress.hide()
        self.add_files_button.clicked.connect(self._choose_files)
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.toggle_button.clicked.connect(self._toggle_selected)
        self.remove_button.clicked.connect(self._remove_selected)
        self.build_button.clicked.connect(self.build_requested)
        buttons = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.camera_button, self.paste_button,
                       self.toggle_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.progress)
        buttons.addWidget(self.build_button)
        settings = QHBoxLayout()  # how the project inspects: detail, area, threshold, and its check
        settings.addWidget(QLabel("Detail:"))
        settings.addWidget(self.detail_box)
        settings.addWidget(self.area_button)
        settings.addWidget(self.refine_button)
        settings.addWidget(self.verify_button)
        settings.addWidget(self.prompts_button)
        settings.addWidget(self.guidance_box)
        settings.addStretch(1)
        measuring = QHBoxLayout()  # what the results are measured in and against
        measuring.addWidget(QLabel("Pixel size:"))
        measuring.addWidget(self.pixel_size_box)
        measuring.addSpacing(16)
        measuring.addWidget(QLabel("Drift check:"))
        measuring.addWidget(self.drift_window_box)
        measuring.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(settings)
        layout.addLayout(measuring)
        layout.addWidget(QLabel("Drop good images of the part here. 1 to 8 are enough; more make verdicts steadier."))
        layout.addWidget(self.grid, 1)
        layout.addLayout(buttons)
        self.entries: dict[int, ReferenceEntry] = {}

    def show_references(self, entries: list[ReferenceEntry], bank_text: str) -> None:
        """Fill the grid."""
        self.grid.clear()
        self.entries = {e.id: e for e in entries}
        active = sum(e.active for e in entries)
        self.summary.setText(f"{active} active reference(s) of {len(entries)} · {bank_text}")
        for entry in entries:
            item = QListWidgetItem(QIcon(QPixmap(120, 120)), self._caption(entry))
            item.setData(Qt.ItemDataRole.UserRole, entry.id)
            item.setToolTip(entry.file_name)
            if not entry.active:
                item.setForeground(QColor("#999"))
            if entry.outlier:
                item.setBackground(QColor("#ffe0b2"))
                item.setToolTip("This reference looks unlike the others: check it is a good part.")
            if entry.same_photo_as:
                item.setBackground(QColor("#ffe0b2"))
                item.setToolTip(f"This looks like another shot of the part in {entry.same_photo_as}: it counts once in "
                                "the threshold. Replace it with a photo of another good part.")
            self.grid.addItem(item)
            self.thumbnails.request(("reference", entry.id), entry.path)

    def show_prompts_button(self, shown: bool, written: list[str] | None = None) -> None:
        """Offer prompt writing only where prompts are used (projects on a CLIP backbone); the tooltip
        lists the prompts written so far."""
        self.prompts_button.setVisible(shown)
        listing = "".join(f"\n• {text}" for text in written or [])
        self.prompts_button.setToolTip(PROMPTS_TIP + (f"\n\nWritten for this part:{listing}" if listing else ""))

    def show_text_guidance(self, available: bool, on: bool) -> None:
        """Offer text guidance where it can work (CLIP projects) and show its state without storing it again."""
        self.guidance_box.setVisible(available)
        blocked = self.guidance_box.blockSignals(True)
        self.guidance_box.setChecked(on)
        self.guidance_box.blockSignals(blocked)

    def show_drift_window(self, window: int) -> None:
        """Show the project's drift window without asking to store it again."""
        blocked = self.drift_window_box.blockSignals(True)
        self.drift_window_box.setValue(window)
        self.drift_window_box.blockSignals(blocked)

    def show_pixel_size(self, mm_per_pixel: float | None) -> None:
        """Show the project's pixel size without asking to store it again."""
        blocked = self.pixel_size_box.blockSignals(True)
        self.pixel_size_box.setValue(mm_per_pixel or 0.0)
        self.pixel_size_box.blockSignals(blocked)

    def show_detail(self, level: str) -> None:
        """Show the project's level of detail (a side set outside the app shows as it is)."""
        if self.detail_box.findText(level) < 0:
            self.detail_box.addItem(level)
        self.detail_box.setCurrentText(level)

    @staticmethod
    def _caption(entry: ReferenceEntry) -> str:
        text = entry.file_name if len(entry.file_name) < 22 else entry.file_name[:19] + "…"
        if not entry.active:
            text += "\n(disabled)"
        if entry.loo_score is not None:
            text += f"\nscore {entry.loo_score:.2f}" + (" ⚠ unlike others" if entry.outlier else "")
        if entry.same_photo_as:
            text += "\n⚠ same part"
        return text

    def _thumbnail_loaded(self, key: object, image: QImage) -> None:
        place_icon(self.grid, "reference", key, image)

    def selected_ids(self) -> list[int]:
        """Ids of the selected references."""
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.grid.selectedItems()]

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Good reference images", "", IMAGE_FILTER)
        if files:
            self.add_requested.emit([Path(f) for f in files])

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of good images")
        if folder:
            self.add_requested.emit([Path(folder)])

    def _toggle_selected(self) -> None:
        for reference_id in self.selected_ids():
            self.toggle_requested.emit(reference_id, not self.entries[reference_id].active)

    def _remove_selected(self) -> None:
        chosen = self.selected_ids()
        if not chosen:
            return
        answer = QMessageBox.question(
            self, "Remove references",
            f"Remove {len(chosen)} reference image(s) from this project? The next bank is built without them.\n\n"
            "To set an image aside for now, use Disable instead.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        for reference_id in chosen:
            self.remove_requested.emit(reference_id)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Accept dragged files and folders."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Add dropped files and folders as references."""
        paths = dropped_paths(event.mimeData())
        if paths:
            self.add_requested.emit(paths)
            event.acceptProposedAction()
