"""The long-lived inference worker: one QThread owns the models and the history writes; jobs queue to it.

A job is a callable taking a ``JobContext``: the detector and the inspector (created on the
worker thread on first use), ``progress(done, total)``, ``emit(item)`` for results that arrive
one by one (a batch), and ``cancelled()``.  Results, items and errors go back as signals carrying
plain Python objects; the worker never touches a widget.  Cancellation is checked between steps.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot


@dataclass
class JobContext:
    """What a job gets on the worker thread."""

    detector: Any
    inspector: Any
    llm_cache: dict[str, Any]
    progress: Callable[[int, int], None]
    emit: Callable[[object], None]
    cancelled: Callable[[], bool]


Job = Callable[[JobContext], Any]


class InferenceWorker(QObject):
    """Runs jobs one at a time on its own thread."""

    started = Signal(str)
    progress = Signal(str, int, int)
    item = Signal(str, object)
    finished = Signal(str, object)
    failed = Signal(str, str)
    cancelled = Signal(str)
    _submit = Signal(str, object)

    def __init__(self, workspace: Any = None, device: str = "auto") -> None:
        super().__init__()
        self._workspace = workspace
        self._device = device
        self._thread = QThread()
        self._thread.setObjectName("inference-worker")
        self.moveToThread(self._thread)
        self._submit.connect(self._run)
        self._cancel = threading.Event()
        self._detector: Any = None
        self._inspector: Any = None
        self._llm_cache: dict[str, Any] = {}
        self._pending = 0
        self._lock = threading.Lock()
        self._thread.start()

    @property
    def busy(self) -> bool:
        """Whether a job is queued or running."""
        with self._lock:
            return self._pending > 0

    def submit(self, job_id: str, job: Job) -> None:
        """Queue ``job``; its return value arrives in ``finished``."""
        with self._lock:
            self._pending += 1
        self._submit.emit(job_id, job)

    def cancel(self) -> None:
        """Ask the running job to stop at its next check (thread-safe; call it directly, not by signal)."""
        self._cancel.set()

    def shutdown(self, wait_ms: int = 10000) -> None:
        """Cancel, stop the thread and wait for it."""
        self.cancel()
        self._thread.quit()
        self._thread.wait(wait_ms)

    def _context(self, job_id: str) -> JobContext:
        if self._detector is None:
            from engine.detector import Detector
            from engine.runtime import configure_torch

            configure_torch()
            self._detector = Detector(self._device)
        if self._inspector is None and self._workspace is not None:
            from services.inspection import Inspector

            self._inspector = Inspector(self._workspace, detector=self._detector)
        return JobContext(self._detector, self._inspector, self._llm_cache,
                          lambda done, total: self.progress.emit(job_id, done, total),
                          lambda obj: self.item.emit(job_id, obj), self._cancel.is_set)

    @Slot(str, object)
    def _run(self, job_id: str, job: Job) -> None:
        from engine.detector import Cancelled

        self._cancel.clear()  # a cancel stops the job that was running when it was asked for, not later ones
        self.started.emit(job_id)
        try:
            result = job(self._context(job_id))
        except Cancelled:
            self.cancelled.emit(job_id)
        except Exception as exc:  # every failure must reach the user as a message
            detail = str(exc) or exc.__class__.__name__
            self.failed.emit(job_id, detail + "\n\n" + traceback.format_exc(limit=3))
        else:
            if self._cancel.is_set():
                self.cancelled.emit(job_id)
            else:
                self.finished.emit(job_id, result)
        finally:
            with self._lock:
                self._pending -= 1
