"""Export what only a faithful exporter keeps, then check it: the DRS VM-overrides switch,
chained and extended (EventEx) migration events, HA restarts and VM-Host rules.

A fresh simulator (one cluster of three hosts, five VMs) is seeded as:

========= ================ ===== ================================================================
VM        role (attribute) host  events
========= ================ ===== ================================================================
sa-enc    standalone       H0    encrypted vMotion H1 -> H0: EventEx + VmRelocatedEvent, one chain
sa-dst    standalone       H2    EventEx DstVmMigratedEvent (a vMotion from another vCenter)
sa-cold   standalone       H1    cold relocation H0 -> H1: VmBeingRelocatedEvent + VmRelocatedEvent
sa-p      primary, pair x  H0    -
sa-s      secondary, pair x H1   EventEx VmRestartedByHAEvent on H1
========= ================ ===== ================================================================

Every appliance has a manual DRS override, but the cluster's VM overrides are switched
off (``enableVmBehaviorOverrides`` false) and its default is unset (fullyAutomated). The
pair has no anti-affinity rule; mandatory "must run on" VM-Host rules pin sa-p to {H0}
and sa-s to {H1, H2}.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.snapshot.model import SCHEMA_VERSION
from tests.e2e.conftest import check_json, export
from tests.e2e.lab import PAIR, ROLE, _connect, _objects, connect, wait
from tests.vcsim_support import Vcsim, running_vcsim

NAMES = ("sa-enc", "sa-dst", "sa-cold", "sa-p", "sa-s")
ENCRYPTED = "com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent"
ARRIVED = "com.vmware.vc.vm.DstVmMigratedEvent"
HA_RESTART = "com.vmware.vc.ha.VmRestartedByHAEvent"
ENCRYPTED_CHAIN, COLD_CHAIN = 9001, 9002


@dataclass
class Seeded:
    """The simulator, what was seeded (by name), the snapshot and the check results."""

    sim: Vcsim
    cluster: str = ""
    vms: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)

    def result(self, rule: str, name: str) -> dict[str, Any]:
        """The one result of ``rule`` for the object named ``name``."""
        (found,) = [
            r for r in self.results["results"] if r["rule"] == rule and r["object"]["name"] == name
        ]
        return dict(found)


def _seed(si: Any, sim: Vcsim, seeded: Seeded) -> None:
    content = si.RetrieveContent()
    cluster = _objects(si, vim.ClusterComputeResource)[0]
    hosts = _objects(si, vim.HostSystem)
    vms = _objects(si, vim.VirtualMachine)
    assert len(vms) == len(NAMES), f"expected {len(NAMES)} VMs, vcsim made {len(vms)}"
    seeded.cluster = cluster._moId
    seeded.hosts = {f"H{i}": h._moId for i, h in enumerate(hosts)}
    by_name = dict(zip(NAMES, vms, strict=True))
    for name, vm in by_name.items():
        wait(vm.Rename_Task(newName=name))
        seeded.vms[name] = vm._moId
    for name, host in (("sa-enc", 0), ("sa-dst", 2), ("sa-cold", 1), ("sa-p", 0), ("sa-s", 1)):
        wait(by_name[name].RelocateVM_Task(spec=vim.vm.RelocateSpec(host=hosts[host])))

    fields = content.customFieldsManager
    role = fields.AddCustomFieldDef(name=ROLE, moType=vim.VirtualMachine)
    pair = fields.AddCustomFieldDef(name=PAIR, moType=vim.VirtualMachine)
    roles = {"sa-p": "primary", "sa-s": "secondary"}
    for name, vm in by_name.items():
        fields.SetField(entity=vm, key=role.key, value=roles.get(name, "standalone"))
        if name in roles:
            fields.SetField(entity=vm, key=pair.key, value="x")

    groups = [
        vim.cluster.VmGroup(name="sa-p-vms", vm=[by_name["sa-p"]]),
        vim.cluster.VmGroup(name="sa-s-vms", vm=[by_name["sa-s"]]),
        vim.cluster.HostGroup(name="hosts-a", host=[hosts[0]]),
        vim.cluster.HostGroup(name="hosts-b", host=[hosts[1], hosts[2]]),
    ]
    rules = [
        vim.cluster.VmHostRuleInfo(
            name=f"{member}-must-run-on-{group}",
            enabled=True,
            mandatory=True,
            vmGroupName=f"{member}-vms",
            affineHostGroupName=group,
        )
        for member, group in (("sa-p", "hosts-a"), ("sa-s", "hosts-b"))
    ]
    spec = vim.cluster.ConfigSpecEx(
        groupSpec=[vim.cluster.GroupSpec(operation="add", info=g) for g in groups],
        rulesSpec=[vim.cluster.RuleSpec(operation="add", info=r) for r in rules],
        drsVmConfigSpec=[
            vim.cluster.DrsVmConfigSpec(
                operation="add",
                info=vim.cluster.DrsVmConfigInfo(key=vm, enabled=True, behavior="manual"),
            )
            for vm in by_name.values()
        ],
    )
    wait(cluster.ReconfigureComputeResource_Task(spec=spec, modify=True))
    sim.set_vm_overrides_enabled(cluster._moId, False)

    now = datetime.now(UTC)

    def vm_arg(name: str) -> Any:
        return vim.event.VmEventArgument(vm=by_name[name], name=name)

    def host_arg(index: int) -> Any:
        return vim.event.HostEventArgument(host=hosts[index], name=f"H{index}")

    def base(name: str, chain: int = 0) -> dict[str, Any]:
        return {"key": 0, "chainId": chain, "createdTime": now, "userName": "", "vm": vm_arg(name)}

    events = [
        vim.event.EventEx(
            **base("sa-enc", ENCRYPTED_CHAIN), host=host_arg(1), eventTypeId=ENCRYPTED
        ),
        vim.event.VmRelocatedEvent(
            **base("sa-enc", ENCRYPTED_CHAIN), host=host_arg(0), sourceHost=host_arg(1)
        ),
        vim.event.EventEx(**base("sa-dst"), host=host_arg(2), eventTypeId=ARRIVED),
        vim.event.VmBeingRelocatedEvent(
            **base("sa-cold", COLD_CHAIN), host=host_arg(0), destHost=host_arg(1)
        ),
        vim.event.VmRelocatedEvent(
            **base("sa-cold", COLD_CHAIN), host=host_arg(1), sourceHost=host_arg(0)
        ),
        vim.event.EventEx(**base("sa-s"), host=host_arg(1), eventTypeId=HA_RESTART),
    ]
    for event in events:
        content.eventManager.PostEvent(eventToPost=event)


@pytest.fixture(scope="module")
def seeded(vcsim_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The simulator seeded as above, exported once and checked once."""
    with running_vcsim(cluster=1, host=3, vm=len(NAMES)) as sim:
        seeded = Seeded(sim)
        si = connect(sim)
        try:
            _seed(si, sim, seeded)
        finally:
            _connect.Disconnect(si)
        out = tmp_path_factory.mktemp("fidelity")
        path = out / "snapshot.json"
        run = export(sim, path)
        assert run.code == 0, run.stderr
        seeded.snapshot = json.loads(path.read_text())
        code, seeded.results = check_json(path, out)
        assert code == 1
        yield seeded


