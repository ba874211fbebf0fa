"""Verification with master parts: does the set-up still reject a known-bad part and pass a known-good one?

Plants check error-proofing at the start of a shift with master parts (a known-defective
"red rabbit" and a known-good part): if the inspector lets the bad master through, the line
stops before real parts do.  Here the technician photographs the masters into a folder laid out
like a validation folder (``good/`` and one sub-folder per defect; ``engine.datasets``) and the
project's current references, calibration and sensitivity judge each photo.

Rule: a good master passes when it gets OK; a defective master passes when it is held back, NG
or REVIEW (REVIEW sends it to a person, so it does not ship).  The run passes when every master
does.  A photo that cannot be read fails the run and says why.  Nothing goes into the history,
whose statistics and drift check are about production parts; each run is an audit event, and
the newest one is what the References page, ``project show`` and the project report state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from db import repository as repo
from db.audit_log import audit_events
from db.models import Project
from engine.calibration import VERDICT_NG, VERDICT_OK, VERDICT_REVIEW
from engine.datasets import labelled_images
from engine.errors import ImageLoadError
from services.results import project_sensitivity

ACTION = "verify"
UNREADABLE = "unreadable"
ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class MasterResult:
    """One master photo: what it should get, what it got (verdict and 0-1 score), and whether that passes."""

    file: str
    expected: str
    verdict: str
    score: float | None
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class VerificationRun:
    """A verification run's results, with the set-up that judged them."""

    project: str
    operator: str
    folder: str
    bank_id: int
    calibration_revision: int
    sensitivity: float
    results: list[MasterResult]
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def passed(self) -> bool:
        """Every master got what it should."""
        return all(result.passed for result in self.results)

    def counts(self) -> tuple[int, int]:
        """(good masters, defective masters)."""
        good = sum(result.expected == VERDICT_OK for result in self.results)
        return good, len(self.results) - good

    def summary(self) -> str:
        """One line: passed or failed, with the masters that did not get what they should."""
        good, defective = self.counts()
        masters = f"{good} good and {defective} defective master part(s)"
        if self.passed:
            caveat = (" No defective master was checked, so this does not show that defects are still found."
                      if not defective else "")
            return f"Verification passed: {masters} judged as they should be.{caveat}"
        failures = "; ".join(f"{r.file} should be {_expectation(r.expected)}, got {r.reason or r.verdict}"
                             for r in self.results if not r.passed)
        return f"Verification FAILED on {masters}: {failures}. Do not run the line until this is understood."

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the audit record and JSON output."""
        return {**asdict(self), "passed": self.passed, "summary": self.summary()}


def _expectation(expected: str) -> str:
    return "OK" if expected == VERDICT_OK else "held back (NG or REVIEW)"


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


def judge(expected: str, verdict: str) -> bool:
    """Whether a master with ``expected`` (OK or NG) passes with ``verdict`` (see the module rule)."""
    if expected == VERDICT_OK:
        return verdict == VERDICT_OK
    return verdict in (VERDICT_NG, VERDICT_REVIEW)


def verify_with_masters(inspector: Any, project_name: str, folder: str | Path,
                        progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
                        sensitivity: float | None = None) -> VerificationRun:
    """Judge the master photos in ``folder`` with the project's current set-up and record the run.

    ``sensitivity``: the setting to judge at (the window's slider); the project's stored one when None.

    Raises ``FileNotFoundError`` for a folder without ``good/``, ``ValueError`` for one without
    images, and ``Cancelled`` (nothing recorded) when ``cancel`` says so.
    """
    from engine.detector import Cancelled

    samples = labelled_images(folder)
    if not samples:
        raise ValueError(f"No images in {folder}: put photos of good master parts in good/ and of defective ones "
                         "in other sub-folders.")
    bank_id, bank = inspector.ensure_bank(project_name)
    workspace = inspector.workspace
    with workspace.database.read() as session:
        project = repo.get_project(session, project_name)
        project_id = project.id
        sensitivity = project_sensitivity(project) if sensitivity is None else sensitivity
    calibration = bank.calibration
    results = []
    for index, (path, label) in enumerate(samples):
        if cancel is not None and cancel():
            raise Cancelled()
        expected = VERDICT_NG if label else VERDICT_OK
        name = _relative(path, Path(folder))
        try:
            score = inspector.detector.inspect(path, bank).score
        except ImageLoadError as exc:
            results.append(MasterResult(name, expected, UNREADABLE, None, False, f"unreadable ({exc.reason})"))
        else:
            verdict = calibration.verdict(score, sensitivity)
            results.append(MasterResult(name, expected, verdict, round(calibration.normalise(score, sensitivity), 4),
                                        judge(expected, verdict)))
        if progress is not None:
            progress(index + 1, len(samples))
    run = VerificationRun(project_name, workspace.operator, str(Path(folder).resolve()), bank_id,
                          calibration.revision, sensitivity, results)
    with workspace.database.write() as session:
        repo.audit(session, workspace.operator, ACTION, "project", project_id, run.to_dict())
    return run


def last_verification(session: Any, project: Project) -> dict[str, Any] | None:
    """The project's newest verification run as recorded (``VerificationRun.to_dict``), or None."""
    events = audit_events(session, project.id, actions=[ACTION], limit=1)
    return dict(events[0].detail) if events else None


def describe_last(run: dict[str, Any] | None) -> str:
    """A line for the References page and ``project show``: when the masters were last checked, and how it went."""
    if run is None:
        return "never checked"
    when = run.get("created", "")[:16].replace("T", " ")
    result = "passed" if run.get("passed") else "FAILED"
    good = sum(r["expected"] == VERDICT_OK for r in run.get("results", []))
    defective = len(run.get("results", [])) - good
    return f"{result} {when} UTC by {run.get('operator') or 'unknown'} ({good} good, {defective} defective masters)"
