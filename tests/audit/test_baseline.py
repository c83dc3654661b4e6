"""Baselines: results marked new / persisting / resolved by stable identity."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from scalearc_lint.audit.baseline import compare, exit_code_new, load_results
from scalearc_lint.engine.results import Comparison
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.errors import InputError
from tests.audit.test_waivers import document, result


def test_rename_keeps_identity_so_it_is_not_new() -> None:
    old = document(result(name="sa-a1", moid="vm-1"))
    new = document(result(name="sa-alpha-1", moid="vm-77"))
    (r,) = compare(new, old, source="old.json").results
    assert r.baseline == "persisting"


def test_new_failure_resolved_and_gone() -> None:
    old = document(
        result(name="fixed", uuid="u-fixed"),
        result(name="deleted", uuid="u-deleted"),
        result(name="ok", uuid="u-ok", status=Status.PASS),
    )
    new = document(
        result(name="fixed", uuid="u-fixed", status=Status.PASS),
        result(name="ok", uuid="u-ok", status=Status.PASS),
        result(name="broke", uuid="u-broke"),
    )
    out = compare(new, old, source="old.json")
    assert {r.object.name: r.baseline for r in out.results} == {
        "fixed": "resolved",
        "ok": "persisting",
        "broke": "new",
    }
    assert isinstance(out.comparison, Comparison)
    assert [r.object.name for r in out.comparison.gone] == ["deleted"]
    assert out.comparison.gone[0].baseline == "resolved"
    assert (out.comparison.new, out.comparison.persisting, out.comparison.resolved) == (1, 1, 2)
    assert out.comparison.source == "old.json"


def test_waived_and_failing_are_one_class_but_unknown_to_fail_is_new() -> None:
    old = document(result(uuid="a", status=Status.WAIVED), result(uuid="b", status=Status.UNKNOWN))
    new = document(result(uuid="a"), result(uuid="b"))
    assert [r.baseline for r in compare(new, old, source="x").results] == ["persisting", "new"]


def test_same_object_in_another_vcenter_is_another_identity() -> None:
    out = compare(document(result(vcenter="vc2")), document(result(vcenter="vc1")), source="x")
    assert out.results[0].baseline == "new"


def test_fail_on_new_ignores_persisting_failures_but_not_crashes() -> None:
    old = document(result(uuid="a"))
    persisting = compare(document(result(uuid="a")), old, source="x")
    assert exit_code_new(persisting.results, Severity.ERROR) == 0
    fresh = compare(document(result(uuid="a"), result(uuid="b")), old, source="x")
    assert exit_code_new(fresh.results, Severity.ERROR) == 1
    assert exit_code_new(fresh.results, None) == 0
    crashed = compare(document(result(uuid="a", status=Status.CRASHED)), old, source="x")
    assert exit_code_new(crashed.results, Severity.ERROR) == 3


def test_comparison_survives_the_json_round_trip() -> None:
    out = compare(document(result(uuid="b")), document(result(uuid="a")), source="x")
    data = msgspec.json.encode(out)
    raw = msgspec.json.decode(data)
    assert raw["results"][0]["baseline"] == "new"
    assert raw["comparison"]["gone"][0]["baseline"] == "resolved"
    assert raw["results"][0]["waiver"] is None


def test_plain_results_have_no_comparison_fields() -> None:
    raw = msgspec.json.decode(msgspec.json.encode(document(result())))
    assert "comparison" not in raw
    assert set(raw["results"][0]) == {"rule", "status", "severity", "object", "message", "waiver"}


def test_a_version_1_results_file_reads_with_error_as_crashed(tmp_path: Path) -> None:
    old = {
        "tool": {"name": "scalearc-lint", "version": "0.1.0"},
        "snapshot": {
            "sha256": "0" * 64,
            "vcenter": "vc",
            "exported_at": "2026-11-24T02:00:00Z",
            "as_of": "2026-11-24T02:00:00Z",
        },
        "results": [
            {
                "rule": "SA001",
                "status": "error",
                "severity": "error",
                "object": {"kind": "vm", "id": "vm-1", "name": "a"},
                "message": "rule SA001 crashed",
                "waiver": None,
            }
        ],
        "summary": {"pass": 0, "fail": 0, "waived": 0, "unknown": 0, "error": 1},
    }
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(old))
    document = load_results(path)
    assert document.version == 2
    assert [r.status for r in document.results] == [Status.CRASHED]
    assert document.summary.crashed == 1


def test_a_results_file_of_an_unknown_version_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "v9.json"
    path.write_text('{"version": 9}')
    with pytest.raises(InputError, match="results version 9"):
        load_results(path)
