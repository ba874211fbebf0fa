"""CLIP image encoders through open_clip, from a checkpoint file the user imports.

Nothing is ever downloaded: the model architecture comes from open_clip's built-in (or
user-added) configurations and the weights from a local file.  Layers are transformer blocks,
named ``"t<index>"``; their patch tokens are reshaped to (N, C, h, w) maps.  Only ViT-style
towers are supported, since the engine needs a patch grid.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from engine.backbones.base import Backbone, BackboneSpec
from engine.errors import ModelFileError, UnknownBackboneError

CLIP_PREFIX = "clip:"


def is_clip(name: str) -> bool:
    """Whether a backbone name is ``clip:<open_clip model>`` (which needs a checkpoint file)."""
    return name.startswith(CLIP_PREFIX)


def clip_spec(name: str, weights: str | None) -> BackboneSpec:
    """A spec for ``clip:<open_clip model name>``; layers and sizes are filled in on load."""
    return BackboneSpec(name=name, family="clip", variant=name[len(CLIP_PREFIX):], layers=(),
                        weights=weights, input_multiple=1)


def check_clip_model(name: str) -> None:
    """Raise ``UnknownBackboneError`` unless open_clip has a configuration for ``clip:<model>``."""
    import open_clip

    models = open_clip.list_models()
    if name[len(CLIP_PREFIX):] not in models:
        raise UnknownBackboneError(name, [], clip_models=models)


class ClipBackbone(Backbone):
    """An open_clip ViT image tower returning intermediate patch-token maps.

    ``random_init`` builds the architecture with random weights; it exists for tests, which have
    no CLIP checkpoint, and is never reachable from the GUI or CLI.
    """

    def __init__(self, spec: BackboneSpec, device: torch.device, random_init: bool = False) -> None:
        import open_clip

        check_clip_model(spec.name)
        if not random_init:
            if not spec.weights:
                raise ModelFileError(spec.name, "a CLIP backbone needs a local checkpoint file; import one first")
            if not Path(spec.weights).is_file():
                raise ModelFileError(spec.weights, "checkpoint file not found")
        try:
            model = open_clip.create_model(spec.variant, pretrained=None if random_init else spec.weights,
                                           device="cpu")
        except (RuntimeError, OSError, KeyError, ValueError, EOFError, pickle.UnpicklingError) as exc:
            if isinstance(exc, (EOFError, pickle.UnpicklingError)):  # torch's own text suggests unsafe loading
                reason = "it cannot be read as a PyTorch checkpoint"
            elif "state_dict" in str(exc):
                reason = "its weights do not fit that model's layers"
            else:
                reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise ModelFileError(spec.weights or spec.variant,
                                 f"not a checkpoint of open_clip's {spec.variant} ({reason})") from exc
        visual = model.visual
        if not hasattr(visual, "transformer"):
            raise ModelFileError(spec.weights or spec.variant, "only ViT CLIP image towers are supported")
        self.device = device
        self.dtype = torch.float16 if device.type == "cuda" else torch.float32
        self.clip = model.eval().to(device=device, dtype=self.dtype)
        self._depth = len(visual.transformer.resblocks)
        size = visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else int(size)
        patch = visual.patch_size
        patch = patch[0] if isinstance(patch, (tuple, list)) else int(patch)
        mean = tuple(getattr(visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN)
        std = tuple(getattr(visual, "image_std", None) or open_clip.OPENAI_DATASET_STD)
        layers = tuple(f"t{max(0, self._depth * q // 4 - 1)}" for q in (1, 2, 3, 4))
        strides = {f"t{i}": patch for i in range(self._depth)}
        self.spec = BackboneSpec(name=spec.name, family="clip", variant=spec.variant,
                                 layers=tuple(dict.fromkeys(layers)), strides=strides, mean=mean, std=std,
                                 input_multiple=patch, fixed_size=size, weights=spec.weights)

    def available_layers(self) -> tuple[str, ...]:
        return tuple(f"t{i}" for i in range(self._depth))

    def extract(self, batch: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        indices = [int(name[1:]) for name in layers]
        out = self.clip.visual.forward_intermediates(batch.to(self.device, self.dtype), indices=indices,
                                                     stop_early=True, intermediates_only=True,
                                                     output_fmt="NCHW")
        return dict(zip(layers, out["image_intermediates"]))
