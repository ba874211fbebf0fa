"""Layering, statically and at run time: engine and db know neither Qt nor each other; services are Qt-free.

    engine   -> no Qt, no db, no services, no desktop, no cli
    db       -> no Qt, no torch, no engine, no services, no desktop, no cli
    services -> no Qt, no desktop, no cli (engine and db are its job)
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6")
CONTRACTS = {
    "engine": QT + ("db", "desktop", "services", "cli", "sqlalchemy", "alembic"),
    "db": QT + ("torch", "engine", "desktop", "services", "cli"),
    "services": QT + ("desktop", "cli"),
}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(CONTRACTS))
def test_sources_respect_the_layering(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imported_modules(path):
            if name.split(".")[0] in CONTRACTS[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("package", sorted(CONTRACTS))
def test_importing_every_module_loads_nothing_forbidden(package):
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / package).rglob("*.py")]
    modules = [m.removesuffix(".__init__") for m in modules if "migrations" not in m]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {CONTRACTS[package]!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
