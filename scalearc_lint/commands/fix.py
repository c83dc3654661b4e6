"""``scalearc-lint fix SNAPSHOT... -o PLAN.yaml``: write the plan that repairs the findings,
proven with ``whatif`` before it is written.

The plan for each vCenter is lived on its snapshot (:func:`~scalearc_lint.commands.whatif.what_if`,
every rule and the plan rules PLAN001-PLAN009): every finding a step is written to repair
must pass in the planned state, and no result may newly fail. Otherwise ``fix`` exits 1,
says which step falls short, and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scalearc_lint.audit.baseline import new_failures
from scalearc_lint.audit.waivers import Waiver, apply_waivers
from scalearc_lint.change.fix import FixPlan, plan_estate, render_plan
from scalearc_lint.change.observed import Facts, ObjectKey, object_facts, touched
from scalearc_lint.change.plan import Plan, apply_plan, parse_plan
from scalearc_lint.commands.check import add_run_options, requested_reports
from scalearc_lint.commands.review import run_waivers
from scalearc_lint.commands.run import RunInputs, inventories, load_inputs, run
from scalearc_lint.commands.whatif import what_if_estate
from scalearc_lint.engine.results import Result, ResultsDocument
from scalearc_lint.engine.rule import Status
from scalearc_lint.errors import InputError
from scalearc_lint.io.outputs import check_outputs, write_outputs
from scalearc_lint.reports.triage import planned_steps
from scalearc_lint.snapshot.inventory import Inventory

EXIT_NOT_PROVEN = 1


def register(subparsers: Any) -> None:
    """Add the ``fix`` subcommand."""
    parser = subparsers.add_parser(
        "fix",
        help="write the change plan that repairs the findings, proven with whatif",
        description=(
            "Write a change plan (the whatif plan format) that repairs every failing result "
            "vCenter can change, in the vendor's order (switchover before work on a primary; "
            "a standalone's power-off is an outage to confirm), each step commented with the "
            "finding it repairs and what else it changes; findings no step repairs are listed. "
            "The plan is lived with whatif first: every targeted finding must pass in the "
            "planned state and nothing may newly fail, else exit 1 naming the step and write "
            "nothing. Reports (--html...) show the current state with each finding's step. "
            "Exit codes: 0 plan proven (and written), 1 not proven, 2 bad usage or input."
        ),
    )
    parser.add_argument(
        "snapshots",
        nargs="+",
        metavar="SNAPSHOT",
        help="snapshot JSON file(s): MACs are made unique across all of them",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PLAN",
        help="plan YAML file; with several vCenters to change, include {vcenter} in the name",
    )
    parser.add_argument("--description", metavar="TEXT", help="the plan's description")
    add_run_options(parser)
    parser.set_defaults(func=run_fix)


def _plan_paths(template: str, plans: Sequence[FixPlan]) -> list[str]:
    if len(plans) > 1 and "{vcenter}" not in template:
        raise InputError(
            f"-o {template}: {len(plans)} vCenters need a change; put {{vcenter}} in the name "
            "to write one plan each"
        )
    return [template.replace("{vcenter}", plan.vcenter.replace("/", "_")) for plan in plans]


@dataclass(frozen=True)
class Fixed:
    """What ``fix`` worked out: the current results, a plan per vCenter, the text of each
    plan with steps (by path), and what keeps them from being proven (empty: proven)."""

    document: ResultsDocument
    inventories: list[Inventory]
    plans: list[FixPlan]
    texts: dict[str, str]
    problems: list[str]

    @property
    def paths(self) -> dict[str, str]:
        """The path each vCenter's plan is written to, by vCenter (only plans with steps)."""
        written = [plan for plan in self.plans if plan.steps]
        return dict(zip((p.vcenter for p in written), self.texts, strict=True))


def make_fix(
    inputs: RunInputs,
    waivers: Sequence[Waiver],
    output: str,
    description: str | None = None,
) -> Fixed:
    """Plan the repairs of every vCenter of the run, write each plan's text, and prove them
    together: the planned estate is judged as one (MACs are unique across all of it)."""
    judged = inventories(inputs)
    document = apply_waivers(run(inputs, judged), waivers)
    rules = {item.rule.id: item for item in inputs.rules}
    plans = plan_estate(document.results, judged, rules=rules, config=inputs.config)
    with_steps = [p for p in plans if p.steps]
    paths = _plan_paths(output, with_steps)
    texts: dict[str, str] = {}
    parsed: dict[int, Plan] = {}
    for fix_plan, path in zip(with_steps, paths, strict=True):
        index = next(i for i, inv in enumerate(judged) if inv.vcenter == fix_plan.vcenter)
        texts[path] = _written(fix_plan, judged[index], inputs, path, description)
        parsed[index] = parse_plan(texts[path], path)
    problems = prove(parsed, with_steps, paths, inputs, waivers) if parsed else []
    return Fixed(document, judged, plans, texts, problems)


