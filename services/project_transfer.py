"""Moving a part type's set-up between workstations: one project file out, the same project in.

A project file (``.iadproject``) is a zip archive holding ``manifest.json`` (the project's name,
description, backbone and settings: inspection area, ignored areas, sensitivity, pixel size,
labelled defect types), every reference image (active or set aside) under ``references/``, and the current
reference bank with its calibration under ``bank/`` when one is built.  The history stays behind:
it belongs to the station that made it.

Import checks everything before it writes a row: the manifest's format, every listed file
(present, of the size and sha256 it states), and that the project name is free.  Files go into
the content-addressed store first and the rows follow in one transaction, so a failure leaves the
database as it was.  The bank comes along only where it would be used as it is (same engine
version and settings): a threshold refined from reviews at one station then holds at the next.
Otherwise the bank is rebuilt from the references on first use, and the result says so.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from db import repository as repo
from db.errors import StorageError, describe_os_error
from db.models import ReferenceBank as BankRow
from engine import ENGINE_VERSION
from engine.backbones import check_layers, is_clip
from engine.config import EngineConfig
from engine.errors import EngineError
from engine.imageio import is_image_file
from engine.physical import checked_pixel_size
from services.checkpoints import find_checkpoint, import_checkpoint, original_name, stored_name
from services.inspection import matching_bank_row, requested_config
from services.pixel_size import SETTING as PIXEL_SIZE_SETTING
from services.workspace import Workspace

FORMAT = "iad-inspector-project"
FORMAT_VERSION = 1
SUFFIX = ".iadproject"
# A member larger than this is refused unread (a damaged or hostile archive).
MAX_MEMBER_BYTES = 2 * 1024 ** 3


class ProjectFileError(ValueError):
    """A project file that cannot be imported; the message says why and names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"Cannot import {path}: {reason}")
        self.path = path
        self.reason = reason


class ProjectNameTakenError(ValueError):
    """The project file's project (or the name asked for) already exists here."""

    def __init__(self, name: str) -> None:
        super().__init__(f"A project named '{name}' already exists here; import it under another name.")
        self.name = name


@dataclass
class ImportResult:
    """What an import made: the project's name, its reference counts and whether the bank came along."""

    name: str
    references: int
    active_references: int
    bank_imported: bool
    note: str = ""


def export_project(workspace: Workspace, name: str, target: str | Path) -> Path:
    """Write project ``name`` to ``target`` (``.iadproject`` added when missing); returns the path.

    The archive is written beside the target and renamed into place, so a failed export (a full
    disk) never leaves a half-written file under the chosen name.
    """
    target = Path(target)
    if target.suffix.lower() != SUFFIX:
        target = target.with_name(target.name + SUFFIX)
    store = workspace.store
    with workspace.database.read() as session:
        project = repo.get_project(session, name)
        references = repo.references(session, project)
        active_keys = [r.image_key for r in references if r.active]
        bank_row = matching_bank_row(session, project, active_keys) if active_keys else None
        manifest: dict[str, Any] = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "engine_version": ENGINE_VERSION,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "exported_by": workspace.operator,
            "project": {"name": project.name, "description": project.description, "backbone": project.backbone,
                        "settings": project.settings},
            "references": [], "bank": None,
        }
        files: list[tuple[str, Path]] = []
        for reference in references:
            source = store.path(reference.image_key)
            if not source.is_file():
                raise StorageError(f"The reference image {reference.file_name} ({reference.image_key}) is missing "
                                   "from the data folder; run 'db check' and add it again before exporting.")
            member = _reference_member(reference.image_key)
            manifest["references"].append({"file": member, "file_name": reference.file_name,
                                           "active": reference.active, **_fingerprint(reference.image_key, source)})
            files.append((member, source))
        if bank_row is not None and store.exists(bank_row.bank_key):
            member = f"bank/{PurePosixPath(bank_row.bank_key).name}"
            source = store.path(bank_row.bank_key)
            manifest["bank"] = {"file": member, "engine_version": bank_row.engine_version,
                                "reference_files": [_reference_member(k) for k in bank_row.reference_keys],
                                "config": bank_row.config, "calibration": bank_row.calibration,
                                **_fingerprint(bank_row.bank_key, source)}
            files.append((member, source))
        project_id = project.id
    partial = target.with_name(target.name + ".part")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("manifest.json", json.dumps(manifest, indent=1))
            for member, source in files:
                archive.write(source, member)  # images and banks are compressed already
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise describe_os_error(exc, str(target)) from exc
    with workspace.database.write() as session:
        repo.audit(session, workspace.operator, "export", "project", project_id, {"file": str(target)})
    return target


