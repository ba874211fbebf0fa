"""Understanding a technician's question: its intent, and which region(s) it is about.

Intents are found by keyword rules (a 135M language model is no better at this, and rules are
predictable).  Follow-ups keep context: "it" is the region last talked about (before any was,
the defects as a whole; beside the verdict, "why did it fail?", the part), "the second one" is
region 2, "the bigger one" the largest, "the left one" the leftmost, "the other one" every region
but the one in focus, and a question with a region but no intent ("what about the left one?")
repeats the previous intent for that region, or describes it when nothing was asked before
("number 2?").  "Is region 3 real?" gets how clearly that region stands out.
Depth, thickness and weight, which a photo of the surface cannot show, get the ``beyond`` intent:
the answer says so before the size it measured.  Other questions no rule knows (material,
provenance) get the honest "I can't tell that" with a summary.
A question that asks two things ("where is it and how big?", "Is it bad? How many?") gets each
intent answered in turn (``detect_intents``): it is cut into clauses at sentence ends and at an
"and" or comma followed by a question word, so that "long and thin" stays one shape question.
Two cases get a note before the answer (``Conversation.ask``): "the left one" when the only
region lies elsewhere, and a size asked in millimetres or inches, which an image has no scale for
unless its project states a pixel size (``engine.physical``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.explain.claims import TYPE_PATTERN
from engine.facts import FactSheet

INTENT_RULES: tuple[tuple[str, str], ...] = (
    ("courtesy", r"^\W*(?:(?:ok(?:ay)?|great|perfect|fine)\W+)?"
                 r"(?:thanks?|thank you|thx|cheers|hello|hi|hey|good (?:morning|afternoon|evening))\b"
                 r"[\w\s]{0,12}\W*$"),
    # Sizes asked as a number of pixels, or "compared to the whole part", before count and compare.
    ("size", r"how many (?:pixels|px)\b|how (?:big|large|long|wide|small)\b|"
             r"what(?:'s| is) the (?:bigg|larg|small)est|"
             r"\bis (?:it|this|that|the \w+)(?: \w+)? (?:big|large|small|tiny|long|short|wide)\b"
             r"(?! and (?:thin|narrow))|"
             r"\b(?:bigger|larger|longer|smaller|shorter|wider) than\b"),
    ("confidence", r"how many (?:good )?(?:references|reference images|refs|good images)"),
    # What would change the verdict: the score bands and what drives this part's score.
    ("margin", r"what would (?:make|it take for) (?:it|this|the part) (?:to )?(?:fail|pass|be (?:ok|ng|rejected))|"
               r"how (?:close|near) (?:is it )?to (?:the threshold|passing|failing|the limit)|"
               r"how far (?:is it )?from (?:the threshold|passing|failing|the limit)|\bborderline\b|close call"),
    ("count", r"how many|number of|\bcount\b|more than one"),
    # Depth and weight are not in a photo of the surface: the answer says so, then gives the measured size.
    ("beyond", r"\bdeep\b|\bdepth|\bthick|\b3d\b|\bvolume\b|\bweigh|\bheav(?:y|ier)\b"),
    ("summary", r"summar|\breport\b|overview|recap|sum up|"
                r"(?:tell|say to|write to|note for) (?:my |the )?(?:supervisor|boss|manager|team|customer|shift)"),
    ("compare", r"compar|reference|\bversus\b|\bvs\b|golden|good part"),
    ("cause", r"\bcaus|how did (?:this|it|that) happen|where does (?:it|this) come from"),
    ("why", r"\bwhy\b|reason|\bdiffer|explain|what makes|what'?s wrong|what is wrong|what went wrong|"
            r"what(?:'s| is) the (?:problem|issue)"),
    ("severity", r"how (?:bad|serious|severe|critical)|severit|\bworst\b|most (?:severe|important|critical)|"
                 r"is (?:it|this|that|the \w+) (?:very )?(?:critical|serious|severe)\b|"
                 r"worse than (?:usual|normal|average|before|the others)|which (?:one |region )?is worse|"
                 r"more (?:severe|serious|critical)|(?:look at|check|fix|inspect|start with) first|\bprioriti"),
    ("confidence", r"\bsure\b|confiden|certain|reliab|probab|trust|false (?:alarm|positive|reject)|"
                   r"\breal (?:defect|one)\b|\breal\W*$|\bgenuine\b|\breally (?:a )?(?:defect|there)\b|"
                   r"what(?:'s| is)(?: the)? (?:anomaly |image )?(?:score|threshold)|"
                   r"what does (?:review|ng|ok|the grey zone) mean"),
    ("shape", r"\bshape|\bround\b|circular|elongat|long and thin|\bthin\b|\bnarrow\b|orientation|oriented|"
              r"\bangle\b|which direction|\bstraight\b|\bcurved\b"),
    ("type", r"what (?:type|kind|sort)|\btype\b|\bkind of\b|classif|categor|what(?: is|'s) (?:it|this|that)\b(?! part)|"
             r"(?:could|might|can) (?:it|this|that) be\b"),
    ("size", r"\bsize\b|\barea\b|dimension|extent|percent|how much of|\bmeasure\b|"
             r"which (?:one |region |defect )?is (?:the )?(?:bigg|larg|small)er"),
    ("location", r"\bwhere\b|locat|position|coordinat|bounding box|which (?:part|side|area)|\bshow me\b|"
                 r"how far|distance|clos(?:er|est) to|\bmiddle\b|\bcorner\b|in the cent(?:re|er)|"
                 r"point (?:out|to|at)|\bnear\b|on the (?:edge|left|right|top|bottom)|"
                 r"\b(?:left|right|top|bottom|upper|lower) or (?:the )?(?:left|right|top|bottom|upper|lower)\b"),
    ("appearance", r"colou?r|look(?:s)? like|appearance|\b(?:dark|bright|light)(?:er|ness)?\b|\bshade|\bhue\b"),
    ("describe", r"tell me (?:about|more)|describe|details?\b|heat ?map|what does the map|\blist\b|enumerate|"
                 r"what should (?:the operator|i|we) (?:check|look at)|"
                 r"what(?:'s| is) (?:the (?:first|second|third|fourth|fifth|last|other) (?:one|region|defect)|"
                 r"(?:region|defect) \d)|what(?:'s| is) (?:at|in) the (?:top|bottom|left|right|upper|lower)"),
    # What to do with the part: asked the other way round from "is there a defect?", so "yes" would mislead.
    ("disposition", r"\breject|\bship\b|\baccept|\bscrap|\brelease\b|throw (?:it )?away|\bpass|good or bad|"
                    r"is (?:it|this|that|the part) (?:good|fine|normal|usable)|\bkeep (?:it|this)|\bsell\b|"
                    r"\bverdict\b|\boutcome\b|"
                    r"what should i do|what would you do|what (?:do|would) you (?:suggest|recommend)|rework|\bok\b"),
    ("existence", r"is there|are there|any (?:anomal|defect|problem|flaw|issue|damage)|defect(?:ive)?\b|anomal|"
                  r"suspicious|anything (?:wrong|odd|strange|unusual)|"
                  r"\bflaw|\bng\b|\bfail|"
                  r"is (?:it|this|the part) (?:bad|faulty|damaged|broken)"),
    ("type", TYPE_PATTERN.pattern),  # "is it a scratch?": a defect type named with no other intent
)
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
            "fifth": 5, "5th": 5}
ALL_WORDS = r"\b(?:all|each|every|both|them|they)\b"
PRONOUNS = r"\b(?:it|its|that one|this one|that|this)\b"
# A pronoun next to one of these words means the part and its verdict, not a region.
PART_VERDICT = r"\b(?:it|this|that)(?: part)? (?:fail|pass|get rejected|get flagged)|" \
               r"\b(?:was|is) (?:it|this|that)(?: part)? (?:rejected|flagged|ng|ok|failed|passed)\b"


SIDE_WORDS = r"(left|right|top|upper|bottom|lower)"
# "The left one", "the top left one", "what's at the bottom?": a region picked by where it lies.
SIDE_ONE = re.compile(rf"\b(?:(top|upper|bottom|lower)[ -])?{SIDE_WORDS}(?:most)? (?:one|region|defect)\b|"
                      rf"\bwhat(?:'s| is) (?:at|in) the (?:(top|upper|bottom|lower)[ -])?{SIDE_WORDS}\b")
SIDE_NAMES = {"upper": "top", "lower": "bottom"}
SIDE_ORDER = {"left": lambda r: r.centroid[0], "right": lambda r: -r.centroid[0],
              "top": lambda r: r.centroid[1], "bottom": lambda r: -r.centroid[1]}
# "The bigger one", "the biggest", "which is bigger?" pick a region; "is the left one bigger than ..." does not.
SELECTOR = (r"\b{size}est\b|\b{size}er (?:one|region|defect)\b|\bthe {size}er\b|"
            r"which (?:one |region |defect )?is (?:the )?{size}er")
PHYSICAL_UNITS = re.compile(r"\d\s*(?:mm|cm|um|µm)\b|\b(?:mm|cm|µm|millimet|centimet|micro(?:n|met)|inch|inches)\b")


def asks_physical_units(question: str) -> bool:
    """True when a question wants millimetres, inches or the like, which an image without a scale cannot give."""
    return bool(PHYSICAL_UNITS.search(question.lower()))


def asked_side(question: str) -> str | None:
    """The side a question picks a region by ("the left one": "left", "the top left one": "top left"), or None."""
    match = SIDE_ONE.search(question.lower())
    if match is None:
        return None
    return " ".join(dict.fromkeys(SIDE_NAMES.get(word, word) for word in match.groups() if word))


def side_order(side: str) -> Callable[[Any], float]:
    """Sort key that puts the region lying furthest towards ``side`` (one or two words) first."""
    keys = [SIDE_ORDER[word] for word in side.split()]
    return lambda region: sum(key(region) for key in keys)


COMPARATIVE = re.compile(r"\b(bigg|larg|long|small|short)er than\b(.*)")


def compared_pair(question: str, facts: FactSheet, focus: list[int] | None) -> tuple[int, int, bool] | None:
    """(region, region it is compared with, by length) for "is the left one bigger than the other?"; None
    when the question compares nothing, or names no single region to compare.

    The second region is the one named after "than" ("than region 3", "than the right one"), or for
    "than the other(s)" the other of two regions, else the largest of the others; "bigger than 2 mm"
    compares with no region.
    """
    match = COMPARATIVE.search(question.lower())
    if match is None or not focus or len(focus) != 1 or not 1 <= focus[0] <= facts.region_count:
        return None
    others = [r for r in facts.regions if r.index != focus[0]]
    if not others:
        return None
    named = resolve_focus(match.group(2), facts, None)
    if named and len(named) == 1 and named[0] != focus[0] and 1 <= named[0] <= facts.region_count:
        second = named[0]
    elif re.search(r"\bother|\brest\b", match.group(2)):
        second = max(others, key=lambda r: r.area_px).index
    else:
        return None
    return focus[0], second, match.group(1) in ("long", "short")


def detect_intent(question: str) -> str | None:
    """The first matching intent, or None when no rule matches."""
    text = question.lower()
    for intent, pattern in INTENT_RULES:
        if re.search(pattern, text):
            return intent
    return None


# A clause break: a sentence end, or "and" / "also" / a comma before a new question ("and how big").
QUESTION_START = (r"(?:where|how|what|which|why|when|is|are|was|were|does|do|did|can|could|should|would|will|"
                  r"tell|show|give|describe|compare|explain|summari[sz]e|list)\b")
CLAUSE_BREAK = re.compile(rf"[?;!]+|\.\s+|,?\s+(?:and|also|plus)\s+(?:also\s+)?(?={QUESTION_START})|"
                          rf",\s*(?={QUESTION_START})", re.I)


def detect_intents(question: str) -> list[str]:
    """Every intent a question asks, in its order ("where is it and how big?": location, size); [] for none.

    A greeting or thanks beside a real question is dropped: the question is what needs answering.
    """
    clauses = [clause for clause in CLAUSE_BREAK.split(question) if clause and clause.strip(" ,.")]
    found = list(dict.fromkeys(intent for intent in map(detect_intent, clauses) if intent is not None))
    if len(found) > 1:
        return [intent for intent in found if intent != "courtesy"]
    whole = detect_intent(question)
    return [whole] if whole else found


def resolve_focus(question: str, facts: FactSheet, current: list[int] | None) -> list[int] | None:
    """Region indices (1-based) the question points at; None when it names none.

    An ordinal beyond the region count is returned as is, so the answer can say there is no
    such region rather than silently talk about another one.
    """
    text = question.lower()
    comparative = COMPARATIVE.search(text)
    if comparative is not None:  # "is the second one smaller than the first?" is about the second one
        text = text[:comparative.start()]
    regions = facts.regions
    match = re.search(r"(?:region|defect|number|#)\s*(\d+)", text)
    if match:
        return [int(match.group(1))]
    for word, index in ORDINALS.items():
        if re.search(rf"\b{word}\b", text):
            return [index]
    if re.search(r"\blast (?:one|region|defect)\b", text) and regions:
        return [regions[-1].index]
    if re.search(r"\bother (?:one|region|defect)\b", text) and current and len(current) == 1:
        others = [r.index for r in regions if r.index != current[0]]
        return others or None
    if not regions:
        return None
    if re.search(SELECTOR.format(size="(?:bigg|larg)"), text):
        return [max(regions, key=lambda r: r.area_px).index]
    if re.search(SELECTOR.format(size="small"), text):
        return [min(regions, key=lambda r: r.area_px).index]
    if re.search(r"\b(?:worse|worst|strong(?:er|est)|most severe|main)\b", text):
        return [regions[0].index]
    side = asked_side(text)
    if side is not None:
        return [min(regions, key=side_order(side)).index]
    if re.search(ALL_WORDS, text):
        return [r.index for r in regions]
    if re.search(PART_VERDICT, text):
        return None  # "why did it fail?": "it" is the part, whatever region was talked about last
    if re.search(PRONOUNS, text):
        return current  # before any region was talked about, "it" means the defect(s): the default scope
    return None
