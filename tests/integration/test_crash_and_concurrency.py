"""Real child processes: SIGKILL in the middle of a batch, and two stations writing at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.check import check
from services.inspection import Inspector
from services.workspace import open_workspace
from tests.helpers import write_parts

REPO = Path(__file__).resolve().parents[2]
SIDE = 160

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL needs a POSIX system")


def _prepared_home(tmp_path, detector) -> Path:
    """A data folder with a project whose bank is built, so the children only inspect."""
    home = tmp_path / "home"
    workspace = open_workspace(home, operator="setup")
    from db import repository as repo

    with workspace.database.write() as session:
        repo.create_project(session, "disc")
    inspector = Inspector(workspace, detector=detector)
    inspector.add_references("disc", write_parts(tmp_path / "refs", range(4), side=SIDE))
    inspector.ensure_bank("disc")
    workspace.close()
    return home


def _child(home: Path, folder: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "IAD_INSPECTOR_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "main.py", "inspect", "disc", str(folder), "--json", *extra], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(home: Path) -> int:
    workspace = open_workspace(home)
    try:
        from db import repository as repo

        with workspace.database.read() as session:
            return repo.history_count(session, repo.HistoryFilter())
    finally:
        workspace.close()


@pytest.mark.slow
def test_sigkill_mid_batch_leaves_consistent_history_and_rerun_does_the_rest(tmp_path, detector):
    home = _prepared_home(tmp_path, detector)
    batch = tmp_path / "batch"
    write_parts(batch, range(100, 200), side=SIDE)
    child = _child(home, batch)
    seen = 0
    deadline = time.monotonic() + 240
    while seen < 12 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        seen += line.startswith("{")
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL and seen >= 12, child.stderr.read()[-2000:]

    committed = _rows(home)
    assert 12 <= committed < 100
    workspace = open_workspace(home)
    report = check(workspace.database, workspace.store)
    workspace.close()
    assert report.missing == []

    rerun = _child(home, batch)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err[-2000:]
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 100
    assert sum(not r["skipped"] for r in records) == 100 - committed
    assert _rows(home) == 100


@pytest.mark.slow
def test_two_processes_inspect_into_one_database(tmp_path, detector):
    home = _prepared_home(tmp_path, detector)
    first, second = tmp_path / "a", tmp_path / "b"
    write_parts(first, range(300, 315), side=SIDE)
    write_parts(second, range(400, 415), side=SIDE)
    children = [_child(home, first), _child(home, second)]
    outputs = [c.communicate(timeout=300) for c in children]
    for child, (out, err) in zip(children, outputs):
        assert child.returncode == 0, err[-2000:]
        assert len(out.splitlines()) == 15
    assert _rows(home) == 30
    workspace = open_workspace(home)
    assert check(workspace.database, workspace.store).missing == []
    workspace.close()
