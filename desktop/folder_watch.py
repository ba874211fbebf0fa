"""Watch a folder for new images (a camera or line PC saving into it) and hand them on in order.

``QFileSystemWatcher`` reports a directory change as soon as a file appears, often before its
writer has finished; the scan waits ``settle_ms`` first, and every image is handed on once.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from engine.imageio import is_image_file

WATCH_SETTLE_MS = 700


class FolderWatch(QObject):
    """Emits ``new_images(list[Path])`` for image files that appear in the watched folder."""

    new_images = Signal(list)

    def __init__(self, parent: QObject | None = None, settle_ms: int = WATCH_SETTLE_MS) -> None:
        super().__init__(parent)
        self.settle_ms = settle_ms
        self._seen: set[str] = set()
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _: QTimer.singleShot(self.settle_ms, self.scan))

    def start(self, folder: Path) -> None:
        """Watch ``folder``; images already in it are not new."""
        self.stop()
        self._seen = {str(p) for p in folder.iterdir() if is_image_file(p)}
        self._watcher.addPath(str(folder))

    def stop(self) -> None:
        """Stop watching."""
        for folder in self._watcher.directories():
            self._watcher.removePath(folder)

    def scan(self) -> None:
        """Hand on the images that appeared since the last scan (sorted by name)."""
        new = []
        for folder in self._watcher.directories():
            try:
                entries = sorted(Path(folder).iterdir())
            except OSError:
                continue  # the folder went away (unplugged share); watching resumes if it returns
            for path in entries:
                if is_image_file(path) and str(path) not in self._seen:
                    self._seen.add(str(path))
                    new.append(path)
        if new:
            self.new_images.emit(new)
