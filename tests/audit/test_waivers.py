"""Waivers: strict file validation, matching, and expiry at the run's as-of time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.audit.waivers import apply_waivers, load_waivers, parse_expiry
from scalearc_lint.engine.results import (
    ObjectRef,
    Result,
    ResultsDocument,
    SnapshotInfo,
    Summary,
    ToolInfo,
)
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.errors import InputError

WriteYaml = Callable[[str, Any], Path]
KNOWN = {"SA001", "SA004", "SA008", "PLAN001"}
AS_OF = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
ENTRY = {
    "rule": "SA001",
    "object": {"name": "sa-a*"},
    "reason": "MAC change scheduled",
    "owner": "net-team",
    "ticket": "CHG-1",
    "expires": "2026-12-31",
}


def document(*results: Result, as_of: datetime = AS_OF) -> ResultsDocument:
    info = SnapshotInfo("0" * 64, "vc1", as_of, as_of)
    return ResultsDocument(
        tool=ToolInfo(), snapshot=info, results=list(results), summary=Summary.of(results)
    )


def result(
    rule: str = "SA001",
    status: Status = Status.FAIL,
    name: str = "sa-a1",
    *,
    moid: str = "vm-1",
    uuid: str = "5001-aa",
    vcenter: str = "vc1",
) -> Result:
    return Result(rule, status, Severity.ERROR, ObjectRef("vm", moid, name, vcenter, uuid), "m")


def waivers_file(write_yaml: WriteYaml, **changes: Any) -> Path:
    entry = {k: v for k, v in {**ENTRY, **changes}.items() if v is not None}
    return write_yaml("waivers.yaml", {"waivers": [entry]})


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"expiry": "2026-12-31"}, "expiry", "unknown key 'expiry'"),
        ({"expires": None}, None, "missing 'expires'"),
        ({"expires": "next week"}, "expires", "is not a date"),
        ({"rule": "SA999"}, "rule", "unknown rule id 'SA999'"),
        ({"object": {"name": "x", "moid": "vm-1"}}, "object", "exactly one of"),
        ({"object": {"host": "esx-1"}}, "object", "exactly one of"),
        ({"owner": ""}, None, "missing 'owner'"),
    ],
)
def test_malformed_waiver_names_entry_and_line(
    write_yaml: WriteYaml, changes: dict[str, Any], key: str | None, words: str
) -> None:
    path = waivers_file(write_yaml, **changes)
    lines = path.read_text().splitlines()
    line = next((i + 1 for i, text in enumerate(lines) if key and f"{key}:" in text), 2)
    with pytest.raises(InputError) as info:
        load_waivers(path, KNOWN)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: waiver 1")
    assert words in message and "\n" not in message


def test_impossible_unquoted_date_is_an_input_error_with_line(write_yaml: WriteYaml) -> None:
    text = "waivers:\n  - rule: SA001\n    expires: 2026-13-01\n"
    path = write_yaml("waivers.yaml", text)
    with pytest.raises(InputError, match=rf"^{path}:3: "):
        load_waivers(path, KNOWN)


def test_top_level_must_be_a_waivers_list(write_yaml: WriteYaml) -> None:
    with pytest.raises(InputError, match="one key, waivers"):
        load_waivers(write_yaml("w.yaml", [ENTRY]), KNOWN)


def test_date_expiry_is_valid_through_that_day_utc() -> None:
    end, text = parse_expiry("2026-12-31")
    assert end == datetime(2027, 1, 1, tzinfo=UTC) and text == "2026-12-31"
    assert parse_expiry("2026-12-31T18:00:00")[0] == datetime(2026, 12, 31, 18, tzinfo=UTC)


def test_matching_unexpired_waiver_turns_fail_into_waived(write_yaml: WriteYaml) -> None:
    (waiver,) = load_waivers(waivers_file(write_yaml), KNOWN)
    out = apply_waivers(document(result(), result(name="sb-1", uuid="5001-bb")), [waiver])
    by_name = {r.object.name: r for r in out.results}
    assert by_name["sa-a1"].status is Status.WAIVED
    assert by_name["sa-a1"].waiver is not None
    assert by_name["sa-a1"].waiver.ticket == "CHG-1"
    assert by_name["sa-a1"].waiver.expires == "2026-12-31"
    assert by_name["sa-a1"].waiver.source.endswith("waivers.yaml:2")
    assert by_name["sb-1"].status is Status.FAIL
    assert out.summary.waived == 1 and out.summary.fail == 1


@pytest.mark.parametrize(
    ("object_", "hits"),
    [
        ({"instance_uuid": "5001-AA"}, {"sa-a1"}),
        ({"moid": "vm-2"}, {"renamed"}),
        ({"name": "sa-?1"}, {"sa-a1"}),
        ({"name": "*"}, {"sa-a1", "renamed"}),
        ({"name": "SA-*"}, set()),
    ],
)
def test_waiver_matches_by_uuid_moid_or_name_glob(
    write_yaml: WriteYaml, object_: dict[str, str], hits: set[str]
) -> None:
    (waiver,) = load_waivers(waivers_file(write_yaml, object=object_), KNOWN)
    out = apply_waivers(
        document(result(), result(name="renamed", moid="vm-2", uuid="5001-bb")), [waiver]
    )
    assert {r.object.name for r in out.results if r.status is Status.WAIVED} == hits


def test_waiver_limited_to_a_vcenter(write_yaml: WriteYaml) -> None:
    (waiver,) = load_waivers(waivers_file(write_yaml, vcenter="vc2"), KNOWN)
    out = apply_waivers(document(result(vcenter="vc1"), result(vcenter="vc2", uuid="x")), [waiver])
    assert [r.object.vcenter for r in out.results if r.status is Status.WAIVED] == ["vc2"]


def test_only_failures_are_waived(write_yaml: WriteYaml) -> None:
    (waiver,) = load_waivers(waivers_file(write_yaml), KNOWN)
    statuses = (Status.PASS, Status.UNKNOWN, Status.CRASHED)
    out = apply_waivers(document(*(result(status=s) for s in statuses)), [waiver])
    assert [r.status for r in out.results] == list(statuses)


def test_expired_waiver_does_not_waive_and_is_reported(write_yaml: WriteYaml) -> None:
    (waiver,) = load_waivers(waivers_file(write_yaml, expires="2026-11-23"), KNOWN)
    out = apply_waivers(document(result()), [waiver])
    statuses = {r.rule: r.status for r in out.results}
    assert statuses == {"SA001": Status.FAIL, "WAIVER001": Status.FAIL}
    report = next(r for r in out.results if r.rule == "WAIVER001")
    assert report.severity is Severity.WARNING
    assert report.object.kind == "waiver" and report.object.id.endswith("waivers.yaml:2")
    assert "expired 2026-11-23" in report.message and "1 failing result" in report.message
    assert "WAIVER001" in {info.id for info in out.rules}


def test_expiry_is_judged_at_as_of_not_wall_clock(write_yaml: WriteYaml) -> None:
    (waiver,) = load_waivers(waivers_file(write_yaml, expires="2026-11-24T02:00:00Z"), KNOWN)
    before = apply_waivers(
        document(result(), as_of=datetime(2026, 11, 24, 1, 59, tzinfo=UTC)), [waiver]
    )
    at = apply_waivers(document(result(), as_of=datetime(2026, 11, 24, 2, 0, tzinfo=UTC)), [waiver])
    assert before.results[0].status is Status.WAIVED
    assert "WAIVER001" in {r.rule for r in at.results}


def test_plan_rule_ids_can_be_waived(write_yaml: WriteYaml) -> None:
    (waiver,) = load_waivers(waivers_file(write_yaml, rule="PLAN001"), KNOWN)
    assert waiver.rule == "PLAN001"
