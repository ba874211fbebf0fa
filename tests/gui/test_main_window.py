"""The main window driven through pytest-qt offscreen: projects, references, inspection, batch, history, export."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtTest import QTest

from db import repository as repo
from desktop.batch_page import COLUMNS
from desktop.history_model import COLUMNS as HISTORY_COLUMNS
from engine.explain import parse_claims
from engine.physical import format_mm
from engine.synthetic import Defect
from tests.helpers import write_parts as write_parts_at

WAIT = 120_000
SIDE = 160


def write_parts(folder, seeds, defects=()):
    return write_parts_at(folder, seeds, defects, side=SIDE)


def history_count(window) -> int:
    with window.workspace.database.read() as session:
        return repo.history_count(session, repo.HistoryFilter())


@pytest.fixture
def project(qtbot, window, tmp_path):
    """A project with four references added through the window."""
    window.new_project("disc")
    assert window.project_name == "disc"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.add_references(write_parts(tmp_path / "refs", range(4)))
    assert window.references_page.grid.count() == 4
    assert "rough estimate" not in window.references_page.summary.text()
    qtbot.waitUntil(lambda: not window.projects_panel.list.item(0).icon().isNull(), timeout=10_000)
    return "disc"


def test_end_to_end_inspect_shows_ng_overlay_history_and_exports_pdf(qtbot, window, project, tmp_path):
    from desktop.export_dialog import ExportRequest

    bad = write_parts(tmp_path / "bad", [90], defects=(Defect("pit", 0.35, 0.35, 0.12),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    view = window.result_view
    assert view.badge.text() == "NG"
    assert view.overlay_item.isVisible() and not view.overlay_item.pixmap().isNull()
    overlay = view.overlay_item.pixmap().toImage()
    reds = np.array([[overlay.pixelColor(x, y).red() for x in range(0, SIDE, 8)] for y in range(0, SIDE, 8)])
    assert reds.std() > 10
    assert view.table.rowCount() == len(window.current.facts.regions) >= 1
    first = window.current.facts.regions[0]
    assert view.table.item(0, 2).text() == f"{first.area_percent:.2f} %"
    assert f"({first.area_px} px)" in view.table.item(0, 2).toolTip()
    assert history_count(window) == 1
    # The project list was rebuilt for the new count; its thumbnail stays without a re-read.
    assert "1 inspected" in window.projects_panel.list.item(0).text()
    assert not window.projects_panel.list.item(0).icon().isNull()
    window.tabs.setCurrentWidget(window.history_page)
    assert window.history_model.rowCount() == 1

    out = tmp_path / "one.pdf"
    request = ExportRequest("inspection", "pdf", str(out), [window.current.id], None, None)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.export([], request)
    qtbot.waitUntil(lambda: out.exists(), timeout=WAIT)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(out).pages)
    assert "NG" in text and f"{window.current.facts.score:.2f}" in text


def test_a_large_photo_gets_a_screen_sized_overlay_drawn_over_the_whole_image(qtbot, window, project, tmp_path,
                                                                              monkeypatch):
    from desktop.result_view import OVERLAY_MAX_SIDE

    monkeypatch.setattr("desktop.jobs.PHOTO_MAX_SIDE", 1600)  # as a 100 MP photo meets the 6144 px cap
    small = write_parts(tmp_path / "big", [92], defects=(Defect("pit", 0.35, 0.35, 0.12),))[0]
    large = tmp_path / "big" / "large.png"
    Image.open(small).resize((3200, 3200), Image.BILINEAR).save(large)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([large])
    view = window.result_view
    assert view.badge.text() == "NG"
    pixmap = view.overlay_item.pixmap()
    assert max(pixmap.width(), pixmap.height()) <= OVERLAY_MAX_SIDE
    # Neither the photo nor its map is held at full size for the view; both are drawn over the
    # whole photo, in whose pixels the regions are given.
    assert window.current.image.shape[:2] == (1600, 1600) and window.current.image_size == (3200, 3200)
    assert max(window.current.anomaly_map.shape) <= OVERLAY_MAX_SIDE
    for item in (view.image_item, view.overlay_item):
        covered = item.sceneBoundingRect()
        assert abs(covered.width() - 3200) < 2 and abs(covered.height() - 3200) < 2
    assert view.scene.sceneRect().width() == 3200
    # The pit sits at (35 %, 35 %) of the part: the overlay is hot there, in scene coordinates.
    hot = view.overlay_item.mapFromScene(0.35 * 3200, 0.35 * 3200).toPoint()
    cold = view.overlay_item.mapFromScene(0.9 * 3200, 0.9 * 3200).toPoint()
    image = pixmap.toImage()
    assert image.pixelColor(hot).alpha() > image.pixelColor(cold).alpha()

    # Double-clicking the region's row zooms onto it; F shows the whole photo again.
    whole = view.view.transform().m11()
    region = view.region_items[0].sceneBoundingRect()
    view.table.cellDoubleClicked.emit(0, 1)
    assert view.view.transform().m11() > 2 * whole
    shown = view.view.mapToScene(view.view.viewport().rect()).boundingRect()
    assert shown.contains(region.center()) and shown.width() < 3200 / 2
    window.whole_image_action.trigger()
    assert view.view.transform().m11() == pytest.approx(whole)


def test_region_selection_is_shared_between_table_and_view(qtbot, window, project, tmp_path):
    bad = write_parts(tmp_path / "bad", [91], defects=(Defect("pit", 0.27, 0.27, 0.1),
                                                        Defect("scratch", 0.74, 0.74, 0.16)))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    view = window.result_view
    assert len(view.region_items) >= 2
    view.table.selectRow(1)
    assert [i.index for i in view.region_items if i.isSelected()] == [2]
    view.region_items[0].setSelected(True)
    view.region_items[1].setSelected(False)
    assert {i.row() for i in view.table.selectedIndexes()} == {0}


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


def test_sensitivity_relabels_monotonically_without_inference(qtbot, window, project, tmp_path):
    files = write_parts(tmp_path / "mix", [300, 301]) + write_parts(
        tmp_path / "mixbad", [302], defects=(Defect("pit", 0.5, 0.5, 0.05),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch(files)
    order = {"OK": 0, "REVIEW": 1, "NG": 2}
    previous = None
    ng_counts = []
    for value in range(0, 101, 10):
        window.sensitivity_slider.setValue(value)
        verdicts = [order[window.batch_page.table.item(r, 2).text()] for r in range(window.batch_page.table.rowCount())]
        if previous is not None:
            assert all(now >= before for now, before in zip(verdicts, previous))
        previous = verdicts
        ng_counts.append(window.batch_page.verdict_counts()["NG"])
        assert f"NG {ng_counts[-1]}" in window.batch_page.summary.text()
    assert ng_counts == sorted(ng_counts)
    assert history_count(window) == 3


def test_badge_regions_and_chat_follow_the_sensitivity_together(qtbot, window, project, tmp_path, monkeypatch):
    from engine.explain import conflicts

    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "good", [302]))
    view, seen, answers = window.result_view, set(), []
    shown_answer = window.chat.answered
    monkeypatch.setattr(window.chat, "answered", lambda text, backend: (answers.append(text),
                                                                          shown_answer(text, backend)))
    for value in (0, 50, 100):
        window.sensitivity_slider.setValue(value)
        shown = view.facts
        seen.add(shown.verdict)
        assert view.badge.text() == shown.verdict and view.table.rowCount() == len(shown.regions)
        with qtbot.waitSignal(window.job_finished, timeout=WAIT):
            window.chat._send("Is there any anomaly in the image?")
        assert conflicts(answers[-1], shown) == [], (value, shown.verdict, answers[-1])
    assert seen == {"OK", "REVIEW"}, "a good part is OK by default and for review at the highest sensitivity"
    transcript = window.chat.transcript.toPlainText()
    assert "at sensitivity 1.00" in transcript and "at sensitivity 0.50" not in transcript


def test_chat_turns_are_stored_and_shown_again(qtbot, window, project, tmp_path):
    bad = write_parts(tmp_path / "bad", [92], defects=(Defect("pit", 0.3, 0.3, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    inspection_id = window.current.id
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.chat._send("Where is it?")
    assert "top left" in window.chat.transcript.toPlainText()
    assert "[grounded]" in window.chat.transcript.toPlainText()
    window.chat.set_inspection(None, [])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.open_inspection(inspection_id)
    shown = window.chat.transcript.toPlainText()
    assert "Where is it?" in shown and "top left" in shown


@pytest.mark.slow
def test_the_local_language_model_answers_on_the_worker_streams_and_is_cached(qtbot, window, project, tmp_path,
                                                                               monkeypatch):
    bad = write_parts(tmp_path / "bad", [93], defects=(Defect("pit", 0.3, 0.3, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    streamed: list[str] = []
    answers: list[tuple[str, str]] = []
    shown_stream, shown_answer = window.chat.stream, window.chat.answered
    monkeypatch.setattr(window.chat, "stream", lambda text: (streamed.append(text), shown_stream(text)))
    monkeypatch.setattr(window.chat, "answered",
                        lambda text, backend: (answers.append((text, backend)), shown_answer(text, backend)))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT, check_params_cb=lambda job_id: job_id.startswith("warm")):
        window.chat.backend.setCurrentText("Local LLM (checked)")  # loads the model in the background
    assert list((tmp_path / "home" / "cache" / "llm").glob("SmolLM2*/model.safetensors")), "the weights were cached"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT, check_params_cb=lambda job_id: job_id.startswith("chat")):
        window.chat._send("Where is the anomaly?")
    (text, backend), = answers
    assert backend.startswith(("llm:SmolLM2", "grounded")), backend  # the guard may have replaced the answer
    assert (0, 0) in parse_claims(text).cells, text  # the pit is at the top left
    assert "".join(streamed).strip(), "no tokens were streamed to the panel"
    assert text in window.chat.transcript.toPlainText()


def test_a_passed_part_marks_its_strongest_spot_and_a_flagged_one_does_not(qtbot, window, project, tmp_path):
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "good", [420]))
    view, facts = window.result_view, window.current.facts
    assert facts.verdict == "OK" and not facts.regions
    assert view.peak_item.isVisible() and view.peak_item.rect().center().toTuple() == pytest.approx(facts.peak_xy)
    assert f"strongest spot: {facts.peak_position}" in view.score_label.text()
    assert all(cell in view.score_label.text() for cell in facts.peak_extends_to)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "bad", [421], defects=(Defect("pit", 0.35, 0.35, 0.12),)))
    assert window.current.facts.regions and not view.peak_item.isVisible()
    assert "strongest spot" not in view.score_label.text()


def test_inspection_area_drawn_on_a_reference_ignores_marks_outside_and_is_outlined(qtbot, window, project,
                                                                                    tmp_path):
    from PySide6.QtCore import QPoint

    pit_top_left = write_parts(tmp_path / "bad", [422], defects=(Defect("pit", 0.3, 0.3, 0.12),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(pit_top_left)
    assert window.current.facts.verdict == "NG" and not window.result_view.area_item.isVisible()

    window.choose_inspection_area()
    qtbot.waitUntil(lambda: window.area_dialog is not None, timeout=10_000)
    dialog, canvas = window.area_dialog, window.area_dialog.canvas
    width, height = canvas.width(), canvas.height()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(0, height // 2))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(width - 1, height - 1))
    assert dialog.area()[1] == pytest.approx(0.5, abs=0.01) and dialog.area()[3] == pytest.approx(1.0, abs=0.01)
    dialog.accept()
    assert "Inspection area: left 0 % to right 100 %, top 50 %" in window.references_page.summary.text()
    assert "out of date" in window.references_page.summary.text()

    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(pit_top_left, force=True)
    view = window.result_view
    assert window.current.facts.verdict == "OK" and not window.current.facts.regions
    assert view.area_item.isVisible() and view.area_item.rect().top() == pytest.approx(SIDE / 2, abs=2)
    shown_height, shown_width = window.current.reference.shape[:2]  # the reference's lower half: what was compared
    assert shown_width == pytest.approx(2 * shown_height, abs=2)

    window.choose_inspection_area()  # back to the whole image, with the pit's corner of the part ignored instead
    qtbot.waitUntil(lambda: window.area_dialog is not dialog, timeout=10_000)
    dialog, canvas = window.area_dialog, window.area_dialog.canvas
    dialog.use_whole_image()
    dialog.ignore_mode.setChecked(True)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(width * 0.15), int(height * 0.15)))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(width * 0.45), int(height * 0.45)))
    assert dialog.area() is None and len(dialog.ignored()) == 1
    dialog.accept()
    assert "the whole image, less 1 ignored rectangle" in window.references_page.summary.text()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(pit_top_left, force=True)
    assert window.current.facts.verdict == "OK" and not view.area_item.isVisible()
    assert len(view.ignored_items) == 1 and view.ignored_items[0].rect().left() == pytest.approx(0.15 * SIDE, abs=2)

    from dataclasses import replace

    from PySide6.QtCore import QPointF

    view.show_result(replace(window.current, inspection_area=(0.25, 0.25, 0.75, 0.75), ignored_areas=()), 0.5)
    shown = view.view.mapToScene(view.view.viewport().rect()).boundingRect()
    assert shown.width() < 0.75 * SIDE and shown.contains(QPointF(SIDE / 2, SIDE / 2))  # zoomed onto the area


def test_review_and_false_reject_join_the_references(qtbot, window, project, tmp_path):
    good = write_parts(tmp_path / "good", [400])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(good)
    inspection_id = window.current.id
    window.review([inspection_id], "NG", "looks odd")
    window.add_inspections_to_references([inspection_id])
    with window.workspace.database.read() as session:
        row = repo.get_inspection(session, inspection_id)
        assert [r.verdict for r in row.reviews] == ["NG", "OK"]
        project = repo.get_project(session, "disc")
        assert row.image_key in [r.image_key for r in repo.references(session, project)]
    assert window.references_page.grid.count() == 5


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
    assert [row.source.endswith("(photo removed to free disk space)") for row in window.history_model.rows] == [True]
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


def test_scores_drifting_from_the_first_parts_show_a_warning_after_an_inspection(qtbot, window, project, tmp_path):
    from datetime import timedelta

    from db.models import Inspection

    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "first", [431]))
    assert window.drift_warning.isHidden()
    first = window.current
    # 39 more parts (in the milliseconds before the next real one), the last 20 scoring far higher
    with window.workspace.database.write() as session:
        row = repo.get_inspection(session, first.id)
        for index in range(39):
            session.add(Inspection(project_id=row.project_id, image_key=row.image_key, map_key=row.map_key,
                                   raw_score=row.raw_score * (1.0 + 0.01 * index + (2.0 if index >= 19 else 0.0)),
                                   score=0.5, verdict="OK", engine_version=row.engine_version, bank_id=row.bank_id,
                                   created_at=row.created_at + timedelta(milliseconds=index + 1)))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "later", [432]))
    qtbot.waitUntil(lambda: not window.drift_warning.isHidden(), timeout=10_000)
    assert "Scores drifting" in window.drift_warning.text()
    assert "scored higher than the first 20" in window.drift_warning.toolTip()
    assert "check the focus, lighting and camera position" in window.references_page.summary.text()
    before = window.drift_warning.toolTip()
    window.sensitivity_slider.setValue(90)  # the medians are given on the 0-1 scale at this sensitivity
    qtbot.waitUntil(lambda: window.drift_warning.toolTip() not in ("", before), timeout=10_000)
    assert window.drift_warning.toolTip() in window.references_page.summary.text()
    window.new_project("cap")  # another part type has its own history: no warning there
    qtbot.waitUntil(window.drift_warning.isHidden, timeout=10_000)
    assert "scored higher" not in window.references_page.summary.text()


def test_the_drift_window_is_set_on_the_references_page_per_project(qtbot, window, project):
    box = window.references_page.drift_window_box
    assert box.value() == 20 and box.minimum() == 10
    box.setValue(12)
    box.editingFinished.emit()
    with window.workspace.database.read() as session:
        assert repo.get_project(session, project).settings["drift_window"] == 12
    window.new_project("cap")
    assert box.value() == 20  # another part type keeps its own
    window.projects_panel.refresh(select=project)
    assert box.value() == 12


def test_the_pixel_size_on_the_references_page_gives_sizes_and_measured_lines_in_millimetres(qtbot, window, project,
                                                                                         tmp_path):
    box = window.references_page.pixel_size_box
    assert box.value() == 0 and box.text() == "not set"
    box.setValue(0.05)
    box.editingFinished.emit()
    with window.workspace.database.read() as session:
        assert repo.get_project(session, project).settings["pixel_size_mm"] == 0.05
    window.apply_pixel_size(-1.0)  # refused with the reason; the stored value stands
    assert "pixel size must be" in window.errors[-1] and "from now on" not in window.statusBar().currentMessage()
    assert box.value() == 0.05
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "mm", [433], defects=(Defect("scratch", 0.5, 0.5, 0.3),)))
    facts = window.current.facts
    assert facts.mm_per_pixel == 0.05 and facts.regions
    size = window.result_view.table.item(0, 2)
    assert size.text() == format_mm(facts.millimetres(facts.regions[0])["length"]) and "mm²" in size.toolTip()
    view = window.result_view
    assert view.measure(QPointF(10, 10), QPointF(40, 50)) == "50 px = 2.5 mm"  # photo pixels, at any zoom
    window.measure_action.trigger()  # M: drags now measure instead of panning
    assert view.measure_button.isChecked() and view.view.measuring
    viewport = view.view.viewport()
    start, end = view.view.mapFromScene(QPointF(20, 30)), view.view.mapFromScene(QPointF(120, 30))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    length = view.measure_line.line.line().length()
    assert abs(length - 100) < 3 and view.measure_line.label.text() == f"{length:.0f} px = {format_mm(length * 0.05)}"
    window.measure_action.trigger()
    assert not view.view.measuring and not view.measure_line.visible
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([tmp_path / "mm"])
    largest = window.batch_page.table.item(0, COLUMNS.index("Largest"))
    assert largest.text() == format_mm(facts.millimetres(facts.largest_region())["length"])
    model = window.history_model
    model.refresh()
    shown = {model.rows[row].id: model.data(model.index(row, HISTORY_COLUMNS.index("Largest")))
             for row in range(model.rowCount())}
    assert shown[window.current.id] == largest.text()
    window.new_project("cap")
    assert box.value() == 0  # another part type, another camera set-up
    window.projects_panel.refresh(select=project)
    assert box.value() == 0.05
    box.setValue(0)
    box.editingFinished.emit()
    with window.workspace.database.read() as session:
        assert "pixel_size_mm" not in repo.get_project(session, project).settings


def test_a_line_of_known_length_on_the_photo_sets_the_pixel_size(qtbot, window, project, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    part = write_parts(tmp_path / "ruler", [434])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(part)
    view = window.result_view
    assert not view.calibrate_action.isEnabled()  # no line drawn yet
    view.measure(QPointF(10, 20), QPointF(110, 20))
    assert view.calibrate_action.isEnabled()
    monkeypatch.setattr(QInputDialog, "getDouble", lambda *args: (5.0, True))  # the 100 px line spans 5 mm
    view.calibrate_action.trigger()
    with window.workspace.database.read() as session:
        assert repo.get_project(session, project).settings["pixel_size_mm"] == pytest.approx(0.05)
    assert window.references_page.pixel_size_box.value() == pytest.approx(0.05)
    window.set_pixel_size_from_line(1.0, 5.0)
    assert "at least 2 pixels" in window.errors[-1]
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(part, force=True)
    assert window.current.facts.mm_per_pixel == pytest.approx(0.05)
    assert not view.calibrate_action.isEnabled()  # the line belonged to the photo shown before


def test_rejects_inspected_again_from_the_history_after_one_joins_the_references(qtbot, window, project, tmp_path):
    odd = write_parts(tmp_path / "odd", [410], defects=(Defect("scratch", 0.5, 0.5, 0.3),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(odd)
    assert window.current.facts.verdict == "NG"
    window.add_inspections_to_references([window.current.id])  # the technician says the part is fine
    page = window.history_page
    window.tabs.setCurrentWidget(page)
    assert page.model.rowCount() == 1
    page.table.selectRow(0)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        page.reinspect_button.click()
    assert "Re-inspected 1 image(s) with the current references: 1 verdict(s) changed" in (
        window.statusBar().currentMessage())
    assert page.model.rowCount() == 2
    assert sorted(row.verdict for row in page.model.rows) == ["NG", "OK"]


def test_a_long_re_inspection_can_be_cancelled_from_the_status_bar(qtbot, window, project, tmp_path, monkeypatch):
    import threading

    from services.inspection import Inspector

    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "parts", [420, 421, 422]))
    ids = list(window.queue)
    assert len(ids) == 3 and not window.cancel_button.isVisible()
    gate, calls = threading.Event(), []
    original = Inspector.reinspect

    def held(self, inspection_id):  # the first part waits until the technician has pressed Cancel
        calls.append(inspection_id)
        gate.wait(10)
        return original(self, inspection_id)

    monkeypatch.setattr(Inspector, "reinspect", held)
    window.reinspect(ids)
    qtbot.waitUntil(window.cancel_button.isVisible, timeout=WAIT)
    with qtbot.waitSignal(window.job_cancelled, timeout=WAIT):
        window.cancel_button.click()
        gate.set()
    assert calls == ids[:1] and not window.cancel_button.isVisible()
    assert window.statusBar().currentMessage() == "Cancelled."


def test_first_start_offers_a_demo_that_shows_the_whole_flow(qtbot, window):
    assert window.demo_banner.isVisibleTo(window)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.demo_button.click()
    assert window.project_name.startswith("Demo")
    assert window.result_view.badge.text() == "NG"
    assert not window.demo_banner.isVisibleTo(window)
    assert history_count(window) == 5


def drop_on(widget, paths) -> None:
    """Deliver a file-manager drop of ``paths`` to ``widget``, as Qt would after the drag was accepted."""
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    with warnings.catch_warnings():  # PySide marks this, the only QDragEnterEvent constructor, deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    widget.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))


def test_images_dropped_on_the_view_are_inspected_and_a_folder_goes_to_batch(qtbot, window, project, tmp_path):
    view = window.result_view.view
    assert "Drop images" in view.hint
    bad = write_parts(tmp_path / "drop", [91], defects=(Defect("pit", 0.35, 0.35, 0.12),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        drop_on(view, bad)
    assert window.result_view.badge.text() == "NG" and window.current.source == str(bad[0])
    assert view.hint == ""
    folder = tmp_path / "dropped_folder"
    write_parts(folder, [300, 301])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        drop_on(view, [folder])
    assert window.tabs.currentWidget() is window.batch_page
    assert window.batch_page.table.rowCount() == 2
    assert history_count(window) == 3


def test_missing_camera_gives_a_clear_message(qtbot, window, project, monkeypatch):
    import cv2

    class NoCamera:
        def __init__(self, *_args):
            pass

        def isOpened(self):  # noqa: N802 (cv2 API)
            return False

        def release(self):
            pass

    monkeypatch.setattr(cv2, "VideoCapture", NoCamera)
    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        window.grab_camera()
    assert any("No camera found" in e for e in window.errors)


def test_screenshot_command_renders_every_main_view(tmp_path, isolated_settings, monkeypatch):
    from desktop.screenshots import take_screenshots

    user_data = tmp_path / "user-data"  # the demo must stay in its temporary folder, whatever this says
    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(user_data))
    monkeypatch.setenv("IAD_INSPECTOR_DATABASE_URL", f"sqlite:///{(user_data / 'x.db').as_posix()}")
    files = take_screenshots(tmp_path / "shots", size=(1100, 700))
    assert not user_data.exists()
    assert [f.name for f in files] == ["00-first-start.png", "01-inspect.png", "02-references.png", "03-batch.png",
                                       "04-history.png"]
    for path in files:
        image = Image.open(path)
        assert image.size == (1100, 700) and np.asarray(image).std() > 5


def test_settings_round_trip_through_qsettings_in_the_temp_dir(isolated_settings):
    from desktop.settings import AppSettings

    AppSettings(data_folder="/data/station-3", device="cpu", llm_path="/models/qwen", operator="ann").save()
    loaded = AppSettings.load()
    assert (loaded.data_folder, loaded.device, loaded.llm_path, loaded.operator) == (
        "/data/station-3", "cpu", "/models/qwen", "ann")
    assert any(isolated_settings.rglob("*.ini"))


def test_settings_dialog_refuses_a_missing_model_folder_or_a_file_as_data_folder(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from desktop.settings import AppSettings, SettingsDialog

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.llm_path.setText(str(tmp_path / "no-such-model"))
    dialog.accept()
    assert "does not exist" in shown[-1] and dialog.result() != dialog.DialogCode.Accepted
    dialog.llm_path.setText(str(tmp_path))
    (tmp_path / "a-file").write_text("x")
    dialog.data_folder.setText(str(tmp_path / "a-file"))
    dialog.accept()
    assert "is a file, not a folder" in shown[-1]
    dialog.data_folder.setText(str(tmp_path / "new-station-folder"))  # made at the next start
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted and len(shown) == 2
    assert dialog.values().llm_path == str(tmp_path)


def test_a_clip_backbone_needs_a_checkpoint_in_settings_and_new_projects_import_it_on_the_worker(
        qtbot, window, tmp_path, monkeypatch, tiny_clip_checkpoint):
    from PySide6.QtWidgets import QMessageBox

    import desktop.main_window as main_window
    from desktop.settings import SettingsDialog

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    chosen = {"backbone": "efficientnet-lite9", "checkpoint": ""}

    class Prepared(SettingsDialog):
        def __init__(self, settings, parent=None):
            super().__init__(settings, parent)
            self.backbone.setCurrentText(chosen["backbone"])
            self.clip_checkpoint.setText(chosen["checkpoint"])

        def exec(self):
            self.accept()
            return self.result()

    monkeypatch.setattr(main_window, "SettingsDialog", Prepared)
    window.edit_settings()
    assert "Unknown backbone efficientnet-lite9" in shown[-1]
    chosen["backbone"] = "clip:iad-tiny-vit"
    window.edit_settings()
    assert "needs a CLIP checkpoint file" in shown[-1] and window.settings.backbone == "efficientnet-lite0"
    chosen["checkpoint"] = str(garbage)
    window.edit_settings()
    assert window.settings.backbone == "clip:iad-tiny-vit"
    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        window.new_project("casting")
    assert "not a checkpoint of open_clip's iad-tiny-vit" in window.errors[-1]
    with window.workspace.database.read() as session:
        assert [p.name for p in repo.list_projects(session)] == []
    chosen["checkpoint"] = str(tiny_clip_checkpoint)
    window.edit_settings()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.new_project("casting")
    assert window.project_name == "casting" and window.tabs.currentWidget() is window.references_page
    assert "Backbone: clip:iad-tiny-vit (checkpoint tiny.pt)" in window.references_page.summary.text()
    with window.workspace.database.read() as session:
        project = repo.get_project(session, "casting")
        stored = project.settings["engine"]["backbone_weights"]
        assert project.backbone == "clip:iad-tiny-vit"
    assert stored.startswith(str(window.workspace.home / "models" / "clip"))
    assert open(stored, "rb").read() == tiny_clip_checkpoint.read_bytes()


def test_importing_a_clip_project_file_takes_its_checkpoint_from_settings(qtbot, window, tmp_path,
                                                                         tiny_clip_checkpoint):
    from engine.prompt_writer import WrittenPrompts
    from services.part_prompts import SETTINGS_KEY
    from services.project_transfer import export_project
    from services.projects import create_project
    from services.workspace import open_workspace

    station_a = open_workspace(tmp_path / "station-a", explicit=True)
    create_project(station_a, "casting", backbone="clip:iad-tiny-vit", checkpoint=tiny_clip_checkpoint)
    # What a language model wrote for the part at station A (tests/integration/test_llm_backend.py writes real ones).
    written = WrittenPrompts("casting", "SmolLM2", ["A flawless casting has an even grey surface."],
                             {"crack": ["A crack shows as a dark jagged line on the casting."]}, refused=16)
    with station_a.database.write() as session:
        project = repo.get_project(session, "casting")
        repo.update_project(session, project, settings={**project.settings, SETTINGS_KEY: written.to_dict()})
    target = export_project(station_a, "casting", tmp_path / "casting")
    station_a.close()
    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        window.import_project(target)
    assert "needs the CLIP checkpoint tiny.pt" in window.errors[-1]
    window.settings.clip_checkpoint = str(tiny_clip_checkpoint)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.import_project(target)
    assert window.project_name == "casting"
    with window.workspace.database.read() as session:
        stored = repo.get_project(session, "casting").settings["engine"]["backbone_weights"]
    assert stored.startswith(str(window.workspace.home / "models" / "clip")) and stored.endswith("-tiny.pt")
    page = window.references_page
    assert "Defect prompts: 28 curated + 2 written by SmolLM2" in page.summary.text()
    assert not page.prompts_button.isHidden()
    assert "Written for this part:\n• A flawless casting has an even grey surface.\n• A crack shows as a dark jagged " \
           "line on the casting." in page.prompts_button.toolTip()
    window.settings.llm_path = str(tmp_path / "no-such-model")
    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        page.prompts_button.click()
    assert "No language model to write prompts with" in window.errors[-1] and "not found" in window.errors[-1]
    assert "28 curated + 2 written by SmolLM2" in page.summary.text()  # the earlier prompts stay

    from services.text_guidance import project_text_guidance

    assert not page.guidance_box.isHidden() and not page.guidance_box.isChecked()
    page.guidance_box.click()
    with window.workspace.database.read() as session:
        assert project_text_guidance(repo.get_project(session, "casting"))
    assert "Text guidance on. The reference bank is rebuilt" in window.statusBar().currentMessage()
    window.refresh_references()
    assert page.guidance_box.isChecked()


def test_fewer_than_four_active_references_show_advice(qtbot, window, project):
    with window.workspace.database.read() as session:
        first = repo.references(session, repo.get_project(session, project))[0].id
    window.toggle_reference(first, False)
    assert "3 references the threshold is a rough estimate" in window.references_page.summary.text()
    assert window.references_page.prompts_button.isHidden()  # prompts type defects only on a CLIP backbone
    assert window.references_page.guidance_box.isHidden()  # and guide the map only there
    assert "Defect prompts" not in window.references_page.summary.text()
    window.toggle_reference(first, True)
    assert "rough estimate" not in window.references_page.summary.text()


def test_export_dialog_keeps_the_extension_with_the_format_and_stays_open_until_it_can_export(qtbot, monkeypatch):
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QMessageBox

    from desktop.export_dialog import ExportDialog

    warnings_shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings_shown.append(text))
    dialog = ExportDialog([3, 5], current=5)
    qtbot.addWidget(dialog)
    dialog.accept()  # no file yet
    assert warnings_shown == ["Choose a file to export to."] and dialog.result() != dialog.DialogCode.Accepted
    dialog.path.setText("/reports/shift2.pdf")
    dialog.format.setCurrentText("csv")
    assert dialog.path.text() == "/reports/shift2.csv"
    dialog.scope.setCurrentIndex(dialog.scope.findData("project"))
    dialog.since.setDate(QDate(2026, 11, 20))
    dialog.until.setDate(QDate(2026, 11, 10))
    dialog.accept()
    assert warnings_shown[-1] == "The start date is after the end date."
    dialog.until.setDate(QDate(2026, 11, 21))
    dialog.path.setText("/reports/week47")
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    request = dialog.request()
    assert (request.scope, request.fmt, request.out) == ("project", "csv", "/reports/week47.csv")
    assert request.since.date().isoformat() == "2026-11-20" and request.until.date().isoformat() == "2026-11-21"
    dialog.scope.setCurrentIndex(dialog.scope.findData("selection"))
    assert dialog.request().inspection_ids == [3, 5] and dialog.request().since is None


def test_removing_a_reference_asks_first_and_is_audited(qtbot, window, project, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from db.models import AuditEvent

    page = window.references_page
    page.grid.item(0).setSelected(True)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    page.remove_button.click()
    assert page.grid.count() == 4
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.grid.item(0).setSelected(True)
    page.remove_button.click()
    assert page.grid.count() == 3
    with window.workspace.database.read() as session:
        assert len(repo.references(session, repo.get_project(session, project))) == 3
        assert session.query(AuditEvent).filter_by(action="delete", entity="reference").count() == 1


def test_a_grey_photo_of_the_colour_part_passes_and_says_it_was_compared_in_grey(qtbot, window, project, tmp_path):
    path = tmp_path / "mono.png"
    Image.open(write_parts(tmp_path / "colour", [611])[0]).convert("L").save(path)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([path])
    assert window.current.facts.verdict == "OK" and window.current.facts.compared_in_grey
    assert "Grey photo: compared with the colour references made grey" in window.result_view.score_label.text()
    assert "Unlike the references" not in window.result_view.score_label.text()


def test_an_image_of_another_part_type_says_so_under_the_verdict(qtbot, window, project, tmp_path):
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    stripes = ((xx + yy) // 16 % 2 * 255).astype(np.uint8)
    path = tmp_path / "bolt.png"
    Image.fromarray(np.stack([stripes, stripes // 2, 255 - stripes], axis=2)).save(path)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([path])
    assert window.current.facts.unlike_references
    assert "Unlike the references as a whole" in window.result_view.score_label.text()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch([path] + write_parts(tmp_path / "same", [610]))
    table, note = window.batch_page.table, COLUMNS.index("Note")
    notes = {table.item(row, 1).text(): table.item(row, note).text() for row in range(table.rowCount())}
    assert notes["bolt.png"] == "already inspected; unlike the references as a whole: check the project"
    assert notes["part610.png"] == ""

def test_projects_rename_describe_archive_and_restore(qtbot, window, project, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    panel = window.projects_panel
    window.new_project("washer")
    assert window.project_name == "washer"
    assert not panel.rename_project("disc")  # taken: refused with a message, nothing renamed
    assert "already exists" in window.errors[-1] and window.project_name == "washer"
    assert panel.rename_project("washer M8")
    assert window.project_name == "washer M8" and "washer M8" in window.windowTitle()
    assert panel.describe_project("zinc-plated, 8 mm")
    assert panel.list.currentItem().toolTip() == "zinc-plated, 8 mm"

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert not panel.archive_project()  # the technician said no
    assert panel.count() == 2
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert panel.archive_project()
    names = [panel.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(panel.count())]
    assert names == ["disc"] and window.project_name == "disc"
    assert window.references_page.grid.count() == 4  # the remaining project's references are shown

    panel.show_archived.setChecked(True)
    assert panel.count() == 2
    panel.refresh(select="washer M8")
    assert panel.archive_button.text() == "Restore"
    assert panel.archive_project()
    panel.show_archived.setChecked(False)
    assert panel.count() == 2
    with window.workspace.database.read() as session:
        assert repo.get_project(session, "washer M8").description == "zinc-plated, 8 mm"

def test_watched_folder_inspects_new_images(qtbot, window, project, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    window.watch_folder(folder)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        write_parts(folder, [500], defects=(Defect("pit", 0.5, 0.5, 0.1),))
    assert window.current is not None and window.current.source.endswith("part500.png")
    assert history_count(window) == 1


def test_naming_a_region_type_updates_the_stored_result(qtbot, window, project, tmp_path):
    bad = write_parts(tmp_path / "bad", [93], defects=(Defect("pit", 0.3, 0.3, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.label_region(1, "Pit")
    assert window.current.facts.regions[0].defect_type == "pit"
    assert window.result_view.table.item(0, 4).text() == "pit"


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


def test_history_filters_by_verdict_and_custom_date_range(qtbot, window, project, tmp_path):
    from PySide6.QtCore import QDate

    files = write_parts(tmp_path / "h", [700]) + write_parts(tmp_path / "hb", [701],
                                                             defects=(Defect("pit", 0.4, 0.4, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.start_batch(files)
    page = window.history_page
    window.tabs.setCurrentWidget(page)
    assert page.model.rowCount() == 2
    page.verdict.setCurrentText("NG")
    assert page.model.rowCount() == 1 and page.model.rows[0].source.endswith("part701.png")
    page.verdict.setCurrentText("Any verdict")
    page.period.setCurrentText("From … to …")
    page.date_from.setDate(QDate.currentDate().addDays(-3))
    page.date_to.setDate(QDate.currentDate().addDays(-1))
    assert page.model.rowCount() == 0
    page.date_to.setDate(QDate.currentDate())
    assert page.model.rowCount() == 2
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
    window.sensitivity_slider.setValue(100)  # the most sensitive: the chart re-labels with the table
    assert chart.verdicts() == [page.model.verdict_of(r)[0] for r in sorted(page.model.rows, key=lambda r: r.id)]
    assert chart.verdicts().count("OK") < list(table_verdicts.values()).count("OK")
    page.verdict.setCurrentText("NG")
    assert [s.inspection_id for s in chart.trend.samples] == [r.id for r in page.model.rows]
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


def test_a_job_queued_after_cancel_does_not_revive_the_batch(qtbot, window, project, tmp_path):
    folder = tmp_path / "revive"
    write_parts(folder, range(800, 840))
    window.start_batch([folder])
    qtbot.waitUntil(lambda: window.batch_page.table.rowCount() >= 2, timeout=WAIT)
    with qtbot.waitSignal(window.job_cancelled, timeout=2000):
        window.cancel_job()
        window.open_inspection(window.batch_page.items[0].record.id)
    assert window.batch_page.table.rowCount() < 40


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
    model = window.history_model
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


def test_a_project_exported_from_its_panel_comes_back_under_a_new_name(qtbot, window, project, tmp_path,
                                                                       monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    panel = window.projects_panel
    assert panel.export_button.isEnabled()
    target = tmp_path / "disc setup.iadproject"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        panel.export_button.click()
    assert target.is_file() and str(target) in window.statusBar().currentMessage()

    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(window, "ask_import_name", lambda taken: asked.append(taken) or "disc line 2")
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):  # the first try finds the name taken
        panel.import_button.click()
    qtbot.waitUntil(lambda: window.project_name == "disc line 2", timeout=WAIT)
    assert asked == ["disc"]
    names = {panel.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(panel.count())}
    assert names == {"disc", "disc line 2"}
    assert window.references_page.grid.count() == 4
    assert "Imported project 'disc line 2' (4 active references" in window.statusBar().currentMessage()


def test_the_level_of_detail_chosen_on_the_references_page_is_stored_and_rebuilds_the_bank(qtbot, window, project):
    from services.detail import project_detail

    combo = window.references_page.detail_box
    assert combo.currentText() == "standard"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.build_bank()
    assert "out of date" not in window.references_page.summary.text()
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # the user steps to the next level
    assert combo.currentText() == "fine"
    with window.workspace.database.read() as session:
        assert project_detail(repo.get_project(session, "disc")) == "fine"
    assert "out of date" in window.references_page.summary.text()
    assert "Level of detail: fine (about 384 x 384 pixels)" in window.statusBar().currentMessage()
    combo.setCurrentText("standard")  # shown, not chosen: the stored level comes back on a refresh
    window.refresh_references()
    assert combo.currentText() == "fine"


def test_verifying_with_master_parts_runs_on_the_worker_and_the_references_page_keeps_the_outcome(
        qtbot, window, project, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    page = window.references_page
    assert "Master parts: never checked" in page.summary.text()
    masters = tmp_path / "masters"
    write_parts(masters / "good", [10])
    write_parts(masters / "scratch", [11], defects=(Defect("scratch", 0.5, 0.5, 0.3),))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(masters))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        page.verify_button.click()
    assert window.verification.passed and len(window.verification.results) == 2
    assert window.statusBar().currentMessage() == "Verification passed."
    assert "Master parts: passed" in page.summary.text() and "(1 good, 1 defective masters)" in page.summary.text()
    assert history_count(window) == 0
    boxes = [b for b in window.findChildren(QMessageBox) if b.windowTitle() == "Verification with master parts"]
    assert boxes and "scratch/part011.png: should be held back, got NG" in boxes[-1].detailedText()
    boxes[-1].close()

    write_parts(masters / "scratch", [12])  # a good part filed as a red rabbit: it passes, so the check fails
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.verify_with_masters(masters)
    assert not window.verification.passed
    assert "Verification FAILED" in window.statusBar().currentMessage()
    assert "Master parts: FAILED" in page.summary.text()


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

    assert read_thumbnail(tmp_path / "gone.png", 96) is None
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    assert read_thumbnail(tmp_path / "broken.png", 96) is None
    part = write_parts(tmp_path / "ok", [1])[0]
    assert read_thumbnail(part, 96).shape == (80, 80, 3)  # decoded at half size, within 96


def test_a_watched_image_is_handed_on_only_once_its_writer_has_finished(qtbot, tmp_path):
    from desktop.folder_watch import FolderWatch

    folder = tmp_path / "line"
    folder.mkdir()
    watch = FolderWatch(settle_ms=400)
    watch.start(folder)
    handed: list = []
    watch.new_images.connect(lambda paths: handed.extend((p, p.stat().st_size) for p in paths))
    frame = write_parts(tmp_path / "camera", [600])[0].read_bytes()
    target = folder / "frame600.png"
    for share in (1, 2):  # the writer is still at it: the size changes between looks
        target.write_bytes(frame[: share * len(frame) // 3])
        watch.scan()
        assert handed == []
    target.write_bytes(frame)
    (folder / "._frame600.png").write_bytes(b"AppleDouble")  # macOS's companion file: not an image
    (folder / ".frame601.png").write_bytes(frame)  # a writer's hidden temporary file
    qtbot.waitUntil(lambda: bool(handed), timeout=5000)
    qtbot.wait(900)
    assert handed == [(target, len(frame))]  # complete, once only, and nothing hidden
    watch.stop()


def test_run_app_opens_the_data_folder_and_shows_the_window(qapp, tmp_path, isolated_settings, monkeypatch):
    # Keep this test last in the module: after QApplication.quit(), pytest-qt's waits return at once.
    from PySide6.QtWidgets import QApplication

    from desktop.app import run_app
    from desktop.main_window import MainWindow

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    seen = []

    def close_soon():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen.extend(windows)
        for window in windows:
            window.close()
        QApplication.quit()

    QTimer.singleShot(300, close_soon)
    assert run_app([]) == 0
    assert seen and seen[0].demo_banner.isVisibleTo(seen[0])
    assert (tmp_path / "home" / "inspector.db").is_file()
