"""A read-only view of one snapshot with the indexes rules join on, each built once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from scalearc_lint.snapshot.drs import HostPinning, host_pinnings
from scalearc_lint.snapshot.identification import ApplianceSelection, Identifier, Role
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
from scalearc_lint.snapshot.reservations import Guarantee, PoolHeadroom, ReservationIndex, Resource


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
class PairMember:
    """A VM carrying a pair id, whether or not its role is valid."""

    vm: VirtualMachine
    role: Role | None
    raw_role: str | None


@dataclass(frozen=True, slots=True)
class Pair:
    """An HA pair id with every VM that claims it (a complete pair has exactly two)."""

    id: str
    members: tuple[PairMember, ...]
    #: True for the stand-in pair of a primary/secondary that has no pair id.
    orphan: bool = False

    @property
    def name(self) -> str:
        """What reports show for the pair."""
        return self.id


@dataclass(frozen=True, slots=True)
class NicRef:
    """Where a MAC address is used."""

    vm: VirtualMachine
    nic_key: int
    label: str


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

    @property
    def vcenter(self) -> str:
        """The vCenter this inventory came from."""
        return self.snapshot.source.vcenter

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
    def _identities(self) -> tuple[dict[str, Appliance], dict[str, list[PairMember]]]:
        self.index_builds["identities"] += 1
        identifier = Identifier(self.selection)
        appliances: dict[str, Appliance] = {}
        pairs: dict[str, list[PairMember]] = defaultdict(list)
        for moid, vm in self.snapshot.vms.items():
            identity = identifier.identify(vm)
            if identity is None:
                continue
            if identity.role is not None:
                appliances[moid] = Appliance(vm, identity.role, identity.pair)
            if identity.pair is not None:
                pairs[identity.pair].append(PairMember(vm, identity.role, identity.raw_role))
        return appliances, pairs

    @cached_property
    def appliances(self) -> dict[str, Appliance]:
        """Every appliance by VM moid, in moid order."""
        return dict(sorted(self._identities[0].items()))

    @cached_property
    def pairs(self) -> dict[str, Pair]:
        """Every pair id with its members, plus a stand-in pair for each unpaired HA member."""
        result = {
            pair_id: Pair(pair_id, tuple(sorted(members, key=lambda m: m.vm.moid)))
            for pair_id, members in self._identities[1].items()
        }
        for appliance in self.appliances.values():
            if appliance.pair is None and appliance.role is not Role.STANDALONE:
                orphan_id = f"(no pair id) {appliance.vm.name}"
                member = PairMember(appliance.vm, appliance.role, appliance.role.value)
                result[orphan_id] = Pair(orphan_id, (member,), orphan=True)
        return dict(sorted(result.items()))

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
        """Every vNIC in the inventory whose MAC an appliance vNIC also has, by normalised MAC.

        Only appliance MACs are ever looked up, so only their users are kept: one pass
        over all vNICs, but no entry (and no garbage) for the 99% that belong to no
        appliance. The appliance's own vNIC is in its list too.
        """
        self.index_builds["nics_by_appliance_mac"] += 1
        index: dict[str, list[NicRef]] = {
            normalise_mac(nic.mac): []
            for appliance in self.appliances.values()
            for nic in appliance.vm.nics
            if nic.mac
        }
        for vm in self.snapshot.vms.values():
            for nic in vm.nics:
                if nic.mac:
                    refs = index.get(normalise_mac(nic.mac))
                    if refs is not None:
                        refs.append(NicRef(vm, nic.key, nic.label))
        return index

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
    def _reservations(self) -> ReservationIndex:
        self.index_builds["reservations"] += 1
        return ReservationIndex(self.snapshot, self.appliances)

    def guaranteed_resources(self, vm: VirtualMachine) -> tuple[Guarantee, Guarantee]:
        """The CPU and memory an appliance is guaranteed: its own reservation and its pool's."""
        return self._reservations.guarantees(vm)

    def pool_headroom(self, pool_moid: str, resource: Resource) -> PoolHeadroom | None:
        """The reserved pool that ``pool_moid`` draws on, with what is held of it (None: none)."""
        return self._reservations.headroom(pool_moid, resource)

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
            for moid, appliance in self.appliances.items():
                yield "vm", moid, appliance.vm.name, appliance
        elif scope == "pair":
            for pair_id, pair in self.pairs.items():
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
