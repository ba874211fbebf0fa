"""The chat panel: turns stored with the result, and the local language model answering on the worker."""

from __future__ import annotations

import pytest

from engine.explain import parse_claims
from engine.synthetic import Defect
from tests.gui.helpers import WAIT, write_parts


def test_chat_turns_are_stored_and_shown_again(qtbot, window, project, tmp_path):
    bad = write_parts(tmp_path / "bad", [92], defects=(Defect("pit", 0.3, 0.3, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    inspection_id = window.current.id
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.chat._send("Where is it?")
    assert "top left" in window.chat.transcript.toPlainText()
    assert "[grounded]" in window.chat.transcript.toPlainText()
    window.chat.set_inspection(None, [])
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.open_inspection(inspection_id)
    shown = window.chat.transcript.toPlainText()
    assert "Where is it?" in shown and "top left" in shown


@pytest.mark.slow
def test_the_local_language_model_answers_on_the_worker_streams_and_is_cached(qtbot, window, project, tmp_path,
                                                                               monkeypatch):
    bad = write_parts(tmp_path / "bad", [93], defects=(Defect("pit", 0.3, 0.3, 0.1),))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT):
        window.inspect_paths(bad)
    streamed: list[str] = []
    answers: list[tuple[str, str]] = []
    shown_stream, shown_answer = window.chat.stream, window.chat.answered
    monkeypatch.setattr(window.chat, "stream", lambda text: (streamed.append(text), shown_stream(text)))
    monkeypatch.setattr(window.chat, "answered",
                        lambda text, backend: (answers.append((text, backend)), shown_answer(text, backend)))
    with qtbot.waitSignal(window.job_finished, timeout=WAIT, check_params_cb=lambda job_id: job_id.startswith("warm")):
        window.chat.backend.setCurrentText("Local LLM (checked)")  # loads the model in the background
    assert list((tmp_path / "home" / "cache" / "llm").glob("SmolLM2*/model.safetensors")), "the weights were cached"
    with qtbot.waitSignal(window.job_finished, timeout=WAIT, check_params_cb=lambda job_id: job_id.startswith("chat")):
        window.chat._send("Where is the anomaly?")
    (text, backend), = answers
    assert backend.startswith(("llm:SmolLM2", "grounded")), backend  # the guard may have replaced the answer
    assert (0, 0) in parse_claims(text).cells, text  # the pit is at the top left
    assert "".join(streamed).strip(), "no tokens were streamed to the panel"
    assert text in window.chat.transcript.toPlainText()
