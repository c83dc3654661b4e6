"""Export a vCenter inventory into a snapshot: bulk SOAP reads, REST tags, events.

``export_vcenter`` reads one vCenter into memory; nothing is written until the
whole snapshot is there (then atomically, see ``scalearc_lint.io.outputs``), so a
failed or interrupted export never touches an existing file.
The exporter only reads: the SOAP methods it calls are listed in
``READ_ONLY_METHODS`` (sessions, views, collectors and reads).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

import msgspec

from scalearc_lint.exporter import mapping as m
from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.exporter.collect import (
    Cancelled,
    Read,
    Reading,
    moid,
    read_concurrently,
    retrieve_all,
    retrieve_one,
)
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
        "CreatePropertyCollector",
        "DestroyPropertyCollector",
        "RetrievePropertiesEx",
        "ContinueRetrievePropertiesEx",
        "CancelRetrievePropertiesEx",
        "CreateCollectorForEvents",
        "SetCollectorPageSize",
        "ReadNextEvents",
        "DestroyCollector",
    }
)


class Progress(Protocol):
    """Told how many objects of each kind have been read from each vCenter."""

    def collected(self, vcenter: str, kind: str, count: int) -> None:
        """``count`` more objects of ``kind`` were read from ``vcenter``."""

    def restarted(self, vcenter: str, kind: str) -> None:
        """The session was lost and the read of ``kind`` from ``vcenter`` starts over."""


class _NoProgress:
    def collected(self, vcenter: str, kind: str, count: int) -> None:
        pass

    def restarted(self, vcenter: str, kind: str) -> None:
        pass


@dataclass
class ExportStats:
    """What an export took: logins (more than one after a lost session), reads restarted.

    ``logins`` is set as soon as the export has logged in: another thread can tell an
    export that holds a session (and will log out when cancelled) from one still connecting.
    """

    logins: int = 0
    restarts: int = 0


@dataclass(frozen=True)
class TypeRead:
    """One retrieval of the export: every object of a type, with these property paths."""

    kind: str  # what progress calls them
    vim_type: Any
    paths: tuple[str, ...]
    subtype_paths: Mapping[Any, tuple[str, ...]] = field(default_factory=dict)


#: The inventory types an export reads, each in one retrieval (all at once).
#: Virtual machines come first: by far the largest, they should start at once.
TYPE_READS = (
    TypeRead("vms", vim.VirtualMachine, m.VM_PATHS),
    TypeRead("hosts", vim.HostSystem, m.HOST_PATHS),
    TypeRead(
        "clusters",
        vim.ComputeResource,
        m.COMPUTE_PATHS,
        subtype_paths={vim.ClusterComputeResource: m.CLUSTER_PATHS},
    ),
    TypeRead("resource pools", vim.ResourcePool, m.POOL_PATHS),
    TypeRead("portgroups", vim.dvs.DistributedVirtualPortgroup, m.DVPG_PATHS),
    TypeRead("switches", vim.DistributedVirtualSwitch, m.DVS_PATHS),
    TypeRead("folders", vim.Folder, m.FOLDER_PATHS),
    TypeRead("datacenters", vim.Datacenter, m.DATACENTER_PATHS),
)


@dataclass
class _TagResult:
    tags: dict[str, list[Tag]] = field(default_factory=dict)
    problem: str = ""


def _read_tags(session: Session) -> _TagResult:
    """Tags come from a different service (vAPI), on a connection of their own."""
    try:
        return _TagResult(tags=collect_vm_tags(session.connection, session.context))
    except TaggingUnavailable as exc:
        return _TagResult(problem=str(exc))


def export_vcenter(
    connection: Connection,
    *,
    events_days: int = 30,
    progress: Progress | None = None,
    stats: ExportStats | None = None,
    cancel: threading.Event | None = None,
) -> Snapshot:
    """Read one vCenter into a Snapshot, logging in again if the session is lost.

    Setting ``cancel`` from another thread ends the export soon (Cancelled),
    logged out: the caller means to give up on it (Ctrl-C, a deadline).
    """
    progress = progress or _NoProgress()
    stats = stats if stats is not None else ExportStats()
    session = Session(connection)
    stats.logins = session.logins
    try:
        return _export(session, events_days, progress, stats, cancel)
    finally:
        stats.logins = session.logins
        # Also on failure and Ctrl-C: whatever the session still holds on the
        # server (views, collectors, page sets) ends with it.
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


def _read_type(read: TypeRead, progress: Progress, label: str, reading: Reading) -> Any:
    return retrieve_all(
        reading,
        read.vim_type,
        read.paths,
        subtype_paths=read.subtype_paths,
        on_page=lambda n: progress.collected(label, read.kind, n),
    )


def _export(
    session: Session,
    events_days: int,
    progress: Progress,
    stats: ExportStats,
    cancel: threading.Event | None,
) -> Snapshot:
    content = session.content
    label = session.connection.server.label
    exported_at = datetime.now(UTC).replace(microsecond=0)
    log = m.UnreadableLog()

    def restarted(kind: str) -> None:
        stats.restarts += 1
        progress.restarted(label, kind)

    reads: list[tuple[str, Read]] = [
        (TYPE_READS[0].kind, partial(_read_type, TYPE_READS[0], progress, label)),
        ("tags", lambda _: _read_tags(session)),
        ("events", lambda reading: collect_events(reading, exported_at, events_days)),
        ("custom attributes", _custom_field_names),
        *((t.kind, partial(_read_type, t, progress, label)) for t in TYPE_READS[1:]),
    ]
    read = read_concurrently(session, reads, on_restart=restarted, cancel=cancel)
    folders, datacenters = read["folders"], read["datacenters"]
    computes, hosts, pools = read["clusters"], read["hosts"], read["resource pools"]
    dvswitches, portgroups, vms = read["switches"], read["portgroups"], read["vms"]
    events = read["events"]
    field_names, fields_problem = read["custom attributes"]
    if fields_problem:
        log.add("custom_attributes", None, "definitions", fields_problem)

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
    return _with_tags(m.without_dangling_references(snapshot), read["tags"])


def _custom_field_names(reading: Reading) -> tuple[dict[int, str], str]:
    """Custom attribute definitions (key to name), read once for all VMs, or why not."""
    manager = reading.session.content.customFieldsManager
    if manager is None:
        return {}, ""
    item = retrieve_one(reading, manager, ["field"])
    if item is None or "field" in item.missing:
        return {}, item.missing.get("field", "not readable") if item else "not readable"
    return {
        int(f.key): str(f.name)
        for f in item.props.get("field") or ()
        if f.managedObjectType in (None, "VirtualMachine")
    }, ""


__all__ = [
    "READ_ONLY_METHODS",
    "TYPE_READS",
    "Cancelled",
    "ExportStats",
    "Progress",
    "TypeRead",
    "export_vcenter",
    "moid",
]
