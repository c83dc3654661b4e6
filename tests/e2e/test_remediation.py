"""The closed loop against vcsim: export, check, fix, whatif, apply, export, check.

The lab (tests/e2e/lab.py) fails every rule fix repairs; for these tests its cluster also
ignores VM overrides (so SA006 fails on every appliance and the plan switches overrides
on), and the beta pair runs, so power-off work on its primary follows a manual
switchover, where apply pauses.

For SA013-SA015 the fixture also turns vSphere HA on in the cluster (through the
launcher: vcsim ignores dasConfig in a reconfiguration), so every pair member would be
restarted by HA (default priority unset = medium); caps sa-alpha-2's CPU with a VM limit
below its size; and stacks two snapshots on sa-alpha-1, one on top of the other.

vcsim 0.24 lacks HostNetworkSystem.UpdatePortGroup (a standard portgroup's policy),
ResourcePool.MoveIntoResourcePool (apply moves a VM between pools with RelocateVM_Task,
which vCenter accepts too) and VirtualMachine.ConsolidateVMDisks_Task (SA015's
consolidation: the test shows apply calls it and stops cleanly at vcsim's fault; the
closed loop plants SA015's snapshot pile instead), and ignores drsConfig in
ReconfigureComputeResource_Task (the launcher sets enableVmBehaviorOverrides from the
request, as vCenter does); the lab's appliances use distributed portgroups, and a
NoPermission fault set through the launcher stands in for a failing task. A limit on a
resource pool above an appliance (SA014's other case) is not seeded: the lab's pool
reserves the appliances' full size, and vCenter refuses a limit below a reservation, so
that case is proven by the unit and property tests only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalearc_lint.exporter._vmomi import vim
from tests.audit.test_fix_properties import REPAIRED
from tests.e2e.conftest import PASSWORD_ENV, CliRun, check_json, export, one_error_line, run_cli
from tests.e2e.lab import Lab, connect, power_on, seed_lab, switch_over_beta, wait
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
    "ConsolidateVMDisks_Task",
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
    return [
        c
        for c in calls
        if any(c == f"SOAP {m}" or c.startswith(f"SOAP {m} ") for m in WRITE_METHODS)
    ]


def failing(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["rule"], r["object"]["name"]) for r in document["results"] if r["status"] == "fail"}


@pytest.fixture
def lab(vcsim_binary: Path) -> Iterator[tuple[Vcsim, Lab]]:
    with running_vcsim(cluster=1, host=3, vm=8) as sim:
        seeded = seed_lab(sim)
        sim.set_vm_overrides_enabled(seeded.cluster, False)
        sim.set_ha(seeded.cluster, True)
        seed_vendor_rules(sim, seeded)
        power_on(sim, seeded, "sa-beta-1", "sa-beta-2")
        yield sim, seeded


def seed_vendor_rules(sim: Vcsim, seeded: Lab) -> None:
    """SA014: a CPU limit of 100 MHz on sa-alpha-2; SA015: a snapshot on top of another
    on sa-alpha-1."""
    si = connect(sim)
    try:
        view = si.content.viewManager.CreateContainerView(
            si.content.rootFolder, [vim.VirtualMachine], True
        )
        vms = {v._moId: v for v in view.view}
        capped = vim.vm.ConfigSpec(cpuAllocation=vim.ResourceAllocationInfo(limit=100))
        wait(vms[seeded.vms["sa-alpha-2"]].ReconfigVM_Task(spec=capped))
        for name in ("nightly-1", "nightly-2"):
            wait(
                vms[seeded.vms["sa-alpha-1"]].CreateSnapshot_Task(
                    name=name, description="lab", memory=False, quiesce=False
                )
            )
    finally:
        si.content.sessionManager.Logout()


def fixed_plan(sim: Vcsim, tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    snapshot = tmp_path / "before.json"
    assert export(sim, snapshot).code == 0
    code, before = check_json(snapshot, tmp_path)
    assert code == 1
    plan = tmp_path / "plan.yaml"
    # As check_json does: vcsim stamps snapshots "now", so ages are judged two days later.
    exported_at = datetime.fromisoformat(json.loads(snapshot.read_text())["exported_at"])
    as_of = (exported_at + timedelta(days=2)).isoformat()
    ran = run_cli(["fix", str(snapshot), "-o", str(plan), "--as-of", as_of])
    assert ran.code == 0, ran.stderr
    return snapshot, plan, before


def journal_of(plan: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(f"{plan}.journal.json").read_text())
    return document


def resume(sim: Vcsim, plan: Path) -> CliRun:
    return run_apply(sim, plan, "--execute", "--yes", "--resume", f"{plan}.journal.json")


def test_closed_loop_repairs_every_fixable_failure(lab: tuple[Vcsim, Lab], tmp_path: Path) -> None:
    sim, seeded = lab
    snapshot, plan, before = fixed_plan(sim, tmp_path)
    fixable = {rule for rule, _ in failing(before) if rule in REPAIRED}
    assert fixable == set(REPAIRED), "the lab fails every rule fix repairs"
    steps = [next(iter(step)) for step in yaml.safe_load(plan.read_text())["steps"]]
    assert "drs_vm_overrides" in steps and "switchover" in steps
    exported_at = datetime.fromisoformat(json.loads(snapshot.read_text())["exported_at"])
    as_of = (exported_at + timedelta(days=2)).isoformat()
    whatif = run_cli(["whatif", str(snapshot), "--plan", str(plan), "-q", "--as-of", as_of])
    assert whatif.code == 0, whatif.stdout + whatif.stderr

    start = len(sim.calls())
    dry = run_apply(sim, plan)
    assert dry.code == 0, dry.stderr
    assert "would call" in dry.stdout and "would pause for a person" in dry.stdout
    assert writes(sim.calls()[start:]) == [], "a dry run makes no write call"

    # Without a terminal, --yes runs up to the first manual step: the beta switchover.
    start = len(sim.calls())
    ran = run_apply(sim, plan, "--execute", "--yes")
    assert ran.code == 4, ran.stdout + ran.stderr
    switchover = steps.index("switchover") + 1
    journal = journal_of(plan)
    assert (journal["stopped_at"], journal["stopped_because"]) == (switchover, "manual")
    assert f"step {switchover}/{len(steps)}" in ran.stdout and "MANUAL" in ran.stdout
    assert f"--resume {plan}.journal.json" in ran.stdout, "it prints the resume command"
    done = [s["index"] for s in journal["steps"] if s["status"] == "done"]
    assert done == list(range(1, switchover)), "every step before the pause, none after"
    power_offs = [c for c in writes(sim.calls()[start:]) if c.startswith("SOAP PowerOffVM_Task")]
    assert len(power_offs) == steps[: switchover - 1].count("power_off")

    switch_over_beta(sim, seeded)  # the person switches the pair over, as the step says
    ran = resume(sim, plan)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.stdout.startswith(f"step {switchover}: confirmed by --resume")

    after = tmp_path / "after.json"
    assert export(sim, after).code == 0
    _, now = check_json(after, tmp_path)
    still = sorted((rule, name) for rule, name in failing(now) if rule in REPAIRED)
    assert still == [], [
        r["message"] for r in now["results"] if (r["rule"], r["object"]["name"]) in still
    ]
    assert failing(now) <= failing(before), (
        f"newly failing: {sorted(failing(now) - failing(before))}"
    )
    listed = {(f["rule"], f["object"]) for f in yaml.safe_load(plan.read_text())["unplanned"]}
    # History stays: a finding the plan only prevents a repeat of still fails.
    prevented = set(re.findall(r"# prevents a repeat of (\S+) (\S+):", plan.read_text()))
    assert failing(now) <= listed | prevented


def test_apply_refuses_a_plan_whose_objects_changed_since_fix(
    lab: tuple[Vcsim, Lab], tmp_path: Path
) -> None:
    sim, seeded = lab
    _, plan, _ = fixed_plan(sim, tmp_path)
    si = connect(sim)
    try:
        view = si.content.viewManager.CreateContainerView(
            si.content.rootFolder, [vim.VirtualMachine], True
        )
        vm = next(v for v in view.view if v._moId == seeded.vms["sa-beta-1"])
        wait(vm.PowerOffVM_Task())  # someone powers an appliance off after fix ran
    finally:
        si.content.sessionManager.Logout()
    start = len(sim.calls())
    ran = run_apply(sim, plan, "--execute", "--yes")
    assert ran.code == 2
    assert "has changed since the plan was made" in ran.stderr
    assert "power_state was 'poweredOn', is now 'poweredOff'" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert writes(sim.calls()[start:]) == [], "nothing is written when the plan drifted"


def test_apply_stops_at_a_failed_task_and_resumes_from_its_journal(
    lab: tuple[Vcsim, Lab], tmp_path: Path
) -> None:
    sim, seeded = lab
    _, plan, _ = fixed_plan(sim, tmp_path)
    # The first reconfiguration (SA014's limit) goes through; the MAC changes are refused.
    sim.deny("ReconfigVM_Task", "VirtualMachine.Config.EditDevice", after=1)
    ran = run_apply(sim, plan, "--execute", "--yes")
    assert ran.code == 1, ran.stdout + ran.stderr
    assert "set_mac" in ran.stdout and "FAILED" in ran.stdout
    journal_path = Path(f"{plan}.journal.json")
    journal = json.loads(journal_path.read_text())
    assert journal["stopped_because"] == "failed"
    done = [s for s in journal["steps"] if s["status"] == "done"]
    assert done and all(s["inverse"] for s in done), "every step done records its inverse"
    failed_at = journal["stopped_at"]
    sim.allow_all()
    resumed = resume(sim, plan)
    first = resumed.stdout.splitlines()[0]
    assert first.startswith(f"step {failed_at}/"), "the resumed run starts at the failed step"
    # It goes on to the manual switchover, then (confirmed by the next resume) to the end.
    assert resumed.code == 4, resumed.stdout + resumed.stderr
    switch_over_beta(sim, seeded)
    assert resume(sim, plan).code == 0


def test_a_resume_of_another_plan_version_is_refused(
    lab: tuple[Vcsim, Lab], tmp_path: Path
) -> None:
    sim, _ = lab
    _, plan, _ = fixed_plan(sim, tmp_path)
    sim.deny("ReconfigVM_Task", "VirtualMachine.Config.EditDevice")
    assert run_apply(sim, plan, "--execute", "--yes").code == 1
    plan.write_text(plan.read_text() + "\n# edited\n")
    ran = run_apply(sim, plan, "--execute", "--yes", "--resume", f"{plan}.journal.json")
    assert ran.code == 2 and "edited since" in ran.stderr


def test_apply_refuses_a_plan_naming_an_unknown_object_before_writing(
    lab: tuple[Vcsim, Lab], tmp_path: Path
) -> None:
    sim, _ = lab
    _, plan, _ = fixed_plan(sim, tmp_path)
    # A hand edit names a VM vCenter does not have, in the plan's last step.
    text = plan.read_text()
    last = text.rindex("- add_anti_affinity: scalearc-beta-apart")
    plan.write_text(text[:last] + text[last:].replace("sa-beta-2", "sa-gamma-9", 1))
    start = len(sim.calls())
    ran = run_apply(sim, plan, "--execute", "--yes")
    assert ran.code == 2, ran.stdout + ran.stderr
    assert "no VM 'sa-gamma-9'" in one_error_line(ran.stderr)
    assert writes(sim.calls()[start:]) == [], "nothing is written before the whole plan validated"


def test_a_consolidation_is_called_and_vcsims_missing_method_stops_apply_cleanly(
    lab: tuple[Vcsim, Lab], tmp_path: Path
) -> None:
    # vcsim 0.24 has no ConsolidateVMDisks_Task: apply makes the call, gets vcsim's fault,
    # stops there and records it, as with any failing task on a real vCenter.
    sim, seeded = lab
    sim.set_consolidation_needed(seeded.vms["sa-alpha-2"], True)
    _, plan, before = fixed_plan(sim, tmp_path)
    assert ("SA015", "sa-alpha-2") in failing(before)
    steps = [next(iter(step)) for step in yaml.safe_load(plan.read_text())["steps"]]
    consolidate = steps.index("consolidate") + 1
    dry = run_apply(sim, plan)
    assert "ConsolidateVMDisks_Task()" in dry.stdout
    assert run_apply(sim, plan, "--execute", "--yes").code == 4  # the beta switchover
    switch_over_beta(sim, seeded)
    start = len(sim.calls())
    ran = resume(sim, plan)
    assert ran.code == 1, ran.stdout + ran.stderr
    assert "SOAP ConsolidateVMDisks_Task" in sim.calls()[start:]
    assert "consolidate sa-alpha-2: FAILED: MethodNotFound" in ran.stdout
    journal = journal_of(plan)
    assert (journal["stopped_at"], journal["stopped_because"]) == (consolidate, "failed")
