"""Charts for the project report, drawn with OpenCV on RGB images: the score distribution and the score trend.

Both use the badges' colours for the verdicts and show the threshold (0.50) and the grey zone on
the normalised scale, so that a printed report reads like the app.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from engine.calibration import VERDICT_NG, VERDICT_REVIEW, grey_zone_normalised
from services.trend import MEDIAN_WINDOW, bank_changes, rolling_median
from services.verdict_colours import VERDICT_COLOURS, rgb

HISTOGRAM_MARGIN = 20
TREND_MARGIN = 30
GREY_ZONE_RGB = (250, 235, 200)
MEDIAN_RGB = (31, 59, 115)
CHANGE_RGB = (122, 122, 122)
TEXT_RGB = (0, 0, 0)
# Bars and dots in the badges' colours (RGB for OpenCV drawing on an RGB image).
VERDICT_RGB = {verdict: rgb(colour) for verdict, colour in VERDICT_COLOURS.items()}


def histogram_png(scores: list[float], verdicts: list[str], bins: int = 20, width: int = 600,
                  height: int = 200) -> np.ndarray:
    """Bars of the normalised scores (0..1), stacked by verdict, with the threshold and grey zone.

    Colours follow each part's stored verdict (green OK, amber REVIEW, red NG), not the bin's
    side of the threshold: a bin can straddle the grey zone's edge.
    """
    image = np.full((height, width, 3), 255, np.uint8)
    clipped = np.clip(np.asarray(scores, dtype=np.float64), 0, 1)
    per_verdict = {v: np.histogram(clipped[np.asarray(verdicts) == v], bins=bins, range=(0.0, 1.0))[0]
                   for v in VERDICT_RGB}
    top = max(int(sum(per_verdict.values()).max()), 1)
    margin, axis_y = HISTOGRAM_MARGIN, height - HISTOGRAM_MARGIN
    plot_width, plot_height = width - 2 * margin, height - 2 * margin

    def x_at(value: float) -> int:
        return int(margin + plot_width * value)

    low, high = grey_zone_normalised()
    cv2.rectangle(image, (x_at(low), margin), (x_at(high), axis_y), GREY_ZONE_RGB, -1)
    for index in range(bins):
        left, right, base = x_at(index / bins) + 1, x_at((index + 1) / bins) - 1, axis_y
        for verdict, colour in VERDICT_RGB.items():
            count = int(per_verdict[verdict][index])
            if count:
                bar_top = base - int(round(plot_height * count / top))
                cv2.rectangle(image, (left, bar_top), (right, base), colour, -1)
                base = bar_top
    cv2.line(image, (x_at(0.5), margin // 2), (x_at(0.5), axis_y), (0, 0, 0), 2)
    cv2.putText(image, "threshold 0.50", (x_at(0.5) + 4, margin), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                cv2.LINE_AA)
    cv2.line(image, (margin, axis_y), (width - margin, axis_y), (0, 0, 0), 1)
    for value in (0.0, 0.25, 0.5, 0.75, 1.0):
        cv2.putText(image, f"{value:.2f}", (x_at(value) - 12, height - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return image


def _marker(image: np.ndarray, x: int, y: int, radius: int, verdict: str) -> None:
    """A verdict's marker in its colour and shape, for colour-blind eyes: OK round, REVIEW a diamond, NG a square."""
    colour = VERDICT_RGB.get(verdict, CHANGE_RGB)
    if verdict == VERDICT_NG:
        cv2.rectangle(image, (x - radius, y - radius), (x + radius, y + radius), colour, -1)
    elif verdict == VERDICT_REVIEW:
        d = radius + 1
        diamond = np.array([(x, y - d), (x + d, y), (x, y + d), (x - d, y)], np.int32)
        cv2.fillPoly(image, [diamond], colour, cv2.LINE_AA)
    else:
        cv2.circle(image, (x, y), radius, colour, -1, cv2.LINE_AA)


def trend_png(scores: Sequence[float], verdicts: Sequence[str], bank_ids: Sequence[int | None],
              median_window: int = MEDIAN_WINDOW, width: int = 600, height: int = 200) -> np.ndarray:
    """The normalised scores (0..1) in inspection order, oldest left: a marker per part in its
    verdict's colour and shape (``_marker``), the threshold inside the grey zone's band, the rolling
    median (``services.trend``) and a dotted vertical line where the references changed."""
    image = np.full((height, width, 3), 255, np.uint8)
    margin = TREND_MARGIN
    left, right, top, bottom = margin, width - margin // 2, margin // 2, height - margin

    def y_at(value: float) -> int:
        return int(round(bottom - (bottom - top) * min(max(value, 0.0), 1.0)))

    def x_at(index: float) -> int:
        return int(round(left + (right - left) * (index + 0.5) / max(len(scores), 1)))

    low, high = grey_zone_normalised()
    cv2.rectangle(image, (left, y_at(high)), (right, y_at(low)), GREY_ZONE_RGB, -1)
    for index in bank_changes(bank_ids):
        x = x_at(index - 0.5)
        for y in range(top, bottom, 6):
            cv2.line(image, (x, y), (x, min(y + 2, bottom)), CHANGE_RGB, 1)
    cv2.line(image, (left, y_at(0.5)), (right, y_at(0.5)), TEXT_RGB, 1)
    radius = 3 if len(scores) <= 200 else 2
    for index, (score, verdict) in enumerate(zip(scores, verdicts)):
        _marker(image, x_at(index), y_at(score), radius, verdict)
    medians = [(x_at(i), y_at(m)) for i, m in enumerate(rolling_median(scores, median_window)) if m is not None]
    if len(medians) > 1:
        cv2.polylines(image, [np.array(medians, np.int32)], False, MEDIAN_RGB, 2, cv2.LINE_AA)
    cv2.rectangle(image, (left, top), (right, bottom), TEXT_RGB, 1)
    for value in (0.0, 0.5, 1.0):
        cv2.putText(image, f"{value:.1f}", (2, y_at(value) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.38, TEXT_RGB, 1,
                    cv2.LINE_AA)
    cv2.putText(image, "oldest", (left, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.38, TEXT_RGB, 1, cv2.LINE_AA)
    cv2.putText(image, "newest", (right - 44, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.38, TEXT_RGB, 1, cv2.LINE_AA)
    return image
