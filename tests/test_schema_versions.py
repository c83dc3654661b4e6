"""Old snapshots stay readable: a schema-1 file (examples/lab.json as release 0.1 wrote it)
and a schema-2 file (as the release before schema 3 wrote it), kept in tests/data, load, and
every rule that needs what their schema did not record says ``unknown``, never ``pass``."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from scalearc_lint.engine.config import Config
from scalearc_lint.engine.evaluate import discover_rules, evaluate
from scalearc_lint.engine.results import Result
from scalearc_lint.engine.rule import Status
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import decode_snapshot, load_snapshot, load_snapshots
from scalearc_lint.snapshot.model import SCHEMA_1_EVENT_TYPES, SCHEMA_VERSION, Snapshot
from scalearc_lint.testing import run_rule
from tests.conftest import REPO, run_cli

SCHEMA_1_LAB = REPO / "tests" / "data" / "lab-schema1.json"
SCHEMA_2_LAB = REPO / "tests" / "data" / "lab-schema2.json"
RULES = discover_rules(plugins=False)


def schema_1() -> Snapshot:
    return load_snapshot(SCHEMA_1_LAB).snapshot


def lint(snapshot: Snapshot) -> dict[tuple[str, str], Result]:
    results = evaluate([Inventory(snapshot)], RULES, Config())
    return {(r.rule, r.object.name): r for r in results}


def with_drs_switch(snapshot: Snapshot, value: bool) -> Snapshot:
    """The snapshot as if schema 1 had recorded ``enableVmBehaviorOverrides`` as ``value``."""
    replace = msgspec.structs.replace
    clusters = {
        moid: replace(c, drs=replace(c.drs, enable_vm_behavior_overrides=value))
        for moid, c in snapshot.clusters.items()
    }
    return replace(snapshot, clusters=clusters)


def test_the_kept_file_really_is_schema_1() -> None:
    raw = json.loads(SCHEMA_1_LAB.read_text())
    assert raw["schema_version"] == 1 != SCHEMA_VERSION
    assert "event_types" not in raw["events"]
    assert all("chain_id" not in e for e in raw["events"]["items"])


def test_a_schema_1_file_loads_and_says_what_it_lacks() -> None:
    snapshot = schema_1()
    assert snapshot.schema_version == 1
    assert {c.drs.enable_vm_behavior_overrides for c in snapshot.clusters.values()} == {None}
    assert snapshot.events.event_types == list(SCHEMA_1_EVENT_TYPES)


def test_a_schema_1_bundle_loads(tmp_path: Path) -> None:
    one = json.loads(SCHEMA_1_LAB.read_text())
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"schema_version": 1, "snapshots": [one]}))
    (loaded,) = load_snapshots(bundle)
    assert loaded.snapshot.clusters == schema_1().clusters


def test_an_unknown_version_names_the_versions_read(tmp_path: Path) -> None:
    data = json.loads(SCHEMA_1_LAB.read_text())
    data["schema_version"] = SCHEMA_VERSION + 1
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    result = run_cli(["check", path])
    assert result.code == 2
    assert f"unsupported snapshot schema version {SCHEMA_VERSION + 1}" in result.stderr
    assert "reads versions 1, 2 and 3" in result.stderr


def test_drs_override_that_would_decide_is_unknown_on_schema_1() -> None:
    results = lint(schema_1())
    # Manual overrides in a cluster whose default is unset (fullyAutomated): whether the
    # cluster honoured them is exactly what schema 1 did not record.
    for name in ("sa-orders-01", "sa-orders-02", "sa-billing-02"):
        assert results[("SA006", name)].status is Status.UNKNOWN, results[("SA006", name)]
        assert "enableVmBehaviorOverrides" in results[("SA006", name)].message
    # No override: the switch does not matter, the verdict stands.
    assert results[("SA006", "sa-billing-01")].status is Status.FAIL


def test_every_schema_1_pass_holds_whatever_the_drs_switch_was() -> None:
    old = lint(schema_1())
    for value in (True, False):
        known = lint(with_drs_switch(schema_1(), value))
        for key, result in old.items():
            if result.status is Status.PASS:
                assert known[key].status is Status.PASS, (value, key, known[key].message)


def test_no_vmotion_is_never_passed_on_events_schema_1_did_not_read() -> None:
    results = run_rule("SA009", schema_1())
    assert results, "SA009 judged no appliance"
    assert not [r for r in results if r.status is Status.PASS]
    unread = [r for r in results if "did not read" in r.message]
    assert unread, [r.message for r in results]
    assert all("DstVmMigratedEvent" in r.message for r in unread)


def test_check_on_a_schema_1_file_reports_unknowns_and_exits_on_its_failures() -> None:
    result = run_cli(["check", SCHEMA_1_LAB, "--json", "-", "-q"])
    assert result.code == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["crashed"] == 0
    assert document["summary"]["unknown"] >= 4


@pytest.mark.parametrize("field", ["enable_vm_behavior_overrides", "event_types", "unreadable"])
def test_a_current_snapshot_is_not_upgraded(field: str) -> None:
    current = json.loads((REPO / "examples" / "lab.json").read_text())
    assert current["schema_version"] == SCHEMA_VERSION == 3
    snapshot = decode_snapshot(json.dumps(current).encode())
    if field == "event_types":
        assert snapshot.events.event_types != list(SCHEMA_1_EVENT_TYPES)
    elif field == "unreadable":
        assert snapshot.unreadable == []
    else:
        switches = {c.drs.enable_vm_behavior_overrides for c in snapshot.clusters.values()}
        assert None not in switches


# -- schema 2: no default HA restart priority, no consolidationNeeded ----------------------


def schema_2() -> Snapshot:
    return load_snapshot(SCHEMA_2_LAB).snapshot


def test_the_kept_file_really_is_schema_2() -> None:
    raw = json.loads(SCHEMA_2_LAB.read_text())
    assert raw["schema_version"] == 2
    assert all("default_restart_priority" not in c.get("ha", {}) for c in raw["clusters"].values())
    assert all("consolidation_needed" not in vm for vm in raw["vms"].values())


@pytest.mark.parametrize("lab", [SCHEMA_1_LAB, SCHEMA_2_LAB], ids=["schema-1", "schema-2"])
def test_an_older_file_records_what_schema_3_added_as_unread(lab: Path) -> None:
    snapshot = load_snapshot(lab).snapshot
    unread = {(u.kind, u.moid, u.property) for u in snapshot.unreadable}
    assert unread == {
        ("cluster", None, "default_restart_priority"),
        ("vm", None, "consolidation_needed"),
    }
    assert all("export again" in u.fault for u in snapshot.unreadable)


@pytest.mark.parametrize("lab", [SCHEMA_1_LAB, SCHEMA_2_LAB], ids=["schema-1", "schema-2"])
def test_snapshot_hygiene_never_passes_without_the_consolidation_flag(lab: Path) -> None:
    results = run_rule("SA015", load_snapshot(lab).snapshot)
    assert results
    assert not [r for r in results if r.status is Status.PASS]
    assert {r.status for r in results} <= {Status.UNKNOWN, Status.FAIL}


def test_ha_restart_rests_on_the_default_only_where_no_override_decides() -> None:
    results = {r.object.name: r for r in run_rule("SA013", schema_2())}
    # The schema-2 lab's pair members carry no HA override and HA is on in their clusters:
    # whether HA restarts them is the cluster default schema 2 did not record.
    unknown_ = {name for name, r in results.items() if r.status is Status.UNKNOWN}
    assert {"sa-orders-01", "sa-orders-02", "sa-billing-01", "sa-billing-02"} <= unknown_
    assert all(
        "default restart priority" in results[name].message
        for name in unknown_ - {"sa-archive-01"}  # sa-archive-01: identification (ID001)
    )
    # An HA restart that happened is known whatever the default was.
    assert results["sa-search-02"].status is Status.FAIL
    assert not [r for r in results.values() if r.status is Status.PASS]


def as_if_recorded(snapshot: Snapshot, default: str | None, consolidation: bool) -> Snapshot:
    """The snapshot as if its export had recorded every cluster's default restart priority
    as ``default`` and every VM's consolidationNeeded as ``consolidation``."""
    replace = msgspec.structs.replace
    clusters = {
        moid: replace(c, ha=replace(c.ha, default_restart_priority=default))
        for moid, c in snapshot.clusters.items()
    }
    vms = {
        moid: replace(vm, consolidation_needed=consolidation) for moid, vm in snapshot.vms.items()
    }
    return replace(snapshot, clusters=clusters, vms=vms, unreadable=[])


@pytest.mark.parametrize(("default", "consolidation"), [("high", True), ("disabled", False)])
def test_every_schema_2_pass_holds_whatever_schema_3_would_have_recorded(
    default: str, consolidation: bool
) -> None:
    old = lint(schema_2())
    known = lint(as_if_recorded(schema_2(), default, consolidation))
    passes = [key for key, r in old.items() if r.status is Status.PASS]
    assert passes
    for key in passes:
        assert known[key].status is Status.PASS, (key, known[key].message)
