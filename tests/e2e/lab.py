"""Seed a ScaleArc lab in vcsim through pyVmomi and the vAPI REST tagging API.

The simulator starts with one cluster of three hosts and eight VMs in the
cluster's root pool (``-cluster 1 -host 3 -vm 8``). The lab turns them into:

========== ======================= ===== ======== ================ =============================
VM         identified by           host  pool     vNIC             other
========== ======================= ===== ======== ================ =============================
sa-alpha-1 attributes: primary     H0    sa-rp    manual, DVPG0    DRS manual; DRS-migrated
sa-alpha-2 attributes: secondary   H1    sa-rp    manual, DVPG0    DRS manual; anti-affinity
sa-beta-1  tags: primary           H2    root     generated, DVPG0 snapshot
sa-beta-2  tags: secondary         H2    root     manual, no-notify DRS fully automated; reverted
app-1      -                       -     root     manual = alpha-2's MAC (a duplicate)
app-2      -                       -     root     manual, standard "VM Network"
app-3..4   -                       -     root     manual, unique
========== ======================= ===== ======== ================ =============================

Every non-appliance MAC is made static and unique, because vcsim's generated
MACs repeat and would add failures the lab did not ask for.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyVim.connect

from scalearc_lint.exporter._vmomi import vim
from tests.vcsim_support import Vcsim

_connect: Any = pyVim.connect

ROLE, PAIR = "scalearc-role", "scalearc-ha-pair"
RESERVED_POOL = "sa-rp"
NO_NOTIFY_PG = "pg-no-notify"
# Static MACs in VMware's range for them (00:50:56:00:00:00-3F:FF:FF); SA001 warns outside it.
ALPHA_1_MAC, ALPHA_2_MAC, BETA_2_MAC = "00:50:56:2a:00:01", "00:50:56:2a:00:02", "00:50:56:2a:00:03"
#: The VM the lab renames each simulator VM to, in moid order.
NAMES = ("sa-alpha-1", "sa-alpha-2", "sa-beta-1", "sa-beta-2", "app-1", "app-2", "app-3", "app-4")


@dataclass
class Lab:
    """What the seeding did, by name, for the tests' expectations."""

    vms: dict[str, str] = field(default_factory=dict)  # name -> moid
    hosts: dict[str, str] = field(default_factory=dict)  # H0..H2 -> moid
    cluster: str = ""
    root_pool: str = ""
    reserved_pool: str = ""
    dvpg: str = ""
    no_notify_pg: str = ""
    beta_1_mac: str = ""
    #: Tag ids of the role tags, by role.
    role_tags: dict[str, str] = field(default_factory=dict)


def connect(sim: Vcsim) -> Any:
    """An admin ServiceInstance on the simulator (TLS verified)."""
    return _connect.SmartConnect(
        host=sim.host,
        port=sim.port,
        user=sim.user,
        pwd=sim.password,
        sslContext=sim.ssl_context(),
    )


def wait(task: Any) -> Any:
    """Wait for a task (vcsim runs them at once) and return its result."""
    while task.info.state not in ("success", "error"):
        time.sleep(0.01)
    if task.info.state == "error":
        raise RuntimeError(f"task failed: {task.info.error}")
    return task.info.result


def _objects(si: Any, vim_type: Any) -> list[Any]:
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim_type], True)
    try:
        return sorted(view.view, key=lambda o: int(o._moId.rsplit("-", 1)[1]))
    finally:
        view.DestroyView()


def _edit_nic(vm: Any, *, mac: str | None = None, backing: Any = None) -> str:
    """Reconfigure a VM's first vNIC: a static MAC and/or a new backing; returns its MAC."""
    nic = next(
        d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualEthernetCard)
    )
    if mac is not None:
        nic.addressType = "manual"
        nic.macAddress = mac
    if backing is not None:
        nic.backing = backing
    change = vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic)
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[change])))
    return str(nic.macAddress)


def _dv_backing(dvs: Any, pg: Any) -> Any:
    port = vim.dvs.PortConnection(switchUuid=dvs.uuid, portgroupKey=pg.key)
    return vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(port=port)


