"""Bulk reads through the PropertyCollector, several at once: one view and retrieval per type.

Round trips grow with result pages, not with objects: every object of a type
comes back from ``RetrievePropertiesEx`` (then ``ContinueRetrievePropertiesEx``
while there is a token) with only the property paths asked for. Property paths
never go through arrays (vcsim 0.24.2 panics on them) and nothing is read by
plain pyVmomi attribute access, which would cost a round trip per property.

Independent reads (types, custom attribute definitions, events, tags) run
concurrently, so on a distant vCenter their round trips overlap: a few worker
threads share one session, each with its own PropertyCollector. When the
session is lost, every read it interrupted starts again from its beginning
after one new login (views, collectors and tokens die with their session);
when a read fails, the others stop at their next round trip. Either way no
page set is left open: an unfinished retrieval is cancelled. Within one
retrieval the next page is asked for while the one before is decoded
(``_PageReader``), so the server's time and the decoder's overlap.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from scalearc_lint.errors import InputError
from scalearc_lint.exporter._vmomi import vim, vmodl
from scalearc_lint.exporter.connection import NETWORK_ERRORS, Session, translate_faults
from scalearc_lint.exporter.decode import (
    NotUnderstood,
    Page,
    Retrieved,
    SessionLost,
    UnexpectedValue,
    Wanted,
    decode_page,
    fallback_page,
    leading_token,
    page_of_result,
)
from scalearc_lint.exporter.wire import UnreadableResponse, invoke_raw

log = logging.getLogger(__name__)

#: ``pyvmomi``: decode every result page with pyVmomi (to compare the two decoders).
DECODER_ENV = "SCALEARC_LINT_DECODER"

#: Objects per result page asked for; vCenter may return fewer.
PAGE_SIZE = 1000

#: Reads that run at once; pyVmomi's SOAP stub keeps five connections open.
READ_THREADS = 4

#: How often a lost session is re-established before the export gives up.
MAX_RESTARTS = 3

PropertyFilterSpec = vmodl.query.PropertyCollector.FilterSpec
ObjectSpec = vmodl.query.PropertyCollector.ObjectSpec
PropertySpec = vmodl.query.PropertyCollector.PropertySpec
TraversalSpec = vmodl.query.PropertyCollector.TraversalSpec
RetrieveOptions = vmodl.query.PropertyCollector.RetrieveOptions


class Cancelled(Exception):
    """The read, or the export, was told to stop: another read failed, or the user or the
    deadline ended the export."""


def moid(ref: Any) -> str | None:
    """The managed-object id of a reference (no round trip), or None; a decoded
    reference already is its id."""
    if ref is None or isinstance(ref, str):
        return ref
    return str(ref._moId)


def quietly(call: Callable[[], Any]) -> None:
    """Make a clean-up call, ignoring its failure (the object may have died with its session)."""
    try:
        call()
    except (vmodl.MethodFault, *NETWORK_ERRORS):
        pass


class ThreadCollector:
    """The PropertyCollector of one worker thread: made on first use after each login."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._collector: Any = None
        self._logins = 0

    def get(self) -> Any:
        """This thread's collector in the current session."""
        logins = self._session.logins
        if self._collector is None or self._logins != logins:
            # One created in a lost session died with it: nothing to destroy.
            self._collector = self._session.content.propertyCollector.CreatePropertyCollector()
            self._logins = logins
        return self._collector

    def destroy(self) -> None:
        """Destroy the collector, if there is one (the thread has no more reads)."""
        if self._collector is not None:
            quietly(self._collector.DestroyPropertyCollector)
            self._collector = None


@dataclass
class Reading:
    """One attempt at one read: the session, the thread's collector, the export's stop flag."""

    session: Session
    stop: threading.Event
    collector: ThreadCollector
    #: ``session.logins`` when the attempt began.
    logins: int

    def property_collector(self) -> Any:
        """The calling thread's own PropertyCollector (vCenter: one per thread)."""
        return self.collector.get()

    def check_stop(self) -> None:
        """Raise Cancelled when another read of the export has failed."""
        if self.stop.is_set():
            raise Cancelled

    @contextmanager
    def soap_calls(self) -> Iterator[None]:
        """Faults that mean "the session is gone" become SessionLost; others as translate_faults.

        After another thread logged in again, an object made in the lost
        session (collector, view, event collector) no longer exists.
        """
        try:
            with translate_faults(self.session.connection.server):
                yield
        except vim.fault.NotAuthenticated:
            raise SessionLost("NotAuthenticated") from None
        except vmodl.fault.ManagedObjectNotFound:
            if self.session.logins != self.logins:
                raise SessionLost("ManagedObjectNotFound after a new login") from None
            raise


