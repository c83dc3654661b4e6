"""How the docs test reads a block and compares output: it must be able to fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import (
    Block,
    console_commands,
    output_mismatch,
    read_blocks,
    shell_commands,
    text_block_problems,
)


def block(text: str, info: str = "console") -> Block:
    return Block("doc.md", 10, info, text)


def test_console_commands_take_output_exit_codes_and_continuations() -> None:
    commands = console_commands(
        block("$ scalearc-lint check a.json \\\n> -q      # exit 1\nline one\n...\n$ echo $?\n1\n")
    )
    assert [c.text for c in commands] == ["scalearc-lint check a.json \\\n-q", "echo $?"]
    assert [c.exit_code for c in commands] == [1, 0]
    assert commands[0].output == ["line one", "..."]
    assert commands[0].line == 11


def test_output_before_the_first_prompt_is_an_error() -> None:
    with pytest.raises(ValueError, match="output before the first"):
        console_commands(block("stray\n$ true\n"))


def test_shell_commands_skip_comments_and_join_continuations() -> None:
    commands = shell_commands(
        block("# a note\nexport A=1\nscalearc-lint check x \\\n  -q   # exits 1: findings\n", "sh")
    )
    assert [(c.text, c.exit_code) for c in commands] == [
        ("export A=1", 0),
        ("scalearc-lint check x \\\n  -q", 1),
    ]


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (["a", "b"], ["a", "b"]),
        (["...", "b"], ["x", "y", "b"]),
        (["a", "..."], ["a", "x", "y"]),
        (["total: ... results (...)"], ["total: 52 results (1 new)"]),
        (["a", "…", "c"], ["a", "c"]),
        (["a  "], ["a", ""]),
    ],
)
def test_output_matches(expected: list[str], actual: list[str]) -> None:
    assert output_mismatch(expected, actual) is None


@pytest.mark.parametrize(
    ("expected", "actual", "problem"),
    [
        (["a", "b"], ["a", "c"], "doc's line 2: 'b'"),
        (["a"], ["a", "b"], "more lines than the doc shows"),
        (["...", "z"], ["a", "b"], "doc's line 2: 'z'"),
        (["total: ... results"], ["total: 52 results!"], "doc's line 1"),
        (["b", "a"], ["a", "b"], "doc's line 1"),
    ],
)
def test_output_mismatches_name_the_line(
    expected: list[str], actual: list[str], problem: str
) -> None:
    message = output_mismatch(expected, actual)
    assert message is not None and problem in message


def test_text_blocks_may_not_hide_commands() -> None:
    assert list(text_block_problems(block("a diagram\n", "text"))) == []
    problems = list(text_block_problems(block("$ scalearc-lint check x\n", "text")))
    assert problems == ["doc.md:11: a command in a ```text block: '$ scalearc-lint check x'"]


def test_blocks_are_read_with_kind_line_and_indentation(tmp_path: Path) -> None:
    (tmp_path / "d.md").write_text(
        "intro\n```yaml plan\nsteps: []\n```\n- item\n  ```sh\n  true\n  ```\n```\nbare\n```\n"
    )
    found = read_blocks(tmp_path, "d.md")
    assert [(b.line, b.kind, b.text) for b in found] == [
        (2, "yaml plan", "steps: []\n"),
        (6, "sh", "true\n"),
        (9, "(none)", "bare\n"),
    ]


def test_an_unclosed_block_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "d.md").write_text("```sh\ntrue\n")
    with pytest.raises(ValueError, match="never closed"):
        read_blocks(tmp_path, "d.md")
