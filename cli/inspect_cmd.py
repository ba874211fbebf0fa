"""``main.py inspect PROJECT FILES_OR_DIRS...`` and ``main.py reinspect ID...``: inspect images into the history."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli.common import (
    add_home_option,
    finish_on_terminate,
    gather_images,
    open_from_args,
    program_name,
    progress,
    user_errors,
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``inspect`` command."""
    parser = commands.add_parser(
        "inspect", help="inspect images and record them in the history",
        description="Inspect image files or folders against the project's references. Every image is recorded "
                    "in the history; images already inspected with the same bank are skipped unless --force.")
    parser.add_argument("project")
    parser.add_argument("inputs", nargs="+", type=Path, metavar="FILES_OR_DIRS")
    parser.add_argument("--json", action="store_true", help="print one JSON object per image instead of text")
    parser.add_argument("--force", action="store_true", help="inspect again images already in the history")
    parser.add_argument("--lot", default="", help="the lot, batch or order these parts belong to (for traceability)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_home_option(parser)
    parser.set_defaults(handler=run)
    again = commands.add_parser(
        "reinspect", help="inspect stored images again with their project's current references",
        description="Inspect the stored images of past inspections again with their project's current references "
                    "(after adding false rejects to them, say). Each gets a new history record; the old one stays. "
                    "An image already inspected with its project's current references is skipped: nothing "
                    "would change.")
    again.add_argument("ids", nargs="+", type=int, metavar="INSPECTION_ID")
    again.add_argument("--json", action="store_true", help="print one JSON object per inspection instead of text")
    again.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_home_option(again)
    again.set_defaults(handler=run_again)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Inspect every image; a failing image is reported and the rest go on."""
    from db.repository import checked_lot
    from engine.errors import ImageLoadError
    from services.inspection import Inspector

    lot = checked_lot(args.lot)
    files = gather_images(args.inputs)
    if not files:
        from engine.imageio import no_images_reason

        print(f"error: {no_images_reason(args.inputs)}", file=sys.stderr)
        return 2
    workspace = open_from_args(args)
    inspector = Inspector(workspace, device=args.device)
    inspector.ensure_bank(args.project)
    failures = skipped = 0
    with finish_on_terminate() as stop:
        try:
            for path in progress(files, "inspect", enabled=not args.json and sys.stderr.isatty()):
                if stop.is_set():
                    print("stopped, asked to end (SIGTERM, or its terminal closed): the inspections printed above are "
                          "saved, the rest were not inspected", file=sys.stderr)
                    return 143
                try:
                    record = inspector.inspect_file(args.project, path, force=args.force, lot=lot)
                except ImageLoadError as exc:
                    failures += 1
                    print(f"error: {exc}", file=sys.stderr)
                    continue
                skipped += record.skipped
                print(record_line(record, path, args.json), flush=True)
        except KeyboardInterrupt:
            print("interrupted: the inspections printed above are saved", file=sys.stderr)
            return 130
    print(f"{len(files) - failures} inspected ({skipped} already in the history), {failures} failed.", file=sys.stderr)
    print_warnings(workspace, args.project)
    return 1 if failures else 0


def record_line(record: Any, path: Path, as_json: bool) -> str:
    """One inspection as the commands print it: a line of text, or a JSON object."""
    if as_json:
        return json.dumps({"id": record.id, "image": str(path), "verdict": record.verdict,
                           "score": round(record.score, 4), "regions": record.facts.region_count,
                           "unlike_references": record.facts.unlike_references,
                           "compared_in_grey": record.facts.compared_in_grey,
                           "other_frame": record.facts.frame_aspects is not None,
                           "lot": record.lot, "skipped": record.skipped})
    note = "  (already inspected)" if record.skipped else ""
    if record.facts.unlike_references:
        note += "  (unlike the references as a whole: right project?)"
    if record.facts.compared_in_grey:
        note += "  (grey photo: compared with the colour references made grey)"
    if record.facts.frame_note:
        note += f"  ({record.facts.frame_note})"
    return f"{record.verdict:<6} {record.score:5.2f}  #{record.id:<6} {path}{note}"


def print_warnings(workspace: Any, project: str) -> None:
    """After inspections: a data folder short of space, and a drift of the project's scores, on stderr."""
    from db.store import low_space_warning
    from services.drift import current_drift_warning

    warning = low_space_warning(workspace.store.free_bytes())
    if warning:
        print(f"warning: {warning}; '{program_name()} db remove-images --older-than DAYS' frees space and keeps "
              "the records.", file=sys.stderr)
    drift = current_drift_warning(workspace, project)
    if drift:
        print(f"warning: {drift}", file=sys.stderr)


@user_errors
def run_again(args: argparse.Namespace) -> int:
    """Re-inspect each stored image; a missing one is reported and the rest go on."""
    from db.repository import NotFoundError
    from engine.errors import ImageLoadError
    from services.inspection import Inspector

    inspector = Inspector(open_from_args(args), device=args.device)
    failures = skipped = changed = 0
    for inspection_id in args.ids:
        try:
            before, record = inspector.reinspect(inspection_id)
        except (ImageLoadError, NotFoundError) as exc:
            failures += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        skipped += record.skipped
        changed += not record.skipped and record.verdict != before
        if args.json:
            print(json.dumps({"of": inspection_id, "id": record.id, "verdict_before": before,
                              "verdict": record.verdict, "score": round(record.score, 4),
                              "skipped": record.skipped}), flush=True)
        else:
            note = "  (already inspected with these references)" if record.skipped else ""
            print(f"#{inspection_id:<6} {before:<6} -> {record.verdict:<6} {record.score:5.2f}  #{record.id:<6} "
                  f"{record.source}{note}", flush=True)
    print(f"{len(args.ids) - failures - skipped} re-inspected ({changed} verdict(s) changed), {skipped} unchanged, "
          f"{failures} failed.", file=sys.stderr)
    return 1 if failures else 0
