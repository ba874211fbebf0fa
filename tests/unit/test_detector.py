"""The few-shot detector on synthetic parts: localisation, ranking, bank persistence, errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.bank import ReferenceBank
from engine.config import EngineConfig
from engine.errors import EmptyReferenceSetError, ModelFileError, UnknownLayerError
from engine.synthetic import Defect, defect_mask, synthetic_part

PIT = Defect("pit", 0.32, 0.30, size=0.08)


@pytest.fixture(scope="module")
def bank(detector, good_parts):
    return detector.build_bank(good_parts, EngineConfig(augment="none"))


def test_map_peaks_inside_the_drawn_defect(detector, bank):
    image = synthetic_part(101, defects=(PIT,))
    result = detector.inspect(image, bank)
    assert result.anomaly_map.shape == image.shape[:2]
    peak_y, peak_x = np.unravel_index(np.argmax(result.anomaly_map), result.anomaly_map.shape)
    assert defect_mask((PIT,), image.shape[0])[peak_y, peak_x]


def test_defective_part_scores_higher_than_good_parts(detector, bank):
    good = [detector.inspect(synthetic_part(seed), bank).score for seed in (200, 201, 202)]
    bad = [detector.inspect(synthetic_part(300 + i, defects=(d,)), bank).score
           for i, d in enumerate([PIT, Defect("scratch", 0.7, 0.65, 0.1)])]
    assert min(bad) > max(good)


def test_map_is_at_original_resolution_for_any_size(detector, bank):
    image = synthetic_part(5, side=300)[:, :220]
    result = detector.inspect(image, bank)
    assert result.anomaly_map.shape == (300, 220)
    assert np.isfinite(result.anomaly_map).all()


def test_same_view_at_another_resolution_is_processed_like_the_references(detector, bank):
    """A camera set to another resolution must not make every good part look new."""
    assert bank.config.reference_frame == (256, 256)
    normal = detector.inspect(synthetic_part(200), bank)
    finer = detector.inspect(synthetic_part(200, side=384), bank)
    assert finer.processing_size == normal.processing_size == (256, 256)
    assert finer.anomaly_map.shape == (384, 384)
    assert finer.verdict == "OK"
    at_pixel_scale = replace(bank, config=replace(bank.config, reference_frame=None))
    magnified = detector.inspect(synthetic_part(200, side=384), at_pixel_scale)
    assert magnified.processing_size == (384, 384) and magnified.verdict == "NG"


def test_crops_of_varying_size_keep_their_pixel_scale(detector, good_parts):
    """Texture crops of different sizes (magnetic tiles) share a pixel scale, not a frame."""
    crops = [part[: 256 - 16 * i] for i, part in enumerate(good_parts)]
    crop_bank = detector.build_bank(crops, EngineConfig(augment="none"))
    assert crop_bank.config.reference_frame is None
    larger = detector.inspect(synthetic_part(9, side=384), crop_bank)
    assert larger.processing_size[0] > 300


def test_saved_and_loaded_bank_gives_identical_scores(detector, bank, tmp_path):
    path = bank.save(tmp_path / "banks" / "part.bank")
    loaded = ReferenceBank.load(path)
    assert loaded.config == bank.config
    assert loaded.reference_ids == bank.reference_ids
    image = synthetic_part(55, defects=(PIT,))
    before = detector.inspect(image, bank)
    after = detector.inspect(image, loaded)
    assert after.score == before.score
    assert np.array_equal(after.anomaly_map, before.anomaly_map)


def test_bank_file_carries_preprocessing(detector, bank, tmp_path):
    loaded = ReferenceBank.load(bank.save(tmp_path / "b.bank"))
    assert loaded.config.backbone == "efficientnet-lite0"
    assert loaded.config.layers == bank.config.layers and loaded.config.layers
    assert loaded.config.mean == (0.5, 0.5, 0.5) and loaded.config.input_side == 256
    assert loaded.augmentation == "none"


def test_rotation_augmentation_makes_rotated_parts_normal(detector):
    line = synthetic_part(3)
    line[100:110, 40:216] = (40, 40, 40)  # an oriented feature that good parts all have
    bank_plain = detector.build_bank([line], EngineConfig(augment="none"))
    bank_rot = detector.build_bank([line], EngineConfig(augment="rotations"))
    assert bank_rot.augmentation == "rotations"
    assert bank_rot.patch_count() == bank_rot.config.rotation_steps * bank_plain.patch_count()
    turned = np.ascontiguousarray(np.rot90(line))
    assert detector.inspect(turned, bank_rot).score < detector.inspect(turned, bank_plain).score


def test_empty_reference_set_is_refused(detector):
    with pytest.raises(EmptyReferenceSetError):
        detector.build_bank([])


def test_a_layer_the_backbone_lacks_is_refused_by_name(detector, good_parts):
    with pytest.raises(UnknownLayerError, match="no layer s9; its layers are s1, s2"):
        detector.build_bank(good_parts[:1], EngineConfig(layers=("s3", "s9")))


def test_corrupt_or_missing_bank_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        ReferenceBank.load(tmp_path / "none.bank")
    broken = tmp_path / "broken.bank"
    broken.write_bytes(b"not a bank")
    with pytest.raises(ModelFileError):
        ReferenceBank.load(broken)


def test_build_bank_reports_progress_and_can_be_cancelled(detector, good_parts):
    from engine.detector import Cancelled

    seen = []
    detector.build_bank(good_parts[:2], EngineConfig(augment="none"), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]  # two extracted, then two held out for the threshold
    with pytest.raises(Cancelled):
        detector.build_bank(good_parts, EngineConfig(augment="none"), cancel=lambda: True)


def test_a_large_reference_set_holds_out_only_some_spread_over_it(detector, good_parts, monkeypatch):
    import engine.detector
    from engine.detector import held_out_indices

    assert held_out_indices(5) == [0, 1, 2, 3, 4]
    spread = held_out_indices(40)
    assert len(spread) == engine.detector.MAX_HELD_OUT and spread[0] == 0 and spread[-1] == 39
    assert max(b - a for a, b in zip(spread, spread[1:], strict=False)) <= 3
    monkeypatch.setattr(engine.detector, "MAX_HELD_OUT", 2)
    seen = []
    bank = detector.build_bank(good_parts, EngineConfig(augment="none"), progress=lambda d, t: seen.append((d, t)))
    assert len(bank.calibration.normal_scores) == 2 and len(bank.calibration.view_scores) == 2
    assert bank.calibration.held_out == (0, 3) and bank.calibration.scored_references(4) == [0, 3]
    assert seen[-1] == (6, 6) and len(bank.reference_ids) == 4  # every reference is in the bank all the same


def _barred_part(seed: int, angle: float) -> np.ndarray:
    """A synthetic part with a dark bar from its centre to its rim, pointing at ``angle`` degrees."""
    import cv2

    image = synthetic_part(seed)
    centre = np.array([128.0, 128.0])
    direction = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))]) * 90
    end = (centre + direction).astype(int)
    cv2.line(image, (128, 128), (int(end[0]), int(end[1])), (30, 30, 30), thickness=9)
    return image


def test_auto_augmentation_follows_the_references(detector):
    aligned = [_barred_part(seed, 0.0) for seed in range(3)]
    turned = [_barred_part(seed, angle) for seed, angle in zip(range(3), (0.0, 90.0, 180.0))]
    assert detector.build_bank(aligned, EngineConfig(augment="auto")).augmentation == "none"
    assert detector.build_bank(turned, EngineConfig(augment="auto")).augmentation == "rotations"
    assert detector.build_bank(aligned[:1], EngineConfig(augment="auto")).augmentation == "rotations"


def test_nearest_distance_matches_brute_force_in_any_query_precision():
    """The search casts the query to the bank's precision: an fp16 bank (as on CUDA) with an fp32
    query from another code path once raised a dtype error on GPU machines."""
    import torch

    from engine.scoring import nearest_distance

    generator = torch.Generator().manual_seed(0)
    query = torch.nn.functional.normalize(torch.randn(50, 16, generator=generator), dim=1)
    bank = torch.nn.functional.normalize(torch.randn(300, 16, generator=generator), dim=1)
    expected = 1.0 - (query @ bank.T).max(dim=1).values
    exact = nearest_distance(query, bank.T.contiguous(), chunk_size=64)
    half_bank = nearest_distance(query, bank.T.half().contiguous(), chunk_size=64)
    bfloat_bank = nearest_distance(query, bank.T.bfloat16().contiguous(), chunk_size=64)
    assert exact.dtype == half_bank.dtype == bfloat_bank.dtype == torch.float32
    assert torch.allclose(exact, expected.clamp(min=0), atol=1e-6)
    assert torch.allclose(half_bank, expected.clamp(min=0), atol=2e-3)
    assert torch.allclose(bfloat_bank, expected.clamp(min=0), atol=1e-2)


def test_bfloat16_search_keeps_small_distances_fine(monkeypatch):
    """The bfloat16 layout searches for the distance itself, which bfloat16 rounds finely near 0;
    a similarity near 1 would be rounded to steps of 0.004."""
    import torch

    from engine import scoring

    generator = torch.Generator().manual_seed(1)
    query = torch.nn.functional.normalize(torch.randn(200, 40, generator=generator), dim=1)
    near = torch.nn.functional.normalize(query + 0.05 * torch.randn(200, 40, generator=generator), dim=1)
    bank = torch.cat([near, torch.nn.functional.normalize(torch.randn(2000, 40, generator=generator), dim=1)])
    expected = scoring.nearest_distance(query, bank.T.contiguous())
    assert 0.01 < float(expected.mean()) < 0.1  # typical of a good patch
    monkeypatch.setenv(scoring.SEARCH_PRECISION_VARIABLE, "bf16")
    scoring.cpu_search_dtype.cache_clear()
    try:
        layout = scoring.search_layout(bank, torch.device("cpu"))
    finally:
        scoring.cpu_search_dtype.cache_clear()
    assert layout.dtype is torch.bfloat16 and layout.shape == (41, 4096)
    searched = scoring.nearest_distance(query, layout, chunk_size=512)
    plain = scoring.nearest_distance(query, bank.T.bfloat16().contiguous(), chunk_size=512)
    assert (searched - expected).abs().mean() < 0.5 * (plain - expected).abs().mean()
    assert torch.allclose(searched, expected, atol=2e-3)
    # More rows than one block (searched block by block, the last one padded).
    many = torch.cat([query] * 7)[:1300]
    assert torch.allclose(scoring.nearest_distance(many, layout), torch.cat([expected] * 7)[:1300], atol=2e-3)


def test_two_step_search_is_exact_where_it_counts_and_never_below_the_full_search():
    """The farthest share of patches is searched against the augmented views too: those distances
    are the full search's, the others keep their distance to the references as taken."""
    import torch

    from engine.scoring import LayerSearch, nearest_distance, searched_distance

    generator = torch.Generator().manual_seed(2)
    unit = lambda *shape: torch.nn.functional.normalize(torch.randn(*shape, generator=generator), dim=1)  # noqa: E731
    query, as_taken, augmented = unit(400, 24), unit(600, 24), unit(1800, 24)
    search = LayerSearch.of_rows(as_taken, augmented, torch.device("cpu"))
    full = nearest_distance(query, torch.cat([as_taken, augmented]).T.contiguous())
    first_step = nearest_distance(query, as_taken.T.contiguous())
    assert torch.allclose(searched_distance(query, search, 256, 1.0), full, atol=1e-6)
    half = searched_distance(query, search, 256, 0.5)
    farthest = first_step.topk(200).indices
    assert torch.allclose(half[farthest], full[farthest], atol=1e-6)
    rest = torch.ones(400, dtype=torch.bool)
    rest[farthest] = False
    assert torch.equal(half[rest], first_step[rest])
    assert bool((half >= full - 1e-6).all())
    assert (half > full + 1e-6).any()  # the step is really skipped for some
    # Without augmented views there is one step, whatever the share.
    alone = LayerSearch.of_rows(as_taken, torch.empty(0, 24), torch.device("cpu"))
    assert alone.augmented is None and torch.equal(searched_distance(query, alone, 256, 0.5), first_step)


