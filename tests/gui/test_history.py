"""The history page: filters, trend, thumbnails, reviews, refined thresholds, disk space, backup, audit."""

from __future__ import annotations

import numpy as np
import pytest

from db import repository as repo
from engine.synthetic import Defect
from tests.gui.helpers import SIDE, WAIT, history_count, history_read, hold, write_parts


def test_freeing_disk_space_removes_old_photos_keeps_records_and_they_cannot_become_references(
        qtbot, window, project, tmp_path, monkeypatch):
    from desktop.free_space_dialog import FreeSpaceDialog, FreeSpaceRequest
    from services.results import PLACEHOLDER_GREY

    dialog = FreeSpaceDialog("disc")
    qtbot.addWidget(dialog)
    assert dialog.request() == FreeSpaceRequest(90, "disc", False)
    dialog.scope.setCurrentIndex(1)
    assert dialog.request().project is None

    old, new = write_parts(tmp_path / "good", [420, 421])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([old])
    old_id = window.current.id
    asked = []
    monkeypatch.setattr(window, "confirm_image_removal", lambda plan: asked.append(plan) or True)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT,
                          check_params_cb=lambda job_id: job_id.startswith("remove-images")):
        window.free_disk_space(FreeSpaceRequest(0, "disc", False))
    assert [plan.inspection_ids for plan in asked] == [[old_id]] and asked[0].bytes_freed > 0
    assert "Removed the stored photos of 1 inspection(s)" in window.statusBar().currentMessage()
    window.history_page.set_project(None)
    rows = history_read(qtbot, window.history_model).rows
    assert [row.source.endswith("(photo removed to free disk space)") for row in rows] == [True]
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.free_disk_space(FreeSpaceRequest(0, "disc", False))
    assert "nothing to remove" in window.statusBar().currentMessage() and len(asked) == 1

    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([new])
    new_id = window.current.id
    window.review([new_id], "OK", "")  # a reviewed part keeps its photo: refinements score it again
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.free_disk_space(FreeSpaceRequest(0, "disc", False))
    message = window.statusBar().currentMessage()
    assert "nothing to remove" in message and "1 reviewed part(s) that would match keep their photo" in message
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.open_inspection(old_id)
    assert window.current.id == old_id and window.current.facts.verdict == "OK"
    assert window.current.image.shape[:2] == (SIDE, SIDE) and np.median(window.current.image) == PLACEHOLDER_GREY
    window.add_inspections_to_references([old_id, new_id])
    assert window.references_page.grid.count() == 5  # the part with its photo joined
    assert f"inspection #{old_id} was removed to free disk space" in window.errors[-1]


def test_low_disk_space_shows_a_lasting_warning_after_inspections_and_clears(qtbot, window, project, tmp_path,
                                                                               monkeypatch):
    import db.store

    part = write_parts(tmp_path / "good", [430])
    monkeypatch.setattr(db.store, "LOW_SPACE_BYTES", 10 ** 18)  # every disk is "low" against this
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(part)
    qtbot.waitUntil(lambda: not window.disk_warning.isHidden(), timeout=10_000)
    assert "GB free for the history" in window.disk_warning.text()
    assert "Free disk space" in window.disk_warning.text()
    monkeypatch.setattr(db.store, "LOW_SPACE_BYTES", 0)
    window.check_disk_space()
    qtbot.waitUntil(window.disk_warning.isHidden, timeout=10_000)


