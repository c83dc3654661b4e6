"""Remediation: from failing results to a change plan that repairs them, in the vendor's order.

Each rule's remediation is one small generator registered in :data:`REMEDIES` by rule
id: given a failing result and the inventory it was judged on, it returns the changes
(:class:`Work`) that repair it, or says why there is none. A later rule joins by adding
one entry. Generators ask the inventory layer how settings resolve; they never judge
compliance themselves: ``fix`` proves the plan by living it with ``whatif`` and
re-running every rule (:mod:`scalearc_lint.commands.fix`).

:func:`assemble` orders the work as the vendor's procedure wants it:

1. configuration that needs no downtime first (limits lifted before any reservation is
   raised, DRS overrides, portgroup policies, pools and reservations, HA overrides), so
   an appliance is not migrated by DRS while it is being worked on and a moved appliance
   lands on notifying portgroups;
2. work that needs an appliance powered off (a MAC change, a cold migration), per VM in
   one block (``power_off``, the changes, ``power_on``). For an HA pair the secondary
   goes first; work on the primary follows a manual switchover, so it is done on the new
   secondary. A standalone appliance, or a primary whose partner cannot take over, goes
   down: a ``confirm_outage`` step says so and needs a person's confirmation;
3. changes best made once the pair is apart and the work done: anti-affinity rules (a
   rule created while both members share a host would make DRS move one at once) and
   snapshot removal and consolidation (each stuns the VM; after a switchover it stuns a
   secondary).

Everything else is listed (``unplanned``), never dropped: history (SA009, SA010, SA012,
SA013's HA restart, SA016) gets a prevention step where one exists, identity (SA011,
ID001) is for a person.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import msgspec
import yaml

from scalearc_lint.change.plan import MAC_PATTERN, OPERATIONS, unusable
from scalearc_lint.engine.config import Config
from scalearc_lint.engine.evaluate import LoadedRule
from scalearc_lint.engine.results import Result
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.snapshot.drs import DrsAutomation, effective_drs_automation
from scalearc_lint.snapshot.ha import DISABLED
from scalearc_lint.snapshot.identification import Role
from scalearc_lint.snapshot.inventory import (
    VMWARE_OUI,
    VMWARE_STATIC_MAX_FOURTH_OCTET,
    Appliance,
    Inventory,
    Pair,
    PairMember,
    normalise_mac,
    outside_vmware_static_range,
    walk_snapshots,
)
from scalearc_lint.snapshot.model import (
    Allocation,
    Cluster,
    Host,
    Nic,
    ResourcePool,
    VirtualMachine,
    VmSnapshot,
)
from scalearc_lint.snapshot.reservations import (
    RESOURCES,
    UNITS,
    ReservationIndex,
    Resource,
    above_limit,
    allocation,
    configured_size,
)

#: A resource in words.
_RESOURCE_WORDS = {"cpu": "CPU", "memory": "memory"}

#: When a change is made (see the module docstring).
BEFORE, OFFLINE, AFTER = 0, 1, 2

#: What a MAC change may touch beyond the VM: said on every step that changes a MAC.
MAC_CHANGE_WARNING = (
    "a new MAC: the VM must be powered off, and licences or DHCP reservations bound to the "
    "old MAC may need updating"
)


@dataclass(frozen=True, slots=True)
class FindingRef:
    """The failing result a step repairs (or prevents from happening again)."""

    rule: str
    kind: str
    id: str
    name: str
    message: str
    vcenter: str = ""

    @classmethod
    def of(cls, result: Result) -> FindingRef:
        """The reference to ``result``."""
        o = result.object
        return cls(result.rule, o.kind, o.id, o.name, result.message, o.vcenter)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(vCenter, rule, object kind, object id): how the planned state's result is found."""
        return (self.vcenter, self.rule, self.kind, self.id)

    @property
    def text(self) -> str:
        """``SA001 sa-beta-1: <message>`` on one line."""
        message = " ".join(self.message.split())
        return f"{self.rule} {self.name}: {message}"


@dataclass(frozen=True, slots=True)
class Work:
    """One change: a plan step (``op`` on ``target`` with ``params``) and why.

    ``offline`` names the VM that must be powered off for it; ``phase`` orders it.
    """

    op: str
    target: str
    params: Mapping[str, Any]
    phase: int
    also: tuple[str, ...] = ()
    offline: str | None = None
    #: Orders steps of one kind where vCenter needs an order (a parent pool's reservation
    #: before its child's); lower first.
    rank: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        """Equal work from two findings is one step."""
        return (self.op, self.target, repr(sorted(self.params.items())))


@dataclass(frozen=True, slots=True)
class Remedy:
    """What a generator returns: the work, or why there is none (``listed``)."""

    work: tuple[Work, ...] = ()
    listed: str = ""
    #: True for a finding of the past (an event): the work prevents a repeat, the finding
    #: itself stays.
    prevention: bool = False


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A step of the written plan with the findings it serves and what else it changes."""

    op: str
    target: str
    params: Mapping[str, Any]
    repairs: tuple[FindingRef, ...] = ()
    prevents: tuple[FindingRef, ...] = ()
    also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unplanned:
    """A failing result with no step, and why."""

    finding: FindingRef
    reason: str


@dataclass(frozen=True, slots=True)
class FixPlan:
    """The steps for one vCenter, in order, and what was left for a person."""

    vcenter: str
    steps: tuple[PlannedStep, ...]
    unplanned: tuple[Unplanned, ...]


class MacAllocator:
    """Static MACs unique in the whole estate, the same answer for the same vNIC every time.

    Who shares an appliance's MAC, and which MACs of VMware's static range are taken, come
    from the estate's one pass over every vNIC, the one SA002 judges by.
    """

    def __init__(self, estate: Sequence[Inventory]) -> None:
        self.estate = estate
        self._by_vcenter = {inventory.vcenter: inventory for inventory in estate}
        self._given: dict[tuple[str, str, int], str] = {}

    @cached_property
    def used(self) -> set[str]:
        """Every MAC in use in the estate that a new one could repeat (those in VMware's
        static range, where new ones are drawn), and every MAC given out since."""
        return set(self.estate[0].estate.macs_in_static_range) if self.estate else set()

    def holders(self, mac: str) -> list[tuple[str, str, int, bool]]:
        """(vCenter, VM moid, vNIC key, is an appliance) of each vNIC with an appliance's MAC."""
        if not self.estate:
            return []
        found = []
        for ref in self.estate[0].estate.nics_by_appliance_mac.get(mac, []):
            inventory = self._by_vcenter.get(ref.vcenter)
            appliance = inventory is not None and ref.vm.moid in inventory.appliances
            found.append((ref.vcenter, ref.vm.moid, ref.nic_key, appliance))
        return found

    def keeps(self, vcenter: str, vm: VirtualMachine, nic: Nic) -> bool:
        """Whether the vNIC keeps today's MAC: a well-formed MAC outside the part of VMware's
        OUI vCenter generates from, used by no other vNIC (of appliances sharing one, the
        first in vCenter and moid order keeps it; a MAC shared with an ordinary VM is left
        to the ordinary VM)."""
        mac = normalise_mac(nic.mac)
        if not MAC_PATTERN.match(mac) or outside_vmware_static_range(mac):
            return False
        holders = self.holders(mac)
        if len(holders) <= 1:
            return True
        if not all(is_appliance for *_, is_appliance in holders):
            return False
        return min(holders)[:3] == (vcenter, vm.moid, nic.key)

    def mac_for(self, vcenter: str, vm: VirtualMachine, nic: Nic) -> str:
        """The MAC the vNIC should have: today's if it keeps it, else a new unused one in
        VMware's static range 00:50:56:00:00:00-3F:FF:FF (derived from the VM and vNIC, so
        the same snapshot gives the same plan)."""
        key = (vcenter, vm.moid, nic.key)
        if key in self._given:
            return self._given[key]
        if self.keeps(vcenter, vm, nic):
            mac = normalise_mac(nic.mac)
        else:
            size = (VMWARE_STATIC_MAX_FOURTH_OCTET + 1) << 16
            seed = hashlib.sha256(f"{vcenter}/{vm.instance_uuid or vm.moid}/{nic.key}".encode())
            number = int.from_bytes(seed.digest()[:4], "big") % size
            while True:
                digits = VMWARE_OUI + f"{number:06x}"
                mac = ":".join(digits[i : i + 2] for i in range(0, 12, 2))
                if mac not in self.used:
                    break
                number = (number + 1) % size
            self.used.add(mac)
        self._given[key] = mac
        return mac


