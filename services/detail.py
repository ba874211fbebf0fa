"""A project's level of detail: the processing size its images are inspected at.

The engine resizes each image (or its inspection area) to about ``side``² pixels before the model.
At the standard 256 a defect needs to span a few pixels of that to be seen; a finer level lets a
project whose parts fill the photo find smaller defects, at a cost: time and memory per image
grow with the square of the side (finest is about 9x standard).  Changing it rebuilds the bank
at the next build or inspection, since the references must be seen at the same size.
"""

from __future__ import annotations

from db import repository as repo
from db.models import Project
from services.workspace import Workspace

DETAIL_SIDES = {"standard": 256, "fine": 384, "finer": 512, "finest": 768}
STANDARD = "standard"


class UnknownDetailError(ValueError):
    """A level of detail that is not one of ``DETAIL_SIDES``."""

    def __init__(self, level: str) -> None:
        super().__init__(f"Unknown level of detail '{level}': choose one of {', '.join(DETAIL_SIDES)}.")


def project_detail(project: Project) -> str:
    """The project's level of detail (``standard`` unless set); a side set otherwise reads "<side> px"."""
    side = project.settings.get("engine", {}).get("input_side", DETAIL_SIDES[STANDARD])
    names = {value: name for name, value in DETAIL_SIDES.items()}
    return names.get(int(side), f"{int(side)} px")


def set_detail(workspace: Workspace, project_name: str, level: str) -> int:
    """Set the project's level of detail and return its processing side; the bank is rebuilt on next use.

    Standard is stored as no setting at all, so a project that never changed it keeps its bank.
    """
    if level not in DETAIL_SIDES:
        raise UnknownDetailError(level)
    with workspace.database.write() as session:
        project = repo.get_project(session, project_name)
        before = project.settings.get("engine", {})
        engine = {k: v for k, v in before.items() if k != "input_side"}
        if level != STANDARD:
            engine["input_side"] = DETAIL_SIDES[level]
        if engine != before:  # choosing the level it has changes nothing, not even the audit log
            repo.update_project(session, project, workspace.operator, settings={**project.settings, "engine": engine})
    return DETAIL_SIDES[level]
