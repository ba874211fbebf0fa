"""``main.py project ...``: inspection projects, one per part type (create, list, show, rename, archive,
restore, export, import, a CLIP project's prompts, and its score-drift check)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cli.common import add_home_option, open_from_args, program_name, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``project`` command group."""
    parser = commands.add_parser("project", help="create, list and show inspection projects",
                                 description="Inspection projects: one per part type.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a project", description="Create a project.")
    create.add_argument("name")
    create.add_argument("--description", default="")
    create.add_argument("--backbone", default="efficientnet-lite0",
                        help="efficientnet-lite0 (default), -lite1, -lite2, or clip:<open_clip model> "
                             "with --backbone-weights")
    create.add_argument("--backbone-weights", type=Path, metavar="CHECKPOINT",
                        help="an open_clip checkpoint file for a clip: backbone; it is checked and copied into the "
                             "data folder")
    create.add_argument("--sensitivity", type=float, default=0.5, help="0..1, default 0.5 (higher flags more)")
    add_home_option(create)
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list projects", description="List projects.")
    listing.add_argument("--all", action="store_true", help="include archived projects")
    add_home_option(listing)
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="show one project", description="Show a project's details.")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print JSON")
    add_home_option(show)
    show.set_defaults(handler=_show)
    rename = actions.add_parser("rename", help="rename a project", description="Rename a project.")
    rename.add_argument("name")
    rename.add_argument("new_name")
    add_home_option(rename)
    rename.set_defaults(handler=_rename)
    for action, text in (("archive", "hide a project from the lists; its references and history stay"),
                         ("restore", "bring an archived project back")):
        sub = actions.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        sub.add_argument("name")
        add_home_option(sub)
        sub.set_defaults(handler=_archive, archive=action == "archive")
    export = actions.add_parser(
        "export", help="write a project's set-up to one file, for another workstation",
        description="Write a project's references, settings and current reference bank (with its calibration) "
                    "to one .iadproject file. The history stays here.")
    export.add_argument("name")
    export.add_argument("file", type=Path, help="the project file to write (.iadproject is added when missing)")
    add_home_option(export)
    export.set_defaults(handler=_export)
    load = actions.add_parser("import", help="create a project from a project file",
                              description="Create a project from a .iadproject file written by 'project export'.")
    load.add_argument("file", type=Path)
    load.add_argument("--name", help="the new project's name, when the file's is taken here")
    load.add_argument("--backbone-weights", type=Path, metavar="CHECKPOINT",
                      help="for a project on a clip: backbone: its checkpoint file, when this data folder lacks it")
    add_home_option(load)
    load.set_defaults(handler=_import)
    prompts = actions.add_parser(
        "prompts", help="show, or have the local language model write, a CLIP project's defect prompts",
        description="Show the prompts that type a CLIP project's defect regions: the curated library for its part, "
                    "plus those the local language model wrote for it. --write has the model write them again "
                    "(about a minute with the embedded model); only prompts that name the part and their "
                    "defect type are kept.")
    prompts.add_argument("name")
    prompts.add_argument("--write", action="store_true", help="have the language model write prompts for the part")
    prompts.add_argument("--model", type=Path, help="local HF model folder or .gguf file (default: embedded SmolLM2)")
    add_home_option(prompts)
    prompts.set_defaults(handler=_prompts)
    drift = actions.add_parser(
        "drift", help="show the score-drift check of a project, or set its window",
        description="Show what the score-drift check found: the raw scores of the latest parts inspected with the "
                    "current references against those of the first ones. --window sets how many parts each side "
                    "holds (default 20): smaller answers sooner on a slow line, larger sees a slower drift.")
    drift.add_argument("name")
    drift.add_argument("--window", type=int, help="parts per window, 10 to 500")
    add_home_option(drift)
    drift.set_defaults(handler=_drift)


@user_errors
def _create(args: argparse.Namespace) -> int:
    from services.projects import create_project

    if not 0.0 <= args.sensitivity <= 1.0:
        raise ValueError("sensitivity must be between 0 and 1")
    workspace = open_from_args(args)
    name = create_project(workspace, args.name, args.description, args.backbone, args.backbone_weights,
                          {"sensitivity": args.sensitivity})
    print(f"Created project '{name}' ({args.backbone}).")
    return 0


@user_errors
def _list(args: argparse.Namespace) -> int:
    from db import repository as repo

    workspace = open_from_args(args)
    with workspace.database.read() as session:
        projects = repo.list_projects(session, include_archived=args.all)
        if not projects:
            print(f"No projects yet. Create one with: {program_name()} project create NAME")
        for project in projects:
            count = repo.history_count(session, repo.HistoryFilter(project_id=project.id))
            refs = len(repo.references(session, project, active_only=True))
            archived = " (archived)" if project.archived_at else ""
            print(f"{project.id:>4}  {project.name}{archived}  references: {refs}  inspections: {count}")
    return 0


