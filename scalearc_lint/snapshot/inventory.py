"""A read-only view of one snapshot with the indexes rules join on, each built once.

Several snapshots judged in one run (several files, or a ``--merge`` bundle) are one
:class:`Estate`: every :class:`Inventory` of the run knows it as ``inventory.estate``.
A rule keeps the per-inventory API (``check(subject, inventory, options)``), and what
must be judged across vCenters comes from the estate through the same inventory:
``inventory.pairs`` holds pairs joined by pair id across vCenters, and SA002's MAC
index covers every vCenter. Moids are unique only within one vCenter, so a pair
member carries the inventory it belongs to (``member.host``, ``member.vcenter``), and
a vNIC in the MAC index names its vCenter.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from msgspec.structs import replace

from scalearc_lint.snapshot.drs import HostPinning, host_pinnings
from scalearc_lint.snapshot.ha import HaRestart, effective_ha_restart
from scalearc_lint.snapshot.identification import ApplianceSelection, Identifier, Role
from scalearc_lint.snapshot.limits import EffectiveLimit, effective_limit
from scalearc_lint.snapshot.migrations import Migration, migrations
from scalearc_lint.snapshot.model import (
    Cluster,
    ClusterRule,
    DistributedPortgroup,
    Host,
    Nic,
    ResourcePool,
    Snapshot,
    VirtualMachine,
    VmSnapshot,
)
from scalearc_lint.snapshot.reservations import (
    Guarantee,
    PoolHeadroom,
    ReservationIndex,
    Resource,
    reservation_holders,
)

#: How many other users of a clashing MAC a finding names (the rest are counted).
MAC_USERS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Appliance:
    """A VM identified as a ScaleArc appliance."""

    vm: VirtualMachine
    role: Role
    pair: str | None

    @property
    def active(self) -> bool:
        """Primary or standalone."""
        return self.role.active


@dataclass(frozen=True, slots=True)
class Unidentified:
    """A VM the selectors pick up whose role or pair cannot be told without guessing (ID001)."""

    vm: VirtualMachine
    #: Why: sources disagree, several values, a value that is not a role, no role.
    problem: str
    #: Every pair id the VM names: each of those pairs is in doubt too.
    claimed_pairs: tuple[str, ...]
    inventory: Inventory


@dataclass(frozen=True, slots=True)
class PairMember:
    """A VM identified as a member (primary, secondary, or a stray standalone) of a pair."""

    vm: VirtualMachine
    role: Role
    #: The member's own vCenter: resolve its host, cluster and events here, never in
    #: another vCenter's inventory (moids repeat across vCenters).
    inventory: Inventory

    @property
    def vcenter(self) -> str:
        """The member's vCenter."""
        return self.inventory.vcenter

    @property
    def host(self) -> Host | None:
        """The member's host, looked up in its own vCenter."""
        return self.inventory.host(self.vm.host)

    @property
    def cluster(self) -> Cluster | None:
        """The member's cluster, looked up in its own vCenter."""
        return self.inventory.cluster(self.vm.cluster)


@dataclass(frozen=True, slots=True)
class Pair:
    """An HA pair id with every VM that claims it, across the estate (complete: exactly two)."""

    id: str
    members: tuple[PairMember, ...]
    #: True for the stand-in pair of a primary/secondary that has no pair id.
    orphan: bool = False
    #: VMs naming this pair whose identification is in doubt (ID001): the pair's results
    #: are ``unknown`` while there are any.
    unidentified: tuple[Unidentified, ...] = ()

    @property
    def name(self) -> str:
        """What reports show for the pair."""
        return self.id

    @property
    def home(self) -> Inventory:
        """The inventory that reports the pair: of its VMs' vCenters, the first by name.

        Not the primary's vCenter, so a switchover does not move the pair's results (and
        baselines, matched by vCenter, keep matching).
        """
        return min((vm.inventory for vm in self.claimants), key=_vcenter_order)

    @property
    def vcenters(self) -> list[str]:
        """The distinct vCenters of the pair's VMs, sorted."""
        return sorted({vm.inventory.vcenter for vm in self.claimants})

    @property
    def claimants(self) -> list[PairMember | Unidentified]:
        """Every VM naming the pair: its members and those whose identification is in doubt."""
        return [*self.members, *self.unidentified]


