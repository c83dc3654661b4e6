"""The command line as users meet it: check, rules, explain, synth, help, exit codes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalearc_lint.change.planlint import PLAN_RULES
from scalearc_lint.cli import build_parser
from scalearc_lint.commands.list_rules import TOOL_RULES
from scalearc_lint.engine.appliance_id import EXAMPLES as ID001_EXAMPLES
from scalearc_lint.engine.appliance_id import ID001
from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.engine.results import RuleInfo
from scalearc_lint.engine.rule import Severity
from tests.conftest import EXAMPLES, REPO, run_cli

LAB = EXAMPLES / "lab.json"


def test_check_lab_prints_findings_and_fails() -> None:
    result = run_cli(["check", LAB])
    assert result.code == 1
    assert "FAIL    SA004 error   ha-pair billing: sa-billing-01 and sa-billing-02 both run" in (
        result.stdout
    )
    assert "82 passed, 28 failed, 0 waived, 14 unknown, 0 crashed" in result.stdout
    assert "\033[" not in result.stdout  # not a terminal: no colour


def test_json_results_contract(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    assert run_cli(["check", LAB, "--json", out]).code == 1
    document = json.loads(out.read_text())
    assert list(document)[:5] == ["version", "tool", "snapshot", "results", "summary"]
    assert document["version"] == 2
    assert document["tool"]["name"] == "scalearc-lint"
    assert document["tool"]["version"]
    snapshot = document["snapshot"]
    assert set(snapshot) >= {"sha256", "vcenter", "exported_at", "as_of"}
    assert snapshot["vcenter"] == "vcsa01.corp.example"
    assert snapshot["exported_at"] == snapshot["as_of"] == "2026-11-24T02:00:00Z"
    assert len(snapshot["sha256"]) == 64
    for r in document["results"]:
        assert set(r) == {"rule", "status", "severity", "object", "message", "waiver"}
        assert r["status"] in {"pass", "fail", "waived", "unknown", "crashed"}
        assert r["severity"] in {"error", "warning", "info"}
        assert {"kind", "id", "name"} <= set(r["object"])
        assert r["waiver"] is None
    pair = next(r for r in document["results"] if r["rule"] == "SA004")
    assert pair["object"] == {
        "kind": "ha-pair",
        "id": "billing",
        "name": "billing",
        "vcenter": "vcsa01.corp.example",
    }
    vm = next(
        r
        for r in document["results"]
        if r["rule"] == "SA001" and r["object"]["name"] == "sa-billing-02"
    )
    assert vm["object"]["kind"] == "vm" and vm["object"]["id"].startswith("vm-")
    assert vm["status"] == "fail"
    assert document["summary"] == {"pass": 82, "fail": 28, "waived": 0, "unknown": 14, "crashed": 0}
    assert sum(document["summary"].values()) == len(document["results"])


def test_every_rule_passes_and_fails_somewhere_in_the_lab() -> None:
    results = json.loads(run_cli(["check", LAB, "--json", "-"]).stdout)["results"]
    for n in range(1, 17):
        statuses = {r["status"] for r in results if r["rule"] == f"SA{n:03d}"}
        assert {"pass", "fail"} <= statuses, n


def test_as_of_changes_snapshot_age(tmp_path: Path) -> None:
    early = json.loads(
        run_cli(["check", LAB, "--json", "-", "--as-of", "2026-11-19T12:00:00Z"]).stdout
    )
    sa008 = {r["object"]["name"]: r["status"] for r in early["results"] if r["rule"] == "SA008"}
    assert sa008["sa-reports-01"] == "pass"  # taken 2026-11-19T02:00, 10 h old then
    assert early["snapshot"]["as_of"] == "2026-11-19T12:00:00Z"


def test_bad_as_of() -> None:
    result = run_cli(["check", LAB, "--as-of", "yesterday-ish"])
    assert result.code == 2
    assert "--as-of: 'yesterday-ish' is not an ISO 8601 time" in result.stderr


@pytest.mark.parametrize(("fail_on", "code"), [("error", 1), ("warning", 1), ("never", 0)])
def test_fail_on(fail_on: str, code: int) -> None:
    assert run_cli(["check", LAB, "--fail-on", fail_on, "--quiet"]).code == code


def test_fail_on_rejects_unknown_level() -> None:
    result = run_cli(["check", LAB, "--fail-on", "critical"])
    assert result.code == 2
    assert "invalid choice: 'critical'" in result.stderr


def test_quiet_prints_only_the_table() -> None:
    result = run_cli(["check", LAB, "--quiet"])
    assert "FAIL " not in result.stdout
    assert "SA001" in result.stdout


def test_json_output_file_in_missing_directory(tmp_path: Path) -> None:
    result = run_cli(["check", LAB, "--json", tmp_path / "nope" / "r.json"])
    assert result.code == 2
    assert "does not exist" in result.stderr


def test_failed_run_keeps_previous_results_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("previous")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert run_cli(["check", bad, "--json", out]).code == 2
    assert out.read_text() == "previous"


def test_two_snapshots_of_one_vcenter_are_rejected() -> None:
    result = run_cli(["check", LAB, LAB])
    assert result.code == 2
    assert "same vCenter (vcsa01.corp.example)" in result.stderr


def test_rules_lists_the_sixteen_under_a_header() -> None:
    result = run_cli(["rules"])
    assert result.code == 0
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "SEVERITY", "SCOPE", "TITLE"]
    assert [line.split()[0] for line in lines] == [f"SA{n:03d}" for n in range(1, 17)]
    assert lines[0].split()[1] == "static-mac"
    # The header's columns are the rows' columns.
    assert header.index("NAME") == lines[0].index("static-mac")
    assert header.index("TITLE") == lines[0].index("Appliance vNICs")


def test_rules_all_adds_the_tool_findings_after_the_rule_modules() -> None:
    default = run_cli(["rules"]).stdout.splitlines()[1:]
    result = run_cli(["rules", "--all"])
    assert result.code == 0
    header, *lines = result.stdout.splitlines()
    assert header.index("SEVERITY") == lines[-1].index("warning")
    ids = [line.split()[0] for line in lines]
    plan_ids = [f"PLAN00{n}" for n in range(1, 10)]
    assert ids == [*(f"SA{n:03d}" for n in range(1, 17)), "ID001", *plan_ids, "WAIVER001"]
    assert lines[16].split()[:4] == ["ID001", "appliance-identification", "error", "vm/vcenter"]
    # The SA lines keep their columns; the longer plan names widen only --all's.
    assert [line.split() for line in lines[:16]] == [line.split() for line in default]
    assert lines[-1].split()[:4] == ["WAIVER001", "waiver-expired", "warning", "waiver"]
    assert len({line.index(" error ") for line in lines if " error " in line}) == 1


def test_rules_all_verbose_names_where_the_tool_rules_come_from() -> None:
    header, *lines = run_cli(["rules", "--all", "-v"]).stdout.splitlines()
    assert header.endswith("TITLE  [SOURCE]")
    assert lines[16].endswith("[built-in appliance identification (every run)]")
    assert lines[17].endswith("[built-in plan lint (whatif)]")
    assert lines[-1].endswith("[built-in waivers (--waivers)]")


def explained(name: str, info: RuleInfo) -> str:
    """``explain NAME``'s output, checked to open with ``info`` and hold all its text."""
    result = run_cli(["explain", name])
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(f"{info.id} {info.name}: {info.title}\n")
    assert f"severity: {info.severity.value}    applies to: {info.scope}" in result.stdout
    text = " ".join(result.stdout.split())
    for part in (info.rationale, info.reference, info.remediation):
        assert " ".join(part.split()) in text
    return result.stdout


