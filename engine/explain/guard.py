"""The consistency guard: checks an answer's claims against the fact sheet.

A conflict is any parsed claim the facts do not support: a yes/no that disagrees with the
verdict (for REVIEW, with the side of the threshold the score lies on), a position no region
covers (its centroid's cell, or a cell it extends into; with no regions, the map's strongest
point), a count other than the region count,
an area percentage no region has (within rounding), a defect type no region carries, a
shade ("darker", "redder") that no region shows against the reference, a pixel measure (area,
box, coordinate, length) no region has, a score, threshold or grey zone other than the sheet's,
a multiple of the pixel threshold that no region peaks at (nor the map, on a part without
regions), a reference count other than the bank's, a reference other than the nearest one
(by number), a confidence level other than the sheet's, a
shape (elongated, compact) no region has, a colour of the part other than the measured one, or
a size in millimetres or inches: any, without the project's pixel size, for an image carries no
scale; with it, one that no region's length, box side or area (mm²) has.
``omissions`` catches the other failure of a small model: a fluent answer that does not answer
the question.  Where all it left out is the yes/no or the count, ``completed`` puts the grounded
sentence that states it in front instead of discarding the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.calibration import VERDICT_NG, VERDICT_OK
from engine.explain.claims import Claims, parse_claims
from engine.facts import FactSheet
from engine.physical import stated_millimetres

PERCENT_TOLERANCE = 0.06
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")  # not the point inside a number such as 0.50
# A stated pixel measure may round the measured one ("about 260 px" for 264).
PIXEL_TOLERANCE = 0.03
# Millimetres are stated to two significant figures ("2.4 mm" for 2.35).
MM_RELATIVE_TOLERANCE, MM_TOLERANCE = 0.06, 0.0
SCORE_TOLERANCE = 0.011
MULTIPLE_TOLERANCE = 0.051
# A draft that starts by saying what cannot be told ("I can't tell that from this image") must be
# rephrased with that refusal kept: an answer that drops it would answer what nothing measured.
REFUSAL = re.compile(r"\b(?:can[’']?t|cannot|can not|unable|not possible|no way to|does not show|doesn[’']?t show)\b",
                     re.IGNORECASE)


def expected_defective(facts: FactSheet) -> bool:
    """The yes/no an answer must give: the verdict, or for REVIEW the side of the threshold."""
    if facts.verdict == VERDICT_NG:
        return True
    if facts.verdict == VERDICT_OK:
        return False
    return facts.score >= facts.threshold


def conflicts(text: str, facts: FactSheet, claims: Claims | None = None) -> list[str]:
    """Human-readable conflicts between ``text`` and ``facts``; empty when the answer is consistent."""
    claims = claims or parse_claims(text)
    return _verdict_and_place(claims, facts) + _measures(claims, facts) + _descriptions(claims, facts)


def _near_any(value: float, measured: list[float] | set[float], absolute: float, relative: float) -> bool:
    """True when ``value`` is one of ``measured`` up to rounding (the larger of the two tolerances)."""
    return any(abs(value - m) <= max(absolute, relative * m) for m in measured)


def _verdict_and_place(claims: Claims, facts: FactSheet) -> list[str]:
    """The yes/no, positions and region count."""
    found = []
    if claims.defective is not None and claims.defective != expected_defective(facts):
        found.append(f"says {'defective' if claims.defective else 'not defective'}, verdict is {facts.verdict}")
    positions = {p for r in facts.regions for p in [r.position, *r.extends_to]}
    if not facts.regions and facts.peak_position is not None:
        positions.update([facts.peak_position, *facts.peak_extends_to])
    for position in claims.positions:
        if position not in positions:
            found.append(f"position '{position}' where no region is ({', '.join(sorted(positions)) or 'none'})")
    found += [f"count {count}, measured {facts.region_count}" for count in claims.counts if count != facts.region_count]
    return found


def _measures(claims: Claims, facts: FactSheet) -> list[str]:
    """Sizes, scores, thresholds, peaks and reference counts: every number an answer states."""
    areas = [r.area_percent for r in facts.regions]
    found = [f"area {percent} % matches no region" for percent in claims.percents
             if not _near_any(percent, areas, PERCENT_TOLERANCE, 0.05)]
    measures = pixel_measures(facts)
    found += [f"{pixels:g} px matches no measured region" for pixels in claims.pixels
              if not _near_any(pixels, measures, 1.5, PIXEL_TOLERANCE)]
    found += _physical(claims, facts)
    found += [f"score {value:g}, measured {facts.score:.2f}" for value in claims.scores
              if abs(value - facts.score) > SCORE_TOLERANCE]
    found += [f"threshold {value:g}, calibrated {facts.threshold:.2f}" for value in claims.thresholds
              if abs(value - facts.threshold) > SCORE_TOLERANCE]
    zone = facts.grey_zone
    found += [f"grey zone {low:g} to {high:g}, calibrated {zone[0]:.2f} to {zone[1]:.2f}"
              for low, high in claims.grey_zones
              if abs(low - zone[0]) > SCORE_TOLERANCE or abs(high - zone[1]) > SCORE_TOLERANCE]
    peaks = [r.severity for r in facts.regions] + ([facts.peak_level] if facts.peak_level is not None else [])
    found += [f"{value:g} times the pixel threshold matches no measured peak" for value in claims.multiples
              if not _near_any(value, peaks, MULTIPLE_TOLERANCE, 0.05)]
    found += [f"{count} references, the bank has {facts.reference_count}" for count in claims.reference_counts
              if count != facts.reference_count]
    nearest = None if facts.nearest_reference is None else facts.nearest_reference + 1
    found += [f"reference {number}, the nearest is {nearest or 'not known'}"
              for number in dict.fromkeys(claims.reference_numbers) if number != nearest]
    return found


def _physical(claims: Claims, facts: FactSheet) -> list[str]:
    """Sizes in millimetres (or other units): none without a pixel size, else only measured ones."""
    if facts.mm_per_pixel is None:
        return [f"states '{size}', but the image has no scale" for size in claims.physical]
    sizes = [facts.millimetres(region) or {} for region in facts.regions]
    lengths = [value for size in sizes for key, value in size.items() if key != "area"]
    areas = [size["area"] for size in sizes]
    found = []
    for text in claims.physical:
        stated = stated_millimetres(text)
        if not stated or any(not _near_any(value, areas if squared else lengths, MM_TOLERANCE, MM_RELATIVE_TOLERANCE)
                             for value, squared in stated):
            found.append(f"states '{text}', which matches no measured region")
    return found


def _descriptions(claims: Claims, facts: FactSheet) -> list[str]:
    """Words that describe: defect types, shades, shapes, the part's colour and the confidence level."""
    types = {r.defect_type for r in facts.regions}
    found = [f"type '{kind}' not measured" for kind in claims.types if kind not in types]
    shades = {word for r in facts.regions for word in r.appearance.split(" and ")}
    found += [f"says '{shade}', no region is" for shade in dict.fromkeys(claims.shades) if shade not in shades]
    shapes = {r.shape for r in facts.regions}
    found += [f"says '{shape}', no region is" for shape in dict.fromkeys(claims.shapes) if shape not in shapes]
    found += [f"part colour '{colour}', measured {facts.part_colour}" for colour in dict.fromkeys(claims.part_colours)
              if colour != facts.part_colour]
    found += [f"confidence {level}, measured {facts.confidence}" for level in dict.fromkeys(claims.confidences)
              if level != facts.confidence]
    return found


