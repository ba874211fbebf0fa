"""Thresholds from good images only, and the one score scale shown everywhere.

In few-shot set-up there are no defective images, so the level of *normal* scores is estimated
from the references themselves, through the same scoring path as an inspection:

* leave-one-out (k >= 2): each reference, and a re-take of it (shifted by 3 % and 6 % brighter),
  is scored against a bank built from the *other* references: 2k normal scores.  A bank of
  k-1 images is weaker than the real one, so these err high; the re-takes add the variation of
  placement and light that new parts bring and the references alone do not show;
* of more than 16 references, 16 spread evenly over the set are held out (``engine.detector.
  held_out_indices``), so that building grows with the set's size, not its square (64 references:
  15.8 s instead of 41.5 s; the bottle threshold 0.046 against 0.043, at 32 references the
  false-reject and detection rates of three packs within one or two test images);
* references that are shots of one part (shot again untouched or moved, or one file saved twice,
  ``engine.same_photo``) are held out together, since a twin left in the bank makes its reference
  look perfect and the threshold collapse; when all are shots of one part, the single-reference
  fallback applies;
* with a single reference there are no others (the documented fallback, ``method =
  "self-views"``): its re-take is scored against its own bank, and the reference itself against
  a bank of only its three 90-degree rotations.  The re-take is easier than a new part, so its
  margin is larger; the rotations stand in for another part of the same kind, which suits
  parts that lie at any angle and overestimates for aligned ones (fewer flags, not more).

The rule.  With m and sd the mean and standard deviation of the normal scores, the image
threshold is

    T = LEAVE_ONE_OUT_MARGIN * m + LEAVE_ONE_OUT_SD * sd                 (k >= 2)
    T = max(SELF_VIEW_MARGIN * re-take score, CROSS_ROTATION_MARGIN * rotation score)   (k = 1)

Measured on the benchmark's six dev packs (3 seeds): false-reject rate 8.5 %, 6.0 % and 7.6 %
at k = 2, 4 and 8, detection rate 63-65 %.  The earlier rule, 1.15 m over the plain
leave-one-out scores, rejected 15 % of good parts at k = 4 and 28 % at k = 8: without the
re-takes, more references made the estimate too tight.  A nominal false-reject rate is not
offered here because the estimate's bias differs by part; labelled samples (``refine``) give a
threshold for a target false-reject rate, and the sensitivity setting moves this one.  At
k = 1 the fallback rejected 16 % of good parts on the dev packs (46 % on the worst pack), where
the re-take alone had rejected 39 % (100 % of the hazelnuts).  The
spread s = max(std of the normal scores, 5 % of m) sets the scale of everything else: the grey
zone is T +- ``GREY_HALF_WIDTH`` * s (OK below, NG above, REVIEW between), and the normalised
score is the logistic ``1 / (1 + exp(-(x - T) / s))``: 0.5 at the threshold, and the only
number shown to people; the raw score is kept for audit.  The pixel threshold for regions is
``PIXEL_MARGIN`` (``SELF_VIEW_MARGIN`` for k = 1) over the 99.9th percentile of the held-out
references' map values; its spread, which
scales the sensitivity shift for regions, is 5 % of that percentile.

Sensitivity (0..1, default 0.5) moves all thresholds together by ``(0.5 - sensitivity) * 4 * s``:
higher sensitivity, lower thresholds, more parts flagged; verdicts change monotonically.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

CALIBRATION_VERSION = 1
LEAVE_ONE_OUT_MARGIN = 1.05
LEAVE_ONE_OUT_SD = 0.5
SELF_VIEW_MARGIN = 2.0
CROSS_ROTATION_MARGIN = 1.2
PIXEL_MARGIN = 1.15
GREY_HALF_WIDTH = 0.5
MIN_SPREAD_FRACTION = 0.05
SENSITIVITY_SPAN = 4.0

VERDICT_OK, VERDICT_NG, VERDICT_REVIEW = "OK", "NG", "REVIEW"


@dataclass(frozen=True)
class Calibration:
    """Image and pixel thresholds estimated from normal scores, versioned and serialisable.

    ``scene_limit`` is the scene check's limit (``engine.scene``); None for banks built before it.
    ``same_photo``: positions of references that are shots of one part (``engine.same_photo``), each group
    held out together when the normal scores were estimated.  ``held_out``: positions of the references
    whose scores ``normal_scores`` holds when only some were held out (a large set); empty when all were.
    """

    image_threshold: float
    spread: float
    pixel_threshold: float
    pixel_spread: float
    method: str
    sample_count: int
    normal_scores: tuple[float, ...] = field(default_factory=tuple)
    version: int = CALIBRATION_VERSION
    revision: int = 1
    labelled: dict[str, Any] = field(default_factory=dict)
    view_scores: tuple[float, ...] = field(default_factory=tuple)
    scene_limit: float | None = None
    same_photo: tuple[tuple[int, ...], ...] = field(default_factory=tuple)
    held_out: tuple[int, ...] = field(default_factory=tuple)

    def scored_references(self, count: int) -> list[int]:
        """Positions, among ``count`` references, of those whose leave-one-out scores ``normal_scores``
        holds, in its order: every one, or the ``held_out`` of a large set."""
        return list(self.held_out) if self.held_out else list(range(count))

    def shift(self, sensitivity: float) -> float:
        """How far the sensitivity setting moves the thresholds, in raw score units."""
        return (0.5 - min(max(sensitivity, 0.0), 1.0)) * SENSITIVITY_SPAN * self.spread

    def threshold(self, sensitivity: float = 0.5) -> float:
        """The image threshold in force at ``sensitivity``."""
        return self.image_threshold + self.shift(sensitivity)

    def normalise(self, score: float, sensitivity: float = 0.5) -> float:
        """Map a raw score to 0..1 with the (sensitivity-adjusted) threshold at 0.5."""
        z = (score - self.threshold(sensitivity)) / self.spread
        return float(1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0))))

    def grey_zone(self, sensitivity: float = 0.5) -> tuple[float, float]:
        """Raw (T1, T2): OK below T1, NG above T2, REVIEW between."""
        centre = self.threshold(sensitivity)
        return centre - GREY_HALF_WIDTH * self.spread, centre + GREY_HALF_WIDTH * self.spread

    def verdict(self, score: float, sensitivity: float = 0.5) -> str:
        """OK, REVIEW or NG for a raw score."""
        low, high = self.grey_zone(sensitivity)
        if score < low:
            return VERDICT_OK
        if score > high:
            return VERDICT_NG
        return VERDICT_REVIEW

    def pixel_cut(self, sensitivity: float = 0.5) -> float:
        """Pixel threshold for defect regions at ``sensitivity``."""
        return self.pixel_threshold + (0.5 - min(max(sensitivity, 0.0), 1.0)) * SENSITIVITY_SPAN * self.pixel_spread

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the bank file and the database."""
        data = asdict(self)
        data["normal_scores"] = list(self.normal_scores)
        data["view_scores"] = list(self.view_scores)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """Inverse of ``to_dict``."""
        values = dict(data)
        values["normal_scores"] = tuple(values.get("normal_scores", ()))
        values["view_scores"] = tuple(values.get("view_scores", ()))
        values["same_photo"] = tuple(tuple(group) for group in values.get("same_photo", ()))
        values["held_out"] = tuple(values.get("held_out", ()))
        return cls(**values)


