"""SA007 reservation: an appliance's CPU and memory are guaranteed by reservations.

CPU and memory are judged separately, by vSphere's arithmetic (``guaranteed_resources``):
the appliance's own VM-level reservation counts wherever it sits, the root pool included;
otherwise the non-root pool it runs in must reserve it (an expandable pool with no
reservation draws on its nearest reserved non-root ancestor). Appliances' own VM
reservations are carved out of the pool's reservation, never added to it, and the
reservations of other VMs and of child pools in the pool consume it. Sizes are vCPUs x the
host's core MHz and the configured memory.

PASS: the appliance's own reservation covers its size, or its pool's reservation leaves
enough for the appliances drawing on it.
FAIL (error): nothing reserved for it at all (root pool, or a pool reserving none).
FAIL (warning): reserved, but what remains for the appliances is below their sizes.
UNKNOWN: the resource pool is not in the snapshot, or the host's core speed is unknown.
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
from scalearc_lint.snapshot.reservations import UNITS, Guarantee, holders_text

_LABEL = {"cpu": "CPU", "memory": "memory"}


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict:
    """Judge the CPU and memory guarantees of the appliance."""
    vm = appliance.vm
    pool = inventory.pool(vm.resource_pool)
    if pool is None:
        return unknown("the VM's resource pool is not in the snapshot")
    guarantees = inventory.guaranteed_resources(vm)
    where = f"root pool {pool.name!r}" if pool.parent is None else f"pool {pool.name!r}"
    none = [g for g in guarantees if g.status == "none"]
    short = [g for g in guarantees if g.status == "short"]
    if none:
        missing = " or ".join(_LABEL[g.resource] for g in none)
        if pool.parent is None:
            why = f"it runs in the {where}, which reserves nothing for anyone"
        else:
            why = (
                f"{where} reserves none and draws on no reserved pool above it (it is not "
                "expandable, or only the root pool is above it)"
            )
        details = "; ".join(_describe(g, inventory) for g in short)
        return failed(
            f"nothing reserves its {missing}: no VM reservation, and {why}"
            + (f"; {details}" if details else "")
        )
    if short:
        return failed("; ".join(_describe(g, inventory) for g in short), Severity.WARNING)
    unsized = [g for g in guarantees if g.status == "unsized"]
    if unsized:
        return unknown(
            "the core speed of its host is not in the snapshot, so whether the CPU reserved "
            "covers its vCPUs cannot be told"
        )
    return passed("; ".join(_describe(g, inventory) for g in guarantees))


def _describe(guarantee: Guarantee, inventory: Inventory) -> str:
    unit = UNITS[guarantee.resource]
    label = _LABEL[guarantee.resource]
    size = f"{guarantee.configured} {unit}" if guarantee.configured is not None else "unknown"
    headroom = guarantee.headroom
    if guarantee.configured is not None and guarantee.own >= guarantee.configured:
        return f"{label}: its own reservation {guarantee.own} {unit} covers its {size}"
    if headroom is None:
        return (
            f"{label}: its own reservation {guarantee.own} {unit} < its {size}, and no pool "
            "reservation backs it"
        )
    count = len(headroom.appliances)
    text = f"{label}: pool {headroom.pool.name!r} reserves {headroom.reservation} {unit}"
    taken = []
    if headroom.held_by_appliances:
        taken.append(
            f"{headroom.held_by_appliances} {unit} are the appliances' own VM reservations"
        )
    if headroom.held_by_others:
        taken.append(f"{headroom.held_by_others} {unit} held by {holders_text(headroom)}")
    if taken:
        text += f" ({'; '.join(taken)})"
    if headroom.shortfall:
        return (
            f"{text}: {headroom.remaining} {unit} remain for {count} appliance(s) needing "
            f"{headroom.needed_beyond_own} {unit} more than their own reservations "
            f"(short by {headroom.shortfall} {unit})"
        )
    return f"{text}: enough for its {count} appliance(s)"


RULE = Rule(
    id="SA007",
    name="reservation",
    title="Appliance CPU and memory are guaranteed by reservations",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "Without a reservation an unrelated VM moved onto the appliance's host can starve it, "
        "and the resulting contention can itself trigger a vMotion of the appliance."
    ),
    reference=(
        'ScaleArc VM provisioning at the ESX level: "It is important to consider how ScaleArc '
        'VMs are setup at the Hypervisor level to use "Resource Pools" that has '
        '"Reservation." ... Such a reservation would avoid overloading of ESX leading to a '
        'situation of vMotion."'
    ),
    remediation=(
        "Create a child resource pool for the appliances with CPU and memory reservations at "
        "least the sum of their vCPUs x core MHz and configured memory, plus whatever other "
        "VMs and child pools in it reserve, and move them into it (keep other reserving VMs "
        "out of it); or give each appliance VM-level reservations covering its size."
    ),
    check=check,
    examples=(
        Example("reserved pool", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example("root pool", {"appliances": {"sa-1": {"pool": "root"}}}, {"sa-1": Status.FAIL}),
        Example(
            "no memory reservation",
            {"appliances": {"sa-1": {}}, "pool": {"cpu": 4000, "memory": 0}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "VM-level memory reservation covers its memory",
            {
                "appliances": {"sa-1": {"memory_reservation": 8192}},
                "pool": {"cpu": 4000, "memory": 0},
            },
            {"sa-1": Status.PASS},
        ),
        Example(
            "reservation below what the appliances need (warning)",
            {"appliances": {"sa-1": {}, "sa-2": {}}, "pool": {"cpu": 1000, "memory": 1024}},
            {"sa-1": Status.FAIL, "sa-2": Status.FAIL},
        ),
        Example(
            "own VM reservations are carved out of the pool's, not added (warning)",
            {
                "appliances": {
                    "sa-1": {"memory_mb": 16384, "memory_reservation": 8192},
                    "sa-2": {"memory_mb": 16384, "memory_reservation": 8192},
                },
                "pool": {"cpu": 8000, "memory": 16384},
            },
            {"sa-1": Status.FAIL, "sa-2": Status.FAIL},
        ),
        Example(
            "a database VM's reservation takes the pool's (warning: the vendor's starvation case)",
            {
                "appliances": {"sa-1": {}, "sa-2": {}},
                "vms": {"db-1": {"pool": "scalearc", "memory_reservation": 16384}},
            },
            {"sa-1": Status.FAIL, "sa-2": Status.FAIL},
        ),
        Example(
            "a child pool's reservation consumes its parent's (warning)",
            {
                "appliances": {"sa-1": {}},
                "pools": {"batch": {"parent": "scalearc", "cpu": 4000, "memory": 8192}},
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "own reservation covering its size, in the root pool",
            {
                "appliances": {
                    "sa-1": {"pool": "root", "cpu_reservation": 4000, "memory_reservation": 8192}
                }
            },
            {"sa-1": Status.PASS},
        ),
        Example(
            "expandable child pool with none draws on its reserved parent",
            {
                "appliances": {"sa-1": {"pool": "scalearc-a"}, "sa-2": {"pool": "scalearc-a"}},
                "pools": {"scalearc-a": {"parent": "scalearc", "expandable": True}},
            },
            {"sa-1": Status.PASS, "sa-2": Status.PASS},
        ),
        Example(
            "non-expandable child pool with none draws on nothing",
            {
                "appliances": {"sa-1": {"pool": "scalearc-a"}},
                "pools": {"scalearc-a": {"parent": "scalearc", "expandable": False}},
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "expandable pool with none under the root pool",
            {
                "appliances": {"sa-1": {"pool": "scalearc-a"}},
                "pools": {"scalearc-a": {"parent": "root", "expandable": True}},
            },
            {"sa-1": Status.FAIL},
        ),
    ),
)
