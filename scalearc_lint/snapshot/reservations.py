"""What CPU and memory an appliance is guaranteed: its own reservation, and the pool it draws on.

vSphere's arithmetic, once, for rules, ``whatif`` and ``fix``:

* A VM's own reservation (``config.cpuAllocation`` / ``memoryAllocation``) is guaranteed to
  it wherever it sits, the root pool included.
* A non-root pool with a non-zero reservation guarantees that much to what runs in it. A
  pool with none that is expandable (``expandableReservation``) draws on its parent, and so
  on up to the nearest reserved non-root pool; the root pool reserves nothing for anyone.
* What is held inside the pool comes *out of* its reservation, never on top of it: the
  reservations of child pools, the VM reservations of other VMs (powered off ones too, as
  they take theirs when they power on), and the appliances' own VM reservations.
  What remains is shared by the appliances still short of their configured size.

CPU sizes are vCPUs x the host's core MHz; memory sizes are the configured MB.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from scalearc_lint.snapshot.model import Allocation, Host, ResourcePool, Snapshot, VirtualMachine

Resource = Literal["cpu", "memory"]
RESOURCES: tuple[Resource, ...] = ("cpu", "memory")
UNITS: dict[Resource, str] = {"cpu": "MHz", "memory": "MB"}


def allocation(obj: ResourcePool | VirtualMachine, resource: Resource) -> Allocation:
    """A pool's or a VM's allocation of one resource."""
    if isinstance(obj, ResourcePool):
        return obj.cpu if resource == "cpu" else obj.memory
    return obj.cpu_allocation if resource == "cpu" else obj.memory_allocation


def above_limit(held: Allocation) -> bool:
    """Whether the allocation reserves more than its limit (-1: none): vCenter refuses to set
    such a reservation, so a plan must lift the limit first."""
    return 0 <= held.limit < held.reservation


def configured_size(vm: VirtualMachine, host: Host | None, resource: Resource) -> int | None:
    """What the VM is configured for: memory MB, or vCPUs x host core MHz (None: unknown)."""
    if resource == "memory":
        return vm.memory_mb
    mhz = host.cpu_mhz if host is not None else 0
    return vm.num_cpu * mhz if mhz > 0 else None


@dataclass(frozen=True, slots=True)
class PoolHeadroom:
    """A reserved non-root pool's reservation of one resource, and who holds what of it."""

    pool: ResourcePool
    resource: Resource
    reservation: int
    #: Reservations of child pools and of VMs that are not appliances, drawing on this pool.
    held_by_others: int
    #: The largest of those holders, (name, amount), largest first.
    holders: tuple[tuple[str, int], ...]
    #: Moids of the appliances drawing on this pool.
    appliances: tuple[str, ...]
    #: The appliances' own VM reservations, carved out of ``reservation``.
    held_by_appliances: int
    #: What those appliances lack beyond their own reservations, together.
    needed_beyond_own: int

    @property
    def remaining(self) -> int:
        """What is left of the reservation for the appliances beyond their own reservations."""
        return max(self.reservation - self.held_by_others - self.held_by_appliances, 0)

    @property
    def shortfall(self) -> int:
        """How much the appliances drawing on this pool lack together (0: none)."""
        return max(self.needed_beyond_own - self.remaining, 0)

    @property
    def covering(self) -> int:
        """The reservation that covers everything drawing on this pool: what others hold,
        the appliances' own reservations (carved out of it, so vCenter admits them) and
        what the appliances lack beyond those."""
        return self.held_by_others + self.held_by_appliances + self.needed_beyond_own


GuaranteeStatus = Literal["guaranteed", "short", "none", "unsized"]


@dataclass(frozen=True, slots=True)
class Guarantee:
    """How much of one resource one appliance is guaranteed, and from where."""

    resource: Resource
    configured: int | None
    own: int
    #: The reserved pool it draws on (``None``: none, e.g. the root pool).
    headroom: PoolHeadroom | None

    @property
    def status(self) -> GuaranteeStatus:
        """``guaranteed``, ``short`` (reserved, not enough), ``none`` (nothing reserved), or
        ``unsized`` (reserved, but the size to compare with is not in the snapshot)."""
        if self.configured is not None and self.own >= self.configured:
            return "guaranteed"
        if self.headroom is None:
            if self.own == 0:
                return "none"
            return "short" if self.configured is not None else "unsized"
        if self.configured is None:
            return "unsized"
        return "short" if self.headroom.shortfall > 0 else "guaranteed"


@dataclass
class _Tally:
    others: int = 0
    holders: list[tuple[str, int]] = field(default_factory=list)
    appliances: list[str] = field(default_factory=list)
    held_by_appliances: int = 0
    needed: int = 0


def reservation_holders(
    vms: Mapping[str, VirtualMachine], appliances: Collection[str]
) -> dict[str, VirtualMachine]:
    """The VMs reservation arithmetic reads, by moid: the appliances, and every VM that holds
    a CPU or memory reservation (what it holds comes out of the pool it draws on)."""
    return {
        moid: vm
        for moid, vm in vms.items()
        if moid in appliances or vm.cpu_allocation.reservation or vm.memory_allocation.reservation
    }


