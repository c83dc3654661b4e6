"""SARIF 2.1.0: valid against the OASIS schema and read by sarif-tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args

from sarif import loader as sarif_loader

from scalearc_lint.cli import main
from scalearc_lint.engine.results import BaselineState
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.reports import sarif
from tests.conftest import EXAMPLES
from tests.reports.reportkit import (
    HOSTILE_NAMES,
    compared_lab,
    lab,
    make_document,
    make_result,
    make_rule,
    sarif_schema,
    validate_sarif,
)


def test_lab_log_is_valid_sarif_2_1_0() -> None:
    log = validate_sarif(sarif.render(lab().document))
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_sarif_tools_reads_every_non_passing_result(tmp_path: Path) -> None:
    document = lab().document
    path = tmp_path / "lab.sarif"
    path.write_bytes(sarif.render(document))
    sarif_file = sarif_loader.load_sarif_file(str(path))
    expected = [
        r for r in document.results if r.status in (Status.FAIL, Status.WAIVED, Status.UNKNOWN)
    ]
    assert sarif_file.get_result_count() == len(expected)
    records = sarif_file.get_records()
    assert sorted((rec["Code"], rec["Location"]) for rec in records) == sorted(
        (r.rule, "snapshot.json") for r in expected
    )
    assert sarif_file.get_distinct_tool_names() == ["scalearc-lint"]
    assert set(sarif_file.get_severities()) <= {"error", "warning", "note", "none"}
    assert sarif_file.get_rules_by_id("SA004")[0]["shortDescription"]["text"].startswith("HA pair")


def test_rules_carry_help_with_rationale_reference_and_remediation() -> None:
    document = lab().document
    rules = validate_sarif(sarif.render(document))["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in document.rules]
    level = {"error": "error", "warning": "warning", "info": "note"}
    for descriptor, info in zip(rules, document.rules, strict=True):
        for text in (info.rationale, info.reference, info.remediation):
            assert text in descriptor["help"]["text"]
        assert descriptor["defaultConfiguration"]["level"] == level[info.severity.value]


def test_results_have_level_message_and_logical_location() -> None:
    document = lab().document
    results = validate_sarif(sarif.render(document))["runs"][0]["results"]
    sa004 = next(r for r in results if r["ruleId"] == "SA004")
    assert sa004["level"] == "error"
    assert sa004["kind"] == "fail"
    assert "both run on esx-1" in sa004["message"]["text"]
    logical = sa004["locations"][0]["logicalLocations"][0]
    assert logical["name"] == "pair-alpha"
    assert logical["fullyQualifiedName"] == "vcenter.lab.example/ha-pair/pair-alpha"


def test_waived_result_is_suppressed_with_the_waiver() -> None:
    results = validate_sarif(sarif.render(lab().document))["runs"][0]["results"]
    waived = [r for r in results if "suppressions" in r]
    assert len(waived) == 1
    suppression = waived[0]["suppressions"][0]
    assert suppression["kind"] == "external"
    assert suppression["justification"].startswith("vendor case 4711")
    assert suppression["properties"]["owner"] == "dba-team@example.com"
    assert suppression["properties"]["expires"] == "2026-12-31"


def test_unknown_is_a_review_with_level_none_and_a_crash_fails_the_invocation() -> None:
    run = validate_sarif(sarif.render(lab().document))["runs"][0]
    unknown = [r for r in run["results"] if r["properties"]["status"] == "unknown"]
    assert [(r["kind"], r["level"]) for r in unknown] == [("review", "none")]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [crash] = invocation["toolExecutionNotifications"]
    assert crash["associatedRule"]["id"] == "SA007"
    assert "crashed" in crash["message"]["text"]


def test_passing_results_are_left_out() -> None:
    document = make_document([make_result("sa-1", Status.PASS)], [make_rule()])
    run = validate_sarif(sarif.render(document))["runs"][0]
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True


def test_severity_maps_to_level() -> None:
    results = [
        make_result("a", severity=Severity.ERROR, moid="vm-1"),
        make_result("b", severity=Severity.WARNING, moid="vm-2"),
        make_result("c", severity=Severity.INFO, moid="vm-3"),
    ]
    log = validate_sarif(sarif.render(make_document(results, [make_rule()])))
    assert [r["level"] for r in log["runs"][0]["results"]] == ["error", "warning", "note"]


def test_fingerprint_follows_the_instance_uuid_across_renames() -> None:
    before = make_result("sa-old")
    renamed = make_result("sa-new")
    assert sarif.fingerprint(before) == sarif.fingerprint(renamed)
    assert sarif.fingerprint(before) != sarif.fingerprint(make_result("sa-old", rule="SA002"))


def test_artifact_uri_is_repository_relative() -> None:
    assert sarif.artifact_uri("inventory/vc 1.json") == "inventory/vc%201.json"
    assert sarif.artifact_uri("/var/lib/ci/snap.json") == "snap.json"


def test_hostile_names_are_carried_verbatim() -> None:
    results = [make_result(n, moid=f"vm-{i}", message=n) for i, n in enumerate(HOSTILE_NAMES)]
    log = validate_sarif(sarif.render(make_document(results, [make_rule(text="\x00\x1b")])))
    names = [r["locations"][0]["logicalLocations"][0]["name"] for r in log["runs"][0]["results"]]
    assert sorted(names) == sorted(HOSTILE_NAMES)


def test_sarif_tools_command_line_summarises_the_log(tmp_path: Path) -> None:
    path = tmp_path / "lab.sarif"
    path.write_bytes(sarif.render(lab().document))
    out = tmp_path / "summary.txt"
    done = subprocess.run(
        [sys.executable, "-m", "sarif", "summary", "--output", str(out), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    # SA004 and SA008 fail, SA001 waived (suppressed, still listed), SA006 unknown (a note).
    assert "error: 3" in text
    assert "none: 1" in text


def test_compared_results_carry_a_valid_baseline_state(tmp_path: Path) -> None:
    document = compared_lab().document
    data = sarif.render(document)
    run = validate_sarif(data)["runs"][0]
    states = {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r["baselineState"]
        for r in run["results"]
    }
    assert states[("SA004", "pair-alpha")] == "new"
    assert states[("SA008", "sa-solo")] == "unchanged"
    assert states[("SA001", "sa-solo")] == "unchanged"  # waived, still reported
    assert set(states.values()) == {"new", "unchanged"}
    # sarif-tools still reads every reported result.
    path = tmp_path / "compared.sarif"
    path.write_bytes(data)
    assert sarif_loader.load_sarif_file(str(path)).get_result_count() == len(states)


def test_resolved_findings_pass_and_stay_out_like_every_pass() -> None:
    run = validate_sarif(sarif.render(compared_lab().document))["runs"][0]
    assert ("SA005", "pair-alpha") not in {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]) for r in run["results"]
    }
    comparison = run["properties"]["comparison"]
    assert comparison["source"] == "nightly-previous.json"
    assert (comparison["new"], comparison["persisting"], comparison["resolved"]) == (1, 67, 2)
    assert "baselineGuid" not in run


def test_every_baseline_mark_has_a_sarif_state_the_schema_allows() -> None:
    allowed = set(sarif_schema()["definitions"]["result"]["properties"]["baselineState"]["enum"])
    assert set(sarif.BASELINE_STATES) == set(get_args(BaselineState))
    assert set(sarif.BASELINE_STATES.values()) <= allowed
    assert sarif.BASELINE_STATES["resolved"] == "absent"


def test_plain_log_has_no_baseline_fields() -> None:
    run = validate_sarif(sarif.render(lab().document))["runs"][0]
    assert not [r for r in run["results"] if "baselineState" in r]
    assert "comparison" not in run["properties"]


def test_example_lab_results_come_most_urgent_first_with_rank_and_next_step(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lab.sarif"
    assert main(["check", str(EXAMPLES / "lab.json"), "--sarif", str(path), "-q"]) == 1
    results = validate_sarif(path.read_bytes())["runs"][0]["results"]
    failing = [r for r in results if r["properties"]["status"] == "fail"]
    assert results[: len(failing)] == failing
    ranks = [r["rank"] for r in failing]
    assert ranks[0] == 100.0 and ranks == sorted(ranks, reverse=True)
    first = failing[0]
    assert (first["ruleId"], first["properties"]["object"]["name"]) == ("SA009", "sa-billing-01")
    assert first["properties"]["actNow"] == {"position": 1, "of": 9, "urgency": "happened"}
    assert "(3 days ago)" in first["message"]["text"]
    assert first["message"]["text"].endswith("\nNext step: " + first["properties"]["nextStep"])
    assert first["properties"]["nextStep"].startswith("Check sa-billing-01 and its database")
    # Errors before warnings: the SA001 (a manual MAC outside the static range), the two
    # SA007 and SA013 warnings and billing-02's pile of snapshots (SA015) close the list.
    assert [r["level"] for r in failing] == ["error"] * 22 + ["warning"] * 6
    unknown = [r for r in results if r["properties"]["status"] == "unknown"]
    assert all("rank" not in r and "nextStep" not in r["properties"] for r in unknown)
