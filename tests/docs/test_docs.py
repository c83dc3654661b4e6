"""Every fenced block of README.md and docs/ does what the doc says, run as a user would.

Each block runs in its own copy of the clone (so blocks never depend on each other) with
this venv's ``scalearc-lint`` first on PATH. ``tests/docs/blocks.py`` says how a block states
its kind and what it expects; a block of a kind the test does not know fails.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalearc_lint import __version__
from scalearc_lint.cli import build_parser
from tests.conftest import REPO
from tests.docs import pipelines
from tests.docs.blocks import (
    KINDS,
    Block,
    console_commands,
    doc_files,
    output_mismatch,
    read_blocks,
    shell_commands,
    text_block_problems,
)
from tests.docs.runner import (
    against_simulator,
    copy_of_clone,
    exit_problem,
    run_commands,
    user_env,
)
from tests.e2e.lab import seed_lab
from tests.vcsim_support import Vcsim, running_vcsim

BLOCKS = [block for name in doc_files(REPO) for block in read_blocks(REPO, name)]


def block_id(block: Block) -> str:
    """A test id that names the file, line and kind."""
    return f"{block.path}:{block.line}:{block.kind.replace(' ', '-')}"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh copy of the clone for one block."""
    return copy_of_clone(tmp_path / "clone")


@pytest.fixture(scope="module")
def simulator() -> Iterator[Vcsim]:
    """The vCenter that blocks about a real vCenter talk to (no appliances in it)."""
    with running_vcsim(cluster=1, host=2, vm=2) as sim:
        yield sim


def test_the_docs_have_blocks_of_every_runnable_kind() -> None:
    kinds = {block.kind for block in BLOCKS}
    assert {"console", "sh", "yaml plan", "yaml waivers", "groovy jenkins"} <= kinds
    assert len(BLOCKS) > 20


def test_every_block_is_of_a_kind_the_docs_test_runs() -> None:
    unknown = [f"{b.where}: unknown kind {b.kind!r}" for b in BLOCKS if b.kind not in KINDS]
    assert not unknown, (
        "\n".join(unknown)
        + "\nknown kinds:\n"
        + "\n".join(f"  {kind}: {what}" for kind, what in KINDS.items())
    )


def check_commands(
    block: Block,
    clone: Path,
    *,
    output: bool,
    env: dict[str, str],
    findings_may_vary: bool = False,
) -> None:
    """Run a console/sh block's commands; fail naming the block, line and what differed."""
    commands = console_commands(block) if output else shell_commands(block)
    assert commands, f"{block.where}: no command in the block"
    if ".venv/" in block.text and "-m venv .venv" not in block.text:
        # The block follows the README's quick start, whose venv this test runs in.
        (clone / ".venv").symlink_to(sys.prefix)
    problems = []
    for ran in run_commands(commands, clone, env):
        lint = re.search(r"scalearc-lint (check|whatif|diff)\b", ran.command.text)
        if findings_may_vary and lint and ran.exit_code in (0, 1):
            continue
        problem = exit_problem(block, ran)
        if problem is None and output:
            mismatch = output_mismatch(ran.command.output, ran.output)
            if mismatch:
                problem = (
                    f"{block.where}, command at line {ran.command.line}:\n"
                    f"  $ {ran.command.text}\n  {mismatch}"
                )
        if problem:
            problems.append(problem)
    assert not problems, "\n\n".join(problems)


