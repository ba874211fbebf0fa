"""Sizes in millimetres, from the pixel size of a project's camera set-up.

A photo carries no scale, so without one every size is in pixels and as a share of the part, and
the explainer refuses millimetres.  Acceptance criteria on the shop floor are in millimetres
("reject scratches longer than 0.5 mm"), so a project may state its *pixel size*: the millimetres
one pixel spans on the part, at the references' resolution (from the camera and lens, or measured:
a part 50 mm wide that spans 1000 px gives 0.05 mm).  The fact sheet then carries it, and region
sizes are also given in millimetres: length (major axis), box width and height, area in mm².

The pixel size holds for the references' frame.  A photo of the same view at another resolution
(``engine.frame.same_frame``, the engine's rule) has proportionally larger or smaller pixels;
crops of varying size (no common frame) are taken at the references' own resolution, as the
engine does.
"""

from __future__ import annotations

import math
import re

from engine.frame import same_frame

MAX_PIXEL_SIZE_MM = 100.0
UNIT_MM = {"mm": 1.0, "millimeter": 1.0, "millimetre": 1.0, "cm": 10.0, "centimeter": 10.0, "centimetre": 10.0,
           "µm": 1e-3, "um": 1e-3, "micron": 1e-3, "micrometer": 1e-3, "micrometre": 1e-3, "inch": 25.4}
MEASURE = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*"
                     r"(mm|cm|µm|um|microns?|micromet(?:er|re)s?|millimet(?:er|re)s?|centimet(?:er|re)s?|inch(?:es)?)"
                     r"(²|2)?(?![\w])", re.I)


class PixelSizeError(ValueError):
    """A pixel size that is not a positive number of millimetres up to ``MAX_PIXEL_SIZE_MM``."""


def checked_pixel_size(mm_per_pixel: float) -> float:
    """``mm_per_pixel`` as a float, or PixelSizeError saying what is allowed."""
    if isinstance(mm_per_pixel, bool) or not isinstance(mm_per_pixel, (int, float)) \
            or not math.isfinite(mm_per_pixel) or not 0.0 < mm_per_pixel <= MAX_PIXEL_SIZE_MM:
        raise PixelSizeError(f"The pixel size must be a number of millimetres above 0 and at most "
                             f"{MAX_PIXEL_SIZE_MM:g}, not {mm_per_pixel!r}.")
    return float(mm_per_pixel)


def photo_pixel_size(mm_per_pixel: float, reference_frame: tuple[int, int] | None,
                     image_size: tuple[int, int]) -> float:
    """The pixel size of a photo of ``image_size`` (h, w), given the pixel size at the references' frame."""
    height, width = image_size
    if not same_frame(height, width, reference_frame):
        return mm_per_pixel  # crops, or another view altogether: inspected at the references' scale
    return mm_per_pixel * reference_frame[1] / width


def reference_pixel_size(photo_mm_per_pixel: float, reference_frame: tuple[int, int] | None,
                         image_size: tuple[int, int]) -> float:
    """The pixel size at the references' frame, from one measured on a photo of ``image_size``
    (the inverse of ``photo_pixel_size``)."""
    return photo_mm_per_pixel / photo_pixel_size(1.0, reference_frame, image_size)


def format_mm(value: float, squared: bool = False) -> str:
    """``value`` millimetres to two significant figures (whole units from 10): "2.4 mm", "0.35 mm²"."""
    digits = 0 if value >= 10 else 1 - math.floor(math.log10(max(value, 1e-12)))  # never an exponent
    number = f"{value:.{digits}f}"
    return f"{number} mm{'²' if squared else ''}"


def stated_millimetres(text: str) -> list[tuple[float, bool]]:
    """Every size ``text`` states in a physical unit ("2.4 mm", "0.3 cm", "12 mm²"), in millimetres,
    each with whether it is an area."""
    stated = []
    for match in MEASURE.finditer(text):
        number, unit, squared = match.groups()
        factor = next(value for name, value in UNIT_MM.items() if unit.lower().startswith(name))
        stated.append((float(number.replace(",", "")) * (factor ** 2 if squared else factor), squared is not None))
    return stated
