"""Shared helpers of the GUI tests: synthetic parts at the GUI tests' size, history counts, drops."""

from __future__ import annotations

import warnings

from PySide6.QtCore import QPoint, Qt

from db import repository as repo
from tests.helpers import write_parts as write_parts_at

WAIT = 120_000  # ms: a job on the worker, with a loaded CI machine's margin
SIDE = 160  # px: small synthetic parts keep the GUI tests quick


def write_parts(folder, seeds, defects=()):
    """Synthetic parts of ``SIDE`` px written as PNG files (``tests.helpers.write_parts``)."""
    return write_parts_at(folder, seeds, defects, side=SIDE)


def history_count(window) -> int:
    """Inspections stored in the window's history, over all projects."""
    with window.workspace.database.read() as session:
        return repo.history_count(session, repo.HistoryFilter())


def history_read(qtbot, model):
    """``model`` (the history table) once its reads in the background are in."""
    qtbot.waitUntil(lambda: not model.loading, timeout=WAIT)
    return model


def projects_counted(qtbot, panel):
    """``panel`` (the projects list) once its background read of the inspection counts is in."""
    qtbot.waitUntil(lambda: not panel.activity_loading, timeout=WAIT)
    return panel


def hold(monkeypatch, module, name):
    """Make ``module.name`` wait, on whatever thread calls it, until the returned ``release`` event is
    set (a slow query of a long history); ``reading`` is set once a call has begun."""
    import threading

    reading, release = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held(*args, **kwargs):
        reading.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return reading, release, real


def history_sources(window) -> list[str]:
    """The source paths of the inspections in the window's history, over all projects."""
    with window.workspace.database.read() as session:
        return [row.source_path for row in repo.history(session, repo.HistoryFilter(), limit=None)]


def drop_on(widget, paths) -> None:
    """Deliver a file-manager drop of ``paths`` to ``widget``, as Qt would after the drag was accepted."""
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    with warnings.catch_warnings():  # PySide marks this, the only QDragEnterEvent constructor, deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    widget.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))
