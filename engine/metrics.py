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
from scipy.stats import rankdata


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    labels = np.asarray(labels).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def pixel_auroc(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray]) -> float:
    """AUROC over all pixels of all images (maps at the masks' resolution)."""
    return auroc(np.concatenate([m.ravel() for m in masks]), np.concatenate([a.ravel() for a in maps]))


def aupro(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], max_fpr: float = 0.3) -> float:
    """Normalised area under the PRO curve up to ``max_fpr``; NaN without defect regions."""
    weights_list, scores_list, ok_list = [], [], []
    region_count = 0
    for mask, amap in zip(masks, maps):
        mask = np.asarray(mask).astype(np.uint8)
        count, labels = cv2.connectedComponents(mask, connectivity=8)
        weights = np.zeros(mask.shape, dtype=np.float64)
        for region in range(1, count):
            inside = labels == region
            weights[inside] = 1.0 / inside.sum()
        region_count += count - 1
        weights_list.append(weights.ravel())
        scores_list.append(np.asarray(amap, dtype=np.float64).ravel())
        ok_list.append(mask.ravel() == 0)
    ok = np.concatenate(ok_list)
    if region_count == 0 or not ok.any():
        return float("nan")
    scores = np.concatenate(scores_list)
    weights = np.concatenate(weights_list) / region_count
    fpr_step = ok / ok.sum()
    order = np.argsort(-scores, kind="mergesort")
    scores, weights, fpr_step = scores[order], weights[order], fpr_step[order]
    fpr = np.cumsum(fpr_step)
    pro = np.cumsum(weights)
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
