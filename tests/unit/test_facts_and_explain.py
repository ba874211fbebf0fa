"""Fact sheets from the maps and the grounded multi-turn explainer that may only say what they hold."""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from engine.calibration import VERDICT_NG, VERDICT_OK, VERDICT_REVIEW
from engine.defect_types import EXAMPLES_SOURCE, PROMPTS_SOURCE, TypeExamples, classify_regions
from engine.explain import Conversation, conflicts, parse_claims
from engine.explain.dialogue import detect_intent, detect_intents, resolve_focus
from engine.explain.guard import omissions
from engine.facts import FactSheet, build_facts, facts_at
from engine.physical import (
    PixelSizeError,
    checked_pixel_size,
    format_mm,
    photo_pixel_size,
    reference_pixel_size,
    stated_millimetres,
)
from engine.regions import GRID_WORDS, Region, colour_name, find_regions, grid_cell, spot_extent, strongest_point
from engine.synthetic import Defect, synthetic_part

TWO_DEFECTS = (Defect("pit", 0.27, 0.27, 0.08), Defect("scratch", 0.74, 0.74, 0.14))
QUESTIONS = ("Is there any anomaly?", "Where is it?", "How big is it?", "How many defects are there?",
             "What type is it?", "How sure are you?", "Why?", "Compare it with the reference.",
             "Summarise for the report.", "What about the second one?", "How big is the bigger one?",
             "What is the part's serial number?", "How big is region 7?", "What colour is it?",
             "Is the second one darker?", "Can I ship it?", "Is it fine?", "How severe is it?",
             "What's wrong with it?", "Is it a scratch?", "Which one is worst?", "Thanks!",
             "Tell me about the second region", "What does the heatmap show?", "Is it ok?", "What's the score?",
             "What caused this?", "How long is it in mm?", "Which one is bigger?", "What about the left one?",
             "How deep is the scratch?", "What material is it made of?", "What shape is it?",
             "Is the second one long and thin?", "Is region 2 real?", "Why did it fail?",
             "Is the left one bigger than the other?", "Is the second one shorter than the first?")


@pytest.fixture(scope="module")
def bank(detector, good_parts):
    return detector.build_bank(good_parts)


@pytest.fixture(scope="module")
def two_defect_facts(detector, bank) -> FactSheet:
    image = synthetic_part(31, defects=TWO_DEFECTS)
    return build_facts(image, detector.inspect(image, bank), bank)


@pytest.fixture(scope="module")
def good_facts(detector, bank) -> FactSheet:
    image = synthetic_part(32)
    return build_facts(image, detector.inspect(image, bank), bank)


def _review_facts(two_defect_facts: FactSheet) -> FactSheet:
    data = two_defect_facts.to_dict()
    data.update(verdict=VERDICT_REVIEW, score=0.55, confidence="low")
    return FactSheet.from_dict(data)


def test_two_defects_are_placed_top_left_and_bottom_right(two_defect_facts):
    facts = two_defect_facts
    assert facts.verdict == VERDICT_NG
    assert {r.position for r in facts.regions} == {"top left", "bottom right"}
    pit = next(r for r in facts.regions if r.position == "top left")
    assert pit.appearance.startswith("darker") and pit.lightness_delta < 0
    for region in facts.regions:
        x, y, w, h = region.bbox
        assert 0 < region.area_percent < 5 and region.area_px <= w * h
        assert region.severity > 1 and region.layers


def test_good_part_has_no_regions_and_survives_json(good_facts):
    assert good_facts.verdict == VERDICT_OK and good_facts.regions == []
    again = FactSheet.from_dict(json.loads(json.dumps(good_facts.to_dict())))
    assert again == good_facts


def test_fact_sheet_json_round_trip_keeps_regions(two_defect_facts):
    again = FactSheet.from_dict(json.loads(json.dumps(two_defect_facts.to_dict())))
    assert again == two_defect_facts


def test_grid_and_colour_words():
    box = (100, 50, 300, 150)
    assert grid_cell(101, 51, box) == (0, 0) and grid_cell(250, 125, box) == (1, 1)
    assert grid_cell(399, 199, box) == (2, 2)
    assert grid_cell(0, 500, box) == (2, 0)
    assert colour_name(np.array([0.8, 0.1, 0.1])) == "red" and colour_name(np.array([0.5, 0.5, 0.52])) == "grey"


def test_an_arc_shaped_region_names_every_cell_it_runs_through(two_defect_facts):
    """A crescent's centroid lies in its hollow; the answer must also name where its pixels are."""
    side = 300
    yy, xx = np.mgrid[0:side, 0:side]
    radius = np.hypot(xx - 150, yy - 150)
    arc = (radius > 90) & (radius < 120) & (yy > 220)  # the bottom of a ring, a fifth in each side cell
    anomaly_map = np.where(arc, 1.0, 0.0).astype(np.float32)
    image = np.full((side, side, 3), 0.5, np.float32)
    regions = find_regions(image, anomaly_map, {"s3": anomaly_map}, pixel_cut=0.5, flagged=True,
                           part_mask=None, part_box=(0, 0, side, side))
    assert len(regions) == 1
    region = regions[0]
    assert region.position == "bottom"
    assert set(region.extends_to) == {"bottom left", "bottom right"}
    data = two_defect_facts.to_dict()
    data.update(regions=[region.to_dict()], image_size=[side, side], part_box=[0, 0, side, side])
    answer = Conversation(FactSheet.from_dict(data)).ask("Where is the anomaly?").text
    assert "at the bottom of the image, extending into the bottom" in answer
    assert parse_claims(answer).cells and set(parse_claims(answer).cells) == {(2, 0), (2, 1), (2, 2)}


