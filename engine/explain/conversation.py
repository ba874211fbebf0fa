"""A multi-turn conversation about one inspection, answered by the grounded responder or an LLM.

Each question is parsed for its intent(s) and the region(s) it means (``dialogue``); the grounded
responder (``grounded``) always writes the answer from the facts, one answer after the other for a
question that asks two things.  With an LLM backend the model
rephrases that answer with the fact sheet as context, its text streams to the caller, and the
guard (``guard``) checks it: on any conflict the grounded answer is used instead, the conflict
is logged, and ``Answer.backend`` says so.  An answer that leaves out what the question asked
(no position to "where", no size to "how big") is treated the same way, except that a left-out
yes/no or count is put back: the grounded sentence that states it goes in front of the model's
answer, which is checked again (``Answer.completed``; the backend then says "completed from the
facts").
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from engine.explain import grounded
from engine.explain.claims import TYPE_PATTERN
from engine.explain.dialogue import asked_side, asks_physical_units, compared_pair, detect_intents, resolve_focus
from engine.explain.guard import SENTENCE_END, completed, conflicts, omissions, sentences
from engine.explain.llm import LocalLLM, TokenCallback
from engine.facts import FactSheet

log = logging.getLogger(__name__)
# A "thanks" needs no language model: its fixed reply cannot be rephrased into anything better.
GROUNDED_ONLY = ("courtesy",)
FOLLOW_UP = re.compile(r"^\W*(?:and|what about|how about|same for|and what about)\b|^\W*(?:\w+\W*){1,4}$", re.I)
# A short question led by a verb asks something new ("are they connected?"), not the last thing again.
NEW_QUESTION = re.compile(r"^\W*(?:is|are|was|were|does|do|did|can|could|has|have|will|would|should)\s+\S+\s+\S+",
                          re.I)
GROUNDED = "grounded"
HISTORY_TURNS = 6
SYSTEM_PROMPT = ("You are the assistant of an industrial visual inspection station. Answer the technician in one "
                 "or two short sentences, using only the measured facts below. Never add positions, sizes, "
                 "counts or defect types that are not in the facts.\n\nMeasured facts:\n")


@dataclass
class Turn:
    """One message of the conversation."""

    role: str
    text: str
    backend: str = ""


@dataclass
class Answer:
    """An answer with how it was made."""

    text: str
    backend: str
    intent: str | None  # the first intent asked; ``intents`` has them all
    focus: list[int] | None
    intents: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # what the model left out and the facts put back
    llm_text: str | None = None
    first_token_s: float | None = None
    tokens_per_s: float | None = None


def facts_context(facts: FactSheet) -> str:
    """The fact sheet as compact text for a language model's system prompt."""
    lines = [grounded.answer("summary", None, facts), grounded.answer("confidence", None, facts)]
    if facts.regions:
        lines.append(grounded.answer("size", None, facts))
        lines.append(grounded.answer("why", None, facts))
    lines.append(f"The part is {facts.part_colour}.")
    return "\n".join(lines)


def complete_sentences(text: str) -> str:
    """``text`` up to its last finished sentence: an answer cut off at the token limit may end in
    half a number ("y 166 to 20" for "to 207"), which no check could tell from a real one."""
    ends = list(SENTENCE_END.finditer(text))
    return text[:ends[-1].end()].strip() if ends else ""


