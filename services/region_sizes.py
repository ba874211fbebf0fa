"""The size the result tables show for a part: its largest region's length.

In millimetres when the inspection had a pixel size (``engine.physical``), else in pixels; the
length in pixels is the sort key, so a column sorts the same whatever the unit shown.
"""

from __future__ import annotations

from engine.facts import FactSheet
from engine.physical import format_mm


def largest_length(facts: FactSheet) -> tuple[str, float] | None:
    """("2.4 mm" or "47 px", length in pixels) of the region with the most pixels; None without regions."""
    region = facts.largest_region()
    if region is None:
        return None
    mm = facts.millimetres(region)
    return (f"{region.major_axis_px:.0f} px" if mm is None else format_mm(mm["length"])), region.major_axis_px
