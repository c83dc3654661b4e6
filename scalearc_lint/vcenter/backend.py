"""pyVmomi calls for each plan step kind, and live reads of the objects a step touches.

vcsim 0.24 (the tests' simulator) lacks ``HostNetworkSystem.UpdatePortGroup`` (a standard
portgroup's policy: it answers with a fault, so the step fails and ``apply`` stops) and
``ResourcePool.MoveIntoResourcePool`` (``move_to_pool`` uses ``RelocateVM_Task`` with a
pool, which vCenter accepts too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from scalearc_lint.change.apply import StepFailed
from scalearc_lint.change.observed import KINDS, ObjectKey
from scalearc_lint.change.plan import StepOutcome, nic_of
from scalearc_lint.exporter import export_vcenter
from scalearc_lint.exporter import mapping as m
from scalearc_lint.exporter._vmomi import vim, vmodl
from scalearc_lint.exporter.collect import Reading, ThreadCollector, retrieve_one
from scalearc_lint.exporter.connection import Connection, Session, translate_faults
from scalearc_lint.exporter.decode import Retrieved, SessionLost
from scalearc_lint.snapshot.inventory import walk_snapshots
from scalearc_lint.snapshot.model import ClusterRule, Snapshot

_TYPES = {
    "vm": vim.VirtualMachine,
    "cluster": vim.ClusterComputeResource,
    "host": vim.HostSystem,
    "pool": vim.ResourcePool,
    "dv_portgroup": vim.dvs.DistributedVirtualPortgroup,
}
_PATHS = {
    "vm": m.VM_PATHS,
    "cluster": (*m.COMPUTE_PATHS, *m.CLUSTER_PATHS),
    "host": m.HOST_PATHS,
    "pool": m.POOL_PATHS,
    "dv_portgroup": m.DVPG_PATHS,
}


class VsphereBackend:
    """One vCenter session for ``apply``: reads through the exporter, writes here."""

    def __init__(self, connection: Connection, *, events_days: int = 1) -> None:
        self.connection = connection
        self.events_days = events_days
        self._session: Session | None = None
        self._collector: ThreadCollector | None = None

    @property
    def session(self) -> Session:
        """The session (opened on first use)."""
        if self._session is None:
            self._session = Session(self.connection)
        return self._session

    def close(self) -> None:
        """Log out."""
        if self._collector is not None:
            self._collector.destroy()
        if self._session is not None:
            self._session.logout()

    # -- reads ------------------------------------------------------------------------

    def export(self) -> Snapshot:
        """The whole vCenter, as ``export`` reads it."""
        return export_vcenter(self.connection, events_days=self.events_days)

    def _ref(self, kind: str, moid: str) -> Any:
        return _TYPES[kind](moid, self.session.content.propertyCollector._stub)

    def retrieve(
        self, obj: Any, paths: Sequence[str], *, as_objects: bool = True
    ) -> Retrieved | None:
        """Read ``paths`` of one object through the exporter's reader, logging in again
        once if the session was lost. The values are pyVmomi's objects, which a step may
        change and send back; ``as_objects=False`` gives the exporter's records instead."""
        session = self.session
        if self._collector is None:
            self._collector = ThreadCollector(session)
        for attempt in range(2):
            reading = Reading(session, threading.Event(), self._collector, session.logins)
            try:
                return retrieve_one(reading, obj, paths, as_objects=as_objects)
            except SessionLost:
                if attempt:
                    raise StepFailed("the vCenter session was lost twice in a row") from None
                session.relogin(reading.logins)
        return None

    def _one(
        self, kind: str, moid: str, paths: Sequence[str], *, as_objects: bool = True
    ) -> Retrieved | None:
        try:
            return self.retrieve(self._ref(kind, moid), paths, as_objects=as_objects)
        except vmodl.fault.ManagedObjectNotFound:
            return None

    def read(self, keys: Sequence[ObjectKey], base: Snapshot) -> Snapshot:
        """``base`` with the live state of ``keys`` (an object gone from vCenter is dropped).

        Each object is mapped by the exporter's own code; what only the whole inventory
        knows (which pool belongs to which cluster, a portgroup's key) comes from ``base``.
        """
        inventory = m.Inventory([], [])
        log = m.UnreadableLog()
        clusters = set(base.clusters)
        pool_owner = {p.moid: p.owner for p in base.resource_pools.values()}
        host_cluster = {h.moid: h.cluster for h in base.hosts.values()}
        dvpg_by_key = {pg.key or pg.moid: (pg.moid, pg.name) for pg in base.dv_portgroups.values()}
        result = base
        for kind, moid in keys:
            # The exporter's own records, mapped by the exporter's own code.
            item = self._one(kind, moid, _PATHS[kind], as_objects=False)
            old = getattr(base, KINDS[kind]).get(moid)
            if item is None or old is None:
                live: Any = None
            elif kind == "vm":
                live = m.vm_from(
                    item,
                    inventory,
                    pool_owner=pool_owner,
                    clusters=clusters,
                    host_cluster=host_cluster,
                    dvpg_by_key=dvpg_by_key,
                    field_names={},
                    log=log,
                )
                live = msgspec.structs.replace(
                    live,
                    datacenter=old.datacenter,
                    folder=old.folder,
                    custom_attributes=old.custom_attributes,
                    tags=old.tags,
                )
            elif kind == "cluster":
                live = msgspec.structs.replace(
                    m.cluster_from(item, inventory), datacenter=old.datacenter
                )
            elif kind == "host":
                live = msgspec.structs.replace(
                    m.host_from(item, inventory, clusters, log), datacenter=old.datacenter
                )
            elif kind == "pool":
                pool = m.pool_from(item, set(base.resource_pools), {})
                live = msgspec.structs.replace(pool, owner=old.owner)
            else:
                live = m.dv_portgroup_from(item)
            collection = dict(getattr(result, KINDS[kind]))
            if live is None:
                collection.pop(moid, None)
            else:
                collection[moid] = live
            result = msgspec.structs.replace(result, **{KINDS[kind]: collection})
        return result

    # -- writes -----------------------------------------------------------------------

    def call(self, outcome: StepOutcome) -> str:
        """The vSphere call that carries the step out, as text (the dry run prints it)."""
        return _CALLS[outcome.step.op][0](outcome)

    def perform(self, outcome: StepOutcome) -> dict[str, str]:
        """Carry the step out and wait for its task; StepFailed on any fault. Returns the
        moids vCenter gave objects the step created, by the simulation's placeholder moid."""
        server = self.connection.server
        try:
            with translate_faults(server):
                task = _CALLS[outcome.step.op][1](self, outcome)
                if isinstance(task, dict):
                    return task
                if task is not None:
                    self._wait(task)
                return {}
        except StepFailed:
            raise
        except vmodl.MethodFault as fault:
            raise StepFailed(_fault(fault)) from None
        except Exception as exc:
            raise StepFailed(f"{type(exc).__name__}: {exc}") from None

    def _wait(self, task: Any) -> None:
        """Wait for a task to end (polling its info through the PropertyCollector)."""
        delay = 0.05
        while True:
            item = self.retrieve(task, ["info.state", "info.error"])
            state = item.props.get("info.state") if item is not None else None
            if state == "success":
                return
            if state == "error":
                raise StepFailed(_fault(item.props.get("info.error") if item else None))
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _fault(fault: Any) -> str:
    if fault is None:
        return "the task failed"
    name = type(fault).__name__.split(".")[-1]
    message = getattr(fault, "msg", "") or getattr(fault, "localizedMessage", "") or ""
    privilege = getattr(fault, "privilegeId", None)
    extra = f" (privilege {privilege})" if privilege else ""
    return f"{name}{extra}{': ' + message if message else ''}"


