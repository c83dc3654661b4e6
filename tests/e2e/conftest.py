"""Fixtures for the end-to-end tests: a built vcsim, running simulators, the seeded lab."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.cli import main
from scalearc_lint.exporter.collect import READ_THREADS
from tests.e2e.lab import Lab, seed_lab
from tests.vcsim_support import ROOT, Vcsim, build_vcsim, running_vcsim

PASSWORD_ENV = "SALINT_E2E_PASSWORD"
#: What a test puts at the output path first, to see that a failed export leaves it alone.
OLD_SNAPSHOT = b'{"previous": "snapshot"}'


@dataclass
class CliRun:
    """What one CLI run returned and printed."""

    code: int
    stdout: str
    stderr: str


def run_cli(argv: Sequence[str], env: dict[str, str] | None = None) -> CliRun:
    """Run the CLI in this process with extra environment variables."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in (env or {}).items():
            mp.setenv(key, value)
        for key in list(os.environ):
            if key.startswith("GOVC_") and key not in (env or {}):
                mp.delenv(key)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    return CliRun(code, out.getvalue(), err.getvalue())


def export_argv(sim: Vcsim, output: Path, *extra: str) -> list[str]:
    """``export`` against ``sim`` with TLS verified and the password from the environment."""
    return sim.export_argv(output, PASSWORD_ENV, *extra)


def address_export_argv(address: str, output: Path, *extra: str) -> list[str]:
    """``export`` of whatever listens at ``address`` (no simulator), password from the env."""
    return [
        "export",
        "--server",
        address,
        "--user",
        "u",
        "--password-env",
        PASSWORD_ENV,
        "-o",
        str(output),
        *extra,
    ]


def export(sim: Vcsim, output: Path, *extra: str) -> CliRun:
    """Run ``export`` in-process against ``sim``."""
    return run_cli(export_argv(sim, output, *extra), {PASSWORD_ENV: sim.password})


def one_error_line(stderr: str) -> str:
    """The only line on stderr, which must be an error message and no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("scalearc-lint: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def assert_untouched(out: Path) -> None:
    """``out`` still holds OLD_SNAPSHOT and nothing else was left beside it."""
    assert out.read_bytes() == OLD_SNAPSHOT
    assert [p.name for p in out.parent.iterdir()] == [out.name], "a temporary file was left"


def check_json(snapshot: Path, out_dir: Path) -> tuple[int, dict[str, Any]]:
    """``check --json`` of an exported snapshot: its exit code and its results document.

    vcsim stamps snapshots "now", so their age is judged two days after the export.
    """
    exported_at = datetime.fromisoformat(json.loads(snapshot.read_text())["exported_at"])
    as_of = (exported_at + timedelta(days=2)).isoformat()
    results = out_dir / f"{snapshot.stem}-results.json"
    run = run_cli(["check", str(snapshot), "--json", str(results), "--as-of", as_of])
    assert run.code in (0, 1), run.stderr
    document: dict[str, Any] = json.loads(results.read_text())
    return run.code, document


def _sigint_as_in_a_terminal() -> None:
    """Ctrl-C's default action in the child: a test run started in the background (``cmd &``
    in a script) has SIGINT ignored, and an ignored signal stays ignored across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn_cli(argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start the CLI as a child process (for signals and crashes), output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "scalearc_lint", *argv],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_as_in_a_terminal,
    )


@pytest.fixture(scope="session")
def vcsim_binary() -> Path:
    """The launcher, built once per session (a build failure fails the tests)."""
    return build_vcsim()


@pytest.fixture
def vcsim(vcsim_binary: Path) -> Iterator[Vcsim]:
    """A small fresh simulator for one test."""
    with running_vcsim() as sim:
        yield sim


#: The fields of a snapshot that say when it was exported.
_EXPORT_TIME = re.compile(rb'"(exported_at|window_start|window_end)":"[^"]*"')


def without_export_time(snapshot: bytes) -> bytes:
    """A snapshot file's bytes with the export time (and the event window it sets) blanked.

    Two exports of the same inventory differ in nothing else.
    """
    return _EXPORT_TIME.sub(rb'"\1":""', snapshot)


def but_collectors(calls: Counter[str]) -> Counter[str]:
    """The calls without the PropertyCollectors made and destroyed.

    Each reading thread makes one when it first reads through one, and how many threads
    get such a read depends on how they are scheduled (between one and READ_THREADS).
    """
    collectors = calls["SOAP CreatePropertyCollector"]
    assert 1 <= collectors <= READ_THREADS, calls
    assert calls["SOAP DestroyPropertyCollector"] == collectors, calls
    return Counter({k: n for k, n in calls.items() if not k.endswith("PropertyCollector")})


def new_sessions(sim: Vcsim, before: Iterable[str]) -> dict[str, list[str]]:
    """The calls of every session the simulator has seen since ``before`` (labels then known)."""
    known = set(before)
    return {k: v for k, v in sim.calls_by_session().items() if k and k not in known}


@dataclass
class SeededLab:
    """The ScaleArc lab in a simulator of its own."""

    sim: Vcsim
    lab: Lab


@pytest.fixture(scope="module")
def seeded_lab(vcsim_binary: Path) -> Iterator[SeededLab]:
    """The lab seeded once per module, for tests that export it several times."""
    with running_vcsim(cluster=1, host=3, vm=8) as sim:
        yield SeededLab(sim, seed_lab(sim))


@pytest.fixture
def lab_sim(seeded_lab: SeededLab) -> Iterator[Vcsim]:
    """The seeded lab's simulator, its test-API switches undone after the test."""
    yield seeded_lab.sim
    seeded_lab.sim.reset()


@dataclass
class LabExport:
    """The seeded lab, its simulator, and one export of it."""

    sim: Vcsim
    lab: Lab
    snapshot_path: Path
    run: CliRun
    calls: list[str]


@pytest.fixture(scope="module")
def lab_export(vcsim_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabExport]:
    """The ScaleArc lab seeded in vcsim and exported once."""
    with running_vcsim(cluster=1, host=3, vm=8) as sim:
        lab = seed_lab(sim)
        before = len(sim.calls())
        path = tmp_path_factory.mktemp("lab") / "snapshot.json"
        run = export(sim, path)
        assert run.code == 0, run.stderr
        yield LabExport(sim, lab, path, run, sim.calls()[before:])
