"""``main.py screenshot --out DIR``: the main views rendered offscreen with the demo project."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``screenshot`` command."""
    parser = commands.add_parser("screenshot", help="render the main views to PNG files (offscreen)",
                                 description="Create the demo project in a temporary data folder, inspect it and "
                                             "save PNG screenshots of the main views.")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the screenshots and list them."""
    from desktop.screenshots import take_screenshots

    for path in take_screenshots(args.out):
        print(path)
    return 0
