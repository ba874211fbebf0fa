"""``main.py db check [--clean]``: rows whose file is missing, files no row uses."""

from __future__ import annotations

import argparse

from cli.common import add_home_option, open_from_args, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``db`` command group."""
    parser = commands.add_parser("db", help="check the history database and image store",
                                 description="Maintenance of the history database and its image store.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="report missing and unused files",
                               description="Report rows whose file is missing and files no row uses.")
    check.add_argument("--clean", action="store_true", help="delete unused files and leftover temp files")
    add_home_option(check)
    check.set_defaults(handler=_check)
    delete = actions.add_parser("delete", help="delete inspections from the history (audited)",
                                description="Delete inspections with their reviews and conversation. Their files "
                                            "stay in the store until 'db check --clean'.")
    delete.add_argument("inspections", type=int, nargs="+", metavar="INSPECTION_ID")
    add_home_option(delete)
    delete.set_defaults(handler=_delete)


@user_errors
def _check(args: argparse.Namespace) -> int:
    from db.check import check, clean

    workspace = open_from_args(args)
    report = check(workspace.database, workspace.store)
    for table, row_id, key in report.missing:
        print(f"missing file: {table} {row_id} -> {key}")
    for key in report.unused:
        print(f"unused file: {key}")
    for path in report.temp_files:
        print(f"leftover temp file: {path}")
    print(f"{len(report.missing)} rows with missing files, {len(report.unused)} unused files, "
          f"{len(report.temp_files)} temp files.")
    if args.clean and (report.unused or report.temp_files):
        print(f"Removed {clean(workspace.database, workspace.store, report)} files.")
        return 1 if report.missing else 0
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
