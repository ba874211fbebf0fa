"""``main.py references ...``: a project's good reference images, its bank and how it inspects.

Sub-commands: add, list, build, calibrate, verify (master parts), area, detail, text-guidance and pixel-size.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.common import add_home_option, gather_images, open_from_args, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``references`` command group."""
    parser = commands.add_parser("references", help="add and list a project's good reference images",
                                 description="Good reference images of a project, and its reference bank.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add good images (files or folders)", description="Add good images.")
    add.add_argument("project")
    add.add_argument("inputs", nargs="+", type=Path, metavar="FILES_OR_DIRS")
    add_home_option(add)
    add.set_defaults(handler=_add)
    listing = actions.add_parser("list", help="list a project's references", description="List references.")
    listing.add_argument("project")
    add_home_option(listing)
    listing.set_defaults(handler=_list)
    build = actions.add_parser("build", help="build (or reuse) the reference bank now",
                               description="Build the reference bank from the active references, with calibration.")
    build.add_argument("project")
    build.add_argument("--device", default="auto")
    add_home_option(build)
    build.set_defaults(handler=_build)
    calibrate = actions.add_parser(
        "calibrate", help="refine the threshold from labelled samples",
        description="Refine the current bank's image threshold from a validation folder (good/ or OK/ plus defect "
                    "sub-folders) or, without --validation, from the operator reviews of the project's "
                    "inspections (those made with an earlier bank are scored again). A bank rebuilt "
                    "later applies the same rule to the same samples.")
    calibrate.add_argument("project")
    calibrate.add_argument("--validation", type=Path, help="folder with good/ (or OK/) and defect sub-folders")
    calibrate.add_argument("--mode", choices=("frr", "f1"), default="frr",
                           help="frr: target false-reject rate (default); f1: best F1 on the samples")
    calibrate.add_argument("--target-frr", type=float, default=0.01, help="target false-reject rate (default 0.01)")
    calibrate.add_argument("--device", default="auto")
    add_home_option(calibrate)
    calibrate.set_defaults(handler=_calibrate)
    verify = actions.add_parser(
        "verify", help="check the set-up with photos of master parts (known good and known defective)",
        description="Judge photos of master parts with the project's current references, calibration and "
                    "sensitivity: FOLDER holds good/ or OK/ (known-good masters) and one sub-folder per defect "
                    "(known-defective masters, red rabbits). A good master must get OK; a defective one must be "
                    "held back (NG or REVIEW). Nothing is added to the history; the run is recorded in the "
                    "audit log. Exit status 0 when every master passes, 1 when one does not.")
    verify.add_argument("project")
    verify.add_argument("folder", type=Path)
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.add_argument("--device", default="auto")
    add_home_option(verify)
    verify.set_defaults(handler=_verify)
    area = actions.add_parser(
        "area", help="limit inspection to a rectangle of the image, less ignored rectangles",
        description="Inspect only a rectangle of each image (fixtures, labels or a tray edge outside it are "
                    "ignored; the model sees only the rectangle, so a small part is seen in finer detail), given "
                    "as fractions of the image's width and height, less any --ignore rectangles (a printed date "
                    "code that differs by design); --whole inspects the whole image again. Without any of these, "
                    "shows the current setting. The bank is rebuilt on next use.")
    area.add_argument("project")
    area.add_argument("box", nargs="*", type=float, metavar="LEFT TOP RIGHT BOTTOM",
                      help="fractions 0..1, e.g. 0.1 0 0.9 1")
    area.add_argument("--ignore", nargs=4, type=float, action="append", default=[],
                      metavar=("LEFT", "TOP", "RIGHT", "BOTTOM"), help="a rectangle not to score (repeatable)")
    area.add_argument("--whole", action="store_true", help="score the whole image, nothing ignored")
    add_home_option(area)
    area.set_defaults(handler=_area)
    detail = actions.add_parser(
        "detail", help="show or set the level of detail images are inspected at",
        description="Each image (or its inspection area) is resized to about SIDE x SIDE pixels before the model: "
                    "standard 256, fine 384, finer 512, finest 768. A finer level finds smaller defects on parts "
                    "that fill the photo; time and memory per image grow with the square of the side. Without a "
                    "level, shows the current one. The bank is rebuilt on next use.")
    detail.add_argument("project")
    detail.add_argument("level", nargs="?", choices=("standard", "fine", "finer", "finest"))
    add_home_option(detail)
    detail.set_defaults(handler=_detail)
    guidance = actions.add_parser(
        "text-guidance", help="show or set whether the part's prompts weight the anomaly map (CLIP projects)",
        description="IAD-GPT's Text-Guided Enhancer: each patch's deviation from the references counts more "
                    "where CLIP finds it closer to the part's defect prompts than to its normal ones, and less "
                    "where it finds it closer to the normal ones. Needs a CLIP backbone. Without on or off, shows "
                    "the current setting. The bank is rebuilt on next use.")
    guidance.add_argument("project")
    guidance.add_argument("state", nargs="?", choices=("on", "off"))
    add_home_option(guidance)
    guidance.set_defaults(handler=_text_guidance)
    pixel = actions.add_parser(
        "pixel-size", help="show or set the millimetres one pixel spans, for sizes in millimetres",
        description="The camera set-up's pixel size: the millimetres one pixel spans on the part at the "
                    "references' resolution (a part 50 mm wide that spans 1000 px: 0.05). Inspections made "
                    "after it is set give region sizes in millimetres too, and the explainer answers in them; "
                    "'off' keeps sizes in pixels. The bank is not rebuilt. Without a value, shows the setting.")
    pixel.add_argument("project")
    pixel.add_argument("mm_per_pixel", nargs="?", metavar="MM|off",
                       help="millimetres per pixel (for example 0.05), or off")
    add_home_option(pixel)
    pixel.set_defaults(handler=_pixel_size)