def pixel_measures(facts: FactSheet) -> set[float]:
    """Every pixel number the fact sheet supports: region areas, boxes, coordinates and lengths."""
    measures: set[float] = set()
    for region in facts.regions:
        x, y, w, h = region.bbox
        measures.update((region.area_px, x, y, w, h, x + w - 1, y + h - 1, round(region.major_axis_px)))
    return {float(m) for m in measures}


def omissions(text: str, draft: str, intents: Sequence[str], facts: FactSheet) -> list[str]:
    """What a rephrased answer leaves out of the grounded ``draft``: an answer must answer.

    The yes/no, a position, the count and a size that the draft states must be stated again, and
    an answer about confidence must say how confident, and one about colour the part's colour and
    every shade the draft names.  An answer to "where" must name every
    region position the draft names: listing the first of three regions is not an answer.  A
    draft that says what cannot be told (depth, cause, an unknown question) must keep saying so.
    """
    said, needed = parse_claims(text), parse_claims(draft)
    missing = []
    if needed.defective is not None and said.defective is None:
        missing.append("no yes/no")
    if needed.positions and not said.positions:
        missing.append("no position")
    elif "location" in intents:
        homes = {r.position for r in facts.regions}
        missing += [f"left out the region at the {p}" for p in dict.fromkeys(needed.positions)
                    if p in homes and p not in said.positions]
    if needed.counts and not said.counts:
        missing.append("no count")
    if needed.percents and not said.percents:
        missing.append("no size")
    if "I can't" in draft and not REFUSAL.search(text):
        missing.append("dropped what cannot be told")
    if "confidence" in intents and facts.confidence not in text.lower():
        missing.append("no confidence level")
    if "appearance" in intents:
        missing += [f"left out '{shade}'" for shade in dict.fromkeys(needed.shades) if shade not in said.shades]
        if facts.part_colour not in text.lower():
            missing.append("no part colour")
    return missing


# Omissions an answer is completed for rather than replaced: the draft states each in a sentence
# of its own ("Yes.", "There are 2 defect regions."), which goes in front of the model's words.
COMPLETABLE = {"no yes/no": lambda claims: claims.defective is not None, "no count": lambda claims: bool(claims.counts)}


def sentences(text: str) -> list[str]:
    """``text`` cut after each full stop, question or exclamation mark (not inside numbers like 0.50)."""
    parts, start = [], 0
    for end in SENTENCE_END.finditer(text):
        parts.append(text[start:end.end()].strip())
        start = end.end()
    tail = text[start:].strip()
    return [part for part in parts + [tail] if part]


def completed(text: str, draft: str, missing: list[str]) -> str | None:
    """``text`` with the grounded ``draft``'s sentences that state what it left out put in front.

    Only a left-out yes/no or count is completed (anything else left out, or a conflict, means
    the answer is replaced); None when the draft has no such sentence.  The caller checks the
    completed answer again.
    """
    if not missing or any(m not in COMPLETABLE for m in missing):
        return None
    lead: list[str] = []
    for omission in missing:
        found = next((s for s in sentences(draft) if COMPLETABLE[omission](parse_claims(s))), None)
        if found is None:
            return None
        if found not in lead:
            lead.append(found)
    return " ".join([*lead, text.strip()])