def import_project(workspace: Workspace, source: str | Path, new_name: str | None = None,
                   checkpoint: str | Path | None = None) -> ImportResult:
    """Create a project from a project file; ``new_name`` when its own name is taken here.

    A project on a CLIP backbone needs its checkpoint, which the file does not carry: this data
    folder's copy of the same file (by its SHA-256) is used, else ``checkpoint`` when it is that
    file (it is then imported too).

    Raises ``ProjectFileError`` for a file that is not a sound project file or a CLIP checkpoint
    that is not here,
    ``ProjectNameTakenError`` when the name is taken, and ``StorageError`` when the data folder or
    database cannot be written; in each case nothing is added to the database.
    """
    source = Path(source)
    if not source.is_file():
        raise ProjectFileError(source, "it is a folder" if source.is_dir() else "no such file")
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ProjectFileError(source, f"not a project file ({exc})") from exc
    with archive:
        manifest = _manifest(archive, source)
        project_data = manifest["project"]
        name = (new_name or project_data["name"]).strip()
        with workspace.database.read() as session:
            if name in {p.name for p in repo.list_projects(session, include_archived=True)}:
                raise ProjectNameTakenError(name)
        settings = _with_local_checkpoint(workspace, project_data, checkpoint, source)
        references = [(item, _member(archive, source, item)) for item in manifest["references"]]
        bank = manifest.get("bank")
        bank_data = _member(archive, source, bank) if bank else None
    store = workspace.store  # raises StorageError (disk full, no permission) before any row is written
    keys = {item["file"]: store.put_bytes(data, "images", PurePosixPath(item["file"]).suffix)
            for item, data in references}
    bank_key = store.put_bytes(bank_data, "banks", ".bank") if bank_data is not None else None
    with workspace.database.write() as session:
        project = repo.create_project(session, name, project_data.get("description", ""),
                                      project_data.get("backbone", "efficientnet-lite0"), settings,
                                      workspace.operator)
        for item, _ in references:
            row = repo.add_reference(session, project, keys[item["file"]], item.get("file_name", ""),
                                     workspace.operator)
            if row is not None and not item.get("active", True):
                row.active = False
        session.flush()
        bank_used = False
        if bank is not None and bank_key is not None:
            bank_keys = [keys[f] for f in bank["reference_files"] if f in keys]
            config = bank.get("config") if isinstance(bank.get("config"), dict) else {}
            if (bank.get("engine_version") == ENGINE_VERSION and config.get("requested") == requested_config(project)
                    and len(bank_keys) == len(bank["reference_files"])):
                session.add(BankRow(project_id=project.id, bank_key=bank_key, reference_keys=bank_keys,
                                    engine_version=ENGINE_VERSION, config=config,
                                    calibration=bank.get("calibration") or {}))
                bank_used = True
        repo.audit(session, workspace.operator, "import", "project", project.id,
                   {"file": str(source), "from": project_data["name"], "exported_by": manifest.get("exported_by"),
                    "bank": bank_used})
    active = sum(1 for item, _ in references if item.get("active", True))
    note = ""
    if bank is not None and not bank_used:
        note = (f"The file's reference bank (engine {bank.get('engine_version', '?')}) does not fit this program "
                "or the project's settings; it is rebuilt from the references on first use, and a threshold "
                "refined at the other station must be refined again.")
    return ImportResult(name, len(references), active, bank_used, note)


