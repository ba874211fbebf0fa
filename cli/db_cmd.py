"""``main.py db check|delete|remove-images|audit|backup``: the history database and its image store.

``check [--clean] [--verify]`` reports rows whose file is missing and files no row uses (and, verifying,
files whose content no longer matches their checksum); ``delete`` removes
inspections; ``remove-images`` frees disk space by deleting the stored image copies of old
inspections while keeping their records (``db.retention``); ``audit`` lists who changed what
(``db.audit_log``); ``backup`` copies the data folder (``db.backup``).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli.common import add_home_option, add_period_options, open_from_args, parse_date, positive_int, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``db`` command group."""
    parser = commands.add_parser("db", help="check the history database and image store",
                                 description="Maintenance of the history database and its image store.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="report missing, unused and (with --verify) damaged files",
                               description="Report rows whose file is missing and files no row uses; with "
                                           "--verify, also read every stored photo, map and bank and report "
                                           "those whose content no longer matches its checksum.")
    check.add_argument("--clean", action="store_true", help="delete unused files and leftover temp files")
    check.add_argument("--verify", action="store_true",
                       help="read every stored file and compare it with its checksum (slow on a long history)")
    add_home_option(check)
    check.set_defaults(handler=_check)
    delete = actions.add_parser("delete", help="delete inspections from the history (audited)",
                                description="Delete inspections with their reviews and conversation. Their files "
                                            "stay in the store until 'db check --clean'.")
    delete.add_argument("inspections", type=int, nargs="+", metavar="INSPECTION_ID")
    add_home_option(delete)
    delete.set_defaults(handler=_delete)
    remove = actions.add_parser(
        "remove-images", help="free disk space: delete old inspections' stored images, keep their records",
        description="Delete the stored image copies of inspections older than a cut-off, to free disk space. "
                    "Each inspection keeps its record (verdict, score, regions, conversation, review), its heatmap "
                    "and an audit entry; views and reports show a placeholder for the image. By default only "
                    "parts that passed (OK, and no review said otherwise) lose their image.")
    when = remove.add_mutually_exclusive_group(required=True)
    when.add_argument("--older-than", type=_days, metavar="DAYS", help="inspections older than this many days")
    when.add_argument("--before", type=parse_date, help="inspections before this date/time (ISO, UTC)")
    remove.add_argument("--project", help="only this project (default: all)")
    remove.add_argument("--include-flagged", action="store_true",
                        help="also NG and REVIEW parts, false rejects (engine NG, reviewed OK) and the newest "
                             "reviewed parts, which refining the threshold scores again")
    remove.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    add_home_option(remove)
    remove.set_defaults(handler=_remove_images)
    log = actions.add_parser(
        "audit", help="show the audit log: who changed what and when",
        description="List audit events, newest first: projects created and changed, references added or "
                    "disabled, banks built, thresholds refined, reviews, deletions and verifications with "
                    "master parts. --project keeps the events of that project and of what "
                    "belongs to it.")
    log.add_argument("--project", help="only this project's events")
    add_period_options(log)
    log.add_argument("--action", action="append", default=[], help="only this action (repeatable), e.g. refine")
    log.add_argument("--limit", type=positive_int, default=100, help="at most this many events (default 100)")
    log.add_argument("--json", action="store_true", help="print JSON, with each event's full detail")
    add_home_option(log)
    log.set_defaults(handler=_audit)
    backup = actions.add_parser(
        "backup", help="copy the history and its stored files to a backup folder",
        description="Copy the data folder (history database, stored photos, maps and banks, imported CLIP "
                    "checkpoints) to FOLDER: an empty folder or an earlier backup, which then gets only what is "
                    "new. The database is copied consistently even while the app is inspecting. The backup is "
                    "itself a data folder: open it with --home FOLDER.")
    backup.add_argument("folder", type=Path)
    add_home_option(backup)
    backup.set_defaults(handler=_backup)


def _days(text: str) -> int:
    """A whole number of days, 0 or more."""
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < 0:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}")
    return days


