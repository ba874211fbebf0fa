"""Fixtures shared by the command-line tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh data folder (station A) that every command of the test uses, and a named operator."""
    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "station-a"))
    monkeypatch.setenv("IAD_INSPECTOR_OPERATOR", "tester")
    return tmp_path / "station-a"