def test_multi_turn_where_then_second_one(two_defect_facts):
    conversation = Conversation(two_defect_facts)
    where = conversation.ask("Where is it?")
    assert "top left" in where.text and "bottom right" in where.text
    second = two_defect_facts.regions[1]
    size = conversation.ask("How big is the second one?")
    assert size.focus == [2] and f"Region 2 covers {second.area_percent:.2f} %" in size.text
    follow = conversation.ask("and its type?")
    assert "region 2" in follow.text
    bigger = max(two_defect_facts.regions, key=lambda r: r.area_px)
    assert conversation.ask("what about the bigger one?").focus == [bigger.index]
    leftmost = min(two_defect_facts.regions, key=lambda r: r.centroid[0])
    assert conversation.ask("How big is the left one?").focus == [leftmost.index]


def test_the_left_one_of_a_single_region_elsewhere_says_where_it_really_is(two_defect_facts):
    """With one region at the bottom right, "the left one" must not read as if it were on the left."""
    data = two_defect_facts.to_dict()
    data["regions"] = [{**r, "index": 1} for r in data["regions"] if r["position"] == "bottom right"]
    facts = FactSheet.from_dict(data)
    conversation = Conversation(facts)
    conversation.ask("How big is it?")
    answer = conversation.ask("What about the left one?")
    assert answer.focus == [facts.regions[0].index]
    assert answer.text.startswith("There is only one defect region, at the bottom right of")
    assert "covers" in answer.text and not conflicts(answer.text, facts)
    matching = Conversation(facts).ask("How big is the right one?")
    assert not matching.text.startswith("There is only one")


def test_sizes_asked_in_millimetres_say_the_image_has_no_scale(two_defect_facts):
    conversation = Conversation(two_defect_facts)
    answer = conversation.ask("How long is the second one in mm?")
    assert answer.intent == "size" and answer.focus == [2]
    assert answer.text.startswith("I can't give millimetres") and " px" in answer.text
    assert "millimetres" not in conversation.ask("How big is it?").text
    compared = conversation.ask("Which one is bigger?")
    bigger = max(two_defect_facts.regions, key=lambda r: r.area_px)
    assert compared.intent == "size" and compared.focus == [bigger.index]
    assert compared.text.startswith(f"Region {bigger.index} covers")


def test_grounded_answers_never_contradict_the_facts(two_defect_facts, good_facts):
    flat_review = FactSheet.from_dict({**good_facts.to_dict(), "verdict": VERDICT_REVIEW, "score": 0.55})
    for facts in (two_defect_facts, good_facts, _review_facts(two_defect_facts), flat_review):
        conversation = Conversation(facts)
        for question in QUESTIONS:
            answer = conversation.ask(question)
            assert answer.backend == "grounded"
            assert conflicts(answer.text, facts) == [], (question, answer.text)


def test_answers_follow_the_verdict(two_defect_facts, good_facts):
    assert parse_claims(Conversation(two_defect_facts).ask("Is there any anomaly in the image?").text).defective
    assert parse_claims(Conversation(good_facts).ask("Is there any anomaly in the image?").text).defective is False
    review = Conversation(_review_facts(two_defect_facts)).ask("Is there any anomaly in the image?").text
    assert "REVIEW" in review and parse_claims(review).defective is True
    count = parse_claims(Conversation(two_defect_facts).ask("How many defects are there?").text).counts
    assert count == [two_defect_facts.region_count]


def test_is_a_region_real_says_how_clearly_it_stands_out_and_why_did_it_fail_means_the_part(two_defect_facts):
    from dataclasses import replace

    from engine.explain.grounded import CLEAR_REGION, WEAK_REGION

    regions = list(two_defect_facts.regions)
    regions[1] = replace(regions[1], severity=(1.0 + WEAK_REGION) / 2)  # just over the pixel threshold
    facts = replace(two_defect_facts, regions=regions)
    conversation = Conversation(facts)
    weak = conversation.ask("Is region 2 real?")
    assert weak.intent == "confidence" and weak.focus == [2]
    assert weak.text.startswith(f"Region 2 peaks at {regions[1].severity:.1f} times the pixel threshold: it barely "
                                "stands out and may be normal variation")
    assert "Region 1" not in weak.text and "Confidence is" in weak.text  # and the part's own confidence
    assert conflicts(weak.text, facts) == []
    strong = conversation.ask("and the first one?")
    assert strong.focus == [1] and strong.intent == "confidence"
    assert ("stands out clearly" if regions[0].severity >= CLEAR_REGION else "stands out") in strong.text
    assert Conversation(facts).ask("How sure are you?").text.startswith("Confidence is")  # the part as a whole
    # "It" was region 1; next to the verdict, "it" is the part: every region is part of why.
    why = conversation.ask("Why did it fail?")
    assert why.focus is None and all(f"region {r.index} (" in why.text for r in regions)


def test_regions_are_picked_by_where_they_lie_and_by_size_only_when_size_picks_them(two_defect_facts):
    facts = two_defect_facts  # region 1 top left, region 2 bottom right
    top_left = min(facts.regions, key=lambda r: r.centroid[0] + r.centroid[1]).index
    bottom_right = max(facts.regions, key=lambda r: r.centroid[0] + r.centroid[1]).index
    largest = max(facts.regions, key=lambda r: r.area_px).index
    assert resolve_focus("What's at the top left?", facts, None) == [top_left]
    assert resolve_focus("and the bottom-right one?", facts, [top_left]) == [bottom_right]
    # "bigger" here is what is asked, not which region: the top left one is meant.
    assert resolve_focus("Is the top left one bigger than the other?", facts, None) == [top_left]
    assert resolve_focus("Which one is bigger?", facts, None) == [largest]
    assert resolve_focus("How big is the biggest?", facts, None) == [largest]
    conversation = Conversation(facts)
    described = conversation.ask("What's at the bottom right?").text
    assert described.startswith(f"Region {bottom_right} is at the bottom right")
    # A short question led by a verb asks something new, not the last intent again.
    assert conversation.ask("Are they connected?").text.startswith("I can't tell that from this image.")
    dust = conversation.ask("Is there dust?")
    assert dust.intents == ["existence", "type"] and "I can't tell the type of region" in dust.text