def test_the_drs_vm_overrides_switch_is_exported(seeded: Seeded) -> None:
    drs = seeded.snapshot["clusters"][seeded.cluster]["drs"]
    assert drs["enable_vm_behavior_overrides"] is False
    assert {o["behavior"] for o in drs["vm_overrides"].values()} == {"manual"}


def test_manual_overrides_are_ignored_when_the_cluster_switches_them_off(
    seeded: Seeded,
) -> None:
    for name in NAMES:
        result = seeded.result("SA006", name)
        assert result["status"] == "fail", result
        assert "enableVmBehaviorOverrides false" in result["message"]


def test_event_types_chains_and_hosts_are_exported(seeded: Seeded) -> None:
    log = seeded.snapshot["events"]
    assert seeded.snapshot["schema_version"] == SCHEMA_VERSION == 3
    assert {ENCRYPTED, ARRIVED, HA_RESTART, "VmBeingRelocatedEvent"} <= set(log["event_types"])
    vm_names = {moid: name for name, moid in seeded.vms.items()}
    got = [
        (vm_names[e["vm"]], e["type"], e["kind"], e.get("chain_id"), e.get("live"))
        for e in log["items"]
    ]
    assert got == [
        ("sa-enc", ENCRYPTED, "hot-migrate", ENCRYPTED_CHAIN, True),
        ("sa-enc", "VmRelocatedEvent", "relocate", ENCRYPTED_CHAIN, None),
        ("sa-dst", ARRIVED, "cross-vcenter-migrate", got[2][3], True),
        ("sa-cold", "VmBeingRelocatedEvent", "cold-migrate", COLD_CHAIN, False),
        ("sa-cold", "VmRelocatedEvent", "relocate", COLD_CHAIN, None),
        ("sa-s", HA_RESTART, "ha-restart", got[5][3], None),
    ]
    relocated = log["items"][1]
    assert (relocated["source_host"], relocated["dest_host"]) == (
        seeded.hosts["H1"],
        seeded.hosts["H0"],
    )
    assert (relocated["source_host_name"], relocated["dest_host_name"]) == ("H1", "H0")
    restarted = log["items"][5]
    assert restarted["dest_host"] == seeded.hosts["H1"]


def test_sa009_tells_live_from_cold_by_chain_and_reads_eventex(seeded: Seeded) -> None:
    encrypted = seeded.result("SA009", "sa-enc")
    assert encrypted["status"] == "fail", encrypted
    assert "from H1 to H0" in encrypted["message"]
    assert seeded.result("SA009", "sa-dst")["status"] == "fail"
    cold = seeded.result("SA009", "sa-cold")
    assert cold["status"] == "pass", cold
    assert "cold migration from H0 to H1" in cold["message"]
    assert seeded.result("SA009", "sa-p")["status"] == "pass"


def test_must_run_on_rules_to_disjoint_host_groups_keep_the_pair_apart(
    seeded: Seeded,
) -> None:
    rules = seeded.snapshot["clusters"][seeded.cluster]["rules"]
    assert {(r["name"], r["kind"], r["mandatory"], r["affine"]) for r in rules} == {
        ("sa-p-must-run-on-hosts-a", "vm-host", True, True),
        ("sa-s-must-run-on-hosts-b", "vm-host", True, True),
    }
    result = seeded.result("SA005", "x")
    assert result["status"] == "pass", result
    assert "disjoint" in result["message"]