@dataclass
class FixContext:
    """What a generator may read: the finding's inventory, the whole estate's MACs, every
    failing result, the rules' options."""

    inventory: Inventory
    macs: MacAllocator
    failing: Mapping[str, frozenset[str]]
    rules: Mapping[str, LoadedRule]
    config: Config
    names: dict[str, Counter[str]] = field(default_factory=dict)
    #: Whether steps count what else they change in their comments (``also``). The plan
    #: file shows them; check's suggested steps do not, and the counts cost passes over
    #: every VM (how many vNICs a portgroup backs, which VMs a pool holds).
    describe_effects: bool = True

    @cached_property
    def placements(self) -> Mapping[str, Placement]:
        """Where each pair SA004 fails on moves its secondary, by pair id (worked out once)."""
        pairs = self.inventory.pairs
        return {
            pair_id: place_secondary(self.inventory, pairs[pair_id], self.running_vms_by_host)
            for pair_id in sorted(self.failing.get("SA004", ()))
            if pair_id in pairs
        }

    @cached_property
    def reservations(self) -> ReservationPlan:
        """Every SA007 repair of the inventory, and what the plan's moves need, worked out
        once (see ReservationPlan)."""
        moves = {
            p.vm.moid: p.to.moid
            for p in self.placements.values()
            if p.vm is not None and p.to is not None
        }
        return ReservationPlan(self.inventory, self.failing.get("SA007", frozenset()), moves)

    @cached_property
    def portgroup_users(self) -> Mapping[str, int]:
        """How many vNICs each portgroup (DV moid, or standard name) backs, counted once."""
        users: dict[str, int] = defaultdict(int)
        for vm in self.inventory.snapshot.vms.values():
            for nic in vm.nics:
                users[nic.backing.portgroup or nic.backing.network] += 1
        return users

    @cached_property
    def vms_under_pool(self) -> Mapping[str, list[str]]:
        """The names of the VMs in each pool or any pool below it, by pool moid (worked
        out once: what a change to a pool's allocation reaches)."""
        pools = self.inventory.snapshot.resource_pools
        under: dict[str, list[str]] = defaultdict(list)
        for vm in self.inventory.snapshot.vms.values():
            seen: set[str] = set()
            pool = vm.resource_pool
            while pool is not None and pool in pools and pool not in seen:
                seen.add(pool)
                under[pool].append(vm.name)
                pool = pools[pool].parent
        return {moid: sorted(names) for moid, names in under.items()}

    @cached_property
    def running_vms_by_host(self) -> Mapping[str | None, int]:
        """How many powered-on VMs each host runs, counted once."""
        load: dict[str | None, int] = defaultdict(int)
        for vm in self.inventory.snapshot.vms.values():
            if vm.power_state == "poweredOn":
                load[vm.host] += 1
        return load

    def options(self, rule_id: str) -> Any:
        """The configured options of a rule."""
        loaded = self.rules.get(rule_id)
        return self.config.settings(loaded.rule).options if loaded is not None else None

    def fails(self, rule_id: str, object_id: str) -> bool:
        """Whether ``rule_id`` fails on the object in this run."""
        return object_id in self.failing.get(rule_id, frozenset())

    def ref(self, kind: str, moid: str) -> str:
        """How a step names an object: its name where that names it alone in the snapshot
        (no other object has it, as a name or a moid), else its moid."""
        collection: Mapping[str, Any] = getattr(self.inventory.snapshot, _COLLECTIONS[kind])
        obj = collection.get(moid)
        if obj is None:
            return moid
        counts = self.names.get(kind)
        if counts is None:
            # Counted once per kind: a run names many objects of a large snapshot.
            counts = self.names[kind] = Counter(o.name for o in collection.values())
        name = str(obj.name)
        return name if counts[name] == 1 and (name == moid or name not in collection) else moid


#: The snapshot collection of each kind of object a step names.
_COLLECTIONS = {
    "vm": "vms",
    "host": "hosts",
    "pool": "resource_pools",
    "dvpg": "dv_portgroups",
    "cluster": "clusters",
}


def _owner_name(inventory: Inventory, owner: str) -> str:
    """``cluster X`` or ``host Y``: what owns a resource pool."""
    cluster = inventory.cluster(owner)
    if cluster is not None:
        return f"cluster {cluster.name}"
    host = inventory.host(owner)
    return f"host {host.name}" if host is not None else owner


