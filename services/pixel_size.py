"""A project's pixel size: the millimetres one pixel spans on the part, for sizes in millimetres.

It is a property of the camera set-up, not of the model, so it lives at the top of the project's
settings (not among its engine settings) and changing it never rebuilds the bank.  Inspections
record the pixel size in force in their fact sheets: one inspected before it was set keeps its
sizes in pixels, as it was explained then.
"""

from __future__ import annotations

from db import repository as repo
from db.models import Project
from engine.physical import checked_pixel_size
from services.workspace import Workspace

SETTING = "pixel_size_mm"


def project_pixel_size(project: Project) -> float | None:
    """The project's pixel size in millimetres at the references' resolution; None when not stated."""
    value = project.settings.get(SETTING)
    return None if value is None else float(value)


def set_pixel_size(workspace: Workspace, project_name: str, mm_per_pixel: float | None) -> None:
    """State the project's pixel size (None: sizes in pixels only); raises ``PixelSizeError`` for a bad value."""
    value = None if mm_per_pixel is None else checked_pixel_size(mm_per_pixel)
    with workspace.database.write() as session:
        project = repo.get_project(session, project_name)
        if project.settings.get(SETTING) == value:
            return  # no change, nothing for the audit log
        settings = {k: v for k, v in project.settings.items() if k != SETTING}
        if value is not None:
            settings[SETTING] = value
        repo.update_project(session, project, workspace.operator, settings=settings)


def describe_pixel_size(project: Project) -> str:
    """One line for the technician: the pixel size, or that sizes are in pixels."""
    value = project_pixel_size(project)
    if value is None:
        return "not set (sizes in pixels)"
    return f"{value:g} mm per pixel (sizes in millimetres too)"

