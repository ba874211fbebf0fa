"""Detection and segmentation metrics: image AUROC, pixel AUROC and AUPRO.

AUROC is the Mann-Whitney statistic with ties counted half.  AUPRO follows the MVTec AD
definition: the per-region overlap (PRO), averaged over all ground-truth connected components,
integrated over the false-positive rate on defect-free pixels from 0 to ``max_fpr`` and divided
by ``max_fpr``.  It is computed exactly in one sort of all pixels: each defect-free pixel moves
the FPR by 1/N_ok, each defect pixel moves the PRO by 1/(area of its region * region count).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    labels = np.asarray(labels).astype(bool).ravel()
    scores = np.asarray(scores).ravel()
    return _auroc_split(scores[labels], scores[~labels])


def _auroc_split(positives: np.ndarray, negatives: np.ndarray) -> float:
    """P(positive > negative) + P(tie) / 2, by binary search in the sorted negatives.

    ``negatives`` is sorted in place; memory stays at that one array, which matters for tens
    of millions of pixels.
    """
    if positives.size == 0 or negatives.size == 0:
        return float("nan")
    negatives.sort(kind="stable")
    left = np.searchsorted(negatives, positives, side="left")
    right = np.searchsorted(negatives, positives, side="right")
    below = left.sum(dtype=np.float64)
    ties = (right - left).sum(dtype=np.float64)
    return float((below + 0.5 * ties) / (float(positives.size) * float(negatives.size)))


def pixel_auroc(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray]) -> float:
    """AUROC over all pixels of all images (maps at the masks' resolution).

    ``masks`` and ``maps`` are read item by item and never all at once, so they may be
    sequences that decode each item when read.
    """
    return _auroc_split(_gather(masks, maps, defect=True), _gather(masks, maps, defect=False))


def _gather(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], defect: bool) -> np.ndarray:
    """The map values of all defect (or all defect-free) pixels, in one preallocated float32 array.

    Filling one array instead of concatenating per-image pieces halves the peak memory on packs
    with tens of millions of pixels.
    """
    total = 0
    for mask in masks:
        defects = int(np.count_nonzero(mask))
        total += defects if defect else int(np.size(mask)) - defects
    values = np.empty(total, np.float32)
    filled = 0
    for mask, amap in zip(masks, maps):
        mask = np.asarray(mask, bool)
        picked = np.asarray(amap, np.float32)[mask if defect else ~mask]
        values[filled:filled + picked.size] = picked
        filled += picked.size
    return values


def aupro(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], max_fpr: float = 0.3) -> float:
    """Normalised area under the PRO curve up to ``max_fpr``; NaN without defect regions.

    Only pixels scoring at or above the threshold where the FPR reaches ``max_fpr`` shape that
    part of the curve, so a first pass finds that threshold and only those pixels are sorted.
    """
    ok_scores = _gather(masks, maps, defect=False)
    ok_total = ok_scores.size
    if ok_total == 0:
        return float("nan")
    rank = min(ok_total, int(np.ceil(max_fpr * ok_total)) + 1)
    ok_scores.partition(ok_total - rank)
    threshold = ok_scores[ok_total - rank]
    del ok_scores
    # One preallocated row per kept pixel: its score and its PRO weight (0 for a defect-free
    # pixel), sorted together; fewer per-pixel arrays than one per quantity keeps the peak low.
    kept = sum(int(np.count_nonzero(np.asarray(a, np.float32) >= threshold)) for a in maps)
    scores = np.empty(kept, np.float32)
    weights = np.empty(kept, np.float32)
    region_count = filled = 0
    for mask, amap in zip(masks, maps):
        amap = np.asarray(amap, np.float32)
        count, labels = cv2.connectedComponents(np.asarray(mask, np.uint8), connectivity=8)
        per_label = np.zeros(count, dtype=np.float64)
        per_label[1:] = 1.0 / np.bincount(labels.ravel(), minlength=count)[1:]
        region_count += count - 1
        keep = amap >= threshold
        size = int(np.count_nonzero(keep))
        scores[filled:filled + size] = amap[keep]
        weights[filled:filled + size] = per_label[labels[keep]]
        filled += size
    if region_count == 0:
        return float("nan")
    order = np.argsort(scores)[::-1]
    scores = scores[order]
    weights = weights[order]
    del order
    fpr = np.cumsum(weights == 0.0, dtype=np.int64) / ok_total
    pro = np.cumsum(weights, dtype=np.float64) / region_count
    del weights
    last_of_run = np.r_[scores[1:] != scores[:-1], True]
    fpr = np.r_[0.0, fpr[last_of_run]]
    pro = np.r_[0.0, pro[last_of_run]]
    cut = int(np.searchsorted(fpr, max_fpr, side="right"))
    if cut < fpr.size:
        share = (max_fpr - fpr[cut - 1]) / (fpr[cut] - fpr[cut - 1])
        pro_at = pro[cut - 1] + share * (pro[cut] - pro[cut - 1])
        fpr = np.r_[fpr[:cut], max_fpr]
        pro = np.r_[pro[:cut], pro_at]
    return float(np.trapezoid(pro, fpr) / max_fpr)
