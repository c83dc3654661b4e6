"""SA014 no-limits: no CPU or memory limit below the appliance's configured size.

A limit is a hard ceiling vSphere enforces even on an idle host: a limit on the appliance VM
(``config.cpuAllocation.limit`` / ``memoryAllocation.limit``), or on its resource pool or any
pool above it (which caps everything in the pool together), that is lower than what the
appliance is configured for starves it however much is reserved for it (SA007). The limits
are walked up the pool tree by ``Inventory.limits``; sizes are vCPUs x the host's core MHz and
the configured memory MB (``snapshot.reservations.configured_size``). -1 is unlimited.

PASS: every limit on the way up is unlimited or at least the configured size.
FAIL: a limit below the configured size (each one is named).
UNKNOWN: an allocation on the way up could not be read, or a CPU limit is set while the
host's core speed is not in the snapshot.
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
from scalearc_lint.snapshot.reservations import UNITS, configured_size

_WHAT = {"cpu": "CPU", "memory": "memory"}


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict:
    """Fail when the VM's own limit or a pool's above it is below its configured size."""
    vm = appliance.vm
    host = inventory.host(vm.host)
    failures: list[str] = []
    gaps: list[str] = []
    sizes: list[str] = []
    for limit in inventory.limits(vm):
        resource, unit = limit.resource, UNITS[limit.resource]
        what = _WHAT[resource]
        if inventory.unreadable("vm", vm.moid, resource):
            gaps.append(f"the VM's {what} allocation could not be read")
        gaps += [
            f"the {what} allocation of pool {inventory.snapshot.resource_pools[pool].name} "
            "could not be read"
            for pool in limit.pools
            if inventory.unreadable("resource_pool", pool, resource)
        ]
        size = configured_size(vm, host, resource)
        if size is None:
            if limit.limits:
                gaps.append(
                    f"a {what} limit is set ({limit.limits[0].amount} {unit} on "
                    f"{limit.limits[0].holder}), but the host's core speed is not in the "
                    "snapshot to compare it with"
                )
            continue
        sized = f"{vm.num_cpu} vCPU = {size} {unit}" if resource == "cpu" else f"{size} {unit}"
        sizes.append(f"{what} {sized}")
        failures += [
            f"{what} limit {found.amount} {unit} on {found.holder} is below its configured {sized}"
            for found in limit.below(size)
        ]
    if failures:
        return failed("; ".join(failures))
    if gaps:
        return unknown("; ".join(gaps))
    return passed(f"no limit below its configured size ({', '.join(sizes)})")


RULE = Rule(
    id="SA014",
    name="no-limits",
    title="No CPU or memory limit caps an appliance below its size",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "The vendor asks for reserved resources so that an overloaded host never starves the "
        "appliance; a limit below its configured size starves it by design, on an idle host "
        "too, whatever is reserved. A pool's limit caps everything in the pool together, so a "
        "limit on any pool above the appliance counts."
    ),
    reference=(
        'ScaleArc VM provisioning at the ESX level: "It is important to consider how ScaleArc '
        'VMs are setup at the Hypervisor level to use "Resource Pools" that has "Reservation." '
        "[...] Such a reservation would avoid overloading of ESX leading to a situation of "
        'vMotion."'
    ),
    remediation=(
        "Set the CPU and memory Limit to Unlimited on the appliance VM (Edit Settings > "
        "Virtual Hardware) and on each resource pool above it (Edit Settings), or raise them "
        "to at least the appliance's configured size."
    ),
    check=check,
    examples=(
        Example("no limits", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example(
            "a memory limit below the configured 8192 MB",
            {"appliances": {"sa-1": {"memory_limit": 4096}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "a CPU limit of 2 vCPU x 2000 MHz exactly",
            {"appliances": {"sa-1": {"cpu_limit": 4000, "memory_limit": 8192}}},
            {"sa-1": Status.PASS},
        ),
        Example(
            "the appliance pool's CPU limit is below the VM's size",
            {"appliances": {"sa-1": {}}, "pool": {"cpu_limit": 3000}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "a pool two levels above, with an ample limit on the nearer one",
            {
                "appliances": {"sa-1": {"pool": "inner"}},
                "pools": {
                    "outer": {"parent": "root", "cpu": 4000, "memory_limit": 2048},
                    "inner": {"parent": "outer", "cpu": 4000, "memory_limit": 65536},
                },
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "a limit of 0 MHz",
            {"appliances": {"sa-1": {"cpu_limit": 0}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "the VM's memory allocation could not be read",
            {
                "appliances": {"sa-1": {}},
                "unreadable": [{"kind": "vm", "vm": "sa-1", "property": "memory"}],
            },
            {"sa-1": Status.UNKNOWN},
        ),
    ),
)
