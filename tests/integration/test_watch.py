"""``main.py watch``: new images in a folder and its sub-folders are inspected once, as they come."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from cli.parser import run_cli
from engine.imageio import list_images
from engine.synthetic import Defect
from tests.helpers import write_parts


def _disc_project(tmp_path) -> None:
    assert run_cli(["project", "create", "disc"]) == 0
    write_parts(tmp_path / "refs", range(4))
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0


def _watch(capsys, arguments: list[str], while_watching) -> tuple[list[dict], str]:
    """Run ``main.py watch`` with ``arguments`` in a thread, call ``while_watching`` once it says it is
    watching, and wait for it to stop: (its JSON records, its stderr)."""
    capsys.readouterr()
    out, err, result = [], [], []
    command = ["watch", *arguments, "--json", "--interval", "0.2"]
    watch = threading.Thread(target=lambda: result.append(run_cli(command)))
    watch.start()

    def captured() -> str:
        got = capsys.readouterr()
        out.append(got.out)
        err.append(got.err)
        return "".join(err)

    end = time.monotonic() + 60
    while "Ctrl+C stops" not in captured():
        assert time.monotonic() < end, "the watch did not start"
        time.sleep(0.05)
    while_watching()
    watch.join(timeout=120)
    captured()
    assert not watch.is_alive() and result == [0]
    return [json.loads(row) for row in "".join(out).splitlines()], "".join(err)


def test_watch_inspects_the_new_images_of_a_folder_and_its_sub_folders_once_each(home, tmp_path, capsys):
    _disc_project(tmp_path)
    line = tmp_path / "line"
    write_parts(line / "2026-11-27", [30])  # there before the watch: left alone
    written = []

    def save_parts() -> None:
        (line / "2026-11-28").mkdir()
        (line / "2026-11-28" / ".part31.png").write_bytes(b"a writer's temporary file")
        written.extend(write_parts(line / "2026-11-28", [31], defects=(Defect("pit", 0.5, 0.5, 0.12),)))
        written.extend(write_parts(line, [32]))

    records, err = _watch(capsys, ["disc", str(line), "--count", "2", "--lot", "L-7"], save_parts)
    assert "(1 image already there left alone)" in err
    assert sorted(r["image"] for r in records) == sorted(str(path) for path in written)
    assert {r["lot"] for r in records} == {"L-7"} and "stopped: 2 inspected, 0 failed." in err
    assert run_cli(["history", "disc"]) == 0
    assert "2 of 2 matching" in capsys.readouterr().out


def test_watch_takes_an_image_written_over_under_the_same_name_for_a_new_one(home, tmp_path, capsys):
    import os

    _disc_project(tmp_path)
    line = tmp_path / "line"
    line.mkdir()
    last = line / "last.png"  # a camera that saves each frame under one name
    last.write_bytes(write_parts(tmp_path / "earlier", [40])[0].read_bytes())
    os.utime(last, (time.time() - 60,) * 2)
    defective = write_parts(tmp_path / "frame", [41], defects=(Defect("pit", 0.5, 0.5, 0.12),))[0]
    records, err = _watch(capsys, ["disc", str(line), "--count", "1"],
                          lambda: last.write_bytes(defective.read_bytes()))
    assert "(1 image already there left alone)" in err
    assert [r["image"] for r in records] == [str(last)] and records[0]["verdict"] != "OK"


def test_watch_sorts_inspected_images_into_folders_named_by_their_verdicts(home, tmp_path, capsys):
    _disc_project(tmp_path)
    line, sorted_into = tmp_path / "line", tmp_path / "sorted"
    line.mkdir()
    write_parts(sorted_into / "OK", [41])  # a part of that name is there already: kept, the new one renamed
    (sorted_into / "OK" / "part041.png").rename(sorted_into / "OK" / "part040.png")

    def save_parts() -> None:
        write_parts(line, [40])
        write_parts(line / "station 2", [42], defects=(Defect("pit", 0.5, 0.5, 0.12),))

    records, _ = _watch(capsys, ["disc", str(line), "--count", "2", "--sort-into", str(sorted_into)], save_parts)
    verdicts = {Path(r["image"]).name: r["verdict"] for r in records}
    assert verdicts["part042.png"] == "NG" and set(verdicts) == {"part040.png", "part042.png"}
    assert list_images(line) == [] and list_images(line / "station 2") == []
    assert (sorted_into / "NG" / "part042.png").exists()
    name = "part040-1.png" if verdicts["part040.png"] == "OK" else "part040.png"
    assert (sorted_into / verdicts["part040.png"] / name).exists() and (sorted_into / "OK" / "part040.png").exists()
    assert run_cli(["watch", "disc", str(line), "--sort-into", str(line / "sorted")]) == 2
    assert "lies inside the watched folder" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is how POSIX systems ask a process to end")
def test_sigterm_stops_a_watch_after_the_image_in_hand_as_ctrl_c_does(home, tmp_path, capsys):
    import os
    import signal

    _disc_project(tmp_path)
    line, sorted_into = tmp_path / "line", tmp_path / "sorted"
    line.mkdir()
    handler_before = signal.getsignal(signal.SIGTERM)

    def line_saves_a_part_then_the_service_stops() -> None:
        end = time.monotonic() + 60
        try:
            while "Ctrl+C stops" not in "".join(err_seen) and time.monotonic() < end:
                time.sleep(0.05)
            write_parts(line, [50])
            while not (sorted_into / "OK").is_dir() and time.monotonic() < end:  # inspected and sorted
                time.sleep(0.05)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # the watch runs in the main thread, where Python takes signals

    err_seen: list[str] = []
    real_write = sys.stderr.write
    capsys.readouterr()
    service = threading.Thread(target=line_saves_a_part_then_the_service_stops)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys.stderr, "write", lambda text: (err_seen.append(text), real_write(text))[1])
        service.start()
        code = run_cli(["watch", "disc", str(line), "--interval", "0.2", "--sort-into", str(sorted_into)])
    service.join(timeout=60)
    assert code == 0 and "stopped: 1 inspected, 0 failed." in capsys.readouterr().err
    assert [path.name for path in list_images(sorted_into / "OK")] == ["part050.png"] and list_images(line) == []
    assert signal.getsignal(signal.SIGTERM) is handler_before


def test_watch_since_first_inspects_what_was_saved_while_no_watch_ran(home, tmp_path, capsys):
    import os
    from datetime import UTC, datetime

    _disc_project(tmp_path)
    line = tmp_path / "line"
    old = write_parts(line, [50])[0]
    os.utime(old, (1e9, 1e9))  # from before the first watch: left alone
    began = datetime.now(UTC)
    records, _ = _watch(capsys, ["disc", str(line), "--count", "1"], lambda: write_parts(line, [51]))
    assert [Path(r["image"]).name for r in records] == ["part051.png"]
    night = write_parts(line / "night", [52, 53, 55])  # saved while no watch ran
    (line / "part051.png").write_bytes(write_parts(tmp_path / "again", [56])[0].read_bytes())  # saved over,
    os.utime(line / "part051.png", (time.time() + 3,) * 2)  # later than a share's clock step after its inspection
    assert run_cli(["project", "create", "cap"]) == 0
    assert run_cli(["references", "add", "cap", str(tmp_path / "refs")]) == 0
    assert run_cli(["inspect", "cap", str(night[2])]) == 0  # inspected already, into the project shown then
    records, err = _watch(capsys, ["disc", str(line), "--count", "4", "--since", began.isoformat()],
                          lambda: write_parts(line, [54]))
    assert "3 images saved since" in err
    assert [Path(r["image"]).name for r in records] == ["part052.png", "part053.png", "part051.png", "part054.png"]


def test_watch_since_sorts_an_image_inspected_but_left_unsorted_by_the_verdict_it_got(home, tmp_path, capsys):
    from datetime import UTC, datetime, timedelta

    _disc_project(tmp_path)
    line, sorted_into = tmp_path / "line", tmp_path / "sorted"
    began = datetime.now(UTC) - timedelta(minutes=1)
    left = write_parts(line, [60], defects=(Defect("pit", 0.5, 0.5, 0.12),))[0]
    assert run_cli(["inspect", "disc", str(left), "--json"]) == 0  # the watch crashed before it moved it
    verdict = json.loads(capsys.readouterr().out.splitlines()[-1])["verdict"]
    records, err = _watch(capsys, ["disc", str(line), "--count", "1", "--since", began.isoformat(),
                                   "--sort-into", str(sorted_into)], lambda: write_parts(line, [61]))
    assert f"{left} was inspected before ({verdict}) but not sorted: moved" in err
    assert (sorted_into / verdict / "part060.png").is_file() and not left.exists()
    assert [Path(r["image"]).name for r in records] == ["part061.png"]  # inspected once, not again
    assert list_images(line) == []


def test_watch_refuses_a_missing_folder_and_bad_settings(home, tmp_path, capsys):
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["watch", "disc", str(tmp_path / "nowhere")]) == 2
    assert "No such folder" in capsys.readouterr().err
    assert run_cli(["watch", "disc", str(tmp_path), "--interval", "0"]) == 2
    assert "--interval must be a positive number" in capsys.readouterr().err
    assert run_cli(["watch", "disc", str(tmp_path), "--count", "0"]) == 2
    assert "--count must be at least 1" in capsys.readouterr().err


def test_a_new_image_is_handed_on_once_its_size_has_held_and_never_twice():
    from services.new_images import NewImages

    images = NewImages(existing=["/line/old.png"], settle_s=1.0)
    assert images.judge({"/line/old.png": 10, "/line/a.png": 0}, now=0.0) == ([], True)  # just created
    assert images.judge({"/line/old.png": 10, "/line/a.png": 500}, now=1.0) == ([], True)  # still growing
    assert images.judge({"/line/a.png": 900}, now=2.0) == ([], True)
    assert images.judge({"/line/a.png": 900}, now=2.5) == ([], True)  # held, but not for a second yet
    assert images.judge({"/line/a.png": 900, "/line/b.png": 7}, now=3.0) == ([Path("/line/a.png")], True)
    assert images.judge({"/line/a.png": 900, "/line/b.png": 7}, now=4.0) == ([Path("/line/b.png")], False)
    assert images.judge({"/line/a.png": 900, "/line/b.png": 7}, now=9.0) == ([], False)


def test_an_image_written_again_under_the_same_name_is_new_again_once_complete():
    from services.new_images import NewImages

    images = NewImages(existing={"/line/last.bmp": 100.0}, settle_s=1.0)
    sizes = {"/line/last.bmp": 900}  # a BMP of the same camera keeps its size
    assert images.judge(sizes, now=0.0, modified={"/line/last.bmp": 100.0}) == ([], False)
    assert images.judge(sizes, now=1.0, modified={"/line/last.bmp": 160.0}) == ([], True)  # saved again
    assert images.judge(sizes, now=1.5, modified={"/line/last.bmp": 160.5}) == ([], True)  # still being written
    assert images.judge(sizes, now=2.6, modified={"/line/last.bmp": 160.5}) == ([Path("/line/last.bmp")], False)
    assert images.judge(sizes, now=9.0, modified={"/line/last.bmp": 160.5}) == ([], False)  # once only
    assert images.judge(sizes, now=9.5) == ([], False)  # without times, sizes alone decide, as before


def test_a_tree_of_more_folders_than_are_listed_keeps_the_most_recently_changed(tmp_path):
    import os

    from services.new_images import list_tree

    archive = tmp_path / "lots"
    for number in range(6):
        lot = archive / f"L-{number:03d}"
        lot.mkdir(parents=True)
        (lot / "part.png").write_bytes(b"x" * (number + 1))
        os.utime(lot, ns=(10**18 + number * 10**9, 10**18 + number * 10**9))  # L-005 changed last
    (archive / ".trash").mkdir()
    complete = list_tree(archive)
    assert complete.complete and len(complete.folders) == 7 and len(complete.sizes) == 6
    assert complete.folders[1:] == [str(archive / f"L-{n:03d}") for n in (5, 4, 3, 2, 1, 0)]  # newest first
    capped = list_tree(archive, max_folders=3)
    assert not capped.complete
    assert capped.folders == [str(archive), str(archive / "L-005"), str(archive / "L-004")]
    assert sorted(capped.sizes.values()) == [5, 6]
    assert list_tree(tmp_path / "gone").folders == []


def test_images_that_left_a_listed_folder_are_forgotten_and_those_of_an_unlisted_one_kept():
    from services.new_images import NewImages

    images = NewImages(existing=["/in/a.png", "/in/b.png", "/share/c.png"], settle_s=0.0)
    assert images.remembered() == 3
    images.judge({"/in/b.png": 5}, now=0.0, listed_folders=["/in"])  # a.png moved on; /share not listed
    assert images.remembered() == 2
    assert images.judge({"/in/b.png": 5, "/share/c.png": 9}, now=1.0, listed_folders=["/in", "/share"]) == ([], False)
    images.judge({}, now=2.0, listed_folders=["/in"])  # b.png moved on too; c.png, its folder not listed, stays
    assert images.remembered() == 1
    assert images.judge({"/in/a.png": 4}, now=3.0, listed_folders=["/in"]) == ([], True)  # back: new again


def test_images_saved_since_a_moment_are_taken_oldest_first_within_the_clock_step_of_a_share(tmp_path):
    import os
    from datetime import UTC, datetime

    from services.new_images import MTIME_SLACK_S, list_tree

    moment = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    for name, offset in (("before.png", -10.0), ("edge.png", -MTIME_SLACK_S / 2), ("late.png", 60.0),
                         ("early.png", 5.0)):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (moment.timestamp() + offset,) * 2)
    assert [path.name for path in list_tree(tmp_path).saved_since(moment)] == ["edge.png", "early.png", "late.png"]


def test_what_a_watch_begins_with_leaves_out_the_images_still_being_saved():
    from services.new_images import TreeListing, steady_part

    first = TreeListing(["/l"], {"/l/a.png": 10, "/l/b.png": 5, "/l/c.png": 7},
                        modified={"/l/a.png": 1.0, "/l/b.png": 2.0, "/l/c.png": 3.0})
    second = TreeListing(["/l", "/l/day"], {"/l/a.png": 10, "/l/b.png": 9, "/l/c.png": 7, "/l/day/d.png": 4},
                         modified={"/l/a.png": 1.0, "/l/b.png": 2.5, "/l/c.png": 3.5, "/l/day/d.png": 4.0})
    there = steady_part(first, second)
    assert there.sizes == {"/l/a.png": 10}  # b grew, c was written again at the same size, d came in between
    assert there.modified == {"/l/a.png": 1.0} and there.folders == ["/l", "/l/day"]
