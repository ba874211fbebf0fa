"""Grey and colour photos of one part type are compared like with like (``engine.greyscale``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from engine.bank import ReferenceBank
from engine.config import EngineConfig
from engine.facts import build_facts
from engine.greyscale import is_grey, to_grey
from engine.synthetic import Defect, defect_mask, synthetic_part

PIT = Defect("pit", 0.32, 0.30, size=0.08)
ORANGE = np.array([1.0, 0.55, 0.25], dtype=np.float32)
CHROMA_WORDS = ("redder", "greener", "yellower", "bluer")


def orange_part(seed: int, defects: tuple[Defect, ...] = ()) -> np.ndarray:
    """A synthetic part in a strong colour, so that a grey photo of it differs in colour."""
    return np.clip(synthetic_part(seed, defects=defects).astype(np.float32) * ORANGE, 0, 255).astype(np.uint8)


def grey_photo(image: np.ndarray) -> np.ndarray:
    """What a mono camera gives: one channel."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


@pytest.fixture(scope="module")
def colour_bank(detector):
    return detector.build_bank([orange_part(seed) for seed in range(4)], EngineConfig(augment="none"))


def test_grey_is_told_from_colour_with_rounding_allowed():
    part = orange_part(1)
    assert not is_grey(part)
    assert is_grey(grey_photo(part))
    noisy = np.repeat(grey_photo(part)[..., None], 3, axis=2).astype(np.int16)
    noisy[..., 0] += np.random.default_rng(0).integers(-1, 2, size=noisy.shape[:2], dtype=np.int16)
    assert is_grey(np.clip(noisy, 0, 255).astype(np.uint8))
    _, encoded = cv2.imencode(".jpg", np.repeat(grey_photo(part)[..., None], 3, axis=2))
    assert is_grey(cv2.imdecode(encoded, cv2.IMREAD_COLOR))  # a grey image saved as a colour JPEG
    # A colour camera's photo of a grey part: each channel with its own noise of a few levels.
    camera = np.repeat(grey_photo(part)[..., None], 3, axis=2).astype(np.int16)
    camera += np.random.default_rng(1).integers(-3, 4, size=camera.shape, dtype=np.int16)
    assert not is_grey(np.clip(camera, 0, 255).astype(np.uint8))
    made = to_grey(part.astype(np.float32) / 255)
    assert made.shape == part.shape and is_grey(made)


def test_a_grey_photo_of_a_colour_part_is_judged_against_its_references_made_grey(detector, colour_bank):
    threshold = colour_bank.calibration.image_threshold
    assert not colour_bank.config.grey_references
    good = detector.inspect(grey_photo(orange_part(200)), colour_bank)
    assert good.verdict == "OK" and good.score < threshold
    assert good.scene_distance <= colour_bank.calibration.scene_limit
    # Against the colour references themselves, the same good part is rejected.
    prepared = detector.prepare(grey_photo(orange_part(200)), colour_bank.config)
    prepared.grey = False
    assert detector.score_prepared(prepared, colour_bank).score > threshold
    defective = grey_photo(orange_part(300, defects=(PIT,)))
    bad = detector.inspect(defective, colour_bank)
    assert bad.score > threshold
    peak_y, peak_x = np.unravel_index(np.argmax(bad.anomaly_map), bad.anomaly_map.shape)
    assert defect_mask((PIT,), defective.shape[0])[peak_y, peak_x]


def test_a_grey_photo_is_marked_and_its_regions_claim_no_colour_against_a_colour_reference(detector, colour_bank):
    image = grey_photo(orange_part(301, defects=(PIT,)))
    facts = build_facts(image, detector.inspect(image, colour_bank), colour_bank)
    assert facts.compared_in_grey and facts.regions
    colour = orange_part(301, defects=(PIT,))
    assert not build_facts(colour, detector.inspect(colour, colour_bank), colour_bank).compared_in_grey
    assert not any(word in region.appearance for region in facts.regions for word in CHROMA_WORDS)


def test_colour_photos_of_a_part_whose_references_are_grey_are_made_grey(detector, tmp_path):
    bank = detector.build_bank([grey_photo(orange_part(seed)) for seed in range(4)], EngineConfig(augment="none"))
    assert bank.config.grey_references
    colour = detector.inspect(orange_part(200), bank)
    grey = detector.inspect(grey_photo(orange_part(200)), bank)
    assert colour.verdict == "OK"
    assert colour.score == pytest.approx(grey.score, rel=0.02)
    loaded = ReferenceBank.load(bank.save(tmp_path / "grey.bank"))
    assert loaded.config.grey_references
    assert detector.inspect(orange_part(200), loaded).score == pytest.approx(colour.score, rel=1e-5)


