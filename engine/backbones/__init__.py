"""Backbone registry and factory (in the manner of open_clip: named dataclass configs, one factory).

``create_backbone("efficientnet-lite0")`` gives the embedded default;
``create_backbone("clip:ViT-B-16", weights="/path/to/checkpoint.pt")`` an imported CLIP model.
"""

from __future__ import annotations

import torch

from engine.backbones.base import Backbone, BackboneSpec
from engine.backbones.clip import ClipBackbone, clip_spec, is_clip
from engine.backbones.efficientnet import EfficientNetLiteBackbone, lite_specs
from engine.errors import DeviceUnavailableError, UnknownBackboneError, UnknownLayerError

DEFAULT_BACKBONE = "efficientnet-lite0"

_REGISTRY: dict[str, BackboneSpec] = {}


def register_backbone(spec: BackboneSpec) -> None:
    """Add or replace a named backbone configuration."""
    _REGISTRY[spec.name] = spec


def list_backbones() -> list[str]:
    """Names of the registered backbones (CLIP models are added by name at load time)."""
    return sorted(_REGISTRY)


def get_spec(name: str, weights: str | None = None) -> BackboneSpec:
    """The spec registered under ``name``, or a CLIP spec for ``clip:<model>``."""
    if is_clip(name):
        return clip_spec(name, weights)
    if name not in _REGISTRY:
        raise UnknownBackboneError(name, list_backbones())
    return _REGISTRY[name]


def check_layers(name: str, layers: tuple[str, ...] | list[str], available: tuple[str, ...] | None = None) -> None:
    """Raise ``UnknownLayerError`` when ``layers`` names one the backbone ``name`` lacks.

    ``available``: the loaded backbone's layers; without it, the registered spec's (a CLIP
    model's are known only once it is loaded, and pass here).
    """
    known = tuple(available) if available is not None else tuple(get_spec(name).strides)
    unknown = [layer for layer in layers if layer not in known]
    if known and unknown:
        raise UnknownLayerError(name, unknown, list(known))


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; ``cuda`` without a usable GPU is a clear error."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        target = torch.device(device)
    except RuntimeError as exc:
        raise DeviceUnavailableError(device, "not a device name") from exc
    if target.type not in ("cpu", "cuda"):
        raise DeviceUnavailableError(device, "only the CPU and CUDA GPUs are supported")
    if target.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(device, "no CUDA GPU is available to this torch build and driver")
        if target.index is not None and target.index >= torch.cuda.device_count():
            raise DeviceUnavailableError(device, f"only {torch.cuda.device_count()} CUDA GPU(s) are present")
    return target


def create_backbone(name: str, device: str | torch.device = "auto", weights: str | None = None,
                    random_init: bool = False) -> Backbone:
    """Build the backbone ``name`` on ``device``; weights come from local files only."""
    spec = get_spec(name, weights)
    target = resolve_device(device)
    if spec.family == "clip":
        return ClipBackbone(spec, target, random_init=random_init)
    return EfficientNetLiteBackbone(spec, target)


for _spec in lite_specs():
    register_backbone(_spec)

__all__ = ["Backbone", "BackboneSpec", "DEFAULT_BACKBONE", "create_backbone", "get_spec", "is_clip",
           "list_backbones", "register_backbone", "resolve_device"]
