"""Writing a report file in the chosen format: the one entry point for the CLI and the GUI's export.

PDF needs a renderer from HTML to PDF bytes (``desktop.pdf.html_to_pdf_bytes``, Qt); the caller
passes it in, so this layer stays Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from db import repository as repo
from db.models import Project
from services.reports import (
    inspection_context,
    project_context,
    render_html,
    write_bytes_atomic,
    write_history_csv,
    write_text_atomic,
)
from services.workspace import Workspace

FORMATS = ("pdf", "html", "csv")
PdfRenderer = Callable[[str], bytes]


def write_report(workspace: Workspace, out: str | Path, fmt: str, inspection_id: int | None = None,
                 project: str | None = None, since: datetime | None = None, until: datetime | None = None,
                 pdf_renderer: PdfRenderer | None = None) -> Path:
    """Write one inspection's report, or a project's over [since, until), as PDF, HTML or CSV."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown report format '{fmt}'; use one of {', '.join(FORMATS)}.")
    if (inspection_id is None) == (project is None):
        raise ValueError("Give either a project or an inspection id.")
    if fmt == "csv":
        with workspace.database.read() as session:
            if inspection_id is not None:
                row = repo.get_inspection(session, inspection_id)
                name = session.get(Project, row.project_id).name
                return write_history_csv([row], name, out)
            record = repo.get_project(session, project)
            rows = repo.history(session, repo.HistoryFilter(project_id=record.id, since=since, until=until),
                                limit=None, newest_first=False)
            return write_history_csv(rows, record.name, out)
    if inspection_id is not None:
        html = render_html("inspection.html.j2", inspection_context(workspace, inspection_id))
    else:
        html = render_html("project.html.j2", project_context(workspace, project, since, until))
    if fmt == "html":
        return write_text_atomic(out, html)
    if pdf_renderer is None:
        raise ValueError("PDF export needs a PDF renderer.")
    return write_bytes_atomic(out, pdf_renderer(html))