@dataclass(frozen=True, slots=True)
class NicRef:
    """Where a MAC address is used."""

    vm: VirtualMachine
    nic_key: int
    label: str
    vcenter: str = ""


def identification_doubt(subject: object) -> str | None:
    """Why a rule's subject rests on identification in doubt (ID001), else ``None``.

    The subjects that exist because of identification are those of the ``appliance`` and
    ``pair`` scopes: every result about them depends on the role or the pair. The engine
    gives those ``unknown`` with this text instead of calling the rule, so no rule ever
    judges a guessed role. ``vm``, ``host`` and ``cluster`` subjects never rest on it.
    """
    if isinstance(subject, Unidentified):
        return f"not judged: identification in doubt (ID001): {subject.problem}"
    if isinstance(subject, Pair) and subject.unidentified:
        names = " and ".join(sorted(u.vm.name for u in subject.unidentified))
        return (
            f"pair {subject.id!r} cannot be judged without guessing: {names} name(s) it, but "
            "its role or pair is in doubt (see ID001)"
        )
    return None


class _Identified:
    """One vCenter's identification, in one pass over its VMs."""

    __slots__ = ("appliances", "members", "unidentified")

    def __init__(self) -> None:
        self.appliances: dict[str, Appliance] = {}
        self.unidentified: dict[str, Unidentified] = {}
        self.members: dict[str, list[PairMember]] = defaultdict(list)


_UNPINNED = HostPinning(None)


