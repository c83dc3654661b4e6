"""ScaleArc HA inside the what-if simulation: failover, switchover, vendor step 1, and roles
that belong to the moment of an event. Each test: a snapshot, a plan, the expected outcome
(plan error, finding, or accepted) and the expected planned state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from scalearc_lint.audit.baseline import new_failures
from scalearc_lint.engine.results import Result
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.errors import InputError
from scalearc_lint.snapshot.identification import (
    ApplianceSelection,
    Identifier,
    Role,
    with_role,
)
from scalearc_lint.snapshot.model import Snapshot, Tag
from scalearc_lint.snapshot.sketch import build
from scalearc_lint.testing import pair_move, run_whatif, secondary_live_move
from tests.audit.conftest import Ran, host_of, vm_moid

Cli = Callable[..., Ran]
WriteYaml = Callable[[str, Any], Path]

#: One pair on three hosts: sa-p (primary) on esx-1, sa-s (secondary) on esx-2.
PAIR = {
    "hosts": 3,
    "appliances": {
        "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1"},
        "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-2"},
    },
}


def roles(snapshot: Snapshot) -> dict[str, str | None]:
    """Each appliance's role as identification reads it."""
    identifier = Identifier(ApplianceSelection())
    found = {vm.name: identifier.identify(vm) for vm in snapshot.vms.values()}
    return {name: str(i.role) if i and i.role else None for name, i in found.items() if i}


def failing(results: list[Result]) -> set[tuple[str, int]]:
    """(rule, step number) of each failing plan-step result."""
    return {
        (r.rule, int(r.object.name.split()[1]))
        for r in results
        if r.object.kind == "plan-step" and r.status is Status.FAIL
    }


# -- failover ---------------------------------------------------------------------------


def test_powering_off_the_primary_fails_over_so_a_later_vmotion_moves_the_active_one() -> None:
    snapshot = build(PAIR)
    whatif = run_whatif(snapshot, [{"power_off": "sa-p"}, *secondary_live_move("sa-s", "esx-3")])
    final = whatif.run.final
    assert roles(final) == {"sa-p": "secondary", "sa-s": "primary"}
    assert final.vms[vm_moid(final, "sa-p")].power_state == "poweredOff"
    assert [(c.before, c.after, c.cause) for c in whatif.run.outcomes[0].role_changes] == [
        (Role.PRIMARY, Role.SECONDARY, "failover"),
        (Role.SECONDARY, Role.PRIMARY, "failover"),
    ]
    plan001 = next(r for r in whatif.document.results if r.rule == "PLAN001")
    assert plan001.status is Status.FAIL and "while it is the primary" in plan001.message
    # The manual steps now surround the primary: misplaced too.
    assert ("PLAN001", 3) in failing(whatif.document.results)
    assert ("PLAN008", 2) in failing(whatif.document.results)


def test_stopping_the_primarys_services_is_a_failure_to_ha() -> None:
    snapshot = build(PAIR)
    whatif = run_whatif(snapshot, [{"stop_services": "sa-p"}])
    assert roles(whatif.run.final) == {"sa-p": "secondary", "sa-s": "primary"}
    assert whatif.run.outcomes[0].after.services_stopped == {vm_moid(snapshot, "sa-p")}
    finding = next(r for r in whatif.document.results if r.rule == "PLAN008")
    assert finding.status is Status.FAIL and "is the primary at this step" in finding.message


def test_no_failover_when_the_secondary_is_down() -> None:
    snapshot = build(PAIR)
    run = run_whatif(snapshot, [{"power_off": "sa-s"}, {"power_off": "sa-p"}]).run
    assert roles(run.final) == {"sa-p": "primary", "sa-s": "secondary"}
    assert all(o.role_changes == () for o in run.outcomes)


def test_no_failover_to_a_secondary_whose_services_are_stopped() -> None:
    snapshot = build(PAIR)
    run = run_whatif(snapshot, [{"stop_services": "sa-s"}, {"power_off": "sa-p"}]).run
    assert roles(run.final) == {"sa-p": "primary", "sa-s": "secondary"}


def test_power_on_starts_the_services_again() -> None:
    snapshot = build(PAIR)
    run = run_whatif(
        snapshot, [{"stop_services": "sa-s"}, {"power_off": "sa-s"}, {"power_on": "sa-s"}]
    ).run
    assert [o.after.services_stopped == set() for o in run.outcomes] == [False, False, True]