@pytest.mark.parametrize("name", ["PLAN003", "plan003", "pair-move-order"])
def test_explain_a_plan_rule_from_its_one_description(name: str) -> None:
    explained(name, next(r for r in PLAN_RULES if r.id == "PLAN003"))


def test_explain_waiver001_names_its_own_reference() -> None:
    result = run_cli(["explain", "WAIVER001"])
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("WAIVER001 waiver-expired: ")
    assert "\nReference:\n" in result.stdout
    assert "ScaleArc VM best practices" not in result.stdout


@pytest.mark.parametrize("name", ["ID001", "id001", "appliance-identification"])
def test_explain_id001_with_its_examples(name: str) -> None:
    output = explained(name, ID001)
    assert "\nReference:\n" in output  # the tool's own, not the vendor's paper
    for example in ID001_EXAMPLES:
        assert f"  - {example.title}  =>  " in output
    assert "config appliances: {'none_expected_in': ['VCENTER.LAB.EXAMPLE']}" in output


@pytest.mark.parametrize("name", ["SA008", "sa008", "snapshot-age"])
def test_explain(name: str) -> None:
    result = run_cli(["explain", name])
    assert result.code == 0
    assert result.stdout.startswith("SA008 snapshot-age: Appliance VM snapshots are short-lived")
    for heading in (
        "Why:",
        "Reference (ScaleArc VM best practices):",
        "Remediation:",
        "Options",
        "max_age: default 24h",
        "Examples",
    ):
        assert heading in result.stdout
    assert "keep snapshots only briefly" in " ".join(result.stdout.split())