def test_is_one_region_bigger_than_another_compares_the_two_it_names(two_defect_facts):
    facts = two_defect_facts
    top_left = min(facts.regions, key=lambda r: r.centroid[0] + r.centroid[1])
    other = max(facts.regions, key=lambda r: r.centroid[0] + r.centroid[1])
    bigger = "bigger than" if top_left.area_percent > other.area_percent else "smaller than"
    conversation = Conversation(facts)
    answer = conversation.ask("Is the top left one bigger than the other?")
    assert answer.text.startswith(f"Region {top_left.index} is {bigger} region {other.index}: it covers "
                                  f"{top_left.area_percent:.2f} % of")
    assert f"Region {other.index} covers {other.area_percent:.2f} %" in answer.text  # both sizes follow
    assert conflicts(answer.text, facts) == []
    # The subject is the region before "than", whichever ordinal comes first in the word list.
    longer = Conversation(facts).ask(f"Is region {other.index} longer than region {top_left.index}?")
    assert longer.focus == [other.index] and longer.text.startswith(f"Region {other.index} is ")
    assert f"about {round(other.major_axis_px)} against {round(top_left.major_axis_px)} px long" in longer.text
    # Compared with a length, not a region: no comparison of regions is made up.
    assert "than region" not in Conversation(facts).ask("Is the first one bigger than 2 mm?").text


def test_the_other_one_is_the_region_not_in_focus(two_defect_facts):
    conversation = Conversation(two_defect_facts)
    first = conversation.ask("How big is the first one?")
    other = conversation.ask("And the other one?")
    assert first.focus == [1] and other.focus == [2] and other.intent == "size"
    assert other.text.startswith("Region 2 covers")


def test_shape_answers_give_each_region_its_measured_shape(two_defect_facts, good_facts):
    answer = Conversation(two_defect_facts).ask("What shape are they?")
    assert answer.intent == "shape"
    for region in two_defect_facts.regions:
        assert f"Region {region.index} is {region.shape}" in answer.text
        assert f"about {region.major_axis_px:.0f} px long" in answer.text
    assert "nothing to describe the shape of" in Conversation(good_facts).ask("Is it round?").text


@pytest.mark.parametrize(("start", "end", "words"), [
    ((40, 40), (260, 260), "diagonally, from top left to bottom right"),
    ((40, 260), (260, 40), "diagonally, from bottom left to top right"),
    ((40, 150), (260, 150), "horizontally"), ((150, 40), (150, 260), "vertically")])
def test_a_drawn_line_is_elongated_and_runs_the_way_it_was_drawn(start, end, words, two_defect_facts):
    side = 300
    line = cv2.line(np.zeros((side, side), np.float32), start, end, 1.0, 9)
    regions = find_regions(np.full((side, side, 3), 0.5, np.float32), line, {"s3": line}, pixel_cut=0.5, flagged=True,
                           part_mask=None, part_box=(0, 0, side, side))
    data = two_defect_facts.to_dict()
    data.update(regions=[r.to_dict() for r in regions], image_size=[side, side], part_box=[0, 0, side, side])
    answer = Conversation(FactSheet.from_dict(data)).ask("Which direction does it run?").text
    assert answer == f"Region 1 is elongated, about {regions[0].major_axis_px:.0f} px long, running {words}."


def test_a_region_that_does_not_exist_is_not_kept_as_it(two_defect_facts):
    conversation = Conversation(two_defect_facts)
    assert conversation.ask("How big is region 7?").text.startswith("Region 7 does not exist")
    followed = conversation.ask("Is it a false alarm?")
    assert followed.intent == "confidence" and "does not exist" not in followed.text


def test_unanswerable_question_is_honest(two_defect_facts):
    answer = Conversation(two_defect_facts).ask("Which machine produced this part?")
    assert answer.text.startswith("I can't tell that from this image") and "NG" in answer.text
    missing = Conversation(two_defect_facts).ask("How big is region 7?").text
    assert "Region 7 does not exist" in missing


@pytest.mark.parametrize("question", ["How deep is the scratch?", "How thick is the second one?",
                                      "How much does it weigh?", "What is its volume?"])
def test_what_a_photo_cannot_show_is_said_before_what_it_can(question, two_defect_facts, good_facts):
    answer = Conversation(two_defect_facts).ask(question)
    assert answer.intent == "beyond" and answer.text.startswith("I can't tell that from this image")
    assert "covers" in answer.text  # the measured size follows, for the region asked about or all of them
    passed = Conversation(good_facts).ask("How deep is it?").text
    assert passed.startswith("I can't tell that from this image") and "OK" in passed


@pytest.mark.parametrize("question", ["What material is the part made of?", "When was it made?"])
def test_questions_no_rule_knows_get_the_honest_summary(question, two_defect_facts):
    answer = Conversation(two_defect_facts).ask(question)
    assert answer.intent is None and answer.text.startswith("I can't tell that from this image")
    assert "NG" in answer.text


def test_guard_catches_claims_the_facts_do_not_support(two_defect_facts, good_facts):
    assert conflicts("No, the part is fine.", two_defect_facts)
    assert conflicts("Yes, there is a defect.", good_facts)
    assert conflicts("The defect is in the centre.", two_defect_facts)
    assert conflicts("There are 5 defects.", two_defect_facts)
    assert conflicts("It is a scratch.", two_defect_facts)
    assert conflicts("It covers 42 % of the part.", two_defect_facts)
    region = two_defect_facts.regions[0]
    assert conflicts(f"Yes: 2 defect regions, the main one at the {region.position}, "
                     f"{region.area_percent:.2f} % of the image.", two_defect_facts) == []
    assert omissions("The part has some features.", "Region 1 is at the top left.", ["location"], two_defect_facts)
    draft = Conversation(two_defect_facts).ask("Where is it?").text
    first, second = (r.position for r in two_defect_facts.regions[:2])
    assert omissions(f"One defect is at the {first}.", draft, ["location"], two_defect_facts) == [
        f"left out the region at the {second}"]
    assert omissions(f"Defects at the {second} and the {first}.", draft, ["location"], two_defect_facts) == []
    depth = Conversation(two_defect_facts).ask("How deep is the first one?").text
    assert "dropped what cannot be told" in omissions("It is a shallow mark.", depth, ["beyond"], two_defect_facts)
    for kept in ("A photo cannot show depth.", "I can’t see depth in a photo."):
        assert "dropped what cannot be told" not in omissions(kept, depth, ["beyond"], two_defect_facts)


