"""The snapshot: a typed, versioned picture of one vCenter inventory.

This module is the contract between the exporter and the rule engine. Every
collection is keyed by managed-object id (moid) and every reference is a moid,
so rules join in O(1). Each object also carries its own ``moid`` (checked
against its key on load) so a rule can hand an object around without its key.

The JSON Schema in ``scalearc_lint/snapshot/schema/snapshot.schema.json`` is generated
from these classes (``python -m scalearc_lint.snapshot.schema``); never edit it by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

#: Bumped whenever the snapshot's shape changes (2: the DRS VM-overrides switch, event chains,
#: the event types an export selected, host names in events, more event kinds; 3: a cluster's
#: default HA restart priority, a VM's need for disk consolidation).
SCHEMA_VERSION = 3
#: Every version the loader reads; older ones are upgraded on load (see ``loader``).
READABLE_SCHEMA_VERSIONS = (1, 2, 3)

Moid = Annotated[str, msgspec.Meta(min_length=1, description="managed-object id")]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

# Bounds on numbers: wide above anything vSphere allows, so a real inventory always fits,
# while a value no inventory can have (10**30 vCPUs, negative memory) is refused on load.
VcpuCount = Annotated[
    int, msgspec.Meta(ge=0, le=4096, description="virtual CPUs (vSphere 8 allows 768)")
]
MemoryMb = Annotated[
    int, msgspec.Meta(ge=0, le=1 << 30, description="memory in MB (vSphere 8: 24 TB a VM)")
]
CoreCount = Annotated[int, msgspec.Meta(ge=0, le=1 << 16, description="CPU cores of a host")]
Megahertz = Annotated[int, msgspec.Meta(ge=0, le=1 << 40, description="CPU capacity in MHz")]
Reservation = Annotated[int, msgspec.Meta(ge=0, le=1 << 40, description="MHz or MB reserved")]
Limit = Annotated[int, msgspec.Meta(ge=-1, le=1 << 40, description="MHz or MB; -1 unlimited")]
Shares = Annotated[int, msgspec.Meta(ge=0, le=(1 << 31) - 1, description="shares (32-bit)")]
VlanId = Annotated[int, msgspec.Meta(ge=0, le=4095, description="VLAN id (4095: guest tagging)")]
Key = Annotated[
    int, msgspec.Meta(ge=-(1 << 63), le=(1 << 63) - 1, description="vSphere integer key")
]

PowerState = Literal["poweredOn", "poweredOff", "suspended"]
DrsBehavior = Literal["manual", "partiallyAutomated", "fullyAutomated"]


class _Model(
    msgspec.Struct,
    forbid_unknown_fields=True,
    omit_defaults=True,
    kw_only=True,
    frozen=True,
    gc=False,
):
    """Base of every snapshot class: immutable; unknown keys are errors; defaults not written.

    ``gc=False``: the cyclic garbage collector does not track them (16 bytes less each, and
    nothing for it to walk: a snapshot's millions of objects are immutable data, decoded
    from JSON, that can hold no reference cycle).
    """


class Source(_Model, frozen=True):
    """Where the snapshot came from."""

    vcenter: str
    instance_uuid: str = ""
    api_version: str = ""
    product: str = ""


class Datacenter(_Model, frozen=True):
    """A vSphere datacenter."""

    moid: Moid
    name: str


class DrsVmOverride(_Model, frozen=True):
    """A per-VM DRS setting (``ClusterDrsVmConfigInfo``); ``None`` means inherited."""

    enabled: bool | None = None
    behavior: DrsBehavior | None = None


class DrsConfig(_Model, frozen=True):
    """Cluster DRS configuration; an unset default behaviour means fullyAutomated.

    ``enable_vm_behavior_overrides`` is ``drsConfig.enableVmBehaviorOverrides`` (vSphere's
    default: true); when false the cluster default applies to every VM and ``vm_overrides``
    are ignored. ``None`` means not known: a schema-1 snapshot did not record it.
    """

    enabled: bool = False
    default_behavior: DrsBehavior | None = None
    enable_vm_behavior_overrides: bool | None = True
    vm_overrides: dict[str, DrsVmOverride] = {}


class HaVmOverride(_Model, frozen=True):
    """A per-VM vSphere HA setting (``ClusterDasVmConfigInfo.dasSettings``).

    ``restart_priority`` is ``disabled``, ``lowest`` ... ``highest``, or ``None`` /
    ``clusterRestartPriority``: the cluster's default applies.
    """

    restart_priority: str | None = None
    isolation_response: str | None = None


class HaConfig(_Model, frozen=True):
    """Cluster vSphere HA configuration (``dasConfig``, ``dasVmConfig``).

    ``default_restart_priority`` is ``dasConfig.defaultVmSettings.restartPriority``; ``None``
    when unset, which vSphere treats as ``medium`` (resolved by
    :func:`scalearc_lint.snapshot.ha.effective_ha_restart`). A snapshot older than schema 3
    did not record it: the loader marks it unread.
    """

    enabled: bool = False
    default_restart_priority: str | None = None
    vm_overrides: dict[str, HaVmOverride] = {}


class ClusterRule(_Model, frozen=True):
    """A DRS rule: VM-VM affinity / anti-affinity, or VM-host."""

    key: Key
    name: str
    kind: Literal["vm-affinity", "vm-anti-affinity", "vm-host"]
    enabled: bool = True
    mandatory: bool = False
    vms: list[Moid] = []
    vm_group: str | None = None
    host_group: str | None = None
    affine: bool | None = None


class ClusterGroup(_Model, frozen=True):
    """A DRS VM group or host group."""

    name: str
    kind: Literal["vm", "host"]
    members: list[Moid] = []


class Cluster(_Model, frozen=True):
    """A compute cluster with its DRS/HA configuration, rules and groups."""

    moid: Moid
    name: str
    datacenter: Moid
    root_pool: Moid | None = None
    hosts: list[Moid] = []
    drs: DrsConfig = DrsConfig()
    ha: HaConfig = HaConfig()
    rules: list[ClusterRule] = []
    groups: list[ClusterGroup] = []


class NetworkPolicy(_Model, frozen=True):
    """Teaming and security settings; ``None`` means not set (inherited / unknown)."""

    notify_switches: bool | None = None
    teaming_policy: str | None = None
    allow_promiscuous: bool | None = None
    mac_changes: bool | None = None
    forged_transmits: bool | None = None


class StandardSwitch(_Model, frozen=True):
    """A host's standard vSwitch and its own policy."""

    name: str
    policy: NetworkPolicy = NetworkPolicy()


