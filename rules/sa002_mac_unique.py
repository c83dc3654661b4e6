"""SA002 mac-unique: an appliance's MAC addresses appear on no other vNIC in the estate.

The estate is every vCenter of the run (several snapshot files, or a bundle): a MAC
duplicated across vCenters clashes on a stretched network just the same.

PASS: every MAC of the appliance is used once.
FAIL: a MAC of the appliance is also on another vNIC (of any VM in any vCenter, or of
the appliance itself); the finding names the first few users and counts the rest.
UNKNOWN: no duplicate seen, but some VM's devices could not be read (one of them
might carry the same MAC).
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
    """Look every appliance MAC up in the estate-wide MAC index."""
    vm = appliance.vm
    if inventory.unreadable("vm", vm.moid, "nics"):
        return unknown("the exporter could not read this VM's network adapters")
    clashes = []
    for nic in vm.nics:
        shown, total = inventory.estate.other_users(vm, nic)
        if total:
            where = ", ".join(
                f"{ref.vm.name} ({ref.label or ref.nic_key})"
                + (f" in {ref.vcenter}" if ref.vcenter != inventory.vcenter else "")
                for ref in shown
            )
            more = f" and {total - len(shown)} more" if total > len(shown) else ""
            clashes.append(f"{nic.mac} is also on {where}{more}")
    if clashes:
        return failed("; ".join(clashes))
    unread = inventory.estate.unread_vms("nics")
    if unread.nowhere_read is not None:
        return unknown(
            "no duplicate found, but no VM's network adapters in "
            f"{unread.nowhere_read} could be read"
        )
    if unread.total:
        hidden = unread.total - len(unread.first)
        more = f" and {hidden} more" if hidden else ""
        return unknown(
            "no duplicate found, but the network adapters of "
            f"{', '.join(unread.first)}{more} could not be read"
        )
    return passed(f"{len(vm.nics)} MAC address(es), each used once")


RULE = Rule(
    id="SA002",
    name="mac-unique",
    title="Appliance MAC addresses are unique across the estate",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "A static MAC only protects the appliance if no other vNIC uses it: two vNICs with one "
        "MAC on a network break ARP and can black-hole the appliance's traffic after a move."
    ),
    reference=(
        'Best practices for VM migration: "configure static MAC addresses on all virtual NICs '
        'on the appliance" (a static MAC must be one no other adapter uses).'
    ),
    remediation=(
        "Give one of the clashing adapters a different static MAC from the manual range "
        "00:50:56:00:00:00-00:50:56:3F:FF:FF, and record appliance MACs in your IPAM."
    ),
    check=check,
    examples=(
        Example(
            "unique MACs", {"appliances": {"sa-1": {}}, "vms": {"web-1": {}}}, {"sa-1": Status.PASS}
        ),
        Example(
            "an ordinary VM uses the appliance's MAC",
            {
                "appliances": {"sa-1": {"nics": [{"mac": "00:50:56:01:02:03"}]}},
                "vms": {"web-1": {"nics": [{"type": "manual", "mac": "00:50:56:01:02:03"}]}},
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "the two members of a pair share a MAC (case differs)",
            {
                "appliances": {
                    "sa-p": {
                        "role": "primary",
                        "pair": "p1",
                        "nics": [{"mac": "00:50:56:0A:0B:0C"}],
                    },
                    "sa-s": {
                        "role": "secondary",
                        "pair": "p1",
                        "nics": [{"mac": "00:50:56:0a:0b:0c"}],
                    },
                }
            },
            {"sa-p": Status.FAIL, "sa-s": Status.FAIL},
        ),
        Example(
            "another VM's adapters could not be read",
            {
                "appliances": {"sa-1": {}},
                "vms": {"web-1": {}},
                "unreadable": [{"kind": "vm", "vm": "web-1", "property": "nics"}],
            },
            {"sa-1": Status.UNKNOWN},
        ),
    ),
)
