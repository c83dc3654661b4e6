"""The whatif, diff and check --baseline/--waivers command lines, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.audit.conftest import EXAMPLES, Ran

Cli = Callable[..., Ran]
WriteYaml = Callable[[str, Any], Path]
LAB = EXAMPLES / "lab.json"


def test_example_good_plan_passes(cli: Cli) -> None:
    ran = cli("whatif", LAB, "--plan", EXAMPLES / "plan-good.yaml", "-q")
    assert ran.code == 0, ran.out + ran.err
    assert "0 broken" in ran.out


def test_example_bad_plan_fails_naming_the_steps(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "whatif.json"
    ran = cli("whatif", LAB, "--plan", EXAMPLES / "plan-bad.yaml", "--json", out)
    assert ran.code == 1
    doc = json.loads(out.read_text())
    failing = {
        (r["rule"], r["object"]["id"].rsplit("/", 1)[-1])
        for r in doc["results"]
        if r["object"]["kind"] == "plan-step" and r["status"] == "fail"
    }
    assert {
        ("PLAN001", "plan-bad.yaml:5"),
        ("PLAN003", "plan-bad.yaml:8"),
        ("PLAN002", "plan-bad.yaml:11"),
        ("PLAN005", "plan-bad.yaml:14"),
        ("PLAN001", "plan-bad.yaml:15"),
    } <= failing
    assert "broken    PLAN001" in ran.out and "plan-bad.yaml:5" in ran.out
    assert "fixed     SA004" in ran.out
    assert doc["comparison"]["source"].startswith("current state")


def test_example_waivers_waive_and_report_the_expired_one(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    ran = cli("check", LAB, "--waivers", EXAMPLES / "waivers.yaml", "--json", out)
    doc = json.loads(out.read_text())
    waived = [r for r in doc["results"] if r["status"] == "waived"]
    assert waived and all(r["waiver"]["expires"] for r in waived)
    assert any(r["rule"] == "WAIVER001" for r in doc["results"])
    assert ran.code == 1


def test_whatif_on_the_sketch_lab(cli: Cli, lab_file: Path, write_yaml: WriteYaml) -> None:
    plan = write_yaml("p.yaml", {"steps": [{"migrate": "sa-a1", "to": "esx-3", "mode": "live"}]})
    ran = cli("whatif", lab_file, "--plan", plan, "-q")
    assert ran.code == 1
    assert "broken    PLAN001" in ran.out
    fine = write_yaml("ok.yaml", {"steps": [{"migrate": "sa-a2", "to": "esx-4", "mode": "live"}]})
    assert cli("whatif", lab_file, "--plan", fine, "-q").code == 0


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        (
            "steps:\n  - migrate: sa-a1\n    to: esx-3\n",
            "p.yaml:2: step 1 (migrate): missing 'mode'",
        ),
        ("steps:\n  - power_off: ghost\n", "p.yaml:2: step 1 (power_off): no VM 'ghost'"),
        ("steps: [\n", "p.yaml:2: not valid YAML"),
    ],
)
def test_bad_plan_exits_2_with_one_line(
    cli: Cli, lab_file: Path, write_yaml: WriteYaml, plan: str, words: str
) -> None:
    ran = cli("whatif", lab_file, "--plan", write_yaml("p.yaml", plan))
    assert ran.code == 2
    assert words in ran.err and ran.err.count("\n") == 1 and "Traceback" not in ran.err


def test_bad_waivers_exit_2(cli: Cli, lab_file: Path, write_yaml: WriteYaml) -> None:
    bad = write_yaml("w.yaml", "waivers:\n  - rule: SA001\n    object: {name: x}\n")
    ran = cli("check", lab_file, "--waivers", bad)
    assert ran.code == 2 and "w.yaml:2: waiver 1 (SA001): missing 'reason'" in ran.err


def test_baseline_and_fail_on_new(cli: Cli, lab_file: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    assert cli("check", lab_file, "--json", first).code == 1  # sa-b2 has a generated MAC
    ran = cli("check", lab_file, "--baseline", first, "--fail-on-new", "-q")
    assert ran.code == 0
    assert "0 new, 0 resolved" in ran.out
    second = tmp_path / "second.json"
    cli("check", lab_file, "--baseline", first, "--json", second)
    doc = json.loads(second.read_text())
    assert {r["baseline"] for r in doc["results"]} == {"persisting"}
    assert doc["comparison"]["new"] == 0


def test_baseline_that_is_not_results_exits_2(cli: Cli, lab_file: Path) -> None:
    ran = cli("check", lab_file, "--baseline", lab_file)
    assert ran.code == 2 and "not a scalearc-lint --json results file" in ran.err


def test_diff_writes_json_and_escaped_html(cli: Cli, lab_file: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    cli("check", lab_file, "--json", old)
    doc = json.loads(old.read_text())
    failing = next(r for r in doc["results"] if r["status"] == "fail")
    doc["results"].remove(failing)
    hostile = dict(failing, rule="SA004", message="<script>alert(1)</script>")
    hostile["object"] = dict(failing["object"], name="<b>pwn</b>", instance_uuid="u-new")
    doc["results"].append(hostile)
    new.write_text(json.dumps(doc))
    out_json, out_html = tmp_path / "d.json", tmp_path / "d.html"
    ran = cli("diff", old, new, "--json", out_json, "--html", out_html)
    assert ran.code == 1
    assert "1 new, 1 resolved" in ran.out
    marked = json.loads(out_json.read_text())
    assert marked["comparison"]["gone"][0]["rule"] == failing["rule"]
    html = out_html.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;pwn&lt;/b&gt;" in html
    assert cli("diff", old, old, "--fail-on", "never").code == 0
