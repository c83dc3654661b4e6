"""Waivers and baselines for the linting commands (``check``, ``whatif``): options and steps."""

from __future__ import annotations

import argparse

from scalearc_lint.audit.baseline import compare, load_results
from scalearc_lint.audit.waivers import Waiver, apply_waivers, load_waivers
from scalearc_lint.change.planlint import PLAN_RULE_IDS
from scalearc_lint.commands.run import RunInputs, inventories, run
from scalearc_lint.engine.appliance_id import ID001
from scalearc_lint.engine.results import ResultsDocument
from scalearc_lint.snapshot.inventory import Inventory


def add_baseline_options(parser: argparse.ArgumentParser) -> None:
    """``--baseline`` and ``--fail-on-new`` (check only; whatif's baseline is the current state)."""
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="a previous --json results file: mark each result new / persisting / resolved",
    )
    parser.add_argument(
        "--fail-on-new",
        action="store_true",
        help="with --baseline: exit 1 only for new failures at/above --fail-on",
    )


def run_waivers(args: argparse.Namespace, inputs: RunInputs) -> list[Waiver]:
    """The ``--waivers`` file, validated against the loaded rules (and the plan rules)."""
    if not args.waivers:
        return []
    known = {item.rule.id for item in inputs.rules} | PLAN_RULE_IDS | {ID001.id}
    return load_waivers(args.waivers, known)


#: A lint step's results and the inventories they judge (reports draw placement from them).
Linted = tuple[ResultsDocument, list[Inventory]]


def lint_check(inputs: RunInputs, args: argparse.Namespace) -> Linted:
    """``check``: run the rules, apply waivers, compare with the baseline if one is given."""
    waivers = run_waivers(args, inputs)
    baseline = load_results(args.baseline) if args.baseline else None
    judged = inventories(inputs)
    document = apply_waivers(run(inputs, judged), waivers)
    if baseline is not None:
        document = compare(document, baseline, source=args.baseline)
    return document, judged
