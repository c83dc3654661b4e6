"""``scalearc-lint check``: lint one or more snapshots and write the requested reports."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from scalearc_lint.audit.baseline import comparison_text, exit_code_new
from scalearc_lint.change.fix import plan_estate
from scalearc_lint.commands.options import add_rules_dir_option, seconds
from scalearc_lint.commands.review import Linted, add_baseline_options, lint_check
from scalearc_lint.commands.run import RunInputs, identification_gaps, load_inputs
from scalearc_lint.engine.budget import DEFAULT_RULE_TIMEOUT
from scalearc_lint.engine.results import ResultsDocument, exit_code
from scalearc_lint.engine.rule import Severity
from scalearc_lint.errors import InputError
from scalearc_lint.io.outputs import (
    check_outputs,
    goes_to_stdout,
    silence_stdout,
    stdout_failed,
    stdout_kept_for_report,
    write_outputs,
)
from scalearc_lint.reports import FORMATS, ReportFormat
from scalearc_lint.reports.console import render_console
from scalearc_lint.reports.triage import StepSource, planned_steps, remediation_step
from scalearc_lint.snapshot.inventory import Inventory

FAIL_ON_CHOICES = ("error", "warning", "info", "never")
#: Warnings printed one by one; more are summed up in one line.
MAX_WARNINGS = 5


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
    parser.add_argument(
        "--rule-timeout",
        type=seconds,
        default=DEFAULT_RULE_TIMEOUT,
        metavar="SECONDS",
        help="time each rule may take on one snapshot, and the config's name_pattern on all "
        f"VM names; a rule out of time is 'crashed' (default {DEFAULT_RULE_TIMEOUT:g}; 0: none)",
    )


def requested_reports(args: argparse.Namespace) -> list[tuple[ReportFormat, str]]:
    """The reports asked for, with their targets, checked against the run's inputs."""
    requested = [(r, getattr(args, r.option)) for r in FORMATS if getattr(args, r.option)]
    check_outputs([(f"--{r.option}", target) for r, target in requested], run_input_files(args))
    return requested


def run_input_files(args: argparse.Namespace) -> list[tuple[str, str | Path]]:
    """Every file a linting run reads, named as messages name it (outputs must not be these)."""
    files: list[tuple[str, str | Path]] = [("snapshot", path) for path in args.snapshots]
    for option, what in (
        ("config", "config"),
        ("waivers", "waivers file"),
        ("baseline", "baseline"),
        ("plan", "plan"),
    ):
        if getattr(args, option, None):
            files.append((what, getattr(args, option)))
    for directory in args.rules_dir:
        if Path(directory).is_dir():
            files += [("rule module", path) for path in sorted(Path(directory).glob("*.py"))]
    return files


def write_reports(
    requested: list[tuple[ReportFormat, str]],
    document: ResultsDocument,
    invs: list[Inventory],
    stdout: BinaryIO | None = None,
    steps: StepSource = remediation_step,
) -> None:
    """Render every report first (a failing renderer writes nothing), then write them all."""
    rendered = [
        (target, report.render(document, invs, steps=steps)) for report, target in requested
    ]
    write_outputs(rendered, stdout=stdout)


def suggested_fix_steps(
    inputs: RunInputs, document: ResultsDocument, invs: Sequence[Inventory]
) -> StepSource:
    """Each failure's next step with the steps of the plan ``fix`` would write, worked out
    by the fix generators without living the plan (so labelled unproven)."""
    rules = {item.rule.id: item for item in inputs.rules}
    # The reports show each step, not the plan file's comments on what else it changes.
    plans = plan_estate(
        document.results, invs, rules=rules, config=inputs.config, describe_effects=False
    )
    return planned_steps([(plan, "") for plan in plans], proven=False)


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
    parser.set_defaults(func=run_check_command)


def run_check_command(args: argparse.Namespace) -> int:
    """``check``: its own usage rules, then the run every linting command shares."""
    if args.fail_on_new and not args.baseline:
        raise InputError(
            "--fail-on-new needs --baseline FILE: without a baseline every failure would count "
            "as new, or none would"
        )
    return run_check(args, suggest_fixes=True)


def run_check(
    args: argparse.Namespace,
    lint: Callable[[RunInputs, argparse.Namespace], Linted] = lint_check,
    *,
    suggest_fixes: bool = False,
) -> int:
    """Run ``check`` (``whatif`` passes its own ``lint``; the outputs are the same).

    With ``suggest_fixes`` (``check``, not ``whatif``, whose results are of a planned
    state), the reports that show fix steps get each failure's suggested steps.
    """
    requested = requested_reports(args)
    if any(goes_to_stdout(target) for _, target in requested):
        # Only the report may reach stdout: a plugin rule's print goes to stderr meanwhile.
        with stdout_kept_for_report() as report_stream:
            return _run(args, lint, requested, report_stream, suggest_fixes)
    return _run(args, lint, requested, None, suggest_fixes)


def _run(
    args: argparse.Namespace,
    lint: Callable[[RunInputs, argparse.Namespace], Linted],
    requested: list[tuple[ReportFormat, str]],
    report_stream: BinaryIO | None,
    suggest_fixes: bool,
) -> int:
    # The snapshots live until the process exits and hold no reference cycles. Load them
    # with the cyclic collector off, then move them out of its sight: otherwise each
    # collection while loading, linting and reporting walks their millions of objects again.
    gc.disable()
    try:
        inputs = load_inputs(
            args.snapshots,
            config_path=args.config,
            rules_dirs=args.rules_dir,
            as_of=args.as_of,
            rule_timeout=args.rule_timeout,
        )
        gc.freeze()
    finally:
        gc.enable()
    warnings = identification_gaps(inputs)
    for warning in warnings[:MAX_WARNINGS]:
        print(f"scalearc-lint: warning: {warning}", file=sys.stderr)
    if len(warnings) > MAX_WARNINGS:
        # Thousands of vCenters must not bury the results under as many lines.
        print(
            f"scalearc-lint: warning: {len(warnings) - MAX_WARNINGS:,} more snapshots could "
            "not be read in full in the same way (see each one's 'unreadable')",
            file=sys.stderr,
        )
    document, judged = lint(inputs, args)
    steps: StepSource = remediation_step
    if suggest_fixes and any(report.shows_fix_steps for report, _ in requested):
        steps = suggested_fix_steps(inputs, document, judged)
    write_reports(requested, document, judged, report_stream, steps)
    if args.fail_on_new:
        code = exit_code_new(document.results, fail_on(args.fail_on))
    else:
        code = exit_code(document.results, fail_on(args.fail_on))
    if report_stream is None:
        print_console(document, judged, quiet=args.quiet)
    return code


def print_console(document: ResultsDocument, invs: list[Inventory], *, quiet: bool) -> None:
    """The console summary; a reader that stops early (``| head``) does not change the exit
    code, and a closed stdout just means no summary."""
    if sys.stdout is None:
        return
    try:
        render_console(document, sys.stdout, invs, quiet=quiet)
        sys.stdout.write(comparison_text(document))
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except OSError as exc:
        raise stdout_failed(exc) from None