class ReservationPlan:
    """Every SA007 repair of one inventory, worked out together with vSphere's arithmetic
    (:class:`~scalearc_lint.snapshot.reservations.ReservationIndex`), so that repairs that
    share a pool agree and a raised pool never starves its parent's appliances.

    Starting from the snapshot, until nothing changes: an appliance drawing on no
    reserved pool gets one (in a root pool: a new reserved child pool, one per root pool,
    and the appliance moved in; in a non-root pool: that pool's own reservation); every
    pool so touched, and every pool one of them draws on, is raised to cover what draws
    on it (:attr:`~scalearc_lint.snapshot.reservations.PoolHeadroom.covering`: others'
    reservations, the appliances' own, and what they lack). Raising a pool takes from
    the pool above it, so that one is settled in the next round. The appliances kept in
    view are those SA007 fails on and those it passes on (none may start failing);
    reservations only grow, so the rounds end.
    """

    #: The name of a new pool of appliances (``-2``, ``-3``... when taken).
    POOL_NAME = "scalearc-appliances"

    def __init__(
        self, inventory: Inventory, failing: frozenset[str], moves: Mapping[str, str]
    ) -> None:
        self.inventory = inventory
        snapshot = inventory.snapshot
        appliances = inventory.appliances
        self.unsized: set[str] = set()
        in_view: set[str] = set()
        for moid, appliance in appliances.items():
            guarantees = inventory.guaranteed_resources(appliance.vm)
            if moid in failing and any(g.configured is None for g in guarantees):
                self.unsized.add(moid)
            elif moid in failing or all(g.status == "guaranteed" for g in guarantees):
                in_view.add(moid)
        self.pools: dict[str, ResourcePool] = dict(snapshot.resource_pools)
        # Only appliances and VMs holding a reservation take part in the arithmetic: each
        # round judges those, not every VM of the snapshot.
        self._holding = inventory.reservation_holders
        # The planned hosts of moved VMs: a VM's CPU size is its vCPUs x its host's MHz.
        self.vms: dict[str, VirtualMachine] = {
            moid: msgspec.structs.replace(snapshot.vms[moid], host=host)
            for moid, host in moves.items()
        }
        #: Root pool moid -> the new pool made under it (its placeholder moid).
        self.created: dict[str, str] = {}
        touched: set[str] = set()
        self.settled = False
        for _ in range(len(self.pools) + 3):
            index = self._index()
            grew = False
            for moid in sorted(in_view):
                vm = self.vms.get(moid, snapshot.vms[moid])
                for guarantee in index.guarantees(vm):
                    if guarantee.status not in ("none", "short"):
                        continue
                    if guarantee.headroom is not None:
                        touched.add(guarantee.headroom.pool.moid)
                        continue
                    pool = self.pools.get(vm.resource_pool or "")
                    if pool is None:
                        continue
                    grew = True
                    if pool.parent is None:
                        new = self._new_pool(pool)
                        self.vms[moid] = msgspec.structs.replace(vm, resource_pool=new)
                        touched.add(new)
                    else:
                        self._reserve(pool.moid, guarantee.resource, 1)
                        touched.add(pool.moid)
            index = self._index()
            for moid in sorted(touched):
                for resource in RESOURCES:
                    headroom = index.headroom(moid, resource)
                    if headroom is None or headroom.pool.moid != moid:
                        continue
                    if headroom.covering > allocation(self.pools[moid], resource).reservation:
                        self._reserve(moid, resource, headroom.covering)
                        grew = True
                        # What a pool reserves comes out of the pool it draws on.
                        parent = self.pools[moid].parent
                        above = index.draws_on(parent, resource) if parent is not None else None
                        if above is not None:
                            touched.add(above)
            if not grew:
                self.settled = True
                break
        final = self._index()
        self.unguaranteed = {
            moid
            for moid in in_view
            if any(
                g.status != "guaranteed"
                for g in final.guarantees(self.vms.get(moid, snapshot.vms[moid]))
            )
        }

    def _index(self) -> ReservationIndex:
        state = msgspec.structs.replace(
            self.inventory.snapshot,
            resource_pools=self.pools,
            vms={**self._holding, **self.vms},
        )
        return ReservationIndex(state, self.inventory.appliances)

    def _reserve(self, moid: str, resource: Resource, amount: int) -> None:
        pool = self.pools[moid]
        old = allocation(pool, resource)
        new = msgspec.structs.replace(old, reservation=max(amount, old.reservation))
        self.pools[moid] = msgspec.structs.replace(pool, **{resource: new})

    def _new_pool(self, root: ResourcePool) -> str:
        """The new pool under ``root`` (made on first use), non-expandable, reserving both
        resources so that vCenter admits the appliances' own reservations in it."""
        moid = self.created.get(root.moid)
        if moid is None:
            moid = self.created[root.moid] = f"(new pool under {root.moid})"
            taken = {p.name for p in self.pools.values() if p.parent == root.moid}
            name, number = self.POOL_NAME, 2
            while name in taken:
                name, number = f"{self.POOL_NAME}-{number}", number + 1
            reserved = Allocation(reservation=1, expandable=False)
            self.pools[moid] = ResourcePool(
                moid=moid,
                name=name,
                owner=root.owner,
                parent=root.moid,
                cpu=reserved,
                memory=reserved,
            )
        return moid

    def _chain(self, pool: str | None) -> list[ResourcePool]:
        """The pool and its ancestors, the pool first."""
        chain = []
        while pool is not None and pool in self.pools:
            chain.append(self.pools[pool])
            pool = self.pools[pool].parent
        return chain

    def remedy(self, vm_moid: str, ctx: FixContext) -> Remedy:
        """The steps that guarantee one appliance: a new pool and the move into it, and
        every reservation raised on its way up."""
        if vm_moid in self.unsized:
            return Remedy(
                listed="the core speed of its host is not in the snapshot, so the CPU to "
                "reserve cannot be sized"
            )
        if not self.settled or vm_moid in self.unguaranteed:
            return Remedy(
                listed="no reservations were found that guarantee it without starving another "
                "appliance (see the pools above it)"
            )
        snapshot = self.inventory.snapshot
        vm = self.vms.get(vm_moid, snapshot.vms[vm_moid])
        works: list[Work] = []
        chain = self._chain(vm.resource_pool)
        for depth, pool in enumerate(reversed(chain)):
            old = snapshot.resource_pools.get(pool.moid)
            if old is None:
                works.append(self._create_work(ctx, pool))
            elif old != pool:
                works += self._lift_works(ctx, old, pool)
                works.append(self._raise_work(ctx, old, pool, depth))
        if vm.resource_pool != snapshot.vms[vm_moid].resource_pool:
            new = self.pools[vm.resource_pool or ""]
            also = (f"{vm.name} shares {new.name}'s reservation and its shares from now on",)
            works.append(
                Work("move_to_pool", ctx.ref("vm", vm_moid), {"pool": new.name}, BEFORE, also)
            )
        return Remedy(tuple(works))

    def _create_work(self, ctx: FixContext, pool: ResourcePool) -> Work:
        vms = self.inventory.snapshot.vms
        movers = sorted(vms[m].name for m, vm in self.vms.items() if vm.resource_pool == pool.moid)
        also = (
            f"reserves {pool.cpu.reservation} MHz and {pool.memory.reservation} MB of "
            f"{_owner_name(self.inventory, pool.owner)} for {', '.join(movers)} (their "
            "configured sizes, own reservations included), whether or not they use it",
        )
        params = {
            "parent": ctx.ref("pool", pool.parent or ""),
            "cpu_reservation": pool.cpu.reservation,
            "memory_reservation": pool.memory.reservation,
            "expandable": False,
        }
        return Work("create_pool", pool.name, params, BEFORE, also)

    def _lift_works(self, ctx: FixContext, old: ResourcePool, new: ResourcePool) -> list[Work]:
        """The pool's limits below the reservations it is raised to, lifted first: vCenter
        refuses a reservation above a limit (remove_limit steps go before the rest)."""
        works = []
        for resource in RESOURCES:
            raised = allocation(new, resource)  # the old limit: the plan changes reservations
            if above_limit(raised):
                unit = UNITS[resource]
                also = (
                    f"pool {old.name}'s {resource} limit of {raised.limit} {unit} is below the "
                    f"{raised.reservation} {unit} it must reserve, and vCenter admits no "
                    "reservation above a limit: the pool may then use more of the cluster's, "
                    "as its shares allow",
                )
                params = {"of": "pool", "resource": resource}
                works.append(Work("remove_limit", ctx.ref("pool", old.moid), params, BEFORE, also))
        return works

    def _raise_work(
        self, ctx: FixContext, old: ResourcePool, new: ResourcePool, depth: int
    ) -> Work:
        changed = [
            resource
            for resource in RESOURCES
            if allocation(new, resource).reservation != allocation(old, resource).reservation
        ]
        params: dict[str, int] = {r: allocation(new, r).reservation for r in changed}
        raised = ", ".join(
            f"{r} {allocation(old, r).reservation} -> {params[r]} {UNITS[r]}" for r in changed
        )
        also = (
            f"pool {old.name} reserves {raised}: enough for everything drawing on it; the "
            "capacity is taken from the pool above it whether or not it is used",
        )
        # Ancestors first: vCenter admits a child's reservation only from its parent's.
        return Work("set_reservation", ctx.ref("pool", old.moid), params, BEFORE, also, rank=depth)


