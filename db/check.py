"""Consistency of rows and files: rows whose file is missing, files no row uses, leftover temp files,
and, on request, files whose content no longer matches the checksum they are named by (a disk error,
a backup restored half-way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from db.database import Database
from db.models import Inspection, ReferenceBank, ReferenceImage
from db.store import ImageStore


@dataclass
class CheckReport:
    """What ``check`` found."""

    missing: list[tuple[str, int, str]] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    damaged: list[tuple[str, int, str]] = field(default_factory=list)
    verified: int = 0
    cancelled: bool = False

    @property
    def clean(self) -> bool:
        """True when nothing is wrong."""
        return not (self.missing or self.unused or self.temp_files or self.damaged)


def referenced_keys(database: Database) -> dict[str, list[tuple[str, int]]]:
    """Every store key used by a row, with the rows using it."""
    used: dict[str, list[tuple[str, int]]] = {}
    with database.read() as session:
        rows = session.execute(select(Inspection.id, Inspection.image_key, Inspection.map_key,
                                      Inspection.image_removed_at))
        for row_id, image, heatmap, image_removed_at in rows:
            if image_removed_at is None:  # a removed image copy is neither missing nor in use (db/retention.py)
                used.setdefault(image, []).append(("inspection", row_id))
            used.setdefault(heatmap, []).append(("inspection", row_id))
        for row_id, key in session.execute(select(ReferenceImage.id, ReferenceImage.image_key)):
            used.setdefault(key, []).append(("reference", row_id))
        for row_id, key in session.execute(select(ReferenceBank.id, ReferenceBank.bank_key)):
            used.setdefault(key, []).append(("bank", row_id))
    return used


def check(database: Database, store: ImageStore, verify: bool = False,
          progress: Callable[[int, int], None] | None = None,
          cancel: Callable[[], bool] | None = None) -> CheckReport:
    """Compare rows with files; with ``verify``, also read every used file and compare its content with
    the checksum in its name (``progress(done, total)`` follows that reading, the slow part, which
    stops when ``cancel()`` says so: the report is then ``cancelled``)."""
    used = referenced_keys(database)
    report = CheckReport()
    present: list[str] = []
    for key, rows in used.items():
        if store.exists(key):
            present.append(key)
        else:
            report.missing.extend((table, row_id, key) for table, row_id in rows)
    report.unused = sorted(k for k in store.keys() if k not in used)
    report.temp_files = sorted(str(p) for p in store.temp_files())
    if verify:
        for done, key in enumerate(sorted(present), start=1):
            if cancel is not None and cancel():
                report.cancelled = True
                break
            if not store.intact(key):
                report.damaged.extend((table, row_id, key) for table, row_id in used[key])
            if progress is not None:
                progress(done, len(present))
            report.verified = done
    return report



def problems_summary(report: CheckReport, shown: int = 5) -> str:
    """What a verifying check found, for a message: the counts, then the first ``shown`` rows."""
    lines = [f"{table} {row_id}: missing {key}" for table, row_id, key in report.missing]
    lines += [f"{table} {row_id}: damaged {key}" for table, row_id, key in report.damaged]
    more = f"\n… and {len(lines) - shown} more ('db check --verify' lists them all)" if len(lines) > shown else ""
    advice = ("\nA damaged or missing bank is built again from its references at its project's next inspection."
              if any(table == "bank" for table, _, _ in report.missing + report.damaged) else "")
    return (f"{len(report.missing)} record(s) whose file is missing and {len(report.damaged)} whose file is "
            f"damaged, of {report.verified} files read.\n\n" + "\n".join(lines[:shown]) + more + advice)


def clean(database: Database, store: ImageStore, report: CheckReport) -> int:
    """Remove unused files and temp files (rows with missing files are only reported); returns the count."""
    for key in report.unused:
        store.remove(key)
    for path in report.temp_files:
        Path(path).unlink(missing_ok=True)
    return len(report.unused) + len(report.temp_files)