def test_explain_unknown_rule() -> None:
    result = run_cli(["explain", "SA404"])
    assert result.code == 2
    assert (
        result.stderr.strip()
        == "scalearc-lint: error: no rule 'SA404' (see `scalearc-lint rules --all`)"
    )


@pytest.mark.parametrize("command", [[], ["check"], ["rules"], ["explain"], ["synth"]])
def test_help(command: list[str]) -> None:
    result = run_cli([*command, "--help"])
    assert result.code == 0
    assert "usage: scalearc-lint" in result.stdout


def test_every_option_with_a_default_shows_it_in_help() -> None:
    """A default a user cannot see is a default they must guess (synth's --appliances was one)."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    unshown = [
        f"{name} {'/'.join(action.option_strings)}"
        for name, sub in subparsers.choices.items()
        for action in sub._actions
        if action.option_strings
        and action.default not in (None, False, [], argparse.SUPPRESS)
        and "default" not in (action.help or "")
    ]
    assert unshown == []


@pytest.mark.parametrize("command", ["check", "whatif", "diff"])
def test_fail_on_help_says_no_built_in_rule_has_severity_info(command: str) -> None:
    text = " ".join(run_cli([command, "--help"]).stdout.split())
    assert "No built-in rule has severity info" in text
    built_in = [(item.rule.id, item.rule.severity) for item in discover_rules(plugins=False)]
    tool = [(info.id, info.severity) for info, _ in TOOL_RULES]
    assert len(built_in) >= 11
    assert [rule for rule, severity in [*built_in, *tool] if severity == Severity.INFO] == []


def test_no_command_is_usage_error() -> None:
    result = run_cli([])
    assert result.code == 2
    assert "required: COMMAND" in result.stderr


def test_synth_is_deterministic_and_lintable(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    for path, seed in ((a, "7"), (b, "7"), (c, "8")):
        result = run_cli(
            ["synth", "--vms", "600", "--appliances", "30", "--seed", seed, "-o", path]
        )
        assert result.code == 0, result.stderr
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    document = json.loads(run_cli(["check", a, "--json", "-"]).stdout)
    assert len(json.loads(a.read_text())["vms"]) == 600
    assert {r["object"]["id"] for r in document["results"] if r["rule"] == "SA001"}.__len__() == 30


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--vms", "10", "--appliances", "20"], "--appliances 20 is more than --vms 10"),
        (["--vms", "-1"], "is negative"),
        (["--vms", "ten"], "'ten' is not a whole number"),
        (["--vms", "10", "--violation-rate", "2"], "not between 0 and 1"),
    ],
)
def test_synth_bad_arguments(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run_cli(["synth", *args, "-o", tmp_path / "s.json"])
    assert result.code == 2
    assert expected in result.stderr
    assert not (tmp_path / "s.json").exists()


def test_start_up_does_not_import_pyvmomi() -> None:
    """Only export talks to vCenter; check, rules and friends must not pay for pyVmomi."""
    code = "import sys, scalearc_lint.cli; sys.exit('pyVmomi' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)}, check=False
    )
    assert proc.returncode == 0


def test_unreadable_tags_warn_that_appliances_may_be_missed(tmp_path: Path) -> None:
    from scalearc_lint.snapshot.loader import encode_snapshot
    from scalearc_lint.snapshot.sketch import build

    snap = tmp_path / "snap.json"
    snap.write_bytes(
        encode_snapshot(build({"appliances": {"sa-1": {}}, "unreadable": [{"kind": "tags"}]}))
    )
    result = run_cli(["check", snap, "-q"])
    assert result.code == 0
    assert result.stderr.strip() == (
        f"scalearc-lint: warning: {snap}: vSphere tags could not be read (see the snapshot's "
        "'unreadable'); appliances identified by them are not linted"
    )
    assert run_cli(["check", LAB, "-q"]).stderr == ""


@pytest.mark.parametrize(("value", "expected"), [("-3", "-3 is negative"), ("x", "'x' is not")])
def test_export_events_days_must_be_a_count(value: str, expected: str, tmp_path: Path) -> None:
    result = run_cli(
        ["export", "--server", "vc.example", "--events-days", value, "-o", tmp_path / "s.json"]
    )
    assert result.code == 2
    assert f"argument --events-days: {expected}" in result.stderr
    assert not (tmp_path / "s.json").exists()