def grey_zone_normalised() -> tuple[float, float]:
    """The grey zone's edges on the normalised 0..1 scale (the same for every calibration)."""
    return 1.0 / (1.0 + math.exp(GREY_HALF_WIDTH)), 1.0 / (1.0 + math.exp(-GREY_HALF_WIDTH))


def calibrate(normal_scores: list[float], normal_pixels: np.ndarray, method: str,
              view_scores: list[float] | None = None) -> Calibration:
    """Thresholds from the normal image scores and pixel values by the module's rule."""
    if not normal_scores:
        raise ValueError("calibration needs at least one normal score")
    scores = np.asarray(normal_scores, dtype=np.float64)
    sample = np.concatenate([scores, np.asarray(view_scores or (), dtype=np.float64)])
    mean, deviation = float(sample.mean()), float(sample.std())
    if method == "self-views":
        threshold, pixel_margin = SELF_VIEW_MARGIN * float(scores.mean()), SELF_VIEW_MARGIN
        if view_scores:
            threshold = max(threshold, CROSS_ROTATION_MARGIN * float(np.mean(view_scores)))
        mean, deviation = float(scores.mean()), 0.0
    else:
        threshold, pixel_margin = LEAVE_ONE_OUT_MARGIN * mean + LEAVE_ONE_OUT_SD * deviation, PIXEL_MARGIN
    spread = max(deviation, MIN_SPREAD_FRACTION * mean, 1e-6)
    pixel_level = float(np.percentile(np.asarray(normal_pixels, dtype=np.float64), 99.9))
    return Calibration(image_threshold=threshold, spread=spread, pixel_threshold=pixel_margin * pixel_level,
                       pixel_spread=max(MIN_SPREAD_FRACTION * pixel_level, 1e-6), method=method,
                       sample_count=int(scores.size), normal_scores=tuple(float(x) for x in scores),
                       view_scores=tuple(float(x) for x in view_scores or ()))


