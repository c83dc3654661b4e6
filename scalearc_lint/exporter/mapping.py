"""From PropertyCollector results to the snapshot model.

The values are the records ``exporter.properties`` declares (references as moids),
whichever decoder read them, so nothing here makes a round trip. Whatever could not be read is
recorded as an ``Unreadable`` entry naming the model field it affects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, get_args

import msgspec

from scalearc_lint.exporter import properties as declared
from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.exporter.collect import moid
from scalearc_lint.exporter.decode import Retrieved
from scalearc_lint.snapshot.model import (
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
    HaConfig,
    HaVmOverride,
    Host,
    HostPortgroup,
    NetworkPolicy,
    Nic,
    NicBacking,
    ResourcePool,
    Snapshot,
    StandardSwitch,
    Unreadable,
    UnreadableKind,
    VirtualMachine,
    VmSnapshot,
)

replace = msgspec.structs.replace


# The property paths read per type, as ``properties`` declares them. None goes through an
# array (vcsim panics).
FOLDER_PATHS = declared.paths(vim.Folder)
DATACENTER_PATHS = declared.paths(vim.Datacenter)
COMPUTE_PATHS = declared.paths(vim.ComputeResource)
CLUSTER_PATHS = declared.paths(vim.ClusterComputeResource)
HOST_PATHS = declared.paths(vim.HostSystem)
POOL_PATHS = declared.paths(vim.ResourcePool)
VM_PATHS = declared.paths(vim.VirtualMachine)
DVS_PATHS = declared.paths(vim.DistributedVirtualSwitch)
DVPG_PATHS = declared.paths(vim.dvs.DistributedVirtualPortgroup)

#: Which model field an unreadable property path leaves incomplete.
_FIELD_OF_PATH = {
    "config.hardware.device": "nics",
    "snapshot": "snapshots",
    "runtime.consolidationNeeded": "consolidation_needed",
    "customValue": "custom_attributes",
    "config.network.vswitch": "vswitches",
    "config.network.portgroup": "portgroups",
    "config.defaultPortConfig": "policy",
    "configurationEx": "configuration",
    "summary.hostMember": "hosts",
    "config.cpuAllocation": "cpu",
    "config.memoryAllocation": "memory",
}


class Inventory:
    """The parent links read so far, to find each object's datacenter and folder path."""

    def __init__(self, folders: Iterable[Retrieved], datacenters: Iterable[Retrieved]) -> None:
        self.parent: dict[str, str | None] = {}
        self.name: dict[str, str] = {}
        self.datacenters: set[str] = set()
        for item in folders:
            self.add(item)
        for item in datacenters:
            self.add(item)
            self.datacenters.add(item.moid)

    def add(self, item: Retrieved) -> None:
        """Remember an object's name and parent."""
        self.parent[item.moid] = moid(item.props.get("parent"))
        self.name[item.moid] = str(item.props.get("name", item.moid))

    def datacenter_of(self, start: str | None) -> str | None:
        """The datacenter above an object, following parent links."""
        seen = 0
        node = start
        while node is not None and seen < 256:
            if node in self.datacenters:
                return node
            node = self.parent.get(node)
            seen += 1
        return None

    def folder_path(self, folder: str | None) -> str:
        """``/Datacenter/vm/sub/folder`` for a VM's parent folder."""
        parts: list[str] = []
        node = folder
        while node is not None and len(parts) < 256:
            parts.append(self.name.get(node, node))
            if node in self.datacenters:
                break
            node = self.parent.get(node)
        return "/" + "/".join(reversed(parts)) if parts else ""


class UnreadableLog:
    """Collects ``Unreadable`` entries while mapping."""

    def __init__(self) -> None:
        self.entries: list[Unreadable] = []

    def note(self, kind: UnreadableKind, item: Retrieved) -> None:
        """Record every missing property of one object."""
        for path, fault in sorted(item.missing.items()):
            self.entries.append(
                Unreadable(
                    kind=kind, moid=item.moid, property=_FIELD_OF_PATH.get(path, path), fault=fault
                )
            )

    def add(self, kind: UnreadableKind, moid_: str | None, prop: str, fault: str) -> None:
        """Record one problem."""
        self.entries.append(Unreadable(kind=kind, moid=moid_, property=prop, fault=fault))


def _name(item: Retrieved) -> str:
    return str(item.props.get("name") or item.moid)


def datacenter_from(item: Retrieved) -> Datacenter:
    """A datacenter."""
    return Datacenter(moid=item.moid, name=_name(item))


