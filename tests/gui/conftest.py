"""GUI fixtures: QSettings in a temp dir, a fresh data folder, a project with references, and a guard
against cross-thread widget use."""

from __future__ import annotations

import pytest

THREAD_WARNINGS = ("different thread", "another thread", "not safe to use pixmaps outside the gui thread",
                   "cannot create children", "timers cannot be", "qbasictimer")


@pytest.fixture
def qt_messages():
    """Every Qt warning during the test; cross-thread ones fail it at teardown."""
    from PySide6.QtCore import qInstallMessageHandler

    messages: list[str] = []
    import os
    import traceback

    def handler(_kind, _context, text):
        messages.append(text)
        if os.environ.get("IAD_DEBUG_QT"):
            print("QT:", text, "".join(traceback.format_stack(limit=8)))

    previous = qInstallMessageHandler(handler)
    yield messages
    qInstallMessageHandler(previous)
    bad = [m for m in messages if any(w in m.lower() for w in THREAD_WARNINGS)]
    assert not bad, "Qt reported cross-thread use:\n" + "\n".join(bad)


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """QSettings read and written under tmp_path only."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setenv("IAD_INSPECTOR_OPERATOR", "gui-tester")
    return tmp_path / "settings"


@pytest.fixture
def window(qtbot, tmp_path, isolated_settings, qt_messages):
    """The real main window on a new data folder."""
    from desktop.main_window import MainWindow
    from desktop.settings import AppSettings
    from services.workspace import open_workspace

    workspace = open_workspace(tmp_path / "home")
    win = MainWindow(workspace, AppSettings(device="cpu"))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    workspace.close()


@pytest.fixture
def project(qtbot, window, tmp_path):
    """A project with four references added through the window."""
    from tests.gui.helpers import WAIT, write_parts

    window.new_project("disc")
    assert window.project_name == "disc"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.add_references(write_parts(tmp_path / "refs", range(4)))
    assert window.references_page.grid.count() == 4
    assert "rough estimate" not in window.references_page.summary.text()
    qtbot.waitUntil(lambda: not window.projects_panel.list.item(0).icon().isNull(), timeout=10_000)
    return "disc"
