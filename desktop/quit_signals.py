"""Ending the app the way its close button does when a terminal or the system asks it to.

Python runs its signal handlers only between bytecodes, and Qt's event loop runs in C++: a
Ctrl+C in the terminal that started the app did nothing, and a SIGTERM (logout, shutdown, a
service manager, ``kill``) or a SIGHUP (the terminal closed) ended it on the spot, without
stopping the folder watch and the worker or releasing the data folder's lock.  Here each of
these signals writes its number to a socket pair (``signal.set_wakeup_fd``) that a
``QSocketNotifier`` watches: the event loop wakes at once, no timer polls, and ``requested``
is emitted in the GUI thread.  After the first request Ctrl+C gets its default action back, so
a second one ends an app whose shutdown hangs; a SIGTERM that comes twice (to the process, and
passed on by ``bootstrap.py``) does not.
"""

from __future__ import annotations

import signal
import socket
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier, Signal

QUIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
                     if hasattr(signal, name))


def _noted(number: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing to do, the wake-up byte carries the signal to Qt."""


class QuitOnSignals(QObject):
    """Turns ``QUIT_SIGNALS`` into the ``requested`` Qt signal; install in the main thread."""

    requested = Signal(int)  # the signal's number

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {number: signal.signal(number, _noted) for number in QUIT_SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self.poll)
        self.received: int | None = None  # the first signal's number, once one came

    def poll(self) -> int | None:
        """Take in a signal that came and emit ``requested`` for the first one; the first signal's
        number, or None.  The event loop calls it when one comes; call it before the loop runs (a
        signal during start-up) to know at once."""
        try:
            numbers = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return self.received
        quits = [number for number in numbers if number in QUIT_SIGNALS]  # any other handled signal wakes it too
        if quits and self.received is None:
            self.received = quits[0]
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl+C ends the app at once
            self.requested.emit(self.received)
        return self.received

    def uninstall(self) -> None:
        """Give the signals their handlers from before and close the socket pair."""
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for number, handler in self._previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        self._reader.close()
        self._writer.close()