def test_guard_checks_pixel_measures_scores_and_physical_units(two_defect_facts, good_facts):
    """Numbers a small model invents (a length, a score, millimetres) must not pass as measured."""
    region = two_defect_facts.regions[0]
    x, y, w, h = region.bbox
    length = round(region.major_axis_px)
    supported = (f"Region 1 covers {region.area_px:,} px, box {w} x {h} px, from x {x} to {x + w - 1} px; about "
                 f"{round(length * 0.98)} px long. The score {two_defect_facts.score:.2f} is above the threshold "
                 f"{two_defect_facts.threshold:.2f}.")
    assert conflicts(supported, two_defect_facts) == []
    assert conflicts(f"It is about {length * 2} px long.", two_defect_facts) == [
        f"{length * 2:g} px matches no measured region"]
    assert conflicts("It is 3 mm long.", two_defect_facts) == ["states '3 mm', but the image has no scale"]
    assert conflicts("The defect is 0.5 inches wide.", two_defect_facts)
    assert conflicts("The score is 0.72.", two_defect_facts) == [f"score 0.72, measured {two_defect_facts.score:.2f}"]
    assert conflicts("It is just over the threshold of 0.4.", two_defect_facts)
    assert conflicts("A small spot of 12 px.", good_facts), "no region, so no pixel measure is supported"
    assert conflicts("I can't give millimetres: the image carries no scale.", two_defect_facts) == []
    facts = two_defect_facts
    low, high = facts.grey_zone
    stated = (f"It peaks at {region.severity:.1f} times the pixel threshold; grey zone {low:.2f} to {high:.2f}, "
              f"calibrated from {facts.reference_count} good references.")
    assert conflicts(stated, facts) == []
    assert conflicts(f"It peaks at {region.severity + 3:.1f} times the pixel threshold.", facts)
    assert conflicts(f"The grey zone is {low + 0.1:.2f} to {high:.2f}.", facts)
    assert conflicts(f"It was calibrated from {facts.reference_count + 3} references.", facts)
    other = "low" if facts.confidence != "low" else "high"
    assert conflicts(f"Confidence is {facts.confidence}.", facts) == []
    assert conflicts(f"I say so with {other} confidence.", facts) == [
        f"confidence {other}, measured {facts.confidence}"]
    assert conflicts(f"The part is mostly {facts.part_colour}; region 1 is {region.shape}.", facts) == []
    wrong_colour = "blue" if facts.part_colour != "blue" else "red"
    assert conflicts(f"The part is {wrong_colour}.", facts) == [
        f"part colour '{wrong_colour}', measured {facts.part_colour}"]
    assert conflicts("It is compact.", good_facts) == ["says 'compact', no region is"]
    nearest = facts.nearest_reference + 1
    assert conflicts(f"Compared with reference {nearest}, it is new.", facts) == []
    assert conflicts(f"Compared with reference {nearest + 1}, it is new.", facts) == [
        f"reference {nearest + 1}, the nearest is {nearest}"]


def test_questions_asked_the_other_way_round_get_no_misleading_yes(two_defect_facts, good_facts):
    review = _review_facts(two_defect_facts)
    for question in ("Can I ship it?", "Is it fine?", "Does it pass?", "Should I reject it?"):
        assert detect_intent(question) == "disposition"
        assert Conversation(two_defect_facts).ask(question).text.startswith("Reject it: the part is NG")
        assert Conversation(good_facts).ask(question).text.startswith("It can pass: the part looks OK")
        assert Conversation(review).ask(question).text.startswith("Hold it for a person to check")
    assert Conversation(two_defect_facts).ask("Is it broken?").text.startswith("Yes.")
    severe = Conversation(two_defect_facts).ask("How severe is it?")
    assert severe.intent == "severity"
    assert f"{two_defect_facts.regions[0].severity:.1f} times the pixel threshold" in severe.text
    assert detect_intent("What's wrong with the second one?") == "why"
    assert detect_intent("Is it a scratch?") == "type"
    assert detect_intent("How long is the crack?") == "size"
    assert detect_intent("Thank you very much") == "courtesy" and detect_intent("Hi, is it good or bad?") != "courtesy"


@pytest.mark.parametrize(("question", "intent"), [
    ("Any problems with this one?", "existence"), ("Does this part have any flaws?", "existence"),
    ("Can you point out the defect?", "location"), ("Is it near the centre?", "location"),
    ("What percentage of the part is affected?", "size"), ("Could this be a false alarm?", "confidence"),
    ("What's the score?", "confidence"), ("How does it differ from the good ones?", "why"),
    ("What caused this?", "cause"), ("Is it NG because of the spot?", "existence"),
    ("What should I do with this part?", "disposition"), ("Is it ok?", "disposition"),
    ("Tell me about the second region", "describe"), ("Is it NG?", "existence"), ("OK?", "disposition"),
    ("How big is the region above the threshold?", "size"),
    ("How big is it compared to the whole part?", "size"), ("How many pixels?", "size"),
    ("What should I tell my supervisor?", "summary"), ("Compare it with the reference.", "compare"),
    ("How many references do you have?", "confidence"), ("What would you do?", "disposition"),
    ("Could it be a reflection?", "type"), ("Could it be a false alarm?", "confidence"),
    ("What is the biggest defect?", "size"), ("Is it worse than usual?", "severity"),
    ("Can you give me the coordinates?", "location"), ("List all defects", "describe"),
    ("What would make it fail?", "margin"), ("Anything suspicious?", "existence"),
    ("Which one is more severe?", "severity"), ("Which is closer to the centre?", "location"),
    ("What's the verdict?", "disposition"), ("Is it in the middle?", "location"), ("Is that normal?", "disposition"),
    ("Ok thanks", "courtesy"), ("OK, thank you!", "courtesy"), ("Is it long?", "size"),
    ("Is the scratch very small?", "size"), ("Is it longer than 0.5 mm?", "size"), ("Is it bigger than 2 mm?", "size"),
    ("Is the second one long and thin?", "shape"), ("What is the anomaly score?", "confidence"),
    ("Which region is the most important?", "severity"), ("What went wrong here?", "why"),
    ("Is it critical?", "severity"), ("Measure it", "size"), ("What does REVIEW mean?", "confidence"),
    ("What would you recommend?", "disposition"), ("What should the operator check?", "describe"),
    ("What's the second region?", "describe"), ("What is this?", "type"), ("Is it dirt?", "type"),
    ("Top or bottom?", "location"), ("Which one should I look at first?", "severity"),
    ("What's at the bottom?", "describe"), ("Is region 3 real?", "confidence"),
    ("Is it really a defect?", "confidence"),
    ("What is this part made of?", None),
])
def test_everyday_phrasings_reach_their_intent(question, intent):
    assert detect_intent(question) == intent