class _Rest:
    """Just enough vAPI REST to create tags and attach them."""

    def __init__(self, sim: Vcsim) -> None:
        self.conn = http.client.HTTPSConnection(sim.host, sim.port, context=sim.ssl_context())
        token = base64.b64encode(f"{sim.user}:{sim.password}".encode()).decode()
        self.session = str(
            self.call(
                "POST", "/com/vmware/cis/session", headers={"Authorization": f"Basic {token}"}
            )
        )

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if getattr(self, "session", ""):
            all_headers["vmware-api-session-id"] = self.session
        self.conn.request(
            method,
            "/rest" + path,
            body=json.dumps(body) if body is not None else None,
            headers=all_headers,
        )
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status} {data[:200]!r}")
        return json.loads(data)["value"] if data else None

    def category(self, name: str) -> str:
        spec = {
            "name": name,
            "description": "",
            "cardinality": "SINGLE",
            "associable_types": ["VirtualMachine"],
        }
        return str(self.call("POST", "/com/vmware/cis/tagging/category", {"create_spec": spec}))

    def tag(self, category: str, name: str) -> str:
        spec = {"name": name, "description": "", "category_id": category}
        return str(self.call("POST", "/com/vmware/cis/tagging/tag", {"create_spec": spec}))

    def attach(self, tag: str, vm: str) -> None:
        self._associate("attach", tag, vm)

    def detach(self, tag: str, vm: str) -> None:
        self._associate("detach", tag, vm)

    def _associate(self, action: str, tag: str, vm: str) -> None:
        self.call(
            "POST",
            f"/com/vmware/cis/tagging/tag-association/id:{tag}?~action={action}",
            {"object_id": {"type": "VirtualMachine", "id": vm}},
        )

    def close(self) -> None:
        self.call("DELETE", "/com/vmware/cis/session")
        self.conn.close()


def power_on(sim: Vcsim, lab: Lab, *names: str) -> None:
    """Power lab VMs on (the simulator starts them off)."""
    si = connect(sim)
    try:
        vms = {vm._moId: vm for vm in _objects(si, vim.VirtualMachine)}
        for name in names:
            wait(vms[lab.vms[name]].PowerOnVM_Task())
    finally:
        _connect.Disconnect(si)


def switch_over_beta(sim: Vcsim, lab: Lab) -> None:
    """What a person does for the beta pair's manual switchover step: after the switchover
    in ScaleArc's GUI, swap the two members' role tags in vCenter."""
    rest = _Rest(sim)
    try:
        for name, old, new in (
            ("sa-beta-1", "primary", "secondary"),
            ("sa-beta-2", "secondary", "primary"),
        ):
            rest.detach(lab.role_tags[old], lab.vms[name])
            rest.attach(lab.role_tags[new], lab.vms[name])
    finally:
        rest.close()


def post_events(si: Any, lab: Lab) -> None:
    """A DRS vMotion of sa-alpha-1 and a revert-to-snapshot of sa-beta-2."""
    content = si.RetrieveContent()
    vms = {vm._moId: vm for vm in _objects(si, vim.VirtualMachine)}
    hosts = {h._moId: h for h in _objects(si, vim.HostSystem)}
    now = datetime.now(UTC)

    def vm_arg(name: str) -> Any:
        return vim.event.VmEventArgument(vm=vms[lab.vms[name]], name=name)

    def host_arg(label: str) -> Any:
        return vim.event.HostEventArgument(host=hosts[lab.hosts[label]], name=label)

    migrated = vim.event.DrsVmMigratedEvent(
        key=0,
        chainId=0,
        createdTime=now,
        userName="",
        vm=vm_arg("sa-alpha-1"),
        host=host_arg("H0"),
        sourceHost=host_arg("H2"),
    )
    reverted = vim.event.EventEx(
        key=0,
        chainId=0,
        createdTime=now,
        userName="",
        vm=vm_arg("sa-beta-2"),
        eventTypeId="com.vmware.vc.vm.VmStateRevertedToSnapshot",
    )
    for event in (migrated, reverted):
        content.eventManager.PostEvent(eventToPost=event)


def seed_lab(sim: Vcsim) -> Lab:
    """Turn a fresh ``-cluster 1 -host 3 -vm 8`` simulator into the ScaleArc lab."""
    si = connect(sim)
    try:
        return _seed(si, sim)
    finally:
        _connect.Disconnect(si)


