"""``main.py inspect PROJECT FILES_OR_DIRS...``: inspect images into the history."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.common import add_home_option, gather_images, open_from_args, progress, user_errors


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
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_home_option(parser)
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Inspect every image; a failing image is reported and the rest go on."""
    from engine.errors import ImageLoadError
    from services.inspection import Inspector

    files = gather_images(args.inputs)
    if not files:
        print("error: no image files found", file=sys.stderr)
        return 2
    workspace = open_from_args(args)
    inspector = Inspector(workspace, device=args.device)
    inspector.ensure_bank(args.project)
    failures = skipped = 0
    try:
        for path in progress(files, "inspect", enabled=not args.json and sys.stderr.isatty()):
            try:
                record = inspector.inspect_file(args.project, path, force=args.force)
            except ImageLoadError as exc:
                failures += 1
                print(f"error: {exc}", file=sys.stderr)
                continue
            skipped += record.skipped
            if args.json:
                print(json.dumps({"id": record.id, "image": str(path), "verdict": record.verdict,
                                  "score": round(record.score, 4), "regions": record.facts.region_count,
                                  "unlike_references": record.facts.unlike_references,
                                  "skipped": record.skipped}), flush=True)
            else:
                note = "  (already inspected)" if record.skipped else ""
                if record.facts.unlike_references:
                    note += "  (unlike the references as a whole: right project?)"
                print(f"{record.verdict:<6} {record.score:5.2f}  #{record.id:<6} {path}{note}", flush=True)
    except KeyboardInterrupt:
        print("interrupted: the inspections printed above are saved", file=sys.stderr)
        return 130
    print(f"{len(files) - failures} inspected ({skipped} already in the history), {failures} failed.", file=sys.stderr)
    return 1 if failures else 0