def run_cli_in(clone: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``scalearc-lint ARGS`` in the clone, as the docs' commands run."""
    return subprocess.run(
        ["scalearc-lint", *map(str, args)],
        cwd=clone,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def block_file(block: Block, clone: Path, suffix: str) -> Path:
    """The block's text written to a file in the clone."""
    path = clone / f"doc-block-{block.line}{suffix}"
    path.write_text(block.text, encoding="utf-8")
    return path


def expect_lint(block: Block, run: subprocess.CompletedProcess[str], what: str) -> None:
    """A lint run with the block's file: exit 0 or 1 (findings), never 2 or 3."""
    assert run.returncode in (0, 1), (
        f"{block.where}: {what} exited {run.returncode}, so the block is not valid as shown:\n"
        f"{run.stderr.strip()}"
    )


def check_json_results_block(block: Block, clone: Path) -> None:
    """Every key the doc shows exists in a real results document, at the same place."""
    shown = json.loads(block.text)
    run = run_cli_in(clone, "check", "examples/lab.json", "--json", "-", "--fail-on", "never")
    real = json.loads(run.stdout)

    def missing(doc: Any, have: Any, where: str) -> Iterator[str]:
        if isinstance(doc, dict):
            for key, value in doc.items():
                if key == "…":  # the doc's "and so on"
                    continue
                if not isinstance(have, dict) or key not in have:
                    yield f"{where}.{key}"
                else:
                    yield from missing(value, have[key], f"{where}.{key}")
        elif isinstance(doc, list) and doc:
            assert isinstance(have, list) and have, f"{block.where}: {where} is empty here"
            yield from missing(doc[0], have[0], f"{where}[0]")

    absent = list(missing(shown, real, "$"))
    assert not absent, f"{block.where}: keys a real --json document does not have: {absent}"
    assert set(shown) == set(real), f"{block.where}: top-level keys differ: {set(real)}"


@contextlib.contextmanager
def vcenter_for(kind: str, request: pytest.FixtureRequest) -> Iterator[Vcsim]:
    """The simulator a block about a vCenter runs against: the shared one without
    appliances, or (``sh vcenter-lab``, whose commands change it) a fresh seeded lab."""
    if kind == "sh vcenter":
        yield request.getfixturevalue("simulator")
        return
    with running_vcsim(cluster=1, host=3, vm=8) as lab:
        seed_lab(lab)
        yield lab


def run_block(block: Block, clone: Path, request: pytest.FixtureRequest) -> None:
    """Dispatch one block to what its kind says."""
    kind = block.kind
    if kind not in KINDS:
        pytest.fail(f"{block.where}: unknown kind {kind!r}; known: {', '.join(KINDS)}")
    if kind == "console":
        check_commands(block, clone, output=True, env=user_env())
    elif kind == "sh":
        check_commands(block, clone, output=False, env=user_env())
    elif kind in ("sh vcenter", "sh vcenter-lab"):
        with vcenter_for(kind, request) as sim:
            script, secrets = against_simulator(block.text, sim)
            check_commands(
                Block(block.path, block.line, "sh", script),
                clone,
                output=False,
                env=user_env(secrets),
                # What a lint finds depends on the vCenter; the lab's is known.
                findings_may_vary=kind == "sh vcenter",
            )
    elif kind == "sh benchmark":
        lines = [
            re.sub(r"(\s+#.*)?$", " --preflight", line) if line.strip() else line
            for line in block.text.splitlines()
        ]
        preflight = Block(block.path, block.line, "sh", "\n".join(lines) + "\n")
        check_commands(preflight, clone, output=False, env=user_env())
    elif kind == "sh ci":
        assert block.text.strip() == "bash .ci/run", f"{block.where}: CI runs `bash .ci/run`"
        parsed = subprocess.run(["bash", "-n", str(clone / ".ci" / "run")], check=False)
        assert parsed.returncode == 0, f"{block.where}: .ci/run does not parse"
    elif kind == "text":
        problems = list(text_block_problems(block))
        assert not problems, "\n".join(problems)
    elif kind == "yaml plan":
        plan = block_file(block, clone, ".yaml")
        run = run_cli_in(clone, "whatif", "examples/lab.json", "--plan", plan, "-q")
        expect_lint(block, run, "whatif examples/lab.json --plan <this block>")
    elif kind == "yaml waivers":
        waivers = block_file(block, clone, ".yaml")
        run = run_cli_in(clone, "check", "examples/lab.json", "--waivers", waivers, "--json", "-")
        expect_lint(block, run, "check examples/lab.json --waivers <this block>")
        summary = json.loads(run.stdout)["summary"]
        assert summary["waived"] > 0, f"{block.where}: waives nothing in examples/lab.json"
    elif kind == "yaml config":
        config = block_file(block, clone, ".yaml")
        run = run_cli_in(clone, "check", "examples/lab.json", "--config", config, "-q")
        expect_lint(block, run, "check examples/lab.json --config <this block>")
    elif kind in ("yaml github-actions", "yaml gitlab-ci", "groovy jenkins"):
        sim = request.getfixturevalue("simulator")
        pipelines.run_pipeline(block, clone.parent / "workspace", clone, sim)
    elif kind == "json results":
        check_json_results_block(block, clone)
    elif kind == "toml entry-points":
        table = tomllib.loads(block.text)
        points = table["project"]["entry-points"]["scalearc_lint.rules"]
        assert points and all(re.fullmatch(r"[\w.]+(:\w+)?", v) for v in points.values())
    elif kind == "python pytest":
        test_file = clone / "tests" / f"test_doc_block_{block.line}.py"
        test_file.write_text(block.text, encoding="utf-8")
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            cwd=clone,
            env=user_env({"PYTHONPATH": str(clone)}),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert run.returncode == 0, f"{block.where}: its test failed:\n{run.stdout[-3000:]}"
    else:  # pragma: no cover - KINDS and this dispatch are kept together
        pytest.fail(f"{block.where}: kind {kind!r} is listed but not run")


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=block_id)
def test_doc_block(block: Block, clone: Path, request: pytest.FixtureRequest) -> None:
    run_block(block, clone, request)


def test_pip_install_lines_name_the_wheel_pip_wheel_builds() -> None:
    """CI examples install the wheel built from a clone: its name must be the real one."""
    wheel = f"scalearc_lint-{__version__}-py3-none-any.whl"
    problems = []
    for block in BLOCKS:
        for line in block.text.splitlines():
            found = re.search(r"pip install ([^;&|#]*)", line)
            if not found:
                continue
            targets = [w for w in shlex.split(found[1]) if not w.startswith("-")]
            problems += [
                f"{block.where}: installs {target!r}"
                for target in targets
                if "scalearc" in target and not target.endswith(wheel)
            ]
    assert not problems, (
        "scalearc-lint is on no package index: install the wheel `pip wheel` builds "
        f"({wheel}), or a clone (`pip install .`):\n" + "\n".join(problems)
    )


def test_every_documented_command_line_parses() -> None:
    """Each scalearc-lint command in any block is accepted by the real parser, options and
    values included (a renamed flag fails here even where the block cannot run)."""
    parser = build_parser()
    problems = []
    for block in BLOCKS:
        if block.kind in ("text", "python pytest", "json results", "toml entry-points"):
            continue
        argvs = [
            a for s in pipelines.shell_scripts(block) for a in pipelines.scalearc_lint_argvs(s)
        ]
        for argv in argvs:
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    parser.parse_args(argv)
            except SystemExit as exc:
                if exc.code != 0:  # --help exits 0: the line is accepted
                    problems.append(f"{block.where}: scalearc-lint {' '.join(argv)}")
    assert not problems, "the parser rejects:\n" + "\n".join(problems)


def test_yaml_blocks_are_yaml() -> None:
    for block in BLOCKS:
        if block.kind.startswith("yaml "):
            yaml.safe_load(block.text)
