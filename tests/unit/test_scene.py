"""The scene check: an image unlike the references as a whole (the wrong project) is called out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.bank import ReferenceBank
from engine.explain import Conversation, conflicts
from engine.facts import build_facts
from engine.scene import SCENE_FLOOR, SCENE_FLOOR_SINGLE, SCENE_RATIO, scene_limit
from engine.synthetic import Defect, synthetic_part


def other_scene(side: int = 256) -> np.ndarray:
    """Not the disc at all: wide diagonal stripes, as another part type under another camera might be."""
    yy, xx = np.mgrid[0:side, 0:side]
    stripes = ((xx + yy) // 24 % 2).astype(np.float32)
    return (np.stack([stripes * 0.9, stripes * 0.6 + 0.2, 1 - stripes * 0.7], axis=2) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def bank(detector, good_parts):
    return detector.build_bank(good_parts)


def test_defective_part_is_the_same_scene_and_another_scene_is_not(detector, bank):
    defective = synthetic_part(41, defects=(Defect("pit", 0.3, 0.3, 0.12), Defect("scratch", 0.7, 0.6, 0.2)))
    own = build_facts(defective, detector.inspect(defective, bank), bank)
    assert own.verdict == "NG" and not own.unlike_references
    assert own.scene_distance < own.scene_limit == pytest.approx(bank.calibration.scene_limit, abs=1e-4)
    image = other_scene()
    stranger = build_facts(image, detector.inspect(image, bank), bank)
    assert stranger.unlike_references and stranger.scene_distance > 2 * stranger.scene_limit


def test_answers_warn_about_another_scene_without_contradicting_the_facts(detector, bank):
    image = other_scene()
    facts = build_facts(image, detector.inspect(image, bank), bank)
    conversation = Conversation(facts)
    for question in ("Is there any anomaly?", "How sure are you?", "Why?", "Compare it with the reference.",
                     "Summarise for the report."):
        answer = conversation.ask(question)
        assert "looks unlike the project's references" in answer.text
        assert conflicts(answer.text, facts) == [], (question, answer.text)


def test_limit_rule_and_its_single_reference_fallback(detector, good_parts):
    single = detector.build_bank(good_parts[:1])
    assert single.calibration.scene_limit == SCENE_FLOOR_SINGLE
    identical = torch.from_numpy(np.tile(np.eye(1, 8, dtype=np.float32), (3, 1)))
    assert scene_limit(identical) == SCENE_FLOOR  # no spread between the references: the floor holds
    # Leave-one-out distances 0.2, 0.04 and 0.04: the widest one, 0.2, times the ratio.
    spread = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.8, 0.6]])
    assert scene_limit(spread) == pytest.approx(SCENE_RATIO * 0.2, abs=1e-6)


def test_descriptors_travel_with_the_bank_file_and_old_banks_skip_the_check(detector, bank, tmp_path):
    loaded = ReferenceBank.load(bank.save(tmp_path / "b.bank"))
    assert loaded.calibration.scene_limit == bank.calibration.scene_limit
    image = synthetic_part(42)
    assert detector.inspect(image, loaded).scene_distance == pytest.approx(detector.inspect(image, bank).scene_distance)
    loaded.scene_descriptors = None
    result = detector.inspect(image, loaded)
    assert result.scene_distance is None and not build_facts(image, result, loaded).unlike_references