@user_errors
def _check(args: argparse.Namespace) -> int:
    from cli.common import progress_callback
    from db.check import check, clean

    workspace = open_from_args(args)
    with progress_callback("verifying", "file") as progress:
        report = check(workspace.database, workspace.store, args.verify, progress)
    for table, row_id, key in report.missing:
        print(f"missing file: {table} {row_id} -> {key}")
    for table, row_id, key in report.damaged:
        print(f"damaged file (its content does not match its checksum): {table} {row_id} -> {key}")
    for key in report.unused:
        print(f"unused file: {key}")
    for path in report.temp_files:
        print(f"leftover temp file: {path}")
    verified = (f" {report.verified} files verified, {len(report.damaged)} rows with damaged files."
                if args.verify else "")
    print(f"{len(report.missing)} rows with missing files, {len(report.unused)} unused files, "
          f"{len(report.temp_files)} temp files.{verified}")
    if report.damaged and any(table == "bank" for table, _, _ in report.damaged):
        print("A damaged bank that is a project's current one is built again from its references "
              "at the next inspection.")
    if args.clean and (report.unused or report.temp_files):
        print(f"Removed {clean(workspace.database, workspace.store, report)} files.")
        return 1 if report.missing or report.damaged else 0
    return 0 if report.clean else 1


@user_errors
def _delete(args: argparse.Namespace) -> int:
    from db import repository as repo

    workspace = open_from_args(args)
    with workspace.database.write() as session:
        for inspection_id in args.inspections:
            repo.delete_inspection(session, repo.get_inspection(session, inspection_id), workspace.operator)
    print(f"Deleted {len(args.inspections)} inspection(s); 'db check --clean' removes their files.")
    return 0


@user_errors
def _remove_images(args: argparse.Namespace) -> int:
    from db.retention import kept_samples_note, plan_removal, remove_images

    before = args.before or datetime.now(UTC) - timedelta(days=args.older_than)
    workspace = open_from_args(args)
    plan = plan_removal(workspace.database, workspace.store, before, args.project, args.include_flagged)
    scope = f"project {args.project}" if args.project else "all projects"
    kept = "" if args.include_flagged else " (passed parts only)"
    if args.dry_run or not plan.inspection_ids:
        verb = "Would remove" if args.dry_run else "Nothing to remove:"
        print(f"{verb} the stored images of {len(plan.inspection_ids)} inspection(s) before {before:%Y-%m-%d %H:%M} "
              f"UTC in {scope}{kept}, freeing {_megabytes(plan.bytes_freed)} ({len(plan.file_keys)} file(s)). "
              f"{kept_samples_note(plan)}".rstrip())
        return 0
    result = remove_images(workspace.database, workspace.store, plan, workspace.operator)
    print(f"Removed the stored images of {result.inspections} inspection(s) before {before:%Y-%m-%d %H:%M} UTC "
          f"in {scope}{kept}: freed {_megabytes(result.bytes_freed)} ({result.files_removed} file(s)). "
          "Their records and heatmaps stay.")
    for problem in result.failed:
        print(f"could not delete {problem}; 'db check --clean' retries", file=sys.stderr)
    return 1 if result.failed else 0


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


@user_errors
def _backup(args: argparse.Namespace) -> int:
    from db.backup import back_up

    workspace = open_from_args(args)
    report = back_up(workspace.home, workspace.database, args.folder)
    print(report.summary())
    return 0


@user_errors
def _audit(args: argparse.Namespace) -> int:
    from db import repository as repo
    from db.audit_log import as_row, audit_events, summarise

    workspace = open_from_args(args)
    with workspace.database.read() as session:
        project_id = repo.get_project(session, args.project).id if args.project else None
        rows = [as_row(event) for event in audit_events(session, project_id, args.since, args.until, args.action,
                                                        args.limit)]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("No audit events match.")
        return 0
    print(f"{'time (UTC)':<19}  {'operator':<12} {'action':<12} {'entity':<16} detail")
    for row in rows:
        entity = f"{row['entity']} {row['entity_id']}" if row["entity_id"] is not None else row["entity"]
        operator = row["operator"] or "-"
        print(f"{row['time'][:19]}  {operator:<12} {row['action']:<12} {entity:<16} {summarise(row['detail'])}")
    return 0