def test_rejects_inspected_again_from_the_history_after_one_joins_the_references(qtbot, window, project, tmp_path):
    odd = write_parts(tmp_path / "odd", [410], defects=(Defect("scratch", 0.5, 0.5, 0.3),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(odd)
    assert window.current.facts.verdict == "NG"
    window.add_inspections_to_references([window.current.id])  # the technician says the part is fine
    page = window.history_page
    window.tabs.setCurrentWidget(page)
    assert history_read(qtbot, page.model).rowCount() == 1
    page.table.selectRow(0)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        page.reinspect_button.click()
    assert "Re-inspected 1 image(s) with the current references: 1 verdict(s) changed" in (
        window.statusBar().currentMessage())
    assert history_read(qtbot, page.model).rowCount() == 2
    assert sorted(row.verdict for row in page.model.rows) == ["NG", "OK"]


def test_history_filters_by_verdict_and_custom_date_range(qtbot, window, project, tmp_path):
    from PySide6.QtCore import QDate

    page, model = window.history_page, _good_and_defective_in_the_history(qtbot, window, tmp_path, 700, 701)
    assert model.rowCount() == 2
    page.verdict.setCurrentText("NG")
    assert history_read(qtbot, model).rowCount() == 1 and model.rows[0].source.endswith("part701.png")
    page.verdict.setCurrentText("Any verdict")
    page.period.setCurrentText("From … to …")
    page.date_from.setDate(QDate.currentDate().addDays(-3))
    page.date_to.setDate(QDate.currentDate().addDays(-1))
    assert history_read(qtbot, model).rowCount() == 0
    page.date_to.setDate(QDate.currentDate())
    assert history_read(qtbot, model).rowCount() == 2
    page.search.setText("PART701")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=2000)
    assert page.model.rows[0].source.endswith("part701.png") and page.count_label.text() == "1 inspection(s)"
    page.search.clear()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=2000)