def run_fix(args: argparse.Namespace) -> int:
    """Run ``fix``: plan, prove, write."""
    requested = requested_reports(args)
    check_outputs(
        [("-o", args.output), *((f"--{r.option}", t) for r, t in requested)],
        [("snapshot", p) for p in args.snapshots],
    )
    inputs = load_inputs(
        args.snapshots,
        config_path=args.config,
        rules_dirs=args.rules_dir,
        as_of=args.as_of,
        rule_timeout=args.rule_timeout,
    )
    fixed = make_fix(inputs, run_waivers(args, inputs), args.output, args.description)
    if fixed.problems:
        for problem in fixed.problems:
            print(f"scalearc-lint: fix: {problem}", file=sys.stderr)
        print(
            f"scalearc-lint: fix: the plan is not proven ({len(fixed.problems)} problem(s)); "
            "nothing written",
            file=sys.stderr,
        )
        return EXIT_NOT_PROVEN
    path_of = fixed.paths
    steps = planned_steps([(plan, path_of.get(plan.vcenter, "")) for plan in fixed.plans])
    rendered = [
        (target, report.render(fixed.document, fixed.inventories, steps=steps))
        for report, target in requested
    ]
    write_outputs([*((path, text.encode()) for path, text in fixed.texts.items()), *rendered])
    _summary(fixed.plans, path_of)
    return 0


def _written(
    fix_plan: FixPlan, inventory: Inventory, inputs: RunInputs, path: str, description: str | None
) -> str:
    """The plan's text, with what fix saw of every object its steps change."""
    bare = render_plan(fix_plan, description=description or "", observed={})
    plan = parse_plan(bare, path)
    try:
        lived = apply_plan(
            inventory.snapshot, plan, selection=inputs.config.selection, at=inventory.as_of
        )
    except InputError as exc:
        raise InputError(f"fix wrote a step vCenter would refuse: {exc}") from None
    keys: dict[ObjectKey, None] = {}
    for outcome in lived.outcomes:
        for key in touched(outcome.before.snapshot, outcome.after.snapshot):
            keys.setdefault(key, None)
    observed: dict[ObjectKey, Facts] = {}
    for key in keys:
        facts = object_facts(inventory.snapshot, key)
        if facts is not None:
            observed[key] = facts
    source = next(s for s in inputs.snapshots if s.snapshot is inventory.snapshot)
    header = [
        f"Written by scalearc-lint fix from {source.path} (vCenter {inventory.vcenter}, "
        f"exported {inventory.snapshot.exported_at.isoformat()}, sha256 {source.sha256[:16]}).",
        "Proven with whatif before it was written: every finding a step repairs passes in the",
        "planned state, and nothing newly fails. Carry it out with: scalearc-lint apply "
        f"{path} --server {inventory.vcenter} (a dry run; --execute to act).",
    ]
    description = description or f"Repair the scalearc-lint findings of {inventory.vcenter}"
    return render_plan(fix_plan, description=description, observed=observed, header=header)


def prove(
    plans: Mapping[int, Plan],
    fix_plans: Sequence[FixPlan],
    paths: Sequence[str],
    inputs: RunInputs,
    waivers: Sequence[Waiver],
) -> list[str]:
    """What keeps the plans from being proven: a targeted finding that still fails, a result
    that newly fails anywhere in the estate, a step whatif refuses (empty: proven)."""
    try:
        lived = what_if_estate(inputs, plans, waivers)
    except InputError as exc:
        return [f"a step cannot be carried out: {exc}"]
    planned = {
        (r.object.vcenter, r.rule, r.object.kind, r.object.id): r for r in lived.document.results
    }
    problems: list[str] = []
    for fix_plan, path in zip(fix_plans, paths, strict=True):
        for number, step in enumerate(fix_plan.steps, 1):
            for finding in step.repairs:
                result = planned.get(finding.key)
                if result is None or result.status is not Status.PASS:
                    status = result.status.value if result is not None else "no result"
                    why = f": {result.message}" if result is not None else ""
                    problems.append(
                        f"{path}: step {number} ({step.op} {step.target}) is to repair "
                        f"{finding.rule} on {finding.name}, which is still {status} in the "
                        f"planned state{why}"
                    )
    for result in new_failures(lived.document.results):
        problems.append(_newly(result))
    return list(dict.fromkeys(problems))


def _newly(result: Result) -> str:
    o = result.object
    where = f" ({o.vcenter})" if o.vcenter else ""
    message = " ".join(result.message.split())
    return f"{result.rule} newly fails on {o.kind} {o.name}{where}: {message}"


def _summary(plans: Sequence[FixPlan], paths: dict[str, str]) -> None:
    for plan in plans:
        repaired = {f for s in plan.steps for f in s.repairs}
        prevented = {f for s in plan.steps for f in s.prevents}
        where = paths.get(plan.vcenter)
        if where is not None:
            print(
                f"{where}: {len(plan.steps)} step(s) for vCenter {plan.vcenter} repair "
                f"{len(repaired)} finding(s)"
                + (f" and prevent a repeat of {len(prevented)}" if prevented else "")
                + "; proven with whatif (every one passes in the planned state, nothing newly "
                "fails)"
            )
        else:
            print(f"vCenter {plan.vcenter}: nothing a step can repair; no plan written")
        for item in plan.unplanned:
            f = item.finding
            print(f"  not planned: {f.rule} {f.name}: {item.reason}")
