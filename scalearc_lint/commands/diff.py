"""``scalearc-lint diff OLD.json NEW.json``: compare two ``--json`` results files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scalearc_lint.audit.baseline import compare, comparison_text, exit_code_new, load_results
from scalearc_lint.commands.check import FAIL_ON_CHOICES, fail_on
from scalearc_lint.engine.results import encode_document
from scalearc_lint.io.outputs import (
    check_outputs,
    goes_to_stdout,
    silence_stdout,
    stdout_failed,
    write_outputs,
)
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
    outputs = [(f"--{option}", getattr(args, option)) for option in ("json", "html")]
    outputs = [(option, target) for option, target in outputs if target]
    check_outputs(outputs, [("results file", args.old), ("results file", args.new)])
    old, new = load_results(args.old), load_results(args.new)
    document = compare(new, old, source=args.old)
    rendered = []
    if args.json:
        rendered.append((args.json, encode_document(document)))
    if args.html:
        rendered.append((args.html, render_diff(document)))
    write_outputs(rendered)
    code = exit_code_new(document.results, fail_on(args.fail_on))
    to_stdout = any(goes_to_stdout(target) for _, target in outputs)
    if not to_stdout and sys.stdout is not None:
        try:
            sys.stdout.write(comparison_text(document))
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()
        except OSError as exc:
            raise stdout_failed(exc) from None
    return code