class Inventory:
    """One snapshot, the time it is judged at, and the indexes built from it on first use."""

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        as_of: datetime | None = None,
        selection: ApplianceSelection | None = None,
        recorded: Inventory | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.as_of = as_of if as_of is not None else snapshot.exported_at
        self.selection = selection if selection is not None else ApplianceSelection()
        self._recorded = recorded
        #: How many times a whole-inventory index was built (the scale regression guard reads it).
        self.index_builds: dict[str, int] = defaultdict(int)
        self._migrations: dict[str, list[Migration]] = {}
        self._estate: Estate | None = None

    @property
    def vcenter(self) -> str:
        """The vCenter this inventory came from."""
        return self.snapshot.source.vcenter

    @property
    def estate(self) -> Estate:
        """Every vCenter judged with this one (this one alone unless joined in an Estate)."""
        # Estate() joins the inventory to the new estate.
        return self._estate if self._estate is not None else Estate((self,))

    @property
    def as_recorded(self) -> Inventory:
        """The inventory as it stood when the snapshot's events were recorded.

        A role belongs to the moment of an event. For an exported snapshot that is the
        snapshot itself; for a planned state (``whatif``) it is the exported state the
        plan starts from, since every event precedes the plan: a planned switchover
        neither excuses a past vMotion of the then-primary nor condemns a past vMotion
        of the then-secondary. Rules that judge events read roles from here.
        """
        return self._recorded if self._recorded is not None else self

    # -- appliance identification -------------------------------------------------------

    @cached_property
    def _identities(self) -> _Identified:
        self.index_builds["identities"] += 1
        identifier = Identifier(self.selection)
        found = _Identified()
        for moid, vm in self.snapshot.vms.items():
            identity = identifier.identify(vm)
            if identity is None:
                continue
            if identity.role is None:
                found.unidentified[moid] = Unidentified(
                    vm, identity.problem or "", identity.claimed_pairs, self
                )
                continue
            found.appliances[moid] = Appliance(vm, identity.role, identity.pair)
            if identity.pair is not None:
                found.members[identity.pair].append(PairMember(vm, identity.role, self))
        return found

    @cached_property
    def appliances(self) -> dict[str, Appliance]:
        """Every appliance identified without doubt, by VM moid, in moid order."""
        return dict(sorted(self._identities.appliances.items()))

    @cached_property
    def unidentified(self) -> dict[str, Unidentified]:
        """VMs the selectors pick up whose role or pair is in doubt (ID001), by moid."""
        return dict(sorted(self._identities.unidentified.items()))

    @cached_property
    def pairs(self) -> dict[str, Pair]:
        """Every pair with a VM in this vCenter, joined with its members in the other vCenters
        of the estate, plus a stand-in pair for each unpaired HA member of this vCenter."""
        return self.estate.pairs_seen_from(self)

    def identification_unread(self) -> list[str]:
        """What identification reads but the exporter could not: tags, custom attributes."""
        unread = {
            "custom attributes"
            if entry.kind == "custom_attributes" or entry.property == "custom_attributes"
            else "vSphere tags"
            for entry in self.snapshot.unreadable
            if entry.kind in ("tags", "custom_attributes")
            or (entry.kind == "vm" and entry.property in ("tags", "custom_attributes"))
        }
        return sorted(unread, reverse=True)

    def look_alike_names(self) -> list[str]:
        """Attribute names and tag categories that resemble the selection's (a likely typo)."""
        return Identifier(self.selection).look_alikes(self.snapshot.vms.values())

    # -- joins --------------------------------------------------------------------------

    def host(self, moid: str | None) -> Host | None:
        """The host with this moid, if any."""
        return self.snapshot.hosts.get(moid) if moid is not None else None

    def cluster(self, moid: str | None) -> Cluster | None:
        """The cluster with this moid, if any."""
        return self.snapshot.clusters.get(moid) if moid is not None else None

    def pool(self, moid: str | None) -> ResourcePool | None:
        """The resource pool with this moid, if any."""
        return self.snapshot.resource_pools.get(moid) if moid is not None else None

    def dv_portgroup(self, moid: str | None) -> DistributedPortgroup | None:
        """The distributed portgroup with this moid, if any."""
        return self.snapshot.dv_portgroups.get(moid) if moid is not None else None

    def cluster_hosts(self, vm: VirtualMachine) -> list[Host]:
        """Hosts the VM can run on: its cluster's hosts, else its own host."""
        cluster = self.cluster(vm.cluster)
        moids = cluster.hosts if cluster is not None else ([vm.host] if vm.host else [])
        return [h for h in (self.host(m) for m in moids) if h is not None]

    def carries_network(self, host: Host, nic: Nic) -> bool | None:
        """Whether ``host`` can connect ``nic`` (vCenter's network compatibility check).

        A standard portgroup must exist on that host under the backing's name (names are
        matched exactly, as vSphere does); a distributed portgroup needs the host to be a
        member of its switch. ``None`` when the snapshot cannot tell: the host's
        portgroups or the switch's members were not exported, or the backing is an
        opaque (NSX) or other network the snapshot does not describe.
        """
        backing = nic.backing
        if backing.kind == "standard":
            if self.unreadable("host", host.moid, "portgroups"):
                return None
            return any(pg.name == backing.network for pg in host.portgroups)
        if backing.kind == "distributed":
            portgroup = self.dv_portgroup(backing.portgroup)
            dvs = self.snapshot.dvswitches.get(portgroup.dvs) if portgroup is not None else None
            if dvs is None or dvs.hosts is None or self.unreadable("dvswitch", dvs.moid, "hosts"):
                return None
            return host.moid in dvs.hosts
        return None

    def root_pool(self, host: Host) -> str | None:
        """The root resource pool of ``host``'s compute resource: its cluster's, or for a
        standalone host its own (the pool it owns that has no parent)."""
        cluster = self.cluster(host.cluster)
        if cluster is not None:
            return cluster.root_pool
        return next(
            (
                moid
                for moid, pool in self.snapshot.resource_pools.items()
                if pool.owner == host.moid and pool.parent is None
            ),
            None,
        )

    @cached_property
    def nics_by_appliance_mac(self) -> Mapping[str, list[NicRef]]:
        """Every vNIC of the estate (all vCenters of the run) whose MAC an appliance vNIC
        also has, by normalised MAC; the appliance's own vNIC is in its list too."""
        return self.estate.nics_by_appliance_mac

    @cached_property
    def appliances_by_pool(self) -> Mapping[str, list[Appliance]]:
        """Appliances grouped by their resource pool moid."""
        self.index_builds["appliances_by_pool"] += 1
        index: dict[str, list[Appliance]] = defaultdict(list)
        for appliance in self.appliances.values():
            if appliance.vm.resource_pool is not None:
                index[appliance.vm.resource_pool].append(appliance)
        return index

    @cached_property
    def anti_affinity_rules_by_vm(self) -> Mapping[str, list[tuple[str, ClusterRule]]]:
        """(cluster moid, rule) of every VM-VM anti-affinity rule listing the VM, in rule order.

        Lets a pair find the rules that cover it without scanning every rule of its
        cluster, which would be quadratic in the pairs of one cluster.
        """
        self.index_builds["anti_affinity_rules_by_vm"] += 1
        index: dict[str, list[tuple[str, ClusterRule]]] = defaultdict(list)
        for moid, cluster in self.snapshot.clusters.items():
            for rule in cluster.rules:
                if rule.kind == "vm-anti-affinity":
                    for vm_moid in dict.fromkeys(rule.vms):
                        index[vm_moid].append((moid, rule))
        return index

    @cached_property
    def events_by_vm(self) -> Mapping[str, list[int]]:
        """Indexes into ``snapshot.events.items`` by VM moid."""
        self.index_builds["events_by_vm"] += 1
        index: dict[str, list[int]] = defaultdict(list)
        for i, event in enumerate(self.snapshot.events.items):
            if event.vm is not None:
                index[event.vm].append(i)
        return index

    # -- settings and history as vSphere resolves them (semantics: drs, reservations,
    #    migrations); each index is built once -------------------------------------------

    @cached_property
    def _host_pinnings(self) -> Mapping[str, HostPinning]:
        self.index_builds["host_pinnings"] += 1
        return host_pinnings(self.snapshot.clusters)

    def host_pinning(self, vm_moid: str) -> HostPinning:
        """The hosts enabled mandatory "must run on" VM-Host rules confine the VM to."""
        return self._host_pinnings.get(vm_moid, _UNPINNED)

    @cached_property
    def reservation_holders(self) -> Mapping[str, VirtualMachine]:
        """The appliances and every VM holding a CPU or memory reservation, by moid: all
        that reservation arithmetic reads (one pass over the VMs)."""
        return reservation_holders(self.snapshot.vms, self.appliances)

    @cached_property
    def _reservations(self) -> ReservationIndex:
        self.index_builds["reservations"] += 1
        holding = replace(self.snapshot, vms=dict(self.reservation_holders))
        return ReservationIndex(holding, self.appliances)

    def guaranteed_resources(self, vm: VirtualMachine) -> tuple[Guarantee, Guarantee]:
        """The CPU and memory an appliance is guaranteed: its own reservation and its pool's."""
        return self._reservations.guarantees(vm)

    def pool_headroom(self, pool_moid: str, resource: Resource) -> PoolHeadroom | None:
        """The reserved pool that ``pool_moid`` draws on, with what is held of it (None: none)."""
        return self._reservations.headroom(pool_moid, resource)

    def ha_restart(self, vm: VirtualMachine) -> HaRestart:
        """Whether vSphere HA would restart the VM by itself after its host fails (its
        effective restart priority: VM override, else the cluster's default, unset medium)."""
        cluster = self.cluster(vm.cluster)
        if cluster is None:
            return HaRestart(False, None, "not in a cluster; vSphere HA does not apply")
        if self.unreadable("cluster", cluster.moid, "configuration"):
            return HaRestart(
                None, None, f"the HA configuration of cluster {cluster.name} could not be read"
            )
        recorded = not self.unreadable("cluster", cluster.moid, "default_restart_priority")
        return effective_ha_restart(cluster, vm.moid, default_recorded=recorded)

    def limits(self, vm: VirtualMachine) -> tuple[EffectiveLimit, EffectiveLimit]:
        """The CPU (MHz) and memory (MB) limits that cap the VM: its own and its pools'."""
        pools = self.snapshot.resource_pools
        return effective_limit(vm, pools, "cpu"), effective_limit(vm, pools, "memory")

    def migrations_of(self, vm_moid: str) -> list[Migration]:
        """The VM's migrations in the event window (one per operation), oldest first.

        Resolved on first request from the VM's events: rules ask about appliances only,
        so the other VMs' events are never resolved.
        """
        found = self._migrations.get(vm_moid)
        if found is None:
            items = self.snapshot.events.items
            own = [items[i] for i in self.events_by_vm.get(vm_moid, ())]
            found = self._migrations[vm_moid] = migrations(vm_moid, own, self.snapshot.hosts)
        return found

    def events_not_selected(self, event_types: Iterable[str]) -> list[str]:
        """Which of these event type ids the export did not select (so were never read)."""
        selected = set(self.snapshot.events.event_types)
        return [t for t in event_types if t not in selected]

    # -- what the exporter could not read -----------------------------------------------

    @cached_property
    def _unreadable(
        self,
    ) -> tuple[set[tuple[str, str]], set[tuple[str, str]], dict[tuple[str, str], list[str]]]:
        self.index_builds["unreadable"] += 1
        by_object: set[tuple[str, str]] = set()
        by_kind: set[tuple[str, str]] = set()
        objects_by_kind: dict[tuple[str, str], list[str]] = defaultdict(list)
        for entry in self.snapshot.unreadable:
            if entry.moid:
                by_object.add((entry.moid, entry.property))
                objects_by_kind[(entry.kind, entry.property)].append(entry.moid)
            else:
                by_kind.add((entry.kind, entry.property))
        return by_object, by_kind, objects_by_kind

    def unreadable(self, kind: str, moid: str, prop: str) -> bool:
        """Whether the exporter could not read ``prop`` of this object (or of all of its kind)."""
        by_object, by_kind, _ = self._unreadable
        return (
            (moid, prop) in by_object
            or (moid, "") in by_object
            or (kind, prop) in by_kind
            or (kind, "") in by_kind
        )

    @property
    def events_read(self) -> bool:
        """Whether the event log was exported and read: without it, no rule may rule out a
        migration, revert or HA restart."""
        return self.snapshot.events.collected and not self.unreadable("events", "", "")

    @property
    def events_since(self) -> str:
        """ " since <date>" for the start of the exported event window ("" when unknown), to
        end a verdict such as "no live migration"."""
        start = self.snapshot.events.window_start
        return f" since {start.date().isoformat()}" if start is not None else ""

    def unreadable_anywhere(self, kind: str, prop: str) -> list[str] | None:
        """Moids of the objects of ``kind`` whose ``prop`` is unread; ``None`` when none of
        that kind could be read at all."""
        _, by_kind, objects_by_kind = self._unreadable
        if (kind, prop) in by_kind or (kind, "") in by_kind:
            return None
        return sorted(
            {*objects_by_kind.get((kind, prop), []), *objects_by_kind.get((kind, ""), [])}
        )

    # -- subjects per scope -------------------------------------------------------------

    def subjects(self, scope: str) -> Iterator[tuple[str, str, str, object]]:
        """(kind, id, name, subject) for every object a rule of ``scope`` applies to."""
        if scope == "appliance":
            # Unidentified VMs are subjects too: the engine answers them unknown.
            subjects: Iterator[tuple[str, Appliance | Unidentified]] = iter(self.appliances.items())
            if self.unidentified:
                subjects = heapq.merge(subjects, self.unidentified.items(), key=lambda s: s[0])
            for moid, subject in subjects:
                yield "vm", moid, subject.vm.name, subject
        elif scope == "pair":
            # A pair whose VMs sit in several vCenters is judged once, by its home vCenter.
            for pair_id, pair in self.pairs.items():
                if pair.home is self:
                    yield "ha-pair", pair_id, pair.name, pair
        elif scope == "vm":
            for moid, vm in sorted(self.snapshot.vms.items()):
                yield "vm", moid, vm.name, vm
        elif scope == "host":
            for moid, host in sorted(self.snapshot.hosts.items()):
                yield "host", moid, host.name, host
        elif scope == "cluster":
            for moid, cluster in sorted(self.snapshot.clusters.items()):
                yield "cluster", moid, cluster.name, cluster
        else:
            raise ValueError(f"unknown rule scope {scope!r}")


