"""Backbone interface: an image encoder that returns patch-feature maps of several layers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class BackboneSpec:
    """A named backbone configuration: what to build and how its inputs must be prepared.

    ``layers`` are the feature layers the engine uses by default; ``strides`` gives each one's
    downsampling factor.  ``mean``/``std`` are the normalisation the weights were trained with.
    ``input_multiple`` is the granularity of accepted input sizes; ``fixed_size`` is set for
    encoders with a fixed token grid (ViTs).
    """

    name: str
    family: str
    variant: str
    layers: tuple[str, ...]
    strides: dict[str, int] = field(default_factory=dict)
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    input_multiple: int = 32
    fixed_size: int | None = None
    weights: str | None = None


class Backbone(ABC):
    """A frozen feature extractor on one device."""

    spec: BackboneSpec
    device: torch.device
    dtype: torch.dtype

    @abstractmethod
    def extract(self, batch: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Feature maps (N, C, h, w) of ``layers`` for a normalised batch (N, 3, H, W)."""

    @abstractmethod
    def available_layers(self) -> tuple[str, ...]:
        """All layer names ``extract`` accepts."""
