"""The colour each verdict is shown in, everywhere: the GUI's badge and tables, and the reports."""

from __future__ import annotations

VERDICT_COLOURS = {"OK": "#2e7d32", "REVIEW": "#f9a825", "NG": "#c62828"}
NO_VERDICT_COLOUR = "#607d8b"


def rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' as an (r, g, b) tuple of 0-255 ints."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
