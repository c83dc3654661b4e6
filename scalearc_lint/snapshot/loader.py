"""Read a snapshot file into the typed model, turning every bad input into one clear line."""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from scalearc_lint.errors import InputError
from scalearc_lint.io.inputs import BackgroundDigest, read_input_file, without_bom
from scalearc_lint.io.jsonfile import decode_unique
from scalearc_lint.snapshot.inventory import snapshot_depth
from scalearc_lint.snapshot.model import (
    COLLECTIONS,
    READABLE_SCHEMA_VERSIONS,
    SCHEMA_1_EVENT_TYPES,
    Snapshot,
    SnapshotBundle,
    Unreadable,
    UnreadableKind,
)

_DECODER = msgspec.json.Decoder(Snapshot)
_BUNDLE_DECODER = msgspec.json.Decoder(SnapshotBundle)
#: What decoding a bundle as a single snapshot says: the cue to decode it as a bundle.
_BUNDLE_CUE = "Object contains unknown field `snapshots`"
#: Deepest VM snapshot tree accepted. vSphere supports chains of at most 32 snapshots; the
#: bound keeps every tree walk (some recursive, e.g. removing a snapshot in whatif) safe.
MAX_SNAPSHOT_DEPTH = 128
_TOO_DEEP = "nested too deeply to be a scalearc-lint snapshot"


class LoadedSnapshot(msgspec.Struct, frozen=True):
    """A decoded snapshot with the file it came from and that file's SHA-256."""

    path: str
    sha256: str
    snapshot: Snapshot


def load_snapshot(path: str | Path) -> LoadedSnapshot:
    """Read, decode and validate a file holding one snapshot, or raise InputError."""
    loaded = load_snapshots(path)
    if len(loaded) != 1:
        raise InputError(
            f"{path}: a bundle of {len(loaded)} vCenters' snapshots; one is needed here"
        )
    return loaded[0]


def load_snapshots(path: str | Path) -> list[LoadedSnapshot]:
    """Read a snapshot file, or a bundle of several vCenters' snapshots (``export --merge``)."""
    data = read_input_file(path, what="JSON snapshot")
    # The digest names the file as it is (hashed while it is decoded); a UTF-8 byte-order
    # mark is allowed and skipped.
    digest = BackgroundDigest(data)
    snapshots = decode_snapshots(without_bom(data, path), path)
    return [
        LoadedSnapshot(path=str(path), sha256=digest.hexdigest(), snapshot=snapshot)
        for snapshot in snapshots
    ]


def decode_snapshot(data: bytes, path: str | Path = "<snapshot>") -> Snapshot:
    """Decode snapshot JSON bytes into a validated Snapshot, or raise InputError."""
    try:
        snapshot = decode_unique(functools.partial(_decode, _DECODER), data, path)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise InputError(f"{path}: {_decoding_problem(data, exc)}") from None
    return _validated(snapshot, path, "$")


def decode_snapshots(data: bytes, path: str | Path = "<snapshot>") -> list[Snapshot]:
    """Decode one snapshot, or each snapshot of a bundle, validated; or raise InputError."""
    try:
        decoded = decode_unique(_snapshot_or_bundle, data, path)
    except _BundleError as exc:
        raise InputError(f"{path}: {_bundle_problem(data, exc)}") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise InputError(f"{path}: {_decoding_problem(data, exc)}") from None
    if isinstance(decoded, Snapshot):
        return [_validated(decoded, path, "$")]
    if decoded.schema_version not in READABLE_SCHEMA_VERSIONS:
        raise InputError(_version_message(path, decoded.schema_version))
    if not decoded.snapshots:
        raise InputError(f"{path}: $.snapshots: the bundle holds no snapshot")
    return [
        _validated(snapshot, path, f"$.snapshots[{i}]")
        for i, snapshot in enumerate(decoded.snapshots)
    ]


def _decode(decoder: msgspec.json.Decoder[Any], data: bytes) -> Any:
    with _collector_paused():
        return decoder.decode(data)


class _BundleError(Exception):
    """Data that is not one snapshot (msgspec met ``snapshots``) and not a valid bundle."""

    def __init__(self, as_one: msgspec.ValidationError, error: Exception) -> None:
        self.as_one = as_one
        self.error = error


