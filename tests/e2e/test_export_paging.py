"""The exporter against a vCenter that pages, loses sessions between pages and is far away.

The launcher pages like a vCenter (``tests/e2e/test_vcsim_launcher.py`` pins
how). Whatever the page size, the session losses and the latency, an export
of the seeded lab must give the same snapshot, restart what a lost session
interrupted without duplicating or losing an object, and leave nothing open
on the server: no page set, view, collector or event collector.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.exporter import TYPE_READS, events
from scalearc_lint.exporter import collect as collect_module
from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.exporter.collect import (
    Cancelled,
    Reading,
    ThreadCollector,
    read_concurrently,
    retrieve_all,
)
from scalearc_lint.exporter.connection import Connection, Credentials, Server, Session, TlsSettings
from scalearc_lint.exporter.decode import NotUnderstood, decode_page, leading_token
from scalearc_lint.exporter.events import collect_events
from scalearc_lint.exporter.wire import UnreadableResponse
from tests.e2e.conftest import (
    OLD_SNAPSHOT,
    assert_untouched,
    but_collectors,
    export,
    new_sessions,
    one_error_line,
    without_export_time,
)
from tests.e2e.lab import connect
from tests.vcsim_support import Vcsim

DEFAULT_PAGE_SIZE = collect_module.PAGE_SIZE


def objects_per_retrieval(sim: Vcsim) -> list[int]:
    """How many objects each retrieval of an export returns: one per type, then the
    custom attribute definitions (one object, the CustomFieldsManager)."""
    si = connect(sim)
    try:
        content = si.RetrieveContent()
        counts = []
        for read in TYPE_READS:
            view = content.viewManager.CreateContainerView(
                content.rootFolder, [read.vim_type], True
            )
            counts.append(len(view.view))
            view.DestroyView()
        return [*counts, 1]
    finally:
        si.content.sessionManager.Logout()


def continuations(counts: list[int], page: int) -> int:
    """ContinueRetrievePropertiesEx calls needed to read ``counts`` objects in pages of ``page``."""
    return sum(max(math.ceil(n / page) - 1, 0) for n in counts)


def export_lab(
    sim: Vcsim, out: Path, monkeypatch: pytest.MonkeyPatch, page_size: int = DEFAULT_PAGE_SIZE
) -> tuple[bytes, Counter[str]]:
    """Export at a page size: the snapshot without its export time, and the calls made."""
    monkeypatch.setattr(collect_module, "PAGE_SIZE", page_size)
    before = len(sim.calls())
    run = export(sim, out)
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    return without_export_time(out.read_bytes()), Counter(sim.calls()[before:])


#: What an export makes on the server and what ends it.
MADE_AND_DESTROYED = (
    ("CreateContainerView", "DestroyView"),
    ("CreatePropertyCollector", "DestroyPropertyCollector"),
    ("CreateCollectorForEvents", "DestroyCollector"),
)


def assert_nothing_left_open(sim: Vcsim, known: Iterable[str]) -> None:
    """The export's sessions (those new since ``known``) left nothing open on the server.

    In a session the export logged out of, it destroyed every view, collector
    and event collector it made, and no page set is open anywhere. A session
    that ended under it (expired) took all it held with it.
    """
    new = set(new_sessions(sim, known))
    answered = [c for c in sim.call_log() if c.session in new and c.status == 200]
    logged_out = {c.session for c in answered if c.call == "SOAP Logout"}
    assert logged_out, "the export did not log out"
    for session in logged_out:
        made = Counter(c.call.removeprefix("SOAP ") for c in answered if c.session == session)
        for create, destroy in MADE_AND_DESTROYED:
            assert made[destroy] == made[create], (session, made)
    assert sim.retrievals().open == []


def test_every_page_size_gives_the_same_snapshot(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = objects_per_retrieval(lab_sim)
    assert max(counts) == 8  # the lab's VMs: pages of 1 and 7 split them
    known = lab_sim.calls_by_session()
    snapshots, calls = {}, {}
    for size in (1, 7, 100, DEFAULT_PAGE_SIZE):
        snapshots[size], calls[size] = export_lab(
            lab_sim, tmp_path / f"page-{size}.json", monkeypatch, size
        )
    assert len(set(snapshots.values())) == 1
    retrievals = {size: c["SOAP RetrievePropertiesEx"] for size, c in calls.items()}
    assert set(retrievals.values()) == {len(TYPE_READS) + 1}
    pages = {size: c["SOAP ContinueRetrievePropertiesEx"] for size, c in calls.items()}
    assert pages == {size: continuations(counts, size) for size in calls}
    assert pages[1] > pages[7] > pages[100] == pages[DEFAULT_PAGE_SIZE] == 0
    assert all(c["SOAP CancelRetrievePropertiesEx"] == 0 for c in calls.values())
    assert_nothing_left_open(lab_sim, known)


def test_a_server_returning_fewer_objects_than_asked_gives_the_same_snapshot(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = objects_per_retrieval(lab_sim)
    plain, _ = export_lab(lab_sim, tmp_path / "plain.json", monkeypatch)
    lab_sim.limit_page(3)
    limited, calls = export_lab(lab_sim, tmp_path / "limited.json", monkeypatch)
    assert limited == plain
    assert calls["SOAP ContinueRetrievePropertiesEx"] == continuations(counts, 3) > 0


def test_a_session_lost_between_two_pages_ends_in_the_same_snapshot(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean, _ = export_lab(lab_sim, tmp_path / "clean.json", monkeypatch, 1)
    known = lab_sim.calls_by_session()
    abandoned = lab_sim.retrievals().abandoned
    lab_sim.expire_session("ContinueRetrievePropertiesEx", after=5)

    snapshot, calls = export_lab(lab_sim, tmp_path / "lost.json", monkeypatch, 1)

    assert snapshot == clean  # no object lost, none duplicated, nothing else changed
    soap = {k: v for k, v in new_sessions(lab_sim, known).items() if k.startswith("soap-")}
    assert len(soap) == 2, soap  # the lost session and the one logged in again
    first, second = sorted(soap, key=lambda k: int(k.split("-")[1]))
    assert soap[first][0] == soap[second][0] == "SOAP Login"
    assert "SOAP Logout" not in soap[first]
    assert soap[first][-1] != "SOAP Logout" and soap[second][-1] == "SOAP Logout"
    # The interrupted page set died with its session; the new session left nothing open.
    assert_nothing_left_open(lab_sim, known)
    assert lab_sim.retrievals().abandoned > abandoned
    assert calls["SOAP ContinueRetrievePropertiesEx"] > continuations(
        objects_per_retrieval(lab_sim), 1
    )


def _session(sim: Vcsim) -> Session:
    return Session(
        Connection(
            Server(sim.host, sim.port),
            Credentials(sim.user, sim.password),
            TlsSettings(ca_files=(sim.ca_file,)),
        )
    )


def test_a_restarted_retrieval_returns_each_object_once(
    lab_sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect_module, "PAGE_SIZE", 2)
    session = _session(lab_sim)
    restarted: list[str] = []
    try:
        clean = read_concurrently(
            session, [("vms", lambda r: retrieve_all(r, vim.VirtualMachine, ["name"]))]
        )["vms"]
        lab_sim.expire_session("ContinueRetrievePropertiesEx", after=2)
        again = read_concurrently(
            session,
            [("vms", lambda r: retrieve_all(r, vim.VirtualMachine, ["name"]))],
            on_restart=restarted.append,
        )["vms"]
        assert session.logins == 2
    finally:
        session.logout()
    assert restarted == ["vms"]
    moids = [item.moid for item in again]
    assert len(moids) == len(set(moids)) == 8
    assert [(i.moid, i.props) for i in again] == [(i.moid, i.props) for i in clean]


def test_a_session_lost_too_often_is_one_line(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect_module, "PAGE_SIZE", 1)
    out = tmp_path / "snap.json"
    out.write_bytes(OLD_SNAPSHOT)
    # Each session ends at its first continuation: the read it interrupts has more than
    # one object, so once restarted it needs another continuation, in the next session.
    for _ in range(collect_module.MAX_RESTARTS + 1):
        lab_sim.expire_session("ContinueRetrievePropertiesEx")
    run = export(lab_sim, out)
    assert run.code == 2, run.stderr
    line = one_error_line(run.stderr)
    assert f"the session was lost {collect_module.MAX_RESTARTS + 1} times" in line
    assert_untouched(out)


def failed_export(sim: Vcsim, tmp_path: Path) -> tuple[str, Counter[str]]:
    """An export that must fail: its one error line and the calls it made, once it is
    checked that it left the old snapshot untouched and nothing open on the server, every
    page set cancelled before the logout (none left for the session's end to drop)."""
    out = tmp_path / "snap.json"
    out.write_bytes(OLD_SNAPSHOT)
    known = sim.calls_by_session()
    abandoned = sim.retrievals().abandoned
    before = len(sim.calls())

    run = export(sim, out)

    assert run.code == 2
    line = one_error_line(run.stderr)
    assert_untouched(out)
    assert_nothing_left_open(sim, known)
    assert sim.retrievals().abandoned == abandoned
    (session,) = [k for k in new_sessions(sim, known) if k.startswith("soap-")]
    assert sim.calls_by_session()[session][-1] == "SOAP Logout"
    return line, Counter(sim.calls()[before:])


def test_a_failing_export_cancels_its_open_retrievals(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect_module, "PAGE_SIZE", 1)
    lab_sim.deny("ContinueRetrievePropertiesEx", "System.Read", after=3)
    line, calls = failed_export(lab_sim, tmp_path)
    assert "permission denied: privilege System.Read" in line
    assert calls["SOAP CancelRetrievePropertiesEx"] >= 1


def test_a_read_told_to_stop_cancels_its_page_set(
    lab_sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect_module, "PAGE_SIZE", 2)
    session = _session(lab_sim)
    stopped = threading.Event()
    stopped.set()  # as when another read of the export has failed
    collector = ThreadCollector(session)
    before = len(lab_sim.calls())
    try:
        with pytest.raises(Cancelled):
            retrieve_all(
                Reading(session, stopped, collector, session.logins),
                vim.VirtualMachine,
                ["name"],
            )
        assert lab_sim.retrievals().open == []
    finally:
        collector.destroy()
        session.logout()
    assert [c.removeprefix("SOAP ") for c in lab_sim.calls()[before:]] == [
        "CreatePropertyCollector",
        "CreateContainerView",
        "RetrievePropertiesEx",
        "CancelRetrievePropertiesEx",
        "DestroyView",
        "DestroyPropertyCollector",
        "Logout",
    ]


def test_latency_changes_neither_the_snapshot_nor_the_round_trips(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    near, near_calls = export_lab(lab_sim, tmp_path / "near.json", monkeypatch, 7)
    lab_sim.set_latency(20)
    far, far_calls = export_lab(lab_sim, tmp_path / "far.json", monkeypatch, 7)
    assert far == near
    assert but_collectors(far_calls) == but_collectors(near_calls)


# The next page is asked for while the one before is decoded (its token leads it).


def _failing_on_a_page_with_a_next(
    monkeypatch: pytest.MonkeyPatch, error: Exception, every: int = 0
) -> list[int]:
    """Make the fast decoder raise ``error`` on the first page with a token in its head (or,
    with ``every``, on every ``every``-th such page): a page whose next one is already on
    its way. Returns the count of pages it failed, as the export goes."""
    failed, lock = [0], threading.Lock()
    seen = [0]

    def flaky(body: bytes, *args: Any) -> Any:
        if leading_token(body):
            with lock:
                seen[0] += 1
                hit = seen[0] % every == 0 if every else seen[0] == 1
                failed[0] += hit
            if hit:
                raise error
        return decode_page(body, *args)

    monkeypatch.setattr(collect_module, "decode_page", flaky)
    return failed


def test_pages_handed_to_pyvmomi_while_the_next_is_on_its_way_give_the_same_snapshot(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean, clean_calls = export_lab(lab_sim, tmp_path / "clean.json", monkeypatch, 2)
    known = lab_sim.calls_by_session()
    failed = _failing_on_a_page_with_a_next(monkeypatch, NotUnderstood("as a test"), every=2)

    mixed, calls = export_lab(lab_sim, tmp_path / "mixed.json", monkeypatch, 2)

    assert failed[0] > 1
    assert mixed == clean
    assert calls == clean_calls  # each page asked for once, none cancelled
    assert_nothing_left_open(lab_sim, known)


def test_an_unreadable_page_cancels_the_next_one_already_asked_for(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect_module, "PAGE_SIZE", 2)
    failed = _failing_on_a_page_with_a_next(monkeypatch, UnreadableResponse("cut short"))
    line, calls = failed_export(lab_sim, tmp_path)
    assert failed[0] == 1
    assert "unreadable" in line
    # The page already asked for was cancelled, not left for the logout to end.
    assert calls["SOAP CancelRetrievePropertiesEx"] >= 1


def test_a_page_whose_token_is_not_the_one_its_head_gave_is_one_line(
    lab_sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect_module, "PAGE_SIZE", 2)
    monkeypatch.setattr(
        collect_module, "leading_token", lambda body: leading_token(body) and "not-the-token"
    )
    line, _ = failed_export(lab_sim, tmp_path)
    assert "its head said 'not-the-token'" in line


# Events: a simulator of their own, so the lab's snapshot stays as the tests above expect.

MIGRATIONS = 5


@pytest.fixture
def eventful(vcsim: Vcsim) -> Vcsim:
    """A small simulator with MIGRATIONS DRS migrations and one revert posted."""
    si = connect(vcsim)
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(
            content.rootFolder, [vim.VirtualMachine], True
        )
        vm = view.view[0]
        view.DestroyView()
        host = vim.event.HostEventArgument(host=vm.runtime.host, name="host")
        arg = vim.event.VmEventArgument(vm=vm, name="vm")
        now = datetime.now(UTC)
        for _ in range(MIGRATIONS):
            content.eventManager.PostEvent(
                eventToPost=vim.event.DrsVmMigratedEvent(
                    key=0,
                    chainId=0,
                    createdTime=now,
                    userName="",
                    vm=arg,
                    host=host,
                    sourceHost=host,
                )
            )
        content.eventManager.PostEvent(
            eventToPost=vim.event.EventEx(
                key=0,
                chainId=0,
                createdTime=now,
                userName="",
                vm=arg,
                eventTypeId="com.vmware.vc.vm.VmStateRevertedToSnapshot",
            )
        )
    finally:
        si.content.sessionManager.Logout()
    return vcsim


def test_events_are_read_across_several_pages(
    eventful: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = eventful.calls_by_session()
    whole, whole_calls = export_lab(eventful, tmp_path / "whole.json", monkeypatch)
    assert whole_calls["SOAP ReadNextEvents"] == 2  # one page, then an empty one
    monkeypatch.setattr(events, "EVENT_PAGE", 2)
    paged, calls = export_lab(eventful, tmp_path / "paged.json", monkeypatch)
    assert paged == whole
    assert b'"kind":"drs-migrate"' in paged and b'"kind":"revert"' in paged
    assert calls["SOAP ReadNextEvents"] == math.ceil((MIGRATIONS + 1) / 2) + 1
    assert calls["SOAP CreateCollectorForEvents"] == calls["SOAP DestroyCollector"] == 1
    assert_nothing_left_open(eventful, known)


def test_the_event_collector_is_destroyed_when_reading_fails(
    eventful: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "EVENT_PAGE", 2)
    eventful.deny("ReadNextEvents", "System.View", after=1)
    known = eventful.calls_by_session()
    before = len(eventful.calls())
    run = export(eventful, tmp_path / "snap.json")
    assert run.code == 2
    assert "permission denied: privilege System.View" in one_error_line(run.stderr)
    calls = Counter(eventful.calls()[before:])
    assert calls["SOAP ReadNextEvents"] == 2
    assert calls["SOAP CreateCollectorForEvents"] == calls["SOAP DestroyCollector"] == 1
    assert_nothing_left_open(eventful, known)


def test_the_event_collector_is_destroyed_when_the_session_is_lost(
    eventful: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "EVENT_PAGE", 2)
    whole, _ = export_lab(eventful, tmp_path / "whole.json", monkeypatch)
    eventful.expire_session("ReadNextEvents", after=1)
    known = eventful.calls_by_session()
    again, calls = export_lab(eventful, tmp_path / "again.json", monkeypatch)
    assert again == whole
    # The first collector died with its session (destroying it was tried, and failed); the
    # second was destroyed after the last page.
    assert calls["SOAP CreateCollectorForEvents"] == calls["SOAP DestroyCollector"] == 2
    assert_nothing_left_open(eventful, known)


def test_the_event_collector_is_destroyed_when_another_read_fails(
    eventful: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "EVENT_PAGE", 2)
    session = _session(eventful)
    stopped = threading.Event()
    stopped.set()
    reading = Reading(session, stopped, ThreadCollector(session), session.logins)
    before = len(eventful.calls())
    try:
        with pytest.raises(Cancelled):
            collect_events(reading, datetime.now(UTC), 30)
    finally:
        session.logout()
    assert [c.removeprefix("SOAP ") for c in eventful.calls()[before:]] == [
        "CreateCollectorForEvents",
        "SetCollectorPageSize",
        "ReadNextEvents",
        "DestroyCollector",
        "Logout",
    ]
