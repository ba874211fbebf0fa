"""The PyInstaller bundle's manifest: every file and dynamic import the frozen app needs exists."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path

import pytest

from engine.explain import llm

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle():
    # Loaded by path: the folder is not a package, so that it never shadows PyPI's "packaging".
    spec = importlib.util.spec_from_file_location("iad_bundle", ROOT / "packaging" / "bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundle_carries_weights_templates_and_migrations(bundle):
    pairs = bundle.data_files()
    assert all(Path(source).is_file() for source, _ in pairs)
    targets = {(Path(source).name, target) for source, target in pairs}
    for package in bundle.WEIGHT_PACKAGES:
        assert any(name.endswith(".pth") and target.startswith(package) for name, target in targets), package
    assert any(name.endswith(".gguf") and target == bundle.GGUF_PACKAGE for name, target in targets)
    assert ("env.py", "db/migrations") in targets
    assert {"0001_initial.py", "0002_history_queries.py"} <= {n for n, t in targets if t == "db/migrations/versions"}
    assert ("defects.json", "resources/prompts") in targets
    assert any(target == "resources/templates" for _, target in targets)
    assert not (ROOT / "packaging" / "__init__.py").exists()


def test_bundle_carries_torchvision_compiled_ops(bundle):
    libraries = bundle.library_files()
    assert all(Path(source).is_file() for source, _ in libraries)
    assert any(Path(source).name.startswith("_C") and target == "torchvision" for source, target in libraries)


def test_dynamic_imports_and_version_metadata_are_installed(bundle):
    for name in (*bundle.HIDDEN_IMPORTS, *bundle.COLLECTED_PACKAGES):
        assert importlib.util.find_spec(name) is not None, name
    for distribution in bundle.METADATA_PACKAGES:
        assert importlib.metadata.version(distribution), distribution


def test_embedded_model_is_found_inside_a_frozen_bundle(tmp_path, monkeypatch):
    folder = tmp_path / llm.EMBEDDED_PACKAGE
    folder.mkdir()
    (folder / "model.gguf").write_bytes(b"GGUF")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == llm.EMBEDDED_PACKAGE else real_find_spec(name, *a))
    assert llm.embedded_gguf() is None
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert llm.embedded_gguf() == folder / "model.gguf"