def _snapshot_or_bundle(data: bytes) -> Snapshot | SnapshotBundle:
    """Decode one snapshot or, when decoding meets ``snapshots``, a bundle (msgspec's errors
    are raised; a bundle's as _BundleError)."""
    try:
        snapshot: Snapshot = _decode(_DECODER, data)
    except msgspec.ValidationError as exc:
        if not str(exc).endswith(_BUNDLE_CUE):
            raise
        as_one = exc
    else:
        return snapshot
    try:
        bundle: SnapshotBundle = _decode(_BUNDLE_DECODER, data)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise _BundleError(as_one, exc) from None
    return bundle


def _decoding_problem(data: bytes, exc: Exception) -> str:
    if isinstance(exc, msgspec.ValidationError):
        return _diagnose(data, exc)
    if isinstance(exc, msgspec.DecodeError):
        return f"not valid JSON ({_json_problem(exc)})"
    return _TOO_DEEP


def _bundle_problem(data: bytes, exc: _BundleError) -> str:
    # Judged as one snapshot first: a file without a readable schema_version is no bundle
    # either. Only then is the problem inside the bundle.
    as_one = _diagnose(data, exc.as_one)
    if not as_one.endswith(_BUNDLE_CUE):
        return as_one
    if isinstance(exc.error, msgspec.ValidationError):
        return _diagnose_bundle(data, exc.error)
    return _decoding_problem(data, exc.error)


def _validated(snapshot: Snapshot, path: str | Path, at: str) -> Snapshot:
    """Check the version and the references of a decoded snapshot found at JSON path ``at``."""
    if snapshot.schema_version not in READABLE_SCHEMA_VERSIONS:
        raise InputError(_version_message(path, snapshot.schema_version).replace("$.", f"{at}.", 1))
    # The VMs are most of a snapshot: one pass over them clears them of every check below,
    # which then walk them one by one (to name the first problem) only when it fails.
    vms_sound = _vms_sound(snapshot)
    problem = next(iter(dangling_references(snapshot, vms_sound=vms_sound)), None)
    if problem is None and not vms_sound:
        problem = _too_deep_tree(snapshot)
    if problem is not None:
        raise InputError(f"{path}: {at}{problem.removeprefix('$')}")
    return upgraded(snapshot)


#: What schema 3 added, as (kind, model field): an older snapshot never recorded it.
NOT_RECORDED_BEFORE_3: tuple[tuple[UnreadableKind, str], ...] = (
    ("cluster", "default_restart_priority"),
    ("vm", "consolidation_needed"),
)


def upgraded(snapshot: Snapshot) -> Snapshot:
    """The snapshot with what its schema version did not record stated as unknown.

    An older snapshot decodes into today's model as it is, except that a field it never had
    would read as its default and could pass a rule. Schema 1 (scalearc-lint 0.1): the DRS
    VM-overrides switch becomes unknown (``None``) rather than vSphere's default, and the
    event log lists the event types that release selected, so rules needing other types say
    ``unknown``. Schemas 1 and 2: a cluster's default HA restart priority and every VM's
    need for consolidation are recorded as unread (``unreadable``, as an export records what
    it could not read). The schema version stays as read.
    """
    if snapshot.schema_version >= 3:
        return snapshot
    replace = msgspec.structs.replace
    unread = [
        Unreadable(
            kind=kind,
            property=field,
            fault=f"not recorded in snapshot schema {snapshot.schema_version} "
            "(an older scalearc-lint); export again to read it",
        )
        for kind, field in NOT_RECORDED_BEFORE_3
    ]
    snapshot = replace(snapshot, unreadable=[*snapshot.unreadable, *unread])
    if snapshot.schema_version != 1:
        return snapshot
    clusters = {
        moid: replace(cluster, drs=replace(cluster.drs, enable_vm_behavior_overrides=None))
        for moid, cluster in snapshot.clusters.items()
    }
    events = replace(snapshot.events, event_types=list(SCHEMA_1_EVENT_TYPES))
    return replace(snapshot, clusters=clusters, events=events)


def _too_deep_tree(snapshot: Snapshot) -> str | None:
    for key, vm in snapshot.vms.items():
        if vm.snapshots and snapshot_depth(vm.snapshots) > MAX_SNAPSHOT_DEPTH:
            return (
                f"$.vms[{_quote(key)}].snapshots: the snapshot tree is more than "
                f"{MAX_SNAPSHOT_DEPTH} levels deep (vSphere supports chains of at most 32)"
            )
    return None


