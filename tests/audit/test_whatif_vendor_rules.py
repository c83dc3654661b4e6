"""SA012-SA016 in a what-if: a plan step that breaks one shows as newly broken; history (the
events) is judged as it was recorded, and a planned move is the plan lint's to judge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scalearc_lint.audit.baseline import new_failures
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.snapshot.sketch import build
from scalearc_lint.testing import run_whatif, secondary_live_move

#: One pair in cl-1 (sa-p on esx-1, sa-s on esx-2, one backup snapshot on sa-s), and a second
#: cluster cl-2 where vSphere HA is on with the default restart priority unset (medium), with
#: a pool "capped" whose memory limit is below the appliances' 8192 MB.
LAB: Mapping[str, Any] = {
    "hosts": 3,
    "clusters": {"cl-2": {"hosts": 2}},
    "pools": {"capped": {"parent": "root", "cluster": "cl-1", "memory_limit": 4096}},
    "appliances": {
        "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1"},
        "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-2", "snapshots": ["2h"]},
    },
}


def broken(steps: list[dict[str, Any]], sketch: Mapping[str, Any] = LAB) -> set[tuple[str, str]]:
    """(rule, object name) of every failure the plan introduces."""
    whatif = run_whatif(build(sketch), steps)
    return {(r.rule, r.object.name) for r in new_failures(whatif.document.results)}


def test_a_clean_lab_breaks_nothing_without_a_plan_step_that_does() -> None:
    steps = [{"take_snapshot": "sa-p", "name": "x"}, {"remove_snapshot": "sa-p", "name": "x"}]
    assert broken(steps) == set()


def test_a_second_snapshot_breaks_snapshot_hygiene() -> None:
    whatif = run_whatif(build(LAB), [{"take_snapshot": "sa-s", "name": "before-patch"}])
    (result,) = [r for r in new_failures(whatif.document.results) if r.rule == "SA015"]
    assert result.object.name == "sa-s"
    assert result.severity is Severity.WARNING
    assert "2 snapshots" in result.message


def test_a_first_snapshot_does_not() -> None:
    assert ("SA015", "sa-p") not in broken([{"take_snapshot": "sa-p"}])


def test_moving_a_member_to_another_cluster_leaves_its_ha_override_behind() -> None:
    # vCenter drops a VM's overrides of the cluster it leaves: in cl-2 HA would restart it.
    steps = [
        {"power_off": "sa-s"},
        {"migrate": "sa-s", "to": "esx-4", "mode": "cold"},
        {"power_on": "sa-s"},
    ]
    assert ("SA013", "sa-s") in broken(steps)
    off = {**LAB, "clusters": {"cl-2": {"hosts": 2, "ha_enabled": False}}}
    assert ("SA013", "sa-s") not in broken(steps, off)


def test_a_move_into_a_pool_with_a_low_limit_breaks_no_limits() -> None:
    steps = [*secondary_live_move("sa-s", "esx-3")]
    steps[1] = {**steps[1], "pool": "capped"}
    assert ("SA014", "sa-s") in broken(steps)


def test_enabling_drs_automation_breaks_drs_manual_but_is_no_drs_migration() -> None:
    # A DRS setting says DRS may move it (SA006); only an event says DRS did (SA012).
    found = broken([{"drs_override": "sa-s", "behavior": "fullyAutomated"}])
    assert ("SA006", "sa-s") in found
    assert ("SA012", "sa-s") not in found


def test_a_planned_vmotion_without_static_macs_is_the_plan_lint_s_not_sa016() -> None:
    sketch = {
        **LAB,
        "appliances": {
            **LAB["appliances"],
            "sa-s": {
                "role": "secondary",
                "pair": "p1",
                "host": "esx-2",
                "nics": [{"type": "generated"}],
            },
        },
    }
    whatif = run_whatif(build(sketch), secondary_live_move("sa-s", "esx-3"))
    failing = {(r.rule, r.object.name) for r in new_failures(whatif.document.results)}
    assert any(rule == "PLAN002" for rule, _ in failing)
    # SA016 judges vMotions that happened (events), with the configuration they met.
    sa016 = [r for r in whatif.document.results if r.rule == "SA016"]
    assert {r.status for r in sa016 if r.object.name == "sa-s"} == {Status.PASS}


def test_a_past_ha_restart_stays_an_error_after_a_planned_switchover() -> None:
    sketch = {**LAB, "events": [{"vm": "sa-s", "kind": "ha-restart", "age": "3d"}]}
    whatif = run_whatif(build(sketch), [{"switchover": "p1"}])
    (result,) = [
        r for r in whatif.document.results if r.rule == "SA013" and r.object.name == "sa-s"
    ]
    assert (result.status, result.severity, result.baseline) == (
        Status.FAIL,
        Severity.ERROR,
        "persisting",
    )
