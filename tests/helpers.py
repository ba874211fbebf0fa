"""Test helpers: synthetic parts written as image files."""

from __future__ import annotations

from pathlib import Path

import cv2

from engine.synthetic import Defect, synthetic_part


def write_parts(folder: Path, seeds, defects: tuple[Defect, ...] = (), suffix: str = ".png",
                side: int = 256) -> list[Path]:
    """One synthetic part per seed (with ``defects`` drawn) saved as ``part<seed><suffix>`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in seeds:
        path = folder / f"part{seed:03d}{suffix}"
        if not cv2.imwrite(str(path), synthetic_part(seed, side=side, defects=defects)[..., ::-1]):
            raise OSError(f"cannot write {path}")
        paths.append(path)
    return paths
