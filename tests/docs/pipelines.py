"""The documented CI pipelines (GitHub Actions, GitLab CI, Jenkins), run for real.

A pipeline runs in a workspace that looks like the CI job's: the repository holds
``ci/waivers.yaml`` (the bundled example waivers), the vCenter is the simulator (``--server``,
``--user`` and the CA replaced, every other option as written), ``pip install`` lines are
checked by ``test_pip_install_lines_name_the_wheel_pip_wheel_builds`` and not run here (this
venv already has the package). It runs twice: on a first night (no earlier results) and on a
second, where last night's results lie wherever the script looks for them (``[ -f FILE ]``).
Every lint step must exit 0 or 1 (2 or 3 would be a wrong flag, bad input or a crash), and
every file the publishing steps read must have been written.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.docs.blocks import Block, console_commands
from tests.docs.runner import against_simulator, user_env
from tests.vcsim_support import Vcsim

_PIP_INSTALL = re.compile(r"^(\s*(?:-\s+)?)(?:python3? -m )?pip install\b.*$", re.MULTILINE)
_BASELINE_TEST = re.compile(r"\[ -[fs] ([\w./-]+) \]")
#: How GitHub runs a ``run:`` step on Linux.
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
_JSON_OUT = re.compile(r"--json\s+([\w./-]+)")


def shell_scripts(block: Block) -> list[str]:
    """The shell scripts a block holds: its commands, or a pipeline's steps."""
    if block.kind == "console":
        return [c.text for c in console_commands(block)]
    if block.kind == "yaml github-actions":
        return [step["run"] for _, step in _github_steps(block) if "run" in step]
    if block.kind == "yaml gitlab-ci":
        return ["\n".join(job["script"]) for job in _gitlab_jobs(block)]
    if block.kind == "groovy jenkins":
        return _groovy_scripts(block.text)
    return [block.text]


def scalearc_lint_argvs(text: str) -> Iterator[list[str]]:
    """The arguments of every ``scalearc-lint`` command in a shell script. An unquoted
    ``$VAR`` that is not an option's value (``$baseline``) is left out: it holds options."""
    text = text.replace("\\\n", " ")
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            words = list(lexer)
        except ValueError:
            continue
        command: list[str] = []
        for word in [*words, ";"]:
            if word and set(word) <= set(";&|()<>"):
                if command and command[0].endswith("scalearc-lint"):
                    args = command[1:]
                    yield [
                        a
                        for i, a in enumerate(args)
                        if not a.startswith("$") or (i and args[i - 1].startswith("-"))
                    ]
                command = []
            elif command or not re.fullmatch(r"\w+=.*", word):
                command.append(word)


def _github_steps(block: Block) -> list[tuple[str, dict[str, Any]]]:
    workflow = yaml.safe_load(block.text)
    return [(name, step) for name, job in workflow["jobs"].items() for step in job["steps"]]


def _gitlab_jobs(block: Block) -> list[dict[str, Any]]:
    config = yaml.safe_load(block.text)
    return [job for job in config.values() if isinstance(job, dict) and "script" in job]


def _groovy_code(text: str) -> str:
    """The Groovy text without // comments (outside strings)."""
    return re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)


def _groovy_scripts(text: str) -> list[str]:
    """The shell scripts of ``sh '''...'''`` and ``script: '''...'''`` steps."""
    # A backslash at the end of a line inside ''' ''' joins the lines in Groovy.
    return [s.replace("\\\n", "") for s in re.findall(r"'''(.*?)'''", text, flags=re.DOTALL)]


def groovy_balance_problem(text: str) -> str | None:
    """Unbalanced brackets outside strings and comments (a cheap syntax check)."""
    code = re.sub(r"'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|\"[^\"\n]*\"", "''", text, flags=re.DOTALL)
    code = _groovy_code(code)
    stack: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for number, line in enumerate(code.splitlines(), start=1):
        for char in line:
            if char in "([{":
                stack.append(char)
            elif char in pairs and (not stack or stack.pop() != pairs[char]):
                return f"unbalanced {char!r} on line {number} of the block"
    return f"{len(stack)} bracket(s) never closed" if stack else None


@dataclass(frozen=True)
class Step:
    """One shell step's outcome."""

    name: str
    exit_code: int
    output: str


