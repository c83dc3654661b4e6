"""What a plan's steps touch, as properties a person can read and ``apply`` can compare.

``fix`` records in the plan (``observed:``) the properties of every object its steps
change, as it saw them in the snapshot; ``whatif`` and ``apply`` refuse a plan whose
objects no longer look like that (someone changed vCenter since), and ``apply`` compares
the live objects a step touches with the simulated state before that step, so it never
acts on stale state. The properties are the ones the steps read or change: placement,
power, vNICs, snapshots, allocations, DRS and HA settings, portgroup policies. Roles are
not among them: a ScaleArc switchover happens in ScaleArc, not in vCenter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from scalearc_lint.errors import InputError
from scalearc_lint.snapshot.inventory import walk_snapshots
from scalearc_lint.snapshot.model import (
    Allocation,
    Cluster,
    DistributedPortgroup,
    Host,
    NetworkPolicy,
    ResourcePool,
    Snapshot,
    VirtualMachine,
)

#: The collections a step can touch, by the kind ``observed:`` names them with.
KINDS = {
    "vm": "vms",
    "cluster": "clusters",
    "host": "hosts",
    "pool": "resource_pools",
    "dv_portgroup": "dv_portgroups",
}
Facts = dict[str, str]
ObjectKey = tuple[str, str]


def _allocation(a: Allocation, *, pool: bool = True) -> str:
    """An allocation in words; a VM's without ``expandable`` (vSphere expands pools' only)."""
    limit = "unlimited" if a.limit < 0 else str(a.limit)
    words = f"reservation {a.reservation}, limit {limit}"
    return f"{words}, expandable {str(a.expandable).lower()}" if pool else words


def _policy(p: NetworkPolicy) -> str:
    def word(value: bool | None) -> str:
        return "unset" if value is None else str(value).lower()

    return (
        f"notify switches {word(p.notify_switches)}, MAC changes {word(p.mac_changes)}, "
        f"forged transmits {word(p.forged_transmits)}"
    )


def _vm(vm: VirtualMachine) -> Facts:
    facts = {
        "name": vm.name,
        "power_state": vm.power_state,
        "host": vm.host or "",
        "resource_pool": vm.resource_pool or "",
        "cpu": _allocation(vm.cpu_allocation, pool=False),
        "memory": _allocation(vm.memory_allocation, pool=False),
        "snapshots": ", ".join(sorted(n.name for n in walk_snapshots(vm.snapshots))),
        "consolidation needed": str(vm.consolidation_needed).lower(),
    }
    for nic in vm.nics:
        network = nic.backing.portgroup or nic.backing.network
        facts[f"nic {nic.key}"] = f"{nic.address_type} {nic.mac} on {network}"
    return facts


#: ``drsConfig.enableVmBehaviorOverrides`` in words (None: the snapshot does not record it).
_VM_OVERRIDES = {True: "honoured", False: "ignored", None: "unknown"}


def _cluster(cluster: Cluster) -> Facts:
    drs = cluster.drs
    facts = {
        "name": cluster.name,
        "drs": f"enabled {str(drs.enabled).lower()}, default {drs.default_behavior or 'unset'}, "
        f"VM overrides {_VM_OVERRIDES[drs.enable_vm_behavior_overrides]}",
        "ha": f"enabled {str(cluster.ha.enabled).lower()}",
    }
    for vm, override in sorted(drs.vm_overrides.items()):
        # An unset ``enabled`` is vCenter's true (DRS acts on the VM): compared as such.
        enabled = "false" if override.enabled is False else "true"
        facts[f"drs override {vm}"] = f"enabled {enabled}, {override.behavior or 'inherit'}"
    for vm, ha in sorted(cluster.ha.vm_overrides.items()):
        facts[f"ha override {vm}"] = f"restart priority {ha.restart_priority or 'inherit'}"
    for rule in cluster.rules:
        if rule.kind == "vm-anti-affinity":
            members = ", ".join(rule.vms)
            facts[f"rule {rule.name}"] = f"enabled {str(rule.enabled).lower()}: {members}"
    return facts


def _host(host: Host) -> Facts:
    facts = {
        "name": host.name,
        "state": f"{host.connection_state}, {host.power_state}"
        + (", in maintenance" if host.in_maintenance else ""),
    }
    for pg in host.portgroups:
        facts[f"portgroup {pg.name}"] = _policy(pg.computed)
    return facts


def _pool(pool: ResourcePool) -> Facts:
    return {
        "name": pool.name,
        "parent": pool.parent or "",
        "cpu": _allocation(pool.cpu),
        "memory": _allocation(pool.memory),
    }


def _dv_portgroup(pg: DistributedPortgroup) -> Facts:
    return {"name": pg.name, "policy": _policy(pg.policy)}


_FACTS: dict[str, Any] = {
    "vm": _vm,
    "cluster": _cluster,
    "host": _host,
    "pool": _pool,
    "dv_portgroup": _dv_portgroup,
}


def object_facts(snapshot: Snapshot, key: ObjectKey) -> Facts | None:
    """The properties of one object that plan steps read or change (None: not there)."""
    kind, moid = key
    obj = getattr(snapshot, KINDS[kind]).get(moid)
    return None if obj is None else dict(_FACTS[kind](obj))


def touched(before: Snapshot, after: Snapshot) -> list[ObjectKey]:
    """The objects that differ between two states (each step derives only what it changes,
    so an unchanged object is the same object)."""
    found: list[ObjectKey] = []
    for kind, collection in KINDS.items():
        old: Mapping[str, Any] = getattr(before, collection)
        new: Mapping[str, Any] = getattr(after, collection)
        if old is new:
            continue
        found.extend((kind, moid) for moid, obj in old.items() if new.get(moid) is not obj)
    return found


def differences(expected: Facts | None, actual: Facts | None) -> Iterator[str]:
    """``key: was X, is now Y`` for each property that differs."""
    if expected is None or actual is None:
        if expected != actual:
            yield "it no longer exists" if actual is None else "it did not exist"
        return
    for key in sorted(expected.keys() | actual.keys()):
        if expected.get(key) != actual.get(key):
            yield f"{key} was {expected.get(key, '(none)')!r}, is now {actual.get(key, '(none)')!r}"


def check_observed(
    observed: Mapping[ObjectKey, Facts], snapshot: Snapshot, *, where: str, now: str
) -> None:
    """Raise InputError (one line) when an object no longer looks as ``observed`` says."""
    for key, facts in observed.items():
        changed = list(differences(facts, object_facts(snapshot, key)))
        if changed:
            kind, moid = key
            name = facts.get("name", moid)
            raise InputError(
                f"{where}: {kind} {moid} ({name}) has changed since the plan was made: "
                f"{'; '.join(changed[:3])}{' ...' if len(changed) > 3 else ''} in {now}; "
                "make the plan again (scalearc-lint fix) from a fresh export"
            )