@user_errors
def _add(args: argparse.Namespace) -> int:
    from services.inspection import Inspector
    from services.reference_twins import repeated_photos_note

    files = gather_images(args.inputs)
    if not files:
        from engine.imageio import no_images_reason

        print(f"error: {no_images_reason(args.inputs)}", file=sys.stderr)
        return 2
    workspace = open_from_args(args)
    result = Inspector(workspace).add_references(args.project, files)
    for path, reason in result.failed:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(f"Added {len(result.added)} reference images ({len(result.already_there)} already there, "
          f"{len(result.failed)} unreadable).")
    note = repeated_photos_note(result.same_photo)
    if note:
        print(f"warning: {note}", file=sys.stderr)
    return 1 if result.failed else 0


@user_errors
def _list(args: argparse.Namespace) -> int:
    from db import repository as repo
    from services.local_time import as_utc
    from services.reference_status import references_state

    workspace = open_from_args(args)
    with workspace.database.read() as session:
        project = repo.get_project(session, args.project)
        listed = repo.references(session, project)
        bank = references_state(session, project, listed)
        if listed:
            print(f"{'id':>5}  {'state':<8}  {'added (UTC)':<16}  {'by':<12}  {'score':>5}  file")
        for ref in listed:
            state = "active" if ref.active else "disabled"
            score = bank.scores.get(ref.image_key)
            notes = ([f"another shot of the part in {bank.same_part_as[ref.image_key]}"]
                     if ref.image_key in bank.same_part_as else [])
            if bank.outliers.get(ref.image_key):
                notes.append("unlike the others: check it is a good part")
            print(f"{ref.id:>5}  {state:<8}  {as_utc(ref.added_at):%Y-%m-%d %H:%M}  {ref.added_by:<12}  "
                  f"{'-' if score is None else f'{score:.2f}':>5}  {ref.file_name}"
                  + (f"  ({'; '.join(notes)})" if notes else ""))
        if bank.bank is not None and bank.scores:
            print(f"score: each reference held out against the others, on the scale of inspections (0.5 at the "
                  f"threshold), from the bank of {as_utc(bank.bank.created_at):%Y-%m-%d %H:%M} UTC"
                  + ("" if bank.current else ", out of date: it is rebuilt at the next inspection") + ".")
    return 0


@user_errors
def _build(args: argparse.Namespace) -> int:
    from db import repository as repo
    from engine.calibration import reference_count_advice, same_photo_advice
    from services.inspection import Inspector

    workspace = open_from_args(args)
    bank_id, bank = Inspector(workspace, device=args.device).ensure_bank(args.project)
    calibration = bank.calibration
    print(f"Bank {bank_id}: {bank.image_count} references, augmentation {bank.augmentation}, "
          f"calibration {calibration.method} from {calibration.sample_count} normal scores.")
    advice = reference_count_advice(bank.image_count, calibration.same_photo)
    if advice:
        print(advice)
    with workspace.database.read() as session:
        names = {r.image_key: r.file_name for r in repo.references(session, repo.get_project(session, args.project))}
    twins = same_photo_advice(calibration.same_photo, [names.get(key, key) for key in bank.reference_ids])
    if twins:
        print(twins)
    return 0


