"""The grounded responder: answers in technician language built only from the fact sheet.

Deterministic and always available.  Every number, position, count and type in an answer is
read from the ``FactSheet``; what the facts cannot say gets "I can't tell that from this image"
and what they can.  Its answers pass the consistency guard by construction (a test holds it).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.calibration import VERDICT_NG, VERDICT_OK
from engine.defect_types import PROMPTS_SOURCE
from engine.facts import FactSheet
from engine.physical import format_mm
from engine.regions import Region

MAX_LISTED = 3
ASK_ME = ("Ask me where, how big, what shape, how many, what type, what colour, how severe, how sure, why, "
          "or what would make it pass.")


def answer(intent: str | None, focus: list[int] | None, facts: FactSheet) -> str:
    """The answer to a question of ``intent`` about the regions ``focus`` (None: the default scope)."""
    missing = [i for i in focus or [] if not 1 <= i <= facts.region_count]
    if missing and intent not in ("existence", "count", "summary"):
        return _no_such_region(missing[0], facts)
    handler = _HANDLERS.get(intent or "", _unknown)
    return handler(facts, _pick(focus, facts))


def _pick(focus: list[int] | None, facts: FactSheet) -> list[Region]:
    if focus is None:
        return list(facts.regions)
    return [facts.regions[i - 1] for i in focus if 1 <= i <= facts.region_count]


def _percent(value: float) -> str:
    return f"{value:.2f} %" if value < 10 else f"{value:.1f} %"


def _score_phrase(facts: FactSheet) -> str:
    return f"score {facts.score:.2f} (threshold {facts.threshold:.2f})"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _scene_warning(facts: FactSheet) -> str:
    """A caution when the image as a whole is unlike the references (see ``engine.scene``)."""
    if not facts.unlike_references:
        return ""
    return (f" Caution: this image as a whole looks unlike the project's references (scene distance "
            f"{facts.scene_distance:.2f}, where good parts stay within {facts.scene_limit:.2f}): check that it "
            "shows this part type, photographed with the same set-up, before trusting the verdict.")


def _cautions(facts: FactSheet) -> str:
    """What limits the verdict: an image unlike the references, a grey photo of a colour part, another frame."""
    grey = (" This is a grey photo of a part whose references are in colour: it was compared with them made "
            "grey, so a defect that differs only in colour cannot show.") if facts.compared_in_grey else ""
    frame = f" Caution: {facts.frame_note}; the verdict is less sure." if facts.frame_note else ""
    return _scene_warning(facts) + grey + frame


def _existence(facts: FactSheet, regions: list[Region]) -> str:
    return _verdict_answer(facts) + _cautions(facts)


def _main_region(facts: FactSheet) -> str:
    """Where the main region is, as a sentence with a leading space; empty without regions."""
    return f" The main one is at the {facts.regions[0].position} of {facts.basis_words}." if facts.regions else ""


def _verdict_answer(facts: FactSheet) -> str:
    if facts.verdict == VERDICT_OK:
        return f"No. The part looks OK: {_score_phrase(facts)}, no defect regions."
    if facts.verdict == VERDICT_NG:
        return (f"Yes. The part is NG: {_score_phrase(facts)}, {_plural(facts.region_count, 'defect region')}."
                f"{_main_region(facts)}")
    lean = "Probably yes" if facts.score >= facts.threshold else "Probably not"
    return f"{lean}, but it is borderline: {_grey_zone(facts)} and a person should look at it."


def _grey_zone(facts: FactSheet) -> str:
    """Why a part is REVIEW, as a clause: its score and the grey zone it lies in."""
    return (f"{_score_phrase(facts)} lies in the grey zone ({facts.grey_zone[0]:.2f} to {facts.grey_zone[1]:.2f}), "
            "so the verdict is REVIEW")


def _describe(facts: FactSheet, regions: list[Region]) -> str:
    """Everything measured about the region(s) asked about: where, how big, shape, look, strength, type."""
    if not regions:
        return _summary(facts, regions)
    lines = []
    for region in regions[:MAX_LISTED]:
        kind = "" if region.defect_type in ("unclassified", "unknown") else f" It is most like '{region.defect_type}'."
        lines.append(f"Region {region.index} is at the {region.position} of {facts.basis_words}, covers "
                     f"{_percent(region.area_percent)} of it and is {region.shape} "
                     f"(about {region.major_axis_px:.0f} px long); {_look(region)}; it peaks at "
                     f"{region.severity:.1f} times the pixel threshold.{kind}")
    return " ".join(lines)


def _disposition(facts: FactSheet, regions: list[Region]) -> str:
    """What to do with the part, phrased so that no bare yes/no can be read the wrong way round."""
    if facts.verdict == VERDICT_NG:
        text = (f"Reject it: the part is NG, {_score_phrase(facts)}, "
                f"{_plural(facts.region_count, 'defect region')}.{_main_region(facts)}")
    elif facts.verdict == VERDICT_OK:
        text = f"It can pass: the part looks OK, {_score_phrase(facts)}, no defect regions."
    else:
        lean = "rejecting" if facts.score >= facts.threshold else "passing"
        text = f"Hold it for a person to check: {_grey_zone(facts)}; the score leans towards {lean}."
    return text + _cautions(facts)


def _without_regions(facts: FactSheet, task: str) -> str:
    """The answer to where / how big / what type when no region passed the pixel threshold.

    ``task`` is what the question asked to do ("locate", "measure", "classify").
    """
    head = (f"No defect was found, so there is nothing to {task}." if facts.verdict == VERDICT_OK else
            f"I can't {task} a defect: the score is raised, but no region stands out above the pixel threshold.")
    return f"{head}{_strongest_spot(facts)}"


def _location(facts: FactSheet, regions: list[Region]) -> str:
    if not facts.regions:
        return _without_regions(facts, "locate")
    lines = []
    for region in regions[:MAX_LISTED]:
        x, y, w, h = region.bbox
        spill = _extending(region.extends_to)
        lines.append(f"Region {region.index} is at the {region.position} of {facts.basis_words}{spill} "
                     f"(x {x} to {x + w - 1}, y {y} to {y + h - 1} px).")
    if len(regions) > MAX_LISTED:
        lines.append(f"{len(regions) - MAX_LISTED} smaller regions are listed in the regions table.")
    return " ".join(lines)


def _extending(cells: Sequence[str]) -> str:
    """", extending into the X and Y" for the other cells a region or spot reaches; empty for none."""
    return f", extending into the {' and '.join(cells)}" if cells else ""


def _strongest_spot(facts: FactSheet) -> str:
    """Where the map peaks when no region passed the threshold (empty for old fact sheets)."""
    if facts.peak_position is None or facts.peak_level is None:
        return ""
    spill = _extending(facts.peak_extends_to)
    return (f" The strongest deviation from the references is at the {facts.peak_position} of {facts.basis_words}"
            f"{spill}, at {facts.peak_level:.1f} times the pixel threshold: worth a second look if you suspect a "
            "defect there.")


def _size(facts: FactSheet, regions: list[Region]) -> str:
    if not regions:
        return _without_regions(facts, "measure")
    lines = []
    for region in regions[:MAX_LISTED]:
        mm = facts.millimetres(region)
        if mm is None:
            lines.append(f"Region {region.index} covers {_percent(region.area_percent)} of {facts.basis_words} "
                         f"({region.area_px} px, box {region.bbox[2]} x {region.bbox[3]} px); it is {region.shape}, "
                         f"about {region.major_axis_px:.0f} px long.")
        else:
            lines.append(f"Region {region.index} is about {format_mm(mm['length'])} long and covers "
                         f"{format_mm(mm['area'], squared=True)}, {_percent(region.area_percent)} of "
                         f"{facts.basis_words} (box {format_mm(mm['width'])} x {format_mm(mm['height'])}; "
                         f"{region.area_px} px); it is {region.shape}.")
    return " ".join(lines)


def comparison(facts: FactSheet, first: int, second: int, by_length: bool) -> str:
    """Which of two regions is bigger (or longer), with both measures: "is the left one bigger than the other?"."""
    a, b = facts.regions[first - 1], facts.regions[second - 1]
    if by_length:
        x, y = round(a.major_axis_px), round(b.major_axis_px)
        word = "longer than" if x > y else "shorter than" if x < y else "about as long as"
        return f"Region {a.index} is {word} region {b.index}: about {x} against {y} px long."
    x, y = a.area_percent, b.area_percent
    word = "bigger than" if x > y else "smaller than" if x < y else "about as big as"
    return (f"Region {a.index} is {word} region {b.index}: it covers {_percent(x)} of {facts.basis_words}, "
            f"region {b.index} {_percent(y)}.")


def _length_mm(facts: FactSheet, region: Region) -> str:
    """", about 2.4 mm long" when the pixel size is known, else nothing."""
    mm = facts.millimetres(region)
    return "" if mm is None else f", about {format_mm(mm['length'])} long"


def _length(facts: FactSheet, region: Region) -> str:
    """The region's length in pixels, and in millimetres when the pixel size is known."""
    mm = facts.millimetres(region)
    return f"{region.major_axis_px:.0f} px" + ("" if mm is None else f" ({format_mm(mm['length'])})")


