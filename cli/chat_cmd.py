"""``main.py ask`` and ``main.py chat``: questions about a stored inspection."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import add_home_option, open_from_args, user_errors


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("grounded", "llm"), default="grounded",
                        help="grounded (default, deterministic) or llm (local language model, checked by the guard)")
    parser.add_argument("--model", type=Path, help="local HF model folder or .gguf file (default: embedded SmolLM2)")
    parser.add_argument("--adapter", type=Path, help="LoRA adapter folder (peft)")
    add_home_option(parser)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``ask`` and ``chat``."""
    ask = commands.add_parser("ask", help="ask one question about an inspection",
                              description="Answer one question about a stored inspection; the turn is saved.")
    ask.add_argument("inspection", type=int)
    ask.add_argument("question")
    _backend_options(ask)
    ask.set_defaults(handler=_ask)
    chat = commands.add_parser("chat", help="talk about an inspection (interactive)",
                               description="An interactive conversation about a stored inspection. "
                                           "Empty line or Ctrl-D ends it.")
    chat.add_argument("inspection", type=int)
    _backend_options(chat)
    chat.set_defaults(handler=_chat)


def _open_chat(args: argparse.Namespace) -> object:
    from services.chat import InspectionChat, llm_cache_dir, load_llm

    workspace = open_from_args(args)
    llm, unavailable = (load_llm(args.model, args.adapter, llm_cache_dir(workspace)) if args.backend == "llm"
                        else (None, None))
    if unavailable:
        print(f"warning: {unavailable}; answering from the facts only", file=sys.stderr)
    return InspectionChat(workspace, args.inspection, llm, unavailable)


def _print_answer(chat: object, question: str, stream: bool) -> None:
    """The answer on stdout (for scripts); a language model's words stream to stderr as they come.  In a
    terminal, an answer that is exactly what streamed is not printed a second time."""
    streamed: list[str] = []

    def on_token(text: str) -> None:
        streamed.append(text)
        print(text, end="", flush=True, file=sys.stderr)

    stream = stream and not chat.llm_unavailable  # type: ignore[attr-defined]
    answer = chat.ask(question, on_token if stream else None)  # type: ignore[attr-defined]
    if stream:
        print(file=sys.stderr)
    if not (streamed and "".join(streamed).strip() == answer.text.strip() and sys.stdout.isatty()
            and sys.stderr.isatty()):
        print(answer.text)
    detail = f"[{answer.backend}"
    if answer.first_token_s is not None:
        detail += f"; first token {answer.first_token_s:.2f} s, {answer.tokens_per_s:.1f} tokens/s"
    print(detail + "]", file=sys.stderr)


@user_errors
def _ask(args: argparse.Namespace) -> int:
    _print_answer(_open_chat(args), args.question, stream=args.backend == "llm")
    return 0


@user_errors
def _chat(args: argparse.Namespace) -> int:
    chat = _open_chat(args)
    facts = chat.facts  # type: ignore[attr-defined]
    print(f"Inspection {args.inspection}: {facts.verdict}, score {facts.score:.2f}. Ask away (empty line ends).")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            break
        if not question:
            break
        _print_answer(chat, question, stream=args.backend == "llm")
    return 0
