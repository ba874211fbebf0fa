"""Parse the checkable claims out of an answer: yes/no, 3x3 positions, counts, sizes, types, shades,
pixel measures, scores, thresholds and grey zones, multiples of the pixel threshold, reference
counts and the nearest reference's number, the confidence level, region shapes, the part's colour,
and any size in physical units.

One parser serves the consistency guard (LLM answers) and the ``eval-chat`` benchmark, so what
the benchmark scores is exactly what the guard checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

POSITION_PATTERNS = (
    ("top left", r"\b(?:top|upper)[ -]left\b"), ("top right", r"\b(?:top|upper)[ -]right\b"),
    ("bottom left", r"\b(?:bottom|lower)[ -]left\b"), ("bottom right", r"\b(?:bottom|lower)[ -]right\b"),
    ("top", r"\b(?:top|upper)\b"), ("bottom", r"\b(?:bottom|lower)\b"),
    ("left", r"\bleft\b"), ("right", r"\bright\b"), ("centre", r"\b(?:centre|center|middle)\b"),
)
POSITION_CELLS = {
    "top left": (0, 0), "top": (0, 1), "top right": (0, 2), "left": (1, 0), "centre": (1, 1), "right": (1, 2),
    "bottom left": (2, 0), "bottom": (2, 1), "bottom right": (2, 2),
}
NUMBER_WORDS = {"no": 0, "zero": 0, "one": 1, "a single": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
COUNT_NOUN = (r"(?:distinct |separate |defect(?:ive)? |anomal(?:y|ous) )?"
              r"(?:defects?|regions?|anomal(?:y|ies)|areas?|spots?)")
COUNT_PATTERN = re.compile(
    r"\b(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\s+" + COUNT_NOUN + r"\b", re.I)
PERCENT_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*%")
# Comparative colour words, as the regions' appearance against the reference states them.
SHADE_PATTERN = re.compile(r"\b(darker|brighter|lighter|redder|greener|yellower|bluer)\b", re.I)
SHADE_SYNONYMS = {"lighter": "brighter"}
KNOWN_TYPES = ("scratch", "crack", "dent", "hole", "stain", "contamination", "discolo(?:u)?ration", "chip",
               "missing", "misplaced", "bent", "cut", "fold", "glue", "oil", "rust", "print", "pit", "break",
               "deformation", "squeeze", "tear", "dirt", "dust", "burr", "bubble", "hair", "fib(?:re|er)", "smudge",
               "fingerprint", "particle", "inclusion", "blister", "corrosion")
TYPE_PATTERN = re.compile(r"\b(" + "|".join(KNOWN_TYPES) + r")(?:e?s|ed)?\b", re.I)
NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
PIXEL_PATTERN = re.compile(NUMBER + r"\s*(?:px|pixels?)\b", re.I)
PHYSICAL_PATTERN = re.compile(r"\d(?:[\d.,]*)\s*(?:mm|cm|µm|um|microns?|micrometre?s?|micrometers?|millimet(?:er|re)s?|"
                              r"centimet(?:er|re)s?|inch(?:es)?)(?:²|2)?(?![\w])", re.I)
SCORE_PATTERN = re.compile(r"\bscore\s*(?:of|is|was|at|:|=)?\s*" + NUMBER, re.I)
THRESHOLD_PATTERN = re.compile(r"\bthreshold\s*(?:of|is|was|at|:|=)?\s*" + NUMBER, re.I)
MULTIPLE_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*(?:times|x|×)\s+(?:the\s+)?(?:pixel\s+)?threshold", re.I)
REFERENCES_PATTERN = re.compile(r"\b(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) +
                                r")\s+(?:good\s+)?references?\b", re.I)
GREY_ZONE_PATTERN = re.compile(r"gr[ae]y zone\s*(?:is|of|from|:)?\s*\(?(?:from\s+)?" + NUMBER
                               + r"\s*(?:to|-|–)\s*" + NUMBER, re.I)
CONFIDENCE_PATTERN = re.compile(r"\bconfidence(?:\s+level)?\s*(?:is|:)?\s*(high|moderate|medium|low)\b|"
                                r"\b(high|moderate|medium|low)(?:ly)?\s+confiden(?:ce|t)\b", re.I)
CONFIDENCE_SYNONYMS = {"medium": "moderate"}
REFERENCE_INDEX_PATTERN = re.compile(r"\breference\s+(?:#\s*|no\.?\s*)?(\d+)\b", re.I)
SHAPE_PATTERN = re.compile(r"\b(elongated|compact)\b", re.I)
COLOUR_WORDS = r"(?:(?:dark|light)\s+)?(?:grey|gray|black|white|red|orange|yellow|green|cyan|blue|purple|pink|brown)"
PART_COLOUR_PATTERN = re.compile(r"\b(?:part|object)\s+is\s+(?:mostly\s+|mainly\s+|largely\s+|predominantly\s+)?("
                                 + COLOUR_WORDS + r")\b", re.I)
YES_PATTERN = re.compile(r"^\W*(?:(?:probably|likely) )?(?:yes|yeah|yep|ng)\b", re.I)
NO_PATTERN = re.compile(r"^\W*(?:(?:probably|likely) )?(?:no|not|ok)\b(?!\s+more)", re.I)
NEGATIVE_PHRASES = re.compile(r"\b(?:no (?:defects?|anomal(?:y|ies)|defect regions?) (?:was |were )?(?:found|detected|"
                              r"visible|present)|there (?:is|are) no (?:defects?|anomal)|looks? (?:ok|good|normal)|"
                              r"is ok\b|verdict:? ok)", re.I)
POSITIVE_PHRASES = re.compile(r"\b(?:is (?:defective|ng)\b|verdict:? ng|there (?:is|are) (?:an? )?(?:defects?|anomal)|"
                              r"(?:defects?|anomal(?:y|ies)) (?:was |were |is |are )?(?:found|detected|present))", re.I)


@dataclass
class Claims:
    """What an answer asserts, in checkable form."""

    defective: bool | None = None
    positions: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    percents: list[float] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    shades: list[str] = field(default_factory=list)
    pixels: list[float] = field(default_factory=list)
    physical: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    multiples: list[float] = field(default_factory=list)
    reference_counts: list[int] = field(default_factory=list)
    grey_zones: list[tuple[float, float]] = field(default_factory=list)
    confidences: list[str] = field(default_factory=list)
    reference_numbers: list[int] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)
    part_colours: list[str] = field(default_factory=list)

    @property
    def cells(self) -> list[tuple[int, int]]:
        """The 3x3 cells (row, column) of the stated positions, in order of mention."""
        return [POSITION_CELLS[p] for p in self.positions]


def parse_claims(text: str) -> Claims:
    """Extract yes/no, positions (in order), counts, percentages, defect types and shades from ``text``."""
    claims = Claims()
    if YES_PATTERN.search(text):
        claims.defective = True
    elif NO_PATTERN.search(text) or NEGATIVE_PHRASES.search(text):
        claims.defective = False
    elif POSITIVE_PHRASES.search(text):
        claims.defective = True
    claims.positions = _positions(text)
    claims.counts = [_count(m.group(1)) for m in COUNT_PATTERN.finditer(text)]
    claims.percents = [float(m.group(1)) for m in PERCENT_PATTERN.finditer(text)]
    claims.types = [_type_stem(m.group(1)) for m in TYPE_PATTERN.finditer(text)]
    claims.shades = [SHADE_SYNONYMS.get(m.group(1).lower(), m.group(1).lower()) for m in SHADE_PATTERN.finditer(text)]
    claims.pixels = [_number(m.group(1)) for m in PIXEL_PATTERN.finditer(text)]
    claims.physical = [m.group(0) for m in PHYSICAL_PATTERN.finditer(text)]
    claims.scores = [_number(m.group(1)) for m in SCORE_PATTERN.finditer(text)]
    claims.thresholds = [_number(m.group(1)) for m in THRESHOLD_PATTERN.finditer(text)]
    claims.multiples = [_number(m.group(1)) for m in MULTIPLE_PATTERN.finditer(text)]
    claims.reference_counts = [_count(m.group(1)) for m in REFERENCES_PATTERN.finditer(text)]
    claims.grey_zones = [(_number(m.group(1)), _number(m.group(2))) for m in GREY_ZONE_PATTERN.finditer(text)]
    levels = ((m.group(1) or m.group(2)).lower() for m in CONFIDENCE_PATTERN.finditer(text))
    claims.confidences = [CONFIDENCE_SYNONYMS.get(level, level) for level in levels]
    claims.reference_numbers = [int(m.group(1)) for m in REFERENCE_INDEX_PATTERN.finditer(text)]
    claims.shapes = [m.group(1).lower() for m in SHAPE_PATTERN.finditer(text)]
    claims.part_colours = [" ".join(m.group(1).lower().replace("gray", "grey").split())
                           for m in PART_COLOUR_PATTERN.finditer(text)]
    return claims


def _count(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _positions(text: str) -> list[str]:
    """Position words in order of mention; a compound ("top left") hides its parts."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in POSITION_PATTERNS:
        for match in re.finditer(pattern, text, re.I):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            taken.append(match.span())
            found.append((match.start(), name))
    return [name for _, name in sorted(found)]


def _type_stem(word: str) -> str:
    word = word.lower()
    return "discolouration" if word.startswith("discolo") else word
