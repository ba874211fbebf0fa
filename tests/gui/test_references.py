"""The references page: inspection area, reviews joining the references, drift, pixel size, verification."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from db import repository as repo
from desktop.batch_page import COLUMNS
from desktop.history_model import COLUMNS as HISTORY_COLUMNS
from engine.physical import format_mm
from engine.synthetic import Defect
from tests.gui.helpers import SIDE, WAIT, history_count, history_read, write_parts


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
    history_read(qtbot, model)
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


def test_a_reference_that_is_the_same_photo_as_another_is_named_on_the_references_page(qtbot, window, project,
                                                                                         tmp_path):
    import cv2

    again = tmp_path / "again" / "part000-again.jpg"  # the first reference saved again, as JPEG
    again.parent.mkdir()
    assert cv2.imwrite(str(again), cv2.imread(str(tmp_path / "refs" / "part000.png")), [cv2.IMWRITE_JPEG_QUALITY, 95])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.add_references([again])
    # Said at once:
    assert window.errors[-1].startswith("part000-again.jpg looks like another shot of the part in part000.png.")
    assert "shots of one part" not in window.references_page.summary.text()  # the bank is built at the next inspection
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "parts", [95]))
    window.refresh_references()
    assert ("These references look like shots of one part: part000.png and part000-again.jpg."
            in window.references_page.summary.text())
    grid = window.references_page.grid
    marked = {grid.item(i).text().split("\n")[0]: grid.item(i).toolTip() for i in range(grid.count())
              if "⚠ same part" in grid.item(i).text()}
    assert list(marked) == ["part000-again.jpg"] and "shot of the part in part000.png" in marked["part000-again.jpg"]
    assert "rough estimate" not in window.references_page.summary.text()  # 5 references of 4 parts
    with window.workspace.database.read() as session:
        second = next(r.id for r in repo.references(session, repo.get_project(session, project))
                      if r.file_name == "part001.png")
    window.toggle_reference(second, False)  # the bank is a step behind now, its twin group still counts
    assert "With 4 references of 3 different parts the threshold is a rough estimate" in \
        window.references_page.summary.text()


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


def test_references_can_be_collected_from_the_clipboard_and_the_camera(qtbot, window, tmp_path, monkeypatch):
    import numpy as np
    from PySide6.QtWidgets import QApplication

    import desktop.jobs
    from desktop.images import to_qimage
    from engine.imageio import load_rgb8
    from engine.synthetic import synthetic_part
    from services.camera import CameraChoice, CameraFrame

    window.new_project("station part")
    page = window.references_page
    frame = synthetic_part(5)
    QApplication.clipboard().setImage(to_qimage(frame))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        qtbot.mouseClick(page.paste_button, Qt.MouseButton.LeftButton)
    chosen: list[CameraChoice] = []

    def grab(camera: CameraChoice) -> CameraFrame:
        chosen.append(camera)
        return CameraFrame(np.ascontiguousarray(frame[::-1]), frames_read=9, settled=True)  # another view

    monkeypatch.setattr(desktop.jobs, "grab_frame", grab)
    window.settings.camera = "1"  # the USB camera beside the station's own
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        qtbot.mouseClick(page.camera_button, Qt.MouseButton.LeftButton)
    assert chosen == [CameraChoice(1)]
    with window.workspace.database.read() as session:
        references = repo.references(session, repo.get_project(session, "station part"))
        stored = [(r.file_name, load_rgb8(window.workspace.store.path(r.image_key))) for r in references]
    assert [name.split("-")[0] for name, _ in stored] == ["clipboard", "camera"]
    assert all(name.endswith(".png") for name, _ in stored) and page.grid.count() == 2
    assert np.array_equal(stored[0][1], frame) and np.array_equal(stored[1][1], frame[::-1])  # stored losslessly
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        qtbot.mouseClick(page.paste_button, Qt.MouseButton.LeftButton)  # the same image again: not a second one
    assert page.grid.count() == 2
    QApplication.clipboard().clear()
    qtbot.mouseClick(page.paste_button, Qt.MouseButton.LeftButton)
    assert window.errors[-1] == "The clipboard holds no image."


def test_a_large_reference_set_shows_the_scores_of_the_references_it_held_out_and_the_banks_local_time(
        qtbot, window, tmp_path, monkeypatch):
    import engine.detector
    from services.local_time import local_text

    monkeypatch.setattr(engine.detector, "MAX_HELD_OUT", 2)  # as with 17 references or more, in small
    window.new_project("disc")
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.add_references(write_parts(tmp_path / "refs", range(4)))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.build_bank()
    import time

    monkeypatch.setenv("TZ", "XST-12")  # a workstation twelve hours ahead of UTC
    time.tzset()
    try:
        window.refresh_references()
        entries = sorted(window.references_page.entries.values(), key=lambda e: e.file_name)
        assert [e.loo_score is not None for e in entries] == [True, False, False, True]
        with window.workspace.database.read() as session:
            built = repo.latest_bank(session, repo.get_project(session, "disc")).created_at
        shown = local_text(built, seconds=False)
        assert f"built {shown}" in window.references_page.summary.text() and shown != f"{built:%Y-%m-%d %H:%M}"
    finally:
        monkeypatch.undo()
        time.tzset()

