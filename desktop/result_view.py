"""The result view: zoomable image with heatmap and numbered regions, verdict badge, reference, regions table.

Selection is shared: clicking a row selects the region outline in the view, and clicking an
outline selects its row.  The overlay's opacity, colour map and visibility change the display
only; the verdict can be re-labelled at another sensitivity from the stored raw score.
"""

from __future__ import annotations

from pathlib import Path

import cv2
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QGraphicsEllipseItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.drops import dropped_paths
from desktop.images import to_pixmap, verdict_colour
from desktop.measure import MeasureLine
from engine.facts import FactSheet, facts_at
from engine.imageio import shrink_to_side
from engine.physical import format_mm
from engine.regions import Region
from engine.visualize import heatmap_rgba, overlay_scale
from services.results import StoredResult

COLOUR_MAPS = {"Jet": cv2.COLORMAP_JET, "Inferno": cv2.COLORMAP_INFERNO, "Turbo": cv2.COLORMAP_TURBO,
               "Hot": cv2.COLORMAP_HOT}


OVERLAY_MAX_SIDE = 2048
# The photo is shown at most this large (drawn scaled to its own size): 1:1 up to 25-30 MP,
# while a 100 MP photo would take 300 MB as an array and 400 MB more as a pixmap.
PHOTO_MAX_SIDE = 6144
EMPTY_HINT = ("Drop images of parts here to inspect them (a folder goes to Batch), or use Open images.\n\n"
              "No project yet? Click New… on the left, then add 1 to 8 photos of good parts on the "
              "References tab.")


