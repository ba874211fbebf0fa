"""New references that are the same photo as one the project already has (``engine.same_photo``), found
as they are added, so that the technician photographs another good part while still at the station."""

from __future__ import annotations

from db import repository as repo
from engine.errors import ImageLoadError
from engine.imageio import load_rgb8
from engine.same_photo import COMPARISON_SIDE, is_same_photo, photo_signature
from services.workspace import Workspace

# Decoded this small (a large JPEG by its codec), a reference costs milliseconds to compare.
SIGNATURE_SOURCE_SIDE = 4 * COMPARISON_SIDE


def repeated_photos(workspace: Workspace, project_name: str, new_keys: list[str]) -> list[tuple[str, str]]:
    """(file name of a new reference, file name of the earlier active reference it is the same photo as) for
    each of ``new_keys`` that repeats one; files that cannot be read are left out (the bank build says so)."""
    with workspace.database.read() as session:
        references = [r for r in repo.references(session, repo.get_project(session, project_name)) if r.active]
    signatures = {}
    for reference in references:
        try:
            image = load_rgb8(workspace.store.path(reference.image_key), max_side=SIGNATURE_SOURCE_SIDE)
        except (ImageLoadError, OSError):
            continue
        signatures[reference.image_key] = photo_signature(image)
    pairs = []
    for position, reference in enumerate(references):
        if reference.image_key not in new_keys or reference.image_key not in signatures:
            continue
        mine = signatures[reference.image_key]
        earlier = next((other for other in references[:position]
                        if other.image_key in signatures and is_same_photo(mine, signatures[other.image_key])), None)
        if earlier is not None:
            pairs.append((reference.file_name, earlier.file_name))
    return pairs


def repeated_photos_note(pairs: list[tuple[str, str]]) -> str | None:
    """What to tell the technician about ``repeated_photos``; None when there are none."""
    if not pairs:
        return None
    listed = "; ".join(f"{new} looks like the same photo as {earlier}" for new, earlier in pairs)
    return (f"{listed}. Each reference should be a different good part: the threshold comes from how good parts "
            "differ, and a repeated photo counts once.")
