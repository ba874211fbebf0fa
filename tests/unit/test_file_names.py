"""File names suggested from project names and source files are valid on every desktop system."""

from __future__ import annotations

import pytest

from services.file_names import MAX_STEM_LENGTH, file_stem


@pytest.mark.parametrize(("typed", "stem"), [
    ("Valve/Cover 3", "Valve_Cover 3"),
    ('Housing: "A" <left>|right?*', "Housing_ _A_ _left__right__"),
    ("C:\\parts\\x", "C__parts_x"),
    ("../x", "_x"),
    ("  .hidden. ", "hidden"),
    ("con", "_con"),
    ("LPT1.backup", "_LPT1.backup"),
    ("console", "console"),
    ("Ölwanne ü", "Ölwanne ü"),
    ("tab\there", "tab_here"),
    ("...", "export"),
])
def test_a_typed_name_becomes_a_file_name_every_system_takes(typed, stem):
    assert file_stem(typed) == stem


def test_a_long_name_is_cut_without_leaving_a_trailing_dot():
    assert file_stem("a" * 99 + ". more") == "a" * 99
    assert len(file_stem("b" * 300)) == MAX_STEM_LENGTH
