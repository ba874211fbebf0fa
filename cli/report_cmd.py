"""``main.py report``: export one inspection or a project's date range as PDF, HTML or CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import add_home_option, add_period_options, open_from_args, progress_callback, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``report`` command."""
    parser = commands.add_parser(
        "report", help="export a report (PDF, HTML or CSV)",
        description="Export the report of one inspection (--inspection ID) or of a project over a date range.")
    parser.add_argument("project", nargs="?", help="project name (omit with --inspection)")
    parser.add_argument("--inspection", type=int, help="report on this inspection id")
    parser.add_argument("--format", choices=("pdf", "html", "csv"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="output file")
    add_period_options(parser)
    parser.add_argument("--lot", help="a project report of this lot's parts only")
    add_home_option(parser)
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Write the report."""
    from desktop.pdf import html_to_pdf_bytes
    from services.report_writer import write_report

    workspace = open_from_args(args)
    with progress_callback("CSV", "row") as progress:  # a project's CSV can take many seconds
        path = write_report(workspace, args.out, args.format, inspection_id=args.inspection, project=args.project,
                            since=args.since, until=args.until, pdf_renderer=html_to_pdf_bytes, lot=args.lot,
                            progress=progress if args.format == "csv" else None)
    print(f"Wrote {path}")
    return 0