def _direction(degrees: float) -> str:
    """An orientation (degrees from the x axis, counter-clockwise as seen) in words."""
    if abs(degrees) < 22.5:
        return "horizontally"
    if abs(degrees) > 67.5:
        return "vertically"
    return "diagonally, from bottom left to top right" if degrees > 0 else "diagonally, from top left to bottom right"


def _shape(facts: FactSheet, regions: list[Region]) -> str:
    if not regions:
        return _without_regions(facts, "describe the shape of")
    lines = []
    for region in regions[:MAX_LISTED]:
        if region.shape == "elongated":
            lines.append(f"Region {region.index} is elongated, about {_length(facts, region)} long, running "
                         f"{_direction(region.orientation_deg)}.")
        else:
            lines.append(f"Region {region.index} is compact, roughly as wide as it is long "
                         f"(about {_length(facts, region)} long).")
    return " ".join(lines)


def _count(facts: FactSheet, regions: list[Region]) -> str:
    if facts.region_count == 0:
        if facts.verdict == VERDICT_OK:
            return "There are no defect regions: the part looks OK."
        return "I count 0 defect regions: the score is raised, but nothing stands out above the pixel threshold."
    verb = "is" if facts.region_count == 1 else "are"
    return f"There {verb} {_plural(facts.region_count, 'defect region')}."