class HostPortgroup(_Model, frozen=True):
    """A standard-switch portgroup: configured ``spec`` and ``computed`` effective policy."""

    name: str
    vswitch: str
    vlan_id: VlanId = 0
    spec: NetworkPolicy = NetworkPolicy()
    computed: NetworkPolicy = NetworkPolicy()


class Host(_Model, frozen=True):
    """An ESXi host; ``cpu_mhz`` is the speed of one core (0 when unknown)."""

    moid: Moid
    name: str
    datacenter: Moid
    cluster: Moid | None = None
    connection_state: Literal["connected", "disconnected", "notResponding"] = "connected"
    in_maintenance: bool = False
    power_state: Literal["poweredOn", "poweredOff", "standBy", "unknown"] = "poweredOn"
    cpu_mhz: Megahertz = 0
    cpu_cores: CoreCount = 0
    memory_mb: MemoryMb = 0
    vswitches: list[StandardSwitch] = []
    portgroups: list[HostPortgroup] = []


class Allocation(_Model, frozen=True):
    """CPU (MHz) or memory (MB) allocation; ``limit`` -1 is unlimited."""

    reservation: Reservation = 0
    limit: Limit = -1
    expandable: bool = False
    shares_level: str = "normal"
    shares: Shares = 0


class ResourcePool(_Model, frozen=True):
    """A resource pool; ``parent`` is ``None`` for a root pool."""

    moid: Moid
    name: str
    owner: Moid
    parent: Moid | None = None
    cpu: Allocation = Allocation()
    memory: Allocation = Allocation()