class _Fetch:
    """One call made on a thread of its own: the next result page, asked for while the
    caller decodes the one before (on 2 cores the server writes one page while lxml reads
    the other). A daemon thread, as the reads' own: a cancelled export does not wait."""

    def __init__(self, call: Callable[[], tuple[bytes, Any]]) -> None:
        self._done = threading.Event()
        self._response: tuple[bytes, Any] | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(call,), name="page-ahead", daemon=True).start()

    def _run(self, call: Callable[[], tuple[bytes, Any]]) -> None:
        try:
            self._response = call()
        except BaseException as exc:  # handed to the reader, raised there
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> tuple[bytes, Any]:
        """The response (body, result type), once it is there; the call's error if it failed."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._response is not None
        return self._response


class _PageReader:
    """The pages of one retrieval, each decoded as it arrives, the next asked for early.

    A response is fetched as bytes (``wire.invoke_raw``) and decoded by the fast decoder,
    or by pyVmomi's where the fast one does not fully understand it (or
    ``SCALEARC_LINT_DECODER=pyvmomi`` says so). When a page's token leads it (as vSphere's
    WSDL orders a ``RetrieveResult``), the next page is asked for before this one is
    decoded; this page's bytes stay here, so whichever decoder reads it reads them all,
    and its token must be the one continued. ``close`` cancels the page set still open,
    if any: the server keeps none until the session ends.
    """

    def __init__(self, reading: Reading, collector: Any, wanted: Wanted) -> None:
        self._reading = reading
        self._collector = collector
        self._wanted = wanted
        self._pyvmomi = os.environ.get(DECODER_ENV) == "pyvmomi"
        #: A token the server returned that no continuation has used yet ("": none).
        self._open = ""
        #: The next page, asked for with ``_ahead_token``.
        self._ahead: _Fetch | None = None
        self._ahead_token = ""

    def first(self, spec: Any) -> Page | None:
        """The first page of a retrieval of ``spec``."""
        method = "RetrievePropertiesEx"
        args = {"specSet": [spec], "options": RetrieveOptions(maxObjects=PAGE_SIZE)}
        with self._readable(method):
            if self._pyvmomi:
                return self._pyvmomi_page(method, **args)
            return self._page(self._call(method, **args))

    def next(self, token: str) -> Page | None:
        """The page ``token`` (the previous page's) stands for."""
        method = "ContinueRetrievePropertiesEx"
        # Until its page is here, the token is open: a failed continuation may not have
        # used it up, and ``close`` cancels it.
        self._open = token
        with self._readable(method):
            if self._pyvmomi:
                return self._pyvmomi_page(method, token=token)
            if self._ahead is not None and self._ahead_token == token:
                ahead, self._ahead = self._ahead, None
                return self._page(ahead.result())
            return self._page(self._call(method, token=token))

    def close(self) -> None:
        """Cancel the page sets still open (a retrieval left early), quietly."""
        tokens = [self._open]
        if self._ahead is not None:
            # The next page was asked for: wait for it, and cancel what it leaves open.
            ahead, self._ahead = self._ahead, None
            try:
                body, result_type = ahead.result()
            except Exception:  # the continuation failed: its token may still be open
                tokens.append(self._ahead_token)
            else:
                tokens.append(leading_token(body) or self._any_token(body, result_type))
        self._open = ""
        for token in tokens:
            if token:
                quietly(partial(self._collector.CancelRetrievePropertiesEx, token=token))

    def _call(self, method: str, **args: Any) -> tuple[bytes, Any]:
        return invoke_raw(self._collector, method, **args)

    def _pyvmomi_page(self, method: str, **args: Any) -> Page | None:
        page = page_of_result(getattr(self._collector, method)(**args), self._wanted)
        self._open = page.token if page is not None else ""
        return page

    def _page(self, response: tuple[bytes, Any]) -> Page | None:
        body, result_type = response
        self._open = ""
        ahead = leading_token(body)
        if ahead and not self._reading.stop.is_set():
            self._ahead_token = ahead
            self._ahead = _Fetch(partial(self._call, "ContinueRetrievePropertiesEx", token=ahead))
        else:
            ahead = ""
        page = self._decoded(body, result_type)
        token = page.token if page is not None else ""
        if ahead and token != ahead:
            self._open = token  # never continued: cancelled with the one asked for
            raise UnreadableResponse(f"its token is {token!r}, its head said {ahead!r}")
        if not ahead:
            self._open = token
        return page

    def _decoded(self, body: bytes, result_type: Any) -> Page | None:
        stub = self._collector._stub
        try:
            return decode_page(body, self._wanted, stub.version)
        except NotUnderstood as exc:
            log.debug("%s: pyVmomi decodes this response: %s", stub.host, exc)
        return fallback_page(body, result_type, stub, self._wanted)

    def _any_token(self, body: bytes, result_type: Any) -> str:
        """The token of a page fetched and never decoded, wherever it is (for cancelling)."""
        try:
            page = self._decoded(body, result_type)
        except Exception:  # cleaning up after a failure: that one is what the user sees
            return ""
        return page.token if page is not None else ""

    @contextmanager
    def _readable(self, method: str) -> Iterator[None]:
        """A response that cannot be read, or holds a value nothing can hold: one line."""
        label = self._reading.session.connection.server.label
        try:
            yield
        except UnreadableResponse as exc:
            raise InputError(f"{label}: unreadable {method} response ({exc})") from None
        except UnexpectedValue as exc:
            raise InputError(f"{label}: unexpected value in a {method} response ({exc})") from None


def _run_retrieval(
    reading: Reading,
    collector: Any,
    spec: Any,
    wanted: Wanted,
    on_page: Callable[[int], None] | None,
) -> list[Retrieved]:
    """Every page of one retrieval, decoded: the one place result pages are read.

    ``RetrievePropertiesEx``, then ``ContinueRetrievePropertiesEx`` while the
    server returns a token (each token is used once). Left early for any
    reason, the loop cancels the page set it holds, so the server does not
    keep it until the session ends.
    """
    items: list[Retrieved] = []
    pages = _PageReader(reading, collector, wanted)
    try:
        page = pages.first(spec)
        while page is not None:
            items.extend(page.items)
            if on_page is not None:
                on_page(len(page.items))
            if not page.token:
                break
            reading.check_stop()
            page = pages.next(page.token)
        return items
    finally:
        pages.close()


def retrieve_all(
    reading: Reading,
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
    content = reading.session.content
    wanted = Wanted(
        {vim_type: tuple(paths), **{t: tuple(p) for t, p in (subtype_paths or {}).items()}}
    )
    prop_set = [PropertySpec(type=t, pathSet=list(p), all=False) for t, p in wanted.paths.items()]
    with reading.soap_calls():
        collector = reading.property_collector()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim_type], True)
        try:
            spec = PropertyFilterSpec(
                objectSet=[
                    ObjectSpec(
                        obj=view,
                        skip=True,
                        selectSet=[
                            TraversalSpec(type=vim.view.ContainerView, path="view", skip=False)
                        ],
                    )
                ],
                propSet=prop_set,
            )
            return _run_retrieval(reading, collector, spec, wanted, on_page)
        finally:
            quietly(view.DestroyView)


