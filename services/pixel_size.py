"""A project's pixel size: the millimetres one pixel spans on the part, for sizes in millimetres.

It is a property of the camera set-up, not of the model, so it lives at the top of the project's
settings (not among its engine settings) and changing it never rebuilds the bank.  Inspections
record the pixel size in force in their fact sheets: one inspected before it was set keeps its
sizes in pixels, as it was explained then.
"""

from __future__ import annotations

from db import repository as repo
from db.models import Project, ReferenceBank
from engine.physical import PixelSizeError, checked_pixel_size, reference_pixel_size
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


def pixel_size_from_line(workspace: Workspace, inspection_id: int, length_px: float, length_mm: float) -> float:
    """Set the pixel size of an inspection's project from a line measured on its photo: ``length_px``
    photo pixels that span ``length_mm`` on the part (a ruler, or a dimension from the drawing).

    The photo may be the references' view at another resolution; the stored pixel size is at the
    references' (``engine.physical.reference_pixel_size``).  Returns it.
    """
    if not length_px >= 2:
        raise PixelSizeError(f"Draw a line of at least 2 pixels first (this one is {length_px:.1f} px).")
    if not length_mm > 0:
        raise PixelSizeError(f"The line's length on the part must be above 0 mm, not {length_mm:g}.")
    with workspace.database.read() as session:
        row = repo.get_inspection(session, inspection_id)
        project = session.get(Project, row.project_id)
        bank = session.get(ReferenceBank, row.bank_id) if row.bank_id else None
        frame = (bank.config.get("resolved", {}).get("reference_frame") if bank is not None else None)
        image_size = tuple(row.facts["image_size"])
        name = project.name
    value = reference_pixel_size(length_mm / length_px, tuple(frame) if frame else None, image_size)
    set_pixel_size(workspace, name, value)
    return value