class NicBacking(_Model, frozen=True):
    """What a vNIC is connected to: a standard portgroup (by name) or a DV portgroup (moid)."""

    kind: Literal["standard", "distributed", "opaque", "other"]
    network: str = ""
    portgroup: Moid | None = None


class Nic(_Model, frozen=True):
    """A virtual NIC."""

    key: Key
    address_type: Literal["manual", "generated", "assigned"]
    backing: NicBacking
    label: str = ""
    mac: str = ""
    connected: bool = True


class VmSnapshot(_Model, frozen=True):
    """A node of a VM's snapshot tree."""

    moid: Moid
    name: str
    created: AwareDatetime
    description: str = ""
    children: list[VmSnapshot] = []


class Tag(_Model, frozen=True):
    """A vSphere tag attached to an object."""

    category: str
    name: str


class VirtualMachine(_Model, frozen=True):
    """A virtual machine with the configuration the rules need.

    ``consolidation_needed`` is ``runtime.consolidationNeeded``: a snapshot removal left
    delta disks behind. A snapshot older than schema 3 did not record it: the loader marks
    it unread.
    """

    moid: Moid
    name: str
    datacenter: Moid
    instance_uuid: str = ""
    power_state: PowerState = "poweredOn"
    template: bool = False
    folder: str = ""
    host: Moid | None = None
    cluster: Moid | None = None
    resource_pool: Moid | None = None
    num_cpu: VcpuCount = 1
    memory_mb: MemoryMb = 0
    cpu_allocation: Allocation = Allocation()
    memory_allocation: Allocation = Allocation()
    nics: list[Nic] = []
    snapshots: list[VmSnapshot] = []
    consolidation_needed: bool = False
    custom_attributes: dict[str, str] = {}
    tags: list[Tag] = []


class DistributedSwitch(_Model, frozen=True):
    """A vSphere Distributed Switch; ``hosts`` are its member hosts (``summary.hostMember``).

    ``hosts`` is ``None`` when membership was not exported (snapshots written before it
    was, or a switch whose summary could not be read): a VM's distributed portgroup is
    usable only on a member host, and without the list nobody can tell which those are.
    """

    moid: Moid
    name: str
    uuid: str = ""
    version: str = ""
    datacenter: Moid | None = None
    hosts: list[Moid] | None = None


class DistributedPortgroup(_Model, frozen=True):
    """A distributed portgroup with its effective default port policy."""

    moid: Moid
    name: str
    dvs: Moid
    key: str = ""
    policy: NetworkPolicy = NetworkPolicy()


EventKind = Literal[
    "migrate",
    "relocate",
    "hot-migrate",
    "cold-migrate",
    "drs-migrate",
    "cross-vcenter-migrate",
    "revert",
    "ha-restart",
]

#: The event types a snapshot records, by event type id (a class name, or an EventEx's
#: ``eventTypeId``), with the kind each is recorded as. ``migrate`` / ``relocate`` finish a
#: migration that was live or cold (the ``hot-migrate`` / ``cold-migrate`` event of the same
#: chain tells which); ``hot-migrate``, ``drs-migrate`` and ``cross-vcenter-migrate`` are live.
EVENT_TYPES: dict[str, EventKind] = {
    "VmMigratedEvent": "migrate",
    "VmRelocatedEvent": "relocate",
    "VmBeingHotMigratedEvent": "hot-migrate",
    "com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent": "hot-migrate",
    "VmBeingMigratedEvent": "cold-migrate",
    "VmBeingRelocatedEvent": "cold-migrate",
    "DrsVmMigratedEvent": "drs-migrate",
    "com.vmware.vc.vm.DstVmMigratedEvent": "cross-vcenter-migrate",
    "com.vmware.vc.vm.SrcVmMigratedEvent": "cross-vcenter-migrate",
    "com.vmware.vc.vm.VmStateRevertedToSnapshot": "revert",
    "com.vmware.vc.ha.VmRestartedByHAEvent": "ha-restart",
}

