"""SA012-SA016 end to end: seed vcsim (tests/e2e/vendor_lab.py), export, check; the exact
failing sets, and what the exporter read for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import check_json, export
from tests.e2e.vendor_lab import VendorLab, seed_vendor_lab
from tests.vcsim_support import Vcsim, running_vcsim

NEW_RULES = ("SA012", "SA013", "SA014", "SA015", "SA016")


@dataclass
class Exported:
    sim: Vcsim
    lab: VendorLab
    snapshot: Path


@pytest.fixture(scope="module")
def exported(vcsim_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """The lab seeded once; each test exports it (after changing what it must)."""
    with running_vcsim(cluster=1, host=3, vm=8) as sim:
        lab = seed_vendor_lab(sim)
        path = tmp_path_factory.mktemp("vendor") / "snapshot.json"
        run = export(sim, path)
        assert run.code == 0, run.stderr
        yield Exported(sim, lab, path)


def _new_rule_results(snapshot: Path, out: Path) -> dict[tuple[str, str], dict[str, Any]]:
    _, document = check_json(snapshot, out)
    assert document["summary"]["crashed"] == 0
    return {
        (r["rule"], r["object"]["name"]): r for r in document["results"] if r["rule"] in NEW_RULES
    }


def _failing(results: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {key: r["severity"] for key, r in results.items() if r["status"] == "fail"}


def test_the_exporter_reads_what_the_rules_need(exported: Exported) -> None:
    snap = json.loads(exported.snapshot.read_text())
    vms = {vm["name"]: vm for vm in snap["vms"].values()}
    cluster = snap["clusters"][exported.lab.cluster]
    assert cluster["ha"]["enabled"] is True
    assert "default_restart_priority" not in cluster["ha"]  # unset: vSphere's medium
    assert {vms[name]["moid"]: "disabled" for name in ("sa-a1", "sa-b1", "sa-b2")} == {
        vm: o["restart_priority"] for vm, o in cluster["ha"]["vm_overrides"].items()
    }
    assert vms["sa-c1"]["consolidation_needed"] is True
    assert "consolidation_needed" not in vms["sa-c2"]
    assert vms["sa-b1"]["memory_allocation"]["limit"] == 16
    pool = snap["resource_pools"][exported.lab.capped_pool]
    assert pool["cpu"]["limit"] == 100
    assert vms["sa-b2"]["resource_pool"] == exported.lab.capped_pool
    (chain,) = vms["sa-c2"]["snapshots"]
    assert [chain["name"], chain["children"][0]["name"]] == ["backup-1", "backup-2"]
    kinds = sorted((e["vm_name"], e["kind"]) for e in snap["events"]["items"])
    assert kinds == [
        ("app-1", "drs-migrate"),
        ("app-1", "ha-restart"),
        ("sa-a1", "drs-migrate"),
        ("sa-a2", "hot-migrate"),
        ("sa-a2", "relocate"),
        ("sa-b2", "ha-restart"),
        ("sa-c2", "hot-migrate"),
        ("sa-c2", "relocate"),
    ]
    assert "unreadable" not in snap  # everything was read


def test_check_fails_exactly_the_seeded_violations(exported: Exported, tmp_path: Path) -> None:
    results = _new_rule_results(exported.snapshot, tmp_path)
    assert _failing(results) == {
        ("SA012", "sa-a1"): "error",  # DrsVmMigratedEvent
        ("SA013", "sa-a2"): "warning",  # no override, cluster default unset = medium
        ("SA013", "sa-b2"): "error",  # VmRestartedByHAEvent
        ("SA014", "sa-b1"): "error",  # 16 MB limit on the VM, configured 32 MB
        ("SA014", "sa-b2"): "error",  # 100 MHz limit on its pool
        ("SA015", "sa-c1"): "error",  # consolidationNeeded
        ("SA015", "sa-c2"): "warning",  # two snapshots, one on the other
        ("SA016", "sa-a2"): "error",  # vMotioned with a generated MAC
    }
    assert not [key for key, r in results.items() if r["status"] == "unknown"]
    # Standalone appliances are out of SA013's scope; the rest are judged by every rule.
    judged = {name for rule, name in results if rule == "SA013"}
    assert judged == {"sa-a1", "sa-a2", "sa-b1", "sa-b2"}
    assert {name for rule, name in results if rule == "SA012"} == {
        f"sa-{x}" for x in ("a1", "a2", "b1", "b2", "c1", "c2")
    }


def test_a_disabled_cluster_default_keeps_ha_from_the_pair(
    exported: Exported, tmp_path: Path
) -> None:
    exported.sim.set_ha(exported.lab.cluster, True, restart_priority="disabled")
    try:
        path = tmp_path / "disabled.json"
        assert export(exported.sim, path).code == 0
        snap = json.loads(path.read_text())
        assert snap["clusters"][exported.lab.cluster]["ha"]["default_restart_priority"] == (
            "disabled"
        )
        failing = _failing(_new_rule_results(path, tmp_path))
        assert {key for key in failing if key[0] == "SA013"} == {("SA013", "sa-b2")}
    finally:
        exported.sim.set_ha(exported.lab.cluster, True, restart_priority="")


def test_with_ha_off_only_the_restart_that_happened_fails(
    exported: Exported, tmp_path: Path
) -> None:
    exported.sim.set_ha(exported.lab.cluster, False)
    try:
        path = tmp_path / "ha-off.json"
        assert export(exported.sim, path).code == 0
        failing = _failing(_new_rule_results(path, tmp_path))
        assert {key: s for key, s in failing.items() if key[0] == "SA013"} == {
            ("SA013", "sa-b2"): "error"
        }
    finally:
        exported.sim.set_ha(exported.lab.cluster, True)


def test_an_unreadable_consolidation_flag_is_unknown_not_pass(
    exported: Exported, tmp_path: Path
) -> None:
    exported.sim.hide_property(
        "VirtualMachine", "runtime.consolidationNeeded", "System.Read", exported.lab.vms["sa-c1"]
    )
    try:
        path = tmp_path / "hidden.json"
        assert export(exported.sim, path).code == 0
        results = _new_rule_results(path, tmp_path)
        assert results[("SA015", "sa-c1")]["status"] == "unknown"
        assert results[("SA015", "sa-c2")]["status"] == "fail"
    finally:
        exported.sim.allow_all()
