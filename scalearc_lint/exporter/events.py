"""Migration, revert-to-snapshot and HA-restart events, read page by page from an event
history collector.

The collector selects every event type the snapshot records (``EVENT_TYPES``: classes,
and EventEx by ``eventTypeId``) and is destroyed on every way out (vCenter keeps a limited
number per session): the last page read, a fault, a lost session (where the attempt fails
with the session, which took the collector with it), or another read of the export
failing. Events are also filtered by time here, because vcsim ignores the filter's time
range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.exporter.collect import Reading, moid, quietly
from scalearc_lint.snapshot.model import EVENT_TYPES, LIVE_BY_KIND, Event, EventLog

#: Events per ReadNextEvents call (the API's maximum).
EVENT_PAGE = 1000

#: The collector's latest page. vCenter's ReadNextEvents reads the whole filtered
#: history from the oldest event, whatever this size; vcsim's reads only the latest
#: page, which is its whole history (at most 1000 events) at this size.
LATEST_PAGE = 1000

#: What the collector is asked for: every recorded type id. vCenter matches an EventEx by
#: its ``eventTypeId``; vcsim matches class names only, so it needs "EventEx" as well
#: (vCenter has no event whose type id is "EventEx", so it selects nothing more there).
EVENT_TYPE_IDS = [*EVENT_TYPES, "EventEx"]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _type_name(value: Any) -> str:
    """pyVmomi turns a ``vmodl.TypeName`` into a type; get its WSDL name back."""
    return value if isinstance(value, str) else str(getattr(value, "_wsdlName", ""))


def _class_name(cls: type) -> str:
    return str(getattr(cls, "_wsdlName", "") or cls.__name__.split(".")[-1])


def _recorded_type(raw: Any) -> tuple[str, str] | None:
    """(the event's type id, the recorded type it counts as), or None when not of interest."""
    if isinstance(raw, vim.event.EventEx):
        type_id = str(raw.eventTypeId or "")
        return (type_id, type_id) if type_id in EVENT_TYPES else None
    own = _class_name(type(raw))
    for cls in type(raw).__mro__:
        # The most specific recorded class: DrsVmMigratedEvent is also a VmMigratedEvent.
        if _class_name(cls) in EVENT_TYPES:
            return own, _class_name(cls)
    return None


def _host(arg: Any) -> tuple[str | None, str]:
    """(moid, name) of a HostEventArgument."""
    if arg is None:
        return None, ""
    return moid(arg.host), str(arg.name or "")


def event_from_vim(raw: Any) -> Event | None:
    """The model's view of one pyVmomi event, or None when it is not of interest."""
    recorded = _recorded_type(raw)
    if recorded is None:
        return None
    type_id, counted_as = recorded
    kind = EVENT_TYPES[counted_as]
    vm_arg = raw.vm
    vm = moid(vm_arg.vm) if vm_arg is not None else None
    is_ex = isinstance(raw, vim.event.EventEx)
    if vm is None and is_ex and _type_name(raw.objectType) == "VirtualMachine":
        vm = raw.objectId or None
    source: tuple[str | None, str] = (None, "")
    dest: tuple[str | None, str] = (None, "")
    if kind in ("migrate", "relocate", "drs-migrate"):
        # The move is done: ``host`` is where the VM now runs.
        source, dest = _host(raw.sourceHost), _host(raw.host)
    elif kind in ("hot-migrate", "cold-migrate") and not is_ex:
        source, dest = _host(raw.host), _host(raw.destHost)
    elif type_id == "com.vmware.vc.vm.DstVmMigratedEvent" or kind == "ha-restart":
        dest = _host(raw.host)  # where it arrived, or where HA restarted it
    elif kind in ("hot-migrate", "cross-vcenter-migrate"):
        # An EventEx names only the host it was on; the other side is in its message.
        source = _host(raw.host)
    return Event(
        key=int(raw.key),
        type=type_id,
        kind=kind,
        created=_aware(raw.createdTime),
        chain_id=int(raw.chainId) if raw.chainId is not None else None,
        vm=vm,
        vm_name=(vm_arg.name or "")
        if vm_arg is not None
        else str(getattr(raw, "objectName", "") or ""),
        live=LIVE_BY_KIND.get(kind),
        source_host=source[0],
        dest_host=dest[0],
        source_host_name=source[1],
        dest_host_name=dest[1],
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
        event_types=list(EVENT_TYPES),
        items=[items[key] for key in sorted(items)],
    )
