"""The Text-Guided Enhancer: the few-shot map weighted by the part's normal and defect prompts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.bank import ReferenceBank
from engine.config import EngineConfig
from engine.errors import ModelFileError, TextGuidanceError
from engine.prompts import PromptLibrary
from engine.text_guidance import TextGuide


def _guide(weight: float, norm: torch.nn.Module | None = None) -> TextGuide:
    embeddings = torch.eye(8)[:2]  # normal along axis 0, abnormal along axis 1
    return TextGuide("t3", norm or torch.nn.Identity(), None, embeddings, weight)


def test_patches_like_the_defect_prompts_weigh_more_and_like_the_normal_ones_less():
    tokens = torch.zeros(8, 2, 3)
    tokens[0] = 1.0  # every patch reads "normal"...
    tokens[:, 1, 2] = torch.eye(8)[1]  # ...but this one reads "abnormal"
    guide = _guide(0.5)
    probability = guide.abnormal_probability(tokens)
    assert probability[1, 2] > 0.99 and probability[0, 0] < 0.01
    factor = guide.factor(tokens, (2, 3))
    assert factor[1, 2] == pytest.approx(1.5, abs=1e-3)
    assert factor[0, 0] == pytest.approx(0.5, abs=1e-3)
    assert torch.allclose(_guide(0.0).factor(tokens, (2, 3)), torch.ones(2, 3))


def test_the_layer_norm_makes_unit_normalised_tokens_read_like_raw_ones():
    generator = torch.Generator().manual_seed(1)
    raw = torch.randn(8, 4, 4, generator=generator) * 7 + 3
    guide = _guide(0.5, torch.nn.LayerNorm(8))
    unit = torch.nn.functional.normalize(raw, dim=0)
    assert torch.allclose(guide.abnormal_probability(raw), guide.abnormal_probability(unit), atol=1e-4)


@pytest.fixture
def clip_config(tiny_clip_checkpoint) -> EngineConfig:
    return EngineConfig(backbone="clip:iad-tiny-vit", backbone_weights=str(tiny_clip_checkpoint), augment="none",
                        foreground="off")


def test_a_guided_bank_weights_the_map_and_its_calibration_and_scores_the_same_when_reloaded(
        clip_config, good_parts, tmp_path):
    from engine.detector import Detector

    detector = Detector("cpu")
    plain = detector.build_bank(good_parts[:2], clip_config)
    library = PromptLibrary.load("metal disc")
    guided = detector.build_bank(good_parts[:2], replace(clip_config, text_guidance=0.5), prompts=library)
    assert plain.text_embeddings is None
    assert guided.text_embeddings.shape == (2, 32)
    generic = detector.build_bank(good_parts[:2], replace(clip_config, text_guidance=0.5))
    assert not torch.allclose(generic.text_embeddings, guided.text_embeddings)  # the part's own prompts

    image = good_parts[2]
    unweighted = detector.inspect(image, plain).processing_map
    result = detector.inspect(image, guided)
    guide = detector._text_guide(guided)
    prepared = detector.prepare(image, guided.config)
    factor = guide.factor(prepared.features[guide.layer], prepared.processing_size).numpy()
    assert not np.allclose(factor, 1.0)  # the random tower's text reading moves the map
    np.testing.assert_allclose(result.processing_map, unweighted * factor, rtol=1e-5, atol=1e-7)
    # The thresholds come from the references scored through the same weighted map.
    assert guided.calibration.image_threshold != pytest.approx(plain.calibration.image_threshold)
    assert result.normalised_score == pytest.approx(guided.calibration.normalise(result.score))

    reloaded = ReferenceBank.load(guided.save(tmp_path / "guided.bank"))
    assert torch.equal(reloaded.text_embeddings, guided.text_embeddings)
    assert Detector("cpu").inspect(image, reloaded).score == pytest.approx(result.score, rel=1e-6)


def test_text_guidance_needs_a_clip_backbone_and_a_sane_weight(detector):
    with pytest.raises(TextGuidanceError, match="only a CLIP backbone has the text tower"):
        detector.resolve_config(EngineConfig(text_guidance=0.5))
    with pytest.raises(ValueError, match="text_guidance must be a weight from 0 to 1"):
        EngineConfig(text_guidance=1.5)


def test_text_guidance_needs_the_last_block(clip_config, tiny_clip_checkpoint):
    from engine.detector import Detector

    with pytest.raises(TextGuidanceError, match="reads the last block, t3"):
        Detector("cpu").resolve_config(replace(clip_config, layers=("t1",), text_guidance=0.5))


def test_a_guided_bank_file_without_its_prompt_embeddings_is_refused(clip_config, good_parts, tmp_path):
    from engine.detector import Detector

    bank = Detector("cpu").build_bank(good_parts[:1], replace(clip_config, text_guidance=0.5))
    bank.text_embeddings = None
    with pytest.raises(ModelFileError, match="no prompt embeddings"):
        ReferenceBank.load(bank.save(tmp_path / "broken.bank"))
