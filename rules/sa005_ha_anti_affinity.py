"""SA005 ha-anti-affinity: nothing lets DRS or vSphere HA put an HA pair on one host.

PASS: an enabled VM-VM anti-affinity rule of the members' common cluster lists both;
enabled mandatory VM-Host "must run on" rules pin them to disjoint host groups; or the
members are in different clusters, on standalone hosts or in different vCenters of the run
(DRS and HA never move a VM across clusters or vCenters).
FAIL: none of these (a covering rule that is disabled, or only "should run on", is named).
UNKNOWN: the cluster's rules could not be read, or a member's placement is not recorded.
Single-member pairs are left to SA011.
"""

from __future__ import annotations

from itertools import combinations

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
    """Pass when every two members are kept apart by placement or an enabled rule."""
    if len(pair.members) < 2:
        return None
    kept_apart: list[str] = []
    for first, second in combinations(pair.members, 2):
        verdict = _two_members(first, second)
        if verdict.status is not Status.PASS:
            return verdict
        kept_apart.append(verdict.message)
    return passed("; ".join(kept_apart))


def _two_members(first: PairMember, second: PairMember) -> Verdict:
    """Whether anything keeps these two members off one host."""
    names = f"{first.vm.name} and {second.vm.name}"
    if first.inventory is not second.inventory:
        # Decided before any moid is compared: moids repeat across vCenters.
        return passed(
            f"{names} are in different vCenters ({first.vcenter}, {second.vcenter}): DRS and "
            "HA never move a VM across vCenters"
        )
    # Both members' hosts, clusters and rules live in their own vCenter's inventory.
    inventory = first.inventory
    for member in (first, second):
        if member.vm.cluster is None and member.vm.host is None:
            return unknown(f"{member.vm.name} has neither a host nor a cluster in the snapshot")
    standalone = [m.vm.name for m in (first, second) if m.vm.cluster is None]
    if standalone:
        return passed(f"{' and '.join(standalone)} on a standalone host: DRS and HA never move it")
    if first.vm.cluster != second.vm.cluster:
        return passed(f"{names} are in different clusters: DRS and HA never move a VM across")
    cluster = inventory.cluster(first.vm.cluster)
    if cluster is None:
        return unknown("the pair's cluster is not in the snapshot")
    if inventory.unreadable("cluster", cluster.moid, "configuration"):
        return unknown(f"the rules of cluster {cluster.name} could not be read")
    members = {first.vm.moid, second.vm.moid}
    covering = [
        rule
        for owner, rule in inventory.anti_affinity_rules_by_vm.get(first.vm.moid, [])
        if owner == cluster.moid and members <= set(rule.vms)
    ]
    enabled = [r for r in covering if r.enabled]
    drs_note = "" if cluster.drs.enabled else " (DRS is off in this cluster, so it is not enforced)"
    if enabled:
        return passed(f"anti-affinity rule {enabled[0].name!r} keeps {names} apart{drs_note}")
    pins = [inventory.host_pinning(m.vm.moid) for m in (first, second)]
    if pins[0].hosts is not None and pins[1].hosts is not None:
        shared = pins[0].hosts & pins[1].hosts
        rules = ", ".join(repr(r) for r in dict.fromkeys(pins[0].rules + pins[1].rules))
        if not shared:
            return passed(f"VM-Host rules {rules} pin {names} to disjoint hosts")
        host_names = sorted(getattr(inventory.host(h), "name", h) for h in shared)
        pinned = f"VM-Host rules {rules} let both run on {', '.join(host_names)}"
    else:
        pinned = ""
    problems = [f"anti-affinity rule {r.name!r} covers the pair but is disabled" for r in covering]
    if pinned:
        problems.append(pinned)
    inactive = dict.fromkeys(pins[0].inactive + pins[1].inactive)
    problems.extend(
        f'VM-Host rule {name!r} lists them but is disabled or only "should run on"'
        for name in inactive
    )
    if not problems:
        problems.append(
            f"no VM-VM anti-affinity rule in cluster {cluster.name} contains both members, "
            'and no mandatory VM-Host "must run on" rules pin them to disjoint hosts'
        )
    return failed("; ".join(problems))


RULE = Rule(
    id="SA005",
    name="ha-anti-affinity",
    title="HA pairs are kept apart by a rule or by placement",
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
        'members, enabled (or "Virtual Machines to Hosts", "Must run on hosts in group", '
        "one VM group and host group per member, with disjoint host groups)."
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
            "members in different clusters",
            {
                "clusters": {"cl-2": {"hosts": 2}},
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1", "cluster": "cl-2"},
                },
                "pairs": {"p1": {"anti_affinity": False}},
            },
            {"p1": Status.PASS},
        ),
        Example(
            "the secondary on a standalone host",
            {
                "standalone_hosts": 1,
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1", "host": "standalone-1"},
                },
                "pairs": {"p1": {"anti_affinity": False}},
            },
            {"p1": Status.PASS},
        ),
        Example(
            'mandatory "must run on" rules pin them to disjoint host groups',
            {
                "hosts": 4,
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "pairs": {"p1": {"anti_affinity": False}},
                "vm_host_rules": [
                    {"vms": ["sa-p"], "hosts": ["esx-1", "esx-3"]},
                    {"vms": ["sa-s"], "hosts": ["esx-2", "esx-4"]},
                ],
            },
            {"p1": Status.PASS},
        ),
        Example(
            '"must run on" host groups that share a host',
            {
                "hosts": 3,
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "pairs": {"p1": {"anti_affinity": False}},
                "vm_host_rules": [
                    {"vms": ["sa-p"], "hosts": ["esx-1", "esx-3"]},
                    {"vms": ["sa-s"], "hosts": ["esx-2", "esx-3"]},
                ],
            },
            {"p1": Status.FAIL},
        ),
        Example(
            'only "should run on" rules (DRS may break them, HA ignores them)',
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "pairs": {"p1": {"anti_affinity": False}},
                "vm_host_rules": [
                    {"vms": ["sa-p"], "hosts": ["esx-1"], "mandatory": False},
                    {"vms": ["sa-s"], "hosts": ["esx-2"], "mandatory": False},
                ],
            },
            {"p1": Status.FAIL},
        ),
        Example(
            '"must run on" rule of one member disabled',
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "pairs": {"p1": {"anti_affinity": False}},
                "vm_host_rules": [
                    {"vms": ["sa-p"], "hosts": ["esx-1"]},
                    {"vms": ["sa-s"], "hosts": ["esx-2"], "enabled": False},
                ],
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
