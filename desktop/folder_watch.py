"""Watch a folder for new images (a camera or line PC saving into it) and hand them on in order.

``QFileSystemWatcher`` reports a directory change as soon as a file appears, often before its
writer has finished (a large frame over a network share takes seconds).  A new image is handed
on only once its size, non-zero, has held for ``settle_ms``; until then the scan repeats.
Every image is handed on once.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from engine.imageio import is_listed_image

WATCH_SETTLE_MS = 500


class FolderWatch(QObject):
    """Emits ``new_images(list[Path])`` for image files that appear in the watched folder."""

    new_images = Signal(list)

    def __init__(self, parent: QObject | None = None, settle_ms: int = WATCH_SETTLE_MS) -> None:
        super().__init__(parent)
        self.settle_ms = settle_ms
        self._seen: set[str] = set()
        self._sizes: dict[str, tuple[int, float]] = {}  # images not handed on yet: (size, when first seen so)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _: QTimer.singleShot(self.settle_ms, self.scan))

    def start(self, folder: Path) -> None:
        """Watch ``folder``; images already in it are not new."""
        self.stop()
        self._seen = {str(p) for p in folder.iterdir() if is_listed_image(p)}
        self._sizes = {}
        self._watcher.addPath(str(folder))

    def stop(self) -> None:
        """Stop watching."""
        for folder in self._watcher.directories():
            self._watcher.removePath(folder)

    def scan(self) -> None:
        """Hand on the new images whose size held since the last scan (sorted by name); rescan for the rest."""
        new = []
        growing = False
        for folder in self._watcher.directories():
            try:
                entries = sorted(Path(folder).iterdir())
            except OSError:
                continue  # the folder went away (unplugged share); watching resumes if it returns
            for path in entries:
                key = str(path)
                if not is_listed_image(path) or key in self._seen:
                    continue
                try:
                    size = path.stat().st_size
                except OSError:
                    continue  # gone again (a writer's temporary file)
                earlier = self._sizes.get(key)
                if earlier is None or earlier[0] != size or size == 0:
                    self._sizes[key] = (size, time.monotonic())
                    growing = True
                elif time.monotonic() - earlier[1] >= 0.9 * self.settle_ms / 1000:
                    self._seen.add(key)
                    del self._sizes[key]
                    new.append(path)
                else:
                    growing = True  # same size, but not for long enough yet
        if growing:
            QTimer.singleShot(self.settle_ms, self.scan)
        if new:
            self.new_images.emit(new)
