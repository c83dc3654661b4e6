"""Command-line options that several subcommands share."""

from __future__ import annotations

import argparse
from collections.abc import Callable


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


def count_at_most(maximum: int, why: str) -> Callable[[str], int]:
    """argparse type: a whole number from 0 to ``maximum``; ``why`` explains the bound."""

    def parse(text: str) -> int:
        value = non_negative_int(text)
        if value > maximum:
            raise argparse.ArgumentTypeError(f"{value} is more than {maximum:,} ({why})")
        return value

    return parse


def seconds(text: str) -> float:
    """argparse type: a time in seconds, 0 or more (0 usually meaning "no limit")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 86400 * 7:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 604800 seconds")
    return value
