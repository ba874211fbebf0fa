"""Watch a folder and its sub-folders for new images (a camera or line PC saving into it) and hand
them on in order.

``QFileSystemWatcher`` reports a directory change as soon as a file appears, often before its
writer has finished (a large frame over a network share takes seconds).  A new image is handed
on only once its size, non-zero, has held for ``settle_ms``; until then the scan repeats.
Every image is handed on once.

Line software often saves into a folder per day, lot or shift (``2026-11-28/``), made while the
watch runs: sub-folders are watched too, down to ``MAX_DEPTH`` levels, and the images of a folder
that appears later are new.  A network share may never report a change, so the tree is also
listed every ``POLL_MS``.  The listing runs in a thread, since a share that stalls must not
freeze the window; what it finds is judged on the thread that owns the watch.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from engine.imageio import is_listed_image

WATCH_SETTLE_MS = 500
POLL_MS = 5000
MAX_DEPTH = 4
MAX_FOLDERS = 1000


def list_tree(root: Path, max_depth: int = MAX_DEPTH, max_folders: int = MAX_FOLDERS
              ) -> tuple[list[str], dict[str, int]]:
    """The folders under ``root`` (itself first, breadth first, hidden ones left out) and the size of
    each image in them; a folder that cannot be read is left out.  Empty lists when ``root`` is gone."""
    folders: list[str] = []
    sizes: dict[str, int] = {}
    pending = [(root, 0)]
    while pending and len(folders) < max_folders:
        folder, depth = pending.pop(0)
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            continue
        folders.append(str(folder))
        for entry in listed:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if depth < max_depth:
                        pending.append((Path(entry.path), depth + 1))
                elif is_listed_image(entry.path):
                    sizes[entry.path] = entry.stat().st_size
            except OSError:
                continue  # gone again (a writer's temporary file)
    return folders, sizes


class FolderWatch(QObject):
    """Emits ``new_images(list[Path])`` for image files that appear under the watched folder, and
    ``scanned`` after each look at it."""

    new_images = Signal(list)
    scanned = Signal()
    _listed = Signal(int, object)  # from the listing thread: (generation, list_tree's result)

    def __init__(self, parent: QObject | None = None, settle_ms: int = WATCH_SETTLE_MS,
                 poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.settle_ms = settle_ms
        self.root: Path | None = None
        self._generation = 0
        self._listing = False
        self._again = False
        self._seen: set[str] = set()
        self._sizes: dict[str, tuple[int, float]] = {}  # images not handed on yet: (size, when first seen so)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _: QTimer.singleShot(self.settle_ms, self.scan))
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self.scan)
        self._listed.connect(self._judge)

    def start(self, folder: Path) -> None:
        """Watch ``folder`` and its sub-folders; images already there are not new."""
        self.stop()
        folders, sizes = list_tree(folder)  # at once: an image saved right after this is new
        self.root = folder
        self._seen = set(sizes)
        self._sizes = {}
        self._follow(folders)
        self._poll.start()

    def stop(self) -> None:
        """Stop watching; a listing still under way is ignored when it ends."""
        self._generation += 1
        self.root = None
        self._poll.stop()
        watched = self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)

    def watched_folders(self) -> list[str]:
        """The folders whose changes are reported now."""
        return list(self._watcher.directories())

    def scan(self) -> None:
        """List the tree in a thread; ``_judge`` hands on the images that are new and complete."""
        if self.root is None:
            return
        if self._listing:
            self._again = True
            return
        self._listing, self._again = True, False
        generation, root = self._generation, self.root
        threading.Thread(target=self._list_in_thread, args=(generation, root), daemon=True,
                         name="folder-watch").start()

    def _list_in_thread(self, generation: int, root: Path) -> None:
        listing = list_tree(root)
        try:
            self._listed.emit(generation, listing)
        except RuntimeError:
            pass  # the watch was deleted (the window closed) while the folder was listed

    def _follow(self, folders: list[str]) -> None:
        new = [folder for folder in folders if folder not in set(self._watcher.directories())]
        if new:
            self._watcher.addPaths(new)

    def _judge(self, generation: int, listing: tuple[list[str], dict[str, int]]) -> None:
        """Hand on the new images whose size held since the last scan (sorted by name); rescan for the rest."""
        self._listing = False
        if generation != self._generation:
            return
        folders, sizes = listing
        self._follow(folders)  # a folder made since (a new day's) is watched from now on; a returning share again
        new = []
        growing = False
        for key in sorted(sizes):
            if key in self._seen:
                continue
            size = sizes[key]
            earlier = self._sizes.get(key)
            if earlier is None or earlier[0] != size or size == 0:
                self._sizes[key] = (size, time.monotonic())
                growing = True
            elif time.monotonic() - earlier[1] >= 0.9 * self.settle_ms / 1000:
                self._seen.add(key)
                del self._sizes[key]
                new.append(Path(key))
            else:
                growing = True  # same size, but not for long enough yet
        if self._again:
            self.scan()
        elif growing:
            QTimer.singleShot(self.settle_ms, self.scan)
        self.scanned.emit()
        if new:
            self.new_images.emit(new)
