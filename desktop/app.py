"""Starting the desktop application: settings, the data folder (one app on it), the main window."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QSplashScreen, QWidget

from desktop.settings import APPLICATION, ORGANISATION, AppSettings

if TYPE_CHECKING:
    from desktop.quit_signals import QuitOnSignals
    from desktop.single_instance import SingleInstance

STARTING_TEXT = "IAD Inspector\n\nStarting: loading the inspection engine…"


def run_app(argv: list[str] | None = None) -> int:
    """Run the GUI until its window closes; returns the exit code."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    settings = AppSettings.load()
    from db.paths import data_home
    from desktop.single_instance import SingleInstance

    home = data_home(settings.data_folder or None)
    instance = SingleInstance(home)
    if not instance.acquire():  # decided before the engine loads, so that a second start ends at once
        if not instance.wake_running():
            QMessageBox.information(None, "IAD Inspector", f"IAD Inspector is already running, or still starting, "
                                    f"on the data folder {home}. Use its window.")
        return 0
    from desktop.quit_signals import QuitOnSignals

    quit_signals = QuitOnSignals()  # a Ctrl+C or SIGTERM while the engine loads ends the start-up after it
    try:
        return _open_window(app, settings, instance, quit_signals)
    finally:
        quit_signals.uninstall()
        instance.release()


def _open_window(app: QApplication, settings: AppSettings, instance: SingleInstance,
                 quit_signals: QuitOnSignals) -> int:
    """Load the engine and the data folder behind a splash, then run the window until it closes."""
    splash = starting_splash()
    from db.errors import StorageError
    from desktop.main_window import MainWindow
    from services.workspace import open_workspace

    try:
        workspace = open_workspace(settings.data_folder or None, settings.database_url or None,
                                   settings.operator or None)
    except StorageError as exc:
        splash.close()
        offer_another_data_folder(settings, str(exc))
        return 2
    try:
        window = MainWindow(workspace, settings)
        if quit_signals.poll() is not None:  # asked to end while it started: the window is never shown
            splash.close()
            close_on_signal(app, window, quit_signals.received)
            return 0
        instance.woken.connect(window.bring_to_front)
        quit_signals.requested.connect(lambda number: close_on_signal(app, window, number))
        window.show()
        splash.finish(window)
        return int(app.exec())
    finally:
        workspace.close()


def offer_another_data_folder(settings: AppSettings, problem: str) -> None:
    """Say why the data folder could not be opened (a damaged or locked history, a folder that is not
    writable) and, where the setting decides the folder, let the technician choose another one for the
    next start: the Settings dialog, where it is chosen otherwise, is out of reach without a window."""
    from db.paths import DATABASE_VARIABLE, HOME_VARIABLE

    if os.environ.get(HOME_VARIABLE) or os.environ.get(DATABASE_VARIABLE) or settings.database_url:
        QMessageBox.critical(None, "IAD Inspector", problem)
        return
    answer = QMessageBox.critical(None, "IAD Inspector", f"{problem}\n\nOpen another data folder from the next start?",
                                  QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Close)
    if answer != QMessageBox.StandardButton.Open:
        return
    folder = QFileDialog.getExistingDirectory(None, "Data folder for IAD Inspector")
    if not folder:
        return
    replace(settings, data_folder=folder).save()
    QMessageBox.information(None, "IAD Inspector", f"IAD Inspector will use the data folder {folder} from now on "
                            "(Settings changes it back). Start it again.")


def close_on_signal(app: QApplication, window: QWidget, number: int) -> None:
    """Close the window as its close button does (watch and worker stopped), then end every
    event loop, a dialog's included, so that the data folder is released."""
    print(f"IAD Inspector: closing on {signal.Signals(number).name}", file=sys.stderr, flush=True)
    window.close()
    app.quit()


def starting_splash() -> QSplashScreen:
    """A window at once while the engine loads (5-6 s on a 2-core CPU, longer from a cold disk):
    with nothing on screen, people start the app again."""
    pixmap = QPixmap(460, 150)
    pixmap.fill(QColor("#24313f"))
    splash = QSplashScreen(pixmap)
    splash.showMessage(STARTING_TEXT, Qt.AlignmentFlag.AlignCenter, QColor("white"))
    splash.show()
    QApplication.processEvents()
    return splash
