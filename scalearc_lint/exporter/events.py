"""Migration and revert-to-snapshot events, read page by page from an event history collector.

The collector is destroyed on every way out (vCenter keeps a limited number
per session): the last page read, a fault, a lost session (where the attempt
fails with the session, which took the collector with it), or another read of
the export failing. Events are also filtered by time here, because vcsim
ignores the filter's time range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.exporter.collect import Reading, moid, quietly
from scalearc_lint.snapshot.model import Event, EventKind, EventLog

#: Events per ReadNextEvents call (the API's maximum).
EVENT_PAGE = 1000

#: The collector's latest page. vCenter's ReadNextEvents reads the whole filtered
#: history from the oldest event, whatever this size; vcsim's reads only the latest
#: page, which is its whole history (at most 1000 events) at this size.
LATEST_PAGE = 1000

REVERT_EVENT_ID = "com.vmware.vc.vm.VmStateRevertedToSnapshot"

#: Event classes (most specific first: DrsVmMigratedEvent is a VmMigratedEvent) and their kind.
_KINDS: tuple[tuple[Any, EventKind], ...] = (
    (vim.event.DrsVmMigratedEvent, "drs-migrate"),
    (vim.event.VmBeingHotMigratedEvent, "hot-migrate"),
    (vim.event.VmMigratedEvent, "migrate"),
    (vim.event.VmRelocatedEvent, "relocate"),
)

#: What the collector is asked for. "EventEx" is needed for vcsim, which matches
#: only class names; vCenter also matches the extended event type id.
EVENT_TYPE_IDS = [
    "VmMigratedEvent",
    "DrsVmMigratedEvent",
    "VmRelocatedEvent",
    "VmBeingHotMigratedEvent",
    REVERT_EVENT_ID,
    "EventEx",
]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _type_name(value: Any) -> str:
    """pyVmomi turns a ``vmodl.TypeName`` into a type; get its WSDL name back."""
    return value if isinstance(value, str) else str(getattr(value, "_wsdlName", ""))


def _host(arg: Any) -> str | None:
    return moid(arg.host) if arg is not None else None


def event_from_vim(raw: Any) -> Event | None:
    """The model's view of one pyVmomi event, or None when it is not of interest."""
    kind: EventKind | None = None
    type_name = type(raw).__name__.split(".")[-1]
    for cls, candidate in _KINDS:
        if isinstance(raw, cls):
            kind = candidate
            break
    if kind is None:
        if isinstance(raw, vim.event.EventEx) and raw.eventTypeId == REVERT_EVENT_ID:
            kind, type_name = "revert", REVERT_EVENT_ID
        else:
            return None

    vm_arg = raw.vm
    vm = moid(vm_arg.vm) if vm_arg is not None else None
    is_ex = isinstance(raw, vim.event.EventEx)
    if vm is None and is_ex and _type_name(raw.objectType) == "VirtualMachine":
        vm = raw.objectId or None
    live: bool | None = None
    source = dest = None
    if kind == "hot-migrate":
        live, source, dest = True, _host(raw.host), _host(raw.destHost)
    elif kind in ("migrate", "drs-migrate", "relocate"):
        source, dest = _host(raw.sourceHost), _host(raw.host)
        if kind == "drs-migrate":
            live = True  # DRS only ever migrates running VMs with vMotion
    return Event(
        key=int(raw.key),
        type=type_name,
        kind=kind,
        created=_aware(raw.createdTime),
        vm=vm,
        vm_name=(vm_arg.name or "") if vm_arg is not None else "",
        live=live,
        source_host=source,
        dest_host=dest,
        user=raw.userName or "",
        message=raw.fullFormattedMessage or "",
    )


def collect_events(reading: Reading, now: datetime, days: int) -> EventLog:
    """Read the events of the last ``days`` days, page by page; the collector is destroyed."""
    start = now - timedelta(days=days)
    manager = reading.session.content.eventManager
    event_filter = vim.event.EventFilterSpec(
        eventTypeId=EVENT_TYPE_IDS,
        time=vim.event.EventFilterSpec.ByTime(beginTime=start, endTime=now),
    )
    items: dict[int, Event] = {}
    with reading.soap_calls():
        collector = manager.CreateCollectorForEvents(filter=event_filter)
        try:
            collector.SetCollectorPageSize(maxCount=LATEST_PAGE)
            while page := collector.ReadNextEvents(maxCount=EVENT_PAGE):
                for raw in page:
                    event = event_from_vim(raw)
                    if event is not None and start <= event.created <= now + timedelta(minutes=5):
                        items[event.key] = event
                reading.check_stop()
        finally:
            quietly(collector.DestroyCollector)
    return EventLog(
        collected=True,
        window_start=start,
        window_end=now,
        items=[items[key] for key in sorted(items)],
    )
