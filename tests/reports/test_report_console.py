"""The console summary: a table by rule, colour only on a terminal, --quiet."""

from __future__ import annotations

import io

import pytest

from scalearc_lint.engine.rule import Status
from scalearc_lint.reports.console import render_console
from tests.reports.reportkit import lab, make_document, make_result, make_rule


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def rendered(stream: io.StringIO, *, quiet: bool = False) -> str:
    render_console(lab().document, stream, quiet=quiet)
    return stream.getvalue()


def test_no_colour_when_not_a_terminal() -> None:
    assert "\033[" not in rendered(io.StringIO())


def test_colour_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert "\033[31mFAIL" in rendered(Terminal())


@pytest.mark.parametrize(("variable", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_colour_when_the_terminal_asks_for_none(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert "\033[" not in rendered(Terminal())


def test_lists_non_passing_results_then_a_table_by_rule() -> None:
    text = rendered(io.StringIO())
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("rule "))
    listed = [line.split()[:2] for line in lines[: header - 1]]
    assert listed == [
        ["WAIVED", "SA001"],
        ["FAIL", "SA004"],
        ["UNKNOWN", "SA006"],
        ["CRASHED", "SA007"],
        ["FAIL", "SA008"],
    ]
    table = lines[header + 1 : header + 13]
    assert [row.split()[0] for row in table] == ["ID001", *(f"SA{i:03d}" for i in range(1, 12))]
    assert lines[-1] == "40 passed, 2 failed, 1 waived, 1 unknown, 1 crashed"


def test_waived_line_names_reason_owner_and_expiry() -> None:
    [line] = [line for line in rendered(io.StringIO()).splitlines() if line.startswith("WAIVED")]
    assert "vendor case 4711" in line
    assert "owner dba-team@example.com" in line
    assert "expires 2026-12-31" in line


def test_quiet_prints_only_the_table() -> None:
    text = rendered(io.StringIO(), quiet=True)
    assert text.startswith("rule ")
    assert "CRASHED" not in text


def test_control_characters_cannot_drive_the_terminal() -> None:
    document = make_document(
        [make_result("vm\x1b]0;owned\x07", Status.FAIL, message="msg\x1b[2J")],
        [make_rule(text="\x1b[31m")],
    )
    out = io.StringIO()
    render_console(document, out)
    assert "\x1b" not in out.getvalue()
    assert "vm\\x1b]0;owned\\x07" in out.getvalue()
