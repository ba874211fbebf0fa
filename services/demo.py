"""The demo project offered on a new data folder: synthetic discs, no dataset files needed.

Six good parts become the references; the folder ``demo-parts`` gets good and defective parts
to inspect.  Everything is drawn by ``engine.synthetic``, so a new user sees the whole flow
(references, inspection, heatmap, chat, history, report) within a minute.
"""

from __future__ import annotations

from pathlib import Path

from db import repository as repo
from engine.imageio import encode_png
from engine.synthetic import Defect, synthetic_part
from services.workspace import Workspace

DEMO_PROJECT = "Demo: machined disc"
DEFECTIVE = {
    "disc_pit.png": (Defect("pit", 0.3, 0.32, 0.08),),
    "disc_scratch.png": (Defect("scratch", 0.68, 0.7, 0.14),),
    "disc_two_defects.png": (Defect("pit", 0.27, 0.27, 0.07), Defect("scratch", 0.74, 0.74, 0.12)),
}


def _write(path: Path, seed: int, defects: tuple[Defect, ...] = ()) -> Path:
    # Encoded in memory and written by Python, since OpenCV's own file writer cannot open a path
    # with non-ASCII characters on Windows (a data folder under C:\Users\José).
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_png(synthetic_part(seed, defects=defects), what=path.name))
    return path


def demo_parts_folder(workspace: Workspace) -> Path:
    """Where the demo's parts to inspect are written."""
    return workspace.home / "demo-parts"


def create_demo_project(workspace: Workspace, inspector: object) -> tuple[str, list[Path]]:
    """Create the demo project with references and return (name, images to inspect)."""
    folder = demo_parts_folder(workspace)
    references = [_write(folder / "references" / f"good_{seed}.png", seed) for seed in range(6)]
    to_inspect = [_write(folder / "inspect" / f"disc_good_{seed}.png", seed) for seed in (40, 41)]
    to_inspect += [_write(folder / "inspect" / name, 50 + i, defects) for i, (name, defects) in
                   enumerate(DEFECTIVE.items())]
    with workspace.database.write() as session:
        try:
            repo.get_project(session, DEMO_PROJECT)
        except repo.NotFoundError:
            repo.create_project(session, DEMO_PROJECT, "Synthetic machined discs with drawn pits and scratches.",
                                actor=workspace.operator)
    inspector.add_references(DEMO_PROJECT, references)  # type: ignore[attr-defined]
    return DEMO_PROJECT, sorted(to_inspect)