def _with_local_checkpoint(workspace: Workspace, project: dict[str, Any], checkpoint: str | Path | None,
                           source: Path) -> dict[str, Any]:
    """The project's settings with its CLIP checkpoint at this data folder's copy of it."""
    settings = dict(project.get("settings", {}))
    engine = settings.get("engine", {})
    backbone = str(project.get("backbone") or "")
    if not is_clip(backbone) or not engine.get("backbone_weights"):
        return settings
    wanted = Path(str(engine["backbone_weights"])).name
    local = find_checkpoint(workspace.home, wanted)
    if local is None and checkpoint:
        if not Path(checkpoint).is_file():
            raise ProjectFileError(source, f"the checkpoint {checkpoint} is not a file")
        if stored_name(Path(checkpoint)) != wanted:
            raise ProjectFileError(source, f"{checkpoint} is not the checkpoint the project was made with "
                                           f"({original_name(wanted)}, SHA-256 starting {wanted.partition('-')[0]})")
        local = import_checkpoint(workspace.home, backbone, checkpoint, name=wanted)
    if local is None:
        raise ProjectFileError(source, f"its backbone {backbone} needs the CLIP checkpoint {original_name(wanted)}, "
                                       "which this data folder does not have; give that file with the project "
                                       "(--backbone-weights, or the CLIP checkpoint in Settings)")
    return {**settings, "engine": {**engine, "backbone_weights": str(local)}}


def _reference_member(image_key: str) -> str:
    """Where a stored reference image sits in a project file (its content-addressed name)."""
    return f"references/{PurePosixPath(image_key).name}"


def _fingerprint(key: str, path: Path) -> dict[str, Any]:
    """Size and sha256 of a stored file: the digest is the store key's name, what the content must hash to.

    A store file damaged since it was written then fails the import's check instead of travelling on.
    """
    return {"size": path.stat().st_size, "sha256": PurePosixPath(key).stem}


def _manifest(archive: zipfile.ZipFile, source: Path) -> dict[str, Any]:
    """The archive's manifest, checked for format, version and the fields import relies on."""
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError as exc:
        raise ProjectFileError(source, "it has no manifest.json") from exc
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise ProjectFileError(source, f"its manifest cannot be read ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ProjectFileError(source, "it is not an IAD Inspector project file")
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        raise ProjectFileError(source, f"it was written in format version {manifest.get('format_version')}, newer "
                               f"than this program reads ({FORMAT_VERSION}); update the program")
    project = manifest.get("project")
    if not isinstance(project, dict) or not str(project.get("name", "")).strip():
        raise ProjectFileError(source, "its manifest names no project")
    if not isinstance(project.get("settings", {}), dict) or not isinstance(manifest.get("references"), list):
        raise ProjectFileError(source, "its manifest is damaged")
    _check_settings(project, source)
    for item in manifest["references"]:
        if not isinstance(item, dict) or not is_image_file(str(item.get("file", ""))):
            raise ProjectFileError(source, f"its manifest lists a reference that is not an image ({item!r})")
    bank = manifest.get("bank")
    if bank is not None and (not isinstance(bank, dict) or not isinstance(bank.get("reference_files"), list)):
        raise ProjectFileError(source, "its manifest describes the reference bank wrongly")
    return manifest


def _check_settings(project: dict[str, Any], source: Path) -> None:
    """Refuse settings this program would fail on later: engine settings, areas, the sensitivity and pixel size."""
    settings = project.get("settings", {})
    engine = settings.get("engine", {})
    try:
        if not isinstance(engine, dict):
            raise TypeError("engine settings are not a mapping")
        backbone = str(project.get("backbone") or "efficientnet-lite0")
        config = EngineConfig.from_dict({**EngineConfig(backbone=backbone).to_dict(), **engine})
        check_layers(backbone, config.layers)
        sensitivity = float(settings.get("sensitivity", 0.5))
        if settings.get(PIXEL_SIZE_SETTING) is not None:
            checked_pixel_size(settings[PIXEL_SIZE_SETTING])
    except (TypeError, ValueError, EngineError) as exc:
        raise ProjectFileError(source, f"its settings are not valid ({exc})") from exc
    if not 0.0 <= sensitivity <= 1.0:
        raise ProjectFileError(source, f"its sensitivity {sensitivity} is not between 0 and 1")


def _member(archive: zipfile.ZipFile, source: Path, item: dict[str, Any]) -> bytes:
    """A listed file's bytes, checked against the size and sha256 the manifest gives."""
    name = str(item.get("file", ""))
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise ProjectFileError(source, f"{name} is listed but missing") from exc
    if info.file_size > MAX_MEMBER_BYTES or info.file_size != item.get("size"):
        raise ProjectFileError(source, f"{name} is not the size its manifest states")
    try:
        data = archive.read(info)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ProjectFileError(source, f"{name} is damaged ({exc})") from exc
    if hashlib.sha256(data).hexdigest() != item.get("sha256"):
        raise ProjectFileError(source, f"{name} is damaged (its checksum does not match)")
    return data
