"""Writing a report file in the chosen format: the one entry point for the CLI and the GUI's export.

PDF needs a renderer from HTML to PDF bytes (``desktop.pdf.html_to_pdf_bytes``, Qt); the caller
passes it in, so this layer stays Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from db import repository as repo
from services.reports import (
    Progress,
    inspection_context,
    project_context,
    render_html,
    stop_if_cancelled,
    write_bytes_atomic,
    write_history_csv,
    write_text_atomic,
)
from services.workspace import Workspace


def join_pages(pages: list[str]) -> str:
    """Several rendered reports as one HTML document, each starting on a new page."""
    bodies = [page.split("<body>", 1)[1].rsplit("</body>", 1)[0] for page in pages]
    head = pages[0].split("<body>", 1)[0]
    # Qt's layout breaks pages only after a paragraph or table, not after an empty div.
    separator = '<p style="page-break-after: always"></p>'
    return head + "<body>" + separator.join(bodies) + "</body></html>"

FORMATS = ("pdf", "html", "csv")
# Each inspection's page holds its images: laying out 83 took 10.8 s and 713 MB, so a few
# hundred in one PDF would take gigabytes.  Longer spans have the project report and CSV.
MAX_INSPECTION_PAGES = 100
PdfRenderer = Callable[[str], bytes]


def render_report_html(workspace: Workspace, inspection_ids: list[int], project: str | None,
                       since: datetime | None = None, until: datetime | None = None, lot: str | None = None,
                       progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> str:
    """The report's HTML: the inspections one after another, or the project over [since, until), of one
    lot when ``lot`` is given.  ``progress(done, total)`` counts the inspections' pages rendered, and
    ``cancelled()``, asked before each, raises ``ExportCancelled``."""
    if inspection_ids:
        pages = []
        for done, inspection_id in enumerate(inspection_ids):
            stop_if_cancelled(cancelled)
            pages.append(render_html("inspection.html.j2", inspection_context(workspace, inspection_id)))
            if progress is not None:
                progress(done + 1, len(inspection_ids))
        return pages[0] if len(pages) == 1 else join_pages(pages)
    if project is None:
        raise ValueError("Give either a project or inspection ids.")
    return render_html("project.html.j2", project_context(workspace, project, since, until, lot=lot))


def write_report(workspace: Workspace, out: str | Path, fmt: str, inspection_id: int | None = None,
                 project: str | None = None, since: datetime | None = None, until: datetime | None = None,
                 pdf_renderer: PdfRenderer | None = None, inspection_ids: list[int] | None = None,
                 lot: str | None = None, progress: Progress | None = None,
                 cancelled: Callable[[], bool] | None = None) -> Path:
    """Write inspection reports (one id, or several one after another), or a project's over [since, until),
    of one lot when ``lot`` is given.

    ``progress(done, total)`` follows the CSV's rows or the inspections' pages (a project's HTML or PDF
    report is one step); when ``cancelled()`` turns true the export stops with ``ExportCancelled``
    before the file is written, leaving an older file of that name whole.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown report format '{fmt}'; use one of {', '.join(FORMATS)}.")
    ids = list(inspection_ids or []) + ([inspection_id] if inspection_id is not None else [])
    if bool(ids) == (project is not None):
        raise ValueError("Give either a project or inspection ids.")
    if len(ids) > MAX_INSPECTION_PAGES and fmt != "csv":
        raise ValueError(f"{len(ids)} inspections were selected; one {fmt.upper()} report takes at most "
                         f"{MAX_INSPECTION_PAGES}. Export a CSV of them, or the project report over a date range.")
    if fmt == "csv":
        with workspace.database.read() as session:
            if ids:
                return write_history_csv(repo.export_rows(session, ids=ids), out, len(ids), progress, cancelled)
            record = repo.get_project(session, project)
            criteria = repo.HistoryFilter(project_id=record.id, since=since, until=until, lot=lot)
            return write_history_csv(repo.export_rows(session, criteria), out, repo.history_count(session, criteria),
                                     progress, cancelled)
    html = render_report_html(workspace, ids, project, since, until, lot, progress, cancelled)
    stop_if_cancelled(cancelled)
    if fmt == "html":
        return write_text_atomic(out, html)
    if pdf_renderer is None:
        raise ValueError("PDF export needs a PDF renderer.")
    return write_bytes_atomic(out, pdf_renderer(html))
