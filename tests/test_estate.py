"""One estate: several vCenters (several snapshot files, or an export --merge bundle) are
judged together by ``check``, and every result still names its vCenter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.model import SCHEMA_VERSION, SnapshotBundle
from scalearc_lint.snapshot.sketch import build_estate
from tests.conftest import CliResult, run_cli

VC_A, VC_B = "vcenter.lab.example", "vc-b.example"


def write(tmp_path: Path, sketch: dict[str, Any], how: str) -> list[Path]:
    """The vCenters of a sketch as one snapshot file each, or as one bundle file."""
    snapshots = build_estate(sketch)
    if how == "bundle":
        path = tmp_path / "estate.json"
        bundle = SnapshotBundle(schema_version=SCHEMA_VERSION, snapshots=snapshots)
        path.write_bytes(msgspec.json.encode(bundle))
        return [path]
    paths = [tmp_path / f"{s.source.vcenter}.json" for s in snapshots]
    for path, snapshot in zip(paths, snapshots, strict=True):
        path.write_bytes(encode_snapshot(snapshot))
    return paths if how == "files" else paths[::-1]


def check(paths: list[Path], *args: str | Path) -> tuple[CliResult, dict[str, Any]]:
    result = run_cli(["check", *paths, "--json", "-", *args])
    assert result.stdout.startswith("{"), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return result, document


def statuses(document: dict[str, Any], rule: str) -> dict[tuple[str, str], str]:
    """(vCenter, object name) -> status of every result of ``rule``."""
    return {
        (r["object"]["vcenter"], r["object"]["name"]): r["status"]
        for r in document["results"]
        if r["rule"] == rule
    }


def message(document: dict[str, Any], rule: str, name: str) -> str:
    [text] = [
        r["message"]
        for r in document["results"]
        if (r["rule"], r["object"]["name"]) == (rule, name)
    ]
    return str(text)


HOW = pytest.mark.parametrize("how", ["files", "files-reversed", "bundle"])

#: Pair "orders": the primary in vCenter A, the secondary in vCenter B; both VMs are vm-1
#: on host-1 of cluster domain-c-1 in their own vCenter.
SPLIT_PAIR: dict[str, Any] = {
    "appliances": {"sa-orders-01": {"role": "primary", "pair": "Orders", "host": "esx-1"}},
    "vcenters": {
        VC_B: {
            "appliances": {"sa-orders-02": {"role": "secondary", "pair": "orders", "host": "esx-1"}}
        }
    },
}


@HOW
def test_a_pair_split_across_two_vcenters_is_one_complete_pair(tmp_path: Path, how: str) -> None:
    result, document = check(write(tmp_path, SPLIT_PAIR, how))
    assert result.code == 0, result.stdout
    # Judged once, under the first of its vCenters by name, whatever the order of the files.
    for rule in ("SA004", "SA005", "SA011"):
        assert statuses(document, rule) == {(VC_B, "orders"): "pass"}, rule
    assert "sa-orders-01 on esx-1 (vcenter.lab.example)" in message(document, "SA004", "orders")
    assert "different vCenters" in message(document, "SA005", "orders")
    # Every appliance result names the appliance's own vCenter.
    assert statuses(document, "SA001") == {
        (VC_A, "sa-orders-01"): "pass",
        (VC_B, "sa-orders-02"): "pass",
    }
    assert statuses(document, "ID001") == {(VC_A, VC_A): "pass", (VC_B, VC_B): "pass"}


def test_the_same_results_whatever_the_order_or_packaging_of_the_vcenters(tmp_path: Path) -> None:
    outputs = set()
    for how in ("files", "files-reversed", "bundle"):
        directory = tmp_path / how
        directory.mkdir()
        _, document = check(write(directory, {**SPLIT_PAIR, "hosts": 3}, how))
        outputs.add(json.dumps(document["results"], sort_keys=True))
    assert len(outputs) == 1


@HOW
def test_two_primaries_in_two_vcenters_fail_the_pair(tmp_path: Path, how: str) -> None:
    sketch = {
        "appliances": {"sa-a": {"role": "primary", "pair": "p1"}},
        "vcenters": {VC_B: {"appliances": {"sa-b": {"role": "primary", "pair": "p1"}}}},
    }
    result, document = check(write(tmp_path, sketch, how))
    assert result.code == 1
    assert statuses(document, "SA011") == {(VC_B, "p1"): "fail"}
    assert "sa-a in cluster cl-1 of vcenter.lab.example" in message(document, "SA011", "p1")


@HOW
def test_a_mac_duplicated_in_another_vcenter_fails_sa002(tmp_path: Path, how: str) -> None:
    mac = "00:50:56:01:02:03"
    sketch = {
        "appliances": {"sa-1": {"nics": [{"mac": mac}]}},
        "vcenters": {
            VC_B: {
                "appliances": {"sa-2": {}},
                "vms": {"web-1": {"nics": [{"type": "manual", "mac": mac.upper()}]}},
            }
        },
    }
    result, document = check(write(tmp_path, sketch, how))
    assert result.code == 1
    assert statuses(document, "SA002") == {(VC_A, "sa-1"): "fail", (VC_B, "sa-2"): "pass"}
    assert message(document, "SA002", "sa-1") == (
        f"{mac} is also on web-1 (Network adapter 1) in {VC_B}"
    )


def test_same_moids_in_two_vcenters_are_different_vms(tmp_path: Path) -> None:
    # Both vCenters number their VMs, hosts and NICs alike; nothing is shared.
    sketch = {"appliances": {"sa-1": {}}, "vcenters": {VC_B: {"appliances": {"sa-1": {}}}}}
    result, document = check(write(tmp_path, sketch, "files"))
    assert result.code == 0, result.stdout
    assert statuses(document, "SA002") == {(VC_A, "sa-1"): "pass", (VC_B, "sa-1"): "pass"}


@HOW
def test_a_vcenter_without_appliances_fails_id001_naming_the_selectors(
    tmp_path: Path, how: str
) -> None:
    sketch = {
        "appliances": {"sa-1": {}},
        "vcenters": {
            VC_B: {"vms": {"proxy-1": {"tags": [{"category": "ScaleArc_Role", "name": "primary"}]}}}
        },
    }
    result, document = check(write(tmp_path, sketch, how))
    assert result.code == 1
    assert statuses(document, "ID001") == {(VC_A, VC_A): "pass", (VC_B, VC_B): "fail"}
    [finding] = [r for r in document["results"] if r["rule"] == "ID001" and r["status"] == "fail"]
    assert finding["object"] == {
        "kind": "vcenter",
        "id": VC_B,
        "name": VC_B,
        "vcenter": VC_B,
        "instance_uuid": "5f0c2a4e-0000-4000-8000-000000000001",
    }
    text = finding["message"]
    assert "no ScaleArc appliance identified among 1 VM(s)" in text
    assert "'scalearc-role' (any case)" in text and "'scalearc-ha-pair'" in text
    assert "look alike: 'ScaleArc_Role'" in text
    assert "appliances.none_expected_in" in text


def test_none_expected_in_names_the_vcenters_without_appliances(tmp_path: Path) -> None:
    sketch = {"appliances": {"sa-1": {}}, "vcenters": {VC_B: {"vms": {"web-1": {}}}}}
    config = tmp_path / "config.yaml"
    config.write_text("appliances:\n  none_expected_in: [VC-B.example]\n")
    result, document = check(write(tmp_path, sketch, "files"), "--config", config)
    assert result.code == 0, result.stdout
    assert statuses(document, "ID001") == {(VC_A, VC_A): "pass", (VC_B, VC_B): "pass"}
    assert "none_expected_in says none are expected" in message(document, "ID001", VC_B)


def test_a_single_snapshot_without_appliances_turns_ci_red(tmp_path: Path) -> None:
    [path] = write(tmp_path, {"vms": {"web-1": {}}}, "files")
    result = run_cli(["check", path])
    assert result.code == 1
    assert (
        "FAIL    ID001 error   vcenter vcenter.lab.example: no ScaleArc appliance" in result.stdout
    )


def test_a_name_pattern_that_matches_nothing_is_named(tmp_path: Path) -> None:
    [path] = write(tmp_path, {"appliances": {"sa-1": {}}}, "files")
    config = tmp_path / "config.yaml"
    config.write_text("appliances:\n  by: name\n  name_pattern: 'proxy-(?P<role>\\w+)'\n")
    result, document = check([path], "--config", config)
    assert result.code == 1
    assert "VM names matching 'proxy-(?P<role>\\\\w+)'" in message(document, "ID001", VC_A)


@HOW
def test_conflicting_identification_is_id001_and_its_results_unknown(
    tmp_path: Path, how: str
) -> None:
    sketch = {
        "appliances": {"sa-p": {"role": "primary", "pair": "p1"}},
        "vcenters": {
            VC_B: {
                "appliances": {
                    "sa-s": {
                        "role": "secondary",
                        "pair": "p1",
                        "tags": [{"category": "SCALEARC-ROLE", "name": "Primary"}],
                    },
                    "sa-solo": {},
                }
            }
        },
    }
    result, document = check(write(tmp_path, sketch, how))
    assert result.code == 1
    assert statuses(document, "ID001") == {
        (VC_A, VC_A): "pass",
        (VC_B, VC_B): "pass",
        (VC_B, "sa-s"): "fail",
    }
    assert message(document, "ID001", "sa-s").startswith(
        "role sources disagree: custom attribute 'scalearc-role' = 'secondary', "
        "tag in category 'SCALEARC-ROLE' = 'Primary'"
    )
    # Every appliance and pair result resting on sa-s is unknown, in any vCenter.
    unknown = {
        (r["rule"], r["object"]["name"]) for r in document["results"] if r["status"] == "unknown"
    }
    appliance_rules = {f"SA{n:03d}" for n in (1, 2, 3, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16)}
    pair_rules = {"SA004", "SA005", "SA011"}
    assert unknown == {(rule, "sa-s") for rule in appliance_rules} | {
        (rule, "p1") for rule in pair_rules
    }
    assert statuses(document, "SA001")[(VC_B, "sa-solo")] == "pass"


def test_a_cross_vcenter_pair_keeps_its_baseline_after_a_switchover(tmp_path: Path) -> None:
    before = tmp_path / "before"
    after = tmp_path / "after"
    before.mkdir()
    after.mkdir()
    sketch: dict[str, Any] = {
        "appliances": {"sa-1": {"role": "primary", "pair": "p1"}},
        "vcenters": {VC_B: {"appliances": {"sa-2": {"role": "secondary", "pair": "p1"}}}},
    }
    _, baseline = check(write(before, sketch, "files"))
    results = tmp_path / "baseline.json"
    results.write_text(json.dumps(baseline))
    switched = {
        "appliances": {"sa-1": {"role": "secondary", "pair": "p1"}},
        "vcenters": {VC_B: {"appliances": {"sa-2": {"role": "primary", "pair": "p1"}}}},
    }
    _, document = check(write(after, switched, "files"), "--baseline", results)
    marks = {
        (r["rule"], r["object"]["vcenter"]): r["baseline"]
        for r in document["results"]
        if r["object"]["kind"] == "ha-pair"
    }
    assert marks == {(rule, VC_B): "persisting" for rule in ("SA004", "SA005", "SA011")}


def test_id001_failures_can_be_waived_but_the_results_stay_unknown(tmp_path: Path) -> None:
    sketch = {
        "appliances": {
            "sa-1": {
                "role": "secondary",
                "tags": [{"category": "scalearc-role", "name": "primary"}],
            },
            "sa-2": {},
        }
    }
    [path] = write(tmp_path, sketch, "files")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - rule: ID001\n    object: {name: sa-1}\n    reason: re-tag pending\n"
        "    owner: vmware-team\n    ticket: CHG-1\n    expires: 2099-01-01\n"
    )
    result, document = check([path], "--waivers", waivers)
    assert result.code == 0, result.stdout
    assert statuses(document, "ID001")[(VC_A, "sa-1")] == "waived"
    assert statuses(document, "SA001")[(VC_A, "sa-1")] == "unknown"
