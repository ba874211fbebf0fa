"""Score drift: whether the latest parts score unlike the first parts inspected with the same references.

A lens that goes out of focus or a lamp that dims raises the scores of good parts slowly, well
before many of them cross the threshold; seen early, the technician checks the set-up (or, if
the parts really changed, refreshes the references) before the line fills with false rejects.

The rule.  The raw scores of the first ``DRIFT_WINDOW`` inspections made with a bank are
compared with those of its latest ``DRIFT_WINDOW`` (the windows do not overlap, so the bank
needs twice that many) by a two-sided Mann-Whitney U test; the scores drift when p <
``DRIFT_P_VALUE``.  A rank test needs no spread estimate (four references give a poor one) and a
few defective parts in either window barely move it.  ``main.py bench-drift`` measures how
often random splits of good parts raise it, and how often it catches blurred or re-lit ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DRIFT_WINDOW = 20
DRIFT_P_VALUE = 0.001


@dataclass(frozen=True)
class ScoreDrift:
    """The first and the latest window of raw scores with one bank, and the rank test's p-value."""

    first: tuple[float, ...]
    latest: tuple[float, ...]
    p_value: float

    @property
    def drifting(self) -> bool:
        """True when the latest parts score unlike the first ones (p below ``DRIFT_P_VALUE``)."""
        return self.p_value < DRIFT_P_VALUE

    @property
    def rising(self) -> bool:
        """True when the latest parts' median score is the higher one."""
        return float(np.median(self.latest)) > float(np.median(self.first))


def compare_windows(first: Sequence[float], latest: Sequence[float]) -> ScoreDrift:
    """Test two windows of raw scores (each of at least one score) for a shift."""
    if len(first) == 0 or len(latest) == 0:
        raise ValueError("both windows need scores")
    if np.ptp(np.concatenate([first, latest])) == 0.0:
        p_value = 1.0  # all scores equal: nothing moved (the test itself is undefined there)
    else:
        from scipy.stats import mannwhitneyu  # 0.8 s to import: only when a check runs, not with every report

        p_value = float(mannwhitneyu(first, latest, alternative="two-sided").pvalue)
    return ScoreDrift(tuple(float(x) for x in first), tuple(float(x) for x in latest), p_value)
