"""CLIP checkpoints that projects use, kept in the data folder.

No CLIP weights install with the program, so a technician who has an open_clip checkpoint file
imports it: it is loaded once into its model to prove it fits (a clear error otherwise, and
nothing is copied), then copied into ``<data folder>/models/clip/`` under a name that starts
with its SHA-256, so the project keeps working when the original file moves, and the same file
is recognised on another workstation when a project is imported there.  The engine is told the
copy's path through the project's engine settings (``backbone_weights``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from db.store import file_blocks, sha256_file, write_atomic
from engine.backbones import create_backbone, get_spec, is_clip
from engine.backbones.clip import check_clip_model

CHECKPOINT_FOLDER = Path("models") / "clip"
DIGEST_CHARS = 16


def check_backbone(backbone: str, checkpoint: str | Path | None) -> None:
    """Raise a clear error for a backbone name this program does not know, a CLIP backbone without a
    checkpoint, or a checkpoint given for a backbone that has its weights built in."""
    if is_clip(backbone):
        check_clip_model(backbone)
        if not checkpoint:
            raise ValueError(f"The backbone {backbone} needs an open_clip checkpoint file (--backbone-weights); "
                             "no CLIP weights come with the program.")
    else:
        get_spec(backbone)
        if checkpoint:
            raise ValueError(f"{backbone} has its weights built in; a checkpoint file is only for clip: backbones.")


def stored_name(checkpoint: Path) -> str:
    """The checkpoint's name in the data folder: the start of its SHA-256, then its own file name."""
    return f"{sha256_file(checkpoint)[:DIGEST_CHARS]}-{checkpoint.name}"


def import_checkpoint(home: Path, backbone: str, checkpoint: str | Path, name: str | None = None) -> Path:
    """Check that ``checkpoint`` loads into ``backbone``'s model, then copy it into the data folder
    (once: an identical file already there is reused); returns the copy's path.  ``name``: its
    ``stored_name``, when the caller has hashed the file already.

    A file that is missing, not a checkpoint, or of another model raises ``ModelFileError``; a
    full disk raises ``StorageError``.  Either way nothing is left in the data folder.
    """
    source = Path(checkpoint)
    check_backbone(backbone, source)
    create_backbone(backbone, "cpu", weights=str(source))  # proves it fits before anything is copied
    target = home / CHECKPOINT_FOLDER / (name or stored_name(source))
    if not (target.is_file() and target.stat().st_size == source.stat().st_size):
        write_atomic(target, file_blocks(source))
    return target


def original_name(stored: str | Path) -> str:
    """A stored checkpoint's own file name, without the SHA-256 in front."""
    name = Path(stored).name
    return name.partition("-")[2] or name


def checkpoint_label(engine_settings: dict[str, Any]) -> str:
    """The words ' (checkpoint <its own file name>)' for engine settings that name one, else ''."""
    stored = engine_settings.get("backbone_weights")
    return f" (checkpoint {original_name(stored)})" if stored else ""


def find_checkpoint(home: Path, stored: str) -> Path | None:
    """The data folder's copy of a checkpoint stored elsewhere under the name ``stored``, if it has one."""
    candidate = home / CHECKPOINT_FOLDER / Path(stored).name
    return candidate if candidate.is_file() else None


def with_local_checkpoint(home: Path, engine_settings: dict[str, Any]) -> dict[str, Any]:
    """Engine settings whose checkpoint path, when that file is gone, points at this data folder's copy.

    Projects store the copy's absolute path; a data folder that was moved, or a backup opened as the
    data folder, has the same file under its own ``models/clip/``.
    """
    stored = engine_settings.get("backbone_weights")
    if not stored or Path(stored).is_file():
        return engine_settings
    local = find_checkpoint(home, stored)
    return {**engine_settings, "backbone_weights": str(local)} if local is not None else engine_settings
