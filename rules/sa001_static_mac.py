"""SA001 static-mac: every vNIC of an appliance has a static (manual) MAC address.

PASS: an appliance whose vNICs all have ``addressType: manual``.
FAIL (error): an appliance with a vNIC whose MAC is ``generated`` or ``assigned``.
FAIL (warning): a manual MAC in VMware's OUI 00:50:56 outside the range kept for static
MACs, 00:50:56:00:00:00-00:50:56:3F:FF:FF: vCenter generates MACs there and may hand the
same one to another VM.
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
from scalearc_lint.snapshot.inventory import Appliance, Inventory, outside_vmware_static_range
from scalearc_lint.snapshot.network import NICS_UNREAD, dynamic_macs, nic_name


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict:
    """Fail when any vNIC's address type is not manual, warn on a clashing manual MAC."""
    vm = appliance.vm
    if inventory.unreadable("vm", vm.moid, "nics"):
        return unknown(NICS_UNREAD)
    dynamic = [f"{nic_name(nic)} ({nic.address_type} {nic.mac})" for nic in dynamic_macs(vm)]
    if dynamic:
        return failed("vNIC without a static MAC: " + ", ".join(dynamic))
    clashing = [
        f"{nic_name(nic)} ({nic.mac})" for nic in vm.nics if outside_vmware_static_range(nic.mac)
    ]
    if clashing:
        return failed(
            "static MAC in VMware's OUI outside 00:50:56:00:00:00-00:50:56:3F:FF:FF, where "
            "vCenter generates MACs and may give another VM the same one: " + ", ".join(clashing),
            Severity.WARNING,
        )
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
            "a manual MAC in VMware's generated range (warning)",
            {"appliances": {"sa-1": {"nics": [{"type": "manual", "mac": "00:50:56:80:12:34"}]}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "a manual MAC at the top of the static range",
            {"appliances": {"sa-1": {"nics": [{"type": "manual", "mac": "00-50-56-3F-FF-FF"}]}}},
            {"sa-1": Status.PASS},
        ),
        Example(
            "a manual, locally administered MAC outside VMware's OUI",
            {"appliances": {"sa-1": {"nics": [{"type": "manual", "mac": "02:00:5e:10:00:01"}]}}},
            {"sa-1": Status.PASS},
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