def relabel(calibration: Calibration | None, raw_score: float, stored_verdict: str, stored_score: float,
            sensitivity: float) -> tuple[str, float]:
    """(verdict, normalised score) of a stored result at ``sensitivity``, without inference.

    Without a calibration (an uncalibrated bank) the stored values stand.
    """
    if calibration is None:
        return stored_verdict, stored_score
    return calibration.verdict(raw_score, sensitivity), calibration.normalise(raw_score, sensitivity)


# False-reject rates of the reference-only threshold, measured with ``main.py bench`` on the six
# dev packs (mean over packs and 3 seeds): what a technician can expect from few references.
MEASURED_FRR_BY_REFERENCES = {1: 0.154, 2: 0.085, 4: 0.060}
STEADY_REFERENCE_COUNT = 4


def reference_count_advice(count: int, same_part: tuple[tuple[int, ...], ...] = ()) -> str | None:
    """A line for the technician when the bank has too few references for a steady threshold; ``same_part``:
    groups of references that are shots of one part (``Calibration.same_photo``), each of which counts once."""
    parts = count - sum(len(group) - 1 for group in same_part)
    if parts >= STEADY_REFERENCE_COUNT:
        return None
    measured = MEASURED_FRR_BY_REFERENCES.get(parts, MEASURED_FRR_BY_REFERENCES[2])
    steady = MEASURED_FRR_BY_REFERENCES[STEADY_REFERENCE_COUNT]
    plural = "s" if parts != 1 else ""
    held = (f"{parts} reference{plural}" if parts == count else f"{count} references of one part" if parts == 1
            else f"{count} references of {parts} different parts")
    return (f"With {held} the threshold is a rough estimate: on the benchmark it rejected {100 * measured:.0f} % "
            f"of good parts, against {100 * steady:.0f} % with {STEADY_REFERENCE_COUNT}. Add photos of other good "
            f"parts until there are at least {STEADY_REFERENCE_COUNT}.")


def same_photo_advice(groups: tuple[tuple[int, ...], ...], names: list[str]) -> str | None:
    """A line for the technician when some references are shots of one part (``Calibration.same_photo``)."""
    if not groups:
        return None
    def named(group: tuple[int, ...]) -> str:
        listed = [names[i] if i < len(names) else f"#{i + 1}" for i in group]
        return ", ".join(listed[:-1]) + " and " + listed[-1]

    listed = "; ".join(named(group) for group in groups)
    return (f"These references look like shots of one part: {listed}. The threshold comes from how "
            "different good parts differ, so each such group counts once; photograph other good parts instead.")


OUTLIER_Z = 3.5
OUTLIER_RATIO = 1.25


def reference_outliers(normal_scores: list[float] | tuple[float, ...]) -> list[bool]:
    """Which references look unlike the others, from their leave-one-out scores.

    A reference is flagged when its score is both far above the others (robust z-score, median
    and MAD, above ``OUTLIER_Z``) and clearly higher (more than ``OUTLIER_RATIO`` times the
    median).  Fewer than three scores flag nothing: there is no "the others" to compare with.
    """
    scores = np.asarray(normal_scores, dtype=np.float64)
    if scores.size < 3:
        return [False] * int(scores.size)
    median = float(np.median(scores))
    mad = max(float(np.median(np.abs(scores - median))) * 1.4826, 0.02 * max(median, 1e-9))
    return [bool((s - median) / mad > OUTLIER_Z and s > OUTLIER_RATIO * median) for s in scores]