def _shell(script: str, workspace: Path, env: dict[str, str], shell: list[str]) -> Step:
    script = _PIP_INSTALL.sub(r"\1true  # pip install: checked, not run", script)
    proc = subprocess.run(
        [*shell, script],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Step(script.strip().splitlines()[0][:60], proc.returncode, proc.stdout + proc.stderr)


def _run_github(block: Block, workspace: Path, sim: Vcsim) -> tuple[list[Step], list[str]]:
    steps: list[Step] = []
    published: list[str] = []
    outputs: dict[str, dict[str, str]] = {}
    failed = False
    for _, step in _github_steps(block):
        condition = str(step.get("if", ""))
        if condition:
            found = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+) (!=|==) '(.*)'", condition)
            if condition == "always()":
                pass
            elif found:
                value = outputs.get(found[1], {}).get(found[2], "")
                if (value == found[4]) != (found[3] == "=="):
                    continue
            else:
                raise AssertionError(f"{block.where}: the test cannot evaluate if: {condition}")
        elif failed:
            continue
        uses = str(step.get("uses", ""))
        if uses:
            if "upload" in uses or "junit-report" in uses:
                inputs = step.get("with", {})
                for key in ("sarif_file", "report_paths", "path"):
                    published += [p for p in str(inputs.get(key, "")).split("\n") if p]
            continue
        run = re.sub(
            r"\$\{\{\s*steps\.(\w+)\.outputs\.(\w+)\s*\}\}",
            lambda m: outputs.get(m[1], {}).get(m[2], ""),
            step["run"],
        )
        script, secrets = against_simulator(run, sim)
        github_output = workspace / ".github-output"
        github_output.write_text("")
        env = user_env({**secrets, "GITHUB_OUTPUT": str(github_output)})
        result = _shell(
            script, workspace, env, ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
        )
        steps.append(result)
        if "id" in step:
            lines = github_output.read_text().splitlines()
            outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
        failed = failed or result.exit_code != 0
    return steps, published


def _run_gitlab(block: Block, workspace: Path, sim: Vcsim) -> tuple[list[Step], list[str]]:
    steps, published = [], []
    for job in _gitlab_jobs(block):
        script, secrets = against_simulator("\n".join(job["script"]), sim)
        env = user_env({**secrets, "CI_API_V4_URL": "http://127.0.0.1:9/api/v4"})
        steps.append(_shell(script, workspace, env, ["bash", "-eo", "pipefail", "-c"]))
        artifacts = job.get("artifacts", {})
        published += list(artifacts.get("paths", []))
        published += [str(p) for p in artifacts.get("reports", {}).values()]
    return steps, published


def _run_jenkins(block: Block, workspace: Path, sim: Vcsim) -> tuple[list[Step], list[str]]:
    problem = groovy_balance_problem(block.text)
    assert problem is None, f"{block.where}: {problem}"
    steps = []
    for text in _groovy_scripts(block.text):
        script, secrets = against_simulator(text, sim)
        steps.append(_shell(script, workspace, user_env(secrets), ["sh", "-e", "-c"]))
    code = _groovy_code(block.text)
    published: list[str] = []
    for found in re.findall(r"(?:junit|testResults:|pattern:|artifacts:)\s*'([^']+)'", code):
        published += [p.strip() for p in found.split(",")]
    for directory, files in re.findall(r"reportDir: '([^']+)', reportFiles: '([^']+)'", code):
        published.append(f"{directory}/{files}")
    return steps, published


def run_pipeline(block: Block, workspace: Path, clone: Path, sim: Vcsim) -> None:
    """Run the pipeline on a first and a second night; fail naming the block and the step."""
    runner = {
        "yaml github-actions": _run_github,
        "yaml gitlab-ci": _run_gitlab,
        "groovy jenkins": _run_jenkins,
    }[block.kind]
    previous: Path | None = None
    for night in ("first night", "second night"):
        if workspace.exists():
            shutil.rmtree(workspace)
        (workspace / "ci").mkdir(parents=True)
        shutil.copy(clone / "examples" / "waivers.yaml", workspace / "ci" / "waivers.yaml")
        scripts = "\n".join(shell_scripts(block))
        if previous is not None:
            for baseline in _BASELINE_TEST.findall(scripts):
                (workspace / baseline).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(previous, workspace / baseline)
        steps, published = runner(block, workspace, sim)
        assert steps, f"{block.where}: no shell step found"
        bad = [s for s in steps if s.exit_code not in (0, 1)]
        assert not bad, f"{block.where} ({night}): " + "\n".join(
            f"step `{s.name}` exited {s.exit_code}:\n{s.output[-3000:]}" for s in bad
        )
        missing = [p for p in published if not any(workspace.glob(p))]
        assert not missing, (
            f"{block.where} ({night}): the pipeline publishes files no step wrote: {missing}\n"
            + "\n".join(f"step `{s.name}` ({s.exit_code}):\n{s.output[-1500:]}" for s in steps)
        )
        outs = [workspace / p for p in _JSON_OUT.findall(scripts) if (workspace / p).exists()]
        assert outs, f"{block.where} ({night}): no --json results were written"
        previous = workspace.parent / "last-night.json"
        shutil.copy(outs[0], previous)
