"""``scalearc-lint whatif SNAPSHOT --plan PLAN.yaml``: lint the planned state and the plan."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from scalearc_lint.audit.baseline import WHATIF_SOURCE, compare
from scalearc_lint.audit.waivers import Waiver, apply_waivers
from scalearc_lint.change.observed import check_observed
from scalearc_lint.change.plan import Plan, PlanRun, apply_plan, load_plan
from scalearc_lint.change.planlint import enabled_plan_rules, lint_plan
from scalearc_lint.commands.check import add_run_options, run_check
from scalearc_lint.commands.review import Linted, run_waivers
from scalearc_lint.commands.run import RunInputs, inventories, run
from scalearc_lint.engine.results import PlanInfo, ResultsDocument, Summary, sorted_results
from scalearc_lint.errors import InputError
from scalearc_lint.snapshot.inventory import Inventory


def register(subparsers: Any) -> None:
    """Add the ``whatif`` subcommand."""
    parser = subparsers.add_parser(
        "whatif",
        help="lint a planned change before making it",
        description=(
            "Apply a plan (YAML: migrations, maintenance, switchovers, snapshots, DRS overrides, "
            "anti-affinity rules, power, and the vendor's manual steps) to a snapshot in memory "
            "as vSphere and ScaleArc HA would live it, lint the planned state and the plan's "
            "steps (PLAN001-PLAN009), and report what the plan would newly break or fix. "
            "Exit 1 only for failures the plan introduces (at/above --fail-on)."
        ),
    )
    parser.add_argument("snapshots", nargs=1, metavar="SNAPSHOT", help="snapshot JSON file")
    parser.add_argument("--plan", required=True, metavar="PLAN", help="plan YAML file")
    add_run_options(parser)
    parser.set_defaults(func=run_whatif, fail_on_new=True)


def run_whatif(args: argparse.Namespace) -> int:
    """Run ``whatif``: ``check``'s outputs for the planned state, compared with the current."""
    return run_check(args, lint=lint_whatif)


def lint_whatif(inputs: RunInputs, args: argparse.Namespace) -> Linted:
    """The planned state's results plus plan findings, marked against the current state."""
    plan = load_plan(args.plan)
    waivers = run_waivers(args, inputs)
    whatif = what_if(inputs, plan, waivers)
    return whatif.document, [whatif.planned]


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A plan lived on a snapshot: the results document, the planned inventory, every step."""

    document: ResultsDocument
    planned: Inventory
    run: PlanRun


@dataclass(frozen=True, slots=True)
class EstateWhatIf:
    """Plans lived on some vCenters of an estate, judged as one with the others."""

    document: ResultsDocument
    #: One planned inventory per snapshot of the run, in its order (unchanged where no plan).
    planned: list[Inventory]
    #: The lived plan of each snapshot that has one, by its index in the run.
    runs: dict[int, PlanRun]


def what_if(inputs: RunInputs, plan: Plan, waivers: Sequence[Waiver] = ()) -> WhatIf:
    """Apply ``plan`` to the one snapshot of ``inputs``: the planned state's results and the
    plan findings, compared with the current state (plan errors raise InputError)."""
    if len(inputs.snapshots) != 1:
        raise InputError(
            f"{inputs.snapshots[0].path}: holds {len(inputs.snapshots)} vCenters; a plan changes "
            "one vCenter, so give whatif that vCenter's own snapshot"
        )
    (loaded,) = inputs.snapshots
    check_observed(plan.observed, loaded.snapshot, where=plan.where("observed"), now=loaded.path)
    lived = what_if_estate(inputs, {0: plan}, waivers)
    document = msgspec.structs.replace(
        lived.document,
        snapshot=msgspec.structs.replace(
            lived.document.snapshot, path=f"{loaded.path} + {plan.path}"
        ),
        plan=PlanInfo(plan.path, plan.description, len(plan.steps)),
    )
    return WhatIf(document, lived.planned[0], lived.runs[0])


def what_if_estate(
    inputs: RunInputs, plans: Mapping[int, Plan], waivers: Sequence[Waiver] = ()
) -> EstateWhatIf:
    """Apply each plan to its snapshot of ``inputs`` (by index) and judge the planned estate
    as one, with the plan findings, compared with the current estate (plan errors raise
    InputError). Events precede every plan: rules judge them with the current roles."""
    current_inventories = inventories(inputs)
    selection = inputs.config.selection
    runs: dict[int, PlanRun] = {}
    planned_inventories = []
    for index, (loaded, current_inventory) in enumerate(
        zip(inputs.snapshots, current_inventories, strict=True)
    ):
        plan = plans.get(index)
        state = loaded.snapshot
        if plan is not None:
            runs[index] = apply_plan(state, plan, selection=selection, at=current_inventory.as_of)
            state = runs[index].final
        planned_inventories.append(
            Inventory(
                state,
                as_of=current_inventory.as_of,
                selection=selection,
                recorded=current_inventory,
            )
        )
    current = apply_waivers(run(inputs, current_inventories), waivers)
    planned = run(inputs, planned_inventories)
    findings = [
        finding
        for index, lived in runs.items()
        for finding in lint_plan(
            lived,
            selection=selection,
            as_of=planned_inventories[index].as_of,
            rules=inputs.rules,
            config=inputs.config,
        )
    ]
    results = sorted_results([*planned.results, *findings])
    planned = msgspec.structs.replace(
        planned,
        results=results,
        summary=Summary.of(results),
        rules=[*planned.rules, *enabled_plan_rules(inputs.config)],
    )
    document = compare(apply_waivers(planned, waivers), current, source=WHATIF_SOURCE)
    return EstateWhatIf(document, planned_inventories, runs)
