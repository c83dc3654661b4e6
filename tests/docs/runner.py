"""Running documented commands as a user would: in one shell, in a copy of the clone."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO
from tests.docs.blocks import Block, Command
from tests.vcsim_support import Vcsim

#: Long enough for the slowest documented command (a venv and pip install) on a busy machine.
BLOCK_TIMEOUT_S = 900


def copy_of_clone(destination: Path) -> Path:
    """The repository's files (tracked, and new ones not ignored) copied to ``destination``."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def user_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A user's environment: this venv's commands first on PATH, no debug or colour switches."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SCALEARC_LINT_", "PYTEST_", "GITHUB_", "CI_")) and k != "PYTHONPATH"
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Ran:
    """What one documented command did: its exit code (None: the shell stopped) and output."""

    command: Command
    exit_code: int | None
    output: list[str]


def run_commands(
    commands: Sequence[Command], cwd: Path, env: Mapping[str, str], shell: str = "bash"
) -> list[Ran]:
    """Run the commands one after another in one shell (variables and ``$?`` carry over),
    recording each one's exit code and output (stdout and stderr together)."""
    record = cwd / ".doc-run"
    record.mkdir(exist_ok=True)
    script = ["__doc_rc=0"]
    for n, command in enumerate(commands):
        out, rc = record / f"{n}.out", record / f"{n}.rc"
        # `(exit $__doc_rc)` gives the command the previous one's $? (for `echo $?`).
        script += [
            f"{{ (exit $__doc_rc); {command.text}",
            f"}} > {shlex.quote(str(out))} 2>&1 < /dev/null",
            f"__doc_rc=$?; echo $__doc_rc > {shlex.quote(str(rc))}",
        ]
    process = subprocess.Popen(
        [shell, "-c", "\n".join(script)],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stderr = b"timed out"
    finally:
        # Whatever a block left running in the background (a simulator) ends with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    ran: list[Ran] = []
    for n, command in enumerate(commands):
        out, rc = record / f"{n}.out", record / f"{n}.rc"
        text = out.read_text(errors="replace") if out.exists() else ""
        code = int(rc.read_text()) if rc.exists() else None
        if (code is None and not ran) or (code is None and ran[-1].exit_code is not None):
            text += stderr.decode(errors="replace")
        ran.append(Ran(command, code, text.splitlines()))
    shutil.rmtree(record)
    return ran


def exit_problem(block: Block, ran: Ran) -> str | None:
    """How a command's exit code differs from the doc's, naming block, line and command."""
    if ran.exit_code == ran.command.exit_code:
        return None
    got = (
        "never finished (the shell stopped)" if ran.exit_code is None else f"exited {ran.exit_code}"
    )
    tail = "\n".join(f"    | {line}" for line in ran.output[-25:])
    return (
        f"{block.where}, command at line {ran.command.line}:\n  $ {ran.command.text}\n"
        f"  {got}; the doc says {ran.command.exit_code}"
        f"{' (add # exit N to the line if that is right)' if ran.exit_code else ''}\n"
        f"  its last output:\n{tail}"
    )


_SERVER = re.compile(r"--server(?:\s+|=)(\"[^\"]*\"|'[^']*'|\S+)")
_USER = re.compile(r"--user(?:\s+|=)(\"[^\"]*\"|'[^']*'|\S+)")
_CA_FILE = re.compile(r"\s--ca-file(?:\s+|=)(\"[^\"]*\"|'[^']*'|\S+)")
_PASSWORD_ENV = re.compile(r"--password-env(?:\s+|=)(\w+)")


def against_simulator(script: str, sim: Vcsim) -> tuple[str, dict[str, str]]:
    """A script whose ``export`` commands reach ``sim`` instead of the vCenter named in the
    doc: --server, --user and --ca-file become the simulator's (every other option stays as
    written), and the --password-env variable holds its password. Lines that set that
    variable to a placeholder are dropped."""
    variables = set(_PASSWORD_ENV.findall(script))
    lines = [
        line
        for line in script.splitlines()
        if not any(re.match(rf"\s*(export\s+)?{v}=", line) for v in variables)
    ]
    script = "\n".join(lines)
    script = _CA_FILE.sub("", script)
    script = _USER.sub(f"--user {sim.user}", script)
    script = _SERVER.sub(f"--server {sim.url} --ca-file {shlex.quote(sim.ca_file)}", script)
    return script, dict.fromkeys(variables, sim.password)
