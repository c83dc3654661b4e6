"""What the exporter reads from vCenter, declared once: each property path it requests of
each managed object type, and the part of each value the snapshot mapping uses.

``PROPERTIES`` maps a managed object type to its property paths, and each path to the
Python type of its value. The retrievals request exactly these paths, and both decoders
produce exactly these values: the fast one (``exporter.decode``) straight from the
response's XML, pyVmomi's (the fallback) through ``decode.project``.

The value types:

- ``str`` (``xsd:string`` and enumerations), ``int`` (every integer type), ``bool``,
  ``datetime``, ``Moid`` (a managed object reference: its id) and ``TypeName`` (a
  ``vmodl.TypeName``: the WSDL name of a type);
- a ``Record``: a vSphere data object reduced to the properties the mapping reads. A
  record class is named after the data object's WSDL type and its fields after the
  type's properties. A value whose type is a subtype becomes the most specific declared
  record subclass (``VirtualEthernetCardNetworkBackingInfo`` for that backing, the base
  ``VirtualDeviceBackingInfo`` for any other), so ``isinstance`` means what it means in
  pyVmomi;
- ``list[X]`` for an array. When X is narrower than the array's item type, only the
  items of X's type are kept (``config.hardware.device`` keeps the network cards).

A value that is not set is ``None`` (a list: empty), as in pyVmomi. A path requested
without an entry here is not understood by the fast decoder: its responses go to pyVmomi,
and the value reaches the mapping as pyVmomi made it (``tests/test_properties_declared.py``
insists every path the exporter requests is declared, and that every declaration agrees
with pyVmomi's own type information).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import msgspec

from scalearc_lint.exporter._vmomi import vim

#: A managed object reference, as the id of the object (``vm-42``).
Moid = NewType("Moid", str)
#: A ``vmodl.TypeName`` value: the WSDL name of a type (``VirtualMachine``).
TypeName = NewType("TypeName", str)


class Record(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A vSphere data object, reduced to the properties the exporter reads.

    The class name is the WSDL name of the data object's type; the fields are its
    properties, under vSphere's own names.
    """


# -- resource allocation (VMs and resource pools) --------------------------------------------


class SharesInfo(Record, frozen=True):
    """``SharesInfo``."""

    shares: int | None = None
    level: str | None = None


class ResourceAllocationInfo(Record, frozen=True):
    """``ResourceAllocationInfo``: a reservation, limit and shares (MHz or MB)."""

    reservation: int | None = None
    expandableReservation: bool | None = None
    limit: int | None = None
    shares: SharesInfo | None = None


# -- virtual machines ----------------------------------------------------------------------


class Description(Record, frozen=True):
    """``Description``: a device's label."""

    label: str | None = None


class VirtualDeviceConnectInfo(Record, frozen=True):
    """``VirtualDeviceConnectInfo``."""

    connected: bool | None = None


class VirtualDeviceBackingInfo(Record, frozen=True):
    """``VirtualDeviceBackingInfo``: a backing of any type not declared below."""


class VirtualEthernetCardNetworkBackingInfo(VirtualDeviceBackingInfo, frozen=True):
    """A standard-switch network backing."""

    deviceName: str | None = None


class VirtualEthernetCardOpaqueNetworkBackingInfo(VirtualDeviceBackingInfo, frozen=True):
    """An opaque (NSX) network backing."""

    opaqueNetworkId: str | None = None


class DistributedVirtualSwitchPortConnection(Record, frozen=True):
    """``DistributedVirtualSwitchPortConnection``."""

    portgroupKey: str | None = None


class VirtualEthernetCardDistributedVirtualPortBackingInfo(VirtualDeviceBackingInfo, frozen=True):
    """A distributed-switch port backing."""

    port: DistributedVirtualSwitchPortConnection | None = None


class VirtualEthernetCard(Record, frozen=True):
    """``VirtualEthernetCard`` (any of its subtypes: ``VirtualVmxnet3``, ``VirtualE1000``...)."""

    key: int | None = None
    deviceInfo: Description | None = None
    backing: VirtualDeviceBackingInfo | None = None
    connectable: VirtualDeviceConnectInfo | None = None
    addressType: str | None = None
    macAddress: str | None = None


class VirtualMachineSnapshotTree(Record, frozen=True):
    """``VirtualMachineSnapshotTree``: one snapshot and those taken from it."""

    snapshot: Moid | None = None
    id: int | None = None
    name: str | None = None
    description: str | None = None
    createTime: datetime | None = None
    childSnapshotList: list[VirtualMachineSnapshotTree] = []


class VirtualMachineSnapshotInfo(Record, frozen=True):
    """``VirtualMachineSnapshotInfo``."""

    rootSnapshotList: list[VirtualMachineSnapshotTree] = []


