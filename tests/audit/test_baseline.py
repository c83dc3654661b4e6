"""Baselines: results marked new / persisting / resolved by stable identity."""

from __future__ import annotations

import msgspec

from scalearc_lint.audit.baseline import compare, exit_code_new
from scalearc_lint.engine.results import Comparison
from scalearc_lint.engine.rule import Severity, Status
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
    crashed = compare(document(result(uuid="a", status=Status.ERROR)), old, source="x")
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
