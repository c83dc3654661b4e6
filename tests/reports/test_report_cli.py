"""``check`` writes every requested report in one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalearc_lint.cli import main
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.sketch import build
from tests.conftest import EXAMPLES
from tests.reports.reportkit import LAB_SKETCH, HtmlPage, junit_schema, validate_sarif


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "lab.json"
    path.write_bytes(encode_snapshot(build(LAB_SKETCH)))
    return path


def test_check_writes_html_junit_sarif_and_json_in_one_run(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = {ext: tmp_path / f"r.{ext}" for ext in ("html", "xml", "sarif", "json")}
    code = main(
        [
            "check",
            str(snapshot),
            "--html",
            str(out["html"]),
            "--junit",
            str(out["xml"]),
            "--sarif",
            str(out["sarif"]),
            "--json",
            str(out["json"]),
        ]
    )
    assert code == 1  # SA001 and SA008 fail on sa-solo, SA004 on pair-alpha
    assert out["html"].read_bytes().startswith(b"<!DOCTYPE html>")
    assert b"<testsuites" in out["xml"].read_bytes()
    assert json.loads(out["sarif"].read_bytes())["version"] == "2.1.0"
    assert json.loads(out["json"].read_bytes())["summary"]["fail"] == 3
    assert "passed" in capsys.readouterr().out


def test_a_report_on_stdout_replaces_the_console_summary(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(snapshot), "--sarif", "-"]) == 1
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"


def test_two_reports_on_stdout_are_refused(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(snapshot), "--json", "-", "--junit", "-"]) == 2
    assert "only one output can go to stdout, not --json and --junit" in capsys.readouterr().err


def test_one_file_for_two_reports_is_refused(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = str(tmp_path / "r.out")
    assert main(["check", str(snapshot), "--html", target, "--sarif", target]) == 2
    assert "already writes to that file" in capsys.readouterr().err
    assert not Path(target).exists()


def test_report_in_a_missing_directory_is_one_line_exit_2(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(snapshot), "--junit", str(tmp_path / "no" / "r.xml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_whatif_reports_carry_the_marks_against_the_current_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """whatif's baseline is the state without the plan: every report shows what it breaks."""
    out = {ext: tmp_path / f"w.{ext}" for ext in ("html", "xml", "sarif")}
    argv = ["whatif", str(EXAMPLES / "lab.json"), "--plan", str(EXAMPLES / "plan-bad.yaml")]
    argv += ["--html", str(out["html"]), "--junit", str(out["xml"]), "--sarif", str(out["sarif"])]
    assert main(argv) == 1
    run = validate_sarif(out["sarif"].read_bytes())["runs"][0]
    plan001 = [r for r in run["results"] if r["ruleId"] == "PLAN001"]
    assert plan001 and {r["baselineState"] for r in plan001} == {"new"}
    assert run["properties"]["comparison"]["source"].startswith("current state")
    junit_schema().validate(out["xml"].read_text(encoding="utf-8"))
    assert "<system-out>baseline: new</system-out>" in out["xml"].read_text(encoding="utf-8")
    page = HtmlPage(out["html"].read_bytes())
    assert [a.get("data-compared") for a in page.all("body")] == ["1"]
    assert "Against current state (without the plan)" in " ".join(page.text)
