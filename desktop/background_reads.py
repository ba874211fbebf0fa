"""Database reads on a thread of their own, so that a slow query never freezes the window.

A view asks with a generation number (it raises the number whenever what it shows changes) and
gets the answer, or the error's message, back by signal on the GUI thread with that number; an
answer whose generation is no longer the view's is one to drop.  Reads run one at a time, in the
order asked, on a thread that inspections on the worker never hold up; a new read drops those
still waiting to begin, whose answers would be dropped anyway, so that reads asked for after
every part of a fast line never pile up behind a slow one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Call(QRunnable):
    def __init__(self, reader: BackgroundReader, generation: int, read: Callable[[], object]) -> None:
        super().__init__()
        self.reader, self.generation, self.read = reader, generation, read

    def run(self) -> None:
        try:
            answer = self.read()
        except Exception as exc:  # noqa: BLE001 (any failure is reported on the GUI thread, none kills the thread)
            self._send("failed", str(exc))
        else:
            self._send("answered", answer)

    def _send(self, signal: str, payload: object) -> None:
        try:
            getattr(self.reader, signal).emit(self.generation, payload)
        except RuntimeError:  # the reader went with its window while this read ran on: nobody is asking
            pass


class BackgroundReader(QObject):
    """Runs ``read`` callables one at a time off the GUI thread.

    ``answered(generation, answer)`` or ``failed(generation, message)`` follows each, delivered to
    slots on the GUI thread.
    """

    answered = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self) -> None:
        super().__init__()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(1)  # answers come in the order asked

    def start(self, generation: int, read: Callable[[], object]) -> None:
        """Queue ``read`` in place of any read not yet begun; it must not touch widgets."""
        self._pool.clear()
        self._pool.start(_Call(self, generation, read))

    def wait(self, msecs: int = 10000) -> None:
        """Wait for the reads asked for; their answers arrive with the next events."""
        self._pool.waitForDone(msecs)

    def close(self, msecs: int = 10000) -> None:
        """Drop the reads not yet begun and wait for the one under way."""
        self._pool.clear()
        self._pool.waitForDone(msecs)
