"""SA011 ha-pair-complete: an HA pair id has exactly one primary and one secondary.

Pairs are joined by pair id across the estate: members may sit in different clusters
or in different vCenters of the run (DESIGN.md). A primary or secondary with no pair id
is reported as a pair of its own, named ``(no pair id) <vm name>``.

PASS: one primary, one secondary.
FAIL: a missing or extra member, two primaries, or a standalone appliance carrying the
pair id.
UNKNOWN: a VM naming the pair cannot be identified without guessing (ID001): its role
attribute and tag disagree, it names several pairs, or its role is not a role.
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
from scalearc_lint.snapshot.inventory import Inventory, Pair, PairMember


def check(pair: Pair, inventory: Inventory, options: NoOptions) -> Verdict:
    """Count the roles of the pair's members across the estate."""
    if pair.orphan:
        member = pair.members[0]
        return failed(f"{member.vm.name} is a {member.role} appliance with no HA pair id")
    several = len(pair.vcenters) > 1
    problems = [
        f"{_where(m, several)} is standalone but carries pair id {pair.id!r}"
        for m in pair.members
        if m.role is Role.STANDALONE
    ]
    roles = Counter(m.role for m in pair.members)
    for role in (Role.PRIMARY, Role.SECONDARY):
        if roles[role] != 1:
            names = ", ".join(_where(m, several) for m in pair.members if m.role is role)
            listed = f": {names}" if names else ""
            problems.append(f"{roles[role]} {role.value}(ies) instead of 1{listed}")
    if problems:
        return failed("; ".join(problems))
    primary = next(m for m in pair.members if m.role is Role.PRIMARY)
    secondary = next(m for m in pair.members if m.role is Role.SECONDARY)
    return passed(f"primary {_where(primary, several)}, secondary {_where(secondary, several)}")


def _where(member: PairMember, with_vcenter: bool) -> str:
    cluster = member.cluster
    where = f" in cluster {cluster.name}" if cluster is not None else ""
    return f"{member.vm.name}{where}{f' of {member.vcenter}' if with_vcenter else ''}"


RULE = Rule(
    id="SA011",
    name="ha-pair-complete",
    title="HA pairs have one primary and one secondary",
    severity=Severity.ERROR,
    scope="pair",
    rationale=(
        "Every other HA rule assumes a well-formed pair; a pair with two primaries or a missing "
        "secondary means either mislabelled appliances or an HA set-up that cannot fail over "
        "as intended. Members may sit in different clusters or vCenters: ScaleArc HA is "
        "between the appliances, not a vSphere feature."
    ),
    reference=(
        "vMotion and similar technologies with ScaleArc HA: the procedure depends on knowing "
        'which member is the Primary and which the Secondary; "it could very easily lead to a '
        "'split brain' situation.\""
    ),
    remediation=(
        "Fix the scalearc-role / scalearc-ha-pair attributes or tags so they match the HA "
        "configuration in the ScaleArc GUI."
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
            {"p1": Status.PASS},
        ),
        Example(
            "members in two vCenters of the run; pair ids in any case",
            {
                "appliances": {"sa-p": {"role": "primary", "pair": "P1"}},
                "vcenters": {
                    "vc-b.example": {"appliances": {"sa-s": {"role": "secondary", "pair": "p1"}}}
                },
            },
            {"p1": Status.PASS},
        ),
        Example(
            "a primary in each of two vCenters",
            {
                "appliances": {"sa-a": {"role": "primary", "pair": "p1"}},
                "vcenters": {
                    "vc-b.example": {"appliances": {"sa-b": {"role": "primary", "pair": "p1"}}}
                },
            },
            {"p1": Status.FAIL},
        ),
        Example(
            "standalone appliance carrying the pair id",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                    "sa-x": {"role": "standalone", "pair": "p1"},
                }
            },
            {"p1": Status.FAIL},
        ),
        Example(
            "the secondary's role attribute says secondary, its role tag primary",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {
                        "role": "secondary",
                        "pair": "p1",
                        "tags": [{"category": "scalearc-role", "name": "primary"}],
                    },
                }
            },
            {"p1": Status.UNKNOWN},
        ),
        Example(
            "a member's role is misspelt",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secundary", "pair": "p1"},
                }
            },
            {"p1": Status.UNKNOWN},
        ),
    ),
)
