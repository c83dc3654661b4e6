"""Missing privileges, denied the way a real vCenter denies them (vcsim enforces none).

The launcher's test API makes a SOAP method answer with a ``NoPermission`` fault,
or makes ``RetrievePropertiesEx`` report chosen properties in ``missingSet``.
A fault that stops the export is one line and exit 2; a property the user may
not read becomes an ``unreadable`` entry, and the rules that need it say
``unknown`` where they would have said ``pass`` or ``fail``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.exporter.collect import READ_THREADS
from tests.e2e.conftest import (
    OLD_SNAPSHOT,
    LabExport,
    assert_untouched,
    check_json,
    export,
    one_error_line,
)
from tests.vcsim_support import Vcsim

#: The SOAP calls an export makes before it reads the inventory: the fault is on one of them.
#: A user without any role gets System.View on the root folder (group-d1) from Login.
DENIALS = [
    pytest.param("Login", "System.View", ("Folder", "group-d1"), id="login"),
    pytest.param("CreateContainerView", "System.View", ("Folder", "group-d1"), id="first-view"),
    pytest.param("RetrievePropertiesEx", "System.Read", None, id="first-retrieval"),
]


def _soap(calls: list[str]) -> list[str]:
    return [c.removeprefix("SOAP ") for c in calls if c.startswith("SOAP ")]


def _unreadable(snapshot_path: Path) -> list[tuple[str, str, str, str]]:
    """The snapshot's unreadable entries as sorted (kind, moid, property, fault)."""
    entries = json.loads(snapshot_path.read_text())["unreadable"]
    return sorted((u["kind"], u["moid"], u["property"], u["fault"]) for u in entries)


@pytest.mark.parametrize(("method", "privilege", "obj"), DENIALS)
def test_no_permission_is_one_line_and_leaves_the_old_snapshot(
    vcsim: Vcsim, tmp_path: Path, method: str, privilege: str, obj: tuple[str, str] | None
) -> None:
    out = tmp_path / "snap.json"
    out.write_bytes(OLD_SNAPSHOT)
    vcsim.deny(method, privilege, obj)

    run = export(vcsim, out)

    assert run.code == 2, run.stderr
    line = one_error_line(run.stderr)
    assert line.startswith(f"scalearc-lint: error: 127.0.0.1:{vcsim.port}: permission denied"), line
    assert f"privilege {privilege} missing" in line
    # The object the fault names: the one asked for, else the one the method was called on
    # (a PropertyCollector of the export's own, named without its session's key).
    assert f" on {obj[1] if obj else 'PropertyCollector of the session'};" in line
    assert "grant the user at least the Read-only role on the vCenter root, propagated" in line
    assert vcsim.password not in run.stderr
    assert run.stdout == ""
    assert_untouched(out)

    soap = _soap(vcsim.calls())
    # A missing privilege is not retried: each reading thread met it at most once.
    assert 1 <= soap.count(method) <= (1 if method == "Login" else READ_THREADS), soap
    assert soap[-1] == (method if method == "Login" else "Logout"), soap


def test_every_vm_hidden_property_is_listed_as_unreadable(vcsim: Vcsim, tmp_path: Path) -> None:
    vcsim.hide_property("VirtualMachine", "snapshot", "System.Read")
    out = tmp_path / "snap.json"

    run = export(vcsim, out)

    assert run.code == 0, run.stderr
    assert run.stderr == ""
    vms = sorted(json.loads(out.read_text())["vms"])
    assert len(vms) == 2
    assert _unreadable(out) == [("vm", vm, "snapshots", "NoPermission (System.Read)") for vm in vms]


@pytest.fixture
def hidden_lab(lab_export: LabExport) -> Iterator[LabExport]:
    """The seeded lab; whatever a test hides is visible again afterwards."""
    try:
        yield lab_export
    finally:
        lab_export.sim.allow_all()


def _statuses(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(r["rule"], r["object"]["name"]): r["status"] for r in document["results"]}


def test_unreadable_properties_make_their_rules_unknown(
    hidden_lab: LabExport, tmp_path: Path
) -> None:
    sim, vms = hidden_lab.sim, hidden_lab.lab.vms
    # sa-beta-1 has a two-day-old snapshot (SA008 fails), sa-alpha-2 has none (SA008 passes).
    for name in ("sa-beta-1", "sa-alpha-2"):
        sim.hide_property("VirtualMachine", "snapshot", "System.Read", vms[name])
    # sa-alpha-1's static, unique MAC on a notifying portgroup passes SA001, SA002 and SA003.
    sim.hide_property("VirtualMachine", "config.hardware.device", "System.Read", vms["sa-alpha-1"])
    out = tmp_path / "hidden.json"

    run = export(sim, out)

    assert run.code == 0, run.stderr
    assert run.stderr == ""
    assert _unreadable(out) == sorted(
        [
            ("vm", vms["sa-beta-1"], "snapshots", "NoPermission (System.Read)"),
            ("vm", vms["sa-alpha-2"], "snapshots", "NoPermission (System.Read)"),
            ("vm", vms["sa-alpha-1"], "nics", "NoPermission (System.Read)"),
        ]
    )
    exported = json.loads(out.read_text())["vms"]
    assert "snapshots" not in exported[vms["sa-beta-1"]]
    assert "nics" not in exported[vms["sa-alpha-1"]]

    before = _statuses(check_json(hidden_lab.snapshot_path, tmp_path)[1])
    document = check_json(out, tmp_path)[1]
    after = _statuses(document)
    assert set(after) == set(before)
    changed = {key: (before[key], after[key]) for key in before if after[key] != before[key]}
    assert changed == {
        ("SA008", "sa-beta-1"): ("fail", "unknown"),
        ("SA008", "sa-alpha-2"): ("pass", "unknown"),
        ("SA001", "sa-alpha-1"): ("pass", "unknown"),
        ("SA002", "sa-alpha-1"): ("pass", "unknown"),
        ("SA003", "sa-alpha-1"): ("pass", "unknown"),
        # sa-alpha-1's unread MACs might clash with any other appliance's: SA002 cannot pass
        # them any more; sa-alpha-2 still fails on the duplicate the lab put on app-1.
        ("SA002", "sa-beta-1"): ("pass", "unknown"),
        ("SA002", "sa-beta-2"): ("pass", "unknown"),
        # Snapshot hygiene needs the snapshot tree too.
        ("SA015", "sa-beta-1"): ("pass", "unknown"),
        ("SA015", "sa-alpha-2"): ("pass", "unknown"),
        # DRS vMotioned sa-alpha-1: with its vNICs unread, the provisos cannot be told.
        ("SA016", "sa-alpha-1"): ("pass", "unknown"),
    }
    assert document["summary"]["unknown"] == len(changed)