@pytest.mark.parametrize(("question", "intents"), [
    ("Where is it and how big?", ["location", "size"]), ("Is there a defect and where?", ["existence", "location"]),
    ("How many, and where are they?", ["count", "location"]), ("Where is it? How big is it?", ["location", "size"]),
    ("Compare it with the reference and tell me why", ["compare", "why"]),
    ("Thanks, and where is it?", ["location"]), ("Is the second one long and thin?", ["shape"]),
    ("Is it on the left and right side?", ["location"]), ("What's the score and threshold?", ["confidence"]),
    ("Where is the anomaly?", ["location"]), ("what about the left one?", []),
])
def test_a_question_that_asks_two_things_has_both_intents(question, intents):
    assert detect_intents(question) == intents


def test_both_things_asked_are_answered_in_turn_and_the_guard_wants_both(two_defect_facts):
    region = two_defect_facts.regions[0]
    where = Conversation(two_defect_facts).ask("Where is it?").text
    how_big = Conversation(two_defect_facts).ask("How big is it?").text
    answer = Conversation(two_defect_facts).ask("Where is it and how big?")
    assert answer.intents == ["location", "size"] and answer.intent == "location"
    assert answer.text == f"{where} {how_big}"
    assert conflicts(answer.text, two_defect_facts) == []
    assert omissions(where, answer.text, answer.intents, two_defect_facts) == ["no size"]
    assert omissions(how_big, answer.text, answer.intents, two_defect_facts) == ["no position"]
    both = Conversation(two_defect_facts).ask("Is there a defect and where?").text
    assert both.startswith("Yes.") and both.count("Yes.") == 1 and region.position in both
    follow = Conversation(two_defect_facts)
    follow.ask("Where is it and how big?")
    assert follow.ask("and the second one?").intents == ["size"]  # the last thing asked carries over


def test_is_it_cracked_says_whether_there_is_a_defect_before_what_type_it_may_be(two_defect_facts, good_facts):
    flagged = Conversation(two_defect_facts).ask("Is it cracked?")
    assert flagged.intents == ["existence", "type"]
    assert flagged.text.startswith("Yes.") and "I can't tell the type of region 1" in flagged.text
    assert Conversation(two_defect_facts).ask("What type is it?").intents == ["type"]
    passed = Conversation(good_facts).ask("Is it cracked?")
    assert passed.intents == ["type"] and passed.text.startswith("No defect was found")


def test_what_would_make_it_pass_gives_the_score_bands_and_what_drives_the_score(two_defect_facts, good_facts):
    review = _review_facts(two_defect_facts)
    for facts, question in ((two_defect_facts, "What would make it pass?"), (good_facts, "What would make it fail?"),
                            (review, "How close is it to the threshold?")):
        answer = Conversation(facts).ask(question)
        low, high = facts.grey_zone
        assert answer.intents == ["margin"]
        assert f"below {low:.2f} passes (OK)" in answer.text and f"above {high:.2f} is rejected (NG)" in answer.text
        assert f"scored {facts.score:.2f}, so it is {facts.verdict}" in answer.text
        assert conflicts(answer.text, facts) == []
    flagged = Conversation(two_defect_facts).ask("What would make it pass?").text
    assert all(f"peak {r.severity:.1f} times the pixel threshold" in flagged for r in two_defect_facts.regions)


def test_a_region_named_alone_first_is_described_and_later_gets_the_last_question(two_defect_facts):
    first_turn = Conversation(two_defect_facts).ask("Number 2?")
    assert first_turn.intents == ["describe"] and first_turn.text.startswith("Region 2 is at the")
    talk = Conversation(two_defect_facts)
    talk.ask("How big is the first one?")
    assert talk.ask("Number 2?").intents == ["size"]


def test_describe_covers_the_region_asked_about(two_defect_facts):
    text = Conversation(two_defect_facts).ask("Tell me about the second region").text
    second = two_defect_facts.regions[1]
    assert text.startswith(f"Region 2 is at the {second.position}") and "Region 1" not in text
    assert f"{second.severity:.1f} times the pixel threshold" in text


def test_thanks_is_answered_without_the_language_model(two_defect_facts):
    class NoCallsLLM:
        name = "no-calls"

        def generate(self, *args, **kwargs):
            raise AssertionError("the language model was asked")

    streamed = []
    answer = Conversation(two_defect_facts, llm=NoCallsLLM()).ask("Thanks!", on_token=streamed.append)
    assert answer.intent == "courtesy" and answer.backend == "grounded" and streamed == [answer.text]


