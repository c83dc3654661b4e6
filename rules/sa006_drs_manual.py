"""SA006 drs-manual: DRS would not migrate an appliance automatically.

The effective automation level resolves as vSphere does (``effective_drs_automation``):
DRS off in the cluster acts on nothing; the per-VM override applies only while the
cluster's ``drsConfig.enableVmBehaviorOverrides`` is true (vSphere's default), and when it
is false every VM gets the cluster default; an unset cluster default is fullyAutomated.
Only fullyAutomated migrates running VMs on its own (partiallyAutomated places at
power-on only). An override that disables DRS for the VM passes while overrides apply.

PASS: DRS off, or effective behaviour manual / partiallyAutomated / DRS disabled for the VM.
FAIL: effective behaviour fullyAutomated (also a manual override in a cluster that ignores
VM overrides).
UNKNOWN: the cluster's DRS configuration could not be read, or the snapshot (schema 1)
does not record whether VM overrides apply and the override and the default disagree.
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
from scalearc_lint.snapshot.drs import effective_drs_automation
from scalearc_lint.snapshot.inventory import Appliance, Inventory


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict:
    """Fail when the effective DRS automation is fullyAutomated."""
    vm = appliance.vm
    cluster = inventory.cluster(vm.cluster)
    if cluster is None:
        return passed("not in a cluster; DRS does not apply")
    if inventory.unreadable("cluster", cluster.moid, "configuration"):
        return unknown(f"the DRS configuration of cluster {cluster.name} could not be read")
    automation = effective_drs_automation(cluster, vm.moid)
    if automation.migrates is None:
        return unknown(f"cannot tell whether DRS may vMotion it: {automation.reason}")
    if automation.migrates:
        return failed(f"DRS automation is fullyAutomated ({automation.reason}); DRS may vMotion it")
    if automation.behavior is None:
        return passed(f"DRS does not act on this VM: {automation.reason}")
    return passed(f"DRS automation is {automation.behavior} ({automation.reason})")


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
        "Manual (or Disabled); and let the cluster honour VM overrides (Configure > vSphere "
        "DRS > Edit > Automation: VM Automation enabled, enableVmBehaviorOverrides true)."
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
            "manual override in a cluster with VM overrides switched off",
            {
                "appliances": {"sa-1": {"drs": "manual"}},
                "clusters": {"cl-1": {"vm_overrides_enabled": False}},
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "VM overrides switched off, cluster default manual",
            {
                "appliances": {"sa-1": {"drs": "fullyAutomated"}},
                "clusters": {"cl-1": {"drs_default": "manual", "vm_overrides_enabled": False}},
            },
            {"sa-1": Status.PASS},
        ),
        Example(
            "override disables DRS for the VM",
            {"appliances": {"sa-1": {"drs": "disabled"}}},
            {"sa-1": Status.PASS},
        ),
        Example(
            "DRS off in the cluster",
            {
                "appliances": {"sa-1": {"drs": "none"}},
                "clusters": {"cl-1": {"drs_enabled": False}},
            },
            {"sa-1": Status.PASS},
        ),
        Example(
            "schema-1 snapshot: whether VM overrides apply is unknown, and they would decide",
            {
                "appliances": {"sa-1": {"drs": "manual"}},
                "clusters": {"cl-1": {"vm_overrides_enabled": None}},
            },
            {"sa-1": Status.UNKNOWN},
        ),
        Example(
            "schema-1 snapshot, but override and cluster default agree",
            {
                "appliances": {"sa-1": {"drs": "manual"}},
                "clusters": {
                    "cl-1": {"drs_default": "partiallyAutomated", "vm_overrides_enabled": None}
                },
            },
            {"sa-1": Status.PASS},
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
