"""Helpers for the adversarial tests: rule modules, one-line errors, files that are inputs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scalearc_lint.cli import main
from tests.conftest import EXAMPLES, CliResult

LAB = EXAMPLES / "lab.json"
#: The lab's summary with the built-in rules (see tests/test_cli.py).
LAB_FAILURES = 28
#: The lab's VM whose role attribute and tag disagree: a rule under test is never called on
#: it (its appliance results are unknown, ID001), so :func:`judged` leaves it out.
LAB_UNIDENTIFIED = "sa-archive-01"

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


def judged(results: list[dict[str, Any]], rule: str = "TEST001") -> list[dict[str, Any]]:
    """The results ``rule`` gave on the lab's appliances; the VM whose identification is in
    doubt is checked to be unknown (the rule was never called on it) and left out."""
    mine = [r for r in results if r["rule"] == rule]
    doubtful = [r for r in mine if r["object"]["name"] == LAB_UNIDENTIFIED]
    assert [(r["status"], "(ID001)" in r["message"]) for r in doubtful] == [("unknown", True)]
    return [r for r in mine if r["object"]["name"] != LAB_UNIDENTIFIED]


def run_in_process(argv: Sequence[str | Path], env: dict[str, str] | None = None) -> CliResult:
    """Run the CLI's ``main`` in this process (much faster than a child), capturing its
    output and with ``env`` added to the environment for the call."""
    out, err = io.StringIO(), io.StringIO()
    saved = {key: os.environ.get(key) for key in env or {}}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exc:  # argparse: usage errors and --help
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return CliResult(code, out.getvalue(), err.getvalue())
