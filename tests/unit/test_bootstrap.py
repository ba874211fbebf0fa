"""bootstrap.py, the README's set-up command: it refuses a first install that cannot fit."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sys
import threading
import time
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


CHILD = """
import os, signal, sys, time
def finish(number, frame):
    time.sleep(0.5)  # closing takes a while: a killed child would not get to its exit code
    sys.exit(30 + number)
signal.signal(signal.SIGINT, finish)
signal.signal(signal.SIGTERM, finish)
with open(sys.argv[1] + ".tmp", "w") as ready:
    ready.write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
sys.exit(1)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="a process group's Ctrl+C and SIGTERM are POSIX's")
@pytest.mark.parametrize("name, to_child_too", [("SIGINT", True), ("SIGTERM", False)])
def test_the_app_gets_a_ctrl_c_or_a_sigterm_and_closes_in_its_own_time(bootstrap, tmp_path, name, to_child_too):
    """Ctrl+C goes to the whole terminal group: the child takes it, the wrapper waits; a SIGTERM to the
    wrapper alone is passed on. Before, the wrapper killed the app 0.25 s after a Ctrl+C."""
    number = getattr(signal, name)
    ready = tmp_path / "child.pid"
    before = signal.getsignal(number)

    def deliver() -> None:
        end = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < end:
            time.sleep(0.02)
        if to_child_too:
            os.kill(int(ready.read_text()), number)
        os.kill(os.getpid(), number)

    sender = threading.Thread(target=deliver)
    sender.start()
    code = bootstrap.run_child([sys.executable, "-c", CHILD, str(ready)])
    sender.join()
    assert code == 30 + number  # the child's own exit after its handler, neither killed nor left behind
    assert signal.getsignal(number) is before
