"""A bundle of several vCenters' snapshots in one file (export --merge) is read as several."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.model import SCHEMA_VERSION, Snapshot, SnapshotBundle
from scalearc_lint.snapshot.schema import SCHEMA_PATH
from tests.conftest import EXAMPLES, CliResult, run_cli


def vcenter(name: str, uuid: str) -> Snapshot:
    b = InventoryBuilder(vcenter=name, instance_uuid=uuid)
    dc = b.datacenter("dc")
    cluster = b.cluster("cl", dc)
    host = b.host("esx-1", cluster)
    b.standard_portgroup(host, "scalearc-net")
    b.vm("sa-1", host, nics=[b.nic()], custom_attributes={"scalearc-role": "standalone"})
    return b.build()


def write_bundle(path: Path, *snapshots: Snapshot) -> Path:
    bundle = SnapshotBundle(schema_version=SCHEMA_VERSION, snapshots=list(snapshots))
    path.write_bytes(msgspec.json.encode(bundle))
    return path


def bundle_data(tmp_path: Path) -> dict[str, Any]:
    path = write_bundle(tmp_path / "b.json", vcenter("vc-a", "a"), vcenter("vc-b", "b"))
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def check_mutated(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> CliResult:
    """``check`` a two-vCenter bundle after ``mutate`` changed its JSON."""
    data = bundle_data(tmp_path)
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return run_cli(["check", path])


def test_check_reports_every_vcenter_of_a_bundle(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.json", vcenter("vc-a", "a"), vcenter("vc-b", "b"))
    result = run_cli(["check", path, "--json", "-", "--fail-on", "never"])
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [s["vcenter"] for s in document["snapshots"]] == ["vc-a", "vc-b"]
    sa001 = [
        (r["object"]["vcenter"], r["object"]["id"])
        for r in document["results"]
        if r["rule"] == "SA001"
    ]
    assert sa001 == [("vc-a", "vm-1"), ("vc-b", "vm-1")]  # the same moid in two vCenters


def test_bundle_and_a_file_together(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.json", vcenter("vc-a", "a"))
    result = run_cli(["check", path, EXAMPLES / "lab.json", "--json", "-", "-q"])
    assert result.code == 1
    vcenters = {r["object"]["vcenter"] for r in json.loads(result.stdout)["results"]}
    assert vcenters == {"vc-a", "vcsa01.corp.example"}


def test_bundle_is_valid_against_the_published_schema(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator(schema).validate(bundle_data(tmp_path))


def test_one_vcenter_twice_in_a_bundle(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.json", vcenter("vc-a", "a"), vcenter("vc-a", "a"))
    result = run_cli(["check", path])
    assert result.code == 2
    assert "same vCenter (vc-a)" in result.stderr


def test_error_inside_a_bundle_names_its_json_path(tmp_path: Path) -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["snapshots"][1]["vms"]["vm-1"]["num_cpu"] = "two"

    result = check_mutated(tmp_path, mutate)
    assert result.code == 2
    assert result.stderr.strip() == (
        f"scalearc-lint: error: {tmp_path / 'bad.json'}: "
        '$.snapshots[1].vms["vm-1"].num_cpu: Expected `int`, got `str`'
    )


def test_dangling_reference_inside_a_bundle(tmp_path: Path) -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["snapshots"][0]["vms"]["vm-1"]["host"] = "host-9"

    result = check_mutated(tmp_path, mutate)
    assert result.code == 2
    assert "$.snapshots[0].vms[\"vm-1\"].host: 'host-9' is not a host" in result.stderr


@pytest.mark.parametrize("inner", [False, True], ids=["bundle", "snapshot-in-bundle"])
def test_wrong_version_of_a_bundle_or_of_a_snapshot_in_it(tmp_path: Path, inner: bool) -> None:
    def mutate(data: dict[str, Any]) -> None:
        (data["snapshots"][1] if inner else data)["schema_version"] = 7

    result = check_mutated(tmp_path, mutate)
    assert result.code == 2
    where = "$.snapshots[1].schema_version" if inner else "$.schema_version"
    assert f"{where}: unsupported snapshot schema version 7" in result.stderr


def test_empty_bundle(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "snapshots": []}))
    result = run_cli(["check", path])
    assert result.code == 2
    assert "$.snapshots: the bundle holds no snapshot" in result.stderr


def test_whatif_needs_one_vcenter(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.json", vcenter("vc-a", "a"), vcenter("vc-b", "b"))
    result = run_cli(["whatif", path, "--plan", EXAMPLES / "plan-good.yaml"])
    assert result.code == 2
    assert "holds 2 vCenters; a plan changes one vCenter" in result.stderr


def test_snapshots_field_is_empty_for_one_vcenter_and_lists_each_of_several_in_order(
    tmp_path: Path,
) -> None:
    """The README's words on ``snapshots``: always present; empty for one vCenter; for
    several (files or a bundle) every snapshot in the order given, ``snapshot`` the first."""
    one = tmp_path / "one.json"
    one.write_bytes(msgspec.json.encode(vcenter("vc-a", "a")))
    single = json.loads(run_cli(["check", one, "--json", "-", "--fail-on", "never"]).stdout)
    assert single["snapshots"] == []
    assert single["snapshot"]["vcenter"] == "vc-a"
    other = tmp_path / "other.json"
    other.write_bytes(msgspec.json.encode(vcenter("vc-b", "b")))
    for args in (
        [other, one],
        [write_bundle(tmp_path / "b.json", vcenter("vc-b", "b"), vcenter("vc-a", "a"))],
    ):
        several = json.loads(run_cli(["check", *args, "--json", "-", "--fail-on", "never"]).stdout)
        assert [s["vcenter"] for s in several["snapshots"]] == ["vc-b", "vc-a"]
        assert several["snapshot"] == several["snapshots"][0]