Generator = Callable[[Result, FixContext], Remedy]


# -- the generators, one per rule ---------------------------------------------------------


def _appliance(result: Result, ctx: FixContext) -> Appliance | None:
    return ctx.inventory.appliances.get(result.object.id)


def _pair(result: Result, ctx: FixContext) -> Pair | None:
    return ctx.inventory.pairs.get(result.object.id)


def _mac_work(ctx: FixContext, vm: VirtualMachine, nic: Nic) -> Work:
    mac = ctx.macs.mac_for(ctx.inventory.vcenter, vm, nic)
    old = normalise_mac(nic.mac)
    also = (
        (f"keeps its MAC {old}; the VM must be powered off for the change",)
        if mac == old
        else (f"{MAC_CHANGE_WARNING} (was {old or 'none'})",)
    )
    return Work(
        "set_mac",
        ctx.ref("vm", vm.moid),
        {"nic": nic.key, "mac": mac},
        OFFLINE,
        also,
        offline=vm.moid,
    )


def fix_static_mac(result: Result, ctx: FixContext) -> Remedy:
    """SA001: every vNIC not manual, or manual outside the static range, gets a static MAC."""
    appliance = _appliance(result, ctx)
    if appliance is None:
        return Remedy(listed="not an identified appliance in this snapshot")
    vm = appliance.vm
    work = tuple(
        _mac_work(ctx, vm, nic)
        for nic in vm.nics
        if nic.address_type != "manual" or outside_vmware_static_range(nic.mac)
    )
    return Remedy(work) if work else Remedy(listed="no vNIC of the appliance needs a change")


def fix_unique_mac(result: Result, ctx: FixContext) -> Remedy:
    """SA002: of the vNICs sharing the appliance's MAC, those of this vCenter's appliances
    that must give it up (:meth:`MacAllocator.keeps`) get a new one; another vCenter's
    holders are changed by that vCenter's plan."""
    appliance = _appliance(result, ctx)
    if appliance is None:
        return Remedy(listed="not an identified appliance in this snapshot")
    inventory = ctx.inventory
    work: list[Work] = []
    for nic in appliance.vm.nics:
        if not nic.mac:
            continue
        for ref in inventory.nics_by_appliance_mac.get(normalise_mac(nic.mac), []):
            if ref.vcenter != inventory.vcenter or ref.vm.moid not in inventory.appliances:
                continue
            holder_nic = next(n for n in ref.vm.nics if n.key == ref.nic_key)
            if not ctx.macs.keeps(inventory.vcenter, ref.vm, holder_nic):
                work.append(_mac_work(ctx, ref.vm, holder_nic))
    if not work:
        return Remedy(
            listed="it keeps its MAC; the other vNICs with it are in another vCenter, whose "
            "plan gives them new ones"
        )
    return Remedy(tuple(work))


def fix_arp_notify(result: Result, ctx: FixContext) -> Remedy:
    """SA003: Notify switches (and, strict, MAC changes and forged transmits) on each
    portgroup behind the appliance: a DV portgroup once, a standard one on every host of
    the cluster where it does not notify. A setting the snapshot shows unset is set too, so
    the repaired portgroup is judged pass, not unknown."""
    appliance = _appliance(result, ctx)
    if appliance is None:
        return Remedy(listed="not an identified appliance in this snapshot")
    inventory = ctx.inventory
    strict = bool(getattr(ctx.options("SA003"), "strict", False))
    wanted = (
        ("notify_switches", "mac_changes", "forged_transmits") if strict else ("notify_switches",)
    )
    work: list[Work] = []
    users = ctx.portgroup_users if ctx.describe_effects else None
    for nic in appliance.vm.nics:
        backing = nic.backing
        if backing.kind == "distributed":
            pg = inventory.dv_portgroup(backing.portgroup)
            if pg is None:
                continue
            bad = {key: True for key in wanted if getattr(pg.policy, key) is not True}
            if bad:
                count = f" ({users[pg.moid]} vNIC(s))" if users is not None else ""
                also = f"every VM on {pg.name}{count} gets this policy"
                work.append(
                    Work("portgroup_policy", ctx.ref("dvpg", pg.moid), bad, BEFORE, (also,))
                )
        elif backing.kind == "standard":
            for host in inventory.cluster_hosts(appliance.vm):
                pg_on_host = next((p for p in host.portgroups if p.name == backing.network), None)
                if pg_on_host is None:
                    continue
                bad = {key: True for key in wanted if getattr(pg_on_host.computed, key) is not True}
                if bad:
                    also = (
                        f"every VM on {backing.network} on {host.name} gets this policy; it "
                        "overrides the vSwitch's for this portgroup"
                    )
                    params = {"host": ctx.ref("host", host.moid), **bad}
                    work.append(Work("portgroup_policy", backing.network, params, BEFORE, (also,)))
    if not work:
        return Remedy(listed="no portgroup policy the snapshot shows can be changed")
    return Remedy(tuple(work))


def _members(pair: Pair) -> dict[Role, PairMember]:
    """The pair's members by role (of two with one role, the last)."""
    return {m.role: m for m in pair.members}


@dataclass(frozen=True, slots=True)
class Placement:
    """Where SA004's repair moves a pair's secondary, or why it cannot."""

    vm: VirtualMachine | None = None
    to: Host | None = None
    reason: str = ""


def place_secondary(inventory: Inventory, pair: Pair, load: Mapping[str | None, int]) -> Placement:
    """The host a pair's secondary moves to: a usable host of its cluster that carries its
    connected vNICs' networks, runs no member of the pair and is allowed by the enabled
    mandatory "must run on" rules that confine it; of those, one no faster than its host
    (a faster core raises the CPU its reservation must cover), then the least loaded."""
    member = _members(pair).get(Role.SECONDARY)
    if member is None or len(pair.members) != 2:
        return Placement(reason="the pair has no single secondary to move (see SA011)")
    if member.inventory is not inventory:
        return Placement(reason="its secondary is in another vCenter")
    secondary = member.vm
    source = inventory.host(secondary.host)
    taken = {m.vm.host for m in pair.members}
    allowed = inventory.host_pinning(secondary.moid).hosts
    candidates = [
        host
        for host in inventory.cluster_hosts(secondary)
        if host.moid not in taken
        and (allowed is None or host.moid in allowed)
        and unusable(host) is None
        and all(
            inventory.carries_network(host, nic) is True for nic in secondary.nics if nic.connected
        )
    ]
    if not candidates:
        return Placement(
            reason="no other usable host of the cluster carries the secondary's networks (and "
            "is allowed by its VM-Host rules)"
        )
    speed = source.cpu_mhz if source is not None else 0
    dest = min(candidates, key=lambda h: (h.cpu_mhz > speed, load[h.moid], h.name))
    return Placement(secondary, dest)


