"""A third-party rule in a separately installed distribution is found through its entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO, run_cli

FIXTURE = REPO / "tests" / "plugin_fixture"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the fixture distribution into its own directory (a real dist-info)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(FIXTURE),
        ],
        check=True,
        capture_output=True,
        cwd=build,
    )
    assert list(target.glob("scalearc_lint_acme-1.2.3.dist-info"))
    return target


def env_with(site: Path) -> dict[str, str]:
    return {"PYTHONPATH": f"{REPO}:{site}"}


def test_plugin_rule_is_listed_with_its_distribution(plugin_site: Path) -> None:
    result = run_cli(["rules", "--verbose"], env=env_with(plugin_site))
    assert result.code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("ACME001"))
    assert "plugin scalearc-lint-acme 1.2.3" in line


def test_plugin_rule_runs_with_config_options(plugin_site: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("rules:\n  ACME001:\n    min_mb: 20000\n")
    result = run_cli(
        ["check", EXAMPLES / "lab.json", "--config", config, "--json", "-", "--fail-on", "never"],
        env=env_with(plugin_site),
    )
    assert result.code == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    acme = [r for r in results if r["rule"] == "ACME001"]
    # Eight appliances, and the VM whose identification is in doubt (unknown, ID001).
    assert sorted(r["status"] for r in acme) == ["fail"] * 8 + ["unknown"]


def test_plugin_duplicate_of_rules_dir_names_both(plugin_site: Path, tmp_path: Path) -> None:
    (tmp_path / "clash.py").write_text(
        (FIXTURE / "scalearc_lint_acme" / "memory_floor.py").read_text()
    )
    result = run_cli(["rules", "--rules-dir", tmp_path], env=env_with(plugin_site))
    assert result.code == 2
    assert "duplicate rule id ACME001" in result.stderr
    assert "clash.py" in result.stderr and "scalearc-lint-acme 1.2.3" in result.stderr
