"""Tags through vAPI: ``/api`` first (vSphere 7.0 U2+), ``/rest`` where a server has only that.

The lab's tags are created through ``/rest``; the launcher serves ``/api`` from
the same store and can remove either flavour. Whichever the server has, the
export reads the same tags, in batch calls, and logs out of its vAPI session.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import SeededLab, export, new_sessions, without_export_time
from tests.e2e.lab import PAIR, ROLE
from tests.vcsim_support import LoggedCall, Vcsim


def _export_tags(sim: Vcsim, out: Path) -> tuple[bytes, list[LoggedCall]]:
    """Export; the snapshot without its export time, and the export's vAPI calls."""
    known = sim.calls_by_session()
    start = len(sim.call_log())
    run = export(sim, out)
    assert run.code == 0, run.stderr
    mine = {"", *new_sessions(sim, known)}  # a refused login has no session
    vapi = [
        c
        for c in sim.call_log()[start:]
        if c.call.startswith("HTTP ") and "/sdk/" not in c.call and c.session in mine
    ]
    return without_export_time(out.read_bytes()), vapi


def _tags(snapshot: Path, lab: SeededLab, name: str) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = json.loads(snapshot.read_text())["vms"][lab.lab.vms[name]].get(
        "tags", []
    )
    return tags


@pytest.fixture
def plain(seeded_lab: SeededLab, lab_sim: Vcsim, tmp_path: Path) -> bytes:
    """The lab exported from a server that has both flavours."""
    snapshot, vapi = _export_tags(lab_sim, tmp_path / "both.json")
    assert _tags(tmp_path / "both.json", seeded_lab, "sa-beta-1") == [
        {"category": PAIR, "name": "beta"},
        {"category": ROLE, "name": "primary"},
    ]
    # /api is tried first and is there: /rest is never used.
    assert vapi[0].call == "HTTP POST /api/session" and vapi[0].status == 201
    assert all("/api/" in c.call for c in vapi), vapi
    _assert_batch_reads_and_logout(vapi)
    return snapshot


def _assert_batch_reads_and_logout(vapi: list[LoggedCall]) -> None:
    """One session, reads only (list, batch association, tag and category), then logout."""
    session = vapi[-1].session
    assert session.startswith("vapi-")
    mine = [c for c in vapi if c.session == session]
    assert all(c.status in (200, 201, 204) for c in mine), mine
    assert mine[-1].call.startswith("HTTP DELETE ") and mine[-1].call.endswith("session")
    assert sum("list-attached-objects-on-tags" in c.call for c in mine) == 1
    reads = mine[1:-1]
    assert all(" GET " in f" {c.call} " or "action=list-" in c.call for c in reads), reads


def test_tags_come_from_api_when_the_server_has_both(plain: bytes) -> None:
    assert b'"tags":' in plain


def test_a_server_with_only_api_gives_the_same_tags(
    plain: bytes, lab_sim: Vcsim, tmp_path: Path
) -> None:
    lab_sim.serve_vapi("api")
    snapshot, vapi = _export_tags(lab_sim, tmp_path / "api.json")
    assert snapshot == plain
    assert all("/api/" in c.call for c in vapi), vapi
    _assert_batch_reads_and_logout(vapi)


def test_a_server_with_only_rest_gives_the_same_tags(
    plain: bytes, lab_sim: Vcsim, tmp_path: Path
) -> None:
    lab_sim.serve_vapi("rest")
    snapshot, vapi = _export_tags(lab_sim, tmp_path / "rest.json")
    assert snapshot == plain
    # /api is asked first, is not there (404), and /rest serves everything after.
    assert (vapi[0].call, vapi[0].status) == ("HTTP POST /api/session", 404)
    assert all("/rest/" in c.call for c in vapi[1:]), vapi
    _assert_batch_reads_and_logout(vapi)
