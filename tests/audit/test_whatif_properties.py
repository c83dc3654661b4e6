"""Properties of whatif on generated inventories: the vendor's procedure is accepted, and the
same plan with one step removed or moved is not."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalearc_lint.audit.baseline import new_failures
from scalearc_lint.engine.rule import Status
from scalearc_lint.snapshot.model import Snapshot
from scalearc_lint.testing import (
    PlanStep,
    broken_plans,
    inventories,
    pair_move_plans,
    run_whatif,
)

CHECKS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def movable(draw: st.DrawFn) -> tuple[Snapshot, list[list[PlanStep]]]:
    """An inventory with room to move a pair (clusters of 3+ hosts) and a plan moving some."""
    inventory = draw(
        inventories(
            min_pairs=1,
            max_pairs=3,
            min_hosts_per_cluster=3,
            max_hosts_per_cluster=5,
            max_clusters=2,
        )
    )
    blocks = draw(pair_move_plans(inventory.snapshot).filter(bool))
    return inventory.snapshot, blocks


@CHECKS
@given(movable())
def test_plans_that_follow_the_vendors_procedure_are_accepted(
    case: tuple[Snapshot, list[list[PlanStep]]],
) -> None:
    snapshot, blocks = case
    whatif = run_whatif(snapshot, [step for block in blocks for step in block])
    plan_results = [r for r in whatif.document.results if r.rule.startswith("PLAN")]
    assert {r.status for r in plan_results} == {Status.PASS}, [
        r.message for r in plan_results if r.status is not Status.PASS
    ]
    assert new_failures(whatif.document.results) == []
    # Every pair moved: each member is on its block's destination.
    for block in blocks:
        primary, secondary = block[7]["migrate"], block[1]["migrate"]
        final = whatif.run.final.vms
        assert (final[secondary].host, final[primary].host) == (block[1]["to"], block[7]["to"])


@CHECKS
@given(st.data())
def test_the_same_plans_with_a_step_removed_or_moved_are_reported(data: st.DataObject) -> None:
    snapshot, blocks = data.draw(movable(), label="inventory and plan")
    broken = data.draw(broken_plans(blocks), label="broken plan")
    whatif = run_whatif(snapshot, broken)
    assert new_failures(whatif.document.results), "a broken procedure was accepted"
