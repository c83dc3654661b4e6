"""Build snapshots in code: the one construction path for examples, tests, ``synth`` and what-if.

Every method takes plain values and returns the new object's moid; :meth:`build`
assembles the frozen model. Defaults describe a *compliant* ScaleArc set-up, so
a caller states only what it wants to be wrong.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from scalearc_lint.snapshot.model import (
    EVENT_TYPES,
    LIVE_BY_KIND,
    SCHEMA_VERSION,
    Allocation,
    Cluster,
    ClusterGroup,
    ClusterRule,
    Datacenter,
    DistributedPortgroup,
    DistributedSwitch,
    DrsBehavior,
    DrsConfig,
    DrsVmOverride,
    Event,
    EventKind,
    EventLog,
    HaConfig,
    HaVmOverride,
    Host,
    HostPortgroup,
    NetworkPolicy,
    Nic,
    NicBacking,
    ResourcePool,
    Snapshot,
    Source,
    StandardSwitch,
    Tag,
    Unreadable,
    VirtualMachine,
    VmSnapshot,
)

#: Symbolic DVS membership: every host of the switch's datacenter, or not exported.
DvsMembers = Literal["all", "unknown"]
DEFAULT_EXPORTED_AT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
COMPLIANT_POLICY = NetworkPolicy(
    notify_switches=True,
    teaming_policy="loadbalance_srcid",
    allow_promiscuous=False,
    mac_changes=True,
    forged_transmits=True,
)


class InventoryBuilder:
    """Accumulates inventory objects and builds a :class:`Snapshot`."""

    def __init__(
        self,
        *,
        vcenter: str = "vcenter.lab.example",
        instance_uuid: str = "5f0c2a4e-0000-4000-8000-00000000c0de",
        exported_at: datetime = DEFAULT_EXPORTED_AT,
        first_mac: int = 0,
    ) -> None:
        """``first_mac`` starts the MAC sequence elsewhere: builders of one estate (several
        vCenters) given different ones hand out no MAC twice."""
        self.source = Source(vcenter, instance_uuid, "8.0.2.0", "VMware vCenter Server")
        self.exported_at = exported_at
        self._next_id: dict[str, int] = defaultdict(int)
        self._mac_counter = first_mac
        self.datacenters: dict[str, Datacenter] = {}
        self.clusters: dict[str, dict[str, Any]] = {}
        self.hosts: dict[str, dict[str, Any]] = {}
        self.pools: dict[str, ResourcePool] = {}
        self.vms: dict[str, VirtualMachine] = {}
        self.dvswitches: dict[str, DistributedSwitch] = {}
        self.dv_portgroups: dict[str, DistributedPortgroup] = {}
        self.events: list[Event] = []
        self.events_collected = True
        #: The event types the export selected (``None``: every type the model records).
        self.event_types: list[str] | None = None
        self.unreadable: list[Unreadable] = []
        self.events_window = timedelta(days=30)
        self.dvs_members: dict[str, list[str] | DvsMembers] = {}

    def _moid(self, prefix: str) -> str:
        self._next_id[prefix] += 1
        return f"{prefix}-{self._next_id[prefix]}"

    def next_mac(self, *, generated: bool = False) -> str:
        """A fresh MAC in VMware's manual (00:50:56:00-3f) or generated (00:0c:29) range."""
        self._mac_counter += 1
        n = self._mac_counter
        if generated:
            return f"00:0c:29:{n >> 16 & 0xFF:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"
        return f"00:50:56:{n >> 16 & 0x3F:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"

    # -- containers ---------------------------------------------------------------------

    def datacenter(self, name: str) -> str:
        """Add a datacenter."""
        moid = self._moid("datacenter")
        self.datacenters[moid] = Datacenter(moid=moid, name=name)
        return moid

    def cluster(
        self,
        name: str,
        datacenter: str,
        *,
        drs_enabled: bool = True,
        drs_default: DrsBehavior | None = None,
        vm_overrides_enabled: bool | None = True,
        ha_enabled: bool = True,
        ha_default_restart_priority: str | None = None,
    ) -> str:
        """Add a cluster with its root resource pool (``vm_overrides_enabled``: DRS
        ``enableVmBehaviorOverrides``, ``None`` for unknown as in a schema-1 snapshot;
        ``ha_default_restart_priority``: ``None`` unset, which vSphere takes as medium)."""
        moid = self._moid("domain-c")
        root = self._moid("resgroup")
        self.pools[root] = ResourcePool(moid=root, name="Resources", owner=moid)
        self.clusters[moid] = {
            "moid": moid,
            "name": name,
            "datacenter": datacenter,
            "root_pool": root,
            "hosts": [],
            "drs_enabled": drs_enabled,
            "drs_default": drs_default,
            "vm_overrides_enabled": vm_overrides_enabled,
            "overrides": {},
            "ha_enabled": ha_enabled,
            "ha_default": ha_default_restart_priority,
            "ha_overrides": {},
            "rules": [],
            "groups": [],
        }
        return moid

    def root_pool(self, cluster: str) -> str:
        """The root resource pool of a cluster, or of a standalone host."""
        owner = self.clusters.get(cluster) or self.hosts[cluster]
        root: str = owner["root_pool"]
        return root

    def host(
        self,
        name: str,
        cluster: str | None,
        *,
        datacenter: str | None = None,
        in_maintenance: bool = False,
        connection_state: str = "connected",
        power_state: str = "poweredOn",
        cpu_mhz: int = 2000,
        cpu_cores: int = 32,
        memory_mb: int = 524288,
    ) -> str:
        """Add a host to a cluster, or a standalone host (``cluster=None``) to ``datacenter``
        with its own root pool (no portgroups yet; see :meth:`standard_portgroup`)."""
        moid = self._moid("host")
        if cluster is not None:
            datacenter = self.clusters[cluster]["datacenter"]
        elif datacenter is None:
            raise ValueError(f"standalone host {name!r} needs a datacenter")
        self.hosts[moid] = {
            "moid": moid,
            "name": name,
            "cluster": cluster,
            "datacenter": datacenter,
            "in_maintenance": in_maintenance,
            "connection_state": connection_state,
            "power_state": power_state,
            "cpu_mhz": cpu_mhz,
            "cpu_cores": cpu_cores,
            "memory_mb": memory_mb,
            "vswitches": {},
            "portgroups": [],
        }
        if cluster is not None:
            self.clusters[cluster]["hosts"].append(moid)
        else:
            # vSphere gives a standalone host's compute resource its own root pool.
            root = self._moid("resgroup")
            self.pools[root] = ResourcePool(moid=root, name="Resources", owner=moid)
            self.hosts[moid]["root_pool"] = root
        return moid

    def standard_portgroup(
        self,
        host: str,
        name: str,
        *,
        vswitch: str = "vSwitch0",
        computed: NetworkPolicy = COMPLIANT_POLICY,
        spec: NetworkPolicy | None = None,
        vlan_id: int = 0,
    ) -> None:
        """Add a standard portgroup (and its vSwitch if new) to a host."""
        h = self.hosts[host]
        h["vswitches"].setdefault(vswitch, StandardSwitch(name=vswitch, policy=COMPLIANT_POLICY))
        h["portgroups"].append(
            HostPortgroup(
                name=name,
                vswitch=vswitch,
                vlan_id=vlan_id,
                spec=spec if spec is not None else NetworkPolicy(),
                computed=computed,
            )
        )

    def pool(
        self,
        name: str,
        parent: str,
        *,
        cpu_reservation: int = 0,
        memory_reservation: int = 0,
        expandable: bool = True,
        cpu_limit: int = -1,
        memory_limit: int = -1,
    ) -> str:
        """Add a child resource pool (CPU in MHz, memory in MB; a limit -1 is none)."""
        moid = self._moid("resgroup")
        owner = self.pools[parent].owner
        self.pools[moid] = ResourcePool(
            moid=moid,
            name=name,
            owner=owner,
            parent=parent,
            cpu=Allocation(reservation=cpu_reservation, limit=cpu_limit, expandable=expandable),
            memory=Allocation(
                reservation=memory_reservation, limit=memory_limit, expandable=expandable
            ),
        )
        return moid

    def set_pool_reservation(
        self, pool: str, *, cpu: int, memory: int, expandable: bool | None = None
    ) -> None:
        """Change a pool's CPU (MHz) and memory (MB) reservations (and expandability)."""
        old = self.pools[pool]
        replace = msgspec.structs.replace
        self.pools[pool] = replace(
            old,
            cpu=replace(
                old.cpu,
                reservation=cpu,
                expandable=old.cpu.expandable if expandable is None else expandable,
            ),
            memory=replace(
                old.memory,
                reservation=memory,
                expandable=old.memory.expandable if expandable is None else expandable,
            ),
        )

    def set_pool_limits(self, pool: str, *, cpu: int = -1, memory: int = -1) -> None:
        """Change a pool's CPU (MHz) and memory (MB) limits (-1: none)."""
        old = self.pools[pool]
        replace = msgspec.structs.replace
        self.pools[pool] = replace(
            old, cpu=replace(old.cpu, limit=cpu), memory=replace(old.memory, limit=memory)
        )

    def dvswitch(
        self, name: str, datacenter: str, *, members: list[str] | DvsMembers = "all"
    ) -> str:
        """Add a distributed switch; ``members``: its member hosts, ``"all"`` hosts of its
        datacenter (decided at :meth:`build`), or ``"unknown"`` (not exported)."""
        moid = self._moid("dvs")
        self.dvswitches[moid] = DistributedSwitch(
            moid=moid,
            name=name,
            uuid=f"50 2b {len(self.dvswitches):02x}",
            version="8.0.0",
            datacenter=datacenter,
        )
        self.dvs_members[moid] = members
        return moid

    def dv_portgroup(self, name: str, dvs: str, *, policy: NetworkPolicy = COMPLIANT_POLICY) -> str:
        """Add a distributed portgroup with its effective policy."""
        moid = self._moid("dvportgroup")
        self.dv_portgroups[moid] = DistributedPortgroup(
            moid=moid, name=name, dvs=dvs, key=moid, policy=policy
        )
        return moid

    # -- VMs ----------------------------------------------------------------------------

    def vm(
        self,
        name: str,
        host: str,
        *,
        pool: str | None = None,
        nics: list[Nic] | None = None,
        num_cpu: int = 2,
        memory_mb: int = 8192,
        cpu_reservation: int = 0,
        memory_reservation: int = 0,
        cpu_limit: int = -1,
        memory_limit: int = -1,
        power_state: str = "poweredOn",
        custom_attributes: dict[str, str] | None = None,
        tags: list[Tag] | None = None,
        snapshots: list[VmSnapshot] | None = None,
        consolidation_needed: bool = False,
        folder: str = "",
        template: bool = False,
    ) -> str:
        """Add a VM on a host (in the cluster's root pool unless ``pool`` is given)."""
        moid = self._moid("vm")
        h = self.hosts[host]
        cluster = h["cluster"]
        root = self.root_pool(cluster if cluster is not None else host)
        self.vms[moid] = VirtualMachine(
            moid=moid,
            name=name,
            datacenter=h["datacenter"],
            instance_uuid=f"50{zlib.crc32(self.source.vcenter.encode()):08x}"[:8]
            + f"-0000-4000-8000-{self._next_id['vm']:012x}",
            power_state=power_state,  # type: ignore[arg-type]
            template=template,
            folder=folder or f"/{self.datacenters[h['datacenter']].name}/vm",
            host=host,
            cluster=cluster,
            resource_pool=pool if pool is not None else root,
            num_cpu=num_cpu,
            memory_mb=memory_mb,
            cpu_allocation=Allocation(reservation=cpu_reservation, limit=cpu_limit),
            memory_allocation=Allocation(reservation=memory_reservation, limit=memory_limit),
            nics=nics if nics is not None else [],
            snapshots=snapshots if snapshots is not None else [],
            consolidation_needed=consolidation_needed,
            custom_attributes=custom_attributes if custom_attributes is not None else {},
            tags=tags if tags is not None else [],
        )
        return moid

    def nic(
        self,
        *,
        key: int = 4000,
        network: str = "scalearc-net",
        portgroup: str | None = None,
        address_type: str = "manual",
        mac: str | None = None,
    ) -> Nic:
        """A vNIC on a standard portgroup (by name) or a distributed one (moid)."""
        backing = (
            NicBacking(
                kind="distributed", network=self.dv_portgroups[portgroup].name, portgroup=portgroup
            )
            if portgroup is not None
            else NicBacking(kind="standard", network=network)
        )
        return Nic(
            key=key,
            label=f"Network adapter {key - 3999}",
            mac=mac if mac is not None else self.next_mac(generated=address_type != "manual"),
            address_type=address_type,  # type: ignore[arg-type]
            backing=backing,
        )

    def vm_snapshot(
        self, name: str, age: timedelta, *, children: list[VmSnapshot] | None = None
    ) -> VmSnapshot:
        """A snapshot node taken ``age`` before the export (``children``: taken after it)."""
        return VmSnapshot(
            moid=self._moid("snapshot"),
            name=name,
            created=self.exported_at - age,
            children=children if children is not None else [],
        )

    # -- cluster configuration ----------------------------------------------------------

    def drs_override(
        self, cluster: str, vm: str, *, behavior: DrsBehavior | None, enabled: bool | None = None
    ) -> None:
        """Set a per-VM DRS override (``enabled=False``: DRS disabled for the VM)."""
        self.clusters[cluster]["overrides"][vm] = DrsVmOverride(enabled=enabled, behavior=behavior)

    def ha_override(self, cluster: str, vm: str, *, restart_priority: str | None) -> None:
        """Set a per-VM vSphere HA restart priority (``disabled``: HA never restarts it)."""
        self.clusters[cluster]["ha_overrides"][vm] = HaVmOverride(restart_priority=restart_priority)

    def anti_affinity(
        self, cluster: str, name: str, vms: list[str], *, enabled: bool = True
    ) -> None:
        """Add a VM-VM anti-affinity rule."""
        rules = self.clusters[cluster]["rules"]
        rules.append(
            ClusterRule(
                key=len(rules) + 1, name=name, kind="vm-anti-affinity", enabled=enabled, vms=vms
            )
        )

    def vm_group(self, cluster: str, name: str, vms: list[str]) -> None:
        """Add a DRS VM group."""
        self.clusters[cluster]["groups"].append(ClusterGroup(name=name, kind="vm", members=vms))

    def host_group(self, cluster: str, name: str, hosts: list[str]) -> None:
        """Add a DRS host group."""
        self.clusters[cluster]["groups"].append(ClusterGroup(name=name, kind="host", members=hosts))

    def vm_host_rule(
        self,
        cluster: str,
        name: str,
        vm_group: str,
        host_group: str,
        *,
        affine: bool = True,
        mandatory: bool = True,
        enabled: bool = True,
    ) -> None:
        """Add a VM-Host rule: the VM group must (``mandatory``) or should run on the host
        group (``affine``), or must / should not."""
        rules = self.clusters[cluster]["rules"]
        rules.append(
            ClusterRule(
                key=len(rules) + 1,
                name=name,
                kind="vm-host",
                enabled=enabled,
                mandatory=mandatory,
                vm_group=vm_group,
                host_group=host_group,
                affine=affine,
            )
        )

    # -- events and gaps ----------------------------------------------------------------

    def event(
        self,
        kind: EventKind,
        vm: str,
        *,
        age: timedelta = timedelta(hours=2),
        live: bool | None = None,
        type_name: str | None = None,
        chain_id: int | None = None,
        from_host: str | None = None,
    ) -> None:
        """Record an event ``age`` before the export; a migration ends on the VM's host."""
        default_type = {
            "migrate": "VmMigratedEvent",
            "relocate": "VmRelocatedEvent",
            "hot-migrate": "VmBeingHotMigratedEvent",
            "cold-migrate": "VmBeingRelocatedEvent",
            "drs-migrate": "DrsVmMigratedEvent",
            "cross-vcenter-migrate": "com.vmware.vc.vm.DstVmMigratedEvent",
            "revert": "com.vmware.vc.vm.VmStateRevertedToSnapshot",
            "ha-restart": "com.vmware.vc.ha.VmRestartedByHAEvent",
        }[kind]
        v = self.vms[vm]
        # As the exporter records them: a move from ``from_host`` to where the VM runs now,
        # an HA restart on where it runs now, a revert with no host.
        moves = kind not in ("revert", "ha-restart")
        source = from_host if moves else None
        dest = v.host if kind != "revert" else None
        key = len(self.events) + 1
        self.events.append(
            Event(
                key=key,
                type=type_name or default_type,
                kind=kind,
                created=self.exported_at - age,
                chain_id=chain_id if chain_id is not None else key,
                vm=vm,
                vm_name=v.name,
                live=live,
                source_host=source,
                dest_host=dest,
                source_host_name=self._host_name(source),
                dest_host_name=self._host_name(dest),
                user="VSPHERE.LOCAL\\Administrator",
            )
        )

    def event_of_type(
        self,
        type_name: str,
        vm: str,
        *,
        age: timedelta = timedelta(hours=2),
        chain_id: int | None = None,
        from_host: str | None = None,
    ) -> None:
        """Record an event by its vSphere type id (a class name or an EventEx id)."""
        kind = EVENT_TYPES[type_name]
        self.event(
            kind,
            vm,
            age=age,
            live=LIVE_BY_KIND.get(kind),
            type_name=type_name,
            chain_id=chain_id,
            from_host=from_host,
        )

    def _host_name(self, moid: str | None) -> str:
        return str(self.hosts[moid]["name"]) if moid is not None and moid in self.hosts else ""

    def mark_unreadable(self, kind: str, moid: str | None, prop: str, fault: str) -> None:
        """Record that the exporter could not read something."""
        self.unreadable.append(Unreadable(kind=kind, moid=moid, property=prop, fault=fault))  # type: ignore[arg-type]

    # -- assembly -----------------------------------------------------------------------

    def _with_members(self, dvs: DistributedSwitch) -> DistributedSwitch:
        members = self.dvs_members.get(dvs.moid, "all")
        if members == "unknown":
            return dvs
        if members == "all":
            members = [m for m, h in self.hosts.items() if h["datacenter"] == dvs.datacenter]
        return msgspec.structs.replace(dvs, hosts=list(members))

    def build(self) -> Snapshot:
        """The snapshot of everything added so far."""
        clusters = {
            moid: Cluster(
                moid=moid,
                name=c["name"],
                datacenter=c["datacenter"],
                root_pool=c["root_pool"],
                hosts=list(c["hosts"]),
                drs=DrsConfig(
                    enabled=c["drs_enabled"],
                    default_behavior=c["drs_default"],
                    enable_vm_behavior_overrides=c["vm_overrides_enabled"],
                    vm_overrides=dict(c["overrides"]),
                ),
                ha=HaConfig(
                    enabled=c["ha_enabled"],
                    default_restart_priority=c["ha_default"],
                    vm_overrides=dict(c["ha_overrides"]),
                ),
                rules=list(c["rules"]),
                groups=list(c["groups"]),
            )
            for moid, c in self.clusters.items()
        }
        hosts = {
            moid: Host(
                moid=moid,
                name=h["name"],
                datacenter=h["datacenter"],
                cluster=h["cluster"],
                connection_state=h["connection_state"],
                in_maintenance=h["in_maintenance"],
                power_state=h["power_state"],
                cpu_mhz=h["cpu_mhz"],
                cpu_cores=h["cpu_cores"],
                memory_mb=h["memory_mb"],
                vswitches=list(h["vswitches"].values()),
                portgroups=list(h["portgroups"]),
            )
            for moid, h in self.hosts.items()
        }
        return Snapshot(
            schema_version=SCHEMA_VERSION,
            source=self.source,
            exported_at=self.exported_at,
            datacenters=dict(self.datacenters),
            clusters=clusters,
            hosts=hosts,
            resource_pools=dict(self.pools),
            vms=dict(self.vms),
            dvswitches={moid: self._with_members(dvs) for moid, dvs in self.dvswitches.items()},
            dv_portgroups=dict(self.dv_portgroups),
            events=EventLog(
                collected=self.events_collected,
                window_start=self.exported_at - self.events_window
                if self.events_collected
                else None,
                window_end=self.exported_at if self.events_collected else None,
                event_types=(
                    []
                    if not self.events_collected
                    else list(EVENT_TYPES)
                    if self.event_types is None
                    else list(self.event_types)
                ),
                items=list(self.events),
            ),
            unreadable=list(self.unreadable),
        )