def fix_separate_hosts(result: Result, ctx: FixContext) -> Remedy:
    """SA004: the secondary moves (cold, inside its power-off block) to the host
    :func:`place_secondary` picks; reservations that the move leaves short are raised."""
    placement = ctx.placements.get(result.object.id)
    if placement is None:
        return Remedy(listed="the pair is not in this snapshot")
    if placement.vm is None or placement.to is None:
        return Remedy(listed=placement.reason)
    vm = placement.vm
    also = (
        f"{vm.name} is powered off while it moves: the pair runs without a secondary meanwhile",
    )
    move = Work(
        "migrate",
        ctx.ref("vm", vm.moid),
        {"to": ctx.ref("host", placement.to.moid), "mode": "cold"},
        OFFLINE,
        also,
        offline=vm.moid,
    )
    # The move changes the VM's CPU size (vCPUs x the new host's MHz) only if no host as
    # slow is free; the reservations it then needs are this finding's (SA007's own finding
    # carries them when it fails anyway).
    topped_up = () if ctx.fails("SA007", vm.moid) else ctx.reservations.remedy(vm.moid, ctx).work
    return Remedy((move, *topped_up))


def fix_anti_affinity(result: Result, ctx: FixContext) -> Remedy:
    """SA005: enable the disabled rule that covers the pair, or add one."""
    pair = _pair(result, ctx)
    if pair is None or len(pair.members) != 2:
        return Remedy(listed="the pair is not complete (see SA011)")
    clusters = {m.vm.cluster for m in pair.members}
    cluster = ctx.inventory.cluster(next(iter(clusters)))
    elsewhere = any(m.inventory is not ctx.inventory for m in pair.members)
    if len(clusters) != 1 or cluster is None or elsewhere:
        return Remedy(listed="the members are not in one cluster: no cluster rule can cover them")
    members = {m.vm.moid for m in pair.members}
    covering = [
        rule
        for owner, rule in ctx.inventory.anti_affinity_rules_by_vm.get(pair.members[0].vm.moid, [])
        if owner == cluster.moid and members <= set(rule.vms)
    ]
    also = ("DRS and HA keep the pair on separate hosts from now on",)
    if covering:
        rule = covering[0]
        where: dict[str, Any] = {"cluster": cluster.name}
        if sum(r.name == rule.name for r in cluster.rules) > 1:
            # vSphere does not make rule names unique: the key tells this one apart.
            where["key"] = rule.key
        return Remedy((Work("enable_anti_affinity", rule.name, where, AFTER, also),))
    taken = {r.name for r in cluster.rules}
    name = f"scalearc-{pair.id}-apart"
    number = 2
    while name in taken:
        name, number = f"scalearc-{pair.id}-apart-{number}", number + 1
    vms = [ctx.ref("vm", m.vm.moid) for m in pair.members]
    return Remedy((Work("add_anti_affinity", name, {"vms": vms}, AFTER, also),))


def _automation_text(automation: DrsAutomation) -> str:
    if automation.migrates is None:
        return "unknown"
    return automation.behavior or "DRS disabled for the VM"


def _honouring_overrides(cluster: Cluster) -> Cluster:
    """The cluster as it is once DRS honours per-VM overrides."""
    drs = msgspec.structs.replace(cluster.drs, enable_vm_behavior_overrides=True)
    return msgspec.structs.replace(cluster, drs=drs)


def _vm_overrides_work(ctx: FixContext, cluster: Cluster) -> list[Work]:
    """Let the cluster honour VM overrides: the switch, and a manual override for every
    appliance of the cluster that DRS would migrate once overrides apply. The comment lists
    every VM whose effective automation changes with the switch."""
    honoured = _honouring_overrides(cluster)
    vms = ctx.inventory.snapshot.vms
    changes = []
    for moid in sorted(cluster.drs.vm_overrides, key=lambda m: (getattr(vms.get(m), "name", m), m)):
        before = effective_drs_automation(cluster, moid)
        after = effective_drs_automation(honoured, moid)
        if (before.migrates, before.behavior) != (after.migrates, after.behavior):
            name = getattr(vms.get(moid), "name", moid)
            changes.append(f"{name} {_automation_text(before)} -> {_automation_text(after)}")
    was = (
        "ignores VM overrides (enableVmBehaviorOverrides false)"
        if cluster.drs.enable_vm_behavior_overrides is False
        else "may ignore VM overrides (the snapshot does not record enableVmBehaviorOverrides)"
    )
    listed = "; ".join(changes) if changes else "none"
    also = (
        f"cluster {cluster.name} {was}; from now on DRS applies each VM's own override "
        f"instead of the cluster default. VMs whose DRS automation changes ({len(changes)}): "
        f"{listed}",
    )
    works = [
        Work("drs_vm_overrides", ctx.ref("cluster", cluster.moid), {"enabled": True}, BEFORE, also)
    ]
    for appliance in ctx.inventory.appliances.values():
        vm = appliance.vm
        if vm.cluster == cluster.moid and effective_drs_automation(honoured, vm.moid).migrates:
            works.append(_manual_override(ctx, vm, honoured))
    return works


def _manual_override(ctx: FixContext, vm: VirtualMachine, cluster: Cluster) -> Work:
    automation = effective_drs_automation(cluster, vm.moid)
    also = (
        f"DRS recommends moves of {vm.name} but makes none without approval (was "
        f"{_automation_text(automation)}: {automation.reason})",
    )
    return Work("drs_override", ctx.ref("vm", vm.moid), {"behavior": "manual"}, BEFORE, also)


def fix_drs_manual(result: Result, ctx: FixContext) -> Remedy:
    """SA006 (and the prevention of SA009/SA012): a manual per-VM DRS override; where the
    cluster does not honour VM overrides, first the switch that makes it honour them."""
    appliance = _appliance(result, ctx)
    cluster = ctx.inventory.cluster(appliance.vm.cluster) if appliance is not None else None
    if appliance is None or cluster is None:
        return Remedy(listed="not an appliance in a cluster")
    if cluster.drs.enable_vm_behavior_overrides is not True:
        return Remedy(tuple(_vm_overrides_work(ctx, cluster)))
    return Remedy((_manual_override(ctx, appliance.vm, cluster),))


def fix_reservation(result: Result, ctx: FixContext) -> Remedy:
    """SA007: the reservations that guarantee the appliance (see :class:`ReservationPlan`)."""
    appliance = _appliance(result, ctx)
    if appliance is None:
        return Remedy(listed="not an identified appliance in this snapshot")
    return ctx.reservations.remedy(appliance.vm.moid, ctx)


