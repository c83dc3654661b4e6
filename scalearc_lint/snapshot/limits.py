"""What caps an appliance's CPU and memory: its own limit, and the limits of every pool above it.

A limit (``cpuAllocation.limit`` / ``memoryAllocation.limit``, -1 unlimited) is a hard
ceiling: vSphere never gives the VM, or everything in the pool together, more than that, even
on an idle host. A VM's effective ceiling is the lowest of its own limit and the limits of
its resource pool and each pool above it (the root pool has none). The one statement of
that walk for rules, ``whatif`` and ``fix``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scalearc_lint.snapshot.model import ResourcePool, VirtualMachine
from scalearc_lint.snapshot.reservations import Resource, allocation

#: ``limit`` when there is none.
UNLIMITED = -1


@dataclass(frozen=True, slots=True)
class LimitSet:
    """One limit on the way up from a VM: on the VM itself, or on a pool above it."""

    amount: int
    #: ``the VM`` or ``pool NAME``.
    holder: str
    #: The pool's moid; ``None`` for the VM's own limit.
    pool: str | None = None


@dataclass(frozen=True, slots=True)
class EffectiveLimit:
    """Every limit that caps one resource of one VM, its own first, then the pools upward."""

    resource: Resource
    limits: tuple[LimitSet, ...]
    #: The moids of the VM's pool and every pool above it, nearest first.
    pools: tuple[str, ...] = ()

    @property
    def ceiling(self) -> LimitSet | None:
        """The tightest limit (the first of equals, nearest the VM); ``None``: unlimited."""
        return min(self.limits, key=lambda limit: limit.amount, default=None)

    def below(self, size: int) -> list[LimitSet]:
        """The limits lower than ``size`` (MHz or MB)."""
        return [limit for limit in self.limits if limit.amount < size]


def effective_limit(
    vm: VirtualMachine, pools: Mapping[str, ResourcePool], resource: Resource
) -> EffectiveLimit:
    """The VM's own limit of ``resource`` and those of its pool and every pool above it."""
    found: list[LimitSet] = []
    own = allocation(vm, resource).limit
    if own != UNLIMITED:
        found.append(LimitSet(own, "the VM"))
    walked: dict[str, None] = {}
    current = vm.resource_pool
    while current is not None and current not in walked:
        walked[current] = None  # a parent loop in a hand-made file must not hang the walk
        pool = pools.get(current)
        if pool is None:
            break
        amount = allocation(pool, resource).limit
        if amount != UNLIMITED:
            found.append(LimitSet(amount, f"pool {pool.name}", pool.moid))
        current = pool.parent
    return EffectiveLimit(resource, tuple(found), tuple(walked))
