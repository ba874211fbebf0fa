"""Starting the desktop application: settings, the data folder, the main window."""

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
    from desktop.main_window import MainWindow
    from services.workspace import open_workspace

    try:
        workspace = open_workspace(settings.data_folder or None, settings.database_url or None,
                                   settings.operator or None)
    except StorageError as exc:
        QMessageBox.critical(None, "IAD Inspector", str(exc))
        return 2
    window = MainWindow(workspace, settings)
    window.show()
    code = app.exec()
    workspace.close()
    return int(code)
