"""Migrations read from vCenter events: one operation's events joined by chain, live or cold.

vCenter logs one migration as several events sharing a ``chainId``: a start event that
says how it moves (``VmBeingHotMigratedEvent`` or the EventEx
``com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent`` for a vMotion,
``VmBeingMigratedEvent`` / ``VmBeingRelocatedEvent`` for a powered-off VM) and an end event
(``VmMigratedEvent``, ``VmRelocatedEvent``, ``DrsVmMigratedEvent``) that does not. A
DRS-initiated move (``DrsVmMigratedEvent``) and a cross-vCenter move (EventEx
``com.vmware.vc.vm.DstVmMigratedEvent`` / ``SrcVmMigratedEvent``) are vMotions. A chain
with no event that tells stays undetermined (``live`` is ``None``), never assumed cold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scalearc_lint.snapshot.model import EVENT_TYPES, LIVE_BY_KIND, Event, EventKind, Host

MIGRATION_KINDS: frozenset[EventKind] = frozenset(
    {"migrate", "relocate", "hot-migrate", "cold-migrate", "drs-migrate", "cross-vcenter-migrate"}
)
#: The event types an export must have selected before "no live migration" can be said:
#: every migration type except the cold-start ones (missing those only leaves moves
#: undetermined, it cannot hide a vMotion).
LIVE_EVIDENCE_TYPES: tuple[str, ...] = tuple(
    type_id
    for type_id, kind in EVENT_TYPES.items()
    if kind in MIGRATION_KINDS and LIVE_BY_KIND.get(kind) is not False
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration of one VM: the events of one operation, resolved."""

    vm: str
    started: datetime
    events: tuple[Event, ...]
    #: ``True`` a vMotion, ``False`` a cold migration, ``None`` the events do not tell.
    live: bool | None
    #: Initiated by DRS (never the vendor's manual procedure).
    drs: bool
    cross_vcenter: bool
    source_host: str
    dest_host: str

    def describe(self) -> str:
        """``vMotion by DRS from esx03 to esx01 at 2026-11-21T02:00:00+00:00 (types)``."""
        what = {True: "vMotion", False: "cold migration", None: "migration"}[self.live]
        if self.drs:
            what += " by DRS"
        if self.cross_vcenter:
            what += " across vCenters"
        route = (f" from {self.source_host}" if self.source_host else "") + (
            f" to {self.dest_host}" if self.dest_host else ""
        )
        types = ", ".join(dict.fromkeys(e.type for e in self.events))
        return f"{what}{route} at {self.started.isoformat()} ({types})"


#: How many migrations a verdict lists (a count says how many there are in all).
LISTED_MIGRATIONS = 5


def listed(migrations: Sequence[Migration]) -> str:
    """The first few migrations, described, for a verdict's message."""
    return "; ".join(m.describe() for m in migrations[:LISTED_MIGRATIONS])


def migrations(vm: str, events: Iterable[Event], hosts: Mapping[str, Host]) -> list[Migration]:
    """The migrations of one VM, oldest first, from that VM's events."""
    chains: dict[tuple[int, int], list[Event]] = defaultdict(list)
    for event in events:
        if event.kind in MIGRATION_KINDS:
            # A schema-1 event has no chain id: it is its own operation.
            key = (0, event.chain_id) if event.chain_id is not None else (1, event.key)
            chains[key].append(event)
    result = [
        _resolve(vm, sorted(chain, key=lambda e: (e.created, e.key)), hosts)
        for chain in chains.values()
    ]
    result.sort(key=lambda m: (m.started, m.events[0].key))
    return result


def _resolve(vm: str, chain: list[Event], hosts: Mapping[str, Host]) -> Migration:
    said = [LIVE_BY_KIND.get(e.kind, e.live) for e in chain]
    live = True if True in said else False if False in said else None

    def host_name(name: str, moid: str | None) -> str:
        if name:
            return name
        host = hosts.get(moid) if moid is not None else None
        return host.name if host is not None else (moid or "")

    source = next((n for e in chain if (n := host_name(e.source_host_name, e.source_host))), "")
    dest = next((n for e in reversed(chain) if (n := host_name(e.dest_host_name, e.dest_host))), "")
    return Migration(
        vm=vm,
        started=chain[0].created,
        events=tuple(chain),
        live=live,
        drs=any(e.kind == "drs-migrate" for e in chain),
        cross_vcenter=any(e.kind == "cross-vcenter-migrate" for e in chain),
        source_host=source,
        dest_host=dest,
    )