def _behavior(value: Any) -> DrsBehavior | None:
    """A DRS automation level, or None when unset (or not one the model knows)."""
    text = str(value or "")
    return text if text in get_args(DrsBehavior) else None  # type: ignore[return-value]


def _drs(config: Any) -> DrsConfig:
    drs = config.drsConfig
    overrides = {
        vm: DrsVmOverride(enabled=info.enabled, behavior=_behavior(info.behavior))
        for info in config.drsVmConfig or ()
        if (vm := moid(info.key)) is not None
    }
    # enableVmBehaviorOverrides unset means vSphere's default: VM overrides apply.
    honours_overrides = drs is None or drs.enableVmBehaviorOverrides is not False
    return DrsConfig(
        enabled=bool(drs.enabled) if drs is not None else False,
        default_behavior=_behavior(drs.defaultVmBehavior) if drs is not None else None,
        enable_vm_behavior_overrides=honours_overrides,
        vm_overrides=overrides,
    )


def _ha(config: Any) -> HaConfig:
    das = config.dasConfig
    overrides = {}
    for info in config.dasVmConfig or ():
        vm = moid(info.key)
        if vm is None:
            continue
        settings = info.dasSettings
        restart = settings.restartPriority if settings is not None else None
        isolation = settings.isolationResponse if settings is not None else None
        if isolation is None and info.powerOffOnIsolation:
            isolation = "powerOff"  # the pre-4.0 field
        overrides[vm] = HaVmOverride(
            restart_priority=restart or info.restartPriority or None,
            isolation_response=isolation or None,
        )
    defaults = das.defaultVmSettings if das is not None else None
    # Unset stays None: vSphere's default (medium) is resolved in snapshot.ha, not here.
    default_priority = (defaults.restartPriority or None) if defaults is not None else None
    return HaConfig(
        enabled=bool(das.enabled) if das is not None else False,
        default_restart_priority=default_priority,
        vm_overrides=overrides,
    )


def refs(values: Iterable[Any] | None) -> list[str]:
    """The moids of a list of references."""
    return [m for m in (moid(v) for v in values or ()) if m is not None]


def _rules(config: Any) -> list[ClusterRule]:
    rules = []
    for rule in config.rule or ():
        base = ClusterRule(
            key=int(rule.key or 0),
            name=rule.name or "",
            kind="vm-affinity",
            enabled=bool(rule.enabled),
            mandatory=bool(rule.mandatory),
        )
        if isinstance(rule, declared.ClusterAntiAffinityRuleSpec):
            rules.append(replace(base, kind="vm-anti-affinity", vms=refs(rule.vm)))
        elif isinstance(rule, declared.ClusterAffinityRuleSpec):
            rules.append(replace(base, vms=refs(rule.vm)))
        elif isinstance(rule, declared.ClusterVmHostRuleInfo):
            affine = rule.affineHostGroupName is not None
            host_group = rule.affineHostGroupName if affine else rule.antiAffineHostGroupName
            rules.append(
                replace(
                    base,
                    kind="vm-host",
                    vm_group=rule.vmGroupName,
                    host_group=host_group,
                    affine=affine,
                )
            )
    return rules


def _groups(config: Any) -> list[ClusterGroup]:
    groups = []
    for group in config.group or ():
        if isinstance(group, declared.ClusterVmGroup):
            groups.append(ClusterGroup(name=group.name or "", kind="vm", members=refs(group.vm)))
        elif isinstance(group, declared.ClusterHostGroup):
            groups.append(
                ClusterGroup(name=group.name or "", kind="host", members=refs(group.host))
            )
    return groups


def cluster_from(item: Retrieved, inventory: Inventory) -> Cluster:
    """A cluster with DRS/HA settings, rules and groups."""
    config = item.props.get("configurationEx")
    extra: dict[str, Any] = {}
    if isinstance(config, declared.ClusterConfigInfoEx):
        extra = {
            "drs": _drs(config),
            "ha": _ha(config),
            "rules": _rules(config),
            "groups": _groups(config),
        }
    return Cluster(
        moid=item.moid,
        name=_name(item),
        datacenter=inventory.datacenter_of(item.moid) or "",
        root_pool=moid(item.props.get("resourcePool")),
        hosts=refs(item.props.get("host")),
        **extra,
    )