@dataclass(frozen=True)
class Refinement:
    """What a refinement from labelled samples did, with its estimated error rates on those samples.

    ``target_frr`` is the rate asked for (mode "frr"); ``source`` says where the samples came
    from ("reviews" or a validation folder), and ``carried`` that the refinement was done again,
    with the same rule and samples, for a bank rebuilt from changed references: together they
    let a rebuilt bank keep the rule a technician chose.  Older records lack them.
    """

    mode: str
    threshold: float
    good_count: int
    defective_count: int
    false_reject_rate: float
    miss_rate: float | None
    f1: float | None
    target_frr: float | None = None
    source: str = ""
    carried: bool = False

    def summary(self) -> str:
        """One sentence for the technician: what the new threshold does on the labelled samples."""
        miss = "-" if self.miss_rate is None else f"{100 * self.miss_rate:.1f} %"
        f1 = f", F1 {self.f1:.3f}" if self.f1 is not None else ""
        rule = "best F1" if self.mode == "f1" else "target false-reject rate"
        again = " (done again for the rebuilt bank)" if self.carried else ""
        return (f"Threshold refined ({rule}){again} from {self.good_count} good and {self.defective_count} defective "
                f"samples: false-reject rate {100 * self.false_reject_rate:.1f} %, estimated miss rate {miss}{f1}.")


def refine(calibration: Calibration, scores: list[float], labels: list[int], mode: str = "frr",
           target_frr: float = 0.01, source: str = "") -> tuple[Calibration, Refinement]:
    """A new calibration revision whose image threshold comes from labelled samples (1 = defective).

    ``mode="f1"`` picks the threshold with the best F1 over the samples (it needs both good and
    defective ones); ``mode="frr"`` takes the lowest threshold that rejects at most ``target_frr``
    of the good samples and reports the share of defective samples it would miss.  The spread,
    and so the grey zone and the normalised scale, are kept; the pixel threshold is unchanged.
    """
    values = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(labels, dtype=int)
    good, bad = values[truth == 0], values[truth == 1]
    if mode not in ("f1", "frr"):
        raise ValueError("refinement mode is 'f1' or 'frr'")
    if good.size == 0:
        raise ValueError("refining the threshold needs at least one good sample")
    if mode == "f1" and bad.size == 0:
        raise ValueError("an F1-optimal threshold needs defective samples too; use the target false-reject rate")
    if mode == "f1":
        candidates = np.unique(values)
        cuts = np.concatenate([[candidates[0] - 1e-9], (candidates[:-1] + candidates[1:]) / 2, [candidates[-1]]])
        threshold = float(max(cuts, key=lambda t: (_f1(values > t, truth), -t)))
    else:
        allowed = int(np.floor(target_frr * good.size))
        ordered = np.sort(good)[::-1]
        threshold = float(ordered[allowed]) if allowed < ordered.size else float(ordered[-1] - 1e-9)
    flagged = values > threshold
    report = Refinement(mode=mode, threshold=threshold, good_count=int(good.size), defective_count=int(bad.size),
                        false_reject_rate=float((good > threshold).mean()),
                        miss_rate=float((bad <= threshold).mean()) if bad.size else None,
                        f1=_f1(flagged, truth) if bad.size else None,
                        target_frr=target_frr if mode == "frr" else None, source=source)
    refined = replace(calibration, image_threshold=threshold, method=f"labelled-{mode}",
                      sample_count=int(values.size), revision=calibration.revision + 1, labelled=asdict(report))
    return refined, report


def _f1(flagged: np.ndarray, truth: np.ndarray) -> float:
    true_positive = float(np.sum(flagged & (truth == 1)))
    predicted, actual = float(flagged.sum()), float((truth == 1).sum())
    return 0.0 if true_positive == 0 else 2 * true_positive / (predicted + actual)
