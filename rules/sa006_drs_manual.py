"""SA006 drs-manual: DRS would not migrate an appliance automatically.

The effective automation level is the per-VM override when set, else the
cluster default; an unset cluster default means fullyAutomated. Only
fullyAutomated migrates running VMs on its own (partiallyAutomated places at
power-on only). A VM override that disables DRS for the VM, or DRS off in the
cluster, passes.

PASS: DRS off, or effective behaviour manual / partiallyAutomated.
FAIL: effective behaviour fullyAutomated.
UNKNOWN: the cluster's DRS configuration could not be read.
"""

from __future__ import annotations

from scalearc_lint.engine.rule import (
    Example,
    NoOptions,
    Rule,
    Severity,
    Status,
    Verdict,
    failed,
    passed,
    unknown,
)
from scalearc_lint.snapshot.inventory import Appliance, Inventory
from scalearc_lint.snapshot.model import Cluster, DrsBehavior


def effective_drs_behavior(cluster: Cluster, vm_moid: str) -> tuple[bool, DrsBehavior, str]:
    """(DRS acts on the VM, effective behaviour, where the behaviour comes from)."""
    override = cluster.drs.vm_overrides.get(vm_moid)
    default = cluster.drs.default_behavior or "fullyAutomated"
    if not cluster.drs.enabled:
        return False, default, "cluster (DRS disabled)"
    if override is not None and override.enabled is False:
        return False, default, "VM override (DRS disabled for this VM)"
    if override is not None and override.behavior is not None:
        return True, override.behavior, "VM override"
    source = "cluster default" if cluster.drs.default_behavior else "cluster default (unset)"
    return True, default, source


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict:
    """Fail when the effective DRS automation is fullyAutomated."""
    vm = appliance.vm
    cluster = inventory.cluster(vm.cluster)
    if cluster is None:
        return passed("not in a cluster; DRS does not apply")
    if inventory.unreadable("cluster", cluster.moid, "configuration"):
        return unknown(f"the DRS configuration of cluster {cluster.name} could not be read")
    acts, behavior, source = effective_drs_behavior(cluster, vm.moid)
    if not acts:
        return passed(f"DRS does not act on this VM: {source}")
    if behavior == "fullyAutomated":
        return failed(f"DRS automation is fullyAutomated ({source}); DRS may vMotion it")
    return passed(f"DRS automation is {behavior} ({source})")


RULE = Rule(
    id="SA006",
    name="drs-manual",
    title="DRS does not migrate appliances automatically",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "A DRS-initiated vMotion of an active appliance loses database updates; the vendor does "
        "not support automatic migration at all."
    ),
    reference=(
        '"ScaleArc does not recommend or support Automatic VM migration with a technology like '
        "VMware's DRS.\""
    ),
    remediation=(
        "Cluster > Configure > VM Overrides > Add: select the appliances, DRS automation level "
        "Manual (or Disabled)."
    ),
    check=check,
    examples=(
        Example("manual override", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example(
            "no override, unset cluster default = fullyAutomated",
            {"appliances": {"sa-1": {"drs": "none"}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "no override, cluster default manual",
            {
                "appliances": {"sa-1": {"drs": "none"}},
                "clusters": {"cl-1": {"drs_default": "manual"}},
            },
            {"sa-1": Status.PASS},
        ),
        Example(
            "override fullyAutomated in a manual cluster",
            {
                "appliances": {"sa-1": {"drs": "fullyAutomated"}},
                "clusters": {"cl-1": {"drs_default": "manual"}},
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "cluster configuration not readable",
            {
                "appliances": {"sa-1": {}},
                "unreadable": [{"kind": "cluster", "cluster": "cl-1", "property": "configuration"}],
            },
            {"sa-1": Status.UNKNOWN},
        ),
    ),
)
