"""The conversation panel: questions about the current inspection, answers streamed from the worker.

The panel only shows text and collects questions; answering (and storing each turn) is a worker
job, so a local language model never blocks the window.  Which backend answered is shown with
every answer.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

BACKENDS = {"Grounded (facts only)": "grounded", "Local LLM (checked)": "llm"}
SUGGESTIONS = ("Is there any anomaly?", "Where is it?", "How big is it?", "Why?", "Summarise for the report")
# What the first three suggestions' buttons say: short, so that the panel fits a narrow screen.
SUGGESTION_LABELS = ("Any anomaly?", "Where?", "How big?")


class ChatPanel(QWidget):
    """Multi-turn chat about one inspection."""

    ask = Signal(int, str, str)

    def __init__(self) -> None:
        super().__init__()
        self.inspection_id: int | None = None
        self.transcript = QTextBrowser()
        self.transcript.setOpenExternalLinks(False)
        self.question = QLineEdit()
        self.question.setPlaceholderText("Ask about this part, e.g. 'where is it?'")
        self.question.returnPressed.connect(self._send)
        self.send_button = QPushButton("Ask")
        self.send_button.clicked.connect(self._send)
        self.backend = QComboBox()
        self.backend.addItems(list(BACKENDS))
        self.status = QLabel("")
        self.status.setWordWrap(True)
        # The streamed answer must never widen the window: the label takes the width it is given.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._streaming = ""
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addWidget(self.send_button)
        suggestions = QHBoxLayout()
        for label, text in zip(SUGGESTION_LABELS, SUGGESTIONS, strict=False):
            button = QPushButton(label)
            button.setToolTip(f"Ask: {text}")
            button.setFlat(True)
            button.clicked.connect(lambda _=False, t=text: self._send(t))
            suggestions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Conversation</b>"))
        top.addStretch(1)
        top.addWidget(self.backend)
        layout.addLayout(top)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(suggestions)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.set_inspection(None, [])

    def set_inspection(self, inspection_id: int | None, messages: list[tuple[str, str, str]],
                       facts_summary: str = "") -> None:
        """Show the stored conversation of an inspection (or clear the panel)."""
        self.inspection_id = inspection_id
        self.transcript.clear()
        enabled = inspection_id is not None
        self.question.setEnabled(enabled)
        self.send_button.setEnabled(enabled)
        if facts_summary:
            self.transcript.append(f"<i>Facts: {html.escape(facts_summary)}</i>")
        for role, text, backend in messages:
            self._append(role, text, backend)

    def _send(self, text: str | None = None) -> None:
        question = (text or self.question.text()).strip()
        if not question or self.inspection_id is None:
            return
        self.question.clear()
        self._append("user", question, "")
        self._streaming = ""
        self.status.setText("Answering…")
        self.send_button.setEnabled(False)
        self.ask.emit(self.inspection_id, question, BACKENDS[self.backend.currentText()])

    def stream(self, text: str) -> None:
        """A piece of an answer being written."""
        self._streaming += text
        self.status.setText("Answering… " + self._streaming[-120:])

    def answered(self, text: str, backend: str) -> None:
        """The final answer (after the guard)."""
        self._append("assistant", text, backend)
        self.status.setText("")
        self.send_button.setEnabled(self.inspection_id is not None)

    def failed(self, message: str) -> None:
        """The answer could not be made."""
        self.status.setText(message)
        self.send_button.setEnabled(self.inspection_id is not None)

    def _append(self, role: str, text: str, backend: str) -> None:
        who = "You" if role == "user" else "Inspector"
        tag = f" <span style='color:#888'>[{html.escape(backend)}]</span>" if backend else ""
        self.transcript.append(f"<p><b>{who}:</b> {html.escape(text)}{tag}</p>")