def test_colour_questions_are_answered_from_the_facts(two_defect_facts, good_facts):
    conversation = Conversation(two_defect_facts)
    answer = conversation.ask("What colour is the top left one?")
    assert answer.intent == "appearance"
    assert f"mostly {two_defect_facts.part_colour}" in answer.text and "darker" in answer.text
    assert "no spot whose colour" in Conversation(good_facts).ask("What colour is the part?").text
    shown = {word for r in two_defect_facts.regions for word in r.appearance.split(" and ")}
    absent = next(shade for shade in ("bluer", "greener", "redder", "yellower", "brighter") if shade not in shown)
    assert conflicts(f"The top left region is {absent} than the reference.", two_defect_facts)
    shades = parse_claims(answer.text).shades
    assert "darker" in shades
    position = two_defect_facts.regions[0].position
    assert omissions(f"The part is {two_defect_facts.part_colour}; one spot at the {position}.", answer.text,
                     ["appearance"], two_defect_facts) == [f"left out '{shade}'" for shade in shades]
    assert omissions(answer.text, answer.text, ["appearance"], two_defect_facts) == []


def test_facts_read_at_another_sensitivity_agree_with_the_relabelled_verdict(bank, two_defect_facts, good_facts):
    calibration = bank.calibration
    assert facts_at(two_defect_facts, calibration, 0.5) is two_defect_facts
    for facts in (two_defect_facts, good_facts):
        for sensitivity in (0.0, 0.25, 0.75, 1.0):
            moved = facts_at(facts, calibration, sensitivity)
            assert moved.verdict == calibration.verdict(facts.raw_score, sensitivity)
            assert moved.score == pytest.approx(calibration.normalise(facts.raw_score, sensitivity), abs=1e-4)
            cut = calibration.pixel_cut(sensitivity)
            assert all(r.severity == pytest.approx(r.peak / cut, abs=1e-3) for r in moved.regions)
            assert {r.index for r in moved.regions} <= {r.index for r in facts.regions}
            if moved.verdict == VERDICT_OK:
                assert moved.regions == []
            assert moved.peak_level == pytest.approx(
                facts.peak_level * calibration.pixel_cut(0.5) / cut, rel=1e-3)
            for question in QUESTIONS:
                answer = Conversation(moved).ask(question).text
                assert conflicts(answer, moved) == [], (sensitivity, question, answer)
    cut = calibration.pixel_cut(0.5)
    faint = FactSheet.from_dict(two_defect_facts.to_dict())
    faint.regions[0].peak, faint.regions[1].peak = 1.01 * cut, 0.5 * cut
    assert calibration.pixel_cut(0.0) > 1.01 * cut > calibration.pixel_cut(1.0)
    assert [r.index for r in facts_at(faint, calibration, 1.0).regions] == [faint.regions[0].index]
    assert [r.index for r in facts_at(faint, calibration, 0.0).regions] == [faint.regions[0].index]  # the fallback
    lenient = facts_at(two_defect_facts, calibration, 0.0)
    strict = facts_at(two_defect_facts, calibration, 1.0)
    assert len(lenient.regions) <= len(two_defect_facts.regions) <= len(strict.regions)


def test_strongest_point_ignores_the_background():
    anomaly_map = np.zeros((60, 90), np.float32)
    anomaly_map[5, 5] = 9.0
    anomaly_map[40, 70] = 2.0
    part = np.zeros_like(anomaly_map, bool)
    part[20:60, 30:90] = True
    assert strongest_point(anomaly_map, None) == (5, 5)
    assert strongest_point(anomaly_map, part) == (70, 40)


def test_a_passed_part_still_says_where_the_map_peaks(good_facts):
    facts = good_facts
    row, col = grid_cell(*facts.peak_xy, facts.part_box)
    assert facts.peak_position == GRID_WORDS[row][col] and 0 < facts.peak_level < 5
    where = Conversation(facts).ask("Where is the anomaly?").text
    assert where.startswith("No defect was found")
    assert parse_claims(where).positions == [facts.peak_position, *facts.peak_extends_to]
    assert parse_claims(where).defective is False and conflicts(where, facts) == []
    elsewhere = next(p for row in GRID_WORDS for p in row if p not in (facts.peak_position, *facts.peak_extends_to))
    assert conflicts(f"The strongest deviation is at the {elsewhere}.", facts)


def test_a_strongest_spot_on_a_cells_edge_is_placed_in_both_cells():
    yy, xx = np.mgrid[0:90, 0:90]
    box = (0, 0, 90, 90)
    on_edge = np.exp(-((xx - 30) ** 2 + (yy - 45) ** 2) / (2 * 4.0 ** 2))  # x = 30: left | centre
    assert spot_extent(on_edge, 30, 45, box) == ["left"]  # home: the centre cell
    inside = np.exp(-((xx - 75) ** 2 + (yy - 15) ** 2) / (2 * 4.0 ** 2))
    assert spot_extent(inside, 75, 15, box) == []


def test_a_passed_part_names_where_its_strongest_spot_extends(good_facts):
    facts = replace(good_facts, regions=[], peak_position="top left", peak_extends_to=("top",))
    where = Conversation(facts).ask("Where is the anomaly?").text
    assert "at the top left of the" in where and "extending into the top," in where
    assert parse_claims(where).positions == ["top left", "top"] and conflicts(where, facts) == []
    assert conflicts("The strongest deviation is at the bottom right.", facts)
    assert FactSheet.from_dict(json.loads(json.dumps(facts.to_dict()))).peak_extends_to == ("top",)


def test_claims_parser():
    claims = parse_claims("Yes. Two defects: one at the upper-left and one in the middle, 1.5 % of the part; a crack.")
    assert claims.defective is True
    assert claims.positions == ["top left", "centre"] and claims.cells == [(0, 0), (1, 1)]
    assert claims.counts == [2] and claims.percents == [1.5] and claims.types == ["crack"]
    assert parse_claims("It is lighter and bluer than the reference.").shades == ["brighter", "bluer"]
    assert parse_claims("No defect was found.").defective is False
    assert parse_claims("There are no defect regions: the part looks OK.").counts == [0]
    assert detect_intent("How many defects are there?") == "count"
    assert detect_intent("Where is the anomaly?") == "location"
    assert detect_intent("Is there any anomaly in the image?") == "existence"
    assert detect_intent("What colour is the defect?") == "appearance"
    assert detect_intent("How big is the dark spot?") == "size"


