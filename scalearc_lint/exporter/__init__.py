"""Export a vCenter inventory into a snapshot: bulk SOAP reads, REST tags, events.

``export_vcenter`` reads one vCenter into memory; nothing is written until the
whole snapshot is there (then atomically, see ``scalearc_lint.io.outputs``), so a
failed or interrupted export never touches an existing file.
The exporter only reads: the SOAP methods it calls are listed in
``READ_ONLY_METHODS`` (sessions, views, collectors and reads).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from scalearc_lint.errors import InputError
from scalearc_lint.exporter import mapping as m
from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.exporter.collect import Retrieved, SessionLost, moid, retrieve_all, retrieve_one
from scalearc_lint.exporter.connection import Connection, Session
from scalearc_lint.exporter.events import collect_events
from scalearc_lint.exporter.tags import TaggingUnavailable, collect_vm_tags
from scalearc_lint.snapshot.model import (
    SCHEMA_VERSION,
    Snapshot,
    Source,
    Tag,
    Unreadable,
    VirtualMachine,
)

#: Every SOAP method the exporter may call; none of them changes the inventory.
READ_ONLY_METHODS = frozenset(
    {
        "RetrieveServiceContent",
        "Login",
        "Logout",
        "CreateContainerView",
        "DestroyView",
        "RetrievePropertiesEx",
        "ContinueRetrievePropertiesEx",
        "CancelRetrievePropertiesEx",
        "CreateCollectorForEvents",
        "SetCollectorPageSize",
        "ReadNextEvents",
        "DestroyCollector",
    }
)

#: How often a lost session is re-established before giving up.
MAX_RESTARTS = 3


class Progress(Protocol):
    """Told how many objects of each kind have been read from each vCenter."""

    def collected(self, vcenter: str, kind: str, count: int) -> None:
        """``count`` more objects of ``kind`` were read from ``vcenter``."""

    def restarted(self, vcenter: str) -> None:
        """The session was lost and the export of ``vcenter`` starts over."""


class _NoProgress:
    def collected(self, vcenter: str, kind: str, count: int) -> None:
        pass

    def restarted(self, vcenter: str) -> None:
        pass


@dataclass
class ExportStats:
    """What an export took: logins (more than one after a lost session)."""

    logins: int = 0
    restarts: int = 0


@dataclass
class _TagResult:
    tags: dict[str, list[Tag]] = field(default_factory=dict)
    problem: str = ""


def _read_tags_in_background(session: Session) -> tuple[threading.Thread, _TagResult]:
    """Tags come from a different service (REST); read them while SOAP reads run."""
    result = _TagResult()

    def run() -> None:
        try:
            result.tags = collect_vm_tags(session.connection, session.context)
        except TaggingUnavailable as exc:
            result.problem = str(exc)

    thread = threading.Thread(target=run, name="tags", daemon=True)
    thread.start()
    return thread, result


def export_vcenter(
    connection: Connection,
    *,
    events_days: int = 30,
    progress: Progress | None = None,
    stats: ExportStats | None = None,
) -> Snapshot:
    """Read one vCenter into a Snapshot, logging in again if the session is lost."""
    progress = progress or _NoProgress()
    stats = stats if stats is not None else ExportStats()
    session = Session(connection)
    try:
        tags_thread, tags = _read_tags_in_background(session)
        for attempt in range(MAX_RESTARTS + 1):
            try:
                snapshot = _export(session, events_days, progress)
                break
            except SessionLost:
                if attempt == MAX_RESTARTS:
                    raise InputError(
                        f"{connection.server.label}: the session was lost {attempt + 1} times "
                        "during the export; check the vCenter's session timeout and load"
                    ) from None
                stats.restarts += 1
                progress.restarted(connection.server.label)
                session.login()
        tags_thread.join()
        return _with_tags(snapshot, tags)
    finally:
        stats.logins = session.logins
        session.logout()


def _with_tags(snapshot: Snapshot, tags: _TagResult) -> Snapshot:
    if tags.problem:
        unreadable = [*snapshot.unreadable, Unreadable(kind="tags", fault=tags.problem)]
        return msgspec.structs.replace(snapshot, unreadable=unreadable)
    vms = {
        key: msgspec.structs.replace(vm, tags=tags.tags[key]) if key in tags.tags else vm
        for key, vm in snapshot.vms.items()
    }
    return msgspec.structs.replace(snapshot, vms=vms)


def _export(session: Session, events_days: int, progress: Progress) -> Snapshot:
    content = session.content
    label = session.connection.server.label
    exported_at = datetime.now(UTC).replace(microsecond=0)
    log = m.UnreadableLog()

    def read(kind: str, vim_type: type, paths: tuple[str, ...], **kw: Any) -> list[Retrieved]:
        return retrieve_all(
            session,
            vim_type,
            paths,
            on_page=lambda n: progress.collected(label, kind, n),
            **kw,
        )

    folders = read("folders", vim.Folder, m.FOLDER_PATHS)
    datacenters = read("datacenters", vim.Datacenter, m.DATACENTER_PATHS)
    computes = read(
        "clusters",
        vim.ComputeResource,
        m.COMPUTE_PATHS,
        subtype_paths={vim.ClusterComputeResource: m.CLUSTER_PATHS},
    )
    hosts = read("hosts", vim.HostSystem, m.HOST_PATHS)
    pools = read("resource pools", vim.ResourcePool, m.POOL_PATHS)
    dvswitches = read("switches", vim.DistributedVirtualSwitch, m.DVS_PATHS)
    portgroups = read("portgroups", vim.dvs.DistributedVirtualPortgroup, m.DVPG_PATHS)
    field_names = _custom_field_names(session, log)
    vms = read("vms", vim.VirtualMachine, m.VM_PATHS)
    events = collect_events(session, exported_at, events_days)

    inventory = m.Inventory(folders, datacenters)
    for item in (*computes, *hosts, *dvswitches):
        inventory.add(item)
    cluster_items = [c for c in computes if c.type == "ClusterComputeResource"]
    cluster_ids = {c.moid for c in cluster_items}
    # A standalone host's compute resource is not in the model: its host stands for it.
    owner_of = {
        c.moid: hosts_of[0]
        for c in computes
        if c.moid not in cluster_ids and (hosts_of := m.refs(c.props.get("host")))
    }
    pool_ids = {p.moid for p in pools}

    for kind, items in (
        ("cluster", cluster_items),
        ("host", hosts),
        ("resource_pool", pools),
        ("dvswitch", dvswitches),
        ("dv_portgroup", portgroups),
        ("vm", vms),
    ):
        for item in items:
            log.note(kind, item)  # type: ignore[arg-type]

    snap_dcs = {d.moid: m.datacenter_from(d) for d in datacenters}
    snap_clusters = {c.moid: m.cluster_from(c, inventory) for c in cluster_items}
    snap_hosts = {h.moid: m.host_from(h, inventory, cluster_ids, log) for h in hosts}
    snap_pools = {p.moid: m.pool_from(p, pool_ids, owner_of) for p in pools}
    snap_dvs = {d.moid: m.dvswitch_from(d, inventory) for d in dvswitches}
    snap_dvpgs = {p.moid: m.dv_portgroup_from(p) for p in portgroups}
    dvpg_by_key = {pg.key or pg.moid: (pg.moid, pg.name) for pg in snap_dvpgs.values()}
    pool_owner = {p.moid: p.owner for p in snap_pools.values()}
    host_cluster = {h.moid: h.cluster for h in snap_hosts.values()}
    snap_vms: dict[str, VirtualMachine] = {}
    for item in vms:
        snap_vms[item.moid] = m.vm_from(
            item,
            inventory,
            pool_owner=pool_owner,
            clusters=cluster_ids,
            host_cluster=host_cluster,
            dvpg_by_key=dvpg_by_key,
            field_names=field_names,
            log=log,
        )

    about = content.about
    snapshot = Snapshot(
        schema_version=SCHEMA_VERSION,
        source=Source(
            vcenter=label,
            instance_uuid=str(about.instanceUuid or ""),
            api_version=str(about.apiVersion or ""),
            product=str(about.fullName or ""),
        ),
        exported_at=exported_at,
        datacenters=snap_dcs,
        clusters=snap_clusters,
        hosts=snap_hosts,
        resource_pools=snap_pools,
        vms=snap_vms,
        dvswitches=snap_dvs,
        dv_portgroups=snap_dvpgs,
        events=events,
        unreadable=log.entries,
    )
    return m.without_dangling_references(snapshot)


def _custom_field_names(session: Session, log: m.UnreadableLog) -> dict[int, str]:
    """Custom attribute definitions (key to name), read once for all VMs."""
    manager = session.content.customFieldsManager
    if manager is None:
        return {}
    item = retrieve_one(session, manager, ["field"])
    if item is None or "field" in item.missing:
        log.add(
            "custom_attributes",
            None,
            "definitions",
            item.missing.get("field", "not readable") if item else "not readable",
        )
        return {}
    return {
        int(f.key): str(f.name)
        for f in item.props.get("field") or ()
        if f.managedObjectType in (None, vim.VirtualMachine)
    }


__all__ = [
    "READ_ONLY_METHODS",
    "ExportStats",
    "Progress",
    "export_vcenter",
    "moid",
]
