"""SA004 ha-separate-hosts: the two members of an HA pair run on different ESXi hosts.

PASS: the members are on different hosts.
FAIL: two members share a host.
UNKNOWN: a member's host is not recorded. Pairs with fewer than two members are left to SA011.
"""

from __future__ import annotations

from collections import defaultdict

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
from scalearc_lint.snapshot.inventory import Inventory, Pair


def check(pair: Pair, inventory: Inventory, options: NoOptions) -> Verdict | None:
    """Fail when two members of the pair are placed on one host."""
    if len(pair.members) < 2:
        return None
    by_host: dict[str, list[str]] = defaultdict(list)
    for member in pair.members:
        if member.vm.host is None:
            return unknown(f"{member.vm.name} has no host in the snapshot")
        by_host[member.vm.host].append(member.vm.name)
    shared = {host: names for host, names in by_host.items() if len(names) > 1}
    if shared:
        parts = []
        for moid, names in sorted(shared.items()):
            host = inventory.host(moid)
            parts.append(f"{' and '.join(sorted(names))} both run on {host.name if host else moid}")
        return failed("; ".join(parts))
    placed = ", ".join(
        f"{m.vm.name} on {getattr(inventory.host(m.vm.host), 'name', m.vm.host)}"
        for m in pair.members
    )
    return passed(placed)


RULE = Rule(
    id="SA004",
    name="ha-separate-hosts",
    title="HA pair members run on separate hosts",
    severity=Severity.ERROR,
    scope="pair",
    rationale=(
        "One host failure must not take down both appliances of a pair; the secondary takes "
        "over only if it survives the failure of the primary's host."
    ),
    reference=(
        '"For best survivability in the event of system or network failures, ScaleArc '
        'recommends you separate the two appliances of an HA pair onto two ESX servers."'
    ),
    remediation=(
        "Move the secondary to another host (cold, or vMotion with static MACs and notifying "
        "switches), and add a VM-VM anti-affinity rule so DRS keeps them apart (SA005)."
    ),
    check=check,
    examples=(
        Example(
            "members on two hosts",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                }
            },
            {"p1": Status.PASS},
        ),
        Example(
            "both on esx-1",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1"},
                    "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-1"},
                }
            },
            {"p1": Status.FAIL},
        ),
    ),
)
