"""Projects on a CLIP backbone: the checkpoint a technician imports, checked, kept and carried over."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from cli.parser import run_cli
from engine.synthetic import Defect
from tests.helpers import write_parts

PIT = Defect("pit", 0.4, 0.6, 0.08)
TINY = "clip:iad-tiny-vit"


def _stored_checkpoints(home):
    folder = home / "models" / "clip"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _create(name, *extra):
    return run_cli(["project", "create", name, *extra])


def _inspected_casting(tmp_path, capsys, checkpoint):
    """A CLIP project 'casting' with three references, and a drawn pit inspected: (its file, the JSON result)."""
    write_parts(tmp_path / "refs", range(3))
    bad = write_parts(tmp_path / "test", [40], defects=(PIT,))[0]
    assert _create("casting", "--backbone", TINY, "--backbone-weights", str(checkpoint)) == 0
    assert run_cli(["references", "add", "casting", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    assert run_cli(["inspect", "casting", str(bad), "--json"]) == 0
    return bad, json.loads(capsys.readouterr().out)


def test_bad_backbones_and_checkpoints_are_refused_and_leave_nothing_behind(home, tmp_path, capsys, monkeypatch,
                                                                             tiny_clip_checkpoint):
    import errno

    import torch

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x80\x04not a checkpoint" * 100)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weight": torch.zeros(3)}, foreign)
    cases = [
        ([TINY], "needs an open_clip checkpoint file"),
        ([TINY, "--backbone-weights", str(tmp_path / "missing.pt")], "checkpoint file not found"),
        ([TINY, "--backbone-weights", str(garbage)],
         "not a checkpoint of open_clip's iad-tiny-vit (it cannot be read as a PyTorch checkpoint)"),
        ([TINY, "--backbone-weights", str(foreign)],
         "not a checkpoint of open_clip's iad-tiny-vit (its weights do not fit that model's layers)"),
        (["clip:NoSuchModel", "--backbone-weights", str(tiny_clip_checkpoint)], "open_clip has no model 'NoSuchModel'"),
        (["efficientnet-lite9"], "Unknown backbone 'efficientnet-lite9'"),
        (["efficientnet-lite0", "--backbone-weights", str(tiny_clip_checkpoint)], "has its weights built in"),
    ]
    for backbone_args, message in cases:
        assert _create("part", "--backbone", *backbone_args) == 2, backbone_args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (backbone_args, err)

    def disk_full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("db.store.os.replace", disk_full)
        assert _create("part", "--backbone", TINY, "--backbone-weights", str(tiny_clip_checkpoint)) == 2
    assert "the disk is full" in capsys.readouterr().err
    assert run_cli(["project", "list"]) == 0
    assert "No projects yet" in capsys.readouterr().out
    assert _stored_checkpoints(home) == []  # no copy, and no temporary file either


def test_a_clip_project_keeps_its_own_copy_of_the_checkpoint_and_inspects_after_the_original_is_gone(
        home, tmp_path, capsys, tiny_clip_checkpoint):
    assert _create("casting", "--backbone", TINY, "--backbone-weights", str(tiny_clip_checkpoint)) == 0
    assert _create("casting B", "--backbone", TINY, "--backbone-weights", str(tiny_clip_checkpoint)) == 0
    stored = _stored_checkpoints(home)
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{16}-tiny\.pt", stored[0])  # one copy for both projects
    assert (home / "models" / "clip" / stored[0]).read_bytes() == tiny_clip_checkpoint.read_bytes()
    tiny_clip_checkpoint.unlink()
    write_parts(tmp_path / "refs", range(3))
    bad = write_parts(tmp_path / "test", [40], defects=(PIT,))[0]
    assert run_cli(["references", "add", "casting", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    assert run_cli(["inspect", "casting", str(bad), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] in ("OK", "REVIEW", "NG") and 0.0 <= result["score"] <= 1.0
    assert run_cli(["project", "show", "casting", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["backbone"] == TINY and shown["defect_prompts"] == "28 curated prompts"
    assert shown["settings"]["engine"]["backbone_weights"] == str(home / "models" / "clip" / stored[0])
    report = tmp_path / "casting.html"
    assert run_cli(["report", "--inspection", str(result["id"]), "--format", "html", "--out", str(report)]) == 0
    assert "backbone clip:iad-tiny-vit (checkpoint tiny.pt)" in report.read_text()


def test_a_clip_project_moves_to_a_station_that_is_given_the_same_checkpoint(home, tmp_path, capsys, monkeypatch,
                                                                             tiny_clip_checkpoint):
    import open_clip
    import torch

    bad, at_a = _inspected_casting(tmp_path, capsys, tiny_clip_checkpoint)
    target = tmp_path / "casting.iadproject"
    assert run_cli(["project", "export", "casting", str(target)]) == 0
    other = tmp_path / "other.pt"
    torch.manual_seed(1)
    torch.save(open_clip.create_model("iad-tiny-vit", pretrained=None).state_dict(), other)

    station_b = tmp_path / "station-b"
    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(station_b))
    capsys.readouterr()
    assert run_cli(["project", "import", str(target)]) == 2
    assert "needs the CLIP checkpoint tiny.pt, which this data folder does not have" in capsys.readouterr().err
    assert run_cli(["project", "import", str(target), "--backbone-weights", str(tmp_path / "gone.pt")]) == 2
    assert "the checkpoint" in (err := capsys.readouterr().err) and "gone.pt is not a file" in err
    assert run_cli(["project", "import", str(target), "--backbone-weights", str(other)]) == 2
    assert "is not the checkpoint the project was made with (tiny.pt" in capsys.readouterr().err
    assert run_cli(["project", "list"]) == 0
    assert "No projects yet" in capsys.readouterr().out
    assert _stored_checkpoints(station_b) == []

    assert run_cli(["project", "import", str(target), "--backbone-weights", str(tiny_clip_checkpoint)]) == 0
    assert "with its reference bank and calibration" in capsys.readouterr().out
    assert _stored_checkpoints(station_b) == _stored_checkpoints(home)
    tiny_clip_checkpoint.unlink()
    shutil.rmtree(home / "models")  # the bank built at station A names A's copy: B must use its own
    assert run_cli(["inspect", "casting", str(bad), "--json", "--force"]) == 0
    at_b = json.loads(capsys.readouterr().out)
    assert at_b["score"] == pytest.approx(at_a["score"], abs=1e-6) and at_b["verdict"] == at_a["verdict"]


def test_text_guidance_is_a_clip_projects_setting_that_rebuilds_the_bank_with_the_parts_prompts(
        home, tmp_path, capsys, tiny_clip_checkpoint):
    import torch
    from sqlalchemy import select

    from db import repository as repo
    from db.models import ReferenceBank as BankRow
    from engine.bank import ReferenceBank
    from engine.prompt_writer import WrittenPrompts
    from services.part_prompts import SETTINGS_KEY
    from services.workspace import open_workspace

    assert _create("plain") == 0
    capsys.readouterr()
    assert run_cli(["references", "text-guidance", "plain", "on"]) == 2
    assert "Text guidance cannot be used with 'efficientnet-lite0': only a CLIP backbone" in capsys.readouterr().err

    assert _create("casting", "--backbone", TINY, "--backbone-weights", str(tiny_clip_checkpoint)) == 0
    write_parts(tmp_path / "refs", range(3))
    bad = write_parts(tmp_path / "test", [40], defects=(PIT,))[0]
    assert run_cli(["references", "add", "casting", str(tmp_path / "refs")]) == 0
    assert run_cli(["references", "text-guidance", "casting"]) == 0
    assert "text guidance is off" in capsys.readouterr().out
    assert run_cli(["inspect", "casting", str(bad), "--json"]) == 0
    unguided = json.loads(capsys.readouterr().out)
    assert run_cli(["references", "text-guidance", "casting", "on"]) == 0
    assert "text guidance is on" in capsys.readouterr().out
    assert run_cli(["inspect", "casting", str(bad), "--json", "--force"]) == 0
    guided = json.loads(capsys.readouterr().out)
    assert guided["score"] != unguided["score"]

    def banks() -> list[ReferenceBank]:
        workspace = open_workspace(home, explicit=True)
        with workspace.database.read() as session:
            keys = session.scalars(select(BankRow.bank_key).order_by(BankRow.id)).all()
        loaded = [ReferenceBank.load(workspace.store.path(key)) for key in keys]
        workspace.close()
        return loaded

    first, second = banks()
    assert first.text_embeddings is None and second.config.text_guidance == 0.5
    assert second.text_embeddings.shape == (2, 32)
    report = tmp_path / "casting.html"
    assert run_cli(["report", "--inspection", str(guided["id"]), "--format", "html", "--out", str(report)]) == 0
    assert "(checkpoint tiny.pt) with text guidance" in report.read_text()

    # Prompts written for the part since change what the text reads: the next inspection rebuilds the bank.
    written = WrittenPrompts("casting", "SmolLM2", ["A flawless casting has an even grey surface."],
                             {"crack": ["A crack shows as a dark jagged line on the casting."]}, refused=0)
    workspace = open_workspace(home, explicit=True)
    with workspace.database.write() as session:
        project = repo.get_project(session, "casting")
        repo.update_project(session, project, settings={**project.settings, SETTINGS_KEY: written.to_dict()})
    workspace.close()
    assert run_cli(["inspect", "casting", str(bad), "--json", "--force"]) == 0
    capsys.readouterr()
    third = banks()[-1]
    assert len(banks()) == 3 and not torch.equal(third.text_embeddings, second.text_embeddings)

    assert run_cli(["references", "text-guidance", "casting", "off"]) == 0
    assert "text guidance is off" in capsys.readouterr().out
    assert run_cli(["inspect", "casting", str(bad), "--json", "--force"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["score"] == pytest.approx(unguided["score"], abs=1e-9)  # the first, unguided bank again


def test_a_backup_of_a_clip_project_inspects_after_the_original_data_folder_is_gone(home, tmp_path, capsys,
                                                                                    tiny_clip_checkpoint):
    bad, before = _inspected_casting(tmp_path, capsys, tiny_clip_checkpoint)
    backup = tmp_path / "backup"
    assert run_cli(["db", "backup", str(backup)]) == 0
    assert "Backed up the history and" in capsys.readouterr().out
    tiny_clip_checkpoint.unlink()
    shutil.rmtree(home)  # the workstation's disk is lost; the project names the checkpoint by its old path
    assert run_cli(["inspect", "casting", str(bad), "--json", "--force", "--home", str(backup)]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["score"] == pytest.approx(before["score"], abs=1e-6) and after["verdict"] == before["verdict"]
