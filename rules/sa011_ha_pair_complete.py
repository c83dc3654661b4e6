"""SA011 ha-pair-complete: an HA pair id has exactly one primary and one secondary, in one cluster.

A primary or secondary with no pair id is reported as a pair of its own,
named ``(no pair id) <vm name>``.

PASS: one primary, one secondary, same cluster.
FAIL: a missing or extra member, two primaries, a member with no valid role,
or members in different clusters.
"""

from __future__ import annotations

from collections import Counter

from scalearc_lint.engine.rule import (
    Example,
    NoOptions,
    Rule,
    Severity,
    Status,
    Verdict,
    failed,
    passed,
)
from scalearc_lint.snapshot.identification import Role
from scalearc_lint.snapshot.inventory import Inventory, Pair


def check(pair: Pair, inventory: Inventory, options: NoOptions) -> Verdict:
    """Count roles and clusters of the pair's members."""
    if pair.orphan:
        member = pair.members[0]
        return failed(f"{member.vm.name} is a {member.role} appliance with no HA pair id")
    problems = []
    roles = Counter(m.role for m in pair.members)
    for m in pair.members:
        if m.role is None:
            problems.append(f"{m.vm.name} has no valid role ({m.raw_role or 'none'!s})")
        elif m.role is Role.STANDALONE:
            problems.append(f"{m.vm.name} is standalone but carries pair id {pair.id!r}")
    for role in (Role.PRIMARY, Role.SECONDARY):
        if roles[role] != 1:
            problems.append(f"{roles[role]} {role.value}(ies) instead of 1")
    clusters = {m.vm.cluster for m in pair.members}
    if len(clusters) > 1:
        names = sorted(getattr(inventory.cluster(c), "name", str(c)) for c in clusters)
        problems.append(f"members span clusters {', '.join(names)}")
    if problems:
        return failed("; ".join(problems))
    cluster = inventory.cluster(next(iter(clusters)))
    primary = next(m for m in pair.members if m.role is Role.PRIMARY)
    secondary = next(m for m in pair.members if m.role is Role.SECONDARY)
    where = f" in cluster {cluster.name}" if cluster is not None else ""
    return passed(f"primary {primary.vm.name}, secondary {secondary.vm.name}{where}")


RULE = Rule(
    id="SA011",
    name="ha-pair-complete",
    title="HA pairs have one primary and one secondary in one cluster",
    severity=Severity.ERROR,
    scope="pair",
    rationale=(
        "Every other HA rule assumes a well-formed pair; a pair with two primaries, a missing "
        "secondary or members in different clusters means either mislabelled appliances or an "
        "HA set-up that cannot fail over as intended."
    ),
    reference=(
        "vMotion and similar technologies with ScaleArc HA: the procedure depends on knowing "
        'which member is the Primary and which the Secondary; "it could very easily lead to a '
        "'split brain' situation.\""
    ),
    remediation=(
        "Fix the scalearc-role / scalearc-ha-pair attributes or tags so they match the HA "
        "configuration in the ScaleArc GUI, and keep both members in one cluster."
    ),
    check=check,
    examples=(
        Example(
            "complete pair",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                }
            },
            {"p1": Status.PASS},
        ),
        Example(
            "two primaries",
            {
                "appliances": {
                    "sa-a": {"role": "primary", "pair": "p1"},
                    "sa-b": {"role": "primary", "pair": "p1"},
                }
            },
            {"p1": Status.FAIL},
        ),
        Example(
            "secondary missing",
            {"appliances": {"sa-p": {"role": "primary", "pair": "p1"}}},
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
            },
            {"p1": Status.FAIL},
        ),
    ),
)
