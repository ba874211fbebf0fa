"""Score drift of a project: its latest bank's first and latest parts, compared by ``engine.drift``'s
rule, and the line that tells the technician.

The window (parts in each of the two compared groups) is a project setting: ``DRIFT_WINDOW`` unless
set.  A line that makes a few parts a day gets an answer sooner with a smaller one; a busy line
sees a slower drift with a larger one.  Below ``MIN_DRIFT_WINDOW`` the rank test could hardly
ever reach its p-value (with 7 parts a side, only when every latest score lies above every first).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from db import repository as repo
from db.models import Project
from engine.calibration import Calibration
from engine.drift import DRIFT_WINDOW, ScoreDrift, compare_windows
from services.results import bank_calibration, project_sensitivity
from services.workspace import Workspace

DRIFT_WINDOW_KEY = "drift_window"
MIN_DRIFT_WINDOW = 10
MAX_DRIFT_WINDOW = 500


class DriftWindowError(ValueError):
    """A drift window outside ``MIN_DRIFT_WINDOW`` .. ``MAX_DRIFT_WINDOW``."""

    def __init__(self, window: object) -> None:
        super().__init__(f"The drift window must be a whole number of parts from {MIN_DRIFT_WINDOW} to "
                         f"{MAX_DRIFT_WINDOW}, not {window!r}.")


def drift_window(project: Project) -> int:
    """Parts per compared window for the project (``DRIFT_WINDOW`` unless set)."""
    return int(project.settings.get(DRIFT_WINDOW_KEY, DRIFT_WINDOW))


def set_drift_window(workspace: Workspace, project_name: str, window: int) -> bool:
    """Set the project's drift window, True when that changed it; the default is stored as no setting.

    Raises ``DriftWindowError`` outside the allowed range.
    """
    if isinstance(window, bool) or not isinstance(window, int) or not MIN_DRIFT_WINDOW <= window <= MAX_DRIFT_WINDOW:
        raise DriftWindowError(window)
    with workspace.database.write() as session:
        project = repo.get_project(session, project_name)
        settings = {k: v for k, v in project.settings.items() if k != DRIFT_WINDOW_KEY}
        if window != DRIFT_WINDOW:
            settings[DRIFT_WINDOW_KEY] = window
        changed = settings != project.settings
        if changed:
            repo.update_project(session, project, workspace.operator, settings=settings)
    return changed


def project_drift(session: Session, project: Project) -> tuple[ScoreDrift, Calibration | None] | None:
    """The drift of the bank the project's latest inspection used, and that bank's calibration;
    None until that bank has inspected twice the project's window of parts (re-inspections of
    stored photos not counted)."""
    window = drift_window(project)
    bank = repo.latest_inspection_bank(session, project)
    if bank is None:
        return None
    first, latest = repo.bank_score_windows(session, bank.id, window)
    if len(first) < window or len(latest) < window:
        return None
    return compare_windows(first, latest), bank_calibration(bank)


def describe_drift(drift: ScoreDrift, calibration: Calibration | None, sensitivity: float) -> str:
    """What the drift check found, for people: the two medians on the 0-1 scale and, on drift, what to check."""
    count = len(drift.latest)
    medians = ""
    if calibration is not None:
        first = calibration.normalise(float(np.median(drift.first)), sensitivity)
        latest = calibration.normalise(float(np.median(drift.latest)), sensitivity)
        medians = f" (median score {latest:.2f} against {first:.2f})"
    if not drift.drifting:
        return f"The last {count} parts scored like the first {count} with these references{medians}."
    if drift.rising:
        return (f"The last {count} parts scored higher than the first {count} with these references{medians}. "
                "If they are good parts, check the focus, lighting and camera position; if the parts themselves "
                "changed, add a few recent good ones to the references.")
    return (f"The last {count} parts scored lower than the first {count} with these references{medians}. "
            "Check that the camera still sees the part as it did: a changed set-up can hide defects.")


def drift_warning(drift: ScoreDrift, calibration: Calibration | None, sensitivity: float) -> str | None:
    """``describe_drift`` when the scores drift, else None (nothing to warn about)."""
    return describe_drift(drift, calibration, sensitivity) if drift.drifting else None


def current_drift_warning(workspace: Workspace, project_name: str) -> str | None:
    """``drift_warning`` for a project's latest bank at the project's sensitivity, read in one session."""
    with workspace.database.read() as session:
        project = repo.get_project(session, project_name)
        found = project_drift(session, project)
        return drift_warning(found[0], found[1], project_sensitivity(project)) if found else None
