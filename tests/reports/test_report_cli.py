"""``check`` writes every requested report in one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalearc_lint.cli import main
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.sketch import build, build_estate
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


def test_id001_findings_reach_every_report(tmp_path: Path) -> None:
    """A conflicting VM in one vCenter, no appliance at all in the other: both ID001
    failures are in the JSON, JUnit, SARIF and HTML reports, with ID001 described."""
    snapshots = build_estate(
        {
            "appliances": {
                "sa-1": {
                    "role": "secondary",
                    "tags": [{"category": "scalearc-role", "name": "primary"}],
                },
                "sa-2": {},
            },
            "vcenters": {"vc-empty.example": {"vms": {"web-1": {}}}},
        }
    )
    paths = [tmp_path / f"{s.source.vcenter}.json" for s in snapshots]
    for path, snap in zip(paths, snapshots, strict=True):
        path.write_bytes(encode_snapshot(snap))
    out = {ext: tmp_path / f"r.{ext}" for ext in ("html", "xml", "sarif", "json")}
    argv = ["check", *map(str, paths), "--html", str(out["html"]), "--junit", str(out["xml"])]
    assert main([*argv, "--sarif", str(out["sarif"]), "--json", str(out["json"])]) == 1

    document = json.loads(out["json"].read_bytes())
    failing = {
        (r["object"]["kind"], r["object"]["name"])
        for r in document["results"]
        if r["rule"] == "ID001" and r["status"] == "fail"
    }
    assert failing == {("vm", "sa-1"), ("vcenter", "vc-empty.example")}
    assert "ID001" in {rule["id"] for rule in document["rules"]}

    junit_schema().validate(str(out["xml"]))
    junit = out["xml"].read_text()
    assert 'name="ID001' in junit and junit.count("<failure") >= 2

    run = validate_sarif(out["sarif"].read_bytes())["runs"][0]
    assert "ID001" in {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    sarif_failures = {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        for r in run["results"]
        if r["ruleId"] == "ID001"
    }
    assert any(name.endswith("vcenter/vc-empty.example") for name in sarif_failures)
    assert any("/vm/" in name for name in sarif_failures)

    html_failures = {
        (r["object"]["kind"], r["object"]["name"])
        for r in HtmlPage(out["html"].read_bytes()).results()
        if (r["rule"], r["status"]) == ("ID001", "fail")
    }
    assert html_failures == failing


def test_a_pair_across_two_vcenters_is_one_object_of_the_html_report(tmp_path: Path) -> None:
    """Its results are under its home vCenter; both members link to it and take its status."""
    snapshots = build_estate(
        {
            "appliances": {"sa-a": {"role": "primary", "pair": "p1"}},
            "vcenters": {
                "vc-b.example": {"appliances": {"sa-b": {"role": "primary", "pair": "p1"}}}
            },
        }
    )
    paths = [tmp_path / f"{s.source.vcenter}.json" for s in snapshots]
    for path, snap in zip(paths, snapshots, strict=True):
        path.write_bytes(encode_snapshot(snap))
    html_path = tmp_path / "r.html"
    assert main(["check", *map(str, paths), "-q", "--html", str(html_path)]) == 1  # SA011
    page = HtmlPage(html_path.read_bytes())
    objects = page.objects()
    pairs = [i for i, o in enumerate(objects) if o["kind"] == "ha-pair"]
    assert [(objects[i]["id"], objects[i]["vcenter"]) for i in pairs] == [("p1", "vc-b.example")]
    members = {o["name"]: o for o in objects if o["kind"] == "vm"}
    assert {name: o["pair"] for name, o in members.items()} == {"sa-a": pairs[0], "sa-b": pairs[0]}
    # Each member's placement card shows the pair's failure, in either vCenter.
    cards = {a.get("data-q"): a.get("class") or "" for a in page.all("a") if a.get("data-q")}
    assert "st-fail" in cards["sa-a"] and "st-fail" in cards["sa-b"]
