"""How a cluster's DRS settings resolve for one VM: its automation level, and the hosts
mandatory VM-Host rules confine it to.

These are the one statement of those semantics: rules, ``whatif`` and ``fix`` call them
(through :class:`~scalearc_lint.snapshot.inventory.Inventory` where an index is needed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace

from scalearc_lint.snapshot.model import Cluster, DrsBehavior


@dataclass(frozen=True, slots=True)
class DrsAutomation:
    """What DRS may do on its own to one running VM.

    ``migrates`` is true when DRS may vMotion the VM without asking (effective level
    fullyAutomated), and ``None`` when the snapshot cannot tell; ``behavior`` is the
    effective level, ``None`` when DRS does not act on the VM at all.
    """

    migrates: bool | None
    behavior: DrsBehavior | None
    reason: str


def effective_drs_automation(cluster: Cluster, vm_moid: str) -> DrsAutomation:
    """Resolve DRS for a VM as vSphere does: cluster switch, VM-overrides switch, override, default.

    DRS off in the cluster acts on nothing. Otherwise the VM's override
    (``ClusterDrsVmConfigInfo``: ``enabled`` false, or a ``behavior``) applies only while
    the cluster's ``drsConfig.enableVmBehaviorOverrides`` is true (vSphere's default); when
    it is false every VM gets the cluster default. An unset cluster default is
    fullyAutomated. When the snapshot does not record the switch (schema 1) and the
    override and the default disagree on whether DRS migrates the VM, it is unknown.
    """
    drs = cluster.drs
    if not drs.enabled:
        return DrsAutomation(False, None, "DRS is off in the cluster")
    default: DrsBehavior = drs.default_behavior or "fullyAutomated"
    by_cluster = DrsAutomation(
        default == "fullyAutomated",
        default,
        "cluster default" if drs.default_behavior else "cluster default (unset = fullyAutomated)",
    )
    override = drs.vm_overrides.get(vm_moid)
    if override is None or (override.enabled is not False and override.behavior is None):
        return by_cluster
    if override.enabled is False:
        by_vm = DrsAutomation(False, None, "VM override: DRS disabled for this VM")
    else:
        by_vm = DrsAutomation(
            override.behavior == "fullyAutomated", override.behavior, "VM override"
        )
    switch = drs.enable_vm_behavior_overrides
    if switch is True:
        return by_vm
    if switch is False:
        return replace(
            by_cluster,
            reason=f"{by_cluster.reason}; VM overrides are switched off in the cluster "
            "(enableVmBehaviorOverrides false), so the VM's own override is ignored",
        )
    if by_vm.migrates == by_cluster.migrates:
        return replace(
            by_vm,
            reason=f"{by_vm.reason}; the snapshot does not record whether the cluster honours "
            "VM overrides, but its default gives the same",
        )
    return DrsAutomation(
        None,
        None,
        f"the VM override says {by_vm.behavior or 'DRS disabled'} and the {by_cluster.reason} "
        f"says {default}, and the snapshot does not record whether the cluster honours VM "
        "overrides (enableVmBehaviorOverrides; exported by an older scalearc-lint: re-export)",
    )


@dataclass(frozen=True, slots=True)
class HostPinning:
    """The hosts enabled mandatory "must run on" VM-Host rules confine one VM to.

    ``hosts`` is ``None`` when no such rule lists the VM (DRS and HA may use any host of
    its cluster); ``rules`` names the rules that confine it, ``inactive`` the VM-Host
    "run on" rules that list it but confine nothing (disabled, or only "should").
    """

    hosts: frozenset[str] | None
    rules: tuple[str, ...] = ()
    inactive: tuple[str, ...] = ()


def host_pinnings(clusters: Mapping[str, Cluster]) -> dict[str, HostPinning]:
    """The pinning of every VM named by a VM-Host "run on" rule, in one pass over the rules.

    Only "must run on" (mandatory, affine) rules are counted: DRS and vSphere HA both obey
    them. "Must not run on" rules are not: every host later added to the cluster is open
    to the VM, so they cannot keep two VMs apart for good.
    """
    confining: dict[str, list[tuple[str, frozenset[str]]]] = defaultdict(list)
    inactive: dict[str, list[str]] = defaultdict(list)
    for cluster in clusters.values():
        groups = {(g.kind, g.name): g.members for g in cluster.groups}
        for rule in cluster.rules:
            if rule.kind != "vm-host" or rule.affine is not True:
                continue
            vm_members = groups.get(("vm", rule.vm_group or ""))
            host_members = groups.get(("host", rule.host_group or ""))
            if vm_members is None or host_members is None:
                continue  # a group the rule names is not in the snapshot: it confines nothing
            for vm in dict.fromkeys(vm_members):
                if rule.enabled and rule.mandatory:
                    confining[vm].append((rule.name, frozenset(host_members)))
                else:
                    inactive[vm].append(rule.name)
    result: dict[str, HostPinning] = {}
    for vm in confining.keys() | inactive.keys():
        rules = confining.get(vm, [])
        hosts: frozenset[str] | None = None
        for _, members in rules:
            hosts = members if hosts is None else hosts & members
        result[vm] = HostPinning(
            hosts, tuple(name for name, _ in rules), tuple(inactive.get(vm, []))
        )
    return result
