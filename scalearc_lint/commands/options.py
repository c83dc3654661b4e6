"""Command-line options that several subcommands share."""

from __future__ import annotations

import argparse


def add_rules_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--rules-dir DIR`` (repeatable): where to find rules beyond the built-ins and plugins."""
    parser.add_argument(
        "--rules-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="extra directory of rule modules (repeatable)",
    )


def non_negative_int(text: str) -> int:
    """argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value
