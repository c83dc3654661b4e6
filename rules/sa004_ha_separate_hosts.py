"""SA004 ha-separate-hosts: the two members of an HA pair run on different ESXi hosts.

Hosts are compared within one vCenter only: members in different vCenters run on
different hosts (an ESXi host is managed by one vCenter, and moids repeat across
vCenters, so comparing them would be wrong).

PASS: the members are on different hosts.
FAIL: two members share a host.
UNKNOWN: a member's host is not recorded, or a VM naming the pair cannot be identified
without guessing (ID001). Pairs with fewer than two members are left to SA011.
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
from scalearc_lint.snapshot.inventory import Inventory, Pair, PairMember


def check(pair: Pair, inventory: Inventory, options: NoOptions) -> Verdict | None:
    """Fail when two members of the pair are placed on one host of one vCenter."""
    if len(pair.members) < 2:
        return None
    several = len(pair.vcenters) > 1
    by_host: dict[tuple[int, str], list[PairMember]] = defaultdict(list)
    for member in pair.members:
        if member.vm.host is None:
            return unknown(f"{member.vm.name} has no host in the snapshot")
        by_host[(id(member.inventory), member.vm.host)].append(member)
    shared = [members for members in by_host.values() if len(members) > 1]
    if shared:
        parts = [
            f"{' and '.join(sorted(m.vm.name for m in members))} both run on "
            f"{_host_name(members[0], several)}"
            for members in shared
        ]
        return failed("; ".join(sorted(parts)))
    return passed(", ".join(f"{m.vm.name} on {_host_name(m, several)}" for m in pair.members))


def _host_name(member: PairMember, with_vcenter: bool) -> str:
    host = member.host
    name = host.name if host is not None else str(member.vm.host)
    return f"{name} ({member.vcenter})" if with_vcenter else name


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
        Example(
            "members in two vCenters, each on its vCenter's esx-1 (host moids alike)",
            {
                "appliances": {"sa-p": {"role": "primary", "pair": "p1", "host": "esx-1"}},
                "vcenters": {
                    "vc-b.example": {
                        "appliances": {"sa-s": {"role": "secondary", "pair": "p1", "host": "esx-1"}}
                    }
                },
            },
            {"p1": Status.PASS},
        ),
        Example(
            "a third VM names the pair but its role attribute and tag disagree",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1"},
                    "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-1"},
                    "sa-x": {
                        "role": "secondary",
                        "pair": "p1",
                        "tags": [{"category": "scalearc-role", "name": "primary"}],
                    },
                }
            },
            {"p1": Status.UNKNOWN},
        ),
    ),
)
