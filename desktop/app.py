"""Application start-up: QApplication, torch threads, the main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from desktop.main_window import MainWindow


def run_app(argv: list[str] | None = None) -> int:
    """Start the Qt event loop with the main window; returns the exit code."""
    from engine.runtime import configure_torch

    configure_torch()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("IAD Inspector")
    app.setOrganizationName("IAD Inspector")
    window = MainWindow()
    window.show()
    return app.exec()