def _bool_policy(policy: Any) -> bool | None:
    """The value of a DVS ``BoolPolicy`` (None when unset)."""
    return None if policy is None or policy.value is None else bool(policy.value)


def host_policy(policy: Any) -> NetworkPolicy:
    """A standard-switch ``HostNetworkPolicy`` (spec or computed)."""
    if policy is None:
        return NetworkPolicy()
    teaming, security = policy.nicTeaming, policy.security
    return NetworkPolicy(
        notify_switches=teaming.notifySwitches if teaming is not None else None,
        teaming_policy=(teaming.policy or None) if teaming is not None else None,
        allow_promiscuous=security.allowPromiscuous if security is not None else None,
        mac_changes=security.macChanges if security is not None else None,
        forged_transmits=security.forgedTransmits if security is not None else None,
    )


def dvs_policy(port: Any) -> NetworkPolicy:
    """The effective default port policy of a DV portgroup (MAC management on API 6.7+)."""
    if port is None:
        return NetworkPolicy()
    teaming = port.uplinkTeamingPolicy
    security = port.securityPolicy
    mac_management = getattr(port, "macManagementPolicy", None)
    if mac_management is not None:
        promiscuous = mac_management.allowPromiscuous
        mac_changes = mac_management.macChanges
        forged = mac_management.forgedTransmits
    elif security is not None:
        promiscuous = _bool_policy(security.allowPromiscuous)
        mac_changes = _bool_policy(security.macChanges)
        forged = _bool_policy(security.forgedTransmits)
    else:
        promiscuous = mac_changes = forged = None
    return NetworkPolicy(
        notify_switches=_bool_policy(teaming.notifySwitches) if teaming is not None else None,
        teaming_policy=(teaming.policy.value if teaming is not None and teaming.policy else None),
        allow_promiscuous=promiscuous,
        mac_changes=mac_changes,
        forged_transmits=forged,
    )


_CONNECTION_STATES = ("connected", "disconnected", "notResponding")
_HOST_POWER_STATES = ("poweredOn", "poweredOff", "standBy", "unknown")


