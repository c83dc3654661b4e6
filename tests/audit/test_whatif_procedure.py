"""The vendor's manual steps as plan steps (PLAN008): required, in order, around each live
migration of a secondary; a warning, so plans written before them keep passing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.engine.results import Result
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.errors import InputError
from scalearc_lint.snapshot.model import Snapshot
from scalearc_lint.testing import run_whatif, secondary_live_move
from tests.audit.conftest import EXAMPLES, Ran, host_of

Cli = Callable[..., Ran]
WriteYaml = Callable[[str, Any], Path]
MOVE = secondary_live_move("sa-a2", "esx-3")  # 1 stop, 2 migrate, 3 connectivity, 4 lag, 5 start


def plan008(lab: Snapshot, steps: list[dict[str, Any]]) -> dict[int, Result]:
    """PLAN008's result at each step number it judges."""
    results = run_whatif(lab, steps).document.results
    return {int(r.object.name.split()[1]): r for r in results if r.rule == "PLAN008"}


def test_the_manual_steps_in_order_pass(lab: Snapshot) -> None:
    judged = plan008(lab, MOVE)
    assert {step: r.status for step, r in judged.items()} == dict.fromkeys(range(1, 6), Status.PASS)
    assert judged[2].message == (
        "services of sa-a2 stopped at step 1; connectivity and HA lag checked at steps 3 and 4; "
        "services started at step 5"
    )


def test_a_plan_without_them_still_passes_the_default_gate_with_a_warning(
    cli: Cli, lab_file: Path, write_yaml: WriteYaml, tmp_path: Path
) -> None:
    plan = write_yaml("p.yaml", {"steps": [{"migrate": "sa-a2", "to": "esx-3", "mode": "live"}]})
    out = tmp_path / "r.json"
    ran = cli("whatif", lab_file, "--plan", plan, "--json", out, "-q")
    assert ran.code == 0, ran.out
    assert "broken    PLAN008 warning" in ran.out
    (finding,) = [r for r in json.loads(out.read_text())["results"] if r["rule"] == "PLAN008"]
    assert (finding["status"], finding["severity"], finding["baseline"]) == (
        "fail",
        "warning",
        "new",
    )
    assert "without the vendor's manual steps" in finding["message"]
    assert cli("whatif", lab_file, "--plan", plan, "--fail-on", "warning", "-q").code == 1


@pytest.mark.parametrize(
    ("steps", "step", "words"),
    [
        (
            [step for step in MOVE if "stop_services" not in step],
            1,
            "no stop_services before it",
        ),
        (
            [step for step in MOVE if "check_connectivity" not in step],
            2,
            "no check_connectivity before the check_ha_lag at step 3",
        ),
        (
            [step for step in MOVE if "check_ha_lag" not in step],
            2,
            "no check_ha_lag after the check_connectivity at step 3, before the start_services",
        ),
        ([step for step in MOVE if "start_services" not in step], 2, "never started again"),
        ([MOVE[0], MOVE[1], MOVE[3], MOVE[2], MOVE[4]], 2, "the check_ha_lag at step 3 comes"),
        ([MOVE[0], MOVE[2], MOVE[1], MOVE[3], MOVE[4]], 3, "no check_connectivity before"),
    ],
    ids=["no-stop", "no-connectivity", "no-lag", "no-start", "lag-first", "check-before-move"],
)
def test_a_missing_or_misplaced_manual_step_is_a_warning_at_the_move(
    lab: Snapshot, steps: list[dict[str, Any]], step: int, words: str
) -> None:
    judged = plan008(lab, steps)
    finding = judged[step]
    assert (finding.status, finding.severity) == (Status.FAIL, Severity.WARNING)
    assert words in finding.message


def test_a_check_before_the_move_is_itself_misplaced(lab: Snapshot) -> None:
    judged = plan008(lab, [MOVE[0], MOVE[2], MOVE[1], MOVE[3], MOVE[4]])
    assert judged[2].status is Status.FAIL  # check_connectivity before the migration
    assert "not after a live migration of sa-a2" in judged[2].message


def test_a_switchover_while_the_secondarys_services_are_stopped_is_a_finding(
    lab: Snapshot,
) -> None:
    steps = [*MOVE[:4], {"switchover": "alpha"}, MOVE[4]]
    judged = plan008(lab, steps)
    assert judged[5].status is Status.FAIL
    assert "switchover while the services of sa-a2 are stopped" in judged[5].message


def test_manual_steps_on_the_primary_are_a_finding(lab: Snapshot) -> None:
    judged = plan008(lab, [{"check_connectivity": "sa-a1"}])
    assert judged[1].status is Status.FAIL
    assert "sa-a1 is the primary at this step" in judged[1].message


def test_manual_steps_around_no_migration_are_a_finding(lab: Snapshot) -> None:
    judged = plan008(lab, [{"stop_services": "sa-a2"}, {"start_services": "sa-a2"}])
    assert [judged[1].status, judged[2].status] == [Status.FAIL, Status.FAIL]
    assert "no live migration of sa-a2 follows" in judged[1].message


def test_maintenance_that_vmotions_a_secondary_needs_the_manual_steps_too(
    lab: Snapshot,
) -> None:
    # esx-2 holds the secondary sa-a2 and web-1; maintenance vMotions both.
    wrapped = [
        {"stop_services": "sa-a2"},
        {"maintenance": "esx-2"},
        {"check_connectivity": "sa-a2"},
        {"check_ha_lag": "sa-a2"},
        {"start_services": "sa-a2"},
    ]
    whatif = run_whatif(lab, wrapped)
    assert host_of(whatif.run.final, "sa-a2") not in ("esx-1", "esx-2")
    statuses = {r.status for r in whatif.document.results if r.rule.startswith("PLAN")}
    assert statuses == {Status.PASS}
    bare = plan008(lab, [{"maintenance": "esx-2"}])
    assert bare[1].status is Status.FAIL


def test_a_manual_step_on_an_ordinary_vm_is_a_plan_error(lab: Snapshot) -> None:
    with pytest.raises(InputError, match=r"plan\.yaml:2: step 1 \(check_ha_lag\): web-1 is not"):
        run_whatif(lab, [{"check_ha_lag": "web-1"}])


def test_the_example_plan_carries_the_manual_steps(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    ran = cli("whatif", EXAMPLES / "lab.json", "--plan", EXAMPLES / "plan-good.yaml", "--json", out)
    assert ran.code == 0
    plan_results = [
        r for r in json.loads(out.read_text())["results"] if r["rule"].startswith("PLAN")
    ]
    assert {r["status"] for r in plan_results} == {"pass"}
    manual = {r["object"]["name"].split()[3] for r in plan_results if r["rule"] == "PLAN008"}
    assert {"stop_services", "check_connectivity", "check_ha_lag", "start_services"} <= manual