class ZoomView(QGraphicsView):
    """A graphics view that zooms with the wheel around the cursor and pans by dragging.

    Files and folders dropped on it are emitted as ``files_dropped``; while ``hint`` is set
    (nothing shown yet) it is written across the view.  While measuring, a drag draws instead of
    panning: ``measure_dragged`` gives its start and current end in scene (photo) coordinates.
    """

    files_dropped = Signal(list)
    measure_dragged = Signal(QPointF, QPointF)

    def __init__(self, scene: QGraphicsScene) -> None:
        super().__init__(scene)
        self.hint = ""
        self.measuring = False
        self._measure_start: QPointF | None = None
        self.setAcceptDrops(True)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)

    def set_hint(self, text: str) -> None:
        """Show ``text`` across the view ("" hides it)."""
        self.hint = text
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 (Qt override)
        """The hint, in viewport coordinates, when set."""
        if not self.hint:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor("#607d8b"))
        area = QRectF(self.viewport().rect()).adjusted(40, 40, -40, -40)
        painter.drawText(area, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.hint)
        painter.restore()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Accept dragged files and folders."""
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 (Qt override)
        """Keep accepting over the whole view (the scene's items take no drops)."""
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Hand the dropped files and folders on."""
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)

    def set_measuring(self, on: bool) -> None:
        """Drags measure (on) or pan (off)."""
        self.measuring = on
        self._measure_start = None
        self.setDragMode(QGraphicsView.DragMode.NoDrag if on else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """Start a measuring line, or pan and select as usual."""
        if self.measuring and event.button() == Qt.MouseButton.LeftButton:
            self._measure_start = self.mapToScene(event.position().toPoint())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """Stretch the measuring line to the cursor."""
        if self._measure_start is not None:
            self.measure_dragged.emit(self._measure_start, self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """End the measuring line where the button is let go."""
        if self._measure_start is not None:
            self.measure_dragged.emit(self._measure_start, self.mapToScene(event.position().toPoint()))
            self._measure_start = None
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        """Zoom in or out by 15 % per wheel step."""
        factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        self.scale(factor, factor)

    def fit(self) -> None:
        """Show the whole image."""
        if self.scene() is not None and not self.scene().itemsBoundingRect().isEmpty():
            self.fitInView(self.scene().itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)


class RegionItem(QGraphicsRectItem):
    """A selectable region outline carrying its region number."""

    def __init__(self, index: int, rect: QRectF) -> None:
        super().__init__(rect)
        self.index = index
        self.setFlag(QGraphicsRectItem.GraphicsItemFlag.ItemIsSelectable, True)
        self._update_pen()

    def _update_pen(self) -> None:
        pen = QPen(QColor("#00e5ff") if self.isSelected() else QColor("white"))
        pen.setWidthF(3.0 if self.isSelected() else 2.0)
        pen.setCosmetic(True)
        self.setPen(pen)

    def itemChange(self, change, value):  # noqa: N802, ANN001 (Qt override)
        """Restyle the outline when selected."""
        if change == QGraphicsRectItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._update_pen()
        return super().itemChange(change, value)


class ResultView(QWidget):
    """Everything about one inspection result except the conversation."""

    region_selected = Signal(int)
    files_dropped = Signal(list)
    label_requested = Signal(int)
    pixel_size_from_line_requested = Signal(float)  # the measured line's length in photo pixels
    save_image_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.result: StoredResult | None = None
        self.facts: FactSheet | None = None  # what is shown: the result's facts at the sensitivity
        self.sensitivity = 0.5
        self.scene = QGraphicsScene(self)
        self.view = ZoomView(self.scene)
        self.view.set_hint(EMPTY_HINT)
        self.view.files_dropped.connect(self.files_dropped)
        self.image_item = QGraphicsPixmapItem()
        self.overlay_item = QGraphicsPixmapItem()
        self.scene.addItem(self.image_item)
        self.scene.addItem(self.overlay_item)
        self.region_items: list[RegionItem] = []
        # Where the map peaks on a part with no region: what "where is it?" names in the chat.
        self.peak_item = QGraphicsEllipseItem()
        self.peak_item.setPen(QPen(QColor("white"), 2, Qt.PenStyle.DashLine))
        self.peak_item.setZValue(2)
        self.peak_item.hide()
        self.scene.addItem(self.peak_item)
        # The inspection area, when the project scores only part of the image.
        self.area_item = QGraphicsRectItem()
        self.area_item.setPen(QPen(QColor("#00e0ff"), 2, Qt.PenStyle.DashLine))
        self.area_item.setZValue(1)
        self.area_item.setToolTip("Inspection area: only this rectangle is inspected")
        self.area_item.hide()
        self.scene.addItem(self.area_item)
        self.ignored_items: list[QGraphicsRectItem] = []
        self.measure_line = MeasureLine(self.scene)
        self.view.measure_dragged.connect(self.measure)
        self.scene.selectionChanged.connect(self._scene_selection_changed)

        self.badge = QLabel("—")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setMinimumHeight(64)
        font = QFont()
        font.setPointSize(22)
        font.setBold(True)
        self.badge.setFont(font)
        self.score_label = QLabel("Inspect a part to see its verdict.")
        self.score_label.setWordWrap(True)
        self.reference_label = QLabel("Nearest reference")
        self.reference_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reference_label.setMinimumSize(160, 160)

        self.show_overlay = QCheckBox("Heatmap")
        self.show_overlay.setChecked(True)
        self.show_overlay.toggled.connect(self.overlay_item.setVisible)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setToolTip("Heatmap opacity")
        self.opacity.setMinimumWidth(50)  # on a narrow screen it had shrunk to its handle alone
        self.opacity.valueChanged.connect(lambda v: self.overlay_item.setOpacity(v / 100))
        self.colour_map = QComboBox()
        self.colour_map.addItems(list(COLOUR_MAPS))
        self.colour_map.setToolTip("Heatmap colours")  # no label, for narrow screens
        self.colour_map.currentTextChanged.connect(lambda _: self._draw_overlay())
        self.measure_button = QToolButton()
        self.measure_button.setText("Measure")
        self.measure_button.setCheckable(True)
        self.measure_button.setToolTip("Drag across the photo to measure a distance: pixels, and millimetres when "
                                       "the project states its pixel size (References page). M turns it on and off; "
                                       "the arrow sets the pixel size from a line of known length.")
        self.measure_button.toggled.connect(self._measuring_toggled)
        self.calibrate_action = QAction("Set the pixel size from this line…", self)
        self.calibrate_action.setEnabled(False)
        self.calibrate_action.triggered.connect(
            lambda: self.pixel_size_from_line_requested.emit(self.measure_line.line.line().length()))
        menu = QMenu(self.measure_button)
        menu.addAction(self.calibrate_action)
        self.measure_button.setMenu(menu)
        self.measure_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)

        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["#", "Position", "Size", "Peak", "Type"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The position column gives way (its words wrap) so that the type column never scrolls off.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._table_selection_changed)
        self.table.cellDoubleClicked.connect(lambda row, _column: self.zoom_to_region(self._index_at(row)))
        self.table.setToolTip("Double-click a region to zoom to it; F shows the whole image again")

        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the photo as shown (heatmap, regions, measuring line) for an e-mail or a "
                                    "report; Ctrl+C on the photo does the same. The arrow saves it to a file.")
        self.copy_button.clicked.connect(self.copy_image)
        save_menu = QMenu(self.copy_button)
        save_menu.addAction("Save image…", self.save_image_requested.emit)
        self.copy_button.setMenu(save_menu)
        self.copy_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        copy_shortcut = QAction("Copy image", self.view)
        copy_shortcut.setShortcut(QKeySequence.StandardKey.Copy)
        copy_shortcut.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy_shortcut.triggered.connect(self.copy_image)
        self.view.addAction(copy_shortcut)

        controls = QHBoxLayout()
        controls.addWidget(self.show_overlay)
        controls.addWidget(self.opacity)  # the heatmap's opacity (its tooltip says so): no label, for narrow screens
        controls.addWidget(self.colour_map)
        controls.addWidget(self.measure_button)
        controls.addWidget(self.copy_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.view, 1)
        left_layout.addLayout(controls)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.badge)
        side_layout.addWidget(self.score_label)
        side_layout.addWidget(self.reference_label)
        side_layout.addWidget(self.table, 1)
        self.label_button = QPushButton("Name defect type…")
        self.label_button.setToolTip("Name the selected region's type once; similar regions will get it later")
        self.label_button.clicked.connect(self._label_selected)
        side_layout.addWidget(self.label_button)
        side.setMinimumWidth(self._region_table_min_width())
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([2000, 1000])  # two thirds to the photo, whatever the controls under it ask for
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _region_table_min_width(self) -> int:
        """Width at which every column of the region table stays readable, the position on two lines:
        on a 1280 px wide screen (1920 px at 150 %) the photo had taken it all and positions read "t…"."""
        metrics = self.table.fontMetrics()
        widest = ("99", "bottom", "45.67 %", "99.9×", "unclassified")
        padding = metrics.horizontalAdvance("M") * 3 // 4
        return sum(metrics.horizontalAdvance(text) + padding for text in widest) + 2 * self.table.frameWidth()

    def rendered_image(self) -> QImage | None:
        """The photo as shown, at its own resolution: the heatmap when it is on, the regions and their
        numbers, the inspection area and a measuring line; None before a result is shown."""
        if self.result is None or self.image_item.pixmap().isNull():
            return None
        source = self.image_item.sceneBoundingRect()
        image = QImage(round(source.width()), round(source.height()), QImage.Format.Format_RGB32)
        image.fill(QColor("black"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.scene.render(painter, QRectF(image.rect()), source)
        painter.end()
        return image

    def copy_image(self) -> bool:
        """Put the photo as shown on the clipboard; False when no result is shown."""
        image = self.rendered_image()
        if image is None:
            return False
        QApplication.clipboard().setImage(image)
        return True

    def measure(self, start: QPointF, end: QPointF) -> str:
        """Draw a measuring line from ``start`` to ``end`` (photo pixels), its length written at its end;
        returns that length in words."""
        text = self.measure_line.draw(start, end, self.facts.mm_per_pixel if self.facts is not None else None)
        self.calibrate_action.setEnabled(self.result is not None)
        return text

    def _measuring_toggled(self, on: bool) -> None:
        self.view.set_measuring(on)
        if not on:
            self.measure_line.hide()
            self.calibrate_action.setEnabled(False)

    def show_result(self, result: StoredResult, sensitivity: float) -> None:
        """Display a stored result."""
        self.result = result
        self.measure_line.hide()  # a line drawn on another photo measures nothing here
        self.calibrate_action.setEnabled(False)
        self.view.set_hint("")
        height, width = result.image_size
        shown_height, shown_width = result.image.shape[:2]
        self.image_item.setPixmap(to_pixmap(result.image))
        self.image_item.setTransform(QTransform.fromScale(width / shown_width, height / shown_height))
        self.scene.setSceneRect(QRectF(0, 0, width, height))
        self._draw_overlay()
        self._draw_area(result)
        if result.reference is not None:
            self.reference_label.setPixmap(to_pixmap(result.reference).scaled(
                220, 220, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        else:
            self.reference_label.setText("No reference image")
        self.relabel(sensitivity)
        self.view.fit()
        if self.area_item.isVisible():  # what was inspected fills the view; F shows the whole photo
            rect = self.area_item.rect()
            margin = 0.05 * max(rect.width(), rect.height())
            self.view.fitInView(rect.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio)

    def relabel(self, sensitivity: float) -> None:
        """Show the verdict, score and regions at ``sensitivity`` (no inference; see ``facts_at``)."""
        self.sensitivity = sensitivity
        if self.result is None:
            return
        facts = self.facts = facts_at(self.result.facts, self.result.calibration, sensitivity)
        side = max(self.result.image_size)
        self._draw_regions(facts, side)
        self._fill_table(facts)
        self._mark_peak(facts, side)
        self.badge.setText(facts.verdict)
        self.badge.setStyleSheet(
            f"background: {verdict_colour(facts.verdict).name()}; color: white; border-radius: 6px;")
        reach = f", into the {' and '.join(facts.peak_extends_to)}" if facts.peak_extends_to else ""
        spot = (f" · strongest spot: {facts.peak_position}{reach} ({facts.peak_level:.1f}× pixel threshold)"
                if self.peak_item.isVisible() else "")
        self.score_label.setText(
            f"Score {facts.score:.2f} (threshold 0.50) · confidence {facts.confidence}\n"
            f"{facts.region_count} region(s){spot} · {Path(self.result.source).name}"
            + (f" · lot {self.result.lot}" if self.result.lot else "")
            + ("\n⚠ Unlike the references as a whole: is this the right project and camera set-up?"
               if facts.unlike_references else "")
            + ("\nGrey photo: compared with the colour references made grey" if facts.compared_in_grey else "")
            + (f"\n⚠ {facts.frame_note[0].upper()}{facts.frame_note[1:]}" if facts.frame_note else "")
            + ("\n⚠ Stored heatmap missing or damaged (see db check): regions only" if self.result.map_missing
               else ""))
        self.score_label.setToolTip(self.result.source)

    def _draw_regions(self, facts: FactSheet, side: int) -> None:
        """Numbered outlines of the regions shown; ``side`` (the image's longer side) sizes the labels."""
        for item in self.region_items:
            self.scene.removeItem(item)
        self.region_items = []
        for region in facts.regions:
            x, y, w, h = region.bbox
            item = RegionItem(region.index, QRectF(x, y, w, h))
            label = QGraphicsSimpleTextItem(str(region.index), item)
            label.setBrush(QBrush(QColor("white")))
            label.setPen(QPen(QColor("black")))
            label.setFont(QFont("Sans", max(10, int(side / 40)), QFont.Weight.Bold))
            label.setPos(x, max(0, y - label.boundingRect().height()))
            self.scene.addItem(item)
            self.region_items.append(item)

    def _mark_peak(self, facts: FactSheet, side: int) -> None:
        """A dashed ring at the map's strongest point when no region is shown (older rows have none)."""
        if facts.regions or facts.peak_xy is None or facts.peak_level is None:
            self.peak_item.hide()
            return
        radius = side / 20
        x, y = facts.peak_xy
        self.peak_item.setRect(QRectF(x - radius, y - radius, 2 * radius, 2 * radius))
        self.peak_item.setToolTip(f"Strongest deviation from the references: {facts.peak_level:.1f}× the pixel "
                                  "threshold, no region above it")
        self.peak_item.show()

    def _draw_area(self, result: StoredResult) -> None:
        """Outline the inspection area the result was scored in (hidden when it was the whole image)
        and the rectangles ignored inside it."""
        height, width = result.image_size

        def scene_rect(area: tuple[float, float, float, float]) -> QRectF:
            left, top, right, bottom = area
            return QRectF(left * width, top * height, (right - left) * width, (bottom - top) * height)

        self.area_item.setVisible(result.inspection_area is not None)
        if result.inspection_area is not None:
            self.area_item.setRect(scene_rect(result.inspection_area))
        for item in self.ignored_items:
            self.scene.removeItem(item)
        self.ignored_items = []
        for rectangle in result.ignored_areas:
            item = QGraphicsRectItem(scene_rect(rectangle))
            item.setPen(QPen(QColor("#ff4060"), 2, Qt.PenStyle.DashLine))
            item.setZValue(1)
            item.setToolTip("Ignored: not scored")
            self.scene.addItem(item)
            self.ignored_items.append(item)

    def _draw_overlay(self) -> None:
        if self.result is None:
            return
        if self.result.map_missing:
            self.overlay_item.setPixmap(QPixmap())
            return
        anomaly_map = self.result.anomaly_map
        cut = self.result.pixel_cut or float(anomaly_map.max())
        # The map is a smooth upsampling of a small one: colouring it beyond screen size only costs
        # time on the GUI thread (0.5 s at 25 megapixels), so it is coloured small and drawn scaled.
        anomaly_map = shrink_to_side(anomaly_map, OVERLAY_MAX_SIDE)
        rgba = heatmap_rgba(anomaly_map, *overlay_scale(cut), colormap=COLOUR_MAPS[self.colour_map.currentText()])
        self.overlay_item.setPixmap(to_pixmap(rgba))
        height, width = self.result.image_size
        self.overlay_item.setTransform(QTransform.fromScale(width / rgba.shape[1], height / rgba.shape[0]))
        self.overlay_item.setOpacity(self.opacity.value() / 100)
        self.overlay_item.setVisible(self.show_overlay.isChecked())

    def _fill_table(self, facts: FactSheet) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for region in facts.regions:
            row = self.table.rowCount()
            self.table.insertRow(row)
            mm = facts.millimetres(region)
            size = f"{region.area_percent:.2f} %" if mm is None else format_mm(mm["length"])
            values = [str(region.index), region.position, size, f"{region.severity:.1f}×", region.defect_type]
            x, y, width, height = region.bbox
            physical = "" if mm is None else (f"; {format_mm(mm['length'])} long, "
                                              f"{format_mm(mm['area'], squared=True)}, "
                                              f"box {format_mm(mm['width'])} x {format_mm(mm['height'])}")
            details = (f"Region {region.index}: {region.area_percent:.2f} % of {facts.basis_words} "
                       f"({region.area_px} px), box {width} x {height} px at ({x}, {y}){physical}, {region.shape}, "
                       f"{region.appearance}; peak {region.severity:.1f}x the pixel threshold")
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(details)
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)

    def _shown_regions(self) -> list[Region]:
        return self.facts.regions if self.facts is not None else []

    def _index_at(self, row: int) -> int:
        """Region number shown in table row ``row`` (rows follow the regions shown, not their numbers)."""
        return self._shown_regions()[row].index

    def _row_of(self, index: int) -> int | None:
        rows = [row for row, region in enumerate(self._shown_regions()) if region.index == index]
        return rows[0] if rows else None

    def _label_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        regions = self._shown_regions()
        if regions:
            self.label_requested.emit(self._index_at(min(rows)) if rows else regions[0].index)

    def select_region(self, index: int) -> None:
        """Select region ``index`` in both the view and the table."""
        for item in self.region_items:
            item.setSelected(item.index == index)
        row = self._row_of(index)
        if row is not None:
            self.table.selectRow(row)

    def zoom_to_region(self, index: int) -> None:
        """Zoom the view onto region ``index``, with room around it to see its surroundings."""
        outlines = [item for item in self.region_items if item.index == index]
        if not outlines:
            return
        rect = outlines[0].sceneBoundingRect()
        margin = 0.5 * max(rect.width(), rect.height()) + 16
        self.view.fitInView(rect.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio)

    def _table_selection_changed(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if rows:
            index = self._index_at(min(rows))
            for item in self.region_items:
                item.setSelected(item.index == index)
            self.region_selected.emit(index)

    def _scene_selection_changed(self) -> None:
        chosen = [i for i in self.region_items if i.isSelected()]
        row = self._row_of(chosen[0].index) if chosen else None
        if row is not None and {i.row() for i in self.table.selectedIndexes()} != {row}:
            self.table.selectRow(row)