# -- switchover -------------------------------------------------------------------------


def test_switchover_to_a_powered_off_partner_is_a_plan_error(
    cli: Cli, lab_file: Path, write_yaml: WriteYaml
) -> None:
    plan = write_yaml("p.yaml", {"steps": [{"power_off": "sa-a2"}, {"switchover": "alpha"}]})
    ran = cli("whatif", lab_file, "--plan", plan)
    assert ran.code == 2
    assert ran.err.startswith(f"scalearc-lint: error: {plan}:3: step 2 (switchover): sa-a2 is ")
    assert "needs both members of the pair running" in ran.err and ran.err.count("\n") == 1


def test_switchover_with_a_member_on_an_unreachable_host_is_a_plan_error() -> None:
    snapshot = build({**PAIR, "host_states": {"esx-2": {"connection_state": "notResponding"}}})
    with pytest.raises(InputError, match=r"plan\.yaml:2: step 1 \(switchover\): sa-s is on esx-2"):
        run_whatif(snapshot, [{"switchover": "p1"}])


def test_switchover_rewrites_the_role_attribute_and_the_role_tag_alike() -> None:
    snapshot = build(PAIR)
    both = {
        moid: msgspec.structs.replace(
            vm, tags=[Tag(category="scalearc-role", name=vm.custom_attributes["scalearc-role"])]
        )
        for moid, vm in snapshot.vms.items()
    }
    snapshot = msgspec.structs.replace(snapshot, vms=both)
    final = run_whatif(snapshot, [{"switchover": "p1"}]).run.final
    p = final.vms[vm_moid(final, "sa-p")]
    assert p.custom_attributes["scalearc-role"] == "secondary"
    assert [t.name for t in p.tags if t.category == "scalearc-role"] == ["secondary"]
    assert roles(final) == {"sa-p": "secondary", "sa-s": "primary"}


def test_with_role_matches_attribute_and_category_names_case_insensitively() -> None:
    vm = build(PAIR).vms["vm-1"]
    vm = msgspec.structs.replace(
        vm,
        custom_attributes={"ScaleArc-Role": "Primary ", "owner": "dba"},
        tags=[Tag(category="SCALEARC-ROLE", name="primary"), Tag(category="env", name="prod")],
    )
    switched = with_role(vm, ApplianceSelection(), Role.SECONDARY)
    assert switched.custom_attributes == {"ScaleArc-Role": "secondary", "owner": "dba"}
    assert sorted(switched.tags, key=lambda t: t.category) == [
        Tag(category="SCALEARC-ROLE", name="secondary"),
        Tag(category="env", name="prod"),
    ]


# -- vendor step 1: only the secondary moves ----------------------------------------------


def test_cold_move_of_a_primary_after_a_failover_breaks_step_1() -> None:
    snapshot = build(PAIR)
    whatif = run_whatif(
        snapshot, [{"power_off": "sa-p"}, {"migrate": "sa-p", "to": "esx-3", "mode": "cold"}]
    )
    final = whatif.run.final
    assert host_of(final, "sa-p") == "esx-3"
    assert roles(final) == {"sa-p": "secondary", "sa-s": "primary"}
    (finding,) = [r for r in whatif.document.results if r.rule == "PLAN007"]
    assert finding.status is Status.FAIL and finding.severity is Severity.ERROR
    assert "became the secondary by a failover at step 1" in finding.message


def test_cold_move_of_a_primary_whose_partner_is_down_breaks_step_1() -> None:
    snapshot = build(PAIR)
    whatif = run_whatif(
        snapshot,
        [
            {"power_off": "sa-s"},
            {"power_off": "sa-p"},
            {"migrate": "sa-p", "to": "esx-3", "mode": "cold"},
        ],
    )
    assert roles(whatif.run.final)["sa-p"] == "primary"
    assert failing(whatif.document.results) == {("PLAN007", 3)}
    assert "is the primary" in next(
        r.message for r in whatif.document.results if r.rule == "PLAN007"
    )