def test_defect_types_from_labelled_examples():
    def region(area: float, elongated: bool, delta: float) -> Region:
        return Region(index=1, bbox=(0, 0, 10, 10), centroid=(5.0, 5.0), cell=(1, 1), position="centre",
                      area_px=int(area * 100), area_percent=area, shape="elongated" if elongated else "compact",
                      orientation_deg=0.0, major_axis_px=40.0 if elongated else 10.0, peak=1.0, mean=0.5,
                      severity=3.0, lightness_delta=delta)

    examples = TypeExamples()
    examples.add(region(0.5, True, 20.0), "scratch")
    examples.add(region(1.5, False, -25.0), "pit")
    found = [region(0.6, True, 18.0), region(1.4, False, -22.0), region(30.0, False, 0.0)]
    assert classify_regions(found, examples) == "labelled examples"
    assert [r.defect_type for r in found] == ["scratch", "pit", "unknown"]
    assert classify_regions(found, None) == "none" and found[0].defect_type == "unclassified"


def test_types_from_clip_prompts_are_said_to_come_from_the_clip_model(detector, bank):
    """A CLIP project's regions are typed by prompt similarity (engine.prompts), never "labelled examples"."""
    class ScriptedTyper:  # stands in for ClipDefectTyper, which needs CLIP weights to mean anything
        source = PROMPTS_SOURCE

        def __call__(self, _image, regions):
            for region, kind in zip(regions, ("crack", "unknown")):
                region.defect_type = kind

    image = synthetic_part(31, defects=TWO_DEFECTS)
    facts = build_facts(image, detector.inspect(image, bank), bank, typer=ScriptedTyper())
    assert facts.type_source == PROMPTS_SOURCE and [r.defect_type for r in facts.regions[:2]] == ["crack", "unknown"]
    answer = Conversation(facts).ask("What type is it?").text
    assert "Region 1 looks most like 'crack' to the CLIP model" in answer
    assert "region 2: to the CLIP model it does not clearly match any defect type's prompts" in answer
    assert "labelled example" not in answer and conflicts(answer, facts) == []
    examples = TypeExamples()
    examples.add(facts.regions[0], "pit")
    labelled = build_facts(image, detector.inspect(image, bank), bank, type_examples=examples, typer=ScriptedTyper())
    assert labelled.type_source == EXAMPLES_SOURCE  # an operator's labels win over the prompts
    assert "most like the labelled examples of 'pit'" in Conversation(labelled).ask("What type is it?").text


def test_an_answer_cut_off_at_the_token_limit_keeps_only_whole_sentences():
    from engine.explain.conversation import complete_sentences

    cut = "Region 1 is at the top left (x 53 to 85 px). Region 2 is at the bottom right (x 165 to 20"
    assert complete_sentences(cut) == "Region 1 is at the top left (x 53 to 85 px)."
    assert complete_sentences("It covers 2.03 % of the part.") == "It covers 2.03 % of the part."
    assert complete_sentences("The score is 0.42 and the") == ""


def test_part_on_a_plain_background_is_found_on_a_large_photo_from_a_bounded_copy(monkeypatch):
    import engine.regions as regions

    seen: list[tuple[int, int]] = []
    judge = regions.masking_applies
    monkeypatch.setattr(regions, "masking_applies", lambda images: seen.append(images[0].shape[:2]) or judge(images))
    part = synthetic_part(3, side=256)
    canvas = np.empty((480, 600, 3), np.uint8)
    canvas[:] = part[0, 0]  # the part's own plain background
    canvas[112:368, 172:428] = part
    photo = cv2.resize(canvas, (3000, 2400), interpolation=cv2.INTER_LINEAR)
    pixels = photo.astype(np.float32) / 255.0
    assert regions.foreground_suits(pixels)
    assert seen and max(seen[0]) <= regions.WHOLE_IMAGE_CHECK_SIDE
    mask, (x, y, w, h) = regions.part_extent(pixels, True)
    assert mask is not None and mask.shape == (2400, 3000)
    assert 860 <= x <= 1000 and 560 <= y <= 700 and 1000 <= w <= 1350 and 1000 <= h <= 1350


def test_a_large_photo_is_measured_on_a_bounded_copy_in_its_own_pixels(detector, bank, monkeypatch):
    """Facts of a photo past FACTS_MAX_SIDE come from a shrunk copy but read as measured at full size."""
    import engine.facts as facts_module

    pit_at_the_top = (Defect("pit", 0.5, 0.17, 0.08),)
    photo = cv2.resize(synthetic_part(31, defects=pit_at_the_top), (768, 768), interpolation=cv2.INTER_LINEAR)
    result = detector.inspect(photo, bank)
    at_full_size = build_facts(photo, result, bank)
    monkeypatch.setattr(facts_module, "FACTS_MAX_SIDE", 256)
    shrunk = build_facts(photo, result, bank)
    assert shrunk.image_size == at_full_size.image_size == (768, 768)
    assert shrunk.verdict == at_full_size.verdict == "NG"
    assert shrunk.region_count == at_full_size.region_count == 1
    for near, full in zip(shrunk.regions, at_full_size.regions):
        assert near.position == full.position == "top" and near.shape == full.shape
        assert np.allclose(near.bbox, full.bbox, atol=6), (near.bbox, full.bbox)
        assert np.allclose(near.centroid, full.centroid, atol=3)
        assert abs(near.area_px / full.area_px - 1) < 0.05 and abs(near.area_percent / full.area_percent - 1) < 0.05
        assert abs(near.major_axis_px / full.major_axis_px - 1) < 0.05
    assert np.allclose(shrunk.peak_xy, at_full_size.peak_xy, atol=6)
    assert abs(shrunk.peak_level - at_full_size.peak_level) < 0.02
    assert shrunk.part_box == at_full_size.part_box == (0, 0, 768, 768)


