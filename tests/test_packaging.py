"""The wheel carries the built-in rules and templates and works outside the clone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("scalearc_lint-*.whl")
    return built


def test_wheel_contains_rules_templates_schema_and_typing_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for n in range(1, 17):
        assert any(name.startswith(f"scalearc_lint/_builtin/rules/sa{n:03d}_") for name in names)
    assert "scalearc_lint/_builtin/templates/report.html.j2" in names
    assert "scalearc_lint/snapshot/schema/snapshot.schema.json" in names
    assert "scalearc_lint/py.typed" in names
    assert not any(name.startswith(("tests/", "examples/")) for name in names)


@pytest.mark.slow
def test_installed_wheel_checks_the_example_outside_the_clone(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    # Nothing of the clone may leak in: no PYTHONPATH, no working directory inside it.
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    shutil.copy(EXAMPLES / "lab.json", work / "lab.json")
    run = subprocess.run(
        [str(env_dir / "bin" / "scalearc-lint"), "check", "lab.json", "--json", "out.json"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=clean_env,
    )
    assert run.returncode == 1, run.stderr
    document = json.loads((work / "out.json").read_text())
    assert len({r["rule"] for r in document["results"]}) == 17  # SA001-SA016 and ID001
    rules = subprocess.run(
        [str(env_dir / "bin" / "scalearc-lint"), "rules", "-v"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
        env=clean_env,
    )
    assert str(REPO) not in rules.stdout
    assert "_builtin/rules/sa001_static_mac.py" in rules.stdout
