"""Bad snapshot input: exit 2 with one line naming the problem and JSON path, never a traceback."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.errors import InputError
from scalearc_lint.io.inputs import BackgroundDigest
from scalearc_lint.snapshot.loader import decode_snapshot, encode_snapshot, load_snapshot
from scalearc_lint.snapshot.sketch import build
from tests.conftest import EXAMPLES, run_cli


def lab() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "lab.json").read_text())
    return data


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "snap.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def broken(mutate: Any) -> str:
    data = lab()
    mutate(data)
    return json.dumps(data)


def first_vm(data: dict[str, Any]) -> dict[str, Any]:
    vm: dict[str, Any] = next(iter(data["vms"].values()))
    return vm


BAD_INPUTS = {
    "not-json": ("hello, world", "not valid JSON"),
    "truncated": ((EXAMPLES / "lab.json").read_text()[:500], "truncated"),
    "empty": ("", "empty file"),
    "whitespace-only": ("  \n", "empty file"),
    "array": ("[1, 2]", "expected a JSON object"),
    "no-version": (json.dumps({"source": {}}), "$.schema_version: missing"),
    "wrong-version": (
        broken(lambda d: d.update(schema_version=99)),
        "unsupported snapshot schema version 99",
    ),
    "version-string": (
        broken(lambda d: d.update(schema_version="1")),
        "unsupported snapshot schema version '1'",
    ),
    "wrong-type": (
        broken(lambda d: d["vms"]["vm-3"].update(num_cpu="four")),
        '$.vms["vm-3"].num_cpu: Expected `int`, got `str`',
    ),
    "wrong-nested-type": (
        broken(lambda d: d["vms"]["vm-3"]["nics"][0].update(mac=5)),
        '$.vms["vm-3"].nics[0].mac: Expected `str`, got `int`',
    ),
    "missing-field": (
        broken(lambda d: first_vm(d).pop("name")),
        "Object missing required field `name`",
    ),
    "missing-source": (broken(lambda d: d.pop("source")), "missing required field `source`"),
    "unknown-field": (
        broken(lambda d: d["hosts"]["host-1"].update(colour="red")),
        '$.hosts["host-1"]: Object contains unknown field `colour`',
    ),
    "bad-enum": (
        broken(lambda d: d["vms"]["vm-1"]["nics"][0].update(address_type="static")),
        '$.vms["vm-1"].nics[0].address_type',
    ),
    "naive-time": (broken(lambda d: d.update(exported_at="2026-11-24T02:00:00")), "$.exported_at"),
    "dangling-host": (
        broken(lambda d: d["vms"]["vm-1"].update(host="host-999")),
        "$.vms[\"vm-1\"].host: 'host-999' is not a host in this snapshot",
    ),
    "dangling-portgroup": (
        broken(lambda d: d["vms"]["vm-3"]["nics"][0]["backing"].update(portgroup="dvportgroup-9")),
        "$.vms[\"vm-3\"].nics[0].backing.portgroup: 'dvportgroup-9' is not a DV portgroup",
    ),
    "dangling-rule-member": (
        broken(lambda d: d["clusters"]["domain-c-1"]["rules"][0]["vms"].append("vm-404")),
        "$.clusters[\"domain-c-1\"].rules[0].vms[2]: 'vm-404' is not a VM",
    ),
    "moid-mismatch": (
        broken(lambda d: d["hosts"]["host-1"].update(moid="host-2")),
        "does not match its key",
    ),
    # Each check the one pass over the VMs makes (loader._vms_sound) must name its problem.
    "vm-moid-mismatch": (
        broken(lambda d: d["vms"]["vm-3"].update(moid="vm-1")),
        "$.vms[\"vm-3\"].moid: 'vm-1' does not match its key",
    ),
    "dangling-vm-datacenter": (
        broken(lambda d: d["vms"]["vm-1"].update(datacenter="datacenter-9")),
        "$.vms[\"vm-1\"].datacenter: 'datacenter-9' is not a datacenter in this snapshot",
    ),
    "dangling-vm-cluster": (
        broken(lambda d: d["vms"]["vm-1"].update(cluster="domain-c-9")),
        "$.vms[\"vm-1\"].cluster: 'domain-c-9' is not a cluster in this snapshot",
    ),
    "dangling-vm-pool": (
        broken(lambda d: d["vms"]["vm-1"].update(resource_pool="resgroup-9")),
        "$.vms[\"vm-1\"].resource_pool: 'resgroup-9' is not a resource pool in this snapshot",
    ),
}


@pytest.mark.parametrize(("content", "expected"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_snapshot_is_one_line_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path, content)
    result = run_cli(["check", path])
    assert result.code == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("scalearc-lint: error: ")
    assert str(path) in lines[0]
    assert expected in lines[0]


def test_directory_instead_of_file(tmp_path: Path) -> None:
    result = run_cli(["check", tmp_path])
    assert result.code == 2
    assert "is a directory" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file(tmp_path: Path) -> None:
    result = run_cli(["check", tmp_path / "nope.json"])
    assert result.code == 2
    assert "no such file" in result.stderr


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x00\x9fgarbage")
    with pytest.raises(InputError, match="not valid JSON"):
        load_snapshot(path)


def test_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="starts with a UTF-16 byte-order mark; save the file"):
        load_snapshot(path)


def test_valid_snapshot_round_trips() -> None:
    snapshot = build({"appliances": {"sa-1": {"snapshots": ["2h"]}}, "vms": {"web": {}}})
    assert decode_snapshot(encode_snapshot(snapshot)) == snapshot


def test_schema_version_comes_first() -> None:
    assert (EXAMPLES / "lab.json").read_bytes().startswith(b'{"schema_version":')


def test_load_reports_sha256_of_the_bytes() -> None:
    import hashlib

    loaded = load_snapshot(EXAMPLES / "lab.json")
    assert loaded.sha256 == hashlib.sha256((EXAMPLES / "lab.json").read_bytes()).hexdigest()


@pytest.mark.parametrize("size", [0, 1000, 3 << 20])
def test_the_digest_worked_out_beside_decoding_is_the_files_sha256(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    assert BackgroundDigest(data).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_large_snapshots_recorded_digest_is_that_of_the_file_with_its_bom(
    tmp_path: Path,
) -> None:
    snapshot = json.loads(encode_snapshot(build({"appliances": {"sa-1": {}}})))
    # Trailing blanks past the threaded size: the digest is then hashed on its own thread.
    data = b"\xef\xbb\xbf" + json.dumps(snapshot, indent=1).encode() + b" " * (2 << 20)
    path = tmp_path / "big.json"
    path.write_bytes(data)
    assert load_snapshot(path).sha256 == hashlib.sha256(data).hexdigest()
