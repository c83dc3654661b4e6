"""SA002 mac-unique: an appliance's MAC addresses appear on no other vNIC in the inventory.

PASS: every MAC of the appliance is used once.
FAIL: a MAC of the appliance is also on another vNIC (of any VM, or of the appliance itself).
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
from scalearc_lint.snapshot.inventory import Appliance, Inventory, normalise_mac


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict:
    """Look every appliance MAC up in the inventory-wide MAC index."""
    vm = appliance.vm
    if inventory.unreadable("vm", vm.moid, "nics"):
        return unknown("the exporter could not read this VM's network adapters")
    clashes = []
    for nic in vm.nics:
        if not nic.mac:
            continue
        others = [
            ref
            for ref in inventory.nics_by_appliance_mac.get(normalise_mac(nic.mac), [])
            if not (ref.vm.moid == vm.moid and ref.nic_key == nic.key)
        ]
        if others:
            where = ", ".join(
                sorted(f"{ref.vm.name} ({ref.label or ref.nic_key})" for ref in others)[:5]
            )
            more = f" and {len(others) - 5} more" if len(others) > 5 else ""
            clashes.append(f"{nic.mac} is also on {where}{more}")
    if clashes:
        return failed("; ".join(clashes))
    unread = inventory.unreadable_anywhere("vm", "nics")
    if unread is None:
        return unknown("no duplicate found, but no VM's network adapters could be read")
    if unread:
        names = sorted(getattr(inventory.snapshot.vms.get(m), "name", m) for m in unread)
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        return unknown(
            "no duplicate found, but the network adapters of "
            f"{', '.join(names[:5])}{more} could not be read"
        )
    return passed(f"{len(vm.nics)} MAC address(es), each used once")


RULE = Rule(
    id="SA002",
    name="mac-unique",
    title="Appliance MAC addresses are unique in the inventory",
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