#: What an event of a kind says about its migration by itself: live (``True``) or cold
#: (``False``); kinds not listed do not tell.
LIVE_BY_KIND: dict[EventKind, bool] = {
    "hot-migrate": True,
    "drs-migrate": True,
    "cross-vcenter-migrate": True,
    "cold-migrate": False,
}

#: The event types a schema-1 export selected (it recorded no list of its own).
SCHEMA_1_EVENT_TYPES = (
    "VmMigratedEvent",
    "DrsVmMigratedEvent",
    "VmRelocatedEvent",
    "VmBeingHotMigratedEvent",
    "com.vmware.vc.vm.VmStateRevertedToSnapshot",
)


class Event(_Model, frozen=True):
    """A vCenter event of interest: a migration, a revert-to-snapshot or an HA restart.

    ``type`` is the event type id (the class name, or an EventEx's ``eventTypeId``);
    ``kind`` is what :data:`EVENT_TYPES` records it as. ``live`` is what the event itself
    says: ``True`` for a vMotion, ``False`` for a cold migration, ``None`` where it does not
    tell (then the events sharing its ``chain_id``, one operation's events, may).
    ``chain_id`` is ``None`` in a schema-1 snapshot. Host moids are this vCenter's; the
    names are as the event gives them (a cross-vCenter move names hosts of another vCenter).
    """

    key: Key
    type: str
    kind: EventKind
    created: AwareDatetime
    chain_id: int | None = None
    vm: Moid | None = None
    vm_name: str = ""
    live: bool | None = None
    source_host: Moid | None = None
    dest_host: Moid | None = None
    source_host_name: str = ""
    dest_host_name: str = ""
    user: str = ""
    message: str = ""


class EventLog(_Model, frozen=True):
    """Events within the exported window; ``collected`` is false when none were read.

    ``event_types`` lists the event type ids the export selected: an event of a type not
    listed was never read, so a rule that needs it says ``unknown``, not ``pass``.
    """

    collected: bool = False
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    event_types: list[str] = []
    items: list[Event] = []


UnreadableKind = Literal[
    "datacenter",
    "cluster",
    "host",
    "resource_pool",
    "vm",
    "dvswitch",
    "dv_portgroup",
    "events",
    "tags",
    "custom_attributes",
]


class Unreadable(_Model, frozen=True):
    """Something the exporter could not read, so rules report ``unknown`` instead of ``pass``.

    ``property`` is the name of the model field that is missing or incomplete
    (``nics``, ``snapshots``, ``portgroups``, ``policy``...; a cluster's ``configuration``
    covers its DRS and HA settings, overrides, rules and groups);
    an empty ``moid`` means every object of that kind.
    """

    kind: UnreadableKind
    moid: str | None = None
    property: str = ""
    fault: str = ""


class Snapshot(_Model, frozen=True):
    """One vCenter inventory at one moment."""

    schema_version: int
    source: Source
    exported_at: AwareDatetime
    datacenters: dict[str, Datacenter] = {}
    clusters: dict[str, Cluster] = {}
    hosts: dict[str, Host] = {}
    resource_pools: dict[str, ResourcePool] = {}
    vms: dict[str, VirtualMachine] = {}
    dvswitches: dict[str, DistributedSwitch] = {}
    dv_portgroups: dict[str, DistributedPortgroup] = {}
    events: EventLog = EventLog()
    unreadable: list[Unreadable] = []


class SnapshotBundle(_Model, frozen=True):
    """Several vCenters in one file (``export --merge``): each snapshot keeps its own objects.

    A moid is unique only within one vCenter, so the inventories are not mixed: every
    snapshot in the bundle is linted as its own vCenter, as if given in its own file.
    """

    schema_version: int
    snapshots: list[Snapshot]


#: The top-level collections, in document order, with their element types.
COLLECTIONS: dict[str, type[msgspec.Struct]] = {
    "datacenters": Datacenter,
    "clusters": Cluster,
    "hosts": Host,
    "resource_pools": ResourcePool,
    "vms": VirtualMachine,
    "dvswitches": DistributedSwitch,
    "dv_portgroups": DistributedPortgroup,
}
