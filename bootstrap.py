"""Set up IAD Inspector in ./.venv and run it: standard library only, idempotent.

    python3 bootstrap.py run [ARGS...]    set up, then start the app (main.py ARGS)
    python3 bootstrap.py test [ARGS...]   set up with test tools, then run the test suite

The dependency lists come from pyproject.toml.  A stamp file in .venv records the requirement
strings installed; a run whose requirements are all in it skips straight to starting.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

if sys.version_info < (3, 11):  # noqa: UP036 (this file may be run by an older python)
    sys.exit("IAD Inspector needs Python 3.11 or newer.")

import tomllib  # noqa: E402
import venv  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
# A fresh .venv takes about 6.5 GB (torch 2.14.1 for x86_64 is the CUDA build); leave some slack.
FRESH_INSTALL_BYTES = 8 * 1024**3


def venv_python() -> Path:
    """The virtual environment's interpreter, on Windows or elsewhere."""
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements(with_tests: bool) -> tuple[list[str], list[str]]:
    """(normal requirements, requirements installed without their dependencies)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    normal = list(project["project"]["dependencies"])
    if with_tests:
        normal += project["project"]["optional-dependencies"]["test"]
    no_deps = list(project["tool"]["iad-inspector"]["no-deps"])
    return normal, no_deps


def ensure_environment(with_tests: bool) -> Path:
    """Create .venv if missing and install what is not installed yet; return its python."""
    python = venv_python()
    if not python.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    normal, no_deps = requirements(with_tests)
    wanted = set(normal) | set(no_deps)
    stamp = VENV / ".iad-installed.json"
    installed = set(json.loads(stamp.read_text())) if stamp.exists() else set()
    if wanted <= installed:
        return python
    if not _has_torch():
        _require_free_space(FRESH_INSTALL_BYTES)
    print("Installing dependencies into .venv (first run takes a few minutes) ...", flush=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    for command in (pip + normal, pip + ["--no-deps"] + no_deps):
        if subprocess.run(command).returncode != 0:
            sys.exit(
                "Installing the dependencies failed (pip's message is above). Nothing was "
                "started; fix the cause and run the same command again: it resumes."
            )
    stamp.write_text(json.dumps(sorted(wanted | _still_valid(installed, normal))))
    return python


def _has_torch() -> bool:
    """Whether torch, the bulk of the install, is already in .venv."""
    return any(VENV.glob("lib/python3*/site-packages/torch")) or (VENV / "Lib/site-packages/torch").exists()


def _require_free_space(needed: int) -> None:
    """Stop with a clear message before a first install that cannot fit on the disk."""
    free = shutil.disk_usage(ROOT).free
    if free < needed:
        sys.exit(
            f"Setting up needs about {needed / 1024**3:.0f} GB free on the disk that holds "
            f"{ROOT}; only {free / 1024**3:.1f} GB is free. Free some space and run again."
        )


def _still_valid(installed: set[str], normal: list[str]) -> set[str]:
    """Earlier stamp entries that pyproject still lists (a test install covers a later app run)."""
    everything = set(requirements(with_tests=True)[0]) | set(requirements(with_tests=False)[1])
    return {item for item in installed if item in everything and item not in normal}


def main(argv: list[str]) -> int:
    """Dispatch ``run`` or ``test``."""
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    action, rest = argv[0], argv[1:]
    python = ensure_environment(with_tests=action == "test")
    command = [str(python), "-m", "pytest", *rest] if action == "test" else [str(python), "main.py", *rest]
    return run_child(command)


def run_child(command: list[str]) -> int:
    """Run the app or the tests and wait for them as a shell does; their exit code.

    A Ctrl+C reaches the child from the terminal itself, so this process ignores it: the app
    closes, or pytest reports, in its own time (``subprocess.call`` would kill it 0.25 s later).
    A SIGTERM sent to this process alone (``kill``, a service manager) is passed on.
    """
    child = subprocess.Popen(command, cwd=ROOT)
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    terminate = signal.signal(signal.SIGTERM, lambda number, frame: child.send_signal(number))
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, terminate)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