def test_history_trend_draws_the_filtered_scores_relabels_live_and_opens_a_clicked_part(qtbot, window, project,
                                                                                      tmp_path):
    from PySide6.QtCore import Qt

    from desktop.images import verdict_colour

    files = write_parts(tmp_path / "t", [710, 711]) + write_parts(tmp_path / "tb", [712],
                                                                  defects=(Defect("pit", 0.4, 0.4, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch(files)
    page = window.history_page
    window.tabs.setCurrentWidget(page)
    history_read(qtbot, page.model)
    chart = page.trend
    assert chart.isVisible() and [s.inspection_id for s in chart.trend.samples] == sorted(r.id for r in page.model.rows)
    table_verdicts = {row.id: page.model.verdict_of(row)[0] for row in page.model.rows}
    assert chart.verdicts() == [table_verdicts[s.inspection_id] for s in chart.trend.samples]
    defective = next(s.inspection_id for s in chart.trend.samples if table_verdicts[s.inspection_id] == "NG")
    index = [s.inspection_id for s in chart.trend.samples].index(defective)
    dot = chart.dot_position(index)
    assert chart.grab().toImage().pixelColor(dot.toPoint()) == verdict_colour("NG")
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):  # the result is read on the worker
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=dot.toPoint())
    assert window.current is not None and window.current.id == defective
    window.tabs.setCurrentWidget(page)
    history_read(qtbot, page.model)
    window.sensitivity_slider.setValue(100)  # the most sensitive: the chart re-labels with the table
    assert chart.verdicts() == [page.model.verdict_of(r)[0] for r in sorted(page.model.rows, key=lambda r: r.id)]
    assert chart.verdicts().count("OK") < list(table_verdicts.values()).count("OK")
    page.verdict.setCurrentText("NG")
    history_read(qtbot, page.model)
    assert [s.inspection_id for s in chart.trend.samples] == [r.id for r in page.model.rows] == [defective]
    page.show_trend.setChecked(False)
    assert not chart.isVisible()


def test_history_thumbnails_are_kept_for_the_latest_rows_only(qtbot, window, project, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt

    import desktop.history_model

    monkeypatch.setattr(desktop.history_model, "MAX_PIXMAPS", 2)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch(write_parts(tmp_path / "thumbs", [720, 721, 722]))
    window.tabs.setCurrentWidget(window.history_page)
    model = window.history_page.model
    model.set_filter(model.criteria)
    history_read(qtbot, model)
    for row in range(3):
        model.data(model.index(row, 0), Qt.ItemDataRole.DecorationRole)
    assert list(model._pixmaps) == [model.rows[1].id, model.rows[2].id]  # the first row's went first
    qtbot.waitUntil(lambda: model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole) is not None, timeout=WAIT)
    assert len(model._pixmaps) == 2


def test_a_locked_database_during_a_review_shows_a_message_and_keeps_the_window(qtbot, window, project, tmp_path):
    import sqlite3

    good = write_parts(tmp_path / "good", [410])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(good)
    window.workspace.database.dispose()
    from db.database import Database

    window.workspace.database = Database(window.workspace.database.url, busy_timeout_s=0.2)
    blocker = sqlite3.connect(window.workspace.database.engine.url.database, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        window.review([window.current.id], "NG", "scratch")
        assert sum("locked" in e for e in window.errors) == 1
        window.add_inspections_to_references([window.current.id])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert sum("locked" in e for e in window.errors) == 2
    with window.workspace.database.read() as session:
        assert repo.get_inspection(session, window.current.id).reviews == []
        assert len(repo.references(session, repo.get_project(session, "disc"))) == 4


def test_threshold_refined_from_reviews_relabels_history_and_says_what_it_did(qtbot, window, project, tmp_path):
    from desktop.refine_dialog import RefineDialog, RefineOptions
    from services.results import bank_calibration

    window.start_refine(RefineOptions("frr", 0.01, None))
    qtbot.waitUntil(lambda: any("has been reviewed yet" in e for e in window.errors), timeout=WAIT)

    good = write_parts(tmp_path / "g", [520, 521])
    bad = write_parts(tmp_path / "b", [522], defects=(Defect("pit", 0.4, 0.4, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(good + bad)
    ids = list(window.queue)
    window.review(ids[:2], "OK", "")
    window.review(ids[2:], "NG", "")
    with window.workspace.database.read() as session:
        before = bank_calibration(repo.latest_bank(session, repo.get_project(session, project)))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_refine(RefineOptions("f1", 0.01, None))
    assert "Threshold refined (best F1) from 2 good and 1 defective samples" in window.statusBar().currentMessage()
    assert "Calibration revision 2: Threshold refined (best F1) from 2 good and 1 defective samples: false-reject " \
           "rate 0.0 %, estimated miss rate 0.0 %, F1 1.000." in window.references_page.summary.text()
    assert all("score" in window.references_page.grid.item(i).text() for i in range(4))
    with window.workspace.database.read() as session:
        after = bank_calibration(repo.latest_bank(session, repo.get_project(session, project)))
    assert after.revision == 2 and after.image_threshold != before.image_threshold
    model = history_read(qtbot, window.history_model)
    assert len(model.rows) == 3
    for row in model.rows:
        assert model.verdict_of(row)[1] == pytest.approx(after.normalise(row.raw_score, window.sensitivity))

    dialog = RefineDialog(window)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    dialog.from_folder.setChecked(True)
    assert not ok.isEnabled()
    dialog.folder.setText(str(tmp_path / "val"))
    dialog.target.setValue(5.0)
    assert ok.isEnabled() and dialog.options() == RefineOptions("frr", 0.05, tmp_path / "val")

    write_parts(tmp_path / "val" / "good", [530, 531, 532])
    write_parts(tmp_path / "val" / "pit", [533], defects=(Defect("pit", 0.6, 0.6, 0.1),))
    window.start_refine(dialog.options())
    qtbot.waitUntil(lambda: "Calibration revision 3: Threshold refined (target false-reject rate) from 3 good and 1 "
                            "defective samples" in window.references_page.summary.text(), timeout=WAIT)
    assert "refine it again" not in window.references_page.summary.text()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT,  # a new reference: the bank is out of date
                          check_params_cb=lambda job_id: job_id.startswith("references")):
        window.add_references(write_parts(tmp_path / "more", [534]))
    assert "out of date" in window.references_page.summary.text()
    assert "The rebuilt bank will refine its threshold again by the same rule and samples." in (
        window.references_page.summary.text())
    window.tabs.setCurrentIndex(0)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT,  # the next inspection rebuilds the bank
                          check_params_cb=lambda job_id: job_id.startswith("inspect")):
        window.inspect_paths(write_parts(tmp_path / "next", [535]))
    window.tabs.setCurrentWidget(window.references_page)
    assert "Calibration revision 2: Threshold refined (target false-reject rate) (done again for the rebuilt bank) " \
           "from 3 good and 1 defective samples" in window.references_page.summary.text()
    assert "out of date" not in window.references_page.summary.text()


def test_the_history_is_backed_up_on_the_worker_to_a_folder_that_opens_as_the_same_history(
        qtbot, window, project, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from services.workspace import open_workspace

    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "parts", [20]))
    target = tmp_path / "backup"
    target.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(target))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.history_page.backup_button.click()
    assert window.statusBar().currentMessage().startswith("Backed up the history and ")
    copy = open_workspace(target, explicit=True)
    with copy.database.read() as session:
        assert [p.name for p in repo.list_projects(session)] == ["disc"]
        assert repo.history_count(session, repo.HistoryFilter()) == history_count(window) == 1
        assert len(repo.references(session, repo.get_project(session, "disc"))) == 4
    copy.close()

    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        window.back_up_data(window.workspace.home / "inside")
    assert "inside the data folder" in window.errors[-1]


def test_the_audit_log_shows_who_changed_the_project_read_on_the_worker_and_filtered_in_the_dialog(
        qtbot, window, project):
    from desktop.audit_dialog import ALL_ACTIONS, AuditDialog

    window.new_project("cap")  # another project's events stay out of this one's log
    window.projects_panel.refresh(select=project)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.history_page.audit_button.click()
    dialog = window.findChildren(AuditDialog)[-1]
    table = dialog.table

    def column(index: int) -> list[str]:
        return [table.item(row, index).text() for row in range(table.rowCount())]

    assert column(2) == ["add"] * 4 + ["create"]  # newest first
    assert column(3)[-1] == "project 1" and '"name": "disc"' in column(4)[-1]
    assert set(column(1)) == {window.workspace.operator}
    dialog.every_project.setChecked(True)
    assert column(2)[0] == "create" and '"name": "cap"' in column(4)[0] and table.rowCount() == 6
    dialog.action.setCurrentText("create")
    assert column(2) == ["create", "create"] and dialog.note.text() == "2 event(s)."
    dialog.action.setCurrentText(ALL_ACTIONS)
    assert table.rowCount() == 6
    dialog.close()


def test_thumbnails_of_missing_or_unreadable_files_are_none_not_errors(tmp_path):
    from desktop.thumbnails import read_thumbnail
    from engine.imageio import load_rgb8

    assert read_thumbnail(tmp_path / "gone.png", 96) is None
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    assert read_thumbnail(tmp_path / "broken.png", 96) is None
    part = write_parts(tmp_path / "ok", [1])[0]
    eight = read_thumbnail(part, 96)
    assert eight.shape == (96, 96, 3)  # within 96
    import cv2
    import numpy as np

    twelve = tmp_path / "mono12.png"  # a 12-bit camera's pixels in a 16-bit file: as bright as the 8-bit photo
    cv2.imwrite(str(twelve), (cv2.imread(str(part), cv2.IMREAD_GRAYSCALE).astype(np.uint32) * 4095 // 255)
                .astype(np.uint16))
    assert abs(float(read_thumbnail(twelve, 96).mean()) - float(eight.mean())) < 3
    import tifffile

    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:, :10] = 255  # a band on the left of the stored pixels, on top once turned
    for name, orientation in (("turned.tif", 6), ("upside-down.tiff", 3)):
        tifffile.imwrite(tmp_path / name, stored, extratags=[(274, "H", 1, orientation, True)])
        upright = load_rgb8(tmp_path / name)
        thumbnail = read_thumbnail(tmp_path / name, 96)
        assert thumbnail.shape == upright.shape and np.array_equal(thumbnail, upright), name
    for data in (stored.astype(np.float32) / 255, stored[..., 0].astype(np.float32)):  # float TIFFs, colour and grey
        tifffile.imwrite(tmp_path / "float.tif", data, photometric="rgb" if data.ndim == 3 else "minisblack")
        assert np.array_equal(read_thumbnail(tmp_path / "float.tif", 96), load_rgb8(tmp_path / "float.tif"))


def test_parts_opened_from_the_history_are_a_review_queue_stepped_with_n_across_pages(qtbot, window, project,
                                                                                      tmp_path, monkeypatch):
    import desktop.history_model

    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch(write_parts(tmp_path / "queue", [710, 711, 712]))
    monkeypatch.setattr(desktop.history_model, "PAGE_SIZE", 2)
    page = window.history_page
    history_read(qtbot, page.model).refresh()
    history_read(qtbot, page.model)

    def step() -> int:
        with qtbot.waitSignal(window.job_finished, timeout=WAIT):
            window.next_image()
        return window.current.id

    newest, middle = page.model.loaded_ids()
    assert page.model.canFetchMore()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        page.open_requested.emit(newest)
    assert window.current.id == newest and "1 of 2, N for the next" in window.statusBar().currentMessage()
    assert step() == middle
    opened, open_inspection = [], window.open_inspection
    monkeypatch.setattr(window, "open_inspection", lambda i: (opened.append(i), open_inspection(i)))
    window.next_image()  # past the loaded page: the next one is read, and N pressed again meanwhile steps once
    assert page.model.loading and "Reading the next page" in window.statusBar().currentMessage()
    oldest = step()
    assert opened == [oldest] and oldest not in (newest, middle) and "3 of 3" in window.statusBar().currentMessage()
    window.next_image()
    assert window.current.id == oldest and window.statusBar().currentMessage() == "That was the last one."

    page.reviewed.setCurrentText("Not reviewed")  # a part leaves these rows once marked
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        page.open_requested.emit(history_read(qtbot, page.model).loaded_ids()[0])
    assert window.current.id == newest
    window.review_current("NG")
    assert page.model.loading  # N right after the review steps once the rows are read again
    assert step() == middle
    assert newest not in history_read(qtbot, page.model).loaded_ids()
    window.review_current("OK")
    assert step() == oldest
    with window.workspace.database.read() as session:
        assert [repo.get_inspection(session, i).reviews[-1].verdict for i in (newest, middle)] == ["NG", "OK"]


def test_the_lot_typed_in_the_toolbar_is_recorded_shown_and_searched(qtbot, window, project, tmp_path):
    from desktop.history_model import COLUMNS as HISTORY_COLUMNS

    window.activateWindow()
    window.lot_action.trigger()  # Ctrl+L: type the lot without reaching for the mouse
    qtbot.waitUntil(lambda: window.lot_edit.hasFocus(), timeout=2000)
    window.lot_edit.setText("  L-7   night ")
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch(write_parts(tmp_path / "lot7", [720, 721]))
    assert window.lot_completer.model().stringList() == ["L-7 night"]  # offered again, in one spelling
    window.lot_edit.setText("L-8")
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "lot8", [723]))
    assert window.lot_completer.model().stringList() == ["L-8", "L-7 night"]  # the newest first
    window.new_project("other part")
    assert window.project_name == "other part" and window.lot_completer.model().stringList() == []
    window.projects_panel.refresh(select="disc")
    assert window.project_name == "disc" and window.lot_completer.model().stringList() == ["L-8", "L-7 night"]
    window.lot_edit.clear()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "nolot", [722]))
    assert "lot" not in window.result_view.score_label.text()
    page, model = window.history_page, window.history_page.model
    history_read(qtbot, model).refresh()
    history_read(qtbot, model)
    lot_column = HISTORY_COLUMNS.index("Lot")
    lots = sorted(model.data(model.index(row, lot_column)) for row in range(model.rowCount()))
    assert lots == ["", "L-7 night", "L-7 night", "L-8"]
    page.search.setText("l-7")
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=2000)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        page.open_requested.emit(model.rows[0].id)
    assert window.result_view.score_label.text().splitlines()[1].endswith("· lot L-7 night")
    from desktop.export_dialog import ExportRequest

    report = tmp_path / "lot.html"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.export([], ExportRequest("project", "html", str(report), [], None, None, "L-7 night"))
    html = report.read_text()
    assert "lot <b>L-7 night</b>" in html and "part720.png" in html and "part722.png" not in html