class Conversation:
    """Questions and answers about one fact sheet, keeping the region in focus between turns."""

    def __init__(self, facts: FactSheet, llm: LocalLLM | None = None, turns: list[Turn] | None = None) -> None:
        self.facts = facts
        self.llm = llm
        self.turns: list[Turn] = []
        self.focus: list[int] | None = None
        self.last_intent: str | None = None
        for turn in turns or []:
            if turn.role == "user":
                self._understand(turn.text)
            self.turns.append(turn)

    def _understand(self, question: str) -> tuple[list[str], list[int] | None]:
        intents = detect_intents(question)
        focus = resolve_focus(question, self.facts, self.focus)
        if not intents and focus is not None and FOLLOW_UP.search(question) and not NEW_QUESTION.search(question):
            intents = [self.last_intent or "describe"]
        if intents == ["type"] and self.facts.regions and TYPE_PATTERN.search(question):
            intents = ["existence", "type"]  # "is it cracked?" asks first whether there is a defect at all
        elif intents == ["existence"] and self.facts.regions and TYPE_PATTERN.search(question):
            intents = ["existence", "type"]  # "is there dust?": whether there is a defect, then whether it is dust
        if focus is not None and all(1 <= index <= self.facts.region_count for index in focus):
            self.focus = focus  # a region that does not exist is answered as such, never kept as "it"
        self.last_intent = intents[-1] if intents else self.last_intent
        return intents, focus

    def _draft(self, intents: list[str], focus: list[int] | None) -> str:
        """The grounded answer to each intent in turn, without repeating a sentence an earlier one said."""
        if not intents:
            return grounded.answer(None, focus, self.facts)
        said: list[str] = []
        for intent in intents:
            said += [s for s in sentences(grounded.answer(intent, focus, self.facts)) if s not in said]
        return " ".join(said)

    def ask(self, question: str, on_token: TokenCallback | None = None) -> Answer:
        """Answer ``question`` in the context of the earlier turns."""
        intents, focus = self._understand(question)
        pair = compared_pair(question, self.facts, focus) if "size" in intents else None
        if pair is not None:  # both regions' sizes, after which is the bigger one
            draft = f"{grounded.comparison(self.facts, *pair)} {self._draft(intents, list(pair[:2]))}"
        else:
            draft = self._draft(intents, focus)
        side = asked_side(question)
        if side is not None and focus and grounded.lone_region_elsewhere(self.facts, side):
            draft = f"{grounded.only_region(self.facts)} {draft}"
        if "size" in intents and asks_physical_units(question) and self.facts.mm_per_pixel is None:
            draft = f"{grounded.no_physical_scale(self.facts)} {draft}"
        answer = Answer(text=draft, backend=GROUNDED, intent=intents[0] if intents else None, focus=focus,
                        intents=intents)
        grounded_only = bool(intents) and all(intent in GROUNDED_ONLY for intent in intents)
        if self.llm is not None and not grounded_only:
            answer = self._ask_llm(question, draft, answer, on_token)
        elif on_token is not None:
            on_token(draft)
        self.turns.append(Turn("user", question))
        self.turns.append(Turn("assistant", answer.text, answer.backend))
        return answer

    def _ask_llm(self, question: str, draft: str, answer: Answer, on_token: TokenCallback | None) -> Answer:
        messages = [{"role": "system", "content": SYSTEM_PROMPT + facts_context(self.facts)}]
        for turn in self.turns[-HISTORY_TURNS:]:
            messages.append({"role": turn.role, "content": turn.text})
        messages.append({"role": "user", "content": f"{question}\n(Correct answer to rephrase: {draft})"})
        generation = self.llm.generate(messages, on_token, max_new_tokens=self.llm.token_budget(draft))
        text = complete_sentences(generation.text) if generation.truncated else generation.text
        def problems(candidate: str) -> list[str]:
            return conflicts(candidate, self.facts) + omissions(candidate, draft, answer.intents, self.facts)

        found = problems(text)
        answer.llm_text = generation.text
        answer.first_token_s, answer.tokens_per_s = generation.first_token_s, generation.tokens_per_s
        fuller = completed(text, draft, found) if text else None
        if fuller is not None and not problems(fuller):
            answer.completed, found, text = found, [], fuller
        if found or not text:
            answer.conflicts = found or ["empty answer" if not generation.truncated else "cut off at the token limit"]
            answer.backend = f"{GROUNDED} (the {self.llm.name} answer conflicted with the facts)"
            log.warning("LLM answer replaced by the grounded one: %s | %r", "; ".join(answer.conflicts),
                        generation.text)
        else:
            answer.text = text
            answer.backend = f"llm:{self.llm.name}" + (" (completed from the facts)" if answer.completed else "")
        return answer