def fix_snapshot_age(result: Result, ctx: FixContext) -> Remedy:
    """SA008: remove each snapshot older than ``max_age`` (by name)."""
    appliance = _appliance(result, ctx)
    if appliance is None:
        return Remedy(listed="not an identified appliance in this snapshot")
    options = ctx.options("SA008")
    max_age = getattr(options, "max_age", None)
    inventory = ctx.inventory
    nodes = list(walk_snapshots(appliance.vm.snapshots))
    old = sorted(
        {n.name for n in nodes if max_age is None or inventory.as_of - n.created > max_age}
    )
    also = (
        "removing a snapshot consolidates its disks: the VM pauses briefly (do it at a time "
        "of low activity); the changes since the snapshot stay, the way back to it is gone",
    )
    work = tuple(
        Work("remove_snapshot", ctx.ref("vm", appliance.vm.moid), {"name": name}, AFTER, also)
        for name in old
    )
    return Remedy(work) if work else Remedy(listed="no snapshot is older than max_age")


def fix_ha_restart(result: Result, ctx: FixContext) -> Remedy:
    """SA013: an HA restart-priority override ``disabled`` for the pair member vSphere HA
    would restart (``Inventory.ha_restart``); a restart that happened (the error) stays in
    history, and the same override prevents a repeat."""
    appliance = _appliance(result, ctx)
    if appliance is None:
        return Remedy(listed="not an identified appliance in this snapshot")
    vm = appliance.vm
    history = result.severity is Severity.ERROR
    ha = ctx.inventory.ha_restart(vm)
    if not ha.restarts:
        return Remedy(
            listed="history: vSphere HA restarted it; HA would not restart it again "
            f"({ha.reason}), so no step prevents more"
            if history
            else f"cannot tell how vSphere HA treats it: {ha.reason}"
        )
    also = (
        f"vSphere HA no longer restarts {vm.name} after its host fails (was restart priority "
        f"{ha.priority}: {ha.reason}); its partner takes over, and {vm.name} is brought back "
        "by hand with ScaleArc support. The cluster's other VMs are not changed",
    )
    work = Work("ha_override", ctx.ref("vm", vm.moid), {"restart_priority": DISABLED}, BEFORE, also)
    return Remedy((work,), prevention=history)


def fix_limits(result: Result, ctx: FixContext) -> Remedy:
    """SA014: lift (limit -1, unlimited) each CPU or memory limit below the appliance's
    configured size: its own, or that of a pool above it (``Inventory.limits``)."""
    appliance = _appliance(result, ctx)
    if appliance is None:
        return Remedy(listed="not an identified appliance in this snapshot")
    inventory = ctx.inventory
    vm = appliance.vm
    host = inventory.host(vm.host)
    # Holder (None: the VM; else a pool moid) -> the resources to lift there.
    lifted: dict[str | None, list[Resource]] = defaultdict(list)
    for limit in inventory.limits(vm):
        size = configured_size(vm, host, limit.resource)
        if size is None:
            continue
        for found in limit.below(size):
            lifted[found.pool].append(limit.resource)
    works: list[Work] = []
    for pool, resources in lifted.items():
        params: dict[str, str] = {"of": "vm" if pool is None else "pool"}
        if len(resources) == 1:
            params["resource"] = resources[0]
        what = " and ".join(_RESOURCE_WORDS[r] for r in resources)
        if pool is None:
            target = ctx.ref("vm", vm.moid)
            also = f"{vm.name} may use all the {what} it is configured for"
        else:
            target = ctx.ref("pool", pool)
            name = inventory.snapshot.resource_pools[pool].name
            if ctx.describe_effects:
                under = ctx.vms_under_pool.get(pool, [])
                held = f"the {len(under)} VM(s) in it and in the pools below it"
                held += f" ({', '.join(under) or 'none'})"
            else:
                held = "the VMs in it and in the pools below it"
            also = (
                f"pool {name} no longer caps its {what}: {held} may together use more "
                "of the cluster's, as their shares allow"
            )
        works.append(Work("remove_limit", target, params, BEFORE, (also,)))
    if not works:
        return Remedy(listed="no limit the snapshot shows is below a known size")
    return Remedy(tuple(works))


def fix_snapshot_hygiene(result: Result, ctx: FixContext) -> Remedy:
    """SA015: consolidate the disks of a VM that needs it, and remove by name the snapshots
    beyond ``max_snapshots``, keeping the newest that sit on no kept one (so no chain is
    left; a removed snapshot's children move up, as vSphere does)."""
    appliance = _appliance(result, ctx)
    if appliance is None:
        return Remedy(listed="not an identified appliance in this snapshot")
    vm = appliance.vm
    target = ctx.ref("vm", vm.moid)
    work: list[Work] = []
    removed = sorted(_snapshots_beyond(vm, getattr(ctx.options("SA015"), "max_snapshots", 1)))
    also = (
        "removing a snapshot consolidates its disks: the VM pauses briefly (do it at a time "
        "of low activity); the changes since the snapshot stay, the way back to it is gone",
    )
    work += [Work("remove_snapshot", target, {"name": name}, AFTER, also) for name in removed]
    if vm.consolidation_needed:
        also = (
            f"merges the delta disks a snapshot removal left behind: {vm.name} pauses while "
            "the disks are merged (do it at a time of low activity)",
        )
        work.append(Work("consolidate", target, {}, AFTER, also))
    return Remedy(tuple(work)) if work else Remedy(listed="no snapshot to remove or consolidate")


def _snapshots_beyond(vm: VirtualMachine, keep: int) -> set[str]:
    """The names to remove so that at most ``keep`` snapshots stay, none on top of another:
    the newest are kept while they share no chain with a kept one; a name shared with a
    removed snapshot is removed too (a removal by name removes every snapshot so called)."""
    nodes = list(walk_snapshots(vm.snapshots))
    # Snapshot moid -> the moids of its chain: itself, its ancestors and its descendants.
    chains: dict[str, set[str]] = {}
    stack: list[tuple[VmSnapshot, tuple[str, ...]]] = [(root, ()) for root in vm.snapshots]
    while stack:
        node, ancestors = stack.pop()
        below = {n.moid for n in walk_snapshots(node.children)}
        chains[node.moid] = {node.moid, *ancestors, *below}
        stack.extend((child, (*ancestors, node.moid)) for child in node.children)
    kept: set[str] = set()
    for node in sorted(nodes, key=lambda n: (n.created, n.moid), reverse=True):
        if len(kept) < keep and not kept & chains[node.moid]:
            kept.add(node.moid)
    return {n.name for n in nodes if n.moid not in kept}


def prevent_vmotion_without_preconditions(result: Result, ctx: FixContext) -> Remedy:
    """SA016: the migration stays in history; what the vendor requires before the next one
    (static MACs: SA001; notifying portgroups: SA003) are those rules' repairs."""
    work: list[Work] = []
    for rule, generator in (("SA001", fix_static_mac), ("SA003", fix_arp_notify)):
        if ctx.fails(rule, result.object.id):
            work += generator(result, ctx).work
    if work:
        return Remedy(tuple(work), prevention=True)
    return Remedy(
        listed="history: the appliance was live-migrated without its preconditions; they hold "
        "now (SA001 and SA003 do not fail), so no step prevents more"
    )