def _type(facts: FactSheet, regions: list[Region]) -> str:
    if not regions:
        return _without_regions(facts, "classify")
    by_prompts = facts.type_source == PROMPTS_SOURCE
    lines = []
    for region in regions[:MAX_LISTED]:
        if region.defect_type in ("unclassified", "unknown"):
            if region.defect_type == "unclassified":
                why = "this project has no labelled defect examples yet"
            elif by_prompts:
                why = ("to the CLIP model it does not clearly match any defect type's prompts better than the rest, "
                       "or better than a flawless part's")
            else:
                why = "it is unlike every labelled example of this project"
            lines.append(f"I can't tell the type of region {region.index}: {why}. I can say it is {region.shape} "
                         f"and {region.appearance} compared with the reference.")
        elif by_prompts:
            lines.append(f"Region {region.index} looks most like '{region.defect_type}' to the CLIP model, "
                         "compared with its defect prompts; no operator has labelled this project's defects yet.")
        else:
            lines.append(f"Region {region.index} is most like the labelled examples of '{region.defect_type}'.")
    return " ".join(lines)


def _colour(facts: FactSheet, regions: list[Region]) -> str:
    head = f"The part is mostly {facts.part_colour}."
    if not regions:
        return head + " Nothing stands out above the pixel threshold, so there is no spot whose colour I could compare."
    looks = " ".join(f"Region {region.index} ({region.position}): {_look(region)}." for region in regions[:MAX_LISTED])
    return f"{head} {looks}"