class ReservationIndex:
    """For every pool and resource, the reserved pool it draws on and that pool's headroom.

    Built once: one pass over the pools, one over the VMs holding a reservation, one over
    the appliances. Only those VMs are read, so ``snapshot.vms`` may hold just them
    (:func:`reservation_holders`).
    """

    def __init__(self, snapshot: Snapshot, appliances: Collection[str]) -> None:
        self._pools = snapshot.resource_pools
        self._hosts = snapshot.hosts
        self._draws_on: dict[Resource, dict[str, str | None]] = {r: {} for r in RESOURCES}
        tallies: dict[tuple[str, Resource], _Tally] = defaultdict(_Tally)
        for resource in RESOURCES:
            for pool in self._pools.values():
                amount = allocation(pool, resource).reservation
                if pool.parent is not None and amount > 0:
                    target = self.draws_on(pool.parent, resource)
                    if target is not None:
                        tally = tallies[(target, resource)]
                        tally.others += amount
                        tally.holders.append((f"child pool {pool.name}", amount))
        appliance_set = set(appliances)
        for moid, vm in snapshot.vms.items():
            cpu, memory = vm.cpu_allocation.reservation, vm.memory_allocation.reservation
            if (cpu or memory) and not vm.template and vm.resource_pool is not None:
                if moid in appliance_set:
                    continue
                for resource, amount in (("cpu", cpu), ("memory", memory)):
                    target = self.draws_on(vm.resource_pool, resource) if amount else None
                    if target is not None:
                        tally = tallies[(target, resource)]
                        tally.others += amount
                        tally.holders.append((vm.name, amount))
        for moid in sorted(appliance_set):
            vm = snapshot.vms[moid]
            if vm.resource_pool is None:
                continue
            for resource in RESOURCES:
                target = self.draws_on(vm.resource_pool, resource)
                if target is None:
                    continue
                own = allocation(vm, resource).reservation
                size = configured_size(vm, self._hosts.get(vm.host or ""), resource)
                tally = tallies[(target, resource)]
                tally.appliances.append(moid)
                tally.held_by_appliances += own
                tally.needed += max((size or 0) - own, 0)
        self._headroom = {
            key: PoolHeadroom(
                pool=self._pools[key[0]],
                resource=key[1],
                reservation=allocation(self._pools[key[0]], key[1]).reservation,
                held_by_others=tally.others,
                holders=tuple(sorted(tally.holders, key=lambda h: (-h[1], h[0]))[:3]),
                appliances=tuple(tally.appliances),
                held_by_appliances=tally.held_by_appliances,
                needed_beyond_own=tally.needed,
            )
            for key, tally in tallies.items()
        }

    def draws_on(self, pool_moid: str, resource: Resource) -> str | None:
        """The reserved non-root pool what runs in ``pool_moid`` draws on (None: none)."""
        known = self._draws_on[resource]
        path: list[str] = []
        current: str | None = pool_moid
        target: str | None = None
        while current is not None:
            if current in known:
                target = known[current]
                break
            pool = self._pools.get(current)
            if pool is None or pool.parent is None:
                target = None  # the root pool reserves nothing for anyone
                path.append(current)
                break
            path.append(current)
            alloc = allocation(pool, resource)
            if alloc.reservation > 0:
                target = current
                break
            if not alloc.expandable:
                target = None
                break
            current = pool.parent
        for moid in path:
            known[moid] = target
        return target

    def headroom(self, pool_moid: str, resource: Resource) -> PoolHeadroom | None:
        """The headroom of the reserved pool that ``pool_moid`` draws on, if any."""
        target = self.draws_on(pool_moid, resource)
        if target is None:
            return None
        empty = PoolHeadroom(
            pool=self._pools[target],
            resource=resource,
            reservation=allocation(self._pools[target], resource).reservation,
            held_by_others=0,
            holders=(),
            appliances=(),
            held_by_appliances=0,
            needed_beyond_own=0,
        )
        return self._headroom.get((target, resource), empty)

    def guarantees(self, vm: VirtualMachine) -> tuple[Guarantee, Guarantee]:
        """The VM's CPU and memory guarantees."""
        host = self._hosts.get(vm.host or "")
        cpu, memory = (
            Guarantee(
                resource,
                configured_size(vm, host, resource),
                allocation(vm, resource).reservation,
                self.headroom(vm.resource_pool, resource) if vm.resource_pool else None,
            )
            for resource in RESOURCES
        )
        return cpu, memory


def holders_text(headroom: PoolHeadroom) -> str:
    """``db-01 (65536 MB), child pool X (1024 MB)`` for messages."""
    unit = UNITS[headroom.resource]
    return ", ".join(f"{name} ({amount} {unit})" for name, amount in headroom.holders)