def _seed(si: Any, sim: Vcsim) -> Lab:
    content = si.RetrieveContent()
    lab = Lab()
    cluster = _objects(si, vim.ClusterComputeResource)[0]
    hosts = _objects(si, vim.HostSystem)
    vms = _objects(si, vim.VirtualMachine)
    dvs = _objects(si, vim.DistributedVirtualSwitch)[0]
    dvpg = next(
        pg for pg in _objects(si, vim.dvs.DistributedVirtualPortgroup) if pg.name == "DC0_DVPG0"
    )
    assert len(vms) == len(NAMES), f"expected {len(NAMES)} VMs, vcsim made {len(vms)}"
    lab.cluster, lab.dvpg = cluster._moId, dvpg._moId
    lab.hosts = {f"H{i}": h._moId for i, h in enumerate(hosts)}
    root = cluster.resourcePool
    lab.root_pool = root._moId

    for vm, name in zip(vms, NAMES, strict=True):
        wait(vm.Rename_Task(newName=name))
        lab.vms[name] = vm._moId
    by_name = dict(zip(NAMES, vms, strict=True))

    # A portgroup that does not notify switches.
    no_notify_spec = vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
        name=NO_NOTIFY_PG,
        type="earlyBinding",
        numPorts=16,
        defaultPortConfig=vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(
            uplinkTeamingPolicy=vim.dvs.VmwareDistributedVirtualSwitch.UplinkPortTeamingPolicy(
                notifySwitches=vim.BoolPolicy(inherited=False, value=False),
            ),
        ),
    )
    wait(dvs.AddDVPortgroup_Task(spec=[no_notify_spec]))
    no_notify = next(
        pg for pg in _objects(si, vim.dvs.DistributedVirtualPortgroup) if pg.name == NO_NOTIFY_PG
    )
    lab.no_notify_pg = no_notify._moId

    # Placement: the alpha pair apart, the beta pair together on H2.
    for name, host in (("sa-alpha-1", 0), ("sa-alpha-2", 1), ("sa-beta-1", 2), ("sa-beta-2", 2)):
        wait(by_name[name].RelocateVM_Task(spec=vim.vm.RelocateSpec(host=hosts[host])))

    # A reserved child pool for the alpha pair; beta stays in the root pool.
    def allocation(reservation: int) -> Any:
        return vim.ResourceAllocationInfo(
            reservation=reservation,
            limit=-1,
            expandableReservation=False,
            shares=vim.SharesInfo(level="normal", shares=0),
        )

    pool = root.CreateResourcePool(
        name=RESERVED_POOL,
        spec=vim.ResourceConfigSpec(
            cpuAllocation=allocation(20000), memoryAllocation=allocation(4096)
        ),
    )
    lab.reserved_pool = pool._moId
    for name in ("sa-alpha-1", "sa-alpha-2"):
        wait(by_name[name].RelocateVM_Task(spec=vim.vm.RelocateSpec(pool=pool)))

    # vNICs: static MACs everywhere but sa-beta-1; one duplicate; one standard backing.
    _edit_nic(by_name["sa-alpha-1"], mac=ALPHA_1_MAC)
    _edit_nic(by_name["sa-alpha-2"], mac=ALPHA_2_MAC)
    _edit_nic(by_name["sa-beta-2"], mac=BETA_2_MAC, backing=_dv_backing(dvs, no_notify))
    _edit_nic(by_name["app-1"], mac=ALPHA_2_MAC)
    _edit_nic(
        by_name["app-2"],
        mac="00:50:56:3b:00:02",
        backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM Network"),
    )
    _edit_nic(by_name["app-3"], mac="00:50:56:3b:00:03")
    _edit_nic(by_name["app-4"], mac="00:50:56:3b:00:04")
    lab.beta_1_mac = _edit_nic(by_name["sa-beta-1"])

    # The alpha pair by custom attributes.
    fields = content.customFieldsManager
    role = fields.AddCustomFieldDef(name=ROLE, moType=vim.VirtualMachine)
    pair = fields.AddCustomFieldDef(name=PAIR, moType=vim.VirtualMachine)
    for name, value in (("sa-alpha-1", "primary"), ("sa-alpha-2", "secondary")):
        fields.SetField(entity=by_name[name], key=role.key, value=value)
        fields.SetField(entity=by_name[name], key=pair.key, value="alpha")

    # The beta pair by tags.
    rest = _Rest(sim)
    try:
        role_category, pair_category = rest.category(ROLE), rest.category(PAIR)
        primary = rest.tag(role_category, "primary")
        secondary = rest.tag(role_category, "secondary")
        lab.role_tags = {"primary": primary, "secondary": secondary}
        beta = rest.tag(pair_category, "beta")
        rest.tag(pair_category, "unused")
        rest.attach(primary, lab.vms["sa-beta-1"])
        rest.attach(secondary, lab.vms["sa-beta-2"])
        for name in ("sa-beta-1", "sa-beta-2"):
            rest.attach(beta, lab.vms[name])
    finally:
        rest.close()

    # DRS: alpha manual by override and kept apart; beta-2 fully automated; no rule for beta.
    spec = vim.cluster.ConfigSpecEx(
        rulesSpec=[
            vim.cluster.RuleSpec(
                operation="add",
                info=vim.cluster.AntiAffinityRuleSpec(
                    name="alpha-apart",
                    enabled=True,
                    mandatory=False,
                    vm=[by_name["sa-alpha-1"], by_name["sa-alpha-2"]],
                ),
            )
        ],
        drsVmConfigSpec=[
            vim.cluster.DrsVmConfigSpec(
                operation="add",
                info=vim.cluster.DrsVmConfigInfo(
                    key=by_name[name],
                    enabled=True,
                    behavior=behavior,
                ),
            )
            for name, behavior in (
                ("sa-alpha-1", "manual"),
                ("sa-alpha-2", "manual"),
                ("sa-beta-2", "fullyAutomated"),
            )
        ],
    )
    wait(cluster.ReconfigureComputeResource_Task(spec=spec, modify=True))

    wait(
        by_name["sa-beta-1"].CreateSnapshot_Task(
            name="before-upgrade", description="lab", memory=False, quiesce=False
        )
    )

    post_events(si, lab)
    return lab
