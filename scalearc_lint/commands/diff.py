"""``scalearc-lint diff OLD.json NEW.json``: compare two ``--json`` results files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scalearc_lint.audit.baseline import compare, comparison_text, exit_code_new, load_results
from scalearc_lint.commands.check import FAIL_ON_CHOICES, fail_on
from scalearc_lint.engine.results import encode_document
from scalearc_lint.io.outputs import write_atomic
from scalearc_lint.reports.html import render_diff


def register(subparsers: Any) -> None:
    """Add the ``diff`` subcommand."""
    parser = subparsers.add_parser(
        "diff",
        help="compare two results files",
        description=(
            "Mark each result of NEW as new, persisting or resolved against OLD (matched by "
            "vCenter, rule and VM instance UUID or pair id, so renames are not new). "
            "Exit 1 when NEW has new failures at/above --fail-on."
        ),
    )
    parser.add_argument("old", metavar="OLD.json", help="the earlier --json results")
    parser.add_argument("new", metavar="NEW.json", help="the later --json results")
    parser.add_argument("--json", metavar="FILE", help="write NEW, marked, as JSON ('-': stdout)")
    parser.add_argument("--html", metavar="FILE", help="write the comparison as HTML")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default="error",
        help="exit 1 when a new failure has this severity or higher (default: error). No "
        "built-in rule has severity info: it matters only for a severity set in --config or a "
        "plugin rule",
    )
    parser.set_defaults(func=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    """Compare, print, write."""
    old, new = load_results(args.old), load_results(args.new)
    document = compare(new, old, source=args.old)
    if args.json == "-":
        sys.stdout.buffer.write(encode_document(document))
    else:
        if args.json:
            write_atomic(args.json, encode_document(document))
        sys.stdout.write(comparison_text(document))
    if args.html:
        write_atomic(args.html, render_diff(document))
    return exit_code_new(document.results, fail_on(args.fail_on))
