"""The engine configuration that travels with every reference bank.

Everything needed to reproduce a score is here: backbone, layers, input size, normalisation,
pooling, augmentations and post-processing.  A bank file stores it, so the benchmark, the CLI
and the GUI score an image through the same path and get the same number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from engine.area import Area, check_something_is_scored, checked_area, checked_ignored, is_whole_image, relative_to_area

AUGMENT_MODES = ("none", "flips", "rotations", "auto")
# Processing sizes the engine accepts: below 64 px a layer has too few cells; above 2048 px one
# image's features and search would take gigabytes.
MIN_INPUT_SIDE, MAX_INPUT_SIDE = 64, 2048
FOREGROUND_MODES = ("off", "on", "auto")


@dataclass(frozen=True)
class EngineConfig:
    """Preprocessing, feature and scoring settings.

    ``input_side``: the references are resized so that their median area is about
    ``input_side``² pixels, aspect kept; the resulting ``scale`` is stored and every image of
    the part type is then processed at that same scale, so a texture keeps its grain size
    whatever the crop size (sides rounded to the backbone's input multiple).  ``reference_frame``:
    the references' common size, when they share one; an image of that aspect ratio but another
    size is the same view at another resolution and is resized to the references' frame instead.
    A backbone with a fixed input size overrides both.  ``augment``: extra reference views for parts that appear
    in any orientation.  The default, four 90-degree rotations, helped the parts that lie at any
    angle and cost no accuracy on the aligned ones in the benchmark; ``auto`` decides from the
    references' leave-one-out scores instead.  ``foreground``: score
    only the part, not a plain background around it (``auto`` decides from the references).  A
    built bank stores the resolved values, never ``auto``.  ``inspection_area``: the rectangle
    that is inspected (``engine.area``; each image is cropped to it before the model); None
    inspects the whole image.  ``ignored_areas``: rectangles inside it that are not scored (a
    printed date code).  ``grey_references``: every reference was grey, so colour images are made
    grey before the model (``engine.greyscale``); set when a bank is built.  ``text_guidance``: the
    weight (0 to 1) of the Text-Guided Enhancer (``engine.text_guidance``, CLIP backbones only); 0 is off.
    ``augmented_search_share``: the share of each layer's patches, those farthest from the references
    as taken, that are searched against the augmented views as well (``engine.scoring.searched_distance``);
    1 searches every patch against every view, as banks saved before this setting did.
    """

    backbone: str = "efficientnet-lite0"
    backbone_weights: str | None = None
    layers: tuple[str, ...] = ()
    input_side: int = 256
    scale: float | None = None
    scale_from_references: bool = True
    reference_frame: tuple[int, int] | None = None
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    input_multiple: int = 32
    fixed_size: int | None = None
    pooling: int = 3
    augment: str = "rotations"
    rotation_steps: int = 4
    foreground: str = "auto"
    smoothing_sigma: float = 4.0
    top_fraction: float = 0.01
    chunk_size: int = 2048
    inspection_area: Area | None = None
    ignored_areas: tuple[Area, ...] = ()
    grey_references: bool = False
    text_guidance: float = 0.0
    augmented_search_share: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.input_side, bool) or not isinstance(self.input_side, int) \
                or not MIN_INPUT_SIDE <= self.input_side <= MAX_INPUT_SIDE:
            raise ValueError(f"input_side must be a whole number of pixels from {MIN_INPUT_SIDE} to "
                             f"{MAX_INPUT_SIDE}, not {self.input_side!r}")
        if isinstance(self.text_guidance, bool) or not isinstance(self.text_guidance, (int, float)) \
                or not 0.0 <= self.text_guidance <= 1.0:
            raise ValueError(f"text_guidance must be a weight from 0 to 1, not {self.text_guidance!r}")
        if isinstance(self.augmented_search_share, bool) or not isinstance(self.augmented_search_share, (int, float)) \
                or not 0.0 < self.augmented_search_share <= 1.0:
            raise ValueError("augmented_search_share must be a share above 0 and at most 1, "
                             f"not {self.augmented_search_share!r}")
        area = None if self.inspection_area is None else checked_area(self.inspection_area)
        object.__setattr__(self, "inspection_area", None if is_whole_image(area) else area)
        object.__setattr__(self, "ignored_areas", checked_ignored(self.ignored_areas))
        check_something_is_scored(self.inspection_area, self.ignored_areas)

    def inside_area(self) -> EngineConfig:
        """This config as it applies to an image already cropped to the inspection area: no area,
        and the ignored rectangles as fractions of the area.  Scoring and calibration see crops."""
        if self.inspection_area is None:
            return self
        return replace(self, inspection_area=None,
                       ignored_areas=relative_to_area(self.ignored_areas, self.inspection_area))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for saving in a bank file or JSON."""
        data = asdict(self)
        data["layers"] = list(self.layers)
        data["mean"] = list(self.mean)
        data["std"] = list(self.std)
        data["reference_frame"] = list(self.reference_frame) if self.reference_frame else None
        data["inspection_area"] = list(self.inspection_area) if self.inspection_area else None
        data["ignored_areas"] = [list(rectangle) for rectangle in self.ignored_areas]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        """Inverse of ``to_dict``; unknown keys from newer versions are ignored."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs.setdefault("augmented_search_share", 1.0)  # saved before the two-step search: keep its scores
        for key in ("layers", "mean", "std", "reference_frame"):
            if kwargs.get(key) is not None:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)
