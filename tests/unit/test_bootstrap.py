"""bootstrap.py, the README's set-up command: it refuses a first install that cannot fit."""

from __future__ import annotations

import importlib.util
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
Usage = namedtuple("Usage", "total used free")


@pytest.fixture()
def bootstrap():
    spec = importlib.util.spec_from_file_location("iad_bootstrap", ROOT / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_disk_too_full_for_the_install_stops_with_the_space_needed(bootstrap, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(100 * 1024**3, 99 * 1024**3, 1024**3))
    with pytest.raises(SystemExit) as stopped:
        bootstrap._require_free_space(bootstrap.FRESH_INSTALL_BYTES)
    assert "needs about 8 GB free" in str(stopped.value)
    assert "only 1.0 GB is free" in str(stopped.value)


def test_enough_space_lets_the_install_go_on(bootstrap, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(100 * 1024**3, 10 * 1024**3, 90 * 1024**3))
    bootstrap._require_free_space(bootstrap.FRESH_INSTALL_BYTES)
