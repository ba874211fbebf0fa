"""Creating a project, with the checks and the checkpoint import its backbone needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from db import repository as repo
from engine.backbones import DEFAULT_BACKBONE, is_clip
from services.checkpoints import check_backbone, import_checkpoint
from services.workspace import Workspace


def create_project(workspace: Workspace, name: str, description: str = "", backbone: str = DEFAULT_BACKBONE,
                   checkpoint: str | Path | None = None, settings: dict[str, Any] | None = None) -> str:
    """Create a project and return its name.

    A CLIP backbone's checkpoint is checked and copied into the data folder first
    (``services.checkpoints``); a taken name, an unknown backbone or an unusable checkpoint
    raises before anything is copied or written.  A database that then cannot be written leaves
    only the checkpoint's copy, which the next attempt reuses.
    """
    with workspace.database.read() as session:
        name = repo.free_project_name(session, name)
    check_backbone(backbone, checkpoint)
    settings = dict(settings or {})
    if is_clip(backbone) and checkpoint:
        stored = import_checkpoint(workspace.home, backbone, checkpoint)
        settings["engine"] = {**settings.get("engine", {}), "backbone_weights": str(stored)}
    with workspace.database.write() as session:
        return repo.create_project(session, name, description, backbone, settings, workspace.operator).name
