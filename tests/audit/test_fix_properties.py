"""Property: for generated inventories with a violation of every rule planted, the plan
``fix`` writes repairs each fixable one and breaks nothing.

The check does not trust fix's own proof: each written plan is lived again, from its
text, by ``whatif`` (one vCenter) or by the estate's what-if (several), and every planted
finding of a fixable rule must pass there, no result may newly fail, and every planted
finding of the other rules must be listed in the plan, never dropped.
Run deeper with ``SCALEARC_HYPOTHESIS_PROFILE=stress`` (500 examples).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from hypothesis import event, given

from scalearc_lint.audit.baseline import new_failures
from scalearc_lint.change.fix import REMEDIES, FixPlan, plan_estate
from scalearc_lint.commands.fix import Fixed
from scalearc_lint.engine.config import Config
from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.engine.results import Result
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.snapshot.identification import Role
from scalearc_lint.snapshot.inventory import normalise_mac
from scalearc_lint.testing import (
    ESTATE_PLANTABLE,
    PLANTABLE,
    SyntheticEstate,
    SyntheticInventory,
    estates,
    inventories,
    run_fix,
    run_plans,
    run_whatif,
)

#: Rules whose findings fix repairs (the rest are history or identity: listed, or prevented).
REPAIRED = (
    "SA001",
    "SA002",
    "SA003",
    "SA004",
    "SA005",
    "SA006",
    "SA007",
    "SA008",
    "SA013",
    "SA014",
    "SA015",
)
#: Repaired rules whose error-severity finding is history (SA013: HA restarted the appliance):
#: that finding stays, prevented or listed, like SA009's.
HISTORY_WHEN_ERROR = ("SA013",)


def test_every_repaired_rule_has_a_generator() -> None:
    assert set(REPAIRED) <= set(REMEDIES)


def listed_in(fixed: Fixed) -> set[tuple[str, str, str]]:
    """(vCenter, rule, object id) of every finding a plan lists as unplanned."""
    return {
        (plan.vcenter, item.finding.rule, item.finding.id)
        for plan in fixed.plans
        for item in plan.unplanned
    }


def stepped_in(fixed: Fixed) -> set[tuple[str, str, str]]:
    """(vCenter, rule, object id) of every finding a step repairs or prevents."""
    return {
        (plan.vcenter, f.rule, f.id)
        for plan in fixed.plans
        for step in plan.steps
        for f in (*step.repairs, *step.prevents)
    }


def split_primaries(fixed: Fixed) -> set[tuple[str, str]]:
    """(vCenter, moid) of running primaries whose running secondary is in another vCenter:
    a switchover before their power-off would change two vCenters, which no one plan can."""
    found = set()
    for inventory in fixed.inventories:
        for pair in inventory.pairs.values():
            roles = {m.role: m for m in pair.members}
            primary, secondary = roles.get(Role.PRIMARY), roles.get(Role.SECONDARY)
            if (
                len(pair.members) == 2
                and primary is not None
                and secondary is not None
                and primary.vcenter != secondary.vcenter
                and primary.vm.power_state == secondary.vm.power_state == "poweredOn"
            ):
                found.add((primary.vcenter, primary.vm.moid))
    return found


def check_outcome(
    planned: Iterable[Result], fixed: Fixed, planted: Iterable[tuple[str, str, str]]
) -> None:
    results = list(planned)
    by_key = {(r.object.vcenter, r.rule, r.object.id): r for r in results}
    assert not fixed.problems, fixed.problems
    listed, stepped = listed_in(fixed), stepped_in(fixed)
    history = {
        (r.object.vcenter, r.rule, r.object.id)
        for r in fixed.document.results
        if r.rule in HISTORY_WHEN_ERROR and r.severity is Severity.ERROR
    }
    exempt = split_primaries(fixed)
    for op in sorted({step.op for plan in fixed.plans for step in plan.steps}):
        event(f"plan has a {op} step")  # --hypothesis-show-statistics: what was exercised
    for vcenter, rule, obj in planted:
        key = (vcenter, rule, obj)
        if (
            rule in REPAIRED
            and key not in history
            and not ((vcenter, obj) in exempt and key in listed)
        ):
            result = by_key.get((vcenter, rule, obj))
            assert result is not None and result.status is Status.PASS, (rule, obj, result)
        else:
            assert (vcenter, rule, obj) in listed | stepped, f"{rule} {obj} dropped"
    broken = [f"{r.rule} {r.object.name}: {r.message}" for r in new_failures(results)]
    assert not broken, broken


@given(inventories(plant=PLANTABLE))
def test_the_plan_repairs_every_planted_violation_and_breaks_nothing(
    inv: SyntheticInventory,
) -> None:
    fixed = run_fix(inv.snapshot)
    vcenter = inv.snapshot.source.vcenter
    planted = [(vcenter, rule, obj) for rule, obj in inv.expected_failures()]
    assert len(fixed.texts) <= 1
    with tempfile.TemporaryDirectory(prefix="scalearc-fix-") as tmp:
        results = fixed.document.results
        for name, text in fixed.texts.items():
            # Lived again from the file, as a user runs whatif on it.
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            results = run_whatif(inv.snapshot, path).document.results
    check_outcome(results, fixed, planted)


@given(estates(plant=ESTATE_PLANTABLE))
def test_across_vcenters_the_plans_repair_together_and_break_nothing(
    estate: SyntheticEstate,
) -> None:
    config = Config(selection=estate.selection)
    fixed = run_fix(estate.snapshots, config=config)
    plans = {plan.vcenter: fixed.texts[path] for plan, path in written(fixed)}
    lived = run_plans(estate.snapshots, plans, config=config)
    planted = [(vc, rule, obj) for rule, objs in estate.planted.items() for vc, obj in objs]
    check_outcome(lived.document.results, fixed, planted)
    macs = [
        normalise_mac(nic.mac)
        for inventory in lived.planned
        for appliance in inventory.appliances.values()
        for nic in appliance.vm.nics
    ]
    assert len(macs) == len(set(macs)), "appliance MACs are unique across the estate"


def written(fixed: Fixed) -> list[tuple[FixPlan, str]]:
    """Each plan with steps and the name its text is kept under."""
    paths = fixed.paths
    return [(plan, paths[plan.vcenter]) for plan in fixed.plans if plan.vcenter in paths]


def _steps(plans: Iterable[FixPlan]) -> list[object]:
    """What a plan does, without its comments on what else each step changes."""
    return [
        (
            plan.vcenter,
            [(s.op, s.target, dict(s.params), s.repairs, s.prevents) for s in plan.steps],
            plan.unplanned,
        )
        for plan in plans
    ]


@given(estates(plant=ESTATE_PLANTABLE))
def test_the_steps_check_suggests_are_the_steps_fix_writes(estate: SyntheticEstate) -> None:
    """check works the plans out without their comments (describe_effects=False, which
    skips passes over every VM); the steps must be fix's own, in fix's order."""
    fixed = run_fix(estate.snapshots)
    rules = {item.rule.id: item for item in discover_rules(plugins=False)}
    suggested = plan_estate(
        fixed.document.results,
        fixed.inventories,
        rules=rules,
        config=Config(),
        describe_effects=False,
    )
    assert _steps(suggested) == _steps(fixed.plans)
