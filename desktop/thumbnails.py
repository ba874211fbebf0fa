"""Thumbnails read off the GUI thread: a thread pool decodes and shrinks, the GUI thread gets a QImage."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListWidget

from desktop.images import to_qimage
from engine.imageio import shrink_to_side, sixteen_bit_full_scale, to_uint8


def read_thumbnail(path: Path, side: int) -> np.ndarray | None:
    """A uint8 RGB thumbnail of an image file, or None when unreadable."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
        flags = cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH
        if path.suffix.lower() not in (".tif", ".tiff"):  # OpenCV turns a TIFF, then squeezes it to the unturned size
            flags |= cv2.IMREAD_REDUCED_COLOR_2
        image = cv2.imdecode(data, flags) if data.size else None
    except (OSError, cv2.error):  # gone, unreadable, or past OpenCV's pixel limit: no thumbnail
        return None
    if image is None:
        return None
    if image.dtype == np.uint16:  # 12-bit camera pixels are scaled as for inspection, not left almost black
        image = to_uint8(image.astype(np.float32) / sixteen_bit_full_scale(image))
    return np.ascontiguousarray(shrink_to_side(image, side)[..., ::-1])


class _Task(QRunnable):
    def __init__(self, loader: ThumbnailLoader, key: object, path: Path, side: int) -> None:
        super().__init__()
        self.loader, self.key, self.path, self.side = loader, key, path, side

    def run(self) -> None:
        thumbnail = read_thumbnail(self.path, self.side)
        if thumbnail is not None:
            self.loader.loaded.emit(self.key, to_qimage(thumbnail))


class ThumbnailLoader(QObject):
    """Loads thumbnails in the background; ``loaded(key, QImage)`` arrives on the GUI thread."""

    loaded = Signal(object, object)

    def __init__(self, side: int = 96) -> None:
        super().__init__()
        self.side = side
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(2)

    def request(self, key: object, path: Path) -> None:
        """Queue a thumbnail of ``path``; the answer carries ``key``."""
        self.pool.start(_Task(self, key, path, self.side))

    def wait(self, msecs: int = 5000) -> None:
        """Wait for queued thumbnails (used when closing)."""
        self.pool.clear()
        self.pool.waitForDone(msecs)


def place_icon(widget: QListWidget, kind: str, key: object, image: QImage | QIcon) -> None:
    """Put a loaded thumbnail (image or ready icon) on the item whose user data is the id in ``key`` = (kind, id)."""
    if not (isinstance(key, tuple) and key[0] == kind):
        return
    icon = image if isinstance(image, QIcon) else QIcon(QPixmap.fromImage(image))
    for row in range(widget.count()):
        item = widget.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == key[1]:
            item.setIcon(icon)
