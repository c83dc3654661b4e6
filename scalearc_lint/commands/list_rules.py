"""``scalearc-lint rules``: list every discovered rule."""

from __future__ import annotations

import argparse
from typing import Any

from scalearc_lint.engine import discover_rules


def register(subparsers: Any) -> None:
    """Add the ``rules`` subcommand."""
    parser = subparsers.add_parser(
        "rules", help="list the rules", description="List built-in and plugin rules."
    )
    parser.add_argument(
        "--rules-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="extra directory of rule modules (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show where each rule is from")
    parser.set_defaults(func=run_rules)


def run_rules(args: argparse.Namespace) -> int:
    """Print one line per rule."""
    for item in discover_rules(args.rules_dir):
        r = item.rule
        line = f"{r.id:8} {r.name:20} {r.severity.value:8} {r.scope:10} {r.title}"
        if args.verbose:
            line += f"  [{item.source}]"
        print(line)
    return 0