def test_cold_move_of_the_primary_switched_over_first_is_accepted() -> None:
    snapshot = build(PAIR)
    whatif = run_whatif(
        snapshot,
        [
            {"switchover": "p1"},
            {"power_off": "sa-p"},
            {"migrate": "sa-p", "to": "esx-3", "mode": "cold"},
            {"power_on": "sa-p"},
        ],
    )
    assert failing(whatif.document.results) == set()
    assert new_failures(whatif.document.results) == []
    assert (host_of(whatif.run.final, "sa-p"), roles(whatif.run.final)["sa-p"]) == (
        "esx-3",
        "secondary",
    )
    plan007 = next(r for r in whatif.document.results if r.rule == "PLAN007")
    switchover_at = plan007.object.id.replace(":4", ":2")
    assert plan007.message == f"sa-p is the secondary by the switchover at step 1 ({switchover_at})"


# -- a role belongs to the moment of the event -------------------------------------------


def test_vendor_procedure_after_a_past_vmotion_of_the_secondary_is_accepted() -> None:
    # Last week the secondary was vMotioned, as the vendor allows. After the plan's
    # switchover it is the primary: that vMotion must stay a secondary's.
    snapshot = build(
        {**PAIR, "events": [{"vm": "sa-s", "kind": "hot-migrate", "live": True, "age": "6d"}]}
    )
    whatif = run_whatif(
        snapshot, pair_move("p1", "sa-p", "sa-s", primary_to="esx-2", secondary_to="esx-3")
    )
    assert new_failures(whatif.document.results) == []
    assert all(
        r.status is Status.PASS for r in whatif.document.results if r.rule.startswith("PLAN")
    )
    assert roles(whatif.run.final) == {"sa-p": "secondary", "sa-s": "primary"}
    assert (host_of(whatif.run.final, "sa-p"), host_of(whatif.run.final, "sa-s")) == (
        "esx-2",
        "esx-3",
    )
    assert not [r for r in whatif.document.results if r.rule == "SA009" and r.status is Status.FAIL]


def test_a_switchover_does_not_fix_a_past_vmotion_of_the_then_primary() -> None:
    snapshot = build({**PAIR, "events": [{"vm": "sa-p", "kind": "drs-migrate", "age": "7d"}]})
    whatif = run_whatif(snapshot, [{"switchover": "p1"}])
    assert roles(whatif.run.final)["sa-p"] == "secondary"
    (sa009,) = [r for r in whatif.document.results if r.rule == "SA009"]
    assert (sa009.status, sa009.baseline, sa009.object.name) == (
        Status.FAIL,
        "persisting",
        "sa-p",
    )
    assert "fixed" not in {r.baseline for r in whatif.document.results}
    assert not isinstance(whatif.document.comparison, msgspec.UnsetType)
    assert whatif.document.comparison.gone == []


def test_live_move_of_a_secondary_demoted_by_stopping_the_primary_breaks_step_1() -> None:
    snapshot = build(PAIR)
    whatif = run_whatif(
        snapshot, [{"stop_services": "sa-p"}, {"migrate": "sa-p", "to": "esx-3", "mode": "live"}]
    )
    assert roles(whatif.run.final) == {"sa-p": "secondary", "sa-s": "primary"}
    assert ("PLAN007", 2) in failing(whatif.document.results)
    assert ("PLAN001", 2) not in failing(whatif.document.results)  # it is the secondary now


@pytest.mark.parametrize(("mode", "rule"), [("live", "PLAN001"), ("cold", "PLAN007")])
def test_moving_an_appliance_whose_role_cannot_be_established_is_a_finding(
    mode: str, rule: str
) -> None:
    snapshot = build(
        {
            "hosts": 3,
            "appliances": {
                "sa-p": {"role": "primray", "pair": "p1", "host": "esx-1"},
                "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-2"},
            },
        }
    )
    steps: list[dict[str, Any]] = [{"migrate": "sa-p", "to": "esx-3", "mode": mode}]
    if mode == "cold":
        steps.insert(0, {"power_off": "sa-p"})
    whatif = run_whatif(snapshot, steps)
    (finding,) = [r for r in whatif.document.results if r.rule == rule]
    assert finding.status is Status.FAIL
    expected = "role of sa-p cannot be established at this step (role 'primray' is not"
    assert expected in finding.message
    assert host_of(whatif.run.final, "sa-p") == "esx-3"
