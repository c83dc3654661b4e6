"""Change-plan lint: each PLAN rule passes the vendor's procedure and fails its violations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scalearc_lint.change.plan import apply_plan, load_plan
from scalearc_lint.change.planlint import PLAN_RULE_IDS, PLAN_RULES, lint_plan
from scalearc_lint.engine.config import Config
from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.engine.results import Result
from scalearc_lint.engine.rule import Status
from scalearc_lint.snapshot.identification import ApplianceSelection
from scalearc_lint.snapshot.model import Snapshot
from scalearc_lint.snapshot.sketch import build
from scalearc_lint.testing import pair_move, secondary_live_move
from tests.audit.conftest import TWO_HOST_PAIR, StepList, vm_moid

AT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
RULES = discover_rules(plugins=False)
WriteYaml = Callable[[str, Any], Path]


def lint(snapshot: Snapshot, write_yaml: WriteYaml, steps: StepList) -> list[Result]:
    plan = load_plan(write_yaml("plan.yaml", {"steps": list(steps)}))
    selection = ApplianceSelection()
    run = apply_plan(snapshot, plan, selection=selection, at=AT)
    return lint_plan(run, selection=selection, as_of=AT, rules=RULES, config=Config())


def verdicts(results: list[Result]) -> set[tuple[str, str, int]]:
    """(rule, status, step number) of every plan result."""
    return {(r.rule, r.status.value, int(r.object.name.split()[1])) for r in results}


PROCEDURE = pair_move("alpha", "sa-a1", "sa-a2", primary_to="esx-4", secondary_to="esx-3")


def failures(results: list[Result]) -> set[tuple[str, int]]:
    """(rule, step number) of every failing plan result."""
    return {(rule, step) for rule, status, step in verdicts(results) if status == "fail"}


def test_vendor_procedure_for_moving_a_pair_passes(lab: Snapshot, write_yaml: WriteYaml) -> None:
    results = lint(lab, write_yaml, PROCEDURE)
    assert all(r.status is Status.PASS for r in results), results
    # 1-5: the secondary's steps 2-7 around its vMotion, 6: switchover, 7-11: the new secondary.
    assert verdicts(results) >= {
        ("PLAN001", "pass", 2),
        ("PLAN002", "pass", 2),
        ("PLAN007", "pass", 2),
        ("PLAN008", "pass", 2),
        ("PLAN009", "pass", 2),
        ("PLAN008", "pass", 6),
        ("PLAN001", "pass", 8),
        ("PLAN003", "pass", 8),
        ("PLAN004", "pass", 8),
        ("PLAN007", "pass", 8),
    }
    assert {step for rule, _, step in verdicts(results) if rule == "PLAN008"} == set(range(1, 12))


def test_live_migration_of_the_primary_fails(lab: Snapshot, write_yaml: WriteYaml) -> None:
    results = lint(lab, write_yaml, [{"migrate": "sa-a1", "to": "esx-3", "mode": "live"}])
    (finding,) = [r for r in results if r.status is Status.FAIL]
    assert finding.rule == "PLAN001"
    assert finding.object.kind == "plan-step"
    assert finding.object.id.endswith("plan.yaml:2")
    assert finding.object.name.startswith("step 1 (")
    assert "plan.yaml:2) migrate sa-a1 to esx-3 (live)" in finding.object.name
    assert "primary" in finding.message and "switch the pair over" in finding.message
    assert finding.object.instance_uuid == lab.vms[vm_moid(lab, "sa-a1")].instance_uuid


def test_cold_migration_of_the_standalone_is_allowed(lab: Snapshot, write_yaml: WriteYaml) -> None:
    results = lint(
        lab,
        write_yaml,
        [
            {"power_off": "sa-solo"},
            {"migrate": "sa-solo", "to": "esx-3", "mode": "cold"},
            {"power_on": "sa-solo"},
        ],
    )
    assert verdicts(results) == {("PLAN002", "pass", 2)}


def test_maintenance_that_vmotions_the_standalone_fails(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    results = lint(lab, write_yaml, [{"maintenance": "esx-1"}])
    failing = {
        (r.rule, r.object.name.rsplit(": ", 1)[-1]) for r in results if r.status is Status.FAIL
    }
    assert failing == {("PLAN001", "sa-a1"), ("PLAN001", "sa-solo")}
    assert ("PLAN006", "pass", 1) in verdicts(results)


def test_moving_a_secondary_without_static_mac_fails(lab: Snapshot, write_yaml: WriteYaml) -> None:
    results = lint(lab, write_yaml, secondary_live_move("sa-b2", "esx-1"))
    (finding,) = [r for r in results if r.status is Status.FAIL]
    assert finding.rule == "PLAN002"
    assert "SA001" in finding.message


def test_moving_a_secondary_onto_a_silent_portgroup_fails(write_yaml: WriteYaml) -> None:
    snapshot = build(
        {
            "hosts": 3,
            "appliances": {
                "sa-p": {"role": "primary", "pair": "p1"},
                "sa-s": {"role": "secondary", "pair": "p1"},
            },
            "network_by_host": {"esx-3": {"notify_switches": False}},
        }
    )
    results = lint(snapshot, write_yaml, secondary_live_move("sa-s", "esx-3"))
    assert [(r.rule, r.status) for r in results if r.status is not Status.PASS] == [
        ("PLAN002", Status.FAIL)
    ]
    assert "SA003" in next(r.message for r in results if r.rule == "PLAN002")


def test_moving_both_members_without_switchover_fails_at_the_second_move(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    results = lint(
        lab,
        write_yaml,
        [
            *secondary_live_move("sa-a2", "esx-3"),
            {"power_off": "sa-a1"},
            {"migrate": "sa-a1", "to": "esx-4", "mode": "cold"},
        ],
    )
    # Powering the primary off made sa-a2 take over: a failover, not the switchover.
    assert failures(results) == {("PLAN003", 7), ("PLAN007", 7)}
    message = next(r.message for r in results if r.rule == "PLAN003")
    assert "step 2 at" in message and "plan.yaml:3" in message


def test_plan_ending_with_pair_on_one_host_fails_at_the_step_that_did_it(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    results = lint(lab, write_yaml, [{"migrate": "sa-a2", "to": "esx-1", "mode": "live"}])
    assert ("PLAN004", "fail", 1) in verdicts(results)


def test_pair_already_together_before_the_plan_is_left_to_sa004(write_yaml: WriteYaml) -> None:
    snapshot = build(
        {
            "hosts": 3,
            "appliances": {
                "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1"},
                "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-1"},
            },
            "vms": {"web-1": {"host": "esx-2"}},
        }
    )
    results = lint(snapshot, write_yaml, [{"migrate": "web-1", "to": "esx-3", "mode": "live"}])
    assert results == []


def test_snapshot_left_on_an_active_appliance_fails(lab: Snapshot, write_yaml: WriteYaml) -> None:
    results = lint(lab, write_yaml, [{"take_snapshot": "sa-solo"}])
    assert verdicts(results) == {("PLAN005", "fail", 1)}


def test_snapshot_on_secondary_that_becomes_primary_fails(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    results = lint(lab, write_yaml, [{"take_snapshot": "sa-a2"}, {"switchover": "alpha"}])
    assert failures(results) == {("PLAN005", 1)}


def test_snapshot_removed_before_the_end_passes(lab: Snapshot, write_yaml: WriteYaml) -> None:
    results = lint(lab, write_yaml, [{"take_snapshot": "sa-a1"}, {"remove_snapshot": "sa-a1"}])
    assert verdicts(results) == {("PLAN005", "pass", 1)}


def test_maintenance_without_a_host_to_keep_the_pair_apart_fails(write_yaml: WriteYaml) -> None:
    snapshot = build(TWO_HOST_PAIR)
    results = lint(snapshot, write_yaml, [{"maintenance": "esx-2"}])
    finding = next(r for r in results if r.rule == "PLAN006")
    assert finding.status is Status.FAIL
    assert "pair p1" in finding.message
    assert ("PLAN004", "fail", 1) in verdicts(results)


def test_plan_rules_are_described_for_reports() -> None:
    assert {f"PLAN00{i}" for i in range(1, 10)} == PLAN_RULE_IDS
    for info in PLAN_RULES:
        assert info.scope == "plan-step"
        assert info.title and info.rationale and info.reference and info.remediation


def test_moving_a_vm_whose_role_is_in_doubt_fails_naming_the_conflict(
    write_yaml: WriteYaml,
) -> None:
    snapshot = build(
        {
            "hosts": 3,
            "appliances": {
                "sa-x": {
                    "role": "secondary",
                    "host": "esx-1",
                    "tags": [{"category": "scalearc-role", "name": "primary"}],
                }
            },
        }
    )
    live = lint(snapshot, write_yaml, [{"migrate": "sa-x", "to": "esx-2", "mode": "live"}])
    assert failures(live) == {("PLAN001", 1)}
    assert "role sources disagree" in live[0].message and "(ID001)" in live[0].message


def test_a_switchover_names_the_pair_in_any_case_and_keeps_sources_agreeing(
    write_yaml: WriteYaml,
) -> None:
    snapshot = build(
        {
            "hosts": 3,
            "appliances": {
                "sa-p": {
                    "role": "primary",
                    "pair": "Orders",
                    "host": "esx-1",
                    "tags": [{"category": "ScaleArc-Role", "name": "primary"}],
                },
                "sa-s": {"role": "secondary", "pair": "orders", "host": "esx-2"},
            },
        }
    )
    steps = pair_move("ORDERS", "sa-p", "sa-s", primary_to="esx-2", secondary_to="esx-3")
    results = lint(snapshot, write_yaml, steps)
    assert [r for r in results if r.status is not Status.PASS] == []
    assert "PLAN003" in {r.rule for r in results}


def test_snapshot_left_on_an_appliance_of_unknown_role_fails(write_yaml: WriteYaml) -> None:
    snapshot = build({"appliances": {"sa-x": {"role": "pimary"}}, "vms": {"web-1": {}}})
    results = lint(snapshot, write_yaml, [{"take_snapshot": "sa-x"}, {"take_snapshot": "web-1"}])
    assert failures(results) == {("PLAN005", 1)}
    assert "cannot be established (role 'pimary' is not primary" in results[0].message
