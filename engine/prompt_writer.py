"""IAD-GPT's Abnormal Prompt Generator on the local language model: part-specific prompts for CLIP.

The model is asked, for the project's part and each defect type of the curated library, to
describe in one sentence what that defect looks like on that part, and what a flawless part looks
like (two phrasings each, greedy decoding).  A small model drifts, so every answer is checked
before it is kept:

* only its first sentence counts, stripped of list numbers, quotes and markup;
* it has ``MIN_WORDS`` to ``MAX_WORDS`` words (CLIP reads at most 77 tokens);
* it names the part (a word of its name, see ``part_words``);
* a defect prompt names its own type (one of the type's keywords), no other type, and nothing
  that a part without defect is called ("flawless", "perfect"); a normal prompt names such a
  word and no defect type;
* its quotes are balanced (a small model opens quotes it never closes);
* it is not already in the library.

Kept prompts extend the curated ones, never replace them; a type the model wrote nothing usable
for keeps its curated prompts only.  The engine stays free of storage: the service layer caches
the result per project.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.detector import CancelCheck, Cancelled, ProgressCallback
from engine.prompts import PromptLibrary

MIN_WORDS, MAX_WORDS = 4, 30
# Of the phrasings tried with SmolLM2-135M, these gave visual descriptions most often; asking
# "as a quality inspector sees it" gave praise ("a testament to craftsmanship").
DEFECT_QUESTIONS = (
    "In one short sentence, describe what a {kind} looks like on a {object} in a close-up photo.",
    "In one short sentence, describe how a {kind} shows on the surface of a {object}.",
)
NORMAL_QUESTIONS = (
    "In one short sentence, describe what a flawless {object} looks like in a close-up photo.",
    "In one short sentence, describe the surface of a flawless {object}.",
)
MAX_NEW_TOKENS = 48
_SENTENCE_END = re.compile(r"(?<=[.!?])\s|(?<=[.!?][\"'”’*])\s|(?<=[.!?]\*\*)\s|\n")
_LEADING_MARKS = re.compile(r"^[\s\-*•#>\"'“”‘’`]*(?:\d+[.)]\s*)?[\s\"'“”‘’`*]*")
_TRAILING_MARKS = re.compile(r"[\s\"'“”‘’`*]+$")

Ask = Callable[[str], str]


@dataclass
class WrittenPrompts:
    """The prompts a language model wrote for one part: kept ones per type, and how many were refused."""

    object_name: str
    model: str
    normal: list[str] = field(default_factory=list)
    defects: dict[str, list[str]] = field(default_factory=dict)
    refused: int = 0

    def all_prompts(self) -> list[str]:
        """Every kept prompt: the normal ones, then each type's."""
        return self.normal + [p for prompts in self.defects.values() for p in prompts]

    @property
    def kept(self) -> int:
        """How many prompts were kept, normal ones included."""
        return len(self.all_prompts())

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the project's settings."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WrittenPrompts:
        """Read back what ``to_dict`` wrote."""
        return cls(str(data["object_name"]), str(data["model"]), [str(p) for p in data.get("normal", [])],
                   {str(k): [str(p) for p in v] for k, v in data.get("defects", {}).items()},
                   int(data.get("refused", 0)))


def first_sentence(answer: str) -> str:
    """The answer's first sentence without list numbers, quotes or markdown around it."""
    for piece in _SENTENCE_END.split(answer.strip()):
        text = _TRAILING_MARKS.sub("", _LEADING_MARKS.sub("", piece)).strip()
        if text:
            return text
    return ""


def _names(text: str, stems: list[str]) -> bool:
    """Whether ``text`` has a word starting with one of ``stems`` (case-insensitive)."""
    return any(re.search(r"\b" + re.escape(stem.lower()), text.lower()) for stem in stems)


def part_words(object_name: str) -> list[str]:
    """The words of a part's name that an answer may name it by: those of three letters or more
    ("Bottle line 3": bottle, line), else the whole name ("A12-3")."""
    words = [w for w in re.findall(r"[^\W\d_]+", object_name) if len(w) >= 3]
    return words or [object_name.strip()]


def usable_prompt(answer: str, object_name: str, library: PromptLibrary, kind: str | None) -> str | None:
    """The prompt in ``answer`` when it passes the module's checks for type ``kind`` (None: normal), else None."""
    text = first_sentence(answer)
    words = text.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or (text.count('"') + text.count("“") + text.count("”")) % 2:
        return None
    if not _names(text, part_words(object_name)):
        return None
    named = {k for k, stems in library.keywords.items() if _names(text, stems)}
    if named != ({kind} if kind is not None else set()):
        return None
    return text if _names(text, library.normal_keywords) == (kind is None) else None


def llm_asker(llm: Any) -> Ask:
    """``ask`` for ``write_prompts`` from a loaded ``LocalLLM``: each question one user turn, greedy."""
    def ask(question: str) -> str:
        return llm.generate([{"role": "user", "content": question}], max_new_tokens=MAX_NEW_TOKENS,
                            prompt_lookup_tokens=0).text

    return ask


def write_prompts(ask: Ask, object_name: str, library: PromptLibrary, model: str,
                  progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> WrittenPrompts:
    """Ask the model for prompts for every type of ``library`` and for the normal part; the kept ones.

    ``ask`` sends one question and returns the model's answer.  ``progress(done, total)`` follows
    the questions; ``cancel()`` is checked between them and, when true, raises ``Cancelled``.
    """
    jobs: list[tuple[str | None, str]] = [(None, q.format(object=object_name)) for q in NORMAL_QUESTIONS]
    jobs += [(kind, q.format(object=object_name, kind=kind)) for kind in library.defects for q in DEFECT_QUESTIONS]
    known = {p.lower() for p in library.normal} | {p.lower() for v in library.defects.values() for p in v}
    written = WrittenPrompts(object_name, model)
    for done, (kind, question) in enumerate(jobs):
        if cancel is not None and cancel():
            raise Cancelled()
        prompt = usable_prompt(ask(question), object_name, library, kind)
        if prompt is None or prompt.lower() in known:
            written.refused += 1
        else:
            known.add(prompt.lower())
            (written.normal if kind is None else written.defects.setdefault(kind, [])).append(prompt)
        if progress is not None:
            progress(done + 1, len(jobs))
    return written


def extended_library(library: PromptLibrary, written: WrittenPrompts | None) -> PromptLibrary:
    """The curated ``library`` plus the written prompts of its types (others are ignored)."""
    if written is None:
        return library
    defects = {kind: prompts + written.defects.get(kind, []) for kind, prompts in library.defects.items()}
    return PromptLibrary(library.normal + written.normal, defects, library.keywords, library.normal_keywords)
