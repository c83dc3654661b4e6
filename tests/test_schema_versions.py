"""Old snapshots stay readable: a schema-1 file (examples/lab.json as release 0.1 wrote it,
kept in tests/data) loads, and every rule that needs what schema 1 did not record says
``unknown``, never ``pass``."""

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
    assert "reads versions 1 and 2" in result.stderr


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


@pytest.mark.parametrize("field", ["enable_vm_behavior_overrides", "event_types"])
def test_a_schema_2_snapshot_is_not_upgraded(field: str) -> None:
    current = json.loads((REPO / "examples" / "lab.json").read_text())
    assert current["schema_version"] == SCHEMA_VERSION == 2
    snapshot = decode_snapshot(json.dumps(current).encode())
    if field == "event_types":
        assert snapshot.events.event_types != list(SCHEMA_1_EVENT_TYPES)
    else:
        switches = {c.drs.enable_vm_behavior_overrides for c in snapshot.clusters.values()}
        assert None not in switches
