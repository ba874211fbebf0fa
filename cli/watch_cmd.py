"""``main.py watch PROJECT FOLDER``: inspect the images a line saves into a folder as they come."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli.common import add_home_option, finish_on_terminate, open_from_args, parse_date, user_errors
from cli.inspect_cmd import print_warnings, record_line


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``watch`` command."""
    parser = commands.add_parser(
        "watch", help="inspect new images as they appear in a folder",
        description="Watch a folder and its sub-folders (four levels down, folders made later included) and "
                    "inspect each new image into the history once its writer has finished with it, as 'inspect' "
                    "would. Images already there are left alone. Ctrl+C stops; what was printed is saved. "
                    "SIGTERM (a service manager's stop) stops it too, after the image in hand.")
    parser.add_argument("project")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                        help="how often the folder is listed; an image is inspected once its size has held for "
                             "this long (default 1)")
    parser.add_argument("--count", type=int, metavar="N", help="stop after N images (default: until Ctrl+C)")
    parser.add_argument("--sort-into", type=Path, metavar="DIR",
                        help="move each inspected image into DIR/OK, DIR/REVIEW or DIR/NG by its verdict (the "
                             "history keeps its own copy), for a rework station or an archive; DIR must lie "
                             "outside the watched folder")
    parser.add_argument("--since", type=parse_date, metavar="DATETIME",
                        help="first inspect the images already there that were modified since then (ISO, UTC) and "
                             "that no project's history holds an inspection of since they were saved: what the line "
                             "saved while no watch ran")
    parser.add_argument("--json", action="store_true", help="print one JSON object per image instead of text")
    parser.add_argument("--lot", default="", help="the lot, batch or order these parts belong to (for traceability)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_home_option(parser)
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Poll the folder and inspect each new, complete image; a failing image is reported and the watch goes on."""
    from db.repository import checked_lot
    from engine.errors import ImageLoadError
    from services.inspection import Inspector
    from services.new_images import MAX_FOLDERS, NewImages, list_tree, steady_part
    from services.sorting import sort_target_problem

    lot = checked_lot(args.lot)
    if not args.interval > 0:
        raise ValueError(f"--interval must be a positive number of seconds, not {args.interval}")
    if args.count is not None and args.count < 1:
        raise ValueError(f"--count must be at least 1, not {args.count}")
    if not args.folder.is_dir():
        raise FileNotFoundError(f"No such folder: {args.folder}")
    problem = None if args.sort_into is None else sort_target_problem(args.folder, args.sort_into)
    if problem is not None:
        raise ValueError(f"--sort-into {problem}")
    workspace = open_from_args(args)
    inspector = Inspector(workspace, device=args.device)
    inspector.ensure_bank(args.project)
    first = list_tree(args.folder)
    time.sleep(args.interval)  # an image still being saved now is new: what the second listing agrees on is there
    listing = steady_part(first, list_tree(args.folder))
    images = NewImages(listing.modified, args.interval)
    there = len(listing.sizes)
    left = "" if args.since is not None else " left alone"
    print(f"watching {args.folder} and its sub-folders for new images ({there} image{'s' if there != 1 else ''} "
          f"already there{left}); Ctrl+C stops", file=sys.stderr, flush=True)
    if not listing.complete:
        print(f"warning: {args.folder} holds more than {MAX_FOLDERS} folders; only the {MAX_FOLDERS} most recently "
              "changed are watched", file=sys.stderr, flush=True)
    handled = failures = 0

    def inspect(path: Path) -> None:
        nonlocal handled, failures
        handled += 1
        try:
            record = inspector.inspect_file(args.project, path, lot=lot)
        except ImageLoadError as exc:
            failures += 1
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return
        print(record_line(record, path, args.json), flush=True)
        if args.sort_into is not None:
            _sort(path, args.sort_into / record.verdict)

    with finish_on_terminate() as stop:
        try:
            if args.since is not None:
                missed, done = inspector.split_by_history(listing.saved_since(args.since), listing.modified)
                for path, verdict in done.items() if args.sort_into is not None else ():
                    if _sort(path, args.sort_into / verdict) is not None:  # inspected, but a crash or a lock kept it
                        print(f"{path} was inspected before ({verdict}) but not sorted: moved into "
                              f"{args.sort_into / verdict}", file=sys.stderr, flush=True)
                print(f"{len(missed)} image{'s' if len(missed) != 1 else ''} saved since "
                      f"{args.since:%Y-%m-%d %H:%M} UTC and not inspected since: inspecting them first",
                      file=sys.stderr, flush=True)
                for path in missed[:args.count]:  # they count towards --count
                    if stop.is_set():
                        break
                    inspect(path)
            while (args.count is None or handled < args.count) and not stop.wait(args.interval):
                listing = list_tree(args.folder)
                ready, _ = images.judge(listing.sizes, listed_folders=listing.folders, modified=listing.modified)
                for path in ready[:None if args.count is None else args.count - handled]:
                    if stop.is_set():
                        break
                    inspect(path)
        except KeyboardInterrupt:
            pass
    print(f"stopped: {handled - failures} inspected, {failures} failed.", file=sys.stderr)
    print_warnings(workspace, args.project)
    return 1 if failures else 0


def _sort(path: Path, folder: Path) -> Path | None:
    """Move ``path`` into ``folder`` (``services.sorting.move_into``); on failure say so and leave it."""
    from services.sorting import move_into

    try:
        return move_into(path, folder)
    except OSError as exc:
        print(f"warning: {path} was inspected but not moved to {folder}: {exc.strerror or exc}", file=sys.stderr,
              flush=True)
        return None