def test_the_history_shows_and_filters_by_the_workstations_clock(qtbot, window, project, tmp_path, monkeypatch):
    import time
    from datetime import UTC, datetime, timedelta

    from PySide6.QtCore import QDate, Qt

    from desktop.history_model import COLUMNS
    from desktop.history_page import CUSTOM

    # A zone twelve hours from UTC, on the side that puts this moment on another calendar day than UTC's.
    ahead = datetime.now(UTC).hour >= 12
    monkeypatch.setenv("TZ", "XST-12" if ahead else "XST+12")
    time.tzset()
    try:
        with qtbot.waitSignal(window.job_finished, timeout=WAIT):
            window.inspect_paths(write_parts(tmp_path / "parts", [80]))
        window.tabs.setCurrentWidget(window.history_page)
        model = history_read(qtbot, window.history_model)
        with window.workspace.database.read() as session:
            stored = repo.history(session, repo.HistoryFilter(), limit=1)[0].created_at  # UTC
        shown = datetime.strptime(model.rows[0].created, "%Y-%m-%d %H:%M:%S")
        assert abs(stored + timedelta(hours=12 if ahead else -12) - shown) < timedelta(seconds=1)
        assert shown.date() != stored.date()
        tip = model.headerData(COLUMNS.index("Time"), Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        assert ("UTC+12:00" if ahead else "UTC-12:00") in tip
        page = window.history_page
        page.period.setCurrentText(CUSTOM)
        assert page.period.currentText() == CUSTOM
        for day, expected in ((shown, 1), (stored, 0)):  # the part's local day holds it, its UTC day does not
            page.date_from.setDate(QDate(day.year, day.month, day.day))
            page.date_to.setDate(QDate(day.year, day.month, day.day))
            page.apply_filter()
            assert history_read(qtbot, model).rowCount() == expected
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_slow_history_read_keeps_the_window_responsive_and_an_overtaken_answer_is_dropped(
        qtbot, window, project, tmp_path, monkeypatch):
    page, model = window.history_page, _good_and_defective_in_the_history(qtbot, window, tmp_path, 740, 741)
    assert model.rowCount() == 2 and page.count_label.text() == "2 inspection(s)"
    # A search of a long history, on the reader thread.
    reading, release, real_read = hold(monkeypatch, repo, "inspections_newest_first")
    answers = []
    model.loaded.connect(lambda: answers.append(model.loaded_ids()))
    page.search.setText("part741")
    qtbot.waitUntil(reading.is_set, timeout=5000)
    # The GUI thread runs on while the read waits: timers fire, the rows shown stay until the answer.
    qtbot.waitUntil(lambda: page.count_label.text() == "Reading the history…", timeout=5000)
    assert model.loading and model.rowCount() == 2
    page.verdict.setCurrentText("OK")  # a newer filter before the first answer: that answer is dropped
    release.set()
    history_read(qtbot, model)
    assert answers == [[]] and page.count_label.text() == "0 inspection(s)"

    def broken_read(session, ids):
        raise RuntimeError("database disk image is malformed")

    monkeypatch.setattr(repo, "inspections_newest_first", broken_read)
    page.verdict.setCurrentText("NG")
    qtbot.waitUntil(lambda: page.count_label.text() == "The history could not be read", timeout=5000)
    assert not model.loading and "The history could not be read: database disk image is malformed" in window.errors[-1]
    monkeypatch.setattr(repo, "inspections_newest_first", real_read)
    page.search.clear()
    qtbot.waitUntil(lambda: page.count_label.text() == "1 inspection(s)", timeout=5000)
    assert [row.source.endswith("part741.png") for row in model.rows] == [True]

    import desktop.history_model  # a next page that cannot be read is not asked for again and again

    monkeypatch.setattr(desktop.history_model, "PAGE_SIZE", 1)
    monkeypatch.setattr(repo, "history", lambda *args, **kwargs: broken_read(None, []))  # next pages fail
    errors = len(window.errors)
    page.verdict.setCurrentText("Any verdict")
    qtbot.waitUntil(lambda: not model.loading and model.rowCount() == 1, timeout=5000)
    model.fetchMore()  # as the view does at the end of its rows (it may have asked already)
    qtbot.waitUntil(lambda: len(window.errors) == errors + 1, timeout=5000)
    qtbot.wait(300)  # the view's own layout passes ask no more
    assert len(window.errors) == errors + 1 and not model.canFetchMore() and model.rowCount() == 1


def test_a_refresh_for_parts_just_inspected_keeps_the_count_shown_while_it_reads(
        qtbot, window, project, tmp_path, monkeypatch):
    page, model = window.history_page, _good_and_defective_in_the_history(qtbot, window, tmp_path, 770, 771)
    assert page.count_label.text() == "2 inspection(s)"
    _reading, release, _real = hold(monkeypatch, repo, "inspections_newest_first")
    window.parts_stored()  # as after each part of a line: the count stays until the new one, no flicker
    qtbot.wait(700)
    assert model.loading and page.count_label.text() == "2 inspection(s)"
    page.verdict.setCurrentText("NG")  # a filter the technician chose is announced when it takes a while
    qtbot.waitUntil(lambda: page.count_label.text() == "Reading the history…", timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: page.count_label.text() == "1 inspection(s)", timeout=5000)


def _good_and_defective_in_the_history(qtbot, window, tmp_path, good: int, defective: int):
    """A good part and one with a pit (``part<seed>.png``) inspected in a batch; the history page shown with
    their rows read. Returns the history's model."""
    files = write_parts(tmp_path / "good", [good]) + write_parts(tmp_path / "pit", [defective],
                                                                 defects=(Defect("pit", 0.4, 0.4, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch(files)
    window.tabs.setCurrentWidget(window.history_page)
    return history_read(qtbot, window.history_page.model)


def test_a_csv_export_shows_its_progress_and_a_cancel_leaves_the_older_file_whole(
        qtbot, window, project, tmp_path, monkeypatch):
    import services.reports
    from desktop.export_dialog import ExportRequest

    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch(write_parts(tmp_path / "parts", [730, 731, 732]))
    report = tmp_path / "history.csv"
    report.write_text("an older export\n")
    monkeypatch.setattr(services.reports, "CSV_PROGRESS_STEP", 1)
    write_row = services.reports.csv_record
    rows_written = []

    def cancel_at_the_second_row(row):  # runs on the worker, as the Cancel button's click would land mid-export
        rows_written.append(row.id)
        if len(rows_written) == 2:
            window.worker.cancel()
        return write_row(row)

    monkeypatch.setattr(services.reports, "csv_record", cancel_at_the_second_row)
    request = ExportRequest("project", "csv", str(report), [], None, None, None)
    with qtbot.waitSignal(window.job_cancelled, timeout=WAIT):
        window.export([], request)
    assert len(rows_written) == 2
    assert window.statusBar().currentMessage() == "Export cancelled; no file was written."
    assert report.read_text() == "an older export\n"
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == ["history.csv"]

    monkeypatch.setattr(services.reports, "csv_record", write_row)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.export([], request)
    assert len(report.read_text().splitlines()) == 1 + 3
    assert (window.progress_bar.value(), window.progress_bar.maximum()) == (3, 3)
    window._on_started("export:0")  # what the status bar offers while an export runs
    assert window.cancel_button.isVisible() and "no file is written" in window.cancel_button.toolTip()
    window._on_started("batch:0")
    assert not window.cancel_button.isVisible()


def test_check_files_reads_every_stored_file_on_the_worker_and_names_the_damaged_one(qtbot, window, project,
                                                                                    tmp_path):
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "parts", [81]))
    inspection_id = window.current.id
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.history_page.check_button.click()
    files = 4 + 1 + 2  # references, the bank, the part's photo and heatmap
    assert window.statusBar().currentMessage() == (f"All {files} stored files are intact, and every record has "
                                                   "its files.")
    with window.workspace.database.read() as session:
        photo = window.workspace.store.path(repo.get_inspection(session, inspection_id).image_key)
    kept = photo.read_bytes()
    photo.write_bytes(kept[:-16] + bytes(16))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.history_page.check_button.click()
    assert window.errors[-1].startswith(f"0 record(s) whose file is missing and 1 whose file is damaged, of {files}")
    assert f"inspection {inspection_id}: damaged images/" in window.errors[-1]
    photo.write_bytes(kept)



def test_a_long_image_path_keeps_its_file_name_in_view_and_its_tooltip_is_whole(qtbot, window, project, tmp_path):
    from PySide6.QtCore import Qt

    from desktop.history_model import COLUMNS as HISTORY_COLUMNS

    deep = tmp_path / "line-3-station-b" / "camera-left" / "2026-11-29" / "shift-night"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(deep, [731]))
    window.resize(1100, 700)
    page, model = window.history_page, window.history_page.model
    window.tabs.setCurrentWidget(page)
    history_read(qtbot, model).refresh()
    history_read(qtbot, model)
    row = next(i for i in range(model.rowCount()) if model.rows[i].source.endswith("part731.png"))
    column = HISTORY_COLUMNS.index("Image")
    path = model.data(model.index(row, column))
    assert model.data(model.index(row, column), Qt.ItemDataRole.ToolTipRole) == path
    assert str(deep) in path
    # On one line, cut at the left: the file name stays readable in the width this window gives it.
    assert not page.table.wordWrap()
    qtbot.waitUntil(lambda: page.table.width() > 800, timeout=2000)
    width = page.table.columnWidth(column) - 12
    shown = page.table.fontMetrics().elidedText(path, page.table.textElideMode(), width)
    assert shown != path and shown.endswith("part731.png")
    assert page.comment.width() >= 300  # the review comment has a row of its own with the review buttons
