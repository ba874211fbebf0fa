"""Detection and segmentation metrics: image AUROC, pixel AUROC and AUPRO.

AUROC is the Mann-Whitney statistic with ties counted half.  AUPRO follows the MVTec AD
definition: the per-region overlap (PRO), averaged over all ground-truth connected components,
integrated over the false-positive rate on defect-free pixels from 0 to ``max_fpr`` and divided
by ``max_fpr``.  Both are exact, and both read the maps image by image, so that a pack of large
images never needs all its pixels in memory at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# Bins of the histogram that bounds the scores AUPRO must keep; more bins keep fewer extra pixels.
HISTOGRAM_BINS = 1 << 16
# Defect-free scores handled per step of the AUPRO curve walk (whole runs of equal scores).
RUN_CHUNK = 1 << 20


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    labels = np.asarray(labels).astype(bool).ravel()
    scores = np.asarray(scores).ravel()
    positives, negatives = scores[labels], np.sort(scores[~labels], kind="stable")
    if positives.size == 0 or negatives.size == 0:
        return float("nan")
    below, ties = _below_and_tied(negatives, positives)
    return float((below + 0.5 * ties) / (float(positives.size) * float(negatives.size)))


def _below_and_tied(sorted_values: np.ndarray, queries: np.ndarray) -> tuple[float, float]:
    """Summed over the queries: how many sorted values lie below each, and how many equal it."""
    left = np.searchsorted(sorted_values, queries, side="left")
    right = np.searchsorted(sorted_values, queries, side="right")
    return float(left.sum(dtype=np.float64)), float((right - left).sum(dtype=np.float64))


def pixel_auroc(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray]) -> float:
    """AUROC over all pixels of all images (maps at the masks' resolution).

    Exact, holding only the defect pixels: they are sorted once, and each image's defect-free
    pixels are ranked against them in turn.  ``masks`` and ``maps`` are read item by item and
    never all at once, so they may be sequences that decode each item when read.
    """
    positives = _defect_scores(masks, maps)
    positives.sort()
    greater = ties = 0.0
    negatives = 0
    for mask, amap in zip(masks, maps):
        values = np.asarray(amap, np.float32)[~np.asarray(mask, bool)]
        below, tied = _below_and_tied(positives, values)
        greater += float(positives.size) * values.size - below - tied
        ties += tied
        negatives += values.size
    if positives.size == 0 or negatives == 0:
        return float("nan")
    return float((greater + 0.5 * ties) / (float(positives.size) * float(negatives)))


def _defect_scores(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray]) -> np.ndarray:
    """The map values of all defect pixels, in one preallocated float32 array."""
    values = np.empty(sum(int(np.count_nonzero(mask)) for mask in masks), np.float32)
    filled = 0
    for mask, amap in zip(masks, maps):
        picked = np.asarray(amap, np.float32)[np.asarray(mask, bool)]
        values[filled:filled + picked.size] = picked
        filled += picked.size
    return values


def aupro(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], max_fpr: float = 0.3) -> float:
    """Normalised area under the PRO curve up to ``max_fpr``; NaN without defect regions.

    The curve is exact: between two distinct scores of defect-free pixels it runs straight from
    (FPR, PRO of the defect pixels scoring above) to (FPR after those pixels, PRO of the defect
    pixels scoring at or above), as the trapezoid over every threshold would.  Only pixels above
    the score where the FPR reaches ``max_fpr`` shape that part, so a histogram pass finds a
    score just below it and only the pixels above are kept: memory follows that share of the
    pixels, not all of them.
    """
    ok_total, low, high = 0, np.inf, -np.inf
    for mask, amap in zip(masks, maps):
        ok = np.asarray(amap, np.float32)[~np.asarray(mask, bool)]
        if ok.size:
            ok_total += ok.size
            low, high = min(low, float(ok.min())), max(high, float(ok.max()))
    if ok_total == 0:
        return float("nan")
    threshold = _score_above_rank(masks, maps, low, high, min(ok_total, int(np.ceil(max_fpr * ok_total)) + 1))
    ok_kept: list[np.ndarray] = []
    defect_scores: list[np.ndarray] = []
    defect_weights: list[np.ndarray] = []
    region_count = 0
    for mask, amap in zip(masks, maps):
        amap = np.asarray(amap, np.float32)
        count, labels = cv2.connectedComponents(np.asarray(mask, np.uint8), connectivity=8)
        region_count += count - 1
        keep = amap >= threshold
        ok_kept.append(amap[keep & (labels == 0)])
        if count > 1:
            inverse_area = np.zeros(count, dtype=np.float64)
            inverse_area[1:] = 1.0 / np.bincount(labels.ravel(), minlength=count)[1:]
            defect = keep & (labels > 0)
            defect_scores.append(amap[defect])
            defect_weights.append(inverse_area[labels[defect]])
    if region_count == 0:
        return float("nan")
    ok_scores = np.concatenate(ok_kept)
    del ok_kept
    ok_scores.sort()
    scores = np.concatenate(defect_scores) if defect_scores else np.empty(0, np.float32)
    weights = np.concatenate(defect_weights) if defect_weights else np.empty(0)
    order = np.argsort(scores, kind="stable")
    scores = scores[order]
    at_or_above = np.r_[np.cumsum(weights[order][::-1])[::-1], 0.0] / region_count
    del order, weights
    area, fpr, end = 0.0, 0.0, ok_scores.size
    # Downwards from the highest score, a chunk of whole runs of equal scores at a time, so that
    # the per-run arrays stay small however many pixels are kept.
    while end > 0 and fpr < max_fpr:
        start = max(0, end - RUN_CHUNK)
        if start > 0:
            start = int(np.searchsorted(ok_scores, ok_scores[start], side="left"))
        values, counts = np.unique(ok_scores[start:end], return_counts=True)
        values, counts = values[::-1], counts[::-1]
        pro_including = at_or_above[np.searchsorted(scores, values, side="left")]
        pro_excluding = at_or_above[np.searchsorted(scores, values, side="right")]
        fpr_after = fpr + np.cumsum(counts) / ok_total
        fpr_before = np.r_[fpr, fpr_after[:-1]]
        inside = fpr_after <= max_fpr
        area += float(np.sum((fpr_after - fpr_before)[inside] * (pro_excluding + pro_including)[inside]) / 2)
        if not inside.all():
            cross = int(np.argmin(inside))
            share = (max_fpr - fpr_before[cross]) / (fpr_after[cross] - fpr_before[cross])
            pro_at = pro_excluding[cross] + share * (pro_including[cross] - pro_excluding[cross])
            area += (max_fpr - fpr_before[cross]) * (pro_excluding[cross] + pro_at) / 2
        fpr, end = float(fpr_after[-1]), start
    return area / max_fpr


def _score_above_rank(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], low: float, high: float,
                      rank: int) -> float:
    """A score at or below the ``rank``-th highest defect-free score, found from a fine histogram."""
    if high <= low:
        return low
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    histogram = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
    for mask, amap in zip(masks, maps):
        histogram += np.histogram(np.asarray(amap, np.float32)[~np.asarray(mask, bool)], bins=edges)[0]
    from_top = np.cumsum(histogram[::-1])
    bin_index = HISTOGRAM_BINS - 1 - int(np.searchsorted(from_top, rank))
    edge = float(edges[max(bin_index - 1, 0)])
    # The maps are float32: compare against a float32 that is not above the edge.
    as_float32 = np.float32(edge)
    return float(as_float32 if as_float32 <= edge else np.nextafter(as_float32, np.float32(-np.inf)))
