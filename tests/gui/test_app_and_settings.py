"""Starting the app, its settings and dialogs, and the screenshot command."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QTimer


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


def test_the_camera_chosen_in_the_settings_dialog_is_kept(qtbot, isolated_settings):
    """A station whose own camera is 0 grabs from the USB camera beside it, at its highest resolution."""
    from desktop.settings import AppSettings, SettingsDialog
    from services.camera import CameraChoice

    assert AppSettings().camera_choice() == CameraChoice(0, highest_resolution=False)
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.camera.setValue(1)
    dialog.camera_resolution.setCurrentIndex(1)
    dialog.values().save()
    assert AppSettings.load().camera_choice() == CameraChoice(1, highest_resolution=True)
    assert AppSettings(camera="edited by hand").camera_choice() == CameraChoice(0)


def test_export_dialog_keeps_the_extension_with_the_format_and_stays_open_until_it_can_export(qtbot, monkeypatch):
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QMessageBox

    from desktop.export_dialog import ExportDialog

    warnings_shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings_shown.append(text))
    dialog = ExportDialog([3, 5], current=5, lot="L-7")
    qtbot.addWidget(dialog)
    assert not dialog.lot.isEnabled()  # dates and lot choose a project report's parts only
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
    assert (request.scope, request.fmt, request.out, request.lot) == ("project", "csv", "/reports/week47.csv", "L-7")
    assert dialog.lot.isEnabled()
    assert request.since.date().isoformat() == "2026-11-20" and request.until.date().isoformat() == "2026-11-21"
    dialog.scope.setCurrentIndex(dialog.scope.findData("selection"))
    assert dialog.request().inspection_ids == [3, 5] and dialog.request().since is None
    assert dialog.request().lot is None


def test_a_damaged_history_at_start_is_named_kept_and_another_data_folder_can_be_chosen(qapp, tmp_path,
                                                                                          isolated_settings,
                                                                                          monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from desktop.app import run_app
    from desktop.settings import AppSettings

    monkeypatch.delenv("IAD_INSPECTOR_HOME", raising=False)
    monkeypatch.delenv("IAD_INSPECTOR_DATABASE_URL", raising=False)
    damaged = tmp_path / "station-data"
    damaged.mkdir()
    (damaged / "inspector.db").write_bytes(b"not a database, a disk error" * 100)
    AppSettings(data_folder=str(damaged)).save()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, text, *buttons: (
        shown.append(text), QMessageBox.StandardButton.Open)[1])
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: shown.append(text))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(tmp_path / "fresh"))
    assert run_app([]) == 2
    assert "the database file is damaged (file is not a database)" in shown[0] and "backup" in shown[0]
    assert shown[1].startswith(f"IAD Inspector will use the data folder {tmp_path / 'fresh'}")
    assert AppSettings.load().data_folder == str(tmp_path / "fresh")
    assert (damaged / "inspector.db").read_bytes() == b"not a database, a disk error" * 100  # kept for recovery


@pytest.mark.quits_app
def test_run_app_opens_the_data_folder_and_shows_the_window(qapp, tmp_path, isolated_settings, monkeypatch):
    from PySide6.QtWidgets import QApplication

    import desktop.app
    from desktop.app import run_app
    from desktop.main_window import MainWindow

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    seen, splashes = [], []

    def close_soon():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen.extend(windows)
        for window in windows:
            window.close()
        QApplication.quit()

    def recorded_splash():
        splashes.append(starting_splash())
        assert splashes[0].isVisible() and splashes[0].message() == desktop.app.STARTING_TEXT
        return splashes[0]

    starting_splash = desktop.app.starting_splash
    monkeypatch.setattr(desktop.app, "starting_splash", recorded_splash)
    timer = QTimer()  # again and again: a quit that comes before the app's event loop runs is lost
    timer.timeout.connect(close_soon)
    timer.start(300)
    assert run_app([]) == 0
    timer.stop()
    assert seen and seen[0].demo_banner.isVisibleTo(seen[0])
    assert len(splashes) == 1 and not splashes[0].isVisible()  # shown while the engine loaded, gone with the window
    assert (tmp_path / "home" / "inspector.db").is_file()
    from desktop.single_instance import SingleInstance

    again = SingleInstance(tmp_path / "home")  # the first app ended: its lock and socket are free again
    assert again.acquire()
    again.release()


@pytest.mark.quits_app
def test_ctrl_c_in_the_terminal_closes_the_app_as_its_close_button_does(qapp, tmp_path, isolated_settings,
                                                                        monkeypatch, capfd):
    import signal
    import time

    from PySide6.QtWidgets import QApplication

    import desktop.app
    from desktop.app import run_app
    from desktop.main_window import MainWindow
    from desktop.single_instance import SingleInstance

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(desktop.app, "starting_splash", lambda: desktop.app.QSplashScreen())
    handler_before = signal.getsignal(signal.SIGINT)
    closed, signalled, forced = [], [], []

    def interrupt_once_shown():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and not signalled:
            signalled.append(time.monotonic())
            original = windows[0].closeEvent
            windows[0].closeEvent = lambda event: (closed.append(True), original(event))
            signal.raise_signal(signal.SIGINT)  # once: a second one ends the process, as a second Ctrl+C should
        elif windows and time.monotonic() - signalled[0] > 20:  # the signal was lost: end the test, failed
            forced.append(True)
            windows[0].close()
            QApplication.quit()

    timer = QTimer()
    timer.timeout.connect(interrupt_once_shown)
    timer.start(300)
    assert run_app([]) == 0
    timer.stop()
    assert signalled and not forced and closed == [True]  # the window's own close: watch and worker stopped
    assert "closing on SIGINT" in capfd.readouterr().err
    assert signal.getsignal(signal.SIGINT) is handler_before
    again = SingleInstance(tmp_path / "home")  # the data folder is free for the next start
    assert again.acquire()
    again.release()


def test_a_sigterm_while_the_engine_loads_ends_the_start_up_without_showing_the_window(
        qapp, tmp_path, isolated_settings, monkeypatch, capfd):
    import signal

    import desktop.app
    from desktop.app import run_app
    from desktop.main_window import MainWindow
    from desktop.single_instance import SingleInstance

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    shown, closed = [], []
    monkeypatch.setattr(MainWindow, "show", lambda self: shown.append(self))
    original_close = MainWindow.closeEvent
    monkeypatch.setattr(MainWindow, "closeEvent",
                        lambda self, event: (closed.append(self), original_close(self, event)))
    handler_before = signal.getsignal(signal.SIGTERM)

    def splash_then_stopped():
        splash = desktop.app.QSplashScreen()
        signal.raise_signal(signal.SIGTERM)  # the system asks the app to end while it is still starting
        return splash

    monkeypatch.setattr(desktop.app, "starting_splash", splash_then_stopped)
    assert run_app([]) == 0  # no exec: returns without waiting for a window nobody will close
    assert not shown and len(closed) == 1  # closed the usual way, its worker and watch stopped
    assert "closing on SIGTERM" in capfd.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is handler_before
    again = SingleInstance(tmp_path / "home")
    assert again.acquire()
    again.release()


def test_a_quit_signal_reaches_the_event_loop_once_and_the_handlers_come_back(qtbot):
    import signal

    from desktop.quit_signals import QuitOnSignals

    before = signal.getsignal(signal.SIGTERM)
    quit_signals = QuitOnSignals()
    try:
        assert signal.getsignal(signal.SIGTERM) is not before
        with qtbot.waitSignal(quit_signals.requested, timeout=3000) as blocker:
            signal.raise_signal(signal.SIGTERM)  # would end the test process without the handler
        assert blocker.args == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL  # a second one ends a shutdown that hangs
    finally:
        quit_signals.uninstall()
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_second_start_on_the_same_data_folder_brings_the_first_to_the_front(qapp, qtbot, tmp_path,
                                                                               isolated_settings, monkeypatch):
    import desktop.app
    from desktop.app import run_app
    from desktop.single_instance import SingleInstance

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    running = SingleInstance(tmp_path / "home")
    assert running.acquire()
    try:
        monkeypatch.setattr(desktop.app, "starting_splash", lambda: pytest.fail("a second start shows no splash"))
        with qtbot.waitSignal(running.woken, timeout=5000):
            assert run_app([]) == 0  # returns at once: no second window, no database opened
        assert not (tmp_path / "home" / "inspector.db").exists()
        other_folder = SingleInstance(tmp_path / "other home")  # another data folder is another app
        assert other_folder.acquire()
        other_folder.release()
    finally:
        running.release()


def test_the_lock_of_an_app_that_crashed_does_not_stop_the_next_start(tmp_path):
    import subprocess
    import sys

    from desktop.single_instance import SingleInstance

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path;"
         "from desktop.single_instance import SingleInstance;"
         f"held = SingleInstance(Path({str(tmp_path)!r})); assert held.acquire(); print('held', flush=True);"
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not SingleInstance(tmp_path).acquire()  # alive: held, however long it has run
    finally:
        holder.kill()  # a crash: no unlock, the lock file stays
        holder.wait()
    after_crash = SingleInstance(tmp_path)
    assert after_crash.acquire()
    after_crash.release()


def test_bring_to_front_restores_a_minimised_window(window):
    from PySide6.QtCore import Qt

    window.setWindowState(Qt.WindowState.WindowMinimized | Qt.WindowState.WindowMaximized)
    window.bring_to_front()
    assert window.windowState() == Qt.WindowState.WindowMaximized  # restored as it was, not shrunk
    assert window.statusBar().currentMessage().startswith("IAD Inspector was started again")