@user_errors
def _calibrate(args: argparse.Namespace) -> int:
    from services.inspection import Inspector

    workspace = open_from_args(args)
    report = Inspector(workspace, device=args.device).refine_calibration(
        args.project, args.mode, args.target_frr, args.validation)
    print(report.summary())
    return 0


@user_errors
def _verify(args: argparse.Namespace) -> int:
    from services.inspection import Inspector
    from services.verification import verify_with_masters

    workspace = open_from_args(args)
    run = verify_with_masters(Inspector(workspace, device=args.device), args.project, args.folder)
    if args.json:
        print(json.dumps(run.to_dict(), indent=2))
    else:
        width = max(len(r.file) for r in run.results)
        print(f"{'master':{width}}  {'should be':10} {'verdict':10} {'score':>6}  result")
        for r in run.results:
            score = "-" if r.score is None else f"{r.score:.2f}"
            should = "OK" if r.expected == "OK" else "held back"
            print(f"{r.file:{width}}  {should:10} {r.verdict:10} {score:>6}  {'pass' if r.passed else 'FAIL'}")
        print(run.summary())
    return 0 if run.passed else 1


@user_errors
def _area(args: argparse.Namespace) -> int:
    from db import repository as repo
    from engine.area import describe_area
    from services.inspection import inspection_area, set_inspection_area

    workspace = open_from_args(args)
    if args.whole and (args.box or args.ignore):
        raise ValueError("Give a rectangle and --ignore rectangles, or --whole, not both.")
    if args.whole or args.box or args.ignore:
        area, ignored = set_inspection_area(workspace, args.project, args.box or None, args.ignore)
    else:
        with workspace.database.read() as session:
            area, ignored = inspection_area(repo.get_project(session, args.project))
    print(f"Project '{args.project}' inspects {describe_area(area, ignored)}.")
    for rectangle in ignored:
        print("  ignored: left {:.3f}, top {:.3f}, right {:.3f}, bottom {:.3f}".format(*rectangle))
    return 0


@user_errors
def _detail(args: argparse.Namespace) -> int:
    from db import repository as repo
    from services.detail import DETAIL_SIDES, project_detail, set_detail

    workspace = open_from_args(args)
    if args.level:
        set_detail(workspace, args.project, args.level)
        level = args.level
    else:
        with workspace.database.read() as session:
            level = project_detail(repo.get_project(session, args.project))
    side = DETAIL_SIDES.get(level)
    size = f" (about {side} x {side} pixels)" if side else ""
    print(f"Project '{args.project}' inspects at {level} detail{size}.")
    return 0


@user_errors
def _text_guidance(args: argparse.Namespace) -> int:
    from db import repository as repo
    from services.text_guidance import project_text_guidance, set_text_guidance

    workspace = open_from_args(args)
    if args.state:
        set_text_guidance(workspace, args.project, args.state == "on")
    with workspace.database.read() as session:
        on = project_text_guidance(repo.get_project(session, args.project))
    print(f"Project '{args.project}': text guidance is {'on' if on else 'off'}.")
    return 0


@user_errors
def _pixel_size(args: argparse.Namespace) -> int:
    from db import repository as repo
    from engine.physical import PixelSizeError
    from services.pixel_size import describe_pixel_size, set_pixel_size

    workspace = open_from_args(args)
    if args.mm_per_pixel is not None:
        if args.mm_per_pixel.lower() == "off":
            value = None
        else:
            try:
                value = float(args.mm_per_pixel)
            except ValueError:
                raise PixelSizeError(f"The pixel size must be a number of millimetres (for example 0.05) or 'off', "
                                     f"not '{args.mm_per_pixel}'.") from None
        set_pixel_size(workspace, args.project, value)
    with workspace.database.read() as session:
        described = describe_pixel_size(repo.get_project(session, args.project))
    print(f"Project '{args.project}': pixel size {described}.")
    return 0
