"""Conversations about stored inspections: the facts and earlier turns come from the history.

Nothing is measured again: the stored fact sheet is what the inspection measured (read at
another sensitivity when asked, as every view re-labels), and every new turn is stored with the
backend that wrote it.
"""

from __future__ import annotations

from pathlib import Path

from db import repository as repo
from db.models import ReferenceBank
from engine.errors import ModelFileError
from engine.explain import Answer, Conversation, Turn
from engine.explain.llm import LocalLLM, TokenCallback
from engine.facts import FactSheet, facts_at
from services.results import bank_calibration
from services.workspace import Workspace


def llm_cache_dir(workspace: Workspace) -> Path:
    """Where the data folder keeps the embedded model's de-quantised weights (``LocalLLM``)."""
    return workspace.home / "cache" / "llm"


def load_llm(model_path: str | Path | None = None, adapter_path: str | Path | None = None,
             cache_dir: Path | None = None) -> tuple[LocalLLM | None, str | None]:
    """The local language model, loaded; or (None, why) when it cannot be used (grounded answers then).

    ``cache_dir``: see ``llm_cache_dir``; a GGUF model then loads in about a second after its first load.
    """
    try:
        llm = LocalLLM(model_path, adapter_path, cache_dir=cache_dir)
        llm.load()
    except ModelFileError as exc:
        return None, str(exc)
    return llm, None


class InspectionChat:
    """A conversation bound to one stored inspection.

    ``llm_unavailable`` is the reason a requested language model could not be used; the
    grounded responder answers instead and every answer says so.
    """

    def __init__(self, workspace: Workspace, inspection_id: int, llm: LocalLLM | None = None,
                 llm_unavailable: str | None = None, sensitivity: float | None = None) -> None:
        self.workspace = workspace
        self.inspection_id = inspection_id
        self.llm_unavailable = llm_unavailable
        with workspace.database.read() as session:
            row = repo.get_inspection(session, inspection_id)
            facts = FactSheet.from_dict(row.facts)
            stored = facts
            if sensitivity is not None:  # answer about what the GUI shows at its sensitivity setting
                bank = session.get(ReferenceBank, row.bank_id) if row.bank_id else None
                facts = facts_at(facts, bank_calibration(bank), sensitivity)
            # Answers read at another sensitivity than the recorded verdict's say so in the history.
            self.read_at = facts.sensitivity if facts is not stored else None
            turns = [Turn(m.role, m.text, m.backend) for m in row.messages]
        self.conversation = Conversation(facts, llm=llm, turns=turns)

    @property
    def facts(self) -> FactSheet:
        """The stored fact sheet."""
        return self.conversation.facts

    def ask(self, question: str, on_token: TokenCallback | None = None) -> Answer:
        """Answer and store both turns."""
        answer = self.conversation.ask(question, on_token)
        if self.llm_unavailable:
            answer.backend = f"grounded (language model unavailable: {self.llm_unavailable})"
        if self.read_at is not None:
            answer.backend += f", at sensitivity {self.read_at:.2f}"
        with self.workspace.database.write() as session:
            repo.add_message(session, self.inspection_id, "user", question)
            repo.add_message(session, self.inspection_id, "assistant", answer.text, answer.backend)
        return answer
