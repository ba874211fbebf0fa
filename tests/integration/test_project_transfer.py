"""A part type's set-up moved to another workstation: export, import, and what a damaged file does."""

from __future__ import annotations

import json
import zipfile

import pytest

from cli.parser import run_cli
from engine.synthetic import Defect
from tests.helpers import write_parts

PIT = Defect("pit", 0.4, 0.6, 0.08)


@pytest.fixture
def exported(home, tmp_path, capsys):
    """Project 'disc' set up at station A (refined threshold, area, a named defect type) and exported."""
    write_parts(tmp_path / "refs", range(5))
    write_parts(tmp_path / "val" / "good", range(60, 66))
    write_parts(tmp_path / "val" / "pit", range(70, 73), defects=(PIT,))
    bad = write_parts(tmp_path / "test", [50], defects=(PIT,), suffix=".tif")[0]
    assert run_cli(["project", "create", "disc", "--description", "brake disc", "--sensitivity", "0.6"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    _disable_reference("disc", "part004.png")
    assert run_cli(["references", "area", "disc", "0.05", "0.05", "0.95", "0.95"]) == 0
    assert run_cli(["references", "pixel-size", "disc", "0.04"]) == 0
    assert run_cli(["references", "calibrate", "disc", "--validation", str(tmp_path / "val"), "--mode", "f1"]) == 0
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(bad), "--json"]) == 0
    at_a = json.loads(capsys.readouterr().out)
    assert run_cli(["label", str(at_a["id"]), "1", "pit"]) == 0
    capsys.readouterr()
    target = tmp_path / "transfer" / "disc-setup"
    assert run_cli(["project", "export", "disc", str(target)]) == 2
    assert "No such file or directory" in capsys.readouterr().err
    target.parent.mkdir()
    assert run_cli(["project", "export", "disc", str(target)]) == 0
    assert "disc-setup.iadproject" in capsys.readouterr().out
    return target.with_name("disc-setup.iadproject"), bad, at_a


def _disable_reference(project_name: str, file_name: str) -> None:
    from db import repository as repo
    from services.workspace import open_workspace

    workspace = open_workspace()
    with workspace.database.write() as session:
        project = repo.get_project(session, project_name)
        reference = next(r for r in repo.references(session, project) if r.file_name == file_name)
        repo.set_reference_active(session, reference, False, "tester")
    workspace.close()


def _show(home_flag: list[str], name: str, capsys) -> dict:
    capsys.readouterr()
    assert run_cli(["project", "show", name, "--json", *home_flag]) == 0
    return json.loads(capsys.readouterr().out)


def test_an_exported_project_scores_the_same_at_another_station(exported, tmp_path, capsys):
    project_file, bad, at_a = exported
    station_b = ["--home", str(tmp_path / "station-b")]  # the flag beats IAD_INSPECTOR_HOME (station A)
    assert run_cli(["project", "import", str(project_file), *station_b]) == 0
    out = capsys.readouterr().out
    assert "5 reference images (4 active), with its reference bank and calibration" in out
    shown_a, shown_b = _show([], "disc", capsys), _show(station_b, "disc", capsys)
    for key in ("description", "backbone", "settings", "references"):
        assert shown_b[key] == shown_a[key]
    assert shown_b["settings"]["engine"]["inspection_area"] == [0.05, 0.05, 0.95, 0.95]
    assert shown_b["settings"]["pixel_size_mm"] == 0.04 and "0.04 mm per pixel" in shown_b["pixel_size"]
    assert shown_b["settings"]["type_examples"] and shown_b["inspections"] == 0
    assert shown_b["bank"]["calibration"] == "labelled-f1"

    assert run_cli(["inspect", "disc", str(bad), "--json", *station_b]) == 0
    at_b = json.loads(capsys.readouterr().out)
    assert not at_b["skipped"]
    assert (at_b["verdict"], at_b["score"], at_b["regions"]) == (at_a["verdict"], at_a["score"], at_a["regions"])
    capsys.readouterr()
    assert run_cli(["ask", str(at_b["id"]), "What type is it?", *station_b]) == 0
    assert "pit" in capsys.readouterr().out

    assert run_cli(["project", "import", str(project_file), *station_b]) == 2
    assert "already exists" in capsys.readouterr().err
    assert run_cli(["project", "import", str(project_file), "--name", "disc line 2", *station_b]) == 0
    capsys.readouterr()
    assert run_cli(["project", "list", *station_b]) == 0
    assert "disc line 2" in capsys.readouterr().out
    assert run_cli(["project", "list"]) == 0
    assert "disc line 2" not in capsys.readouterr().out


