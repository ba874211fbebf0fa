"""Inspecting one part in the window: verdict, overlay, regions, sensitivity, measuring, drops, camera."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from PySide6.QtCore import QPointF

from db import repository as repo
from desktop.batch_page import COLUMNS
from engine.synthetic import Defect
from tests.gui.helpers import SIDE, WAIT, drop_on, history_count, history_read, projects_counted, write_parts


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
    # The project's entry counts the new part (read in the background); its thumbnail stays.
    assert "1 inspected" in projects_counted(qtbot, window.projects_panel).list.item(0).text()
    assert not window.projects_panel.list.item(0).icon().isNull()
    window.tabs.setCurrentWidget(window.history_page)
    assert history_read(qtbot, window.history_model).rowCount() == 1

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


def test_a_grey_photo_of_the_colour_part_passes_and_says_it_was_compared_in_grey(qtbot, window, project, tmp_path):
    path = tmp_path / "mono.png"
    Image.open(write_parts(tmp_path / "colour", [611])[0]).convert("L").save(path)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([path])
    assert window.current.facts.verdict == "OK" and window.current.facts.compared_in_grey
    assert "Grey photo: compared with the colour references made grey" in window.result_view.score_label.text()
    assert "Unlike the references" not in window.result_view.score_label.text()


def test_a_photo_cut_to_another_shape_says_so_under_the_verdict(qtbot, window, project, tmp_path):
    path = tmp_path / "cut.png"
    Image.open(write_parts(tmp_path / "whole", [612])[0]).crop((0, 0, SIDE, SIDE // 2)).save(path)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths([path])
    assert window.current.facts.frame_aspects is not None
    assert "⚠ This photo's shape (width : height 2.00) is not the references' (1.00)" in \
        window.result_view.score_label.text()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "whole", [613]))
    assert "shape" not in window.result_view.score_label.text()


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
    assert notes["same/part610.png"] == ""


def test_naming_a_region_type_updates_the_stored_result(qtbot, window, project, tmp_path):
    bad = write_parts(tmp_path / "bad", [93], defects=(Defect("pit", 0.3, 0.3, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.label_region(1, "Pit")
    assert window.current.facts.regions[0].defect_type == "pit"
    assert window.result_view.table.item(0, 4).text() == "pit"


def test_on_a_1280x720_screen_the_region_table_keeps_its_positions_readable(qtbot, window, project, tmp_path):
    bad = write_parts(tmp_path / "bad", [94], defects=(Defect("pit", 0.7, 0.75, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    window.resize(1280, 720)  # a 1920x1080 laptop screen at 150 % scaling
    qtbot.waitUntil(lambda: window.width() <= 1280, timeout=5000)
    table = window.result_view.table
    qtbot.waitUntil(lambda: table.isVisible() and table.columnWidth(1) > 0, timeout=5000)
    metrics = table.fontMetrics()
    assert table.columnWidth(1) >= metrics.horizontalAdvance("bottom")  # "bottom right" wraps to two lines
    assert table.columnWidth(4) >= metrics.horizontalAdvance("unclassified")
    assert window.result_view.opacity.width() >= 50


def test_an_inspection_whose_stored_map_is_damaged_opens_with_its_regions_and_says_so(qtbot, window, project,
                                                                                        tmp_path):
    bad = write_parts(tmp_path / "bad", [95], defects=(Defect("pit", 0.3, 0.3, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    inspection_id = window.current.id
    workspace = window.workspace
    with workspace.database.read() as session:
        map_file = workspace.store.path(repo.get_inspection(session, inspection_id).map_key)
    map_file.write_bytes(b"")
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.open_inspection(inspection_id)
    view = window.result_view
    assert window.current.map_missing and view.badge.text() == "NG"
    assert view.overlay_item.pixmap().isNull() and view.table.rowCount() == len(window.current.facts.regions) >= 1
    assert "Stored heatmap missing or damaged" in view.score_label.text()


def test_the_photo_as_shown_is_copied_and_saved_with_its_heatmap_and_a_failed_save_leaves_nothing(
        qtbot, window, project, tmp_path):
    from PySide6.QtWidgets import QApplication

    view = window.result_view
    assert not view.copy_image()  # nothing shown yet
    window.save_shown_image(tmp_path / "nothing.png")
    assert window.errors[-1].startswith("Inspect or open a part first")
    bad = write_parts(tmp_path / "bad", [93], defects=(Defect("pit", 0.35, 0.35, 0.12),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    assert view.copy_image()
    copied = QApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (SIDE, SIDE)

    def pixels(image) -> np.ndarray:
        return np.array([[image.pixelColor(x, y).red() for x in range(0, SIDE, 4)] for y in range(0, SIDE, 4)])

    with_heatmap = pixels(view.rendered_image())
    view.show_overlay.setChecked(False)
    photo = pixels(view.rendered_image())
    view.show_overlay.setChecked(True)
    assert np.abs(with_heatmap.astype(int) - photo.astype(int)).mean() > 5  # the heatmap is in the copy
    assert np.abs(photo.astype(int) - np.asarray(Image.open(bad[0]))[::4, ::4, 0].astype(int)).mean() < 40

    target = tmp_path / "mail" / "part93.jpg"
    target.parent.mkdir()
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.save_shown_image(target)
    with Image.open(target) as saved:
        assert saved.format == "JPEG" and saved.size == (SIDE, SIDE)
    assert [p.name for p in target.parent.iterdir()] == ["part93.jpg"]
    with qtbot.waitSignal(window.job_failed, timeout=WAIT):
        window.save_shown_image(tmp_path / "no such folder" / "part93.png")
    assert "Could not write" in window.errors[-1] and not (tmp_path / "no such folder").exists()