class ScriptedLLM:
    """A model that always says ``text``: stands in for one that leaves out part of the answer."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text

    def token_budget(self, draft: str) -> int:
        return 200

    def generate(self, messages, on_token=None, max_new_tokens: int = 0):
        from engine.explain.llm import Generation

        return Generation(self.text, first_token_s=0.1, tokens_per_s=20.0, new_tokens=12)


@pytest.mark.parametrize("question, said, completed_with", [
    ("Is there any anomaly?", "Two defect regions were found, at the top left and the bottom right.", ["no yes/no"]),
    ("How many defects are there?", "They are at the top left and the bottom right of the part.", ["no count"]),
])
def test_a_left_out_yes_no_or_count_is_put_back_from_the_facts(two_defect_facts, question, said, completed_with):
    answer = Conversation(two_defect_facts, llm=ScriptedLLM(said)).ask(question)
    grounded_lead = Conversation(two_defect_facts).ask(question).text.split(". ")[0]
    assert answer.completed == completed_with and answer.conflicts == []
    assert answer.text.startswith(grounded_lead) and answer.text.endswith(said)
    assert answer.backend == "llm:scripted (completed from the facts)"
    assert conflicts(answer.text, two_defect_facts) == []


@pytest.mark.parametrize("question, said", [
    ("Where is it?", "The part has a defect that should be checked."),  # no position: not completed
    ("Is there any anomaly?", "There are 3 defect regions on the part."),  # a wrong count: a conflict
])
def test_other_omissions_and_any_conflict_still_replace_the_answer(two_defect_facts, question, said):
    answer = Conversation(two_defect_facts, llm=ScriptedLLM(said)).ask(question)
    assert answer.backend.startswith("grounded (the scripted answer conflicted")
    assert answer.text == Conversation(two_defect_facts).ask(question).text and answer.completed == []


def test_with_a_pixel_size_sizes_come_in_millimetres_and_the_guard_checks_them(two_defect_facts):
    facts = replace(two_defect_facts, mm_per_pixel=0.05)
    second = facts.regions[1]
    mm = facts.millimetres(second)
    assert mm["length"] == pytest.approx(second.major_axis_px * 0.05)
    assert mm["area"] == pytest.approx(second.area_px * 0.05 ** 2)
    assert mm["width"] == pytest.approx(second.bbox[2] * 0.05)
    assert two_defect_facts.millimetres(second) is None
    answer = Conversation(facts).ask("How long is the second one in mm?")
    assert not answer.text.startswith("I can't") and format_mm(mm["length"]) in answer.text
    assert format_mm(mm["area"], squared=True) in answer.text
    for question in QUESTIONS:
        assert conflicts(Conversation(facts).ask(question).text, facts) == [], question
    assert conflicts(f"The second region is about {format_mm(mm['length'])} long.", facts) == []
    assert conflicts(f"It covers {mm['area']:.3f} mm2 and is {mm['length'] / 10:.3f} cm long.", facts) == []
    assert conflicts(f"It is {mm['length'] * 3:.1f} mm long.", facts) == [
        f"states '{mm['length'] * 3:.1f} mm', which matches no measured region"]
    assert conflicts(f"It covers {mm['area'] * 3:.2f} mm².", facts), "an area is checked against areas"
    assert conflicts("It is 3 mm long.", two_defect_facts) == ["states '3 mm', but the image has no scale"]
    stored = FactSheet.from_dict(json.loads(json.dumps(facts.to_dict())))
    assert stored.mm_per_pixel == 0.05 and stored.millimetres(second) == mm


def test_pixel_sizes_follow_the_photo_resolution_and_units_convert():
    assert photo_pixel_size(0.05, (1000, 1500), (1000, 1500)) == 0.05
    assert photo_pixel_size(0.05, (1000, 1500), (2000, 3000)) == pytest.approx(0.025), "the same view, finer"
    assert photo_pixel_size(0.05, (1000, 1500), (800, 800)) == 0.05, "another view: the references' scale"
    assert photo_pixel_size(0.05, None, (300, 412)) == 0.05, "crops of varying size: the references' scale"
    assert reference_pixel_size(0.025, (1000, 1500), (2000, 3000)) == pytest.approx(0.05), "the inverse"
    assert reference_pixel_size(0.05, None, (300, 412)) == 0.05
    assert stated_millimetres("2.4 mm, 0.3 cm, 12 mm², 1 inch, 500 µm and 1,200 mm") == [
        (2.4, False), (3.0, False), (12.0, True), (25.4, False), (pytest.approx(0.5), False), (1200.0, False)]
    assert format_mm(2.35) in ("2.3 mm", "2.4 mm") and format_mm(0.0347, squared=True) == "0.035 mm²"
    assert format_mm(12.4) == "12 mm" and format_mm(1.2e-5, squared=True) == "0.000012 mm²"
    assert stated_millimetres(format_mm(1.2e-5, squared=True)) == [(pytest.approx(1.2e-5), True)]
    for bad in (0, -0.1, float("nan"), float("inf"), 101.0, True, "0.05"):
        with pytest.raises(PixelSizeError, match="pixel size"):
            checked_pixel_size(bad)


def test_the_frame_check_names_another_shape_and_survives_json(two_defect_facts):
    from engine.frame import other_frame

    assert other_frame((256, 176), (512, 512)) == (0.688, 1.0)
    assert other_frame((1024, 1024), (512, 512)) is None  # the same view at another resolution
    assert other_frame((300, 200), None) is None  # references of varying size: no frame to compare with
    assert two_defect_facts.frame_note is None
    cut = replace(two_defect_facts, frame_aspects=(0.688, 1.0))
    assert cut.frame_note == ("this photo's shape (width : height 0.69) is not the references' (1.00): another "
                              "camera view or a crop?")
    assert FactSheet.from_dict(json.loads(json.dumps(cut.to_dict()))) == cut
