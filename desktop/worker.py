"""The long-lived inference worker: one QThread owns the detector; jobs queue to it.

Results and errors go back as signals carrying plain Python objects; the worker never touches a
widget.  Cancellation is checked between steps.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot


class InferenceWorker(QObject):
    """Runs jobs (callables taking the detector) on its own thread, one at a time."""

    started = Signal(str)
    progress = Signal(str, int, int)
    finished = Signal(str, object)
    failed = Signal(str, str)
    cancelled = Signal(str)
    _submit = Signal(str, object)

    def __init__(self) -> None:
        super().__init__()
        self._thread = QThread()
        self._thread.setObjectName("inference-worker")
        self.moveToThread(self._thread)
        self._submit.connect(self._run)
        self._cancel = threading.Event()
        self._detector: Any = None
        self._thread.start()

    def submit(self, job_id: str, job: Callable[[Any, Callable[[int, int], None], Callable[[], bool]], Any]) -> None:
        """Queue ``job(detector, progress, cancelled)``; its return value arrives in ``finished``."""
        self._cancel.clear()
        self._submit.emit(job_id, job)

    def cancel(self) -> None:
        """Ask the running job to stop at its next check."""
        self._cancel.set()

    def shutdown(self, wait_ms: int = 5000) -> None:
        """Cancel, stop the thread and wait for it."""
        self.cancel()
        self._thread.quit()
        self._thread.wait(wait_ms)

    @Slot(str, object)
    def _run(self, job_id: str, job: Callable) -> None:
        from engine.detector import Cancelled

        self.started.emit(job_id)
        try:
            if self._detector is None:
                from engine.detector import Detector
                from engine.runtime import configure_torch

                configure_torch()
                self._detector = Detector("auto")
            result = job(self._detector, lambda done, total: self.progress.emit(job_id, done, total),
                         self._cancel.is_set)
        except Cancelled:
            self.cancelled.emit(job_id)
        except Exception as exc:  # every failure must reach the user as a message
            detail = str(exc) or exc.__class__.__name__
            self.failed.emit(job_id, detail + "\n\n" + traceback.format_exc(limit=3))
        else:
            self.finished.emit(job_id, result)
