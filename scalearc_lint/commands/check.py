"""``scalearc-lint check``: lint one or more snapshots and write the requested reports."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from typing import Any

from scalearc_lint.audit.baseline import comparison_text, exit_code_new
from scalearc_lint.commands.options import add_rules_dir_option
from scalearc_lint.commands.review import Linted, add_baseline_options, lint_check
from scalearc_lint.commands.run import RunInputs, identification_gaps, load_inputs
from scalearc_lint.engine.results import ResultsDocument, exit_code
from scalearc_lint.engine.rule import Severity
from scalearc_lint.errors import InputError
from scalearc_lint.io.outputs import write_atomic
from scalearc_lint.reports import FORMATS, ReportFormat
from scalearc_lint.reports.console import render_console
from scalearc_lint.snapshot.inventory import Inventory

FAIL_ON_CHOICES = ("error", "warning", "info", "never")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that lints (check, whatif)."""
    parser.add_argument("--config", metavar="FILE", help="YAML config: appliance selection, rules")
    add_rules_dir_option(parser)
    parser.add_argument(
        "--as-of",
        metavar="TIME",
        help="judge ages at this ISO 8601 time or 'now' (default: the snapshot's exported_at)",
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default="error",
        help="exit 1 when a failure has this severity or higher (default: error). No built-in "
        "rule has severity info: it matters only for a severity set in --config or a plugin rule",
    )
    for report in FORMATS:
        parser.add_argument(
            f"--{report.option}", metavar="FILE", help=f"write {report.help} ('-' for stdout)"
        )
    parser.add_argument(
        "--waivers", metavar="FILE", help="YAML waivers: rule, object, reason, owner, expires"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary table")


def requested_reports(args: argparse.Namespace) -> list[tuple[ReportFormat, str]]:
    """The reports asked for, with their targets; at most one may go to stdout ('-')."""
    requested = [(r, getattr(args, r.option)) for r in FORMATS if getattr(args, r.option)]
    to_stdout = [f"--{r.option}" for r, target in requested if target == "-"]
    if len(to_stdout) > 1:
        raise InputError(f"only one report can go to stdout, not {' and '.join(to_stdout)}")
    files = [target for _, target in requested if target != "-"]
    for target in files:
        if files.count(target) > 1:
            raise InputError(f"{target}: named for more than one report")
    return requested


def write_reports(
    requested: list[tuple[ReportFormat, str]], document: ResultsDocument, invs: list[Inventory]
) -> None:
    """Render every report first (a failing renderer writes nothing), then write each."""
    rendered = [(target, report.render(document, invs)) for report, target in requested]
    for target, data in rendered:
        if target == "-":
            sys.stdout.buffer.write(data)
        else:
            write_atomic(target, data)


def fail_on(value: str) -> Severity | None:
    """``--fail-on`` as a severity threshold (``None`` for never)."""
    return None if value == "never" else Severity(value)


def register(subparsers: Any) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="lint snapshot files",
        description="Lint one or more snapshots (one per vCenter) and report the results.",
    )
    parser.add_argument("snapshots", nargs="+", metavar="SNAPSHOT", help="snapshot JSON file(s)")
    add_run_options(parser)
    add_baseline_options(parser)
    parser.set_defaults(func=run_check)


def run_check(
    args: argparse.Namespace,
    lint: Callable[[RunInputs, argparse.Namespace], Linted] = lint_check,
) -> int:
    """Run ``check`` (``whatif`` passes its own ``lint``; the outputs are the same)."""
    requested = requested_reports(args)
    # The snapshots live until the process exits and hold no reference cycles. Load them
    # with the cyclic collector off, then move them out of its sight: otherwise each
    # collection while loading, linting and reporting walks their millions of objects again.
    gc.disable()
    try:
        inputs = load_inputs(
            args.snapshots, config_path=args.config, rules_dirs=args.rules_dir, as_of=args.as_of
        )
        gc.freeze()
    finally:
        gc.enable()
    for warning in identification_gaps(inputs):
        print(f"scalearc-lint: warning: {warning}", file=sys.stderr)
    document, judged = lint(inputs, args)
    write_reports(requested, document, judged)
    if all(target != "-" for _, target in requested):
        render_console(document, sys.stdout, judged, quiet=args.quiet)
        sys.stdout.write(comparison_text(document))
    if args.fail_on_new:
        return exit_code_new(document.results, fail_on(args.fail_on))
    return exit_code(document.results, fail_on(args.fail_on))
