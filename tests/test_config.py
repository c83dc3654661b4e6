"""The --config file: appliance selection and rule settings, with clear errors."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.text import format_duration, parse_duration
from tests.conftest import EXAMPLES, REPO, run_cli


def check_with(tmp_path: Path, config: str, *extra: str) -> tuple[int, str, dict[str, object]]:
    path = tmp_path / "config.yaml"
    path.write_text(config)
    result = run_cli(["check", EXAMPLES / "lab.json", "--config", path, "--json", "-", *extra])
    document = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.code, result.stderr, document


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("colour: red\n", "config.yaml:1: colour: unknown key (known: appliances, rules)"),
        ("rules:\n  SA999: {}\n", "config.yaml:2: rules.SA999: unknown rule"),
        (
            "rules:\n  SA008:\n    max_age: soon\n",
            "config.yaml:3: rules.SA008.max_age: expected a duration such as 24h",
        ),
        ("rules:\n  SA008:\n    maxage: 2d\n", "config.yaml:3: rules.SA008.maxage: unknown option"),
        (
            "rules:\n  SA003:\n    strict: maybe\n",
            "config.yaml:3: rules.SA003.strict: Expected `bool`",
        ),
        (
            "rules:\n  SA001:\n    severity: fatal\n",
            "config.yaml:3: rules.SA001.severity: expected one",
        ),
        ("rules:\n  SA001:\n    enabled: 'no'\n", "rules.SA001.enabled: expected true or false"),
        ("appliances:\n  by: magic\n", "config.yaml:2: appliances.by: Invalid enum value 'magic'"),
        ("appliances:\n  role_attr: x\n", "config.yaml:2: appliances.role_attr: unknown key"),
        ("appliances:\n  by: name\n", "by: name needs a name_pattern"),
        (
            "appliances:\n  by: name\n  name_pattern: '(unclosed'\n",
            "not a valid regular expression",
        ),
        ("rules: [SA001]\n", "rules: expected a mapping"),
        (
            "appliances:\n  none_expected_in: vc1.example\n",
            "config.yaml:2: appliances.none_expected_in: Expected `array`, got `str`",
        ),
        (
            "appliances:\n  by: attributes\n  none_expected_in: [vc1, ' ']\n",
            "config.yaml:3: appliances.none_expected_in: expected vCenter names, got an empty one",
        ),
        (
            "appliances:\n  role_attribute: Role\n  pair_attribute: role\n",
            "config.yaml:3: appliances.pair_attribute: must differ from role_attribute",
        ),
        (
            "appliances:\n  role_attribute: ' '\n",
            "config.yaml:2: appliances.role_attribute: must not be empty",
        ),
        (
            "rules:\n  ID001:\n    enabled: false\n",
            "config.yaml:3: rules.ID001.enabled: ID001 cannot be disabled: a vCenter where no "
            "appliance is identified would pass",
        ),
        (
            "rules:\n  appliance-identification: {enabled: false}\n",
            "rules.appliance-identification.enabled: ID001 cannot be disabled",
        ),
        ("rules:\n  ID001: {max_age: 2d}\n", "rules.ID001.max_age: unknown option"),
        (
            "rules:\n  snapshot-hygiene: {max_snapshots: -1}\n",
            "rules.snapshot-hygiene.max_snapshots: Expected `int` >= 0",
        ),
        (
            "rules:\n  SA015: {max_snapshots: two}\n",
            "rules.SA015.max_snapshots: Expected `int`, got `str`",
        ),
        ("key: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "the config must be a mapping"),
        ("", "empty file"),
    ],
)
def test_bad_config_is_one_line_exit_2(tmp_path: Path, config: str, expected: str) -> None:
    code, stderr, _ = check_with(tmp_path, config)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert expected in stderr
    assert "Traceback" not in stderr


def test_rule_options_and_severity_and_disable(tmp_path: Path) -> None:
    config = (
        "rules:\n  SA008: {max_age: 7d}\n  static-mac: {severity: info}\n"
        "  SA010: {enabled: false}\n"
    )
    code, _, document = check_with(tmp_path, config)
    results = document["results"]
    assert isinstance(results, list)
    sa008 = {r["object"]["name"]: r["status"] for r in results if r["rule"] == "SA008"}
    assert sa008["sa-reports-01"] == "pass"  # 5 days < 7 days
    assert {r["severity"] for r in results if r["rule"] == "SA001"} == {"info"}
    assert not [r for r in results if r["rule"] == "SA010"]
    assert code == 1


def test_fail_on_threshold(tmp_path: Path) -> None:
    ids = [*(f"SA{n:03d}" for n in range(1, 17)), "ID001"]
    config = "rules:\n" + "".join(f"  {rule}: {{severity: info}}\n" for rule in ids)
    assert check_with(tmp_path, config)[0] == 0
    assert check_with(tmp_path, config, "--fail-on", "info")[0] == 1


def test_id001_severity_is_configurable(tmp_path: Path) -> None:
    config = "rules:\n  appliance-identification: {severity: warning}\n"
    _, _, document = check_with(tmp_path, config)
    results = document["results"]
    assert isinstance(results, list)
    assert {r["severity"] for r in results if r["rule"] == "ID001"} == {"warning"}


def test_select_appliances_by_name_pattern(tmp_path: Path) -> None:
    config = (
        "appliances:\n  by: name\n  name_pattern: 'sa-(?P<pair>orders|billing)-0(?P<role>1|2)'\n"
    )
    # Roles '1'/'2' are not roles: identification will not guess (ID001), and the pairs
    # those VMs name cannot be judged.
    _, _, document = check_with(tmp_path, config)
    results = document["results"]
    assert isinstance(results, list)
    id001 = {r["object"]["name"]: r for r in results if r["rule"] == "ID001"}
    assert {name for name, r in id001.items() if r["status"] == "fail"} == {
        "sa-orders-01",
        "sa-orders-02",
        "sa-billing-01",
        "sa-billing-02",
    }
    assert "role '1' is not primary, secondary or standalone" in id001["sa-orders-01"]["message"]
    sa011 = {r["object"]["id"]: r for r in results if r["rule"] == "SA011"}
    assert set(sa011) == {"orders", "billing"}
    assert {r["status"] for r in sa011.values()} == {"unknown"}


def test_select_appliances_by_folder(tmp_path: Path) -> None:
    config = "appliances:\n  by: folder\n  folders: [/DC-East/vm/ScaleArc]\n"
    _, _, document = check_with(tmp_path, config)
    results = document["results"]
    assert isinstance(results, list)
    statuses = {r["object"]["name"]: r["status"] for r in results if r["rule"] == "SA001"}
    assert set(statuses) == {
        "sa-orders-01",
        "sa-orders-02",
        "sa-billing-01",
        "sa-billing-02",
        "sa-reports-01",
        "sa-old-02",
        "sa-search-01",
        "sa-search-02",
        "sa-archive-01",
    }
    assert statuses["sa-archive-01"] == "unknown"  # its attribute and tag disagree


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("24h", 24),
        ("90m", 1.5),
        ("2d", 48),
        ("1d12h", 36),
        ("PT36H", 36),
        (3600, 1),
        ("45s", 0.0125),
    ],
)
def test_parse_duration(text: str | int, hours: float) -> None:
    assert parse_duration(text).total_seconds() == hours * 3600


@pytest.mark.parametrize(("hours", "text"), [(24, "24h"), (36, "36h"), (168, "7d"), (1.5, "1h30m")])
def test_format_duration_reads_back(hours: float, text: str) -> None:
    value = timedelta(hours=hours)
    assert format_duration(value) == text
    assert parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "soon", "-5", "24x", True, -3])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_readme_config_example_is_the_bundled_file() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = (EXAMPLES / "config.yaml").read_text(encoding="utf-8")
    assert f"```yaml config\n{example}```" in readme


def test_the_readme_config_example_identifies_the_lab_appliances() -> None:
    def run(*args: str | Path) -> dict[str, Any]:
        result = run_cli(["check", EXAMPLES / "lab.json", "--json", "-", *args])
        assert result.code == 1, result.stderr
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def identified(document: dict[str, Any]) -> dict[str, str]:
        """Object name -> status of every SA001 result: one per VM picked up."""
        return {
            r["object"]["name"]: r["status"] for r in document["results"] if r["rule"] == "SA001"
        }

    configured = run("--config", EXAMPLES / "config.yaml")
    default = run()
    assert identified(configured) == identified(default)
    assert len(identified(configured)) == 9  # eight appliances, and sa-archive-01 (unknown)
    [vcenter] = [
        r
        for r in configured["results"]
        if r["rule"] == "ID001" and r["object"]["kind"] == "vcenter"
    ]
    assert vcenter["status"] == "pass"
    assert vcenter["message"].startswith("8 appliance(s) identified by VMs in folder(s) /DC-East")
    # The example's rule settings took effect too.
    assert not [r for r in configured["results"] if r["rule"] == "SA010"]
    assert {r["severity"] for r in configured["results"] if r["rule"] == "SA001"} == {"warning"}


def test_snapshot_hygiene_takes_max_snapshots_and_the_new_rules_a_severity(
    tmp_path: Path,
) -> None:
    config = (
        "rules:\n  SA015: {max_snapshots: 2}\n  no-ha-restart: {severity: info}\n"
        "  SA012: {enabled: false}\n"
    )
    _, _, document = check_with(tmp_path, config)
    results = document["results"]
    assert isinstance(results, list)
    sa015 = {r["object"]["name"]: r for r in results if r["rule"] == "SA015"}
    # Two snapshots, but the second on top of the first: a chain still warns.
    assert sa015["sa-billing-02"]["status"] == "fail"
    assert "a chain of 2 snapshots" in sa015["sa-billing-02"]["message"]
    assert "snapshots (at most" not in sa015["sa-billing-02"]["message"]
    assert {r["severity"] for r in results if r["rule"] == "SA013"} == {"info"}
    assert not [r for r in results if r["rule"] == "SA012"]