def _diagnose_bundle(data: bytes, exc: msgspec.ValidationError) -> str:
    """Name the JSON path of an error inside a bundle, by diagnosing the one bad snapshot."""
    message = str(exc)
    match = re.search(r"`\$\.snapshots\[(\d+)\]", message)
    if match is None:
        text, _, where = message.rpartition(" - at `")
        return f"{where.rstrip('`')}: {text}" if text else message
    index = int(match.group(1))
    try:
        inner = msgspec.json.encode(msgspec.json.decode(data)["snapshots"][index])
    except msgspec.DecodeError as decode_error:
        return f"not valid JSON ({_json_problem(decode_error)})"
    except RecursionError:
        return _TOO_DEEP
    try:
        _DECODER.decode(inner)
    except msgspec.ValidationError as inner_exc:
        detail = _diagnose(inner, inner_exc)
        return f"$.snapshots[{index}]{detail.removeprefix('$')}"
    return message


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector out of a decode (it would rescan the growing tree).

    Decoding allocates millions of container objects; every few hundred of them the
    collector would walk the ever larger set of survivors, which costs several times
    the decode itself. Decoded JSON holds no reference cycles, so nothing is lost:
    reference counting still frees all of it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _json_problem(exc: msgspec.DecodeError) -> str:
    text = str(exc)
    if "truncated" in text:
        return "the file is truncated"
    return text


def _version_message(path: str | Path, version: object) -> str:
    return (
        f"{path}: $.schema_version: unsupported snapshot schema version {version!r}; "
        f"this scalearc-lint reads versions {_readable()} (re-export the snapshot)"
    )


def _readable() -> str:
    *older, newest = READABLE_SCHEMA_VERSIONS
    return f"{', '.join(map(str, older))} and {newest}" if older else str(newest)


def _diagnose(data: bytes, exc: msgspec.ValidationError) -> str:
    """Name the exact JSON path of a validation error, down to the key of a collection entry."""
    message = str(exc)
    try:
        raw: Any = msgspec.json.decode(data)
    except msgspec.DecodeError as decode_error:
        # msgspec validates as it parses: a file cut short may first fail validation.
        return f"not valid JSON ({_json_problem(decode_error)})"
    except RecursionError:
        return _TOO_DEEP
    if not isinstance(raw, dict):
        return f"$: expected a JSON object (a scalearc-lint snapshot), got {_json_type(raw)}"
    if "schema_version" not in raw:
        return "$.schema_version: missing; this is not a scalearc-lint snapshot"
    if raw["schema_version"] not in READABLE_SCHEMA_VERSIONS:
        return _version_message("", raw["schema_version"]).removeprefix(": ")
    # msgspec writes `[...]` for a dict key; find the offending entry to name its key.
    match = re.search(r" - at `\$\.(\w+)\[\.\.\.\](.*)`$", message)
    if match and match.group(1) in COLLECTIONS and isinstance(raw.get(match.group(1)), dict):
        name = match.group(1)
        for key, value in raw[name].items():
            try:
                msgspec.convert(value, COLLECTIONS[name])
            except msgspec.ValidationError as inner:
                text, _, where = str(inner).rpartition(" - at `$")
                if not text:
                    text, where = str(inner), "`"
                return f"$.{name}[{_quote(key)}]{where.rstrip('`')}: {text}"
    text, _, where = message.rpartition(" - at `")
    return f"{where.rstrip('`')}: {text}" if text else message


def _quote(key: str) -> str:
    return msgspec.json.encode(key).decode()