@user_errors
def _show(args: argparse.Namespace) -> int:
    from db import repository as repo
    from engine.backbones import is_clip
    from services.drift import current_drift_warning
    from services.local_time import as_utc
    from services.part_prompts import describe_prompts
    from services.pixel_size import describe_pixel_size
    from services.verification import describe_last, last_verification

    workspace = open_from_args(args)
    with workspace.database.read() as session:
        project = repo.get_project(session, args.name)
        bank = repo.latest_bank(session, project)
        info = {
            "id": project.id, "name": project.name, "description": project.description, "backbone": project.backbone,
            "settings": project.settings, "created": as_utc(project.created_at).isoformat(),
            "references": len(repo.references(session, project, active_only=True)),
            "inspections": repo.history_count(session, repo.HistoryFilter(project_id=project.id)),
            "bank": None if bank is None else {"id": bank.id, "created": as_utc(bank.created_at).isoformat(),
                                               "references": len(bank.reference_keys),
                                               "calibration": bank.calibration.get("method")},
        }
        if is_clip(project.backbone):
            info["defect_prompts"] = describe_prompts(project)
        info["pixel_size"] = describe_pixel_size(project)
        run = last_verification(session, project)
        info["verification"] = describe_last(run) if not args.json else run
    info["score_drift"] = current_drift_warning(workspace, args.name)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:>12}: {value}")
    return 0


def _change(args: argparse.Namespace, **changes: Any) -> str:
    """Apply ``changes`` to the project named in ``args`` (audited); its name afterwards."""
    from db import repository as repo

    workspace = open_from_args(args)
    with workspace.database.write() as session:
        project = repo.get_project(session, args.name)
        repo.update_project(session, project, workspace.operator, **changes)
        return project.name


@user_errors
def _rename(args: argparse.Namespace) -> int:
    print(f"Renamed project '{args.name}' to '{_change(args, name=args.new_name)}'.")
    return 0


@user_errors
def _archive(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    name = _change(args, archived_at=datetime.now(UTC) if args.archive else None)
    print(f"{'Archived' if args.archive else 'Restored'} project '{name}'.")
    return 0


@user_errors
def _export(args: argparse.Namespace) -> int:
    from services.project_transfer import export_project

    written = export_project(open_from_args(args), args.name, args.file)
    print(f"Exported project '{args.name}' to {written}.")
    return 0


@user_errors
def _import(args: argparse.Namespace) -> int:
    from services.project_transfer import import_project

    result = import_project(open_from_args(args), args.file, args.name, args.backbone_weights)
    bank = "with its reference bank and calibration" if result.bank_imported else "without a reference bank"
    print(f"Imported project '{result.name}': {result.references} reference images ({result.active_references} "
          f"active), {bank}.")
    if result.note:
        print(result.note)
    return 0


@user_errors
def _prompts(args: argparse.Namespace) -> int:
    import sys

    from db import repository as repo
    from engine.backbones import is_clip
    from services.part_prompts import describe_prompts, project_prompt_library, written_prompts

    workspace = open_from_args(args)
    if args.write:
        from services.chat import llm_cache_dir, load_llm
        from services.part_prompts import prompt_project, write_project_prompts

        prompt_project(workspace, args.name)  # a project that cannot have them fails before the model loads
        llm, unavailable = load_llm(args.model, cache_dir=llm_cache_dir(workspace))
        if llm is None:
            raise ValueError(f"No language model to write prompts with: {unavailable}")

        def report(done: int, total: int) -> None:
            print(f"\rwriting prompts: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)

        written = write_project_prompts(workspace, args.name, llm, progress=report)
        print(f"{llm.name} wrote {written.kept} usable prompts; {written.refused} answers were refused.")
    with workspace.database.read() as session:
        project = repo.get_project(session, args.name)
        library, written, summary = project_prompt_library(project), written_prompts(project), describe_prompts(project)
        backbone = project.backbone
    mine = set() if written is None else set(written.all_prompts())
    print(f"Prompts of '{args.name}': {summary}")
    if not is_clip(backbone):
        print(f"(They type defects only on a clip: backbone; this project uses {backbone}.)")
    for kind, texts in [("normal", library.normal), *library.defects.items()]:
        print(f"{kind}:")
        for text in texts:
            print(f"  {'[written] ' if text in mine else ''}{text}")
    return 0


@user_errors
def _drift(args: argparse.Namespace) -> int:
    from db import repository as repo
    from services.drift import describe_drift, drift_window, project_drift, set_drift_window
    from services.results import project_sensitivity

    workspace = open_from_args(args)
    if args.window is not None:
        set_drift_window(workspace, args.name, args.window)
    with workspace.database.read() as session:
        project = repo.get_project(session, args.name)
        window = drift_window(project)
        found = project_drift(session, project)
        finding = (describe_drift(found[0], found[1], project_sensitivity(project)) if found else
                   f"Not checked yet: the check needs {2 * window} parts inspected with the current references.")
    print(f"Score drift, windows of {window} parts: {finding}")
    return 0
