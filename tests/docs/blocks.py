"""The fenced blocks of the project's Markdown docs, and how a block says what it expects.

Every fenced block names its kind in its info string: the language, then (for YAML and
Groovy) what the block is, e.g. ```` ```yaml plan ````. Renderers show only the language.

``console``
    A terminal session. ``$ `` starts a command (a trailing ``\\`` continues it on the next
    line); the lines up to the next ``$ `` are its output (stdout and stderr together). A line
    ``...`` stands for any number of lines, ``...`` inside a line for any text; without a final
    ``...`` the output must end where the doc's does. ``# exit N`` after a command says its
    exit code (default 0).
``sh``
    Commands to paste, one per line (``\\`` continues); no output is shown, so only the exit
    codes are checked: 0 unless the line ends with ``# exit N`` (or ``# exits N: why``).
    ``sh vcenter``: the same, for commands that talk to a real vCenter; the test runs them
    against the vCenter simulator. ``sh vcenter-lab``: commands that change a vCenter's
    appliances (``fix``, ``apply``); the test runs them against a fresh simulator seeded with
    the end-to-end tests' ScaleArc lab. ``sh benchmark``: commands that measure for minutes; the
    test runs each with ``--preflight``. ``sh ci``: the command CI itself runs.
``text``
    Not a command: a diagram or a message quoted in prose. It may hold no ``$ `` prompt and
    no line starting with ``scalearc-lint``.
Everything else is listed in :data:`KINDS` with what the docs test does with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Every kind of block the docs test knows, and what it does with it. Any other fails.
KINDS = {
    "console": "runs each $ command in one shell; compares exit codes and the output shown",
    "sh": "runs each command in one shell; compares exit codes",
    "sh vcenter": "runs the commands against the vCenter simulator; compares exit codes "
    "(a lint may also exit 1: what it finds depends on the vCenter)",
    "sh vcenter-lab": "runs the commands against a fresh simulator seeded with the ScaleArc "
    "lab of tests/e2e/lab.py (appliances failing what fix repairs); compares exit codes",
    "sh benchmark": "runs each command with --preflight (options valid, everything needed here)",
    "sh ci": "the command CI runs (so every CI run runs it); checks it is .ci/run and parses",
    "text": "checks it holds no command",
    "yaml plan": "runs whatif on examples/lab.json with it; no plan error",
    "yaml waivers": "runs check on examples/lab.json with it; valid, and it waives something",
    "yaml config": "runs check on examples/lab.json with it; a valid config",
    "yaml github-actions": "runs the workflow's steps in a workspace (vCenter: the simulator)",
    "yaml gitlab-ci": "runs each job's script in a workspace (vCenter: the simulator)",
    "groovy jenkins": "runs the pipeline's sh steps in a workspace (vCenter: the simulator)",
    "json results": "its keys are the keys of a real check --json document",
    "toml entry-points": "a valid pyproject table of scalearc_lint.rules entry points",
    "python pytest": "runs as a pytest test file against examples/lab.json's rules",
}

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^`]*)$")
_EXIT = re.compile(r"\s+#\s*exits?\s+(?P<code>\d+)\b.*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its info string and its text."""

    path: str
    line: int
    info: str
    text: str

    @property
    def kind(self) -> str:
        """The info string with single spaces (``yaml plan``), or ``(none)``."""
        return " ".join(self.info.split()) or "(none)"

    @property
    def where(self) -> str:
        """``docs/x.md:12 (```yaml plan)``: how a failure names the block."""
        return f"{self.path}:{self.line} (```{self.kind})"


def read_blocks(root: Path, relative: str) -> list[Block]:
    """Every fenced block of one Markdown file, in order; an unclosed fence is an error."""
    lines = (root / relative).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        index += 1
        if not opening:
            continue
        indent, start = opening["indent"], index
        while index < len(lines) and lines[index].strip() != "```":
            index += 1
        if index == len(lines):
            raise ValueError(f"{relative}:{start}: a ``` block is never closed")
        body = [line.removeprefix(indent) for line in lines[start:index]]
        blocks.append(Block(relative, start, opening["info"].strip(), "\n".join(body) + "\n"))
        index += 1
    return blocks


