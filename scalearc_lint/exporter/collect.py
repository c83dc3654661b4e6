"""Bulk reads through the PropertyCollector: one ContainerView and one retrieval per type.

Round trips grow with result pages, not with objects: every object of a type
comes back from ``RetrievePropertiesEx`` (then ``ContinueRetrievePropertiesEx``
while there is a token) with only the property paths asked for. Property paths
never go through arrays (vcsim 0.24.2 panics on them) and nothing is read by
plain pyVmomi attribute access, which would cost a round trip per property.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scalearc_lint.exporter._vmomi import vim, vmodl
from scalearc_lint.exporter.connection import NETWORK_ERRORS, Session, translate_faults

#: Objects per result page; vCenter may return fewer, vcsim ignores it (one page).
PAGE_SIZE = 1000

PropertyFilterSpec = vmodl.query.PropertyCollector.FilterSpec
ObjectSpec = vmodl.query.PropertyCollector.ObjectSpec
PropertySpec = vmodl.query.PropertyCollector.PropertySpec
TraversalSpec = vmodl.query.PropertyCollector.TraversalSpec
RetrieveOptions = vmodl.query.PropertyCollector.RetrieveOptions


class SessionLost(Exception):
    """The session ended while exporting: log in again and restart the retrieval."""


@dataclass
class Retrieved:
    """One object's requested properties; ``missing`` maps unreadable paths to their fault."""

    moid: str
    type: str
    props: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def moid(ref: Any) -> str | None:
    """The managed-object id of a reference (no round trip), or None."""
    return None if ref is None else str(ref._moId)


def _fault_text(fault: Any) -> str:
    """``NoPermission (System.Read)``: the fault's type and, if it names one, the privilege."""
    if fault is None:
        return "unknown fault"
    name = type(fault).__name__.split(".")[-1]
    privilege = (
        getattr(fault, "privilegeId", None) if isinstance(fault, vim.fault.NoPermission) else None
    )
    return f"{name} ({privilege})" if privilege else name


def _contents(objects: Iterable[Any]) -> Iterable[Retrieved]:
    for content in objects:
        item = Retrieved(moid=content.obj._moId, type=type(content.obj).__name__.split(".")[-1])
        for prop in content.propSet or ():
            item.props[prop.name] = prop.val
        for missing in content.missingSet or ():
            # pyVmomi unwraps the LocalizedMethodFault: this is the MethodFault itself.
            fault = missing.fault
            if isinstance(fault, vim.fault.NotAuthenticated):
                raise SessionLost(missing.path)
            item.missing[missing.path] = _fault_text(fault)
        yield item


def _run_retrieval(
    session: Session, spec: Any, on_page: Callable[[int], None] | None
) -> list[Retrieved]:
    pc = session.content.propertyCollector
    server = session.connection.server
    items: list[Retrieved] = []
    with translate_faults(server):
        result = pc.RetrievePropertiesEx(
            specSet=[spec], options=RetrieveOptions(maxObjects=PAGE_SIZE)
        )
        while result is not None:
            page = list(_contents(result.objects or ()))
            items.extend(page)
            if on_page is not None:
                on_page(len(page))
            if not result.token:
                break
            result = pc.ContinueRetrievePropertiesEx(token=result.token)
    return items


def retrieve_all(
    session: Session,
    vim_type: type,
    paths: Sequence[str],
    *,
    subtype_paths: Mapping[type, Sequence[str]] | None = None,
    on_page: Callable[[int], None] | None = None,
) -> list[Retrieved]:
    """Read ``paths`` of every object of ``vim_type`` in the inventory.

    ``subtype_paths`` adds paths that only a subtype has (a cluster's
    ``configurationEx`` on a ``ComputeResource`` view), in the same call.
    """
    content = session.content
    try:
        with translate_faults(session.connection.server):
            view = content.viewManager.CreateContainerView(content.rootFolder, [vim_type], True)
    except vim.fault.NotAuthenticated:
        raise SessionLost("CreateContainerView") from None
    prop_set = [PropertySpec(type=vim_type, pathSet=list(paths), all=False)]
    for subtype, extra in (subtype_paths or {}).items():
        prop_set.append(PropertySpec(type=subtype, pathSet=list(extra), all=False))
    spec = PropertyFilterSpec(
        objectSet=[
            ObjectSpec(
                obj=view,
                skip=True,
                selectSet=[TraversalSpec(type=vim.view.ContainerView, path="view", skip=False)],
            )
        ],
        propSet=prop_set,
    )
    try:
        return _run_retrieval(session, spec, on_page)
    except vim.fault.NotAuthenticated:
        raise SessionLost(vim_type.__name__) from None
    except vmodl.fault.ManagedObjectNotFound as fault:
        if moid(fault.obj) == moid(view):
            raise SessionLost("view gone") from None  # views die with their session
        raise
    finally:
        try:
            view.DestroyView()
        except (vmodl.MethodFault, *NETWORK_ERRORS):
            pass  # the view dies with the session anyway


def retrieve_one(session: Session, obj: Any, paths: Sequence[str]) -> Retrieved | None:
    """Read ``paths`` of one known object (e.g. the CustomFieldsManager)."""
    spec = PropertyFilterSpec(
        objectSet=[ObjectSpec(obj=obj, skip=False)],
        propSet=[PropertySpec(type=type(obj), pathSet=list(paths), all=False)],
    )
    try:
        items = _run_retrieval(session, spec, None)
    except vim.fault.NotAuthenticated:
        raise SessionLost(type(obj).__name__) from None
    return items[0] if items else None
