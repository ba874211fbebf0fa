"""The checks on prompts a language model writes for a part (engine.prompt_writer), on scripted answers.

The real embedded model writing them is tested in tests/integration/test_llm_backend.py.
"""

from __future__ import annotations

import pytest

from engine.detector import Cancelled
from engine.prompt_writer import (
    DEFECT_QUESTIONS,
    NORMAL_QUESTIONS,
    WrittenPrompts,
    extended_library,
    first_sentence,
    part_words,
    usable_prompt,
    write_prompts,
)
from engine.prompts import PromptLibrary


@pytest.fixture
def library() -> PromptLibrary:
    return PromptLibrary.load("metal bracket")


def test_the_first_sentence_loses_list_numbers_quotes_and_markup():
    assert first_sentence('1. "A bracket with a scratch." It is bad.') == "A bracket with a scratch."
    assert first_sentence("**A dent on a bracket.**\nMore text") == "A dent on a bracket."
    assert first_sentence("  \n- A hole in a bracket") == "A hole in a bracket"
    assert first_sentence("") == ""


@pytest.mark.parametrize("answer, kind, kept", [
    ("A scratch shows as a thin bright line across the bracket.", "scratch", True),
    ("Scratches show as thin bright lines across the brackets.", "scratch", True),  # plural forms count
    ("A scratch shows as a thin bright line across the part.", "scratch", False),  # the part is not named
    ("A scratch is a small hole in the bracket's coating.", "scratch", False),  # names a second type
    ("A crack in a bracket looks like a dark jagged line.", "scratch", False),  # names another type only
    ("A flawless bracket with a scratch is still perfect.", "scratch", False),  # praises a defective part
    ("A scratch on a bracket.", "scratch", True),
    ("Scratch on bracket.", "scratch", False),  # too short
    ("A scratch on a bracket " + "that runs along " * 10 + "its edge.", "scratch", False),  # too long
    ('A bracket with a scratch is a "tremendous feat of engineering', "scratch", False),  # unbalanced quote
    ("A flawless bracket has an even, matte grey surface.", None, True),
    ("A flawless bracket has no scratch on its even surface.", None, False),  # a normal prompt naming a defect
    ("A bracket has an even, matte grey surface.", None, False),  # nothing says it is without defect
    ("A missing part leaves a bracket incomplete on one side.", "missing part", True),
])
def test_a_written_prompt_is_kept_only_when_it_names_the_part_and_its_own_type(library, answer, kind, kept):
    assert (usable_prompt(answer, "metal bracket", library, kind) is not None) == kept


def test_a_part_is_named_by_any_word_of_its_name():
    assert part_words("Bottle line 3") == ["Bottle", "line"]
    assert part_words("PCB-A12 rev2") == ["PCB", "rev"]
    assert part_words("A1-3") == ["A1-3"]
    library = PromptLibrary.load("Bottle line 3")
    assert usable_prompt("A scratch shows as a thin line on the bottle's shoulder.", "Bottle line 3", library,
                         "scratch") is not None


def test_written_prompts_extend_the_curated_ones_without_duplicates(library):
    answers = {
        "scratch": "A scratch shows as a thin bright line on the bracket.",
        "crack": "a photo of a cracked metal bracket",  # already in the curated library
        "hole": "I cannot describe that.",
    }
    asked: list[str] = []

    def ask(question: str) -> str:
        asked.append(question)
        kind = next((k for k in library.defects if f" {k} " in question), None)
        return answers.get(kind, "A flawless bracket has an even, matte grey surface.")

    steps: list[tuple[int, int]] = []
    written = write_prompts(ask, "metal bracket", library, "test model", progress=lambda d, t: steps.append((d, t)))
    total = len(NORMAL_QUESTIONS) + len(DEFECT_QUESTIONS) * len(library.defects)
    assert len(asked) == total and steps[-1] == (total, total)
    assert all("metal bracket" in q for q in asked)
    # Each phrasing of a type got the same answer: the second copy is a duplicate and refused.
    assert written.defects == {"scratch": ["A scratch shows as a thin bright line on the bracket."]}
    assert written.normal == ["A flawless bracket has an even, matte grey surface."]
    assert written.kept == 2 and written.refused == total - 2
    assert WrittenPrompts.from_dict(written.to_dict()) == written

    extended = extended_library(library, written)
    assert extended.normal == library.normal + written.normal
    assert extended.defects["scratch"] == library.defects["scratch"] + written.defects["scratch"]
    assert extended.defects["crack"] == library.defects["crack"]
    assert extended.prompt_count() == library.prompt_count() + 2
    stray = WrittenPrompts("metal bracket", "m", defects={"rust": ["A rusty bracket."]})
    assert extended_library(library, stray).defects == library.defects  # types the library lacks are ignored


def test_writing_stops_when_cancelled(library):
    asked: list[str] = []
    with pytest.raises(Cancelled):
        write_prompts(lambda q: asked.append(q) or "x", "metal bracket", library, "m", cancel=lambda: len(asked) >= 3)
    assert len(asked) == 3


def test_the_prompt_benchmark_table_counts_each_part_and_the_total():
    from engine.prompt_bench import format_prompt_table

    rows = {
        "bottle": WrittenPrompts("bottle", "m", ["A flawless bottle is clear."], {"crack": ["A crack in a bottle."]},
                                 refused=16),
        "screw": WrittenPrompts("screw", "m", [], {}, refused=18),
    }
    result = {"model": "m", "load_s": 1.25,
              "parts": {part: {**w.to_dict(), "kept": w.kept, "seconds": 40.0} for part, w in rows.items()}}
    table = format_prompt_table(result).splitlines()
    assert table[0] == "prompt writer: m (loaded in 1.2 s)"
    assert table[3].split() == ["bottle", "2", "16", "40", "normal", "1,", "crack", "1"]
    assert table[4].split() == ["screw", "0", "18", "40", "normal", "0"]
    assert table[5].split() == ["ALL", "2", "34"]
