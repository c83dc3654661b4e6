"""Helpers for the adversarial tests: rule modules, one-line errors, files that are inputs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES, CliResult

LAB = EXAMPLES / "lab.json"
#: The lab's summary with the built-in rules (see tests/test_cli.py).
LAB_FAILURES = 14

RULE_TEMPLATE = """
from __future__ import annotations

import os
import sys
import time

import msgspec

from scalearc_lint.engine.rule import Rule, Severity, Status, Verdict, failed, passed


{body}


RULE = Rule(
    id={id!r},
    name={name!r},
    title="A rule under test",
    severity=Severity.ERROR,
    scope="appliance",
    rationale="Testing.",
    reference="None.",
    remediation="None.",
    check=check,
)
"""


def write_rule(directory: Path, body: str, *, rule_id: str = "TEST001", name: str = "") -> Path:
    """A rule module in ``directory`` whose ``check`` is ``body`` (a ``def check``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{rule_id.lower()}.py"
    path.write_text(
        RULE_TEMPLATE.format(
            body=textwrap.dedent(body).strip(),
            id=rule_id,
            name=name or f"rule-{rule_id.lower()}",
        )
    )
    return path


def one_error_line(result: CliResult) -> str:
    """The single ``scalearc-lint: error:`` line of a failed run (and nothing else)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(("scalearc-lint: error: ", "scalearc-lint ")), result.stderr
    assert "internal error" not in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def results_of(stdout: str) -> list[dict[str, Any]]:
    """The results of a ``--json -`` run."""
    results: list[dict[str, Any]] = json.loads(stdout)["results"]
    return results