def normalise_mac(mac: str) -> str:
    """Lower-case, colon-separated form of a MAC address."""
    return mac.strip().lower().replace("-", ":")


#: VMware's OUI; vCenter generates MACs in it above the range kept for static ones.
VMWARE_OUI = "005056"
#: The part of VMware's OUI for manually set MACs: 00:50:56:00:00:00-00:50:56:3F:FF:FF.
VMWARE_STATIC_MAX_FOURTH_OCTET = 0x3F
#: How a normalised MAC of that part starts ("00:50:56:"), and the first hex digits its
#: fourth octet can have (0-3).
VMWARE_STATIC_PREFIX = "".join(f"{VMWARE_OUI[i : i + 2]}:" for i in range(0, 6, 2))
_STATIC_DIGITS = frozenset(f"{d:x}" for d in range(VMWARE_STATIC_MAX_FOURTH_OCTET // 16 + 1))


def outside_vmware_static_range(mac: str) -> bool:
    """Whether a MAC is in VMware's OUI 00:50:56 but above 00:50:56:3F:FF:FF.

    vCenter generates MACs in the rest of that OUI, so a static MAC there can collide with
    one it hands out later.
    """
    digits = "".join(c for c in normalise_mac(mac) if c in "0123456789abcdef")
    return (
        len(digits) == 12
        and digits.startswith(VMWARE_OUI)
        and int(digits[6:8], 16) > VMWARE_STATIC_MAX_FOURTH_OCTET
    )


def walk_snapshots(nodes: list[VmSnapshot]) -> Iterator[VmSnapshot]:
    """Every node of a VM's snapshot tree, depth first."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def snapshot_depth(nodes: list[VmSnapshot]) -> int:
    """Levels of a VM's snapshot tree (the longest chain of snapshots), counted without
    recursion: 0 without snapshots, 1 for snapshots that all sit on the base disks."""
    depth, level = 0, nodes
    while level:
        depth += 1
        level = [child for node in level for child in node.children]
    return depth


class Estate:
    """Every vCenter of one run, judged as one (DESIGN.md "one estate").

    Pairs are joined by pair id across vCenters; MAC uniqueness is judged across all of
    them. Build it before asking any inventory for ``pairs`` or the MAC index
    (:func:`scalearc_lint.engine.evaluate.evaluate` does); an inventory used alone is an
    estate of one.
    """

    def __init__(self, inventories: Sequence[Inventory]) -> None:
        self.inventories = tuple(inventories)
        if not self.inventories:
            raise ValueError("an estate needs at least one inventory")
        for inventory in self.inventories:
            if inventory._estate is not None:
                raise ValueError(f"the inventory of {inventory.vcenter} is already in an estate")
        for inventory in self.inventories:
            inventory._estate = self
        #: How many times an estate-wide index was built (the scale regression guard reads it).
        self.index_builds: dict[str, int] = defaultdict(int)
        self._unread_vms: dict[str, UnreadVms] = {}

    @classmethod
    def of(cls, inventories: Sequence[Inventory]) -> Estate:
        """The estate of exactly these inventories: the one they already form, or a new one."""
        if len(inventories) == 1:
            return inventories[0].estate
        formed = inventories[0]._estate if inventories else None
        if (
            formed is not None
            and len(formed.inventories) == len(inventories)
            and all(inventory._estate is formed for inventory in inventories)
        ):
            return formed
        if any(inventory._estate is not None for inventory in inventories):
            raise ValueError("these inventories are already judged in another estate")
        return cls(inventories)

    @cached_property
    def _pairs(self) -> dict[int, dict[str, Pair]]:
        """id(inventory) -> every pair with a VM there, by pair id."""
        self.index_builds["pairs"] += 1
        members: dict[str, list[PairMember]] = defaultdict(list)
        doubtful: dict[str, list[Unidentified]] = defaultdict(list)
        for inventory in self.inventories:
            for pair_id, found in inventory._identities.members.items():
                members[pair_id].extend(found)
            for unsure in inventory.unidentified.values():
                for pair_id in unsure.claimed_pairs:
                    doubtful[pair_id].append(unsure)
        seen_from: dict[int, dict[str, Pair]] = {id(inv): {} for inv in self.inventories}
        for pair_id in sorted({*members, *doubtful}):
            pair = Pair(
                pair_id,
                tuple(sorted(members.get(pair_id, []), key=_member_order)),
                unidentified=tuple(sorted(doubtful.get(pair_id, []), key=_member_order)),
            )
            for claimant in pair.claimants:
                seen_from[id(claimant.inventory)][pair_id] = pair
        for inventory in self.inventories:
            for appliance in inventory.appliances.values():
                if appliance.pair is None and appliance.role is not Role.STANDALONE:
                    orphan_id = f"(no pair id) {appliance.vm.name}"
                    member = PairMember(appliance.vm, appliance.role, inventory)
                    seen_from[id(inventory)][orphan_id] = Pair(orphan_id, (member,), orphan=True)
        return {key: dict(sorted(pairs.items())) for key, pairs in seen_from.items()}

    def pairs_seen_from(self, inventory: Inventory) -> dict[str, Pair]:
        """Every pair with a VM in ``inventory`` (members elsewhere included), by pair id."""
        return self._pairs[id(inventory)]

    @cached_property
    def nics_by_appliance_mac(self) -> dict[str, list[NicRef]]:
        """Every vNIC of every vCenter whose MAC an appliance vNIC also has, by normalised MAC.

        Only appliance MACs are ever looked up, so only their users are kept: one pass
        over all vNICs, but no entry (and no garbage) for the 99% that belong to no
        appliance. The appliance's own vNIC is in its list too.
        """
        return self._mac_census[0]

    @cached_property
    def macs_in_static_range(self) -> frozenset[str]:
        """Every MAC (normalised) of the estate in VMware's static range
        00:50:56:00:00:00-3F:FF:FF: the MACs a new static one must not repeat."""
        return self._mac_census[1]

    @cached_property
    def _mac_census(self) -> tuple[dict[str, list[NicRef]], frozenset[str]]:
        """The one pass over every vNIC of the estate that both MAC indexes come from."""
        self.index_builds["nics_by_appliance_mac"] += 1
        index: dict[str, list[NicRef]] = {
            normalise_mac(nic.mac): []
            for inventory in self.inventories
            for appliance in inventory.appliances.values()
            for nic in appliance.vm.nics
            if nic.mac
        }
        static: set[str] = set()
        for inventory in self.inventories:
            vcenter = inventory.vcenter
            for vm in inventory.snapshot.vms.values():
                for nic in vm.nics:
                    if nic.mac:
                        mac = normalise_mac(nic.mac)
                        refs = index.get(mac)
                        if refs is not None:
                            refs.append(NicRef(vm, nic.key, nic.label, vcenter))
                        if mac.startswith(VMWARE_STATIC_PREFIX) and mac[9:10] in _STATIC_DIGITS:
                            static.add(mac)
        return index, frozenset(static)

    @cached_property
    def _first_users(self) -> dict[str, list[NicRef]]:
        """For each MAC with several users, the first few of them in report order.

        Chosen once per MAC: when hundreds of appliances share one MAC, sorting all its
        users again for each of them made SA002 quadratic.
        """
        self.index_builds["first_mac_users"] += 1
        return {
            mac: heapq.nsmallest(MAC_USERS_SHOWN + 1, refs, key=_nic_order)
            for mac, refs in self.nics_by_appliance_mac.items()
            if len(refs) > 1
        }

    def other_users(self, vm: VirtualMachine, nic: Nic) -> tuple[list[NicRef], int]:
        """The other vNICs of the estate with the MAC of ``vm``'s ``nic`` (a VM of the
        estate): up to :data:`MAC_USERS_SHOWN` of them in name order, and how many in all."""
        if not nic.mac:
            return [], 0
        mac = normalise_mac(nic.mac)
        refs = self.nics_by_appliance_mac.get(mac, [])
        if len(refs) < 2:
            return [], 0
        shown = [r for r in self._first_users[mac] if not (r.vm is vm and r.nic_key == nic.key)]
        return shown[:MAC_USERS_SHOWN], len(refs) - 1

    def unread_vms(self, prop: str) -> UnreadVms:
        """The VMs of every vCenter whose ``prop`` could not be read (worked out once)."""
        found = self._unread_vms.get(prop)
        if found is None:
            found = self._unread_vms[prop] = self._find_unread_vms(prop)
        return found

    def _find_unread_vms(self, prop: str) -> UnreadVms:
        names: list[str] = []
        for inventory in self.inventories:
            moids = inventory.unreadable_anywhere("vm", prop)
            if moids is None:
                return UnreadVms(inventory.vcenter, [], 0)
            where = f" ({inventory.vcenter})" if len(self.inventories) > 1 else ""
            vms = inventory.snapshot.vms
            names += (f"{getattr(vms.get(m), 'name', m)}{where}" for m in moids)
        return UnreadVms(None, heapq.nsmallest(MAC_USERS_SHOWN, names), len(names))


@dataclass(frozen=True, slots=True)
class UnreadVms:
    """VMs of the estate whose property the exporter could not read."""

    #: A vCenter where that property of no VM could be read, if any.
    nowhere_read: str | None
    #: The first few VM names, sorted (with their vCenter when the estate has several).
    first: list[str]
    total: int


def _vcenter_order(inventory: Inventory) -> tuple[str, str]:
    return inventory.vcenter, inventory.snapshot.source.instance_uuid


def _member_order(member: PairMember | Unidentified) -> tuple[str, str, str]:
    return (*_vcenter_order(member.inventory), member.vm.moid)


def _nic_order(ref: NicRef) -> tuple[str, str, str, int]:
    return ref.vm.name, ref.vcenter, ref.label, ref.nic_key
