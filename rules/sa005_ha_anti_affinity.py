"""SA005 ha-anti-affinity: an enabled VM-VM anti-affinity rule keeps an HA pair apart.

PASS: an enabled anti-affinity rule in the pair's cluster lists both members, or the
members are in different vCenters of the run.
FAIL: no such rule (none, disabled, or not listing both), or the members are in
different clusters (no cluster rule can then cover them).
UNKNOWN: the cluster's rules could not be read. Single-member pairs are left to SA011.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

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
    """Find an enabled anti-affinity rule containing every member."""
    if len(pair.members) < 2:
        return None
    by_vcenter: dict[int, list[PairMember]] = defaultdict(list)
    for member in pair.members:
        by_vcenter[id(member.inventory)].append(member)
    if len(by_vcenter) > 1:
        # Decided before any cluster moid is compared: moids repeat across vCenters.
        crowded = [members for members in by_vcenter.values() if len(members) > 1]
        if not crowded:
            return passed(
                f"members are in different vCenters ({', '.join(pair.vcenters)}); DRS and HA "
                "never move a VM across vCenters"
            )
        # More than two members (SA011 fails the pair), some in one vCenter: those must
        # still be kept apart there.
        verdicts = [
            check(replace(pair, members=tuple(members)), members[0].inventory, options)
            for members in crowded
        ]
        return next((v for v in verdicts if v and v.status is not Status.PASS), verdicts[0])
    cluster_ids = {m.vm.cluster for m in pair.members}
    if len(cluster_ids) != 1 or None in cluster_ids:
        return failed("members are not in one cluster, so no anti-affinity rule can cover them")
    cluster = inventory.cluster(next(iter(cluster_ids)))
    if cluster is None:
        return unknown("the pair's cluster is not in the snapshot")
    if inventory.unreadable("cluster", cluster.moid, "configuration"):
        return unknown(f"the rules of cluster {cluster.name} could not be read")
    members = {m.vm.moid for m in pair.members}
    covering = [
        rule
        for owner, rule in inventory.anti_affinity_rules_by_vm.get(pair.members[0].vm.moid, [])
        if owner == cluster.moid and members <= set(rule.vms)
    ]
    enabled = [r for r in covering if r.enabled]
    if enabled:
        note = "" if cluster.drs.enabled else " (DRS is off in this cluster, so it is not enforced)"
        return passed(f"anti-affinity rule {enabled[0].name!r} keeps the members apart{note}")
    if covering:
        return failed(f"anti-affinity rule {covering[0].name!r} covers the pair but is disabled")
    return failed(f"no VM-VM anti-affinity rule in cluster {cluster.name} contains both members")


RULE = Rule(
    id="SA005",
    name="ha-anti-affinity",
    title="HA pairs have an enabled VM-VM anti-affinity rule",
    severity=Severity.ERROR,
    scope="pair",
    rationale=(
        "Separate hosts today (SA004) is not enough: DRS placement, HA restarts and maintenance "
        "mode can put both members on one host tomorrow unless a rule forbids it."
    ),
    reference=(
        '"ScaleArc recommends you separate the two appliances of an HA pair onto two ESX '
        'servers." (kept true over time by a DRS anti-affinity rule)'
    ),
    remediation=(
        'Cluster > Configure > VM/Host Rules > Add: type "Separate Virtual Machines", both '
        "members, enabled."
    ),
    check=check,
    examples=(
        Example(
            "enabled rule with both members",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                }
            },
            {"p1": Status.PASS},
        ),
        Example(
            "no rule",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "pairs": {"p1": {"anti_affinity": False}},
            },
            {"p1": Status.FAIL},
        ),
        Example(
            "rule disabled",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "pairs": {"p1": {"anti_affinity": "disabled"}},
            },
            {"p1": Status.FAIL},
        ),
        Example(
            "members in two vCenters (their clusters share a moid)",
            {
                "appliances": {"sa-p": {"role": "primary", "pair": "p1"}},
                "vcenters": {
                    "vc-b.example": {"appliances": {"sa-s": {"role": "secondary", "pair": "p1"}}}
                },
            },
            {"p1": Status.PASS},
        ),
        Example(
            "three members: two share a vCenter and a cluster with no rule, one elsewhere",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "pairs": {"p1": {"anti_affinity": False}},
                "vcenters": {
                    "vc-b.example": {"appliances": {"sa-t": {"role": "secondary", "pair": "p1"}}}
                },
            },
            {"p1": Status.FAIL},
        ),
        Example(
            "cluster configuration not readable",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "unreadable": [{"kind": "cluster", "cluster": "cl-1", "property": "configuration"}],
            },
            {"p1": Status.UNKNOWN},
        ),
    ),
)
