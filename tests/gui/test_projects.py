"""The projects panel: the first-start demo, rename and archive, export and import, CLIP projects."""

from __future__ import annotations

from PySide6.QtCore import Qt

from db import repository as repo
from tests.gui.helpers import WAIT, history_count, history_read, hold, projects_counted, write_parts


def test_first_start_offers_a_demo_that_shows_the_whole_flow(qtbot, window):
    assert window.demo_banner.isVisibleTo(window)
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.demo_button.click()
    assert window.project_name.startswith("Demo")
    assert window.result_view.badge.text() == "NG"
    assert not window.demo_banner.isVisibleTo(window)
    assert history_count(window) == 5


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
    assert panel.list.currentItem().toolTip() == "washer M8\nzinc-plated, 8 mm"  # the name too: a narrow panel cuts it
    assert panel.rename_project("washer M8, zinc-plated, for the gearbox housing of line 3")
    window.resize(1100, 700)
    qtbot.waitUntil(lambda: panel.list.width() < 260, timeout=2000)
    assert not panel.list.horizontalScrollBar().isVisible()  # cut at the right, not scrolled sideways
    assert panel.rename_project("washer M8")

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


def test_a_project_exported_from_its_panel_comes_back_under_a_new_name(qtbot, window, project, tmp_path,
                                                                       monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    panel = window.projects_panel
    assert panel.export_button.isEnabled()
    window.new_project("Valve/Cover 3")  # the suggested file must not sit in a folder "Valve"
    offered: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda _parent, _title, name, *_: offered.append(name) or ("", ""))
    panel.export_button.click()
    assert offered == ["Valve_Cover 3.iadproject"]
    panel.refresh(select="disc")
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
    assert names == {"disc", "disc line 2", "Valve/Cover 3"}
    assert window.references_page.grid.count() == 4
    assert "Imported project 'disc line 2' (4 active references" in window.statusBar().currentMessage()


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


def test_project_counts_are_read_in_the_background_and_a_part_inspected_reselects_nothing(
        qtbot, window, project, tmp_path, monkeypatch):
    panel = projects_counted(qtbot, window.projects_panel)
    assert "4 refs · 0 inspected\nlast never" in panel.list.currentItem().text()
    announced = []
    panel.selected.connect(announced.append)
    reading, release, _real = hold(monkeypatch, repo, "project_activity")  # a count over a long history
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(write_parts(tmp_path / "parts", [760]))
    qtbot.waitUntil(reading.is_set, timeout=5000)
    # The window runs on while the count is read; the entry keeps the figures read before.
    assert panel.activity_loading and "0 inspected" in panel.list.currentItem().text()
    assert history_read(qtbot, window.history_model).rowCount() == 1  # the history did not wait for the count
    release.set()
    text = projects_counted(qtbot, panel).list.currentItem().text()
    assert "4 refs · 1 inspected" in text and "last never" not in text
    # The project shown stays selected: a part does not make the window read the project again.
    assert announced == [] and window.project_name == "disc"

    def locked_activity(session, project_id):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(repo, "project_activity", locked_activity)
    panel.refresh_activity()
    projects_counted(qtbot, panel)
    assert window.errors[-1] == "The projects' inspection counts could not be read: database is locked"
    assert "1 inspected" in panel.list.currentItem().text()  # the figures read before stay