def _severity(facts: FactSheet, regions: list[Region]) -> str:
    if not regions:
        return f"Nothing stands out above the pixel threshold: {_score_phrase(facts)}.{_strongest_spot(facts)}"
    lines = [f"Overall {facts.verdict}, {_score_phrase(facts)}."]
    for region in regions[:MAX_LISTED]:
        lines.append(f"Region {region.index} ({region.position}) peaks at {region.severity:.1f} times the pixel "
                     f"threshold and covers {_percent(region.area_percent)} of {facts.basis_words}.")
    if len(regions) > 1:
        lines.append(f"Region {regions[0].index} weighs most, size and strength together.")
    return " ".join(lines)


def _confidence(facts: FactSheet, regions: list[Region]) -> str:
    side = "above" if facts.score >= facts.threshold else "below"
    part = (f"Confidence is {facts.confidence}: the score {facts.score:.2f} is {side} the threshold "
            f"{facts.threshold:.2f}, grey zone {facts.grey_zone[0]:.2f} to {facts.grey_zone[1]:.2f}. "
            "The threshold was calibrated from "
            f"{_plural(facts.reference_count, 'good reference')} ({facts.calibration_method}).")
    if regions and len(regions) < facts.region_count:  # asked about some regions: how strongly each stands out
        part = " ".join(_region_strength(region) for region in regions[:MAX_LISTED]) + " " + part
    return part + _cautions(facts)


# A region whose peak is this many times the pixel threshold stands out clearly; below the first, barely.
WEAK_REGION, CLEAR_REGION = 1.5, 3.0


def _region_strength(region: Region) -> str:
    """How clearly one region stands out, from its peak over the pixel threshold ("is region 3 real?")."""
    peak = f"Region {region.index} peaks at {region.severity:.1f} times the pixel threshold"
    if region.severity < WEAK_REGION:
        return f"{peak}: it barely stands out and may be normal variation, so check it by eye."
    if region.severity < CLEAR_REGION:
        return f"{peak}: it stands out, but not by much."
    return f"{peak}: it stands out clearly."


def _margin(facts: FactSheet, regions: list[Region]) -> str:
    """What score would change the verdict, and what drives this one: "what would make it pass?"."""
    low, high = facts.grey_zone
    bands = (f"A score below {low:.2f} passes (OK), {low:.2f} to {high:.2f} goes to a person (REVIEW) and above "
             f"{high:.2f} is rejected (NG); this part scored {facts.score:.2f}, so it is {facts.verdict}.")
    if regions:
        drivers = "; ".join(f"region {r.index} ({r.position}), peak {r.severity:.1f} times the pixel threshold"
                            for r in regions[:MAX_LISTED])
        what = f" What raises it: {drivers}."
    elif facts.verdict == VERDICT_OK:
        what = _strongest_spot(facts)
    else:
        what = " No region stands out: the difference is spread thinly over the part."
    return (bands + what + " The sensitivity setting moves these limits for every part; refining the threshold "
            "from reviewed parts (References page) sets them for this part type.")


def _look(region: Region) -> str:
    """The region's colour and brightness against the same area of the nearest reference, as a clause."""
    if region.appearance == "unknown":
        return "its appearance could not be compared"
    if region.appearance.startswith("similar"):
        return "its colour and brightness match the reference, so the difference is in pattern or shape"
    return f"it is {region.appearance} than the reference"


def _difference(region: Region) -> str:
    layers = " and ".join(f"the {kind} layers" for kind in region.layer_kinds) or "the fused map only"
    return (f"region {region.index} ({region.position}): {_look(region)}; flagged by {layers}, "
            f"peak {region.severity:.1f} times the pixel threshold")


