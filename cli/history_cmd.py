"""``main.py history PROJECT``: query the inspection history, print it or write CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import add_home_option, add_period_options, open_from_args, progress_callback, user_errors


def add_history_filters(parser: argparse.ArgumentParser) -> None:
    """Filter options shared by ``history`` and ``report``."""
    parser.add_argument("--verdict", nargs="+", choices=("OK", "NG", "REVIEW"), help="only these verdicts")
    add_period_options(parser)
    reviewed = parser.add_mutually_exclusive_group()
    reviewed.add_argument("--reviewed", action="store_true", default=None, help="only reviewed inspections")
    reviewed.add_argument("--unreviewed", dest="reviewed", action="store_false", help="only unreviewed ones")
    parser.add_argument("--min-score", type=float, help="normalised score at least this")
    parser.add_argument("--max-score", type=float, help="normalised score at most this")
    parser.add_argument("--search", metavar="TEXT",
                        help="only inspections whose image path, operator, lot or a review comment contains TEXT")
    parser.add_argument("--lot", help="only the parts of this lot (exactly as it was given to inspect)")


def history_filter(args: argparse.Namespace, project_id: int) -> object:
    """The HistoryFilter the arguments describe."""
    from db.repository import HistoryFilter

    return HistoryFilter(project_id=project_id, verdicts=args.verdict or [], since=args.since, until=args.until,
                         reviewed=args.reviewed, min_score=args.min_score, max_score=args.max_score,
                         text=args.search, lot=args.lot)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``history`` command."""
    parser = commands.add_parser("history", help="list past inspections with filters",
                                 description="List a project's inspections, newest first.")
    parser.add_argument("project")
    add_history_filters(parser)
    parser.add_argument("--limit", type=int, default=50, help="rows to print (default 50; CSV gets all)")
    parser.add_argument("--csv", type=Path, help="write all matching rows to this CSV file, oldest first")
    add_home_option(parser)
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Print the matching inspections, or write them as CSV."""
    from db import repository as repo
    from services.local_time import as_utc
    from services.reports import write_history_csv

    workspace = open_from_args(args)
    with workspace.database.read() as session:
        project = repo.get_project(session, args.project)
        criteria = history_filter(args, project.id)
        total = repo.history_count(session, criteria)
        if args.csv:  # every matching row, oldest first, read a page at a time
            with progress_callback("CSV", "row") as progress:
                write_history_csv(repo.export_rows(session, criteria), args.csv, total, progress)
            print(f"Wrote {total} rows to {args.csv}.")
            return 0
        rows = repo.history(session, criteria, limit=args.limit)
        if rows:
            print(f"{'id':<7} {'time (UTC)':<19}  {'verdict':<7} {'score':>5}  {'review':<6}  image")
        for row in rows:
            review = row.reviews[-1].verdict if row.reviews else "-"
            removed = "  (photo removed)" if row.image_removed_at is not None else ""
            removed += f"  lot {row.lot}" if row.lot else ""
            print(f"#{row.id:<6} {as_utc(row.created_at):%Y-%m-%d %H:%M:%S}  {row.verdict:<7} {row.score:5.2f}  "
                  f"{review:<6}  {row.source_path}{removed}")
        print(f"{len(rows)} of {total} matching inspections shown.")
    return 0
