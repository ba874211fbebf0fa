"""Move inspected images into ``OK``, ``REVIEW`` and ``NG`` folders by their verdict.

A rework station takes the parts of the ``NG`` folder, a person looks at ``REVIEW``, and ``OK``
goes to the archive; the history keeps its own copy of each image, so moving the original loses
nothing.  Used by a watched folder in the app and by ``main.py watch --sort-into``.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def sort_target_problem(watched: Path, target: Path) -> str | None:
    """Why ``target`` cannot take the sorted images of a watch of ``watched`` (None when it can): inside
    the watched tree, the moved images would be taken for new ones and inspected again."""
    if target.resolve().is_relative_to(watched.resolve()):
        return (f"{target} lies inside the watched folder, where the sorted images would be taken for new ones; "
                "choose a folder outside it")
    return None


def move_into(path: Path, verdict_folder: Path) -> Path:
    """Move ``path`` into ``verdict_folder`` (made if missing) under a name not taken there yet
    (``part.png``, then ``part-1.png``, ...), and return where it went; raises ``OSError`` and leaves
    the file where it was when it cannot be moved."""
    verdict_folder.mkdir(parents=True, exist_ok=True)
    target = verdict_folder / path.name
    number = 1
    while target.exists():
        target = verdict_folder / f"{path.stem}-{number}{path.suffix}"
        number += 1
    return Path(shutil.move(path, target))
