"""Offscreen screenshots of the main views with the demo project inspected (``main.py screenshot``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

VIEWS = ("inspect", "references", "batch", "history")


def _wait(window: object, signal_name: str = "job_finished", timeout_ms: int = 180_000) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    getattr(window, signal_name).connect(loop.quit)
    window.job_failed.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def take_screenshots(out: Path, size: tuple[int, int] = (1440, 900)) -> list[Path]:
    """Render the demo flow's views to PNG files in ``out``; returns the files written."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from db.paths import folder_database_url
    from desktop.main_window import MainWindow
    from desktop.settings import AppSettings
    from services.demo import demo_parts_folder
    from services.workspace import open_workspace

    out.mkdir(parents=True, exist_ok=True)
    _app = QApplication.instance() or QApplication(["iad-inspector-screenshots"])  # kept alive until the end
    with tempfile.TemporaryDirectory(prefix="iad-screens-") as home:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, home)
        data = Path(home) / "data"  # explicit: IAD_INSPECTOR_HOME must not send the demo to the user's data
        workspace = open_workspace(data, folder_database_url(data), operator="demo", explicit=True)
        window = MainWindow(workspace, AppSettings(device="cpu"))
        window.resize(*size)
        window.show()
        written = [_grab(window, out / "00-first-start.png")]
        window.create_demo()
        _wait(window)
        for question in ("Is there any anomaly?", "Where is it?", "How big is the second one?"):
            window.chat._send(question)
            _wait(window)
        window.result_view.select_region(1)
        written.append(_grab(window, out / "01-inspect.png"))
        _show_page(window, window.references_page)
        written.append(_grab(window, out / "02-references.png"))
        window.start_batch([demo_parts_folder(workspace) / "inspect"])
        _wait(window)
        written.append(_grab(window, out / "03-batch.png"))
        _show_page(window, window.history_page)
        written.append(_grab(window, out / "04-history.png"))
        window.close()
        workspace.close()
    return written


def _show_page(window: object, page: object) -> None:
    """Switch to a tab and let its rows, the project counts and thumbnails arrive."""
    from PySide6.QtWidgets import QApplication

    window.tabs.setCurrentWidget(page)  # type: ignore[attr-defined]
    QApplication.processEvents()
    window.history_model.wait()  # type: ignore[attr-defined]
    window.projects_panel.wait_activity()  # type: ignore[attr-defined]
    QApplication.processEvents()
    window.thumbnails.pool.waitForDone(5000)  # type: ignore[attr-defined]
    QApplication.processEvents()


def _grab(window: object, path: Path) -> Path:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    if not window.grab().save(str(path)):  # type: ignore[attr-defined]
        raise OSError(f"cannot write {path}")
    return path
