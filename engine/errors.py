"""Exceptions a user can cause, each with a message fit to show in the GUI or CLI."""

from __future__ import annotations

from pathlib import Path


class EngineError(Exception):
    """Base class of the engine's user-facing errors."""


class ImageLoadError(EngineError):
    """An image file is missing, corrupt or in a format the engine cannot read."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Cannot read image '{self.path}': {reason}")


class EmptyReferenceSetError(EngineError):
    """A reference bank was requested from no usable good images."""

    def __init__(self) -> None:
        super().__init__("No reference images: add at least one good image of the part.")


class ModelFileError(EngineError):
    """A model or bank file is missing, unreadable or of an unsupported version."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Cannot use model file '{self.path}': {reason}")


class UnknownBackboneError(EngineError):
    """A backbone name is not in the registry, or a ``clip:`` name that open_clip has no model for."""

    def __init__(self, name: str, known: list[str], clip_models: list[str] | None = None) -> None:
        self.name = name
        if clip_models is not None:
            examples = ", ".join([m for m in clip_models if m.startswith("ViT-B")][:4])
            super().__init__(f"Unknown backbone '{name}': open_clip has no model '{name.partition(':')[2]}' "
                             f"(its ViT models include {examples}).")
        else:
            super().__init__(f"Unknown backbone '{name}'. Known: {', '.join(known)}, or clip:<open_clip model>.")


class UnknownLayerError(EngineError):
    """Engine settings name feature layers the backbone does not have."""

    def __init__(self, backbone: str, unknown: list[str], available: list[str]) -> None:
        self.unknown = unknown
        super().__init__(f"The backbone '{backbone}' has no layer {', '.join(unknown)}; "
                         f"its layers are {', '.join(available)}.")


class DeviceUnavailableError(EngineError):
    """The compute device named in the settings or on the command line cannot be used here."""

    def __init__(self, device: str, reason: str) -> None:
        self.device = device
        super().__init__(f"Cannot run on device '{device}': {reason}. Choose 'auto' (a GPU when present) or 'cpu'.")


class TextGuidanceError(EngineError):
    """Text guidance was asked of a backbone or layer choice that cannot give it."""

    def __init__(self, backbone: str, reason: str) -> None:
        self.backbone = backbone
        super().__init__(f"Text guidance cannot be used with '{backbone}': {reason}.")
