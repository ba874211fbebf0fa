"""One app per data folder: a second start brings the running window to the front instead.

Technicians double-click again when the window is slow to come up.  Two apps on one data folder
would each resume the same folder watch, inspect every new image twice and race to sort it, and
migrate the database at the same moment.  The first app holds a lock file (``QLockFile``: one a
crashed app left behind is taken over, since the process that wrote it is gone) and listens on a
local socket named after the folder; a second app finds the lock held, asks the first one through
the socket to show its window, and ends.  The lock lives in the temporary folder, not the data
folder, so that a data folder on a share does not lock out another workstation.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

WAKE = b"show\n"
CONNECT_MS = 1000
LOCK_WAIT_MS = 100


def instance_key(data_folder: Path) -> str:
    """A name for the data folder that fits a file name and a local socket name."""
    text = str(data_folder.expanduser().resolve()).casefold()
    return "iad-inspector-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class SingleInstance(QObject):
    """The lock and the wake-up channel of the app running on one data folder."""

    woken = Signal()  # a second start asked this app to show its window

    def __init__(self, data_folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = instance_key(data_folder)
        self._lock = QLockFile(str(Path(QDir.tempPath()) / f"{self.key}.lock"))
        self._lock.setStaleLockTime(0)  # held for hours: only a dead owner makes it stale, never its age
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True when this is the only app on the data folder (it then listens for wake-ups); False
        when another one holds it.  A lock that cannot be written at all (another user's, a
        read-only temporary folder) does not stop the app: it starts unguarded."""
        if not self._lock.tryLock(LOCK_WAIT_MS):
            if self._lock.error() == QLockFile.LockError.LockFailedError:
                return False
            return True
        QLocalServer.removeServer(self.key)  # a socket file a crashed app left behind (Unix)
        self._server = QLocalServer()  # not a child: deleted later, never under a signal of its own
        self._server.newConnection.connect(self._on_connection)
        self._server.listen(self.key)  # not listening only costs the wake-up, not the guard
        return True

    def wake_running(self) -> bool:
        """Ask the app holding the data folder to show its window; False when it did not answer
        (it is still starting, or hangs)."""
        socket = QLocalSocket()
        socket.connectToServer(self.key)
        if not socket.waitForConnected(CONNECT_MS):
            return False
        socket.write(WAKE)
        sent = socket.waitForBytesWritten(CONNECT_MS)
        socket.disconnectFromServer()
        return sent

    def release(self) -> None:
        """Stop listening and free the data folder for the next start."""
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()  # with any connection not read yet, once no signal of theirs runs
            self._server = None
        self._lock.unlock()

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._on_message(s))
            if socket.bytesAvailable():
                self._on_message(socket)

    def _on_message(self, socket: QLocalSocket) -> None:
        if socket.bytesAvailable() < len(WAKE):
            return  # the rest is still on its way
        message = bytes(socket.readAll().data())
        socket.readyRead.disconnect()
        socket.abort()
        socket.deleteLater()
        if message.startswith(WAKE):
            self.woken.emit()