def _rewrite(source, target, change) -> None:
    """Copy a project file, passing each member's (name, bytes) through ``change`` (None drops it)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            name, data = change(info.filename, old.read(info))
            if name is not None:
                new.writestr(name, data)


def _flip_a_byte_of_the_first_reference():
    flipped = []

    def change(name: str, data: bytes) -> tuple[str, bytes]:
        if name.startswith("references/") and not flipped:
            flipped.append(name)
            return name, data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:]
        return name, data
    return change


def _newer_format(name: str, data: bytes) -> tuple[str, bytes]:
    if name != "manifest.json":
        return name, data
    return name, json.dumps({**json.loads(data), "format_version": 99}).encode()


def _settings_with(change: dict):
    def rewrite(name: str, data: bytes) -> tuple[str, bytes]:
        if name != "manifest.json":
            return name, data
        manifest = json.loads(data)
        manifest["project"]["settings"] = {**manifest["project"]["settings"], **change}
        return name, json.dumps(manifest).encode()
    return rewrite


def _project_with(change: dict):
    def rewrite(name: str, data: bytes) -> tuple[str, bytes]:
        if name != "manifest.json":
            return name, data
        manifest = json.loads(data)
        manifest["project"] = {**manifest["project"], **change}
        return name, json.dumps(manifest).encode()
    return rewrite


DAMAGE = {
    "flipped byte": (lambda: _flip_a_byte_of_the_first_reference(), "checksum does not match"),
    "missing reference": (lambda: lambda n, d: (None if n.startswith("references/") else n, d), "listed but missing"),
    "newer format": (lambda: _newer_format, "newer than this program reads"),
    "no manifest": (lambda: lambda n, d: (None if n == "manifest.json" else n, d), "no manifest.json"),
    "area off the image": (lambda: _settings_with({"engine": {"inspection_area": [0.5, 0.5, 1.7, 0.9]}}),
                           "settings are not valid"),
    "sensitivity": (lambda: _settings_with({"sensitivity": 7}), "not between 0 and 1"),
    "pixel size": (lambda: _settings_with({"pixel_size_mm": -0.5}), "pixel size must be a number"),
    "processing size": (lambda: _settings_with({"engine": {"input_side": -5}}), "input_side must be"),
    "unknown layer": (lambda: _settings_with({"engine": {"layers": ["s3", "s9"]}}), "has no layer s9"),
    "unknown backbone": (lambda: _project_with({"backbone": "resnet-999"}), "Unknown backbone 'resnet-999'"),
}


@pytest.mark.parametrize("damage", [*DAMAGE, "not a zip", "no such file"])
def test_a_damaged_project_file_is_refused_and_adds_nothing(exported, tmp_path, capsys, damage):
    project_file, _, _ = exported
    damaged = tmp_path / "damaged.iadproject"
    if damage == "not a zip":
        damaged.write_bytes(b"PK\x03\x04 not really a zip")
        message = "not a project file"
    elif damage == "no such file":
        message = "no such file"
    else:
        make_change, message = DAMAGE[damage]
        _rewrite(project_file, damaged, make_change())
    station_b = ["--home", str(tmp_path / "station-b")]
    capsys.readouterr()
    assert run_cli(["project", "import", str(damaged), *station_b]) == 2
    error = capsys.readouterr().err
    assert message in error and "damaged.iadproject" in error
    assert run_cli(["project", "list", *station_b]) == 0
    assert "No projects yet" in capsys.readouterr().out


def test_a_bank_from_another_engine_version_is_left_behind_and_rebuilt(exported, tmp_path, capsys):
    project_file, bad, at_a = exported

    def older_engine(name: str, data: bytes) -> tuple[str, bytes]:
        if name != "manifest.json":
            return name, data
        manifest = json.loads(data)
        manifest["bank"]["engine_version"] = "0.0.1"
        return name, json.dumps(manifest).encode()

    older = tmp_path / "older.iadproject"
    _rewrite(project_file, older, older_engine)
    station_b = ["--home", str(tmp_path / "station-b")]
    capsys.readouterr()
    assert run_cli(["project", "import", str(older), *station_b]) == 0
    out = capsys.readouterr().out
    assert "without a reference bank" in out and "(engine 0.0.1) does not fit" in out and "refined again" in out
    assert run_cli(["inspect", "disc", str(bad), "--json", *station_b]) == 0
    at_b = json.loads(capsys.readouterr().out)
    assert at_b["verdict"] == at_a["verdict"] == "NG"  # rebuilt from the same references


def test_a_reference_damaged_in_the_store_does_not_travel_on(exported, home, tmp_path, capsys):
    stored = sorted((home / "store" / "images").rglob("*.png"))[0]
    stored.write_bytes(stored.read_bytes()[:-20] + bytes(20))  # bit rot after the file was stored
    again = tmp_path / "again.iadproject"
    assert run_cli(["project", "export", "disc", str(again)]) == 0
    capsys.readouterr()
    assert run_cli(["project", "import", str(again), "--home", str(tmp_path / "station-b")]) == 2
    assert "checksum does not match" in capsys.readouterr().err
