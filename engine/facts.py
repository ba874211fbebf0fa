"""The fact sheet of one inspection: everything the explainer may say, and nothing else.

Built from the calibrated result, the regions (``engine.regions``) and the bank's references.
It is plain data (``to_dict``/``from_dict``) so that the database stores it as JSON and a stored
inspection can be explained again exactly as it was, without re-running the model.

Confidence in words comes from the margin between the normalised score and the threshold (0.5):
``high`` at a margin of 0.35 or more, ``moderate`` from 0.15, else ``low``; REVIEW is always low.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from engine.area import area_box, crop_to_area
from engine.calibration import VERDICT_NG, VERDICT_OK, VERDICT_REVIEW, Calibration
from engine.defect_types import NO_SOURCE, PROMPTS_SOURCE, TypeExamples, classify_regions
from engine.greyscale import to_grey
from engine.imageio import check_pixels, float_rgb_at, size_within
from engine.regions import (
    FALLBACK_PEAK_FRACTION,
    GRID_WORDS,
    Region,
    box_to_image_scale,
    colour_name,
    find_regions,
    foreground_suits,
    grid_cell,
    nearest_reference,
    part_extent,
    shifted,
    spot_extent,
    strongest_point,
    to_image_scale,
)

HIGH_MARGIN, MODERATE_MARGIN = 0.35, 0.15
# Facts of larger images are measured on a copy of this longer side and scaled back.
FACTS_MAX_SIDE = 2048


@dataclass
class FactSheet:
    """Measured facts of one inspection (positions in pixels of the original image).

    ``peak_*`` is the map's strongest point on the part and its level in multiples of the pixel
    threshold: where to look twice on a part that passed, since it is measured whatever the verdict;
    ``peak_extends_to`` the other grid cells its surroundings reach (``engine.regions.spot_extent``).
    ``scene_*`` is the scene check (``engine.scene``): None in fact sheets from before it.
    ``compared_in_grey``: a grey photo judged against the colour references made grey, so a
    defect that differs only in colour cannot show (``engine.greyscale``).  ``mm_per_pixel``: the
    photo's pixel size when the project states one (``engine.physical``); None keeps sizes in pixels.
    ``frame_aspects``: (this photo's width / height, the references') when it has another shape than the
    frame they share (``AnomalyResult.frame_aspects``); None otherwise.
    """

    verdict: str
    score: float
    raw_score: float
    threshold: float
    grey_zone: tuple[float, float]
    confidence: str
    image_size: tuple[int, int]
    part_box: tuple[int, int, int, int]
    part_basis: str
    part_colour: str
    regions: list[Region] = field(default_factory=list)
    nearest_reference: int | None = None
    reference_count: int = 0
    calibration_method: str = ""
    sensitivity: float = 0.5
    type_source: str = NO_SOURCE
    peak_xy: tuple[int, int] | None = None
    peak_position: str | None = None
    peak_level: float | None = None
    peak_extends_to: tuple[str, ...] = ()
    scene_distance: float | None = None
    scene_limit: float | None = None
    compared_in_grey: bool = False
    mm_per_pixel: float | None = None
    frame_aspects: tuple[float, float] | None = None

    def millimetres(self, region: Region) -> dict[str, float] | None:
        """The region's length, box width and height (mm) and area (mm²); None without a pixel size."""
        if self.mm_per_pixel is None:
            return None
        scale = self.mm_per_pixel
        return {"length": region.major_axis_px * scale, "width": region.bbox[2] * scale,
                "height": region.bbox[3] * scale, "area": region.area_px * scale * scale}

    def largest_region(self) -> Region | None:
        """The region with the most pixels; None on a part without regions."""
        return max(self.regions, key=lambda region: region.area_px, default=None)

    @property
    def basis_words(self) -> str:
        """What region sizes are a share of: "the part", "the inspection area" or "the image"."""
        return {"part": "the part", "area": "the inspection area"}.get(self.part_basis, "the image")

    @property
    def unlike_references(self) -> bool:
        """The image as a whole does not look like the references (wrong project or set-up?)."""
        return (self.scene_distance is not None and self.scene_limit is not None
                and self.scene_distance > self.scene_limit)

    @property
    def frame_note(self) -> str | None:
        """What to tell the technician about ``frame_aspects``; None when the photo has the references' shape."""
        if self.frame_aspects is None:
            return None
        mine, theirs = self.frame_aspects
        return (f"this photo's shape (width : height {mine:.2f}) is not the references' ({theirs:.2f}): another "
                "camera view or a crop?")

    @property
    def region_count(self) -> int:
        """Number of defect regions found."""
        return len(self.regions)

    @property
    def is_defective(self) -> bool | None:
        """True for NG, False for OK, None for REVIEW (a person decides)."""
        return {VERDICT_NG: True, VERDICT_OK: False}.get(self.verdict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON storage."""
        data = asdict(self)
        data["regions"] = [r.to_dict() for r in self.regions]
        data["grey_zone"], data["image_size"], data["part_box"] = (
            list(self.grey_zone), list(self.image_size), list(self.part_box))
        data["peak_xy"] = list(self.peak_xy) if self.peak_xy is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FactSheet:
        """Inverse of ``to_dict``."""
        values = dict(data)
        values["regions"] = [Region.from_dict(r) for r in values.get("regions", [])]
        for key in ("grey_zone", "image_size", "part_box", "peak_xy", "peak_extends_to", "frame_aspects"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)


def confidence_words(verdict: str, normalised: float) -> str:
    """How sure the verdict is, from its margin to the threshold."""
    if verdict == VERDICT_REVIEW:
        return "low"
    margin = abs(normalised - 0.5)
    return "high" if margin >= HIGH_MARGIN else "moderate" if margin >= MODERATE_MARGIN else "low"


def build_facts(image: np.ndarray, result: Any, bank: Any, sensitivity: float = 0.5,
                type_examples: TypeExamples | None = None,
                typer: Callable[[np.ndarray, list[Region]], None] | None = None,
                mm_per_pixel: float | None = None) -> FactSheet:
    """The fact sheet of ``result`` (an ``AnomalyResult``) for ``image`` scored against ``bank``.

    Defect types come from the project's labelled examples when it has some, else from
    ``typer`` (CLIP prompts, when the bank's backbone has a text tower), else stay unclassified.
    The verdict and the normalised score are recomputed at ``sensitivity`` from the raw score,
    through the bank's calibration, so they agree with every other view of the same inspection.
    ``image`` may be decoded pixels of any supported type (``engine.imageio.decode_image``); one
    larger than ``FACTS_MAX_SIDE`` is measured on a shrunk copy (``working_copy``), and positions
    and sizes are given in its own pixels all the same.  With an inspection area, the facts are
    measured on the area alone (the part, its 3x3 grid and the nearest reference are the area's)
    and placed back in the photo's pixels.  ``mm_per_pixel``, the photo's pixel size when the
    project states one (``engine.physical.photo_pixel_size``), lets sizes be given in millimetres too.
    """
    if getattr(result, "area", None) is not None:
        facts = build_facts(crop_to_area(image, result.area), result.area_view(), bank, sensitivity,
                            type_examples, typer, mm_per_pixel)
        top, _, left, _ = area_box(result.image_size, result.area)
        return in_photo(facts, left, top, result.image_size)
    calibration = bank.calibration
    if calibration is None:
        raise ValueError("the bank has no calibration; rebuild it")
    pixels = working_copy(image)
    height, width = result.image_size
    work_height, work_width = pixels.shape[:2]
    shrunk = (work_height, work_width) != (height, width)
    anomaly_map = result.map_at(work_height, work_width) if shrunk else result.anomaly_map
    sx, sy = width / work_width, height / work_height
    judged = _judgement(calibration, result.score, sensitivity)
    verdict = judged["verdict"]
    pixel_cut = calibration.pixel_cut(sensitivity)
    use_part = bank.config.foreground == "on" or foreground_suits(pixels)
    part_mask, part_box = part_extent(pixels, use_part)
    nearest = nearest_reference(pixels, bank.thumbnails)
    reference = bank.thumbnails[nearest] if nearest is not None else None
    if reference is not None and result.compared_in_grey:
        reference = to_grey(reference)  # a grey photo's colour against a colour reference says nothing
    measured = find_regions(pixels, anomaly_map, result.layer_maps, pixel_cut, flagged=verdict != VERDICT_OK,
                            part_mask=part_mask, part_box=part_box, reference=reference)
    regions = [to_image_scale(r, sx, sy) for r in measured] if shrunk else measured
    type_source = classify_regions(regions, type_examples)
    if type_source == NO_SOURCE and typer is not None and regions:
        typer(pixels, measured)
        for region, typed in zip(regions, measured):
            region.defect_type = typed.defect_type
        type_source = getattr(typer, "source", PROMPTS_SOURCE)
    peak_x, peak_y = strongest_point(anomaly_map, part_mask)
    peak_row, peak_col = grid_cell(peak_x, peak_y, part_box)
    colour_pixels = pixels[part_mask] if part_mask is not None else pixels.reshape(-1, 3)
    return FactSheet(
        **judged, raw_score=float(result.score), threshold=0.5, image_size=(height, width),
        part_box=box_to_image_scale(part_box, sx, sy) if shrunk else part_box,
        part_basis="part" if part_mask is not None else "image",
        part_colour=colour_name(np.median(colour_pixels, axis=0)), regions=regions, nearest_reference=nearest,
        reference_count=bank.image_count, calibration_method=calibration.method,
        type_source=type_source,
        peak_xy=(min(width - 1, int((peak_x + 0.5) * sx)), min(height - 1, int((peak_y + 0.5) * sy))),
        peak_position=GRID_WORDS[peak_row][peak_col],
        peak_extends_to=tuple(spot_extent(anomaly_map, peak_x, peak_y, part_box)),
        peak_level=round(float(anomaly_map[peak_y, peak_x]) / max(pixel_cut, 1e-9), 3),
        scene_distance=None if result.scene_distance is None else round(result.scene_distance, 4),
        scene_limit=None if calibration.scene_limit is None else round(calibration.scene_limit, 4),
        compared_in_grey=result.compared_in_grey, mm_per_pixel=mm_per_pixel, frame_aspects=result.frame_aspects)


def in_photo(facts: FactSheet, left: int, top: int, image_size: tuple[int, int]) -> FactSheet:
    """Facts measured on an inspection area whose top left corner is at (``left``, ``top``) of a
    photo of ``image_size``, in the photo's pixels."""
    x, y, w, h = facts.part_box
    peak = None if facts.peak_xy is None else (facts.peak_xy[0] + left, facts.peak_xy[1] + top)
    return replace(facts, image_size=image_size, part_box=(x + left, y + top, w, h), peak_xy=peak,
                   part_basis="part" if facts.part_basis == "part" else "area",
                   regions=[shifted(region, left, top) for region in facts.regions])


def working_copy(image: np.ndarray) -> np.ndarray:
    """``image`` as float RGB, shrunk to at most ``FACTS_MAX_SIDE`` on its longer side.

    Regions are measured on this copy and scaled back: on a 100-megapixel photo, measuring at
    full size took 10 s and 5 GB, while the map itself is a bilinear enlargement of one a few
    hundred pixels wide.
    """
    check_pixels(image)
    return float_rgb_at(image, size_within(*image.shape[:2], FACTS_MAX_SIDE))


def facts_at(facts: FactSheet, calibration: Calibration | None, sensitivity: float) -> FactSheet:
    """The fact sheet as it reads at another sensitivity, without inference.

    Verdict, score, grey zone and confidence follow the stored raw score through the calibration,
    as every other view re-labels.  Regions keep their measurements: an OK part has none; for a
    flagged part those whose peak clears the pixel threshold at this sensitivity stay (with the
    regions' own fallback: the strongest ones when none clears it), severity re-expressed against
    it.  Regions never measured (the part passed when inspected) cannot appear; the strongest spot
    then says where to look.
    """
    if calibration is None or sensitivity == facts.sensitivity:
        return facts
    judged = _judgement(calibration, facts.raw_score, sensitivity)
    old_cut, cut = calibration.pixel_cut(facts.sensitivity), max(calibration.pixel_cut(sensitivity), 1e-9)
    regions: list[Region] = []
    if judged["verdict"] != VERDICT_OK and facts.regions:
        strongest = max(r.peak for r in facts.regions)
        floor = cut if strongest > cut else FALLBACK_PEAK_FRACTION * strongest
        regions = [replace(r, severity=round(r.peak / cut, 3)) for r in facts.regions if r.peak > floor]
    level = None if facts.peak_level is None else round(facts.peak_level * old_cut / cut, 3)
    return replace(facts, **judged, regions=regions, peak_level=level)


def _judgement(calibration: Calibration, raw_score: float, sensitivity: float) -> dict[str, Any]:
    """Verdict, normalised score, grey zone and confidence of a raw score at ``sensitivity``."""
    verdict = calibration.verdict(raw_score, sensitivity)
    normalised = calibration.normalise(raw_score, sensitivity)
    low, high = calibration.grey_zone(sensitivity)
    return {"verdict": verdict, "score": round(normalised, 4), "confidence": confidence_words(verdict, normalised),
            "grey_zone": (round(calibration.normalise(low, sensitivity), 4),
                          round(calibration.normalise(high, sensitivity), 4)),
            "sensitivity": sensitivity}
