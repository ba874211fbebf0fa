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