def test_banks_saved_before_the_two_step_search_keep_the_full_search(detector, good_parts):
    """A bank file whose settings lack the share was scored with every patch against every view."""
    from engine.config import EngineConfig

    saved = EngineConfig().to_dict()
    assert saved["augmented_search_share"] == 0.5
    del saved["augmented_search_share"]
    assert EngineConfig.from_dict(saved).augmented_search_share == 1.0
    for wrong in (0, 1.5, True, "half"):
        with pytest.raises(ValueError, match="augmented_search_share"):
            EngineConfig(augmented_search_share=wrong)
    defective = synthetic_part(40, defects=(PIT,))
    halved = detector.build_bank(good_parts[:3], EngineConfig())
    whole = detector.build_bank(good_parts[:3], EngineConfig(augmented_search_share=1.0))
    assert halved.augmentation == whole.augmentation == "rotations"
    # The image score comes from the top of the map, which both searches give alike.
    expected = detector.inspect(defective, whole).score
    assert detector.inspect(defective, halved).score == pytest.approx(expected, rel=1e-4)


def test_cpu_search_precision_can_be_forced(monkeypatch):
    """bfloat16 is chosen only on CPUs with bfloat16 arithmetic; the variable overrides either way."""
    import torch

    from engine import scoring

    for forced, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        monkeypatch.setenv(scoring.SEARCH_PRECISION_VARIABLE, forced)
        scoring.cpu_search_dtype.cache_clear()
        try:
            assert scoring.cpu_search_dtype() is dtype
            layout = scoring.search_layout(torch.ones(5, 3), torch.device("cpu"))
            assert layout.dtype is dtype
            assert scoring.nearest_distance(torch.ones(2, 3), layout).tolist() == [0.0, 0.0]
        finally:
            scoring.cpu_search_dtype.cache_clear()


