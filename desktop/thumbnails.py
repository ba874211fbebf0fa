"""Thumbnails read off the GUI thread: a thread pool decodes and shrinks, the GUI thread gets a QImage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListWidget

from desktop.images import to_qimage
from engine.errors import ImageLoadError
from engine.imageio import load_rgb8


def read_thumbnail(path: Path, side: int) -> np.ndarray | None:
    """A uint8 RGB thumbnail of an image file, within ``side`` px, or None when unreadable.

    Decoded as for inspection (``engine.imageio``), so that it shows what is inspected: turned by
    its orientation, 12-bit pixels as bright as 8-bit ones, float and CMYK files; a large JPEG is
    decoded reduced by its codec.
    """
    try:
        return load_rgb8(path, max_side=side)
    except (ImageLoadError, OSError, MemoryError):  # gone, unreadable or too large: no thumbnail
        return None


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
