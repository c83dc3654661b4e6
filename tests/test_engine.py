"""Rule discovery, validation, isolation of crashing rules, determinism."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.errors import InputError
from tests.conftest import EXAMPLES, run_cli

RULE_TEMPLATE = """
from scalearc_lint.engine.rule import Rule, Severity, passed, failed

def check(appliance, inventory, options):
    {body}

RULE = Rule(
    id="{rule_id}", name="{name}", title="A test rule", severity=Severity.WARNING,
    scope="{scope}", rationale="because", reference="a paragraph", remediation="fix it",
    check=check,
)
"""


def write_rule(
    directory: Path,
    filename: str,
    *,
    rule_id: str = "XT001",
    name: str = "x-test",
    body: str = "return passed('ok')",
    scope: str = "appliance",
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    path.write_text(RULE_TEMPLATE.format(rule_id=rule_id, name=name, body=body, scope=scope))
    return path


#: The lab's VM whose role attribute and tag disagree: every appliance rule is unknown for it
#: without being called (ID001), plugins included.
UNIDENTIFIED = "sa-archive-01"


def identified(results: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    """The results of ``rule`` on the lab's appliances, checking the unidentified VM's."""
    mine = [r for r in results if r["rule"] == rule]
    doubtful = [r for r in mine if r["object"]["name"] == UNIDENTIFIED]
    assert [(r["status"], "(ID001)" in r["message"]) for r in doubtful] == [("unknown", True)]
    return [r for r in mine if r["object"]["name"] != UNIDENTIFIED]


def test_builtin_rules_are_the_sixteen() -> None:
    ids = [item.rule.id for item in discover_rules(plugins=False)]
    assert ids == [f"SA{n:03d}" for n in range(1, 17)]


def test_rules_dir_rule_runs(tmp_path: Path) -> None:
    write_rule(tmp_path / "extra", "x.py", body="return failed(appliance.vm.name + ' is odd')")
    out = tmp_path / "r.json"
    result = run_cli(
        [
            "check",
            EXAMPLES / "lab.json",
            "--rules-dir",
            tmp_path / "extra",
            "--json",
            out,
            "--fail-on",
            "never",
        ]
    )
    assert result.code == 0, result.stderr
    results = json.loads(out.read_text())["results"]
    extra = identified(results, "XT001")
    assert len(extra) == 8
    assert all(r["status"] == "fail" and r["severity"] == "warning" for r in extra)


def test_duplicate_id_names_both_sources(tmp_path: Path) -> None:
    first = write_rule(tmp_path / "a", "one.py")
    second = write_rule(tmp_path / "b", "two.py", name="x-other")
    with pytest.raises(InputError) as info:
        discover_rules([tmp_path / "a", tmp_path / "b"], plugins=False)
    message = str(info.value)
    assert "duplicate rule id XT001" in message
    assert str(first) in message and str(second) in message


def test_duplicate_of_builtin_id_is_rejected(tmp_path: Path) -> None:
    write_rule(tmp_path, "mine.py", rule_id="SA001", name="my-static-mac")
    result = run_cli(["rules", "--rules-dir", tmp_path])
    assert result.code == 2
    assert "duplicate rule id SA001" in result.stderr
    assert "sa001_static_mac.py" in result.stderr


@pytest.mark.parametrize(
    ("rule_id", "name", "scope", "expected"),
    [
        ("sa-12", "x-test", "appliance", "does not match"),
        ("XT001", "Not Kebab", "appliance", "not kebab-case"),
        ("XT001", "x-test", "galaxy", "scope 'galaxy'"),
        ("PLAN001", "x-test", "appliance", "rule id 'PLAN001' is reserved"),
        ("WAIVER002", "x-test", "appliance", "rule id 'WAIVER002' is reserved"),
        ("ID001", "x-test", "appliance", "rule id 'ID001' is reserved"),
        ("ID9999", "x-test", "appliance", "prefixes PLAN, WAIVER, ID"),
    ],
)
def test_invalid_rule_descriptions_are_rejected(
    tmp_path: Path, rule_id: str, name: str, scope: str, expected: str
) -> None:
    write_rule(tmp_path, "bad.py", rule_id=rule_id, name=name, scope=scope)
    with pytest.raises(InputError, match=expected):
        discover_rules([tmp_path], plugins=False)


@pytest.mark.parametrize("rule_id", ["IDM001", "IDENT001", "PLANX001", "SAID001"])
def test_ids_whose_letters_only_begin_like_a_reserved_prefix_are_free(
    tmp_path: Path, rule_id: str
) -> None:
    write_rule(tmp_path, "ok.py", rule_id=rule_id)
    loaded = discover_rules([tmp_path], builtin=False, plugins=False)
    assert [item.rule.id for item in loaded] == [rule_id]


def test_rule_module_that_fails_to_import(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import does_not_exist_anywhere\n")
    result = run_cli(["check", EXAMPLES / "lab.json", "--rules-dir", tmp_path])
    assert result.code == 2
    assert "broken.py: rule module failed to import: ModuleNotFoundError" in result.stderr
    assert "Traceback" not in result.stderr


def test_module_without_rule(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(InputError, match="defines no RULE"):
        discover_rules([tmp_path], plugins=False)


def test_missing_rules_dir(tmp_path: Path) -> None:
    result = run_cli(["check", EXAMPLES / "lab.json", "--rules-dir", tmp_path / "absent"])
    assert result.code == 2
    assert "rules directory does not exist" in result.stderr


def test_crashing_rule_is_isolated_with_exit_3(tmp_path: Path) -> None:
    write_rule(tmp_path, "boom.py", body="raise RuntimeError('kaput')")
    out = tmp_path / "r.json"
    result = run_cli(["check", EXAMPLES / "lab.json", "--rules-dir", tmp_path, "--json", out])
    assert result.code == 3, result.stderr
    document = json.loads(out.read_text())
    crashed = identified(document["results"], "XT001")
    assert crashed and all(r["status"] == "crashed" for r in crashed)
    assert "RuntimeError: kaput" in crashed[0]["message"]
    baseline = json.loads(run_cli(["check", EXAMPLES / "lab.json", "--json", "-"]).stdout)
    others = [r for r in document["results"] if r["rule"] != "XT001"]
    assert others == baseline["results"]
    assert document["summary"]["crashed"] == len(crashed)


def test_crash_on_one_object_keeps_the_rest(tmp_path: Path) -> None:
    body = "if appliance.vm.name == 'sa-orders-01': raise KeyError('x')\n    return passed('fine')"
    write_rule(tmp_path, "partial.py", body=body)
    result = run_cli(["check", EXAMPLES / "lab.json", "--rules-dir", tmp_path, "--json", "-"])
    assert result.code == 3
    statuses = {
        r["object"]["name"]: r["status"]
        for r in identified(json.loads(result.stdout)["results"], "XT001")
    }
    assert statuses.pop("sa-orders-01") == "crashed"
    assert set(statuses.values()) == {"pass"}


def test_check_returning_garbage_is_an_error_result(tmp_path: Path) -> None:
    write_rule(tmp_path, "garbage.py", body="return 'yes'")
    result = run_cli(["check", EXAMPLES / "lab.json", "--rules-dir", tmp_path, "--json", "-"])
    assert result.code == 3
    results = identified(json.loads(result.stdout)["results"], "XT001")
    assert results and all("not a Verdict" in r["message"] for r in results)


def test_output_is_deterministic(tmp_path: Path) -> None:
    a = run_cli(["check", EXAMPLES / "lab.json", "--json", "-"]).stdout
    b = run_cli(["check", EXAMPLES / "lab.json", "--json", "-"]).stdout
    assert a == b
    results = json.loads(a)["results"]
    keys = [
        (
            r["object"]["vcenter"],
            r["rule"],
            r["object"]["kind"],
            r["object"]["name"],
            r["object"]["id"],
        )
        for r in results
    ]
    assert keys == sorted(keys)


def test_check_returning_none_gives_no_result(tmp_path: Path) -> None:
    source = textwrap.dedent(RULE_TEMPLATE).format(
        rule_id="XT002", name="x-two", body="return None", scope="pair"
    )
    (tmp_path / "pairs.py").write_text(source)
    result = run_cli(["check", EXAMPLES / "lab.json", "--rules-dir", tmp_path, "--json", "-"])
    assert result.code == 1
    assert not [r for r in json.loads(result.stdout)["results"] if r["rule"] == "XT002"]
