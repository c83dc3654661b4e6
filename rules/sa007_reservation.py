"""SA007 reservation: appliances sit in a non-root resource pool that reserves CPU and memory.

CPU and memory are judged separately; for each, a reservation on the pool or on
the VM itself counts. A warning (not an error) when the reservations fall
below what the pool's appliances are configured for (vCPUs x host core MHz,
configured memory).

PASS: non-root pool, CPU and memory reserved, enough for the appliances in it.
FAIL (error): in the root pool, or no CPU or no memory reservation.
FAIL (warning): reserved, but less than the appliances are configured for.
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
    """Judge the appliance's pool and VM-level reservations."""
    vm = appliance.vm
    pool = inventory.pool(vm.resource_pool)
    if pool is None:
        return unknown("the VM's resource pool is not in the snapshot")
    if pool.parent is None:
        return failed(
            f"in the root resource pool {pool.name!r} of its cluster, with no reservation"
        )
    cpu_reserved = pool.cpu.reservation > 0 or vm.cpu_allocation.reservation > 0
    memory_reserved = pool.memory.reservation > 0 or vm.memory_allocation.reservation > 0
    missing = [name for name, ok in (("CPU", cpu_reserved), ("memory", memory_reserved)) if not ok]
    if missing:
        return failed(f"pool {pool.name!r} and the VM reserve no {' and no '.join(missing)}")
    shortfalls = []
    appliances = inventory.appliances_by_pool.get(pool.moid, [])
    memory_need = sum(a.vm.memory_mb for a in appliances)
    memory_have = pool.memory.reservation + sum(
        a.vm.memory_allocation.reservation for a in appliances
    )
    if memory_have < memory_need:
        shortfalls.append(f"memory {memory_have} MB reserved < {memory_need} MB configured")
    cpu_need = 0
    for a in appliances:
        host = inventory.host(a.vm.host)
        cpu_need += a.vm.num_cpu * (host.cpu_mhz if host is not None else 0)
    cpu_have = pool.cpu.reservation + sum(a.vm.cpu_allocation.reservation for a in appliances)
    if cpu_need and cpu_have < cpu_need:
        shortfalls.append(f"CPU {cpu_have} MHz reserved < {cpu_need} MHz configured")
    if shortfalls:
        return failed(
            f"pool {pool.name!r} ({len(appliances)} appliance(s)): " + "; ".join(shortfalls),
            severity=Severity.WARNING,
        )
    return passed(
        f"pool {pool.name!r} reserves {pool.cpu.reservation} MHz and {pool.memory.reservation} MB"
    )


RULE = Rule(
    id="SA007",
    name="reservation",
    title="Appliances run in a resource pool with CPU and memory reservations",
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
        "least the sum of their vCPUs x core MHz and configured memory, and move them into it."
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
            "VM-level memory reservation counts",
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
    ),
)