def prevent_drs_migration(result: Result, ctx: FixContext) -> Remedy:
    """SA009, SA012: the event stays in history; the DRS override stops a DRS repeat."""
    if ctx.fails("SA006", result.object.id):
        remedy = fix_drs_manual(result, ctx)
        return Remedy(remedy.work, remedy.listed, prevention=True)
    return Remedy(
        listed="history: the migration happened; DRS would not migrate the appliance again "
        "(SA006 passes), so no step prevents more"
    )


#: The remediation of each rule, by rule id. A new rule joins with one entry.
REMEDIES: dict[str, Generator] = {
    "SA001": fix_static_mac,
    "SA002": fix_unique_mac,
    "SA003": fix_arp_notify,
    "SA004": fix_separate_hosts,
    "SA005": fix_anti_affinity,
    "SA006": fix_drs_manual,
    "SA007": fix_reservation,
    "SA008": fix_snapshot_age,
    "SA009": prevent_drs_migration,
    "SA012": prevent_drs_migration,
    "SA013": fix_ha_restart,
    "SA014": fix_limits,
    "SA015": fix_snapshot_hygiene,
    "SA016": prevent_vmotion_without_preconditions,
}

#: Why some findings get no step: a person must act.
LISTED: dict[str, str] = {
    "SA010": "history: the appliance was reverted to a snapshot; check its configuration "
    "with ScaleArc support (no vCenter setting prevents a revert; SA008 removes old snapshots)",
    "SA011": "the pair's identity: set the scalearc-role / scalearc-ha-pair values in vCenter; "
    "fix does not guess roles",
    "ID001": "identification: make the role and pair sources agree; fix does not guess roles",
}


# -- assembling the plan ------------------------------------------------------------------


@dataclass
class _Collected:
    work: dict[tuple[str, str, str], Work] = field(default_factory=dict)
    repairs: dict[tuple[str, str, str], list[FindingRef]] = field(
        default_factory=lambda: defaultdict(list)
    )
    prevents: dict[tuple[str, str, str], list[FindingRef]] = field(
        default_factory=lambda: defaultdict(list)
    )
    unplanned: list[Unplanned] = field(default_factory=list)


def remedy_for(result: Result, ctx: FixContext) -> Remedy:
    """The remedy of one failing result (its rule's generator, or why there is none)."""
    generator = REMEDIES.get(result.rule)
    if generator is not None:
        return generator(result, ctx)
    if result.rule in LISTED:
        return Remedy(listed=LISTED[result.rule])
    if result.rule.startswith("PLAN") or result.rule.startswith("WAIVER"):
        return Remedy(listed="a finding about a plan or a waiver file, not about vCenter")
    return Remedy(listed=f"no remediation is known for {result.rule}")


def plan_fixes(
    results: Iterable[Result],
    inventory: Inventory,
    *,
    macs: MacAllocator,
    rules: Mapping[str, LoadedRule],
    config: Config,
    describe_effects: bool = True,
) -> FixPlan:
    """The plan for the failing results of one vCenter, in the vendor's order
    (``describe_effects``: see FixContext)."""
    failing_results = [
        r
        for r in results
        if r.status is Status.FAIL and r.object.vcenter in ("", inventory.vcenter)
    ]
    failing: dict[str, set[str]] = defaultdict(set)
    for r in failing_results:
        failing[r.rule].add(r.object.id)
    ctx = FixContext(
        inventory,
        macs,
        {k: frozenset(v) for k, v in failing.items()},
        rules,
        config,
        describe_effects=describe_effects,
    )
    collected = _Collected()
    for result in sorted(failing_results, key=lambda r: (r.rule, r.object.kind, r.object.id)):
        finding = FindingRef.of(result)
        remedy = remedy_for(result, ctx)
        blocked = next(
            (
                why
                for work in remedy.work
                if work.offline is not None and (why := _switchover_elsewhere(ctx, work.offline))
            ),
            None,
        )
        if not remedy.work or blocked:
            collected.unplanned.append(Unplanned(finding, blocked or remedy.listed or "no step"))
            continue
        for work in remedy.work:
            collected.work.setdefault(work.key, work)
            (collected.prevents if remedy.prevention else collected.repairs)[work.key].append(
                finding
            )
    return FixPlan(inventory.vcenter, tuple(_ordered(collected, ctx)), tuple(collected.unplanned))


def plan_estate(
    results: Iterable[Result],
    inventories: Sequence[Inventory],
    *,
    rules: Mapping[str, LoadedRule],
    config: Config,
    describe_effects: bool = True,
) -> list[FixPlan]:
    """One plan per vCenter of the run (in its order), new MACs unique across all of them.
    Not proven: ``fix`` lives the plans with whatif before writing them."""
    results = list(results)
    macs = MacAllocator(inventories)
    return [
        plan_fixes(
            results,
            inventory,
            macs=macs,
            rules=rules,
            config=config,
            describe_effects=describe_effects,
        )
        for inventory in inventories
    ]


def _switchover_elsewhere(ctx: FixContext, vm_moid: str) -> str | None:
    """Why power-off work on this VM cannot be planned: it is a running primary whose
    running partner is in another vCenter, so the switchover before it changes two
    vCenters, which one vCenter's plan cannot (else None)."""
    appliance = ctx.inventory.appliances.get(vm_moid)
    pair = ctx.inventory.pairs.get(appliance.pair or "") if appliance is not None else None
    if appliance is None or pair is None or appliance.role is not Role.PRIMARY:
        return None
    partner = _members(pair).get(Role.SECONDARY)
    if (
        len(pair.members) != 2
        or partner is None
        or partner.inventory is ctx.inventory
        or partner.vm.power_state != "poweredOn"
        or appliance.vm.power_state != "poweredOn"
    ):
        return None
    return (
        f"{appliance.vm.name} must be powered off for it, and is the primary of pair {pair.id}, "
        f"whose secondary {partner.vm.name} is in vCenter {partner.vcenter}: switch the pair "
        "over by hand first (and swap the role values in both vCenters), then run fix again"
    )


def _planned(collected: _Collected, work: Work) -> PlannedStep:
    return PlannedStep(
        work.op,
        work.target,
        dict(work.params),
        tuple(dict.fromkeys(collected.repairs.get(work.key, []))),
        tuple(dict.fromkeys(collected.prevents.get(work.key, []))),
        work.also,
    )


#: Steps of one phase in the order of OPERATIONS, but a limit is lifted before any
#: reservation changes: vCenter refuses a reservation above a limit.
_OP_ORDER = {op: i for i, op in enumerate(sorted(OPERATIONS, key=lambda op: op != "remove_limit"))}


def _sorted(works: Iterable[Work]) -> list[Work]:
    return sorted(
        works, key=lambda w: (_OP_ORDER[w.op], w.rank, w.target, repr(sorted(w.params.items())))
    )


