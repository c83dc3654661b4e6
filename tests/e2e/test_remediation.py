"""The closed loop against vcsim: export, check, fix, whatif, apply, export, check.

vcsim 0.24 lacks HostNetworkSystem.UpdatePortGroup (a standard portgroup's policy) and
ResourcePool.MoveIntoResourcePool (apply moves a VM between pools with RelocateVM_Task,
which vCenter accepts too); the lab's appliances use distributed portgroups, and a
NoPermission fault set through the launcher stands in for a failing task.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.exporter._vmomi import vim
from tests.e2e.conftest import PASSWORD_ENV, CliRun, check_json, export, run_cli
from tests.e2e.lab import Lab, connect, seed_lab, wait
from tests.vcsim_support import Vcsim, running_vcsim

#: SOAP methods that change vCenter (every other call apply makes only reads).
WRITE_METHODS = (
    "ReconfigVM_Task",
    "PowerOffVM_Task",
    "PowerOnVM_Task",
    "RelocateVM_Task",
    "ReconfigureComputeResource_Task",
    "ReconfigureDVPortgroup_Task",
    "CreateResourcePool",
    "UpdateConfig",
    "RemoveSnapshot_Task",
    "RemoveAllSnapshots_Task",
    "CreateSnapshot_Task",
    "UpdatePortGroup",
)


def apply_argv(sim: Vcsim, plan: Path, *extra: str) -> list[str]:
    return [
        "apply",
        str(plan),
        "--server",
        sim.url,
        "--user",
        sim.user,
        "--password-env",
        PASSWORD_ENV,
        "--ca-file",
        sim.ca_file,
        *extra,
    ]


def run_apply(sim: Vcsim, plan: Path, *extra: str) -> CliRun:
    return run_cli(apply_argv(sim, plan, *extra), {PASSWORD_ENV: sim.password})


def writes(calls: list[str]) -> list[str]:
    return [c for c in calls if any(c == f"SOAP {m}" or c.startswith(f"SOAP {m} ") for m in WRITE_METHODS)]


def failing(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["rule"], r["object"]["name"]) for r in document["results"] if r["status"] == "fail"}


@pytest.fixture
def lab(vcsim_binary: Path) -> Iterator[tuple[Vcsim, Lab]]:
    with running_vcsim(cluster=1, host=3, vm=8) as sim:
        yield sim, seed_lab(sim)


def fixed_plan(sim: Vcsim, tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    snapshot = tmp_path / "before.json"
    assert export(sim, snapshot).code == 0
    code, before = check_json(snapshot, tmp_path)
    assert code == 1
    plan = tmp_path / "plan.yaml"
    ran = run_cli(["fix", str(snapshot), "-o", str(plan)])
    assert ran.code == 0, ran.stderr
    return snapshot, plan, before


def test_closed_loop_repairs_every_fixable_failure(lab: tuple[Vcsim, Lab], tmp_path: Path) -> None:
    sim, _ = lab
    snapshot, plan, before = fixed_plan(sim, tmp_path)
    whatif = run_cli(["whatif", str(snapshot), "--plan", str(plan), "-q"])
    assert whatif.code == 0, whatif.stdout + whatif.stderr
    start = len(sim.calls())
    dry = run_apply(sim, plan)
    assert dry.code == 0, dry.stderr
    assert "would call" in dry.stdout
    assert writes(sim.calls()[start:]) == [], "a dry run makes no write call"
    ran = run_apply(sim, plan, "--execute", "--yes")
    print(ran.stdout, ran.stderr)
    assert ran.code in (0, 4), ran.stderr
    # Manual steps (a switchover, an outage confirmation) stop a run without a terminal;
    # each resume confirms the one it stopped at.
    journal = Path(f"{plan}.journal.json")
    for _ in range(10):
        if ran.code != 4:
            break
        ran = run_apply(sim, plan, "--execute", "--yes", "--resume", str(journal))
        print(ran.stdout, ran.stderr)
    assert ran.code == 0, ran.stdout + ran.stderr
    after = tmp_path / "after.json"
    assert export(sim, after).code == 0
    _, now = check_json(after, tmp_path)
    planned = {
        (f["rule"], f["object"])
        for f in json.loads(json.dumps(__import__("yaml").safe_load(plan.read_text()).get("unplanned") or []))
    }
    still = failing(now) - {(r, o) for r, o in planned}
    historical = {(r, o) for r, o in failing(before) if r in ("SA009", "SA010", "SA012")}
    assert still <= historical, [r["message"] for r in now["results"] if r["status"] == "fail" and (r["rule"], r["object"]["name"]) in still - historical]
    assert failing(now) <= failing(before), f"newly failing: {sorted(failing(now) - failing(before))}"
