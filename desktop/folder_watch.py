"""Watch a folder and its sub-folders for new images (a camera or line PC saving into it) and hand
them on in order, as ``services.new_images`` decides.

``QFileSystemWatcher`` reports a change of a watched folder at once.  Each such folder holds a
handle or a descriptor of the system's, so only the first ``NOTIFIED_FOLDERS`` of the tree are
watched so (the root, then each level's most recently changed first: ``list_tree``), a folder
made later (a new day's) from the scan that finds it.  A network share may never report a
change, and the rest of a large tree has no notices, so the tree is also listed every
``POLL_MS``.  Every listing runs in a thread, the first two (which say what is there already:
``steady_part``) too, since a share that stalls must not freeze the window; what it finds is
judged on the thread that owns the watch.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from services.new_images import MAX_FOLDERS, NewImages, TreeListing, list_tree, steady_part

WATCH_SETTLE_MS = 500
POLL_MS = 5000
NOTIFIED_FOLDERS = 64


class FolderWatch(QObject):
    """Emits ``new_images(list[Path])`` for image files that appear under the watched folder,
    ``first_listed(TreeListing)`` with what was there when the watch began, and ``scanned`` after
    each look at it (the first two counting as one)."""

    new_images = Signal(list)
    first_listed = Signal(object)
    scanned = Signal()
    _listed = Signal(int, object)  # from the listing thread: (generation, TreeListing)

    def __init__(self, parent: QObject | None = None, settle_ms: int = WATCH_SETTLE_MS,
                 poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.settle_ms = settle_ms
        self.root: Path | None = None
        self.complete = True  # False while the tree has more folders than are listed (MAX_FOLDERS)
        self.reachable = True  # False while the latest listing could not read the watched folder itself
        self._generation = 0
        self._listing = False
        self._again = False
        self._images: NewImages | None = None  # None until the first listings say what was there
        self._first: TreeListing | None = None  # the first of those two listings, until the second
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _: QTimer.singleShot(self.settle_ms, self.scan))
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self.scan)
        self._listed.connect(self._judge)

    def start(self, folder: Path) -> None:
        """Watch ``folder`` and its sub-folders; images already there, complete, when its first two
        listings read them are not new.  ``scanned`` follows each listing."""
        self.stop()
        self.root = folder
        self._images, self._first = None, None
        self.reachable = True
        self.scan()

    @property
    def reading(self) -> bool:
        """True until the first two listings have read the watched folder: while they run, and while the folder
        cannot be read (it is listed again every ``POLL_MS``; images there then are not new)."""
        return self.root is not None and self._images is None

    def stop(self) -> None:
        """Stop watching; a listing still under way is ignored when it ends."""
        self._generation += 1
        self.root = None
        self._poll.stop()
        watched = self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)

    @staticmethod
    def folder_limit() -> int:
        """The most folders of a tree that are listed."""
        return MAX_FOLDERS

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
        threading.Thread(target=self._list_in_thread, args=(self._generation, self.root), daemon=True,
                         name="folder-watch").start()

    def _list_in_thread(self, generation: int, root: Path) -> None:
        listing = list_tree(root)
        try:
            self._listed.emit(generation, listing)
        except RuntimeError:
            pass  # the watch was deleted (the window closed) while the folder was listed

    def _follow(self, folders: list[str]) -> None:
        """Have change notices for the first ``NOTIFIED_FOLDERS`` of ``folders`` (``list_tree``'s order), and
        for no other."""
        wanted = folders[:NOTIFIED_FOLDERS]
        watched = self._watcher.directories()
        keep, had = set(wanted), set(watched)
        stale = [folder for folder in watched if folder not in keep]
        if stale:
            self._watcher.removePaths(stale)
        new = [folder for folder in wanted if folder not in had]
        if new:
            self._watcher.addPaths(new)

    def _judge(self, generation: int, listing: TreeListing) -> None:
        self._listing = False
        if generation != self._generation:  # listed for a watch stopped since; a scan asked meanwhile is due
            if self._again:
                self.scan()
            return
        self.complete = listing.complete
        self.reachable = bool(listing.folders)
        self._follow(listing.folders)  # a folder made since (a new day's) is watched from now on, a share back again
        self._poll.start()  # (again) from this listing's end
        if self._images is None and not listing.folders:
            ready, waiting = [], False  # not reachable (a share not connected yet): what is there is not known yet
        elif self._images is None and self._first is None:
            self._first = listing  # what is there, where the next listing agrees with it; no verdict yet
            QTimer.singleShot(self.settle_ms, self.scan)
            return
        elif self._images is None:
            there, self._first = steady_part(self._first, listing), None
            self._images = NewImages(there.modified, self.settle_ms / 1000)
            self.first_listed.emit(there)
            ready, waiting = self._images.judge(listing.sizes, listed_folders=listing.folders,
                                                modified=listing.modified)
        else:
            ready, waiting = self._images.judge(listing.sizes, listed_folders=listing.folders,
                                                modified=listing.modified)
        if self._again:
            self.scan()
        elif waiting:
            QTimer.singleShot(self.settle_ms, self.scan)
        self.scanned.emit()
        if ready:
            self.new_images.emit(ready)
