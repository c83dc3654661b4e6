"""The --config file sets the plan rules' severity and enabled, as it does for SA rules."""

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
BAD_PLAN = EXAMPLES / "plan-bad.yaml"


def whatif(cli: Cli, tmp_path: Path, *extra: str | Path) -> tuple[Ran, dict[str, Any]]:
    out = tmp_path / "whatif.json"
    ran = cli("whatif", LAB, "--plan", BAD_PLAN, "--json", out, *extra)
    document = json.loads(out.read_text()) if out.exists() else {}
    return ran, document


def plan_results(document: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [r for r in document["results"] if r["rule"] == rule]


def test_plan_rule_severity_is_configurable(
    cli: Cli, tmp_path: Path, write_yaml: WriteYaml
) -> None:
    config = write_yaml("config.yaml", {"rules": {"PLAN003": {"severity": "warning"}}})
    _, document = whatif(cli, tmp_path, "--config", config)
    assert {r["severity"] for r in plan_results(document, "PLAN003")} == {"warning"}
    assert {r["severity"] for r in plan_results(document, "PLAN001")} == {"error"}


def test_plan_rule_by_name_can_be_disabled(cli: Cli, tmp_path: Path, write_yaml: WriteYaml) -> None:
    config = write_yaml("config.yaml", {"rules": {"pair-move-order": {"enabled": False}}})
    _, document = whatif(cli, tmp_path, "--config", config)
    assert plan_results(document, "PLAN003") == []
    assert plan_results(document, "PLAN001")
    assert "PLAN003" not in {info["id"] for info in document["rules"]}
    assert "PLAN001" in {info["id"] for info in document["rules"]}


def test_plan_failures_below_fail_on_do_not_fail_the_plan(
    cli: Cli, tmp_path: Path, write_yaml: WriteYaml
) -> None:
    """Every finding of the bad plan lowered to info: it still reports, but exits 0."""
    lowered = {f"PLAN00{n}": {"severity": "info"} for n in range(1, 7)}
    lowered |= {f"SA{n:03d}": {"severity": "info"} for n in range(1, 17)}
    config = write_yaml("config.yaml", {"rules": lowered})
    ran, document = whatif(cli, tmp_path, "--config", config)
    assert [r for r in document["results"] if r["status"] == "fail"]
    assert ran.code == 0, ran.out + ran.err


def test_check_accepts_the_same_config(cli: Cli, write_yaml: WriteYaml) -> None:
    config = write_yaml("config.yaml", {"rules": {"PLAN005": {"enabled": False}}})
    assert cli("check", LAB, "--config", config, "-q").code == 1


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            {"PLAN003": {"max_age": "1d"}},
            "rules.PLAN003.max_age: unknown option for PLAN003 (known: enabled, severity)",
        ),
        ({"PLAN003": {"severity": "fatal"}}, "rules.PLAN003.severity: expected one of"),
        (
            {"WAIVER001": {"severity": "error"}},
            "rules.WAIVER001: WAIVER001 cannot be configured: it reports an expired entry of "
            "the --waivers file",
        ),
        ({"PLAN404": {}}, "rules.PLAN404: unknown rule (see `scalearc-lint rules --all`)"),
    ],
)
def test_bad_plan_rule_settings_exit_2(
    cli: Cli, tmp_path: Path, write_yaml: WriteYaml, rules: dict[str, Any], expected: str
) -> None:
    config = write_yaml("config.yaml", {"rules": rules})
    ran, _ = whatif(cli, tmp_path, "--config", config)
    assert ran.code == 2
    assert expected in ran.err
    assert len(ran.err.strip().splitlines()) == 1, ran.err
