"""A dialog whose OK first checks what was filled in."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QMessageBox


class CheckedDialog(QDialog):
    """OK closes the dialog only when ``problem()`` finds nothing; otherwise it says why and stays open."""

    def problem(self) -> str | None:
        """Why the dialog cannot be accepted as filled in (None when it can)."""
        return None

    def accept(self) -> None:
        """Accept, or show the problem under the dialog's own title and keep it open."""
        problem = self.problem()
        if problem is not None:
            QMessageBox.warning(self, self.windowTitle(), problem)
            return
        super().accept()