def _why(facts: FactSheet, regions: list[Region]) -> str:
    if not facts.regions and facts.verdict == VERDICT_OK:
        return (f"Nothing on this part differs from the {_plural(facts.reference_count, 'good reference')} more than "
                f"normal variation: {_score_phrase(facts)}.")
    if not facts.regions:
        return (f"The difference from the {_plural(facts.reference_count, 'good reference')} is spread thinly over "
                f"the part instead of concentrated in a region: {_score_phrase(facts)}.{_strongest_spot(facts)}")
    reference = f"reference {facts.nearest_reference + 1}" if facts.nearest_reference is not None else "the references"
    parts = "; ".join(_difference(r) for r in regions[:MAX_LISTED])
    return f"Compared with the nearest good reference ({reference}): {parts}."


def _compare(facts: FactSheet, regions: list[Region]) -> str:
    text = _why(facts, regions)
    if facts.regions:
        text += " Elsewhere the part matches the references."
    return text + _cautions(facts)


def _summary(facts: FactSheet, regions: list[Region]) -> str:
    head = f"{facts.verdict}, {_score_phrase(facts)}, confidence {facts.confidence}.{_cautions(facts)}"
    if not facts.regions:
        return head + " No defect regions."
    items = "; ".join(f"{r.index}) {r.position}, {_percent(r.area_percent)} of {facts.basis_words}"
                      f"{_length_mm(facts, r)}, {r.shape}, {r.appearance}, {r.defect_type}"
                      for r in facts.regions[:MAX_LISTED])
    more = f"; and {facts.region_count - MAX_LISTED} more" if facts.region_count > MAX_LISTED else ""
    return f"{head} {_plural(facts.region_count, 'defect region')}: {items}{more}."


def _unknown(facts: FactSheet, regions: list[Region]) -> str:
    return ("I can't tell that from this image. What I can say: " + _summary(facts, regions)
            + f" {ASK_ME}")


def _beyond(facts: FactSheet, regions: list[Region]) -> str:
    """Depth, thickness or weight: not in a photo of the surface; the measured size is what it shows."""
    known = _size(facts, regions) if facts.regions else _summary(facts, regions)
    return ("I can't tell that from this image: a photo shows the surface, not its depth, thickness or weight. "
            f"What I can say: {known}")


def _courtesy(facts: FactSheet, regions: list[Region]) -> str:
    return f"Glad to help. The verdict for this part is {facts.verdict}. {ASK_ME}"


def _no_such_region(index: int, facts: FactSheet) -> str:
    if facts.region_count == 0:
        return f"This part has no defect regions, so region {index} does not exist."
    return f"Region {index} does not exist: I found {_plural(facts.region_count, 'defect region')}."


def no_physical_scale(facts: FactSheet) -> str:
    """Said before a size answer to a question in millimetres or inches: an image carries no scale."""
    return ("I can't give millimetres: an image carries no scale and this project states no pixel size "
            f"(References page), so sizes are in pixels and as a share of {facts.basis_words}.")


def lone_region_elsewhere(facts: FactSheet, side: str) -> bool:
    """True when a question picks "the <side> one" but the only region is not on that side."""
    return facts.region_count == 1 and not set(side.split()) <= set(facts.regions[0].position.split())


def only_region(facts: FactSheet) -> str:
    """Says where the single region is, before answering about "the left one" it was asked as."""
    return f"There is only one defect region, at the {facts.regions[0].position} of {facts.basis_words}."


def _why_answer(facts: FactSheet, regions: list[Region]) -> str:
    return _why(facts, regions) + _cautions(facts)


def _cause(facts: FactSheet, regions: list[Region]) -> str:
    return "I can't tell what caused it from one image, only how it differs. " + _why_answer(facts, regions)


_HANDLERS = {"existence": _existence, "disposition": _disposition, "location": _location, "size": _size,
             "count": _count, "type": _type, "appearance": _colour, "describe": _describe, "severity": _severity,
             "confidence": _confidence, "why": _why_answer, "cause": _cause, "compare": _compare, "summary": _summary,
             "courtesy": _courtesy, "beyond": _beyond, "shape": _shape, "margin": _margin}