# -- one call per step kind -----------------------------------------------------------


def _vm(outcome: StepOutcome) -> str:
    return outcome.vm or ""


def _changed(outcome: StepOutcome, collection: str) -> list[tuple[Any, Any]]:
    before: dict[str, Any] = getattr(outcome.before.snapshot, collection)
    after: dict[str, Any] = getattr(outcome.after.snapshot, collection)
    return [(before.get(k), v) for k, v in after.items() if before.get(k) is not v]


def _cluster_change(outcome: StepOutcome) -> Any:
    changed = _changed(outcome, "clusters")
    if len(changed) != 1:
        raise StepFailed("the step changes no single cluster")
    return changed[0]


def _reconfigure_cluster(backend: VsphereBackend, cluster: str, spec: Any) -> Any:
    ref = backend._ref("cluster", cluster)
    return ref.ReconfigureComputeResource_Task(spec=spec, modify=True)


def _drs_override(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    before, after = _cluster_change(outcome)
    vm = _vm(outcome)
    old, new = before.drs.vm_overrides.get(vm), after.drs.vm_overrides.get(vm)
    key = backend._ref("vm", vm)
    if new is None:
        spec = vim.cluster.DrsVmConfigSpec(operation="remove", removeKey=key)
    else:
        info = vim.cluster.DrsVmConfigInfo(
            key=key,
            enabled=new.enabled if new.enabled is not None else True,
            behavior=new.behavior,
        )
        spec = vim.cluster.DrsVmConfigSpec(operation="edit" if old else "add", info=info)
    return _reconfigure_cluster(
        backend, after.moid, vim.cluster.ConfigSpecEx(drsVmConfigSpec=[spec])
    )


def _ha_override(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    before, after = _cluster_change(outcome)
    vm = _vm(outcome)
    old, new = before.ha.vm_overrides.get(vm), after.ha.vm_overrides.get(vm)
    key = backend._ref("vm", vm)
    if new is None:
        spec = vim.cluster.DasVmConfigSpec(operation="remove", removeKey=key)
    else:
        settings = vim.cluster.DasVmSettings(restartPriority=new.restart_priority)
        info = vim.cluster.DasVmConfigInfo(key=key, dasSettings=settings)
        spec = vim.cluster.DasVmConfigSpec(operation="edit" if old else "add", info=info)
    return _reconfigure_cluster(
        backend, after.moid, vim.cluster.ConfigSpecEx(dasVmConfigSpec=[spec])
    )


def _drs_vm_overrides(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    _, after = _cluster_change(outcome)
    drs = vim.cluster.DrsConfigInfo(
        enableVmBehaviorOverrides=after.drs.enable_vm_behavior_overrides
    )
    return _reconfigure_cluster(backend, after.moid, vim.cluster.ConfigSpecEx(drsConfig=drs))


def _live_rules(backend: VsphereBackend, cluster: str) -> list[Any]:
    item = backend._one("cluster", cluster, ["configurationEx"])
    config = item.props.get("configurationEx") if item is not None else None
    return list(config.rule or ()) if config is not None else []


def _rules(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    """Add, enable or remove anti-affinity rules, told apart by key (names may repeat)."""
    before, after = _cluster_change(outcome)
    old = {r.key: r for r in before.rules if r.kind == "vm-anti-affinity"}
    new = {r.key: r for r in after.rules if r.kind == "vm-anti-affinity"}
    live = _live_rules(backend, after.moid)
    specs = []
    for key, rule in new.items():
        if key not in old:
            info = vim.cluster.AntiAffinityRuleSpec(
                name=rule.name,
                enabled=rule.enabled,
                mandatory=False,
                vm=[backend._ref("vm", v) for v in rule.vms],
            )
            specs.append(vim.cluster.RuleSpec(operation="add", info=info))
        elif old[key].enabled != rule.enabled:
            info = _live_rule(live, rule)
            info.enabled = rule.enabled
            specs.append(vim.cluster.RuleSpec(operation="edit", info=info))
    for key in old.keys() - new.keys():
        removed = _live_rule(live, old[key])
        specs.append(vim.cluster.RuleSpec(operation="remove", removeKey=removed.key))
    return _reconfigure_cluster(backend, after.moid, vim.cluster.ConfigSpecEx(rulesSpec=specs))


def _live_rule(live: Sequence[Any], rule: ClusterRule) -> Any:
    """vCenter's rule for a snapshot's: the same key and name; else (a rule an earlier
    step of this plan added, whose key vCenter chose) the only one of that name."""
    same = [r for r in live if r.key == rule.key and r.name == rule.name]
    if not same:
        same = [r for r in live if r.name == rule.name]
    if len(same) != 1:
        what = "several rules" if same else "no rule"
        raise StepFailed(f"vCenter has {what} named {rule.name!r} in the cluster")
    return same[0]


def _set_mac(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    vm = _vm(outcome)
    planned = outcome.after.snapshot.vms[vm]
    nic = nic_of(outcome.before.snapshot.vms[vm], outcome.step.params["nic"])
    mac = next(n.mac for n in planned.nics if nic is not None and n.key == nic.key)
    item = backend._one("vm", vm, ["config.hardware.device"])
    devices = item.props.get("config.hardware.device") or () if item is not None else ()
    device = next((d for d in devices if nic is not None and d.key == nic.key), None)
    if device is None:
        raise StepFailed(f"the vNIC {outcome.step.params['nic']} is gone from the VM")
    device.addressType = "manual"
    device.macAddress = mac
    change = vim.vm.device.VirtualDeviceSpec(operation="edit", device=device)
    return backend._ref("vm", vm).ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[change]))


def _bool(value: bool) -> Any:
    return vim.BoolPolicy(inherited=False, value=value)


def _portgroup_policy(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    params = outcome.step.params
    for _, pg in _changed(outcome, "dv_portgroups"):
        item = backend._one(
            "dv_portgroup", pg.moid, ["config.configVersion", "config.defaultPortConfig", "name"]
        )
        if item is None:
            raise StepFailed(f"portgroup {pg.name} is gone")
        port = item.props.get("config.defaultPortConfig") or (
            vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy()
        )
        if "notify_switches" in params:
            teaming = port.uplinkTeamingPolicy or (
                vim.dvs.VmwareDistributedVirtualSwitch.UplinkPortTeamingPolicy()
            )
            teaming.notifySwitches = _bool(True)
            port.uplinkTeamingPolicy = teaming
        if "mac_changes" in params or "forged_transmits" in params:
            security = (
                port.securityPolicy or vim.dvs.VmwareDistributedVirtualSwitch.SecurityPolicy()
            )
            if "mac_changes" in params:
                security.macChanges = _bool(True)
            if "forged_transmits" in params:
                security.forgedTransmits = _bool(True)
            port.securityPolicy = security
        spec = vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
            configVersion=item.props.get("config.configVersion"),
            name=item.props.get("name"),
            defaultPortConfig=port,
        )
        return backend._ref("dv_portgroup", pg.moid).ReconfigureDVPortgroup_Task(spec=spec)
    for _, host in _changed(outcome, "hosts"):
        item = backend._one(
            "host", host.moid, ["config.network.portgroup", "configManager.networkSystem"]
        )
        if item is None:
            raise StepFailed(f"host {host.name} is gone")
        name = str(outcome.step.target)
        found = [
            p.spec
            for p in item.props.get("config.network.portgroup") or ()
            if p.spec is not None and p.spec.name == name
        ]
        if not found:
            raise StepFailed(f"host {host.name} has no portgroup {name}")
        spec = found[0]
        policy = spec.policy or vim.host.NetworkPolicy()
        if "notify_switches" in params:
            teaming = policy.nicTeaming or vim.host.NetworkPolicy.NicTeamingPolicy()
            teaming.notifySwitches = True
            policy.nicTeaming = teaming
        if "mac_changes" in params or "forged_transmits" in params:
            security = policy.security or vim.host.NetworkPolicy.SecurityPolicy()
            if "mac_changes" in params:
                security.macChanges = True
            if "forged_transmits" in params:
                security.forgedTransmits = True
            policy.security = security
        spec.policy = policy
        item.props["configManager.networkSystem"].UpdatePortGroup(pgName=name, portgrp=spec)
        return None
    raise StepFailed("the step changes no portgroup")


def _allocation_info(allocation: Any) -> Any:
    return vim.ResourceAllocationInfo(
        reservation=allocation.reservation,
        limit=allocation.limit,
        expandableReservation=allocation.expandable,
        shares=vim.SharesInfo(level=allocation.shares_level, shares=allocation.shares),
    )


def _resource_spec(pool: Any) -> Any:
    return vim.ResourceConfigSpec(
        cpuAllocation=_allocation_info(pool.cpu), memoryAllocation=_allocation_info(pool.memory)
    )


def _create_pool(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    created = [new for old, new in _changed(outcome, "resource_pools") if old is None]
    if len(created) != 1 or created[0].parent is None:
        raise StepFailed("the step creates no single pool")
    pool = created[0]
    ref = backend._ref("pool", pool.parent).CreateResourcePool(
        name=pool.name, spec=_resource_spec(pool)
    )
    return {pool.moid: str(ref._moId)}


def _update_pool(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    for _, pool in _changed(outcome, "resource_pools"):
        backend._ref("pool", pool.moid).UpdateConfig(name=None, config=_resource_spec(pool))
    return None


def _pool_ref(backend: VsphereBackend, outcome: StepOutcome, moid: str) -> Any:
    pool = outcome.after.snapshot.resource_pools[moid]
    if not moid.startswith("resgroup-whatif-"):
        return backend._ref("pool", moid)
    item = backend._one("pool", pool.parent or "", ["resourcePool"])
    children = item.props.get("resourcePool") or () if item is not None else ()
    for child in children:
        found = backend.retrieve(child, ["name"])
        if found is not None and found.props.get("name") == pool.name:
            return child
    raise StepFailed(f"no pool {pool.name} under {pool.parent} in vCenter")


def _move_to_pool(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    vm = _vm(outcome)
    pool = outcome.after.snapshot.vms[vm].resource_pool or ""
    spec = vim.vm.RelocateSpec(pool=_pool_ref(backend, outcome, pool))
    return backend._ref("vm", vm).RelocateVM_Task(spec=spec)


def _migrate(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    vm = _vm(outcome)
    before, after = outcome.before.snapshot.vms[vm], outcome.after.snapshot.vms[vm]
    spec = vim.vm.RelocateSpec(host=backend._ref("host", after.host or ""))
    if after.resource_pool != before.resource_pool and after.resource_pool:
        spec.pool = _pool_ref(backend, outcome, after.resource_pool)
    return backend._ref("vm", vm).RelocateVM_Task(spec=spec)


def _remove_limit(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    if outcome.vm is None:
        return _update_pool(backend, outcome)
    before = outcome.before.snapshot.vms[outcome.vm]
    vm = outcome.after.snapshot.vms[outcome.vm]
    spec = vim.vm.ConfigSpec()
    # Only the lifted resources, each whole (reservation and shares as they are): vcsim
    # replaces a VM's allocation with the one given rather than merging it as vCenter
    # does. expandableReservation is left out: it applies to pools, not VMs.
    for field, attribute in (
        ("cpu_allocation", "cpuAllocation"),
        ("memory_allocation", "memoryAllocation"),
    ):
        old, new = getattr(before, field), getattr(vm, field)
        if old != new:
            setattr(
                spec,
                attribute,
                vim.ResourceAllocationInfo(
                    reservation=new.reservation,
                    limit=new.limit,
                    shares=vim.SharesInfo(level=new.shares_level, shares=new.shares),
                ),
            )
    return backend._ref("vm", outcome.vm).ReconfigVM_Task(spec=spec)


def _snapshots_named(backend: VsphereBackend, vm: str, name: str) -> list[Any]:
    item = backend._one("vm", vm, ["snapshot"])
    info = item.props.get("snapshot") if item is not None else None
    found: list[Any] = []
    stack = list(info.rootSnapshotList or ()) if info is not None else []
    while stack:
        node = stack.pop()
        if node.name == name:
            found.append(node.snapshot)
        stack.extend(node.childSnapshotList or ())
    return found


def _remove_snapshot(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    vm = _vm(outcome)
    name = outcome.step.params.get("name")
    if name is None:
        return backend._ref("vm", vm).RemoveAllSnapshots_Task()
    found = _snapshots_named(backend, vm, str(name))
    if not found:
        raise StepFailed(f"no snapshot named {name!r}")
    for snapshot in found[:-1]:
        backend._wait(snapshot.RemoveSnapshot_Task(removeChildren=False))
    return found[-1].RemoveSnapshot_Task(removeChildren=False)


def _consolidate(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    return backend._ref("vm", _vm(outcome)).ConsolidateVMDisks_Task()


def _take_snapshot(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    vm = _vm(outcome)
    name = str(outcome.step.params.get("name") or f"scalearc-lint step {outcome.step.index}")
    return backend._ref("vm", vm).CreateSnapshot_Task(
        name=name, description="scalearc-lint apply", memory=False, quiesce=False
    )


def _power(on: bool) -> Callable[[VsphereBackend, StepOutcome], Any]:
    def call(backend: VsphereBackend, outcome: StepOutcome) -> Any:
        ref = backend._ref("vm", _vm(outcome))
        return ref.PowerOnVM_Task() if on else ref.PowerOffVM_Task()

    return call


def _maintenance(enter: bool) -> Callable[[VsphereBackend, StepOutcome], Any]:
    def call(backend: VsphereBackend, outcome: StepOutcome) -> Any:
        (_, host), *_ = _changed(outcome, "hosts") or [(None, None)]
        if host is None:
            raise StepFailed("the step changes no host")
        ref = backend._ref("host", host.moid)
        return (
            ref.EnterMaintenanceMode_Task(timeout=0)
            if enter
            else ref.ExitMaintenanceMode_Task(timeout=0)
        )

    return call


def _describe(template: str) -> Callable[[StepOutcome], str]:
    def describe(outcome: StepOutcome) -> str:
        s = outcome.step
        return template.format(vm=outcome.vm or "", target=s.target, **s.params)

    return describe


def _snapshot_names(outcome: StepOutcome) -> str:
    vm = outcome.before.snapshot.vms.get(outcome.vm or "")
    names = [n.name for n in walk_snapshots(vm.snapshots)] if vm is not None else []
    wanted = outcome.step.params.get("name")
    if wanted is None:
        return f"VirtualMachine:{outcome.vm}.RemoveAllSnapshots_Task() ({len(names)} snapshot(s))"
    return (
        f"VirtualMachineSnapshot({wanted!r} of {outcome.vm})"
        ".RemoveSnapshot_Task(removeChildren=false)"
    )


def _none(backend: VsphereBackend, outcome: StepOutcome) -> Any:
    return None


_Call = tuple[Callable[[StepOutcome], str], Callable[[VsphereBackend, StepOutcome], Any]]

_MANUAL: _Call = (_describe("(manual: no vSphere call)"), _none)

#: For each step kind: how the dry run shows its call, and how it is made.
_CALLS: dict[str, _Call] = {
    "migrate": (_describe("VirtualMachine:{vm}.RelocateVM_Task(spec.host={to})"), _migrate),
    "maintenance": (
        _describe("HostSystem({target}).EnterMaintenanceMode_Task(timeout=0)"),
        _maintenance(True),
    ),
    "exit_maintenance": (
        _describe("HostSystem({target}).ExitMaintenanceMode_Task(timeout=0)"),
        _maintenance(False),
    ),
    "power_off": (_describe("VirtualMachine:{vm}.PowerOffVM_Task()"), _power(False)),
    "power_on": (_describe("VirtualMachine:{vm}.PowerOnVM_Task()"), _power(True)),
    "take_snapshot": (
        _describe("VirtualMachine:{vm}.CreateSnapshot_Task(memory=false, quiesce=false)"),
        _take_snapshot,
    ),
    "remove_snapshot": (_snapshot_names, _remove_snapshot),
    "consolidate": (_describe("VirtualMachine:{vm}.ConsolidateVMDisks_Task()"), _consolidate),
    "drs_override": (
        _describe(
            "ClusterComputeResource.ReconfigureComputeResource_Task(drsVmConfigSpec: "
            "{vm} behavior {behavior})"
        ),
        _drs_override,
    ),
    "drs_vm_overrides": (
        lambda o: (
            f"ClusterComputeResource({o.step.target}).ReconfigureComputeResource_Task(drsConfig: "
            f"enableVmBehaviorOverrides={str(o.step.params['enabled']).lower()})"
        ),
        _drs_vm_overrides,
    ),
    "ha_override": (
        _describe(
            "ClusterComputeResource.ReconfigureComputeResource_Task(dasVmConfigSpec: "
            "{vm} restartPriority {restart_priority})"
        ),
        _ha_override,
    ),
    "add_anti_affinity": (
        _describe(
            "ClusterComputeResource.ReconfigureComputeResource_Task(rulesSpec add "
            "AntiAffinityRuleSpec {target!r})"
        ),
        _rules,
    ),
    "enable_anti_affinity": (
        _describe(
            "ClusterComputeResource.ReconfigureComputeResource_Task(rulesSpec edit {target!r} "
            "enabled=true)"
        ),
        _rules,
    ),
    "remove_anti_affinity": (
        _describe(
            "ClusterComputeResource.ReconfigureComputeResource_Task(rulesSpec remove {target!r})"
        ),
        _rules,
    ),
    "set_mac": (
        _describe(
            "VirtualMachine:{vm}.ReconfigVM_Task(deviceChange edit vNIC {nic}: "
            "addressType=manual, macAddress={mac})"
        ),
        _set_mac,
    ),
    "portgroup_policy": (
        lambda o: (
            (
                f"HostNetworkSystem({o.step.params['host']}).UpdatePortGroup({o.step.target!r})"
                if o.step.params.get("host")
                else f"DistributedVirtualPortgroup({o.step.target}).ReconfigureDVPortgroup_Task"
                "(defaultPortConfig)"
            )
            + ": "
            + ", ".join(
                k
                for k in ("notify_switches", "mac_changes", "forged_transmits")
                if k in o.step.params
            )
            + " = true"
        ),
        _portgroup_policy,
    ),
    "create_pool": (
        _describe(
            "ResourcePool({parent}).CreateResourcePool(name={target!r}, cpu reservation "
            "{cpu_reservation} MHz, memory reservation {memory_reservation} MB)"
        ),
        _create_pool,
    ),
    "set_reservation": (
        _describe("ResourcePool({target}).UpdateConfig(reservations)"),
        _update_pool,
    ),
    "move_to_pool": (
        _describe("VirtualMachine:{vm}.RelocateVM_Task(spec.pool={pool})"),
        _move_to_pool,
    ),
    "remove_limit": (
        _describe("{target}: limit -1 (ReconfigVM_Task / UpdateConfig)"),
        _remove_limit,
    ),
    "switchover": _MANUAL,
    "stop_services": _MANUAL,
    "check_connectivity": _MANUAL,
    "check_ha_lag": _MANUAL,
    "start_services": _MANUAL,
    "confirm_outage": _MANUAL,
}
