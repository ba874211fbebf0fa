"""Build the one-folder desktop bundle with PyInstaller, then smoke-test what was built.

    .venv/bin/python packaging/build.py            build into dist/iad-inspector, then smoke-test
    .venv/bin/python packaging/build.py --smoke    smoke-test an existing build only

The smoke test runs the frozen ``iad-inspector-cli`` in a temporary data folder, offline and
offscreen: it renders the GUI's main views with the demo project (engine, database migrations,
Qt), inspects a drawn defective part with a pixel size set, exports its PDF report, asks both
explainers where the defect is (the embedded GGUF model included) and how long in millimetres,
backs the data up, has ``watch`` catch up on a part saved into a line folder and sort it, and
starts the GUI twice on one data folder, where the second start must hand over to the first,
and ends the first with SIGTERM, which it must take as its close button.  Each step must
succeed, or the build is not done.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "iad_inspector.spec"
DIST = ROOT / "dist"
BUNDLE = DIST / "iad-inspector"


def build() -> None:
    """Run PyInstaller on the spec (install it first with: pip install -e '.[build]')."""
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--distpath", str(DIST),
                    "--workpath", str(ROOT / "build" / "pyinstaller"), str(SPEC)], check=True, cwd=ROOT)


def _cli(home: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the frozen console executable; fail loudly with its output on error."""
    executable = BUNDLE / ("iad-inspector-cli.exe" if os.name == "nt" else "iad-inspector-cli")
    env = dict(os.environ, IAD_INSPECTOR_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([str(executable), *args], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=home)
    if done.returncode != 0:
        raise SystemExit(f"smoke test failed: {' '.join(args)}\n{done.stdout}\n{done.stderr}")
    return done


def smoke_test() -> None:
    """Exercise the frozen app end to end; raise SystemExit on the first failure."""
    sys.path.insert(0, str(ROOT))
    import cv2

    from engine.synthetic import Defect, synthetic_part

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        shots = _cli(home, "screenshot", "--out", str(home / "shots")).stdout.split()
        assert shots and all(Path(p).stat().st_size > 10_000 for p in shots), shots
        print(f"GUI views rendered: {len(shots)}")
        references = home / "references"
        references.mkdir()
        for seed in range(4):
            cv2.imwrite(str(references / f"good_{seed}.png"), synthetic_part(seed)[..., ::-1])
        defective = home / "pit.png"
        cv2.imwrite(str(defective), synthetic_part(40, defects=(Defect("pit", 0.3, 0.3, 0.08),))[..., ::-1])
        _cli(home, "project", "create", "Smoke part")
        _cli(home, "references", "add", "Smoke part", str(references))
        _cli(home, "references", "pixel-size", "Smoke part", "0.05")
        row = json.loads(_cli(home, "inspect", "Smoke part", str(defective), "--json").stdout.splitlines()[-1])
        assert row["verdict"] in ("NG", "REVIEW"), row
        print(f"inspection {row['id']}: {row['verdict']}, score {row['score']}")
        report = home / "report.pdf"
        _cli(home, "report", "--inspection", str(row["id"]), "--format", "pdf", "--out", str(report))
        assert report.read_bytes().startswith(b"%PDF"), "the report is not a PDF"
        for backend in ("grounded", "llm"):
            done = _cli(home, "ask", str(row["id"]), "Where is the anomaly?", "--backend", backend)
            assert done.stdout.strip() and "warning" not in done.stderr, done.stderr
            if backend == "llm":  # the model generated (its speed is reported), whatever the guard kept
                assert "first token" in done.stderr, done.stderr
            print(f"{backend}: {done.stdout.strip()[:160]} {done.stderr.strip().splitlines()[-1]}")
        size = _cli(home, "ask", str(row["id"]), "How long is it in mm?").stdout
        assert " mm long" in size, size
        with tempfile.TemporaryDirectory() as elsewhere:  # a backup may not lie inside the data folder
            backup = Path(elsewhere) / "backup"
            print(_cli(home, "db", "backup", str(backup)).stdout.strip()[:100])
            copied = json.loads(_cli(home, "project", "show", "Smoke part", "--json", "--home", str(backup)).stdout)
            assert copied["inspections"] == 1 and copied["references"] == 4, copied
        line, sorted_into = home / "line" / "lot 7", home / "sorted"
        line.mkdir(parents=True)
        cv2.imwrite(str(line / "part.png"), synthetic_part(41)[..., ::-1])
        since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        watched = _cli(home, "watch", "Smoke part", str(line.parent), "--since", since, "--count", "1", "--json",
                       "--sort-into", str(sorted_into)).stdout.splitlines()
        verdict = json.loads(watched[-1])["verdict"]
        assert (sorted_into / verdict / "part.png").is_file(), watched
        print(f"watch caught up on a saved part: {verdict}, moved into {sorted_into.name}/{verdict}")
        _second_start_hands_over(home)
    print(f"smoke test passed: {BUNDLE}")


def _second_start_hands_over(home: Path) -> None:
    """The frozen app started twice on one data folder: the second start wakes the first and ends."""
    from PySide6.QtCore import QDir

    from desktop.single_instance import instance_key

    executable = BUNDLE / ("iad-inspector.exe" if os.name == "nt" else "iad-inspector")
    env = dict(os.environ, IAD_INSPECTOR_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    lock = Path(QDir.tempPath()) / f"{instance_key(home)}.lock"
    first = subprocess.Popen([str(executable)], env=env, cwd=home, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while not lock.exists():
            if first.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"smoke test failed: the app did not start (exit code {first.poll()})")
            time.sleep(0.5)
        second = subprocess.run([str(executable)], env=env, cwd=home, capture_output=True, timeout=180)
        if second.returncode != 0 or first.poll() is not None:
            raise SystemExit(f"smoke test failed: a second start exited {second.returncode}, the first "
                             f"{'ran on' if first.poll() is None else 'ended'}")
        print("a second start handed over to the running app")
    finally:
        first.terminate()
        first.wait(timeout=60)
    if os.name != "nt" and first.returncode != 0:  # Windows has no SIGTERM: terminate() kills
        raise SystemExit(f"smoke test failed: on SIGTERM the app exited {first.returncode} instead of closing")
    print("on SIGTERM the app closed as its close button does")


def main() -> int:
    """Build (unless --smoke) and smoke-test; exits non-zero on the first failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="only smoke-test an existing build")
    args = parser.parse_args()
    if not args.smoke:
        build()
    smoke_test()
    return 0


if __name__ == "__main__":
    sys.exit(main())
