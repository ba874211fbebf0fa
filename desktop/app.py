"""Starting the desktop application: settings, the data folder (one app on it), the main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.settings import APPLICATION, ORGANISATION, AppSettings


def run_app(argv: list[str] | None = None) -> int:
    """Run the GUI until its window closes; returns the exit code."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    settings = AppSettings.load()
    from db.errors import StorageError
    from db.paths import data_home
    from desktop.main_window import MainWindow
    from desktop.single_instance import SingleInstance
    from services.workspace import open_workspace

    home = data_home(settings.data_folder or None)
    instance = SingleInstance(home)
    if not instance.acquire():
        if not instance.wake_running():
            QMessageBox.information(None, "IAD Inspector", f"IAD Inspector is already running, or still starting, "
                                    f"on the data folder {home}. Use its window.")
        return 0
    try:
        workspace = open_workspace(settings.data_folder or None, settings.database_url or None,
                                   settings.operator or None)
    except StorageError as exc:
        instance.release()
        QMessageBox.critical(None, "IAD Inspector", str(exc))
        return 2
    window = MainWindow(workspace, settings)
    instance.woken.connect(window.bring_to_front)
    window.show()
    code = app.exec()
    workspace.close()
    instance.release()
    return int(code)
