"""SA001 static-mac: every vNIC of an appliance has a static (manual) MAC address.

PASS: an appliance whose vNICs all have ``addressType: manual``.
FAIL: an appliance with a vNIC whose MAC is ``generated`` or ``assigned``.
UNKNOWN: the exporter could not read the appliance's devices.
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


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict:
    """Fail when any vNIC's address type is not manual."""
    vm = appliance.vm
    if inventory.unreadable("vm", vm.moid, "nics"):
        return unknown("the exporter could not read this VM's network adapters")
    dynamic = [
        f"{nic.label or nic.key} ({nic.address_type} {nic.mac})"
        for nic in vm.nics
        if nic.address_type != "manual"
    ]
    if dynamic:
        return failed("vNIC without a static MAC: " + ", ".join(dynamic))
    return passed(f"all {len(vm.nics)} vNIC(s) have a static MAC")


RULE = Rule(
    id="SA001",
    name="static-mac",
    title="Appliance vNICs use static MAC addresses",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "A migrated appliance must keep its MAC addresses so that the network, HA peers and "
        "database servers still reach it; a generated MAC can change when the VM moves or is "
        "re-registered."
    ),
    reference=(
        'Best practices for VM migration: "Next, you need to configure static MAC addresses on '
        'all virtual NICs on the appliance."'
    ),
    remediation=(
        "Power the appliance off, set each network adapter's MAC address to Manual (keep the "
        "current address, 00:50:56:00:00:00-00:50:56:3F:FF:FF), and power it on again."
    ),
    check=check,
    examples=(
        Example("all vNICs static", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example(
            "a generated MAC on the second vNIC",
            {"appliances": {"sa-1": {"nics": [{"type": "manual"}, {"type": "generated"}]}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "devices not readable",
            {
                "appliances": {"sa-1": {}},
                "unreadable": [{"kind": "vm", "vm": "sa-1", "property": "nics"}],
            },
            {"sa-1": Status.UNKNOWN},
        ),
    ),
    options=NoOptions,
)
