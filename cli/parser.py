"""The command-line parser: ``main.py`` with no command starts the GUI."""

from __future__ import annotations

import argparse

from cli import (
    bench_cmd,
    bench_drift_cmd,
    bench_history_cmd,
    chat_cmd,
    db_cmd,
    eval_chat_cmd,
    eval_prompts_cmd,
    history_cmd,
    inspect_cmd,
    label_cmd,
    project_cmd,
    references_cmd,
    report_cmd,
    screenshot_cmd,
    watch_cmd,
)
from cli.common import program_name


def build_parser() -> argparse.ArgumentParser:
    """Top-level parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="IAD Inspector: few-shot visual inspection. Without a command, starts the app.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = commands.add_parser("gui", help="start the desktop app (the default)",
                              description="Start the desktop application.")
    gui.set_defaults(handler=_run_gui)
    modules = (project_cmd, references_cmd, inspect_cmd, watch_cmd, history_cmd, report_cmd, label_cmd, chat_cmd,
               db_cmd, bench_cmd, bench_drift_cmd, bench_history_cmd, eval_chat_cmd, eval_prompts_cmd, screenshot_cmd)
    for module in modules:
        module.add_parser(commands)
    return parser


def _run_gui(args: argparse.Namespace) -> int:
    from desktop.app import run_app

    return run_app()


def run_cli(argv: list[str]) -> int:
    """Parse ``argv`` and run the chosen command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", _run_gui)
    return int(handler(args) or 0)