def doc_files(root: Path) -> list[str]:
    """README.md and every Markdown file under docs/, relative to ``root``."""
    docs = sorted(p.relative_to(root).as_posix() for p in (root / "docs").rglob("*.md"))
    return ["README.md", *docs]


@dataclass
class Command:
    """One command of a console or sh block: its text, line, expected exit code and output."""

    text: str
    line: int
    exit_code: int = 0
    output: list[str] = field(default_factory=list)


def _split_exit(text: str) -> tuple[str, int]:
    """A command without its ``# exit N`` annotation, and N (0 without one)."""
    found = _EXIT.search(text)
    if not found:
        return text, 0
    return text[: found.start()], int(found["code"])


def console_commands(block: Block) -> list[Command]:
    """The commands of a ``console`` block with the output each is shown to print."""
    commands: list[Command] = []
    lines = block.text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.startswith("$ "):
            if not commands:
                raise ValueError(f"{block.where}: output before the first '$ ' command: {line!r}")
            commands[-1].output.append(line)
            continue
        parts, first = [line[2:]], block.line + index
        while parts[-1].endswith("\\") and index < len(lines):
            parts.append(lines[index].removeprefix("> "))
            index += 1
        text, code = _split_exit("\n".join(parts))
        commands.append(Command(text, first, code))
    return commands


def shell_commands(block: Block) -> list[Command]:
    """The commands of an ``sh`` block: logical lines, comments and blank lines left out."""
    commands: list[Command] = []
    lines = block.text.splitlines()
    index = 0
    while index < len(lines):
        first = block.line + index + 1
        parts = [lines[index]]
        index += 1
        while parts[-1].endswith("\\") and index < len(lines):
            parts.append(lines[index])
            index += 1
        joined = "\n".join(parts)
        if not joined.strip() or joined.lstrip().startswith("#"):
            continue
        text, code = _split_exit(joined)
        commands.append(Command(text, first, code))
    return commands


_ELLIPSIS = re.compile(r"\.\.\.|…")


def _line_pattern(expected: str) -> re.Pattern[str]:
    """A doc output line as a regex: ``...`` / ``…`` match any text, the rest literally."""
    parts = _ELLIPSIS.split(expected.rstrip())
    return re.compile(".*?".join(re.escape(part) for part in parts), re.DOTALL)


def output_mismatch(expected: Sequence[str], actual: Sequence[str]) -> str | None:
    """None when ``actual`` matches the doc's ``expected`` lines; else what did not match."""
    want = [line.rstrip() for line in expected]
    got = [line.rstrip() for line in actual]
    while got and not got[-1]:
        got.pop()
    while want and not want[-1]:
        want.pop()
    patterns = [None if w.strip() in ("...", "…") else _line_pattern(w) for w in want]
    best = [0]  # the most doc lines matched on any path, for the message

    def match(i: int, j: int, memo: dict[tuple[int, int], bool]) -> bool:
        if (i, j) in memo:
            return memo[(i, j)]
        best[0] = max(best[0], i)
        if i == len(patterns):
            result = j == len(got)
        elif patterns[i] is None:
            result = any(match(i + 1, k, memo) for k in range(j, len(got) + 1))
        else:
            pattern = patterns[i]
            assert pattern is not None
            result = j < len(got) and bool(pattern.fullmatch(got[j])) and match(i + 1, j + 1, memo)
        memo[(i, j)] = result
        return result

    if match(0, 0, {}):
        return None
    if best[0] < len(want):
        problem = f"no output line matches the doc's line {best[0] + 1}: {want[best[0]]!r}"
    else:
        problem = (
            "the command printed more lines than the doc shows (end the doc's output with ...)"
        )
    shown = "\n".join(f"    | {line}" for line in got[:60])
    more = f"\n    | ... ({len(got) - 60} more lines)" if len(got) > 60 else ""
    return f"{problem}\n  it printed:\n{shown}{more}"


def text_block_problems(block: Block) -> Iterator[str]:
    """Commands hiding in a ``text`` block, which the test would otherwise never run."""
    for number, line in enumerate(block.text.splitlines(), start=block.line + 1):
        if line.startswith(("$ ", "scalearc-lint ")):
            yield f"{block.path}:{number}: a command in a ```text block: {line!r}"