def test_inspection_area_ignores_what_lies_outside_it(detector, good_parts, bank):
    """A mark outside the inspection area (a label, a fixture) neither flags the part nor makes a region."""
    right_half = detector.build_bank(good_parts, EngineConfig(augment="none", inspection_area=(0.5, 0.0, 1.0, 1.0)))
    assert right_half.config.inspection_area == (0.5, 0.0, 1.0, 1.0)
    assert np.isfinite(right_half.calibration.image_threshold) and right_half.calibration.pixel_threshold > 0
    pit_on_the_left = synthetic_part(101, defects=(PIT,))
    whole = detector.inspect(pit_on_the_left, bank)
    cropped = detector.inspect(pit_on_the_left, right_half)
    assert whole.verdict == "NG" and cropped.verdict == "OK"
    assert not cropped.anomaly_map[:, : pit_on_the_left.shape[1] // 2].any()
    scratch_on_the_right = synthetic_part(300, defects=(Defect("scratch", 0.7, 0.65, 0.1),))
    assert detector.inspect(scratch_on_the_right, right_half).verdict == "NG"


def _on_a_fixture_plate(part: np.ndarray, side: int = 1024, top: int = 64, left: int = 96) -> np.ndarray:
    """``part`` photographed on a grooved fixture plate that fills the rest of a larger frame."""
    frame = np.full((side, side, 3), 90, dtype=np.uint8)
    frame[::32] = 140
    frame[top:top + part.shape[0], left:left + part.shape[1]] = part
    return frame


def test_the_inspection_area_is_seen_at_full_detail_and_results_stay_in_the_photos_pixels(detector, good_parts):
    """A part filling a quarter of the frame's width: cropped to its area, the model sees it at 256 px
    instead of 64 and finds a small pit that the whole frame hides; map, regions and the strongest
    spot are given in the photo's own pixels, and the map is zero outside the area."""
    from engine.facts import build_facts

    frames = [_on_a_fixture_plate(part) for part in good_parts]
    area = (96 / 1024, 64 / 1024, 352 / 1024, 320 / 1024)
    cropped = detector.build_bank(frames, EngineConfig(augment="none", inspection_area=area))
    whole = detector.build_bank(frames, EngineConfig(augment="none"))
    small_pit = Defect("pit", 0.32, 0.30, size=0.04)
    photo = _on_a_fixture_plate(synthetic_part(101, defects=(small_pit,)))
    result = detector.inspect(photo, cropped)
    assert result.processing_size == (256, 256) and result.anomaly_map.shape == (1024, 1024)
    assert result.verdict == "NG" and detector.inspect(photo, whole).verdict == "OK"
    outside = np.ones((1024, 1024), dtype=bool)
    outside[64:320, 96:352] = False
    assert not result.anomaly_map[outside].any()
    x0, y0, x1, y1 = small_pit.box(256)
    pit_in_photo = np.zeros((1024, 1024), dtype=bool)
    pit_in_photo[64 + y0:64 + y1, 96 + x0:96 + x1] = True
    peak_y, peak_x = np.unravel_index(np.argmax(result.anomaly_map), result.anomaly_map.shape)
    assert pit_in_photo[peak_y, peak_x]
    facts = build_facts(photo, result, cropped)
    assert facts.image_size == (1024, 1024) and facts.part_box == (96, 64, 256, 256)
    cx, cy = facts.regions[0].centroid
    assert pit_in_photo[round(cy), round(cx)] and pit_in_photo[facts.peak_xy[1], facts.peak_xy[0]]
    assert facts.regions[0].position == "top left"  # of the area, where the pit lies on the part
    stored = result.storable_map()
    assert stored.shape == (1024, 1024) and np.allclose(stored, result.anomaly_map)
    for seed in (200, 201):
        assert detector.inspect(_on_a_fixture_plate(synthetic_part(seed)), cropped).verdict == "OK"


def test_an_ignored_rectangle_inside_a_cropped_area_still_hides_its_mark(detector, good_parts):
    """The ignored rectangle is given in the photo's fractions; inside the crop it must cover the same mark."""
    frames = [_on_a_fixture_plate(part) for part in good_parts]
    area = (96 / 1024, 64 / 1024, 352 / 1024, 320 / 1024)
    x0, y0, x1, y1 = PIT.box(256)
    mark = ((96 + x0 - 3) / 1024, (64 + y0 - 3) / 1024, (96 + x1 + 3) / 1024, (64 + y1 + 3) / 1024)
    bank = detector.build_bank(frames, EngineConfig(augment="none", inspection_area=area, ignored_areas=[mark]))
    assert detector.inspect(_on_a_fixture_plate(synthetic_part(101, defects=(PIT,))), bank).verdict == "OK"
    scratch = _on_a_fixture_plate(synthetic_part(300, defects=(Defect("scratch", 0.7, 0.65, 0.1),)))
    assert detector.inspect(scratch, bank).verdict == "NG"


def test_ignored_rectangles_follow_the_crop_and_a_small_areas_stored_map_is_bounded():
    from engine.area import relative_to_area
    from engine.detector import STORED_MAP_MAX_SIDE, AnomalyResult

    area = (0.2, 0.4, 0.6, 0.8)
    inside, straddling = (0.3, 0.5, 0.4, 0.6), (0.5, 0.3, 0.9, 0.5)
    outside, sliver = (0.7, 0.1, 0.9, 0.3), (0.599, 0.5, 0.7, 0.6)
    relative = relative_to_area((inside, straddling, outside, sliver), area)
    assert relative == (pytest.approx((0.25, 0.25, 0.5, 0.5)), pytest.approx((0.75, 0.0, 1.0, 0.25)))
    assert EngineConfig(inspection_area=area, ignored_areas=[inside]).inside_area() == EngineConfig(
        ignored_areas=[relative[0]])
    corner = AnomalyResult(score=0.0, processing_map=np.ones((256, 256), dtype=np.float32), layer_maps={},
                           image_size=(4000, 4000), processing_size=(256, 256), area=(0.0, 0.0, 0.1, 0.1))
    stored = corner.storable_map()
    assert stored.shape == (STORED_MAP_MAX_SIDE, STORED_MAP_MAX_SIDE)
    assert stored[:200, :200].min() == 1.0 and stored[210:].max() == 0.0 and stored[:, 210:].max() == 0.0


def test_an_ignored_rectangle_hides_a_mark_that_varies_by_design(detector, good_parts):
    """A printed date code differs on every part: ignored, it neither flags the part nor makes a region."""
    x0, y0, x1, y1 = (value / 256 for value in PIT.box(256))
    ignored = (x0 - 0.01, y0 - 0.01, x1 + 0.01, y1 + 0.01)  # the mark's own box, drawn closely
    masked = detector.build_bank(good_parts, EngineConfig(augment="none", ignored_areas=[ignored]))
    assert masked.config.ignored_areas == (pytest.approx(ignored),)
    assert detector.inspect(synthetic_part(101, defects=(PIT,)), masked).verdict == "OK"
    scratch = synthetic_part(300, defects=(Defect("scratch", 0.7, 0.65, 0.1),))
    assert detector.inspect(scratch, masked).verdict == "NG"


def test_inspection_area_travels_with_the_bank_and_bad_areas_are_refused(detector, good_parts, tmp_path):
    from engine.area import InvalidAreaError

    area_bank = detector.build_bank(good_parts[:2], EngineConfig(augment="none", inspection_area=[0.1, 0.2, 0.9, 0.8],
                                                                 ignored_areas=[[0.4, 0.4, 0.42, 0.45]]))
    path = tmp_path / "area.bank"
    area_bank.save(path)
    loaded = ReferenceBank.load(path).config
    assert loaded.inspection_area == (0.1, 0.2, 0.9, 0.8) and loaded.ignored_areas == ((0.4, 0.4, 0.42, 0.45),)
    assert EngineConfig(inspection_area=(0, 0, 1, 1)).inspection_area is None
    for bad in [(0.5, 0.5, 0.2, 0.9), (0, 0, 1.5, 1), (0.1, 0.2, 0.3), "left half"]:
        with pytest.raises(InvalidAreaError, match="Invalid inspection area"):
            EngineConfig(inspection_area=bad)
        with pytest.raises(InvalidAreaError, match="Invalid inspection area"):
            EngineConfig(ignored_areas=[bad])
    with pytest.raises(InvalidAreaError, match="cover .* the whole inspected area"):
        EngineConfig(inspection_area=(0.2, 0.2, 0.6, 0.6), ignored_areas=[(0.1, 0.1, 0.7, 0.7)])


def test_decoded_8bit_pixels_score_as_their_float_version_and_tiny_images_are_refused(detector, bank, tmp_path):
    """Large photos are resized before the float conversion; that must not move the score."""
    import cv2

    from engine.errors import ImageLoadError

    photo = cv2.resize(synthetic_part(101, defects=(PIT,)), (640, 640), interpolation=cv2.INTER_LINEAR)
    as_float = detector.inspect(photo.astype(np.float32) / 255.0, bank)
    as_decoded = detector.inspect(photo, bank)
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    from_file = detector.inspect(path, bank)
    assert as_decoded.score == pytest.approx(as_float.score, rel=0.01)
    assert from_file.score == as_decoded.score
    assert from_file.anomaly_map.shape == (640, 640)
    with pytest.raises(ImageLoadError, match="too small"):
        detector.inspect(np.zeros((6, 6, 3), np.uint8), bank)
