"""Inspection reports: one inspection, or a project over a date range, as HTML, PDF or CSV.

The content is gathered here once (``inspection_context``, ``project_context``) and rendered by
the jinja2 templates in ``resources/templates``.  HTML is self-contained: every image is an
embedded PNG data URI, and the templates reference nothing outside the file.  PDF is the same
HTML laid out by Qt's ``QTextDocument`` and printed with ``QPdfWriter`` (``desktop.pdf``): one
template gives both formats, with no extra dependency, since PySide6 is already required.
CSV uses the standard library.  Every output is written to a temp file and renamed into place.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape

from db import repository as repo
from db.audit_log import as_row, audit_events, summarise
from db.models import Inspection, Project, ReferenceBank
from db.store import write_atomic
from engine import ENGINE_VERSION
from engine.area import Area, describe_area
from engine.facts import FactSheet
from engine.imageio import encode_png, load_rgb8, shrink_to_side
from engine.physical import format_mm
from engine.regions import to_image_scale
from engine.visualize import draw_regions, overlay_for
from services.checkpoints import checkpoint_label
from services.drift import describe_drift, drift_window, project_drift
from services.local_time import as_utc, local_day, local_text, zone_label
from services.report_charts import histogram_png, trend_png
from services.results import (
    MAP_MISSING_LINES,
    area_picture,
    area_source_side,
    photo_placeholder,
    project_sensitivity,
    scored_area,
    stored_image,
    stored_map,
)
from services.trend import TREND_LIMIT
from services.verdict_colours import VERDICT_COLOURS
from services.verification import describe_last, last_verification
from services.workspace import Workspace

TEMPLATES = Path(__file__).resolve().parents[1] / "resources" / "templates"
REPORT_IMAGE_SIDE = 720
THUMBNAIL_SIDE = 160
NG_THUMBNAIL_SIDE = 200
MAX_NG_THUMBNAILS = 48
MAX_ROWS_LISTED = 2000  # inspections listed in a project report (about 45 pages); the CSV lists every one
CSV_FIELDS = ("id", "project", "created_at", "source", "lot", "verdict", "score", "raw_score", "threshold", "regions",
              "largest_length_px", "largest_length_mm", "review", "review_comment", "operator", "bank_id",
              "calibration", "engine_version")


def png_data_uri(image: np.ndarray, max_side: int) -> str:
    """A uint8 RGB image, shrunk to ``max_side``, as a PNG data URI."""
    encoded = encode_png(shrink_to_side(image, max_side), "an image for the report")
    return "data:image/png;base64," + base64.b64encode(encoded).decode("ascii")


def calibration_label(thresholds: dict[str, Any]) -> str:
    """Which calibration produced a verdict, in one line."""
    return (f"bank {thresholds.get('bank_id', '?')}, calibration v{thresholds.get('calibration_version', '?')}"
            f".{thresholds.get('calibration_revision', 1)} ({thresholds.get('calibration_method', '?')}), "
            f"sensitivity {thresholds.get('sensitivity', 0.5):.2f}")


@functools.lru_cache(maxsize=256)
def calibration_label_of_json(thresholds_json: str | None) -> str:
    """``calibration_label`` of stored thresholds given as JSON text (``repo.export_rows``): the text repeats
    for every part of a bank and sensitivity, so each one is decoded once."""
    return calibration_label(json.loads(thresholds_json) if thresholds_json else {})


def annotated_overlay(workspace: Workspace, row: Inspection, image: np.ndarray) -> np.ndarray:
    """The stored heatmap over ``image`` with the numbered region boxes (the boxes on a placeholder
    that says so where the map is missing or damaged).

    ``image`` may be the inspected image shrunk (``stored_image(..., max_side)``): the map is
    loaded at its size and the boxes are scaled to it.
    """
    facts = FactSheet.from_dict(row.facts)
    height, width = image.shape[:2]
    anomaly_map = stored_map(workspace.store, row, (height, width))
    overlay = (photo_placeholder(height, width, MAP_MISSING_LINES) if anomaly_map is None
               else overlay_for(image, anomaly_map, row.thresholds.get("pixel_cut_raw", 0.0)))
    full_height, full_width = facts.image_size
    regions = facts.regions
    if (full_height, full_width) != (height, width):
        regions = [to_image_scale(r, width / full_width, height / full_height) for r in regions]
    return draw_regions(overlay, regions)


def inspected_pictures(workspace: Workspace, row: Inspection, area: Area | None,
                       side: int) -> tuple[np.ndarray, np.ndarray]:
    """The photo and its annotated heatmap, at most ``side`` long: cropped to the inspection area,
    what was inspected, where there is one (a removed photo's placeholder stays whole)."""
    if area is None or row.image_removed_at is not None:
        image = stored_image(workspace.store, row, side)
        return image, annotated_overlay(workspace, row, image)
    image = stored_image(workspace.store, row, area_source_side(side, area))
    return area_picture(image, area, side), area_picture(annotated_overlay(workspace, row, image), area, side)


def inspection_context(workspace: Workspace, inspection_id: int) -> dict[str, Any]:
    """Everything the single-inspection report shows."""
    store = workspace.store
    with workspace.database.read() as session:
        row = repo.get_inspection(session, inspection_id)
        project = session.get(Project, row.project_id)
        bank = session.get(ReferenceBank, row.bank_id) if row.bank_id else None
        reference_keys = list(bank.reference_keys) if bank else []
        facts = FactSheet.from_dict(row.facts)
        image, overlay = inspected_pictures(workspace, row, scored_area(bank)[0], REPORT_IMAGE_SIDE)
        references = [png_data_uri(load_rgb8(store.path(k), THUMBNAIL_SIDE), THUMBNAIL_SIDE)
                      for k in reference_keys
                      if store.exists(k)]
        return {
            "title": f"Inspection #{row.id}", "generated": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
            "project": project.name if project else str(row.project_id), "inspection": row, "facts": facts,
            "image_uri": png_data_uri(image, REPORT_IMAGE_SIDE),
            "overlay_uri": png_data_uri(overlay, REPORT_IMAGE_SIDE),
            "references": references, "messages": list(row.messages), "reviews": list(row.reviews),
            "calibration": calibration_label(row.thresholds), "bank_id": row.bank_id,
            "bank_created": local_text(bank.created_at, seconds=False) if bank else "-",
            "engine_version": row.engine_version, "program_version": ENGINE_VERSION,
            "backbone": bank_backbone(bank), "inspection_area": describe_area(*scored_area(bank)),
            "format_mm": format_mm,
        }


def bank_backbone(bank: ReferenceBank | None) -> str:
    """The backbone a bank was built on, with its CLIP checkpoint's name when it has one and whether its
    prompts guided the map; "-" when unknown."""
    requested = (bank.config or {}).get("requested", {}) if bank is not None else {}
    if not requested.get("backbone"):
        return "-"
    guided = " with text guidance" if requested.get("text_guidance") else ""
    return requested["backbone"] + checkpoint_label(requested) + guided


MAX_DAYS_LISTED = 31
MAX_LOTS_LISTED = 50
# The project report lists changes to how the part is inspected (not each review or removed photo,
# which the inspections table and the history show), the newest this many.
SETUP_ACTIONS = ("create", "update", "import", "add", "activate", "enable", "disable", "build", "refine", "label",
                 "verify")
MAX_CHANGES = 50


def verdict_counts(rows: list[Any], key: Callable[[Any], str], label: str) -> list[dict[str, Any]]:
    """Verdict counts and the NG rate of rows with ``verdict``, grouped by ``key(row)`` (stored under
    ``label``) in the order each group first appears."""
    groups: defaultdict[str, Counter] = defaultdict(Counter)
    for row in rows:
        groups[key(row)][row.verdict] += 1
    return [{label: name, "total": sum(counts.values()), "OK": counts["OK"], "REVIEW": counts["REVIEW"],
             "NG": counts["NG"], "ng_percent": 100.0 * counts["NG"] / sum(counts.values())}
            for name, counts in groups.items()]


def daily_counts(rows: list[Any]) -> list[dict[str, Any]]:
    """Verdict counts per local calendar day of rows with ``created_at`` and ``verdict``, oldest
    first, with the NG rate: the yield trend a quality engineer reads first."""
    day_of_quarter: dict[datetime, str] = {}

    def day(row: Any) -> str:
        # Every time zone's offset and clock change falls on a quarter hour, so a quarter hour of stored
        # time lies in one local day: one conversion per quarter hour instead of one per part.
        quarter = row.created_at.replace(minute=row.created_at.minute // 15 * 15, second=0, microsecond=0)
        if quarter not in day_of_quarter:
            day_of_quarter[quarter] = local_day(quarter).isoformat()
        return day_of_quarter[quarter]

    return sorted(verdict_counts(rows, day, "day"), key=lambda entry: entry["day"])


def lot_counts(rows: list[Any]) -> list[dict[str, Any]]:
    """Verdict counts and NG rate per lot, in the order the lots were first inspected ("" for parts of none)."""
    return verdict_counts(rows, lambda row: row.lot, "lot")


def project_context(workspace: Workspace, project_name: str, since: datetime | None = None,
                    until: datetime | None = None, verdicts: list[str] | None = None,
                    lot: str | None = None) -> dict[str, Any]:
    """Everything the project report shows for inspections in [since, until), of one lot when given."""
    store = workspace.store
    with workspace.database.read() as session:
        project = repo.get_project(session, project_name)
        criteria = repo.HistoryFilter(project_id=project.id, since=since, until=until, verdicts=verdicts or [], lot=lot)
        rows = repo.history_digest(session, criteria)
        listed = repo.history(session, criteria, limit=MAX_ROWS_LISTED)[::-1]
        counts = Counter(r.verdict for r in rows)
        ng_rows = []
        if counts["NG"]:
            ng_criteria = replace(criteria, verdicts=["NG"])
            ng_rows = repo.history(session, ng_criteria, limit=MAX_NG_THUMBNAILS, newest_first=False)
        days = daily_counts(rows)
        lots = lot_counts(rows) if not lot else []
        trended, window = rows[-TREND_LIMIT:], drift_window(project)
        drift = project_drift(session, project)
        verification = describe_last(last_verification(session, project))
        changes = [as_row(event) | {"summary": summarise(event.detail), "local_time": local_text(event.created_at)}
                   for event in audit_events(session, project.id, since, until, SETUP_ACTIONS, MAX_CHANGES + 1)]
        thumbnails = []
        for row in ng_rows:
            if (row.image_removed_at is not None or store.exists(row.image_key)) and store.exists(row.map_key):
                bank = session.get(ReferenceBank, row.bank_id) if row.bank_id else None
                _, overlay = inspected_pictures(workspace, row, scored_area(bank)[0], NG_THUMBNAIL_SIDE)
                thumbnails.append({"id": row.id, "score": row.score, "uri": png_data_uri(overlay, NG_THUMBNAIL_SIDE)})
        return {
            "title": f"Project report: {project.name}" + (f", lot {lot}" if lot else ""), "project": project,
            "lot": lot, "with_lots": any(r.lot for r in rows),
            "lots": lots[-MAX_LOTS_LISTED:], "lots_total": len(lots),
            "generated": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
            "since": local_text(since, seconds=False) if since else "the start",
            "until": local_text(until, seconds=False) if until else "now",
            "rows": listed, "total": len(rows), "counts": {v: counts.get(v, 0) for v in ("OK", "REVIEW", "NG")},
            "histogram_uri": (png_data_uri(histogram_png([r.score for r in rows], [r.verdict for r in rows]), 800)
                              if rows else None),
            "trend_uri": (png_data_uri(trend_png([r.score for r in trended], [r.verdict for r in trended],
                                                 [r.bank_id for r in trended], window), 800)
                          if rows else None),
            "trend_shown": len(trended), "median_window": window,
            "daily": days[-MAX_DAYS_LISTED:], "days_total": len(days),
            "thumbnails": thumbnails, "ng_total": counts["NG"],
            "calibrations": sorted({calibration_label(t) for t in repo.history_thresholds(session, criteria)}),
            "score_drift": describe_drift(drift[0], drift[1], project_sensitivity(project)) if drift else None,
            "verification": verification, "changes": changes[:MAX_CHANGES],
            "more_changes": len(changes) > MAX_CHANGES, "program_version": ENGINE_VERSION,
        }


def render_html(template: str, context: dict[str, Any]) -> str:
    """Render a report template."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    environment.globals["verdict_colours"] = VERDICT_COLOURS
    environment.globals["zone"] = zone_label()
    environment.filters["local"] = local_text
    return environment.get_template(template).render(**context)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write a text file via a temp file and rename."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write a file via a temp file and rename (``db.store.write_atomic``); a clear error when the disk is
    full or read-only."""
    path = Path(path)
    write_atomic(path, [data])
    return path


# A spreadsheet runs a cell that starts with one of these as a formula: "=HYPERLINK(...)" typed as a
# review comment would become a link in the quality engineer's Excel (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str | None) -> str:
    """Typed or file-derived text for a CSV cell: a leading "'" where a spreadsheet would read a formula."""
    text = text or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_record(row: Any) -> dict[str, Any]:
    """One inspection as a CSV record, from a row of ``repo.export_rows``: its values in ``CSV_FIELDS``'s
    order; the texts people typed or named files with are made safe to open in a spreadsheet."""
    mm = None if row.largest_px is None or row.mm_per_pixel is None else row.largest_px * row.mm_per_pixel
    return {"id": row.id, "project": spreadsheet_text(row.project), "created_at": as_utc(row.created_at).isoformat(),
            "source": spreadsheet_text(row.source_path), "lot": spreadsheet_text(row.lot), "verdict": row.verdict,
            "score": f"{row.score:.4f}", "raw_score": f"{row.raw_score:.6f}",
            "threshold": "0.50", "regions": row.region_count or 0,
            "largest_length_px": "" if row.largest_px is None else f"{row.largest_px:.1f}",
            "largest_length_mm": "" if mm is None else f"{mm:.4g}",
            "review": row.review or "", "review_comment": spreadsheet_text(row.review_comment),
            "operator": spreadsheet_text(row.operator), "bank_id": row.bank_id,
            "calibration": calibration_label_of_json(row.thresholds_json), "engine_version": row.engine_version}


class ExportCancelled(Exception):
    """The person stopped an export before its file was written; no file was written or changed."""


Progress = Callable[[int, int], None]
# Rows between progress reports and cancel checks: 200 000 rows take 12-15 s, so about every 0.1 s.
CSV_PROGRESS_STEP = 2000


def write_history_csv(rows: Iterable[Any], path: str | Path, total: int | None = None,
                      progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> Path:
    """Inspections as CSV (one row each), from ``repo.export_rows``.

    ``progress(done, total)`` is told every ``CSV_PROGRESS_STEP`` rows when ``total`` is given;
    ``cancelled()`` is asked as often and, when true, raises ``ExportCancelled`` before anything is
    written, so a cancelled export leaves an older file of that name as it was.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # a DictWriter looked up each field by name: 1.5 s of 200 000 rows
    writer.writerow(CSV_FIELDS)
    done = 0
    for done, row in enumerate(rows, 1):
        writer.writerow(csv_record(row).values())
        if done % CSV_PROGRESS_STEP == 0:
            stop_if_cancelled(cancelled)
            if progress is not None and total:
                progress(min(done, total), total)
    stop_if_cancelled(cancelled)
    if progress is not None and total:
        progress(total, total)
    return write_text_atomic(path, buffer.getvalue())


def stop_if_cancelled(cancelled: Callable[[], bool] | None) -> None:
    """Raise ``ExportCancelled`` when ``cancelled()`` says the person stopped the export."""
    if cancelled is not None and cancelled():
        raise ExportCancelled("Export cancelled; no file was written.")