class CustomFieldValue(Record, frozen=True):
    """``CustomFieldValue``: a custom attribute value of a type other than string."""

    key: int | None = None


class CustomFieldStringValue(CustomFieldValue, frozen=True):
    """``CustomFieldStringValue``."""

    value: str | None = None


class CustomFieldDef(Record, frozen=True):
    """``CustomFieldDef``: a custom attribute's definition."""

    key: int | None = None
    name: str | None = None
    managedObjectType: TypeName | None = None


# -- hosts and standard switches -----------------------------------------------------------


class HostHardwareSummary(Record, frozen=True):
    """``HostHardwareSummary``."""

    memorySize: int | None = None
    cpuMhz: int | None = None
    numCpuCores: int | None = None


class HostNicTeamingPolicy(Record, frozen=True):
    """``HostNicTeamingPolicy``."""

    policy: str | None = None
    notifySwitches: bool | None = None


class HostNetworkSecurityPolicy(Record, frozen=True):
    """``HostNetworkSecurityPolicy``."""

    allowPromiscuous: bool | None = None
    macChanges: bool | None = None
    forgedTransmits: bool | None = None


class HostNetworkPolicy(Record, frozen=True):
    """``HostNetworkPolicy``: a standard switch's or portgroup's policy (spec or computed)."""

    security: HostNetworkSecurityPolicy | None = None
    nicTeaming: HostNicTeamingPolicy | None = None


class HostVirtualSwitchSpec(Record, frozen=True):
    """``HostVirtualSwitchSpec``."""

    policy: HostNetworkPolicy | None = None


class HostVirtualSwitch(Record, frozen=True):
    """``HostVirtualSwitch``: a standard switch."""

    name: str | None = None
    spec: HostVirtualSwitchSpec | None = None


class HostPortGroupSpec(Record, frozen=True):
    """``HostPortGroupSpec``."""

    name: str | None = None
    vlanId: int | None = None
    vswitchName: str | None = None
    policy: HostNetworkPolicy | None = None


class HostPortGroup(Record, frozen=True):
    """``HostPortGroup``: a standard portgroup with its effective policy."""

    spec: HostPortGroupSpec | None = None
    computedPolicy: HostNetworkPolicy | None = None


# -- clusters ------------------------------------------------------------------------------


class ClusterDrsConfigInfo(Record, frozen=True):
    """``ClusterDrsConfigInfo``."""

    enabled: bool | None = None
    enableVmBehaviorOverrides: bool | None = None
    defaultVmBehavior: str | None = None


class ClusterDrsVmConfigInfo(Record, frozen=True):
    """``ClusterDrsVmConfigInfo``: a per-VM DRS override."""

    key: Moid | None = None
    enabled: bool | None = None
    behavior: str | None = None


class ClusterDasVmSettings(Record, frozen=True):
    """``ClusterDasVmSettings``: HA restart priority and isolation response."""

    restartPriority: str | None = None
    isolationResponse: str | None = None


class ClusterDasConfigInfo(Record, frozen=True):
    """``ClusterDasConfigInfo``: vSphere HA, with the cluster's default VM settings."""

    enabled: bool | None = None
    defaultVmSettings: ClusterDasVmSettings | None = None


class ClusterDasVmConfigInfo(Record, frozen=True):
    """``ClusterDasVmConfigInfo``: a per-VM HA override (with its pre-4.0 fields)."""

    key: Moid | None = None
    restartPriority: str | None = None
    powerOffOnIsolation: bool | None = None
    dasSettings: ClusterDasVmSettings | None = None


class ClusterRuleInfo(Record, frozen=True):
    """``ClusterRuleInfo``: a rule of a type not declared below."""

    key: int | None = None
    name: str | None = None
    enabled: bool | None = None
    mandatory: bool | None = None


class ClusterAffinityRuleSpec(ClusterRuleInfo, frozen=True):
    """A VM-VM affinity rule."""

    vm: list[Moid] = []


class ClusterAntiAffinityRuleSpec(ClusterRuleInfo, frozen=True):
    """A VM-VM anti-affinity rule."""

    vm: list[Moid] = []


class ClusterVmHostRuleInfo(ClusterRuleInfo, frozen=True):
    """A VM-Host rule: a VM group that should (or must) run on, or not on, a host group."""

    vmGroupName: str | None = None
    affineHostGroupName: str | None = None
    antiAffineHostGroupName: str | None = None


class ClusterGroupInfo(Record, frozen=True):
    """``ClusterGroupInfo``: a group of a type not declared below."""

    name: str | None = None


class ClusterVmGroup(ClusterGroupInfo, frozen=True):
    """A VM group."""

    vm: list[Moid] = []


class ClusterHostGroup(ClusterGroupInfo, frozen=True):
    """A host group."""

    host: list[Moid] = []


