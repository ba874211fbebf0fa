"""New references that are shots of a part the project already has (``engine.same_photo``): the same photo,
or the part moved between shots.  Found as they are added, so that the technician photographs another good
part while still at the station."""

from __future__ import annotations

from db import repository as repo
from engine.errors import ImageLoadError
from engine.imageio import load_rgb8
from engine.same_photo import MAX_ALIGNED_SET, PART_SIDE, is_same_part, is_same_photo, part_view, photo_signature
from services.workspace import Workspace

# Decoded this small (a large JPEG by its codec), a reference costs milliseconds to compare.
SIGNATURE_SOURCE_SIDE = 2 * PART_SIDE


def repeated_photos(workspace: Workspace, project_name: str, new_keys: list[str]) -> list[tuple[str, str]]:
    """(file name of a new reference, file name of the earlier active reference it is a shot of the same part as)
    for each of ``new_keys`` that repeats one; files that cannot be read are left out (the bank build says so).
    The moved-part test runs as the engine's does, on projects of up to ``MAX_ALIGNED_SET`` references."""
    with workspace.database.read() as session:
        references = [r for r in repo.references(session, repo.get_project(session, project_name)) if r.active]
    aligned = len(references) <= MAX_ALIGNED_SET
    signatures, views = {}, {}
    for reference in references:
        try:
            image = load_rgb8(workspace.store.path(reference.image_key), max_side=SIGNATURE_SOURCE_SIDE)
        except (ImageLoadError, OSError):
            continue
        signatures[reference.image_key] = photo_signature(image)
        if aligned:
            views[reference.image_key] = part_view(image)

    def same(first: str, second: str) -> bool:
        return is_same_photo(signatures[first], signatures[second]) or (
            aligned and is_same_part(views[first], views[second]))
    pairs = []
    for position, reference in enumerate(references):
        if reference.image_key not in new_keys or reference.image_key not in signatures:
            continue
        earlier = next((other for other in references[:position]
                        if other.image_key in signatures and same(reference.image_key, other.image_key)), None)
        if earlier is not None:
            pairs.append((reference.file_name, earlier.file_name))
    return pairs


def repeated_photos_note(pairs: list[tuple[str, str]]) -> str | None:
    """What to tell the technician about ``repeated_photos``; None when there are none."""
    if not pairs:
        return None
    listed = "; ".join(f"{new} looks like another shot of the part in {earlier}" for new, earlier in pairs)
    return (f"{listed}. Each reference should be a different good part: the threshold comes from how good parts "
            "differ, and shots of one part count once.")
