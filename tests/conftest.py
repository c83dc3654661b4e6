"""Shared fixtures: paths, a CLI runner that runs the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "stress", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# SCALEARC_HYPOTHESIS_PROFILE=stress digs deeper than CI does, for a rule author's own runs.
settings.load_profile(
    os.environ.get("SCALEARC_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@dataclass(frozen=True)
class CliResult:
    """What a CLI run printed and returned."""

    code: int
    stdout: str
    stderr: str


def run_cli(
    args: Sequence[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """Run ``python -m scalearc_lint ARGS`` in a subprocess, as a user would."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    environment.pop("SCALEARC_LINT_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "scalearc_lint", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=environment,
        timeout=300,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
