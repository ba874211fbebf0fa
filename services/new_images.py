"""New images under a folder and its sub-folders, handed on once their writer has finished.

Line software saves into the folder a station watches, often into a folder per day, lot or
shift (``2026-11-28/``) made while the watch runs, so the tree is listed down to ``MAX_DEPTH``
levels (hidden files and folders left out, at most ``MAX_FOLDERS``, the most recently changed
first) and an image in a folder that appears later is new.
A file shows up as soon as its writer starts (a large frame over a network share takes
seconds): an image is handed on only once its size, non-zero, and its modification time have
held for ``settle_s`` between listings; what is there when a watch begins is what two listings
``settle_s`` apart agree on (``steady_part``), so an image being saved at that moment is new
too.  Every image is handed on once, and again when it is written over.  Used by the app's
watched folder (``desktop.folder_watch``, which adds change notices) and by ``main.py watch``
(which polls).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from engine.imageio import is_listed_image

MAX_DEPTH = 4
MAX_FOLDERS = 1000
MTIME_SLACK_S = 2.0  # FAT and some shares keep modification times in steps of 2 s


@dataclass(frozen=True)
class TreeListing:
    """What ``list_tree`` found: the folders (the root first), each image's size in bytes and
    modification time (seconds since the epoch), and whether every folder was read (False when the
    tree had more than ``max_folders``)."""

    folders: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    complete: bool = True
    modified: dict[str, float] = field(default_factory=dict)

    def saved_since(self, moment: datetime) -> list[Path]:
        """The images modified at or after ``moment`` (less ``MTIME_SLACK_S``), oldest first: those a
        watch that was not running (the app closed, the station restarted) did not see arrive."""
        since = moment.timestamp() - MTIME_SLACK_S
        recent = [(when, key) for key, when in self.modified.items() if when >= since]
        return [Path(key) for _, key in sorted(recent)]


def list_tree(root: Path, max_depth: int = MAX_DEPTH, max_folders: int = MAX_FOLDERS) -> TreeListing:
    """The folders under ``root``, breadth first, hidden ones left out, and the images in them; a
    folder that cannot be read is left out, and nothing is found when ``root`` is gone.

    The sub-folders of each folder are taken newest first (by modification time), so that in a
    tree of more than ``max_folders`` (a folder per lot, for years) the ones left out are those
    that have been still the longest, not the one a camera is saving into now.
    """
    folders: list[str] = []
    sizes: dict[str, int] = {}
    modified: dict[str, float] = {}
    pending = deque([(root, 0)])
    while pending:
        if len(folders) == max_folders:
            return TreeListing(folders, sizes, complete=False, modified=modified)
        folder, depth = pending.popleft()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:
            continue
        folders.append(str(folder))
        subfolders: list[tuple[int, str]] = []
        for entry in listed:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if depth < max_depth:
                        subfolders.append((entry.stat().st_mtime_ns, entry.path))
                elif is_listed_image(entry.path):
                    status = entry.stat()
                    sizes[entry.path], modified[entry.path] = status.st_size, status.st_mtime
            except OSError:
                continue  # gone again (a writer's temporary file)
        subfolders.sort(key=lambda item: (-item[0], item[1]))
        pending.extend((Path(path), depth + 1) for _, path in subfolders)
    return TreeListing(folders, sizes, modified=modified)


def steady_part(first: TreeListing, second: TreeListing) -> TreeListing:
    """``second`` without the images that were not in ``first`` at the same size and time: those
    still being written, or saved, between two listings.

    A watch says what was there when it began from two listings a settling time apart, so that an
    image a camera is still saving when it starts is taken for new and inspected once complete,
    neither left alone as old nor inspected half-written by a catch-up.  File sizes and times are
    compared, never the share's clock against this one.
    """
    steady = {key: size for key, size in second.sizes.items()
              if first.sizes.get(key) == size and first.modified.get(key) == second.modified.get(key)}
    return TreeListing(second.folders, steady, second.complete,
                       {key: when for key, when in second.modified.items() if key in steady})


class NewImages:
    """Which images of successive listings are new and complete; those in ``existing`` are not,
    until they are written again.

    A camera that saves every frame under one name (``last.bmp``) writes over an image that was
    handed on: one whose modification time has changed since is new again.  A watch runs for
    weeks: an image that has left a folder that was listed again (moved on by the line's
    software) is forgotten, so memory follows the folder rather than everything it ever held.
    One in a folder that was not listed this time (unreadable for a moment, a share that dropped)
    is remembered, so that it is not taken for new when the folder returns.
    """

    def __init__(self, existing: Mapping[str, float] | Iterable[str], settle_s: float) -> None:
        """``existing``: the images there already, with their modification times when known."""
        self.settle_s = settle_s
        self._seen: dict[str, float | None] = (dict(existing) if isinstance(existing, Mapping)
                                               else dict.fromkeys(existing))
        self._pending: dict[str, tuple[tuple[int, float | None], float]] = {}  # (size, time), when first seen so

    def remembered(self) -> int:
        """How many images are held in memory, handed on or waiting."""
        return len(self._seen) + len(self._pending)

    def judge(self, sizes: dict[str, int], now: float | None = None, listed_folders: Iterable[str] | None = None,
              modified: Mapping[str, float] | None = None) -> tuple[list[Path], bool]:
        """(the new images whose size, and modification time when ``modified`` gives it, held for
        ``settle_s``, sorted by path; whether others are still being written, so that the caller
        looks again).  ``listed_folders``: the folders this listing read, whose images not in
        ``sizes`` are gone."""
        now = time.monotonic() if now is None else now
        if listed_folders is not None:
            self._forget_gone(sizes, set(listed_folders))
        ready: list[Path] = []
        waiting = False
        for key in sorted(sizes):
            when = None if modified is None else modified.get(key)
            if key in self._seen:
                before = self._seen[key]
                if when is None or before is None or when == before:
                    continue
                del self._seen[key]  # written again under the same name
            state = (sizes[key], when)
            earlier = self._pending.get(key)
            if earlier is None or earlier[0] != state or state[0] == 0:
                self._pending[key] = (state, now)
                waiting = True
            elif now - earlier[1] >= 0.9 * self.settle_s:
                self._seen[key] = when
                del self._pending[key]
                ready.append(Path(key))
            else:
                waiting = True  # unchanged, but not for long enough yet
        return ready, waiting

    def _forget_gone(self, sizes: dict[str, int], listed: set[str]) -> None:
        def gone(key: str) -> bool:
            return key not in sizes and os.path.dirname(key) in listed

        self._seen = {key: when for key, when in self._seen.items() if not gone(key)}
        self._pending = {key: value for key, value in self._pending.items() if not gone(key)}