class ComputeResourceConfigInfo(Record, frozen=True):
    """``ComputeResourceConfigInfo``: a standalone host's compute resource settings."""


class ClusterConfigInfoEx(ComputeResourceConfigInfo, frozen=True):
    """``ClusterConfigInfoEx``: DRS and HA settings, rules and groups of a cluster."""

    drsConfig: ClusterDrsConfigInfo | None = None
    drsVmConfig: list[ClusterDrsVmConfigInfo] = []
    dasConfig: ClusterDasConfigInfo | None = None
    dasVmConfig: list[ClusterDasVmConfigInfo] = []
    rule: list[ClusterRuleInfo] = []
    group: list[ClusterGroupInfo] = []


# -- distributed switches ------------------------------------------------------------------


class BoolPolicy(Record, frozen=True):
    """``BoolPolicy``: an inheritable boolean setting of a distributed port."""

    value: bool | None = None


class StringPolicy(Record, frozen=True):
    """``StringPolicy``."""

    value: str | None = None


class VmwareUplinkPortTeamingPolicy(Record, frozen=True):
    """``VmwareUplinkPortTeamingPolicy``."""

    policy: StringPolicy | None = None
    notifySwitches: BoolPolicy | None = None


class DVSSecurityPolicy(Record, frozen=True):
    """``DVSSecurityPolicy``."""

    allowPromiscuous: BoolPolicy | None = None
    macChanges: BoolPolicy | None = None
    forgedTransmits: BoolPolicy | None = None


class DVSMacManagementPolicy(Record, frozen=True):
    """``DVSMacManagementPolicy`` (vSphere 6.7 and later)."""

    allowPromiscuous: bool | None = None
    macChanges: bool | None = None
    forgedTransmits: bool | None = None


class DVPortSetting(Record, frozen=True):
    """``DVPortSetting``: the default port settings of a switch other than VMware's."""


class VMwareDVSPortSetting(DVPortSetting, frozen=True):
    """``VMwareDVSPortSetting``: a VMware distributed switch's port settings."""

    uplinkTeamingPolicy: VmwareUplinkPortTeamingPolicy | None = None
    securityPolicy: DVSSecurityPolicy | None = None
    macManagementPolicy: DVSMacManagementPolicy | None = None


class DistributedVirtualSwitchProductSpec(Record, frozen=True):
    """``DistributedVirtualSwitchProductSpec``."""

    version: str | None = None


# -- what each retrieval requests ----------------------------------------------------------

#: A property path and the type of its value.
Declared = dict[str, Any]

_ENTITY: Declared = {"name": str, "parent": Moid}

PROPERTIES: dict[Any, Declared] = {
    vim.Folder: _ENTITY,
    vim.Datacenter: _ENTITY,
    vim.ComputeResource: {**_ENTITY, "host": list[Moid], "resourcePool": Moid},
    # Requested of a ComputeResource view: only clusters have it.
    vim.ClusterComputeResource: {"configurationEx": ComputeResourceConfigInfo},
    vim.HostSystem: {
        **_ENTITY,
        "runtime.connectionState": str,
        "runtime.inMaintenanceMode": bool,
        "runtime.powerState": str,
        "summary.hardware": HostHardwareSummary,
        "config.network.vswitch": list[HostVirtualSwitch],
        "config.network.portgroup": list[HostPortGroup],
    },
    vim.ResourcePool: {
        **_ENTITY,
        "owner": Moid,
        "config.cpuAllocation": ResourceAllocationInfo,
        "config.memoryAllocation": ResourceAllocationInfo,
    },
    vim.VirtualMachine: {
        **_ENTITY,
        "resourcePool": Moid,
        "runtime.powerState": str,
        "runtime.host": Moid,
        "config.instanceUuid": str,
        "config.template": bool,
        "config.hardware.numCPU": int,
        "config.hardware.memoryMB": int,
        "config.cpuAllocation": ResourceAllocationInfo,
        "config.memoryAllocation": ResourceAllocationInfo,
        "config.hardware.device": list[VirtualEthernetCard],
        "snapshot": VirtualMachineSnapshotInfo,
        "runtime.consolidationNeeded": bool,
        "customValue": list[CustomFieldValue],
    },
    vim.DistributedVirtualSwitch: {
        **_ENTITY,
        "uuid": str,
        "summary.productInfo": DistributedVirtualSwitchProductSpec,
        "summary.hostMember": list[Moid],
    },
    vim.dvs.DistributedVirtualPortgroup: {
        "name": str,
        "key": str,
        "config.distributedVirtualSwitch": Moid,
        "config.defaultPortConfig": DVPortSetting,
    },
    vim.CustomFieldsManager: {"field": list[CustomFieldDef]},
}


def paths(vim_type: Any) -> tuple[str, ...]:
    """The property paths the exporter requests of a managed object type."""
    return tuple(PROPERTIES[vim_type])
