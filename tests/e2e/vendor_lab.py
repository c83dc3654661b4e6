"""Seed vcsim with what SA012-SA016 judge: DRS and HA restart events, HA restart priorities,
limits, snapshot piles and a VM that needs consolidation.

The simulator starts with one cluster of three hosts and eight VMs in the cluster's root pool
(``-cluster 1 -host 3 -vm 8``); the launcher switches vSphere HA on in the cluster (vcsim
ignores ``dasConfig`` in a reconfiguration) with its default restart priority unset (medium).

========== =============== ===================================================================
VM         role            what it holds for SA012-SA016
========== =============== ===================================================================
sa-a1      primary, a      HA override disabled; a DRS vMotion (DrsVmMigratedEvent)
sa-a2      secondary, a    no HA override (medium); vMotioned with a generated MAC
sa-b1      primary, b      HA override disabled; a memory limit of 16 MB on the VM (of 32)
sa-b2      secondary, b    HA override disabled; restarted by HA (EventEx); in a pool
                           whose CPU limit is 100 MHz
sa-c1      standalone      needs consolidation (set by the launcher)
sa-c2      standalone      two snapshots, one on the other; vMotioned with static MACs
app-1      -               a DRS vMotion, an HA restart (not an appliance: not judged)
app-2      -               -
========== =============== ===================================================================

Every appliance vNIC but sa-a2's gets a static MAC on the notifying portgroup DC0_DVPG0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scalearc_lint.exporter._vmomi import vim
from tests.e2e.lab import PAIR, ROLE, _connect, _edit_nic, _objects, connect, wait
from tests.vcsim_support import Vcsim

NAMES = ("sa-a1", "sa-a2", "sa-b1", "sa-b2", "sa-c1", "sa-c2", "app-1", "app-2")
ROLES = {
    "sa-a1": ("primary", "a"),
    "sa-a2": ("secondary", "a"),
    "sa-b1": ("primary", "b"),
    "sa-b2": ("secondary", "b"),
    "sa-c1": ("standalone", None),
    "sa-c2": ("standalone", None),
}
CAPPED_POOL = "sa-capped"


@dataclass
class VendorLab:
    """What the seeding did, by name."""

    vms: dict[str, str] = field(default_factory=dict)  # name -> moid
    hosts: list[str] = field(default_factory=list)
    cluster: str = ""
    capped_pool: str = ""


def seed_vendor_lab(sim: Vcsim) -> VendorLab:
    """Turn a fresh ``-cluster 1 -host 3 -vm 8`` simulator into the lab above."""
    si = connect(sim)
    try:
        return _seed(si, sim)
    finally:
        _connect.Disconnect(si)


def _allocation(limit: int) -> Any:
    return vim.ResourceAllocationInfo(
        reservation=0,
        limit=limit,
        expandableReservation=True,
        shares=vim.SharesInfo(level="normal", shares=0),
    )


def _seed(si: Any, sim: Vcsim) -> VendorLab:
    content = si.RetrieveContent()
    lab = VendorLab()
    cluster = _objects(si, vim.ClusterComputeResource)[0]
    hosts = _objects(si, vim.HostSystem)
    vms = _objects(si, vim.VirtualMachine)
    assert len(vms) == len(NAMES), f"expected {len(NAMES)} VMs, vcsim made {len(vms)}"
    lab.cluster, lab.hosts = cluster._moId, [h._moId for h in hosts]
    for vm, name in zip(vms, NAMES, strict=True):
        wait(vm.Rename_Task(newName=name))
        lab.vms[name] = vm._moId
    by_name = dict(zip(NAMES, vms, strict=True))
    for i, name in enumerate(NAMES):
        # vcsim's generated MACs repeat: every other vNIC gets a static unique one.
        if name != "sa-a2":
            _edit_nic(by_name[name], mac=f"00:50:56:2b:00:{i + 1:02x}")
    _edit_nic(by_name["sa-a2"])  # keeps its generated MAC

    fields = content.customFieldsManager
    role_field = fields.AddCustomFieldDef(name=ROLE, moType=vim.VirtualMachine)
    pair_field = fields.AddCustomFieldDef(name=PAIR, moType=vim.VirtualMachine)
    for name, (role, pair) in ROLES.items():
        fields.SetField(entity=by_name[name], key=role_field.key, value=role)
        if pair is not None:
            fields.SetField(entity=by_name[name], key=pair_field.key, value=pair)

    # Limits: 16 MB on sa-b1 itself (configured: 32 MB); a pool capped at 100 MHz for sa-b2.
    wait(by_name["sa-b1"].ReconfigVM_Task(spec=vim.vm.ConfigSpec(memoryAllocation=_allocation(16))))
    capped = cluster.resourcePool.CreateResourcePool(
        name=CAPPED_POOL,
        spec=vim.ResourceConfigSpec(
            cpuAllocation=_allocation(100), memoryAllocation=_allocation(-1)
        ),
    )
    lab.capped_pool = capped._moId
    wait(by_name["sa-b2"].RelocateVM_Task(spec=vim.vm.RelocateSpec(pool=capped)))

    # HA on, default restart priority unset; the pair members but sa-a2 are kept from it.
    sim.set_ha(lab.cluster, True, restart_priority="")
    spec = vim.cluster.ConfigSpecEx(
        dasVmConfigSpec=[
            vim.cluster.DasVmConfigSpec(
                operation="add",
                info=vim.cluster.DasVmConfigInfo(
                    key=by_name[name],
                    dasSettings=vim.cluster.DasVmSettings(restartPriority="disabled"),
                ),
            )
            for name in ("sa-a1", "sa-b1", "sa-b2")
        ]
    )
    wait(cluster.ReconfigureComputeResource_Task(spec=spec, modify=True))

    sim.set_consolidation_needed(lab.vms["sa-c1"], True)
    for snapshot in ("backup-1", "backup-2"):
        wait(
            by_name["sa-c2"].CreateSnapshot_Task(
                name=snapshot, description="lab", memory=False, quiesce=False
            )
        )
    _post_events(si, lab)
    return lab


def _post_events(si: Any, lab: VendorLab) -> None:
    """DRS moves, vMotions (start and end events of one chain) and HA restarts."""
    content = si.RetrieveContent()
    vms = {vm._moId: vm for vm in _objects(si, vim.VirtualMachine)}
    hosts = {h._moId: h for h in _objects(si, vim.HostSystem)}
    now = datetime.now(UTC)

    def vm_arg(name: str) -> Any:
        return vim.event.VmEventArgument(vm=vms[lab.vms[name]], name=name)

    def host_arg(index: int) -> Any:
        return vim.event.HostEventArgument(host=hosts[lab.hosts[index]], name=f"H{index}")

    def base(name: str, chain: int = 0) -> dict[str, Any]:
        return {"key": 0, "chainId": chain, "createdTime": now, "userName": "", "vm": vm_arg(name)}

    events: list[Any] = []
    for name in ("sa-a1", "app-1"):
        events.append(
            vim.event.DrsVmMigratedEvent(**base(name), host=host_arg(0), sourceHost=host_arg(1))
        )
    for chain, name in ((71, "sa-a2"), (72, "sa-c2")):
        events.append(
            vim.event.VmBeingHotMigratedEvent(
                **base(name, chain), host=host_arg(1), destHost=host_arg(2)
            )
        )
        # vcsim panics on a posted VmMigratedEvent; a VmRelocatedEvent ends the chain.
        events.append(
            vim.event.VmRelocatedEvent(
                **base(name, chain), host=host_arg(2), sourceHost=host_arg(1)
            )
        )
    for name in ("sa-b2", "app-1"):
        events.append(
            vim.event.EventEx(
                **base(name), host=host_arg(0), eventTypeId="com.vmware.vc.ha.VmRestartedByHAEvent"
            )
        )
    for event in events:
        content.eventManager.PostEvent(eventToPost=event)