def _ordered(collected: _Collected, ctx: FixContext) -> list[PlannedStep]:
    works = list(collected.work.values())
    steps = [_planned(collected, w) for w in _sorted(w for w in works if w.phase == BEFORE)]
    offline: dict[str, list[Work]] = defaultdict(list)
    for work in works:
        if work.phase == OFFLINE and work.offline is not None:
            offline[work.offline].append(work)
    steps += _offline_blocks(collected, ctx, offline)
    steps += [_planned(collected, w) for w in _sorted(w for w in works if w.phase == AFTER)]
    return steps


def _offline_blocks(
    collected: _Collected, ctx: FixContext, offline: Mapping[str, list[Work]]
) -> list[PlannedStep]:
    """Power-off work per VM, in the vendor's order (see the module docstring)."""
    inventory = ctx.inventory
    vms = inventory.snapshot.vms
    done: set[str] = set()
    steps: list[PlannedStep] = []

    def ours(member: PairMember | None) -> bool:
        # A pair's other member may sit in another vCenter, where moids repeat.
        return member is not None and member.inventory is inventory and member.vm.moid in offline

    # Pairs first, by pair id; then the rest (standalone appliances) by name.
    for pair in inventory.pairs.values():
        members = _members(pair)
        primary, secondary = members.get(Role.PRIMARY), members.get(Role.SECONDARY)
        if secondary is not None and ours(secondary):
            alone = primary is None or primary.vm.power_state != "poweredOn"
            outage = (
                f"a secondary whose primary {primary.vm.name if primary else '(none)'} is not "
                "running, so it may be carrying the traffic"
                if alone
                else None
            )
            steps += _block(collected, ctx, secondary.vm, offline[secondary.vm.moid], outage)
            done.add(secondary.vm.moid)
        if primary is None or not ours(primary):
            continue
        done.add(primary.vm.moid)
        can_switch = (
            len(pair.members) == 2
            and secondary is not None
            and primary.vm.power_state == "poweredOn"
            and secondary.vm.power_state == "poweredOn"
            and inventory.selection.by != "name"
        )
        if can_switch and secondary is not None:
            steps.append(_switchover(pair, primary.vm, secondary.vm, ctx))
        outage = None if can_switch else "the primary, and its partner cannot take over"
        steps += _block(collected, ctx, primary.vm, offline[primary.vm.moid], outage)
    for moid in sorted(offline.keys() - done, key=lambda m: (vms[m].name, m)):
        appliance = inventory.appliances.get(moid)
        what = (
            "a standalone appliance"
            if appliance is not None and appliance.role is Role.STANDALONE
            else "an appliance no partner can take over from"
        )
        steps += _block(collected, ctx, vms[moid], offline[moid], what)
    return steps


def _switchover(
    pair: Pair, primary: VirtualMachine, secondary: VirtualMachine, ctx: FixContext
) -> PlannedStep:
    note = (
        f"From the ScaleArc GUI of the HA secondary {secondary.name}, perform a manual HA "
        f"switchover: {secondary.name} becomes the primary, {primary.name} the secondary. "
        f"Then swap their roles in vCenter ({ctx.inventory.selection.role_attribute} custom "
        "attribute or tag, wherever they carry one)."
    )
    return PlannedStep(
        "switchover",
        pair.id,
        {"note": note},
        also=(
            f"{primary.name} must be powered off for the next steps; as the primary that would "
            "be a failover, so it is made the secondary first (vendor: switch over, then work "
            "on the newly demoted secondary)",
        ),
    )


def _block(
    collected: _Collected,
    ctx: FixContext,
    vm: VirtualMachine,
    works: Sequence[Work],
    outage: str | None,
) -> list[PlannedStep]:
    """``power_off``, the work, ``power_on``; before them, when powering the VM off stops
    traffic (``outage`` says why), a ``confirm_outage`` step."""
    ref = ctx.ref("vm", vm.moid)
    running = vm.power_state == "poweredOn"
    ordered = sorted(works, key=lambda w: (w.op != "set_mac", str(w.params.get("nic", ""))))
    why = "; ".join(dict.fromkeys(f"{w.op} {w.target}" for w in ordered))
    steps: list[PlannedStep] = []
    if running and outage and vm.moid in ctx.inventory.appliances:
        steps.append(
            PlannedStep(
                "confirm_outage",
                ref,
                {
                    "note": f"OUTAGE: {vm.name} is {outage}; powering it off stops the database "
                    "traffic through it until it is powered on again. Confirm a maintenance "
                    "window with the application owners before going on."
                },
                also=(f"the next steps power {vm.name} off ({why})",),
            )
        )
    if running:
        steps.append(
            PlannedStep("power_off", ref, {}, also=(f"{vm.name} must be powered off for: {why}",))
        )
    steps += [_planned(collected, w) for w in ordered]
    if running:
        steps.append(
            PlannedStep("power_on", ref, {}, also=(f"{vm.name} boots with its services running",))
        )
    return steps


# -- writing the plan ---------------------------------------------------------------------


def _yaml_value(value: Any) -> str:
    """One YAML value on one line (quoted where YAML needs it)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20, allow_unicode=True)
    lines = [line for line in text.splitlines() if line != "..."]
    return " ".join(lines).strip()


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


def render_plan(
    plan: FixPlan,
    *,
    description: str,
    observed: Mapping[tuple[str, str], Mapping[str, str]],
    header: Sequence[str] = (),
) -> str:
    """The plan as YAML: each step commented with what it repairs and what else it changes."""
    out = [_comment(line) for line in header]
    out.append(f"description: {_yaml_value(description)}")
    out.append(f"vcenter: {_yaml_value(plan.vcenter)}")
    out.append("steps:")
    for number, step in enumerate(plan.steps, 1):
        out.append(f"  # step {number}")
        out += [f"  {_comment('repairs ' + f.text)}" for f in step.repairs]
        out += [f"  {_comment('prevents a repeat of ' + f.text)}" for f in step.prevents]
        out += [f"  {_comment('also: ' + text)}" for text in step.also]
        out.append(f"  - {step.op}: {_yaml_value(step.target)}")
        out += [f"    {key}: {_yaml_value(value)}" for key, value in step.params.items()]
    if plan.unplanned:
        out.append("# Findings no step repairs (a person acts on these):")
        out.append("unplanned:")
        for item in plan.unplanned:
            out.append(f"  - rule: {_yaml_value(item.finding.rule)}")
            out.append(f"    object: {_yaml_value(item.finding.name)}")
            out.append(f"    finding: {_yaml_value(' '.join(item.finding.message.split()))}")
            out.append(f"    reason: {_yaml_value(item.reason)}")
    out.append("# What fix saw of every object the steps change; whatif and apply stop when")
    out.append("# vCenter no longer looks like this (someone changed it since).")
    out.append("observed:")
    for (kind, moid), facts in observed.items():
        out.append(f"  {_yaml_value(f'{kind} {moid}')}:")
        out += [f"    {_yaml_value(k)}: {_yaml_value(v)}" for k, v in facts.items()]
    return "\n".join(out) + "\n"
