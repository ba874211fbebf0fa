"""Metrics against scikit-learn and against a hand-worked PRO example."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from engine.metrics import aupro, auroc, pixel_auroc


@pytest.mark.parametrize("seed", range(5))
def test_auroc_matches_sklearn_on_random_scores(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=300)
    scores = np.round(rng.normal(size=300) + labels * 0.7, 1)  # rounding creates ties
    assert auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_pixel_auroc_matches_sklearn_over_all_pixels():
    rng = np.random.default_rng(3)
    masks = [rng.random((16, 16)) > 0.8 for _ in range(3)]
    maps = [rng.random((16, 16)) + m * 0.3 for m in masks]
    expected = roc_auc_score(np.concatenate([m.ravel() for m in masks]), np.concatenate([a.ravel() for a in maps]))
    assert pixel_auroc(masks, maps) == pytest.approx(expected, abs=1e-12)


def test_auroc_is_nan_with_one_class():
    assert np.isnan(auroc(np.zeros(5), np.arange(5)))


def test_pro_hand_worked_example():
    # Two images of 2x4 = 8 pixels.  Image A has one 2-pixel region, image B one 1-pixel region;
    # 13 pixels are defect-free.  Scores are distinct, so each threshold adds one pixel.
    mask_a = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], bool)
    mask_b = np.array([[0, 0, 0, 0], [0, 0, 0, 1]], bool)
    map_a = np.array([[0.90, 0.50, 0.80, 0.10], [0.20, 0.05, 0.15, 0.25]])
    map_b = np.array([[0.30, 0.35, 0.40, 0.45], [0.02, 0.03, 0.04, 0.70]])
    # Descending: 0.90 (region A, PRO += 1/2*1/2 = .25), 0.80 (ok, FPR 1/13), 0.70 (region B,
    # PRO += .5 -> .75), 0.50 (region A, PRO -> 1.0), then only ok pixels.
    # Curve: (0,0) (0,.25) (1/13,.25) (1/13,.75) (1/13,1.0) ... up to FPR .3.
    # Area to .3: .25 * 1/13 + 1.0 * (.3 - 1/13); normalised by .3.
    expected = (0.25 / 13 + (0.3 - 1 / 13)) / 0.3
    assert aupro([mask_a, mask_b], [map_a, map_b], max_fpr=0.3) == pytest.approx(expected, abs=1e-9)


def _pro_by_thresholds(masks, maps, max_fpr, steps=4000, every_score=False):
    """Slow reference: sweep thresholds, average per-region overlap, integrate to max_fpr.

    ``every_score`` sweeps every distinct score, each a corner of the exact curve, instead of
    ``steps`` even steps.
    """
    import cv2

    regions = []
    for index, mask in enumerate(masks):
        count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        regions += [(index, labels == r) for r in range(1, count)]
    ok = np.concatenate([~m.ravel() for m in masks])
    scores = np.concatenate([a.ravel() for a in maps])
    points = []
    thresholds = (np.r_[scores.max() + 1.0, np.unique(scores)[::-1]] if every_score
                  else np.linspace(scores.max() + 1e-9, scores.min() - 1e-9, steps))
    for threshold in thresholds:
        fpr = (scores[ok] >= threshold).mean()
        pro = np.mean([(maps[i][r] >= threshold).mean() for i, r in regions])
        points.append((fpr, pro))
    fprs, pros = map(np.array, zip(*points))
    keep = fprs <= max_fpr
    fprs, pros = np.r_[fprs[keep], max_fpr], np.r_[pros[keep], np.interp(max_fpr, fprs, pros)]
    return np.trapezoid(pros, fprs) / max_fpr


def _box_defects_on_noise(seed, count, shape, box):
    """``count`` masks of ``shape`` with one ``box`` (h, w) defect each, uniform noise maps, and the generator."""
    rng = np.random.default_rng(seed)
    masks, noise = [], []
    for _ in range(count):
        mask = np.zeros(shape, bool)
        y, x = rng.integers(0, shape[0] - box[0]), rng.integers(0, shape[1] - box[1])
        mask[y:y + box[0], x:x + box[1]] = True
        masks.append(mask)
        noise.append(rng.random(shape))
    return masks, noise, rng


def test_aupro_matches_threshold_sweep_on_random_maps():
    masks, noise, rng = _box_defects_on_noise(7, 3, (24, 24), (5, 4))
    maps = [n + m * rng.uniform(0.2, 0.8) for n, m in zip(noise, masks)]
    assert aupro(masks, maps) == pytest.approx(_pro_by_thresholds(masks, maps, 0.3), abs=2e-3)


@pytest.mark.parametrize("run_chunk", [1 << 20, 5])
def test_aupro_is_exact_with_tied_scores_whatever_the_walk_step(monkeypatch, run_chunk):
    """Tied scores (a masked background at 0, coarse maps) make runs; the curve must stay exact."""
    from engine import metrics

    monkeypatch.setattr(metrics, "RUN_CHUNK", run_chunk)
    masks, noise, _ = _box_defects_on_noise(11, 4, (20, 30), (6, 5))
    maps = [np.round(n + m * 0.3, 1).astype(np.float32) for n, m in zip(noise, masks)]
    for amap in maps:
        amap[:, :8] = 0.0
    expected = _pro_by_thresholds(masks, maps, 0.3, every_score=True)
    assert aupro(masks, maps) == pytest.approx(expected, abs=1e-9)


def test_aupro_perfect_and_nan_cases():
    mask = np.zeros((10, 10), bool)
    mask[2:4, 2:4] = True
    assert aupro([mask], [mask.astype(float)]) == pytest.approx(1.0)
    assert np.isnan(aupro([np.zeros((4, 4), bool)], [np.random.default_rng(0).random((4, 4))]))


def test_metrics_read_packed_masks_and_resized_maps_like_full_arrays():
    """The bench keeps masks as bits and maps at the processing size; the figures must not change."""
    from engine.bench import PackedMasks, ResizedMaps
    from engine.scoring import to_original_size

    rng = np.random.default_rng(7)
    sizes = [(40, 56), (33, 47), (40, 56)]
    masks = [rng.random(size) > 0.85 for size in sizes]
    small = [rng.random((16, 16)).astype(np.float32) for _ in sizes]
    resized = ResizedMaps()
    for m, size in zip(small, sizes):
        resized.append(m, size)
    packed = PackedMasks(masks)
    assert len(packed) == len(resized) == 3
    assert all(np.array_equal(a, b) for a, b in zip(packed, masks))
    plain = [to_original_size(m, *size) for m, size in zip(small, sizes)]
    assert all(np.array_equal(a, b) for a, b in zip(resized, plain))
    assert pixel_auroc(packed, resized) == pixel_auroc(masks, plain)
    assert aupro(packed, resized) == aupro(masks, plain)
