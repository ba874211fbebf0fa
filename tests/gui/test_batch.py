"""Batch inspection and the watched folder: progress, cancel, corrupt files, closing during a batch."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer

from db import repository as repo
from desktop.batch_page import COLUMNS
from engine.synthetic import Defect
from tests.gui.helpers import SIDE, WAIT, history_count, history_sources, write_parts


def test_batch_cancel_stops_quickly_keeps_window_responsive_and_history(qtbot, window, project, tmp_path):
    folder = tmp_path / "batch"
    write_parts(folder, range(100, 150))
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    window.start_batch([folder])
    qtbot.waitUntil(lambda: window.batch_page.table.rowCount() >= 3, timeout=WAIT)
    rows_so_far = window.batch_page.table.rowCount()
    window.start_batch([tmp_path / "refs"])  # a second batch must not clear the running one's table
    assert "still running" in window.errors[-1]
    assert window.batch_page.table.rowCount() >= rows_so_far and window.batch_page.running
    start = time.monotonic()
    with qtbot.waitSignal(window.job_cancelled, timeout=2000):
        window.batch_page.cancel_button.click()
    assert time.monotonic() - start < 2.0
    timer.stop()
    gaps = np.diff(ticks)
    assert len(ticks) > 20 and gaps.max() < 0.5, f"the GUI thread stalled for {gaps.max():.2f} s"
    done = window.batch_page.table.rowCount()
    assert 3 <= done < 50
    assert history_count(window) == done
    assert "Cancelled" in window.batch_page.eta.text()


def test_corrupt_image_in_batch_is_reported_and_the_batch_goes_on(qtbot, window, project, tmp_path):
    folder = tmp_path / "mixed"
    write_parts(folder, [200, 201, 202])
    (folder / "part150_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([folder])
    page = window.batch_page
    note = COLUMNS.index("Note")
    rows = {page.table.item(r, 1).text(): (page.table.item(r, 2).text(), page.table.item(r, note).text())
            for r in range(page.table.rowCount())}
    assert len(rows) == 4
    verdict, note = rows["part150_corrupt.png"]
    assert verdict == "ERROR" and "part150_corrupt.png" in note
    assert history_count(window) == 3
    counts = page.verdict_counts()
    assert counts["ERROR"] == 1 and counts["OK"] + counts["REVIEW"] + counts["NG"] == 3
    assert page.summary.text() == " · ".join(f"{v} {n}" for v, n in counts.items())


def test_a_batch_row_notes_a_grey_photo_and_a_photo_of_another_shape(qtbot, window, project, tmp_path):
    from PIL import Image

    folder = tmp_path / "notes"
    plain, grey, cut = write_parts(folder, [210, 211, 212])
    Image.open(grey).convert("L").save(grey)
    Image.open(cut).crop((0, 0, SIDE, SIDE // 2)).save(cut)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([folder])
    page = window.batch_page
    note = COLUMNS.index("Note")
    notes = {page.table.item(r, 1).text(): page.table.item(r, note).text() for r in range(page.table.rowCount())}
    assert notes == {plain.name: "", grey.name: "grey photo: compared in grey",
                     cut.name: "another shape than the references: another view or a crop?"}


def test_closing_the_window_during_a_batch_stops_it_cleanly(qtbot, window, project, tmp_path):
    from db.check import check

    folder = tmp_path / "closing"
    write_parts(folder, range(600, 640))
    window.start_batch([folder])
    qtbot.waitUntil(lambda: window.batch_page.table.rowCount() >= 2, timeout=WAIT)
    start = time.monotonic()
    window.close()
    assert time.monotonic() - start < 5 and not window.worker._thread.isRunning()
    assert 2 <= history_count(window) < 40
    report = check(window.workspace.database, window.workspace.store)
    assert report.missing == []


def test_a_job_queued_after_cancel_does_not_revive_the_batch(qtbot, window, project, tmp_path):
    folder = tmp_path / "revive"
    write_parts(folder, range(800, 840))
    window.start_batch([folder])
    qtbot.waitUntil(lambda: window.batch_page.table.rowCount() >= 2, timeout=WAIT)
    with qtbot.waitSignal(window.job_cancelled, timeout=2000):
        window.cancel_job()
        window.open_inspection(window.batch_page.items[0].record.id)
    assert window.batch_page.table.rowCount() < 40


def test_watched_folder_inspects_new_images(qtbot, window, project, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    with qtbot.waitSignal(window.folder_watch.scanned, timeout=WAIT):
        window.watch_folder(folder)
        assert window.watch_status.text() == "Watching incoming for disc: reading what is there…"
    assert window.watch_status.text() == "Watching incoming for disc: 0 new image(s)"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        write_parts(folder, [500], defects=(Defect("pit", 0.5, 0.5, 0.1),))
    assert window.current is not None and window.current.source.endswith("part500.png")
    assert history_count(window) == 1
    assert not window.watch_status.isHidden()
    assert window.watch_status.text() == "Watching incoming for disc: 1 new image(s)"
    window.toggle_watch(False)
    assert window.watch_status.isHidden() and window.folder_watch.watched_folders() == []
    with qtbot.waitSignal(window.folder_watch.scanned, timeout=WAIT):
        window.watch_folder(tmp_path / "share not connected")
    assert window.watch_status.text() == (
        "Watching share not connected for disc: cannot read the folder now, trying every 5 s")
    window.toggle_watch(False)


def test_a_watched_folder_can_sort_each_inspected_image_by_its_verdict(qtbot, window, project, tmp_path):
    folder, sorted_into = tmp_path / "camera", tmp_path / "rework"
    folder.mkdir()
    with qtbot.waitSignal(window.folder_watch.scanned, timeout=WAIT):
        window.watch_folder(folder, sort_into=sorted_into)
    assert window.watch_status.text() == "Watching camera for disc, sorted into rework: 0 new image(s)"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        write_parts(folder, [510], defects=(Defect("pit", 0.5, 0.5, 0.1),))
    verdict = window.current.facts.verdict  # as recorded at inspection time
    assert verdict in ("NG", "REVIEW")
    assert window.held_back_alerts == 1  # a beep, the taskbar flashing, and the part named
    assert window.statusBar().currentMessage() == f"Held back: part510.png ({verdict})"
    window.settings.watch_alert = ""  # unticked in the watch dialog: held back quietly
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        write_parts(folder, [511], defects=(Defect("pit", 0.5, 0.5, 0.1),))
    assert window.current.facts.verdict != "OK" and window.held_back_alerts == 1
    assert (sorted_into / verdict / "part510.png").is_file() and not (folder / "part510.png").exists()
    qtbot.wait(1500)  # the moves are not new images of the watched folder
    assert history_count(window) == 2 and window.current.image is not None  # the history's own copy
    window.toggle_watch(False)


def test_an_inspected_image_that_cannot_be_sorted_is_named_and_left_where_it_was(qtbot, window, project, tmp_path):
    bins = tmp_path / "bins"
    bins.mkdir()
    for verdict in ("OK", "REVIEW", "NG"):
        (bins / verdict).write_text("a file where the verdict's folder should be")
    part = write_parts(tmp_path / "camera", [515])[0]
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([part], sort_into=bins)
    assert history_count(window) == 1 and part.is_file()
    assert any("part515.png was inspected but not moved to" in error for error in window.errors), window.errors


def test_the_watch_dialog_remembers_the_last_set_up_and_refuses_a_sort_folder_inside_the_watched_one(
        qtbot, window, project, tmp_path):
    from desktop.settings import AppSettings
    from desktop.watch_dialog import WatchDialog

    folder = tmp_path / "line"
    folder.mkdir()
    window.settings.watch_folder, window.settings.sort_into = str(folder), str(tmp_path / "bins")
    window.toggle_watch(True)
    dialog = next(d for d in window.findChildren(WatchDialog) if d.isVisible())
    assert dialog.folder.text() == str(folder) and not dialog.sorting.isChecked()
    assert not dialog.sort_into.isEnabled()
    assert not dialog.catch_up.isVisibleTo(dialog)  # no earlier watch of it is known
    assert dialog.alert.isChecked() and not dialog.resume.isChecked()  # the defaults
    dialog.alert.setChecked(False)
    dialog.sorting.setChecked(True)
    dialog.sort_into.setText(str(folder / "sorted"))
    assert "inside the watched folder" in dialog.problem()
    dialog.folder.setText(str(tmp_path / "gone"))
    assert "does not exist" in dialog.problem()
    dialog.folder.setText(str(folder))
    dialog.sort_into.setText(str(tmp_path / "bins"))
    assert dialog.problem() is None
    with qtbot.waitSignal(window.folder_watch.scanned, timeout=WAIT):
        dialog.accept()
    assert window.folder_watch.root == folder and window.watch_sort_into == tmp_path / "bins"
    remembered = AppSettings.load()
    assert (remembered.watch_folder, remembered.sort_into, remembered.sorting, remembered.watch_alert) == (
        str(folder), str(tmp_path / "bins"), "1", "")
    window.toggle_watch(False)
    window.toggle_watch(True)
    dialog = next(d for d in window.findChildren(WatchDialog) if d.isVisible())
    assert dialog.catch_up.isVisibleTo(dialog) and dialog.catch_up.isChecked()
    dialog.folder.setText(str(tmp_path))  # another folder: what was saved there is not this watch's to catch up
    assert not dialog.catch_up.isVisibleTo(dialog)
    dialog.reject()
    assert not window.watch_action.isChecked() and window.folder_watch.root is None


def test_a_watch_started_again_first_inspects_what_was_saved_while_the_app_was_not_watching(
        qtbot, window, project, tmp_path):
    import os
    from datetime import UTC, datetime

    from desktop.settings import AppSettings
    from desktop.watch_dialog import WatchDialog

    folder = tmp_path / "camera"
    old = write_parts(folder, [520])[0]
    os.utime(old, (1e9, 1e9))  # there long before any watch: never inspected
    window.toggle_watch(True)
    dialog = next(d for d in window.findChildren(WatchDialog) if d.isVisible())
    assert dialog.windowTitle() == "Watch a folder for disc" and "inspected into disc, whichever" in dialog.note.text()
    dialog.folder.setText(str(folder))
    with qtbot.waitSignal(window.folder_watch.scanned, timeout=WAIT):
        dialog.accept()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        write_parts(folder, [521])  # inspected while watched
    window.toggle_watch(False)  # the app closed; the line went on saving
    part522 = write_parts(folder / "2026-11-29", [522, 523])[0]
    time.sleep(0.05)
    window.toggle_watch(True)
    dialog = next(d for d in window.findChildren(WatchDialog) if d.isVisible())
    assert dialog.catch_up.isVisibleTo(dialog) and "since its last watch began" in dialog.catch_up.text()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        dialog.accept()
    sources = sorted(Path(s).relative_to(folder).as_posix() for s in history_sources(window))
    assert sources == ["2026-11-29/part522.png", "2026-11-29/part523.png", "part521.png"]
    assert window.watch_status.text() == "Watching camera for disc: 2 new image(s)"
    caught_up_from = datetime.fromisoformat(AppSettings.load().watch_started)
    assert caught_up_from > datetime.fromtimestamp(part522.stat().st_mtime, UTC)  # the next catch-up starts later
    window.toggle_watch(False)


def test_a_watch_keeps_its_project_and_is_resumed_at_the_next_start_into_it(
        qtbot, window, project, tmp_path):
    from desktop.main_window import MainWindow
    from desktop.settings import AppSettings
    from desktop.watch_dialog import WatchDialog

    folder, bins = tmp_path / "station", tmp_path / "bins"
    folder.mkdir()
    window.toggle_watch(True)
    dialog = next(d for d in window.findChildren(WatchDialog) if d.isVisible())
    dialog.folder.setText(str(folder))
    dialog.sorting.setChecked(True)
    dialog.sort_into.setText(str(bins))
    dialog.resume.setChecked(True)
    with qtbot.waitSignal(window.folder_watch.scanned, timeout=WAIT):
        dialog.accept()
    window.new_project("other")  # looking something up in another part type: the watch keeps its own
    assert window.project_name == "other" and window.watch_status.text().startswith("Watching station for disc")
    assert window.statusBar().currentMessage().startswith(f"New images of {folder} still go to disc")
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        write_parts(folder, [529])
    assert project_sources(window, "disc") == [str(folder / "part529.png")] and not project_sources(window, "other")
    assert window.current is None and window.project_name == "other"  # the view shown stays
    assert window.statusBar().currentMessage().startswith("Watch: 1 image(s) inspected into disc; part529.png: ")
    window.projects_panel.refresh(select="disc")  # back, and renamed: the watch and its resumption follow
    window.projects_panel.rename_project("disc line")
    assert window.watch_status.text().startswith("Watching station for disc line")
    window.close()  # closed (or the station restarted) while watching
    write_parts(folder / "night", [530])
    again = MainWindow(window.workspace, AppSettings.load())
    qtbot.addWidget(again)
    again.show()
    assert again.project_name == "disc line" and again.folder_watch.root == folder
    qtbot.waitUntil(lambda: len(project_sources(again, "disc line")) == 2 and any(bins.rglob("part530.png")),
                    timeout=WAIT)
    assert sorted(p.name for p in bins.rglob("*.png")) == ["part529.png", "part530.png"]
    again.toggle_watch(False)  # stopped by hand: not resumed at the start after
    assert AppSettings.load().watching == ""
    again.close()


def test_a_catch_up_sorts_an_image_inspected_before_but_left_unsorted(qtbot, window, project, tmp_path):
    from datetime import UTC, datetime, timedelta

    folder, bins = tmp_path / "station", tmp_path / "bins"
    left = write_parts(folder, [540], defects=(Defect("pit", 0.5, 0.5, 0.1),))[0]
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([left])  # the app crashed before the watch moved it
    verdict = window.current.facts.verdict
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.watch_folder(folder, bins, catch_up_since=datetime.now(UTC) - timedelta(minutes=1))
    assert (bins / verdict / "part540.png").is_file() and not left.exists()
    assert history_count(window) == 1  # moved by the verdict it got, not inspected again
    window.toggle_watch(False)


def test_archiving_the_watched_project_stops_its_watch(qtbot, window, project, tmp_path):
    folder = tmp_path / "station"
    folder.mkdir()
    with qtbot.waitSignal(window.folder_watch.scanned, timeout=WAIT):
        window.watch_folder(folder)
    assert window.projects_panel.archive_project(confirm=False)
    assert window.folder_watch.root is None and not window.watch_action.isChecked()
    assert window.statusBar().currentMessage() == f"Stopped watching {folder}: its project 'disc' was archived."


def test_a_watch_needs_a_project_to_inspect_into(qtbot, window, tmp_path):
    window.watch_folder(tmp_path)
    assert window.folder_watch.root is None and not window.watch_action.isChecked()
    assert window.errors == ["Choose or create a project first."]


def project_sources(window, name: str) -> list[str]:
    """The source paths of the inspections stored in project ``name``."""
    with window.workspace.database.read() as session:
        project_id = repo.get_project(session, name).id
        return [row.source_path for row in repo.history(session, repo.HistoryFilter(project_id=project_id),
                                                        limit=None)]


def test_a_watched_image_is_handed_on_only_once_its_writer_has_finished(qtbot, tmp_path):
    from desktop.folder_watch import FolderWatch

    folder = tmp_path / "line"
    folder.mkdir()
    watch = FolderWatch(settle_ms=400)
    with qtbot.waitSignal(watch.scanned, timeout=5000):
        watch.start(folder)
    handed: list = []
    watch.new_images.connect(lambda paths: handed.extend((p, p.stat().st_size) for p in paths))
    frame = write_parts(tmp_path / "camera", [600])[0].read_bytes()
    target = folder / "frame600.png"
    for share in (1, 2):  # the writer is still at it: the size changes between looks
        target.write_bytes(frame[: share * len(frame) // 3])
        with qtbot.waitSignal(watch.scanned, timeout=5000):
            watch.scan()
        assert handed == []
    target.write_bytes(frame)
    (folder / "._frame600.png").write_bytes(b"AppleDouble")  # macOS's companion file: not an image
    (folder / ".frame601.png").write_bytes(frame)  # a writer's hidden temporary file
    qtbot.waitUntil(lambda: bool(handed), timeout=5000)
    qtbot.wait(900)
    assert handed == [(target, len(frame))]  # complete, once only, and nothing hidden
    watch.stop()


def test_an_image_still_being_saved_when_a_watch_starts_is_new_and_handed_on_once_complete(qtbot, tmp_path,
                                                                                          monkeypatch):
    from desktop import folder_watch

    folder = tmp_path / "line"
    folder.mkdir()
    frame = write_parts(tmp_path / "camera", [610])[0].read_bytes()
    (folder / "part609.png").write_bytes(frame)  # complete before the watch: not new
    target = folder / "frame610.png"
    target.write_bytes(frame[: len(frame) // 2])
    real_list_tree, looks = folder_watch.list_tree, []

    def list_while_the_camera_saves(root):
        listing = real_list_tree(root)
        looks.append(listing)
        if len(looks) == 1:
            target.write_bytes(frame)  # the camera goes on saving after the watch's first look
        return listing

    monkeypatch.setattr(folder_watch, "list_tree", list_while_the_camera_saves)
    watch = folder_watch.FolderWatch(settle_ms=300)
    there, handed = [], []
    watch.first_listed.connect(there.append)
    watch.new_images.connect(handed.extend)
    with qtbot.waitSignal(watch.first_listed, timeout=5000):
        watch.start(folder)
    assert list(there[0].sizes) == [str(folder / "part609.png")]  # what a catch-up would look at
    qtbot.waitUntil(lambda: bool(handed), timeout=5000)
    assert handed == [target] and target.stat().st_size == len(frame)
    watch.stop()


def test_a_watched_folder_takes_new_images_in_its_sub_folders_and_in_folders_made_later(qtbot, tmp_path):
    from desktop.folder_watch import FolderWatch

    line = tmp_path / "line"
    write_parts(line / "2026-11-27", [700])
    write_parts(line / ".cache", [701])
    watch = FolderWatch(settle_ms=200, poll_ms=300)
    with qtbot.waitSignal(watch.scanned, timeout=5000):
        watch.start(line)
    assert str(line / "2026-11-27") in watch.watched_folders()
    assert str(line / ".cache") not in watch.watched_folders()
    handed: list = []
    watch.new_images.connect(handed.extend)
    write_parts(line / "2026-11-27", [702])  # into a day's folder that was there
    write_parts(line / "2026-11-28" / "lot 7", [703])  # a new day's folder, made while watching
    write_parts(line / ".cache", [704])  # hidden: never
    qtbot.waitUntil(lambda: len(handed) >= 2, timeout=5000)
    qtbot.wait(700)
    assert sorted(p.relative_to(line).as_posix() for p in handed) == [
        "2026-11-27/part702.png", "2026-11-28/lot 7/part703.png"]
    assert str(line / "2026-11-28" / "lot 7") in watch.watched_folders()
    watch.stop()
    assert watch.watched_folders() == []


def test_a_watched_tree_has_change_notices_for_its_newest_folders_only(qtbot, tmp_path, monkeypatch):
    import os

    from desktop import folder_watch

    monkeypatch.setattr(folder_watch, "NOTIFIED_FOLDERS", 3)
    for number in range(5):
        (tmp_path / "lots" / f"L-{number}").mkdir(parents=True)
        os.utime(tmp_path / "lots" / f"L-{number}", (1e9 + number, 1e9 + number))
    watch = folder_watch.FolderWatch(settle_ms=200, poll_ms=300)
    with qtbot.waitSignal(watch.scanned, timeout=5000):
        watch.start(tmp_path / "lots")
    assert sorted(watch.watched_folders()) == [str(tmp_path / "lots" / name) for name in ("", "L-3", "L-4")]
    (tmp_path / "lots" / "L-5").mkdir()  # a new lot: watched from the next look, the oldest one dropped
    qtbot.waitUntil(lambda: str(tmp_path / "lots" / "L-5") in watch.watched_folders(), timeout=5000)
    assert len(watch.watched_folders()) == 3 and str(tmp_path / "lots" / "L-3") not in watch.watched_folders()
    watch.stop()


def test_the_first_listing_of_a_watched_tree_does_not_hold_up_the_window(qtbot, tmp_path, monkeypatch):
    import threading

    from desktop import folder_watch

    write_parts(tmp_path / "share", [720])
    release, listed_on, list_tree = threading.Event(), [], folder_watch.list_tree

    def slow_share(root, *args):  # a network share that takes its time to answer
        listed_on.append(threading.current_thread())
        release.wait(10)
        return list_tree(root, *args)

    monkeypatch.setattr(folder_watch, "list_tree", slow_share)
    watch = folder_watch.FolderWatch(settle_ms=200, poll_ms=300)
    watch.start(tmp_path / "share")  # returns while the share is still being read
    assert watch.reading and watch.watched_folders() == []
    handed: list = []
    watch.new_images.connect(handed.extend)
    with qtbot.waitSignal(watch.scanned, timeout=5000):
        release.set()
    assert not watch.reading and listed_on[0] is not threading.main_thread()
    write_parts(tmp_path / "share", [721])
    qtbot.waitUntil(lambda: bool(handed), timeout=5000)
    assert handed == [tmp_path / "share" / "part721.png"]  # what was there before is not new
    watch.stop()


def test_a_watch_of_a_share_not_connected_yet_waits_for_it_and_takes_only_what_comes_after(qtbot, tmp_path):
    from desktop.folder_watch import FolderWatch

    share = tmp_path / "share"
    watch = FolderWatch(settle_ms=200, poll_ms=300)
    with qtbot.waitSignal(watch.scanned, timeout=5000):
        watch.start(share)
    assert watch.reading and not watch.reachable
    handed: list = []
    watch.new_images.connect(handed.extend)
    write_parts(share, [730])  # there when the share connects: the watch cannot tell when it came
    qtbot.waitUntil(lambda: not watch.reading, timeout=5000)
    assert watch.reachable
    write_parts(share, [731])
    qtbot.waitUntil(lambda: bool(handed), timeout=5000)
    qtbot.wait(700)
    assert handed == [share / "part731.png"]
    watch.stop()


def test_a_watched_share_that_goes_away_and_returns_is_watched_again(qtbot, tmp_path):
    import shutil

    from desktop.folder_watch import FolderWatch

    share = tmp_path / "share"
    share.mkdir()
    watch = FolderWatch(settle_ms=200, poll_ms=300)
    with qtbot.waitSignal(watch.scanned, timeout=5000):
        watch.start(share)
    handed: list = []
    watch.new_images.connect(handed.extend)
    shutil.rmtree(share)  # unplugged
    with qtbot.waitSignal(watch.scanned, timeout=5000):
        watch.scan()
    write_parts(share, [710])  # back, with a new frame
    qtbot.waitUntil(lambda: bool(handed), timeout=5000)
    assert handed == [share / "part710.png"] and str(share) in watch.watched_folders()
    watch.stop()


def test_a_batch_of_two_folders_names_each_file_with_its_folder(qtbot, window, project, tmp_path):
    write_parts(tmp_path / "line" / "good", [200, 201])
    write_parts(tmp_path / "line" / "crack", [200], defects=(Defect("pit", 0.5, 0.5, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([tmp_path / "line" / "crack", tmp_path / "line" / "good"])
    table = window.batch_page.table
    image = COLUMNS.index("Image")
    names = sorted(table.item(row, image).text() for row in range(table.rowCount()))
    assert names == ["crack/part200.png", "good/part200.png", "good/part201.png"]
    tips = {table.item(row, image).toolTip() for row in range(table.rowCount())}
    assert str(tmp_path / "line" / "crack" / "part200.png") in tips


def test_a_folder_is_read_with_its_sub_folders_and_one_without_images_starts_nothing(qtbot, window, project,
                                                                                    tmp_path):
    write_parts(tmp_path / "day" / "morning", [200])
    write_parts(tmp_path / "day" / "evening", [201])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([tmp_path / "day"])
    table = window.batch_page.table
    image = COLUMNS.index("Image")
    assert sorted(table.item(r, image).text() for r in range(table.rowCount())) == [
        "evening/part201.png", "morning/part200.png"]
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    shown = window.batch_page.eta.text()
    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        window.start_batch([tmp_path / "empty"])
        assert window.batch_page.running  # while the folder is read, a second batch is refused
    assert window.errors[-1].startswith(f"No images in {tmp_path / 'empty'}")
    assert not window.batch_page.running and table.rowCount() == 2  # the last batch's rows stay
    assert window.batch_page.eta.text() == shown
    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        window.add_references([tmp_path / "empty"])
    assert window.errors[-1].startswith("No images in") and window.references_page.grid.count() == 4
    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        window.inspect_paths([tmp_path / "gone.png"])
    assert "No such file or folder" in window.errors[-1]


def test_a_batch_names_the_sub_folders_it_could_not_read_and_inspects_the_rest(qtbot, window, project, tmp_path,
                                                                               monkeypatch):
    import os

    write_parts(tmp_path / "share" / "open", [210])
    write_parts(tmp_path / "share" / "locked", [211])
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([tmp_path / "share"])
    assert window.errors[-1].startswith("1 folder could not be read") and "locked" in window.errors[-1]
    table = window.batch_page.table
    assert [table.item(r, COLUMNS.index("Image")).text() for r in range(table.rowCount())] == ["part210.png"]


def test_a_batch_names_a_chosen_folder_that_holds_no_image(qtbot, window, project, tmp_path):
    write_parts(tmp_path / "lot-7", [212])
    (tmp_path / "lot-8").mkdir()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([tmp_path / "lot-7", tmp_path / "lot-8"])
    assert window.errors[-1].startswith("No PNG, JPEG, BMP or TIFF file in 1 folder") and "lot-8" in window.errors[-1]
    assert window.batch_page.table.rowCount() == 1


def test_folders_are_listed_on_the_worker_so_a_slow_share_does_not_freeze_the_window(qtbot, window, project,
                                                                                    tmp_path, monkeypatch):
    import os
    import threading

    write_parts(tmp_path / "share", [220, 221])
    listed_on: list[str] = []
    real_walk = os.walk

    def slow_walk(*args, **kwargs):
        listed_on.append(threading.current_thread().name)
        time.sleep(0.5)  # a share that answers slowly
        return real_walk(*args, **kwargs)

    monkeypatch.setattr(os, "walk", slow_walk)
    start = time.monotonic()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([tmp_path / "share"])
        assert time.monotonic() - start < 0.3 and window.batch_page.eta.text() == "Reading the folder…"
    assert window.batch_page.table.rowCount() == 2
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([tmp_path / "share"])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.add_references([tmp_path / "share"])
    assert len(listed_on) == 3 and threading.main_thread().name not in listed_on


def test_a_part_opened_from_the_batch_steps_with_n_through_the_rows_shown(qtbot, window, project, tmp_path):
    write_parts(tmp_path / "run", [300, 301])
    write_parts(tmp_path / "run", [302], defects=(Defect("pit", 0.5, 0.5, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([tmp_path / "run"])
    page = window.batch_page
    page.filter.setCurrentText("OK")  # the filter hides the flagged part, and N skips it
    shown = page.shown_ids()
    assert len(shown) == 2
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        page.open_requested.emit(shown[0])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.next_image()
    assert window.current.id == shown[1]
    window.next_image()
    assert window.current.id == shown[1] and window.statusBar().currentMessage() == "That was the last one."


def test_the_status_bar_names_what_a_job_was_given():
    from desktop.inspect_actions import _named

    assert _named([Path("/line/part1.png")]) == "part1.png"
    assert _named([Path("/line/a.png"), Path("/line/day")]) == "2 files or folders"
    assert _named([Path("/")]) == "/"


def test_a_watch_whose_project_is_gone_is_not_resumed_and_says_why(qtbot, window, tmp_path):
    from desktop.main_window import MainWindow
    from desktop.settings import AppSettings

    settings = AppSettings(device="cpu", watching="1", watch_folder=str(tmp_path), watch_project="gone")
    again = MainWindow(window.workspace, settings)
    qtbot.addWidget(again)
    assert again.folder_watch.root is None
    assert again.errors == [f"The watch of {tmp_path} was not resumed: its project 'gone' is gone or archived. "
                            "Start it again with Watch folder."]
    again.close()
