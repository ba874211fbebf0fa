"""The engine configuration that travels with every reference bank.

Everything needed to reproduce a score is here: backbone, layers, input size, normalisation,
pooling, augmentations and post-processing.  A bank file stores it, so the benchmark, the CLI
and the GUI score an image through the same path and get the same number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

AUGMENT_MODES = ("none", "flips", "rotations", "auto")


@dataclass(frozen=True)
class EngineConfig:
    """Preprocessing, feature and scoring settings.

    ``input_side``: images are resized so that their area is about ``input_side``² pixels with
    the aspect ratio kept (sides rounded to the backbone's input multiple); a backbone with a
    fixed input size overrides this.  ``augment``: extra reference views for parts that appear
    in any orientation; ``auto`` decides from the references themselves.
    """

    backbone: str = "efficientnet-lite0"
    backbone_weights: str | None = None
    layers: tuple[str, ...] = ()
    input_side: int = 256
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    input_multiple: int = 32
    fixed_size: int | None = None
    pooling: int = 3
    augment: str = "auto"
    rotation_steps: int = 8
    smoothing_sigma: float = 4.0
    top_fraction: float = 0.01
    chunk_size: int = 16384
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for saving in a bank file or JSON."""
        data = asdict(self)
        data["layers"] = list(self.layers)
        data["mean"] = list(self.mean)
        data["std"] = list(self.std)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        """Inverse of ``to_dict``; unknown keys from newer versions are ignored."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("layers", "mean", "std"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)