def test_a_saved_colour_bank_judges_grey_photos_as_the_fresh_one_does(detector, colour_bank, tmp_path):
    loaded = ReferenceBank.load(colour_bank.save(tmp_path / "colour.bank"))
    image = grey_photo(orange_part(202))
    assert detector.inspect(image, loaded).score == pytest.approx(detector.inspect(image, colour_bank).score,
                                                                   rel=1e-5)



def saved_as_before_the_grey_field(bank: ReferenceBank, path) -> ReferenceBank:
    """``bank`` saved, its file stripped of ``grey_references`` as older versions wrote it, and loaded."""
    bank.save(path)
    payload = torch.load(path, weights_only=True)
    del payload["config"]["grey_references"]
    torch.save(payload, path)
    return ReferenceBank.load(path)


def test_a_bank_saved_before_the_grey_field_learns_it_from_its_references(detector, colour_bank, tmp_path):
    grey_bank = detector.build_bank([grey_photo(orange_part(seed)) for seed in range(2)], EngineConfig(augment="none"))
    assert saved_as_before_the_grey_field(grey_bank, tmp_path / "grey.bank").config.grey_references
    assert not saved_as_before_the_grey_field(colour_bank, tmp_path / "colour.bank").config.grey_references


def test_a_grey_reference_among_colour_ones_is_held_out_against_them_made_grey(detector, colour_bank):
    """Leave-one-out: a mono photo among colour references would otherwise score as a large defect."""
    mixed = detector.build_bank([grey_photo(orange_part(0))] + [orange_part(seed) for seed in range(1, 4)],
                                EngineConfig(augment="none"))
    assert not mixed.config.grey_references
    grey_held, *colour_held = mixed.calibration.normal_scores
    assert grey_held < 2 * max(colour_held)
    assert mixed.calibration.image_threshold < 1.5 * colour_bank.calibration.image_threshold


def test_a_grey_photo_stays_grey_where_an_ignored_rectangle_is_filled_from_a_colour_reference(detector):
    """The filled rectangle must not make a mono photo look like colour (and so unlike its references)."""
    bank = detector.build_bank([orange_part(seed) for seed in range(4)],
                               EngineConfig(augment="none", ignored_areas=[(0.2, 0.2, 0.5, 0.5)]))
    result = detector.inspect(grey_photo(orange_part(200)), bank)
    assert result.compared_in_grey and result.verdict == "OK"
    mixed = detector.build_bank([orange_part(0), grey_photo(orange_part(1))] + [orange_part(s) for s in (2, 3)],
                                EngineConfig(augment="none", ignored_areas=[(0.2, 0.2, 0.5, 0.5)]))
    assert is_grey(mixed.thumbnails[1])  # the mono reference, filled from the colour first one
    assert mixed.calibration.image_threshold < 1.5 * bank.calibration.image_threshold


def test_the_only_colour_reference_among_grey_ones_is_held_out_made_grey(detector):
    """Held against grey references alone, a colour photo differs everywhere and would raise the threshold."""
    grey = detector.build_bank([grey_photo(orange_part(seed)) for seed in range(4)], EngineConfig(augment="none"))
    mixed = detector.build_bank([orange_part(0)] + [grey_photo(orange_part(seed)) for seed in range(1, 4)],
                                EngineConfig(augment="none"))
    colour_held, *grey_held = mixed.calibration.normal_scores
    assert colour_held < 2 * max(grey_held)
    assert mixed.calibration.image_threshold < 1.1 * grey.calibration.image_threshold


def test_the_grey_twin_made_for_the_calibration_serves_the_grey_photos(detector, monkeypatch):
    made = []
    grey_views = type(detector)._grey_views
    monkeypatch.setattr(type(detector), "_grey_views", lambda self, bank: made.append(1) or grey_views(self, bank))
    mixed = detector.build_bank([grey_photo(orange_part(0))] + [orange_part(seed) for seed in range(1, 4)],
                                EngineConfig(augment="none"))
    assert detector.inspect(grey_photo(orange_part(200)), mixed).compared_in_grey
    assert len(made) == 1
