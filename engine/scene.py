"""Does an image show the same kind of scene as the references?  A guard against the wrong project.

Inspecting with the wrong project (another part type, another camera set-up) gives a high score
and defect regions everywhere, which read like a real defect.  This check says so instead.

The scene descriptor of an image is the mean of its coarsest layer's unit patch features,
normalised: what the image shows as a whole, insensitive to where a local defect sits.  Its
cosine distance to the nearest reference's descriptor is compared with a limit set from the
references alone:

    limit = max(SCENE_RATIO * level, SCENE_FLOOR)        (k >= 2)
    limit = SCENE_FLOOR_SINGLE                           (k = 1, no spread to measure)

where ``level`` is the largest leave-one-out distance among the references (how much good parts
of this type differ as wholes).  Measured on the six dev packs (4 references, seed 0): every test
image of a pack, good or defective, stayed within 0.26 of its own references (a broken bottle
0.10, an uneven magnetic tile 0.26), and the images of the other packs lay at 0.29 or more; with
the rule above no test image of its own pack was flagged and every image of another pack was.
The check is a warning: the verdict stays what the score says.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SCENE_RATIO = 2.5
SCENE_FLOOR = 0.2
SCENE_FLOOR_SINGLE = 0.3


def scene_descriptor(features: torch.Tensor) -> torch.Tensor:
    """Unit descriptor (C,) of one image's unit patch features (C, h, w) of the coarsest layer."""
    return F.normalize(features.float().mean(dim=(1, 2)), dim=0)


def scene_distance(descriptor: torch.Tensor, references: torch.Tensor) -> float:
    """Cosine distance of a descriptor (C,) to the nearest of the reference descriptors (k, C)."""
    return float(1.0 - (references.to(descriptor.device, descriptor.dtype) @ descriptor).max())


def scene_limit(references: torch.Tensor) -> float:
    """The largest distance at which an image still shows the references' scene (module rule)."""
    count = int(references.shape[0])
    if count < 2:
        return SCENE_FLOOR_SINGLE
    level = max(scene_distance(references[i], torch.cat([references[:i], references[i + 1:]]))
                for i in range(count))
    return max(SCENE_RATIO * level, SCENE_FLOOR)