def _json_type(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _vms_sound(snapshot: Snapshot) -> bool:
    """Whether every VM is under its own moid, references only objects of the snapshot and
    has a snapshot tree within bounds: the checks of :func:`dangling_references` and
    :func:`_too_deep_tree` on the VMs, in one pass (each pass over 150,000 VMs costs)."""
    dcs, hosts, clusters = snapshot.datacenters, snapshot.hosts, snapshot.clusters
    pools, dvpgs = snapshot.resource_pools, snapshot.dv_portgroups
    for key, vm in snapshot.vms.items():
        if (
            vm.moid != key
            or vm.datacenter not in dcs
            or (vm.host is not None and vm.host not in hosts)
            or (vm.cluster is not None and vm.cluster not in clusters)
            or (vm.resource_pool is not None and vm.resource_pool not in pools)
            or (vm.snapshots and snapshot_depth(vm.snapshots) > MAX_SNAPSHOT_DEPTH)
        ):
            return False
        for nic in vm.nics:
            portgroup = nic.backing.portgroup
            if portgroup is not None and portgroup not in dvpgs:
                return False
    return True


def dangling_references(snapshot: Snapshot, *, vms_sound: bool = False) -> Iterator[str]:
    """Yield a message for every key/moid mismatch and every reference to a missing object
    (``vms_sound``: the VMs are known to have neither, see :func:`_vms_sound`)."""
    for name in COLLECTIONS:
        if name == "vms" and vms_sound:
            continue
        for key, obj in getattr(snapshot, name).items():
            if obj.moid != key:
                yield f"$.{name}[{_quote(key)}].moid: {obj.moid!r} does not match its key"

    dcs, clusters, hosts = snapshot.datacenters, snapshot.clusters, snapshot.hosts
    pools, vms, dvpgs = snapshot.resource_pools, snapshot.vms, snapshot.dv_portgroups

    def dangling(collection: str, key: str, field: str, moid: str, what: str) -> str:
        return f"$.{collection}[{_quote(key)}].{field}: {moid!r} is not {what} in this snapshot"

    for key, cluster in clusters.items():
        if cluster.datacenter not in dcs:
            yield dangling("clusters", key, "datacenter", cluster.datacenter, "a datacenter")
        if cluster.root_pool is not None and cluster.root_pool not in pools:
            yield dangling("clusters", key, "root_pool", cluster.root_pool, "a resource pool")
        for i, member_host in enumerate(cluster.hosts):
            if member_host not in hosts:
                yield dangling("clusters", key, f"hosts[{i}]", member_host, "a host")
        for overrides, field in (
            (cluster.drs.vm_overrides, "drs"),
            (cluster.ha.vm_overrides, "ha"),
        ):
            for vm_moid in overrides:
                if vm_moid not in vms:
                    yield dangling("clusters", key, f"{field}.vm_overrides", vm_moid, "a VM")
        for i, rule in enumerate(cluster.rules):
            for j, vm_moid in enumerate(rule.vms):
                if vm_moid not in vms:
                    yield dangling("clusters", key, f"rules[{i}].vms[{j}]", vm_moid, "a VM")
        for i, group in enumerate(cluster.groups):
            members: Mapping[str, object] = vms if group.kind == "vm" else hosts
            for j, member in enumerate(group.members):
                if member not in members:
                    yield dangling(
                        "clusters", key, f"groups[{i}].members[{j}]", member, f"a {group.kind}"
                    )
    for key, host in hosts.items():
        if host.datacenter not in dcs:
            yield dangling("hosts", key, "datacenter", host.datacenter, "a datacenter")
        if host.cluster is not None and host.cluster not in clusters:
            yield dangling("hosts", key, "cluster", host.cluster, "a cluster")
    for key, pool in pools.items():
        if pool.parent is not None and pool.parent not in pools:
            yield dangling("resource_pools", key, "parent", pool.parent, "a resource pool")
        if pool.owner not in clusters and pool.owner not in hosts:
            yield dangling("resource_pools", key, "owner", pool.owner, "a cluster or host")
    for key, vm in () if vms_sound else vms.items():
        if vm.datacenter not in dcs:
            yield dangling("vms", key, "datacenter", vm.datacenter, "a datacenter")
        if vm.host is not None and vm.host not in hosts:
            yield dangling("vms", key, "host", vm.host, "a host")
        if vm.cluster is not None and vm.cluster not in clusters:
            yield dangling("vms", key, "cluster", vm.cluster, "a cluster")
        if vm.resource_pool is not None and vm.resource_pool not in pools:
            yield dangling("vms", key, "resource_pool", vm.resource_pool, "a resource pool")
        for i, nic in enumerate(vm.nics):
            portgroup = nic.backing.portgroup
            if portgroup is not None and portgroup not in dvpgs:
                yield dangling(
                    "vms", key, f"nics[{i}].backing.portgroup", portgroup, "a DV portgroup"
                )
    for key, dvpg in dvpgs.items():
        if dvpg.dvs not in snapshot.dvswitches:
            yield dangling("dv_portgroups", key, "dvs", dvpg.dvs, "a distributed switch")
    for key, dvs in snapshot.dvswitches.items():
        if dvs.datacenter is not None and dvs.datacenter not in dcs:
            yield dangling("dvswitches", key, "datacenter", dvs.datacenter, "a datacenter")
        for i, member_host in enumerate(dvs.hosts or ()):
            if member_host not in hosts:
                yield dangling("dvswitches", key, f"hosts[{i}]", member_host, "a host")


def encode_snapshot(snapshot: Snapshot) -> bytes:
    """Encode a snapshot as JSON (``schema_version`` first)."""
    return msgspec.json.encode(snapshot)
