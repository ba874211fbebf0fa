"""``main.py label INSPECTION_ID REGION TYPE``: name a region's defect type for the project."""

from __future__ import annotations

import argparse

from cli.common import add_home_option, open_from_args, user_errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``label`` command."""
    parser = commands.add_parser(
        "label", help="name the defect type of a region",
        description="Name a region's defect type once; later regions of the project that resemble it get that "
                    "type (nearest labelled example), others stay 'unknown'.")
    parser.add_argument("inspection", type=int)
    parser.add_argument("region", type=int, help="region number (1 = the main defect)")
    parser.add_argument("type", help="defect type, e.g. scratch")
    add_home_option(parser)
    parser.set_defaults(handler=run)


@user_errors
def run(args: argparse.Namespace) -> int:
    """Store the label."""
    from services.labels import label_region

    label = label_region(open_from_args(args), args.inspection, args.region, args.type)
    print(f"Region {args.region} of inspection {args.inspection} is now '{label}'.")
    return 0