def host_from(
    item: Retrieved, inventory: Inventory, clusters: set[str], log: UnreadableLog
) -> Host:
    """A host with its standard switches and portgroups."""
    props = item.props
    parent = moid(props.get("parent"))
    hardware = props.get("summary.hardware")
    connection = str(props.get("runtime.connectionState") or "connected")
    power = str(props.get("runtime.powerState") or "unknown")
    vswitches = [
        StandardSwitch(name=v.name, policy=host_policy(v.spec.policy if v.spec else None))
        for v in props.get("config.network.vswitch") or ()
    ]
    portgroups = [
        HostPortgroup(
            name=pg.spec.name,
            vswitch=pg.spec.vswitchName or "",
            vlan_id=int(pg.spec.vlanId or 0),
            spec=host_policy(pg.spec.policy),
            computed=host_policy(pg.computedPolicy),
        )
        for pg in props.get("config.network.portgroup") or ()
        if pg.spec is not None
    ]
    if connection not in _CONNECTION_STATES:
        log.add("host", item.moid, "connection_state", f"unexpected value {connection!r}")
        connection = "notResponding"
    return Host(
        moid=item.moid,
        name=_name(item),
        datacenter=inventory.datacenter_of(item.moid) or "",
        cluster=parent if parent in clusters else None,
        connection_state=connection,  # type: ignore[arg-type]
        in_maintenance=bool(props.get("runtime.inMaintenanceMode")),
        power_state=power if power in _HOST_POWER_STATES else "unknown",  # type: ignore[arg-type]
        cpu_mhz=int(hardware.cpuMhz or 0) if hardware is not None else 0,
        cpu_cores=int(hardware.numCpuCores or 0) if hardware is not None else 0,
        memory_mb=int((hardware.memorySize or 0) // (1024 * 1024)) if hardware is not None else 0,
        vswitches=vswitches,
        portgroups=portgroups,
    )


def allocation(info: Any) -> Allocation:
    """A ``ResourceAllocationInfo`` (MHz or MB)."""
    if info is None:
        return Allocation()
    shares = info.shares
    return Allocation(
        reservation=int(info.reservation or 0),
        limit=int(info.limit) if info.limit is not None else -1,
        expandable=bool(info.expandableReservation),
        shares_level=str(shares.level) if shares is not None and shares.level else "normal",
        shares=int(shares.shares or 0) if shares is not None else 0,
    )


def pool_from(item: Retrieved, pools: set[str], owner_of: Mapping[str, str]) -> ResourcePool:
    """A resource pool; a standalone host's pool is owned by the host itself."""
    props = item.props
    parent = moid(props.get("parent"))
    owner = moid(props.get("owner")) or ""
    return ResourcePool(
        moid=item.moid,
        name=_name(item),
        owner=owner_of.get(owner, owner),
        parent=parent if parent in pools else None,
        cpu=allocation(props.get("config.cpuAllocation")),
        memory=allocation(props.get("config.memoryAllocation")),
    )


_ADDRESS_TYPES = ("manual", "generated", "assigned")


def _backing(device: Any, dvpg_by_key: Mapping[str, tuple[str, str]]) -> NicBacking:
    backing = device.backing
    if isinstance(backing, declared.VirtualEthernetCardDistributedVirtualPortBackingInfo):
        key = backing.port.portgroupKey if backing.port is not None else None
        found = dvpg_by_key.get(key or "")
        if found is None:
            return NicBacking(kind="distributed", network=key or "")
        return NicBacking(kind="distributed", network=found[1], portgroup=found[0])
    if isinstance(backing, declared.VirtualEthernetCardNetworkBackingInfo):
        return NicBacking(kind="standard", network=backing.deviceName or "")
    if isinstance(backing, declared.VirtualEthernetCardOpaqueNetworkBackingInfo):
        return NicBacking(kind="opaque", network=backing.opaqueNetworkId or "")
    return NicBacking(kind="other")


def _nics(
    item: Retrieved, dvpg_by_key: Mapping[str, tuple[str, str]], log: UnreadableLog
) -> list[Nic]:
    nics = []
    for device in item.props.get("config.hardware.device") or ():
        if not isinstance(device, declared.VirtualEthernetCard):
            continue
        address_type = str(device.addressType or "").lower()
        if address_type not in _ADDRESS_TYPES:
            log.add("vm", item.moid, "nics", f"unknown MAC address type {device.addressType!r}")
            address_type = "generated"
        connectable = device.connectable
        nics.append(
            Nic(
                key=int(device.key or 0),
                address_type=address_type,  # type: ignore[arg-type]
                backing=_backing(device, dvpg_by_key),
                label=(device.deviceInfo.label or "") if device.deviceInfo is not None else "",
                mac=(device.macAddress or "").lower(),
                connected=bool(connectable.connected) if connectable is not None else True,
            )
        )
    return nics


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _snapshot_tree(nodes: Iterable[Any]) -> list[VmSnapshot]:
    return [
        VmSnapshot(
            moid=moid(node.snapshot) or f"snapshot-{node.id}",
            name=node.name or "",
            created=_aware(node.createTime),
            description=node.description or "",
            children=_snapshot_tree(node.childSnapshotList or ()),
        )
        for node in nodes
    ]


def vm_from(
    item: Retrieved,
    inventory: Inventory,
    *,
    pool_owner: Mapping[str, str],
    clusters: set[str],
    host_cluster: Mapping[str, str | None],
    dvpg_by_key: Mapping[str, tuple[str, str]],
    field_names: Mapping[int, str],
    log: UnreadableLog,
) -> VirtualMachine:
    """A VM with its placement, sizing, vNICs, snapshot tree and custom attributes."""
    props = item.props
    host = moid(props.get("runtime.host"))
    pool = moid(props.get("resourcePool"))
    cluster = host_cluster.get(host) if host is not None else None
    if cluster is None and pool is not None:
        owner = pool_owner.get(pool, "")
        cluster = owner if owner in clusters else None
    parent = moid(props.get("parent"))
    datacenter = inventory.datacenter_of(parent) or inventory.datacenter_of(cluster) or ""
    snapshot_info = props.get("snapshot")
    custom = {
        field_names[value.key]: str(value.value)
        for value in props.get("customValue") or ()
        if value.key in field_names and value.value is not None
    }
    power = str(props.get("runtime.powerState") or "poweredOff")
    return VirtualMachine(
        moid=item.moid,
        name=_name(item),
        datacenter=datacenter,
        instance_uuid=str(props.get("config.instanceUuid") or ""),
        power_state=power
        if power in ("poweredOn", "poweredOff", "suspended")  # type: ignore[arg-type]
        else "poweredOff",
        template=bool(props.get("config.template")),
        folder=inventory.folder_path(parent),
        host=host,
        cluster=cluster,
        resource_pool=pool,
        num_cpu=int(props.get("config.hardware.numCPU") or 0),
        memory_mb=int(props.get("config.hardware.memoryMB") or 0),
        cpu_allocation=allocation(props.get("config.cpuAllocation")),
        memory_allocation=allocation(props.get("config.memoryAllocation")),
        nics=_nics(item, dvpg_by_key, log),
        snapshots=_snapshot_tree(snapshot_info.rootSnapshotList or ())
        if snapshot_info is not None
        else [],
        consolidation_needed=bool(props.get("runtime.consolidationNeeded")),
        custom_attributes=custom,
    )


def dvswitch_from(item: Retrieved, inventory: Inventory) -> DistributedSwitch:
    """A distributed switch."""
    product = item.props.get("summary.productInfo")
    return DistributedSwitch(
        moid=item.moid,
        name=_name(item),
        uuid=str(item.props.get("uuid") or ""),
        version=str(product.version or "") if product is not None else "",
        datacenter=inventory.datacenter_of(item.moid),
        # Unread membership stays None ("not known"), never [] ("no member host").
        hosts=None
        if "summary.hostMember" in item.missing
        else refs(item.props.get("summary.hostMember")),
    )


def dv_portgroup_from(item: Retrieved) -> DistributedPortgroup:
    """A distributed portgroup with its effective default port policy."""
    return DistributedPortgroup(
        moid=item.moid,
        name=_name(item),
        dvs=moid(item.props.get("config.distributedVirtualSwitch")) or "",
        key=str(item.props.get("key") or ""),
        policy=dvs_policy(item.props.get("config.defaultPortConfig")),
    )


def without_dangling_references(snapshot: Snapshot) -> Snapshot:
    """Drop references to objects the export does not hold, recording them as unreadable.

    An object can vanish between two reads (a VM deleted while its host was
    being read); the snapshot must still load.
    """
    dcs, hosts, clusters = snapshot.datacenters, snapshot.hosts, snapshot.clusters
    pools, vms = snapshot.resource_pools, snapshot.vms
    log = UnreadableLog()

    def kept(kind: UnreadableKind, objects: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for key, obj in objects.items():
            if obj.datacenter in dcs:
                out[key] = obj
            else:
                log.add(kind, key, "datacenter", "no datacenter found above it")
        return out

    hosts = {
        k: h if h.cluster is None or h.cluster in clusters else replace(h, cluster=None)
        for k, h in kept("host", hosts).items()
    }
    clusters = {
        k: replace(
            c,
            root_pool=c.root_pool if c.root_pool in pools else None,
            hosts=[h for h in c.hosts if h in hosts],
            drs=replace(
                c.drs, vm_overrides={v: o for v, o in c.drs.vm_overrides.items() if v in vms}
            ),
            ha=replace(c.ha, vm_overrides={v: o for v, o in c.ha.vm_overrides.items() if v in vms}),
            rules=[replace(r, vms=[v for v in r.vms if v in vms]) for r in c.rules],
            groups=[
                replace(g, members=[x for x in g.members if x in (vms, hosts)[g.kind == "host"]])
                for g in c.groups
            ],
        )
        for k, c in kept("cluster", clusters).items()
    }
    pools = {}
    for k, p in snapshot.resource_pools.items():
        if p.owner in clusters or p.owner in hosts:
            pools[k] = p
        else:
            log.add("resource_pool", k, "owner", "its cluster or host was not read")
    pools = {
        k: p if p.parent is None or p.parent in pools else replace(p, parent=None)
        for k, p in pools.items()
    }
    vms = {
        k: replace(
            v,
            host=v.host if v.host in hosts else None,
            cluster=v.cluster if v.cluster in clusters else None,
            resource_pool=v.resource_pool if v.resource_pool in pools else None,
        )
        for k, v in kept("vm", vms).items()
    }
    dvswitches = {
        k: replace(
            d,
            datacenter=d.datacenter if d.datacenter is None or d.datacenter in dcs else None,
            hosts=None if d.hosts is None else [h for h in d.hosts if h in hosts],
        )
        for k, d in snapshot.dvswitches.items()
    }
    portgroups = {k: p for k, p in snapshot.dv_portgroups.items() if p.dvs in dvswitches}
    return replace(
        snapshot,
        hosts=hosts,
        clusters=clusters,
        resource_pools=pools,
        vms=vms,
        dvswitches=dvswitches,
        dv_portgroups=portgroups,
        unreadable=[*snapshot.unreadable, *log.entries],
    )