def retrieve_one(
    reading: Reading, obj: Any, paths: Sequence[str], *, as_objects: bool = False
) -> Retrieved | None:
    """Read ``paths`` of one known object (e.g. the CustomFieldsManager).

    ``as_objects``: the values as pyVmomi's own objects, not the declared records, for a
    caller that changes what it read and sends it back to vCenter (``apply``).
    """
    spec = PropertyFilterSpec(
        objectSet=[ObjectSpec(obj=obj, skip=False)],
        propSet=[PropertySpec(type=type(obj), pathSet=list(paths), all=False)],
    )
    with reading.soap_calls():
        if as_objects:
            # One object: one page, never a token to continue or cancel.
            result = reading.property_collector().RetrievePropertiesEx(
                specSet=[spec], options=RetrieveOptions()
            )
            page = page_of_result(result, Wanted({}))
            items = page.items if page is not None else []
        else:
            wanted = Wanted({type(obj): tuple(paths)})
            items = _run_retrieval(reading, reading.property_collector(), spec, wanted, None)
    return items[0] if items else None


#: A read of an export: given a Reading, it returns what it read.
Read = Callable[[Reading], Any]


def read_concurrently(
    session: Session,
    reads: Sequence[tuple[str, Read]],
    *,
    on_restart: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run independent reads at once and return each one's result by name.

    Reads start in the order given (the longest first, so it is not left for
    last). A read interrupted by a lost session runs again after a new login
    (at most MAX_RESTARTS logins more), and ``on_restart`` is told its name.
    The first read to fail stops the others at their next round trip; its
    error is raised once all have stopped, so none leaves a page set open.
    When ``cancel`` is set (Ctrl-C, the export's deadline), Cancelled is raised
    at once, without waiting for reads in the middle of a call: the caller's
    logout ends them and everything they hold on the server.
    """
    stop = threading.Event()
    pending = list(reads)
    results: dict[str, Any] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def attempts(name: str, read: Read, collector: ThreadCollector) -> Any:
        while True:
            reading = Reading(session, stop, collector, session.logins)
            try:
                return read(reading)
            except SessionLost:
                if stop.is_set():
                    raise Cancelled from None
                if session.logins == reading.logins and session.logins > MAX_RESTARTS:
                    raise InputError(
                        f"{session.connection.server.label}: the session was lost "
                        f"{session.logins} times during the export; check the vCenter's "
                        "session timeout and load"
                    ) from None
                session.relogin(reading.logins)
                if on_restart is not None:
                    on_restart(name)

    def worker() -> None:
        collector = ThreadCollector(session)
        try:
            while True:
                with lock:
                    if not pending or stop.is_set():
                        return
                    name, read = pending.pop(0)
                try:
                    result = attempts(name, read, collector)
                except Exception as exc:
                    with lock:
                        failures.append(exc)
                    stop.set()
                else:
                    with lock:
                        results[name] = result
        finally:
            collector.destroy()

    # Daemon threads: Ctrl-C ends the export at once; the caller logs out, which
    # ends everything the session held on the server.
    threads = [
        threading.Thread(target=worker, name=f"read-{i}", daemon=True)
        for i in range(min(READ_THREADS, len(reads)))
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
                if cancel is not None and cancel.is_set():
                    raise Cancelled
    except BaseException:
        stop.set()
        raise
    errors = [exc for exc in failures if not isinstance(exc, Cancelled)]
    if errors:
        raise errors[0]
    return results
