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


def test_act_now_first_then_non_passing_results_most_urgent_first_then_a_table_by_rule() -> None:
    text = rendered(io.StringIO())
    lines = text.splitlines()
    assert lines[0] == "Act now: 2 object(s) fail, most urgent first"
    numbered = [line.split()[:3] for line in lines if line[:4].strip().rstrip(".").isdigit()]
    # The pair on one host (exposed) before sa-solo's old snapshot (latent), both errors.
    assert numbered == [["1.", "FAIL", "ha-pair"], ["2.", "FAIL", "vm"]]
    assert "pair-alpha" in lines[1] and "sa-solo" in text.split("  2. ")[1].splitlines()[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("rule "))
    start = next(i for i, line in enumerate(lines) if line.startswith(("FAIL ", "CRASHED ")))
    listed = [line.split()[:2] for line in lines[start : header - 1]]
    assert listed == [
        ["FAIL", "SA004"],
        ["FAIL", "SA008"],
        ["CRASHED", "SA007"],
        ["UNKNOWN", "SA006"],
        ["WAIVED", "SA001"],
    ]
    assert lines[header].split()[:6] == ["rule", "pass", "fail", "waived", "unknown", "crashed"]
    table = lines[header + 1 : header + 18]
    assert [row.split()[0] for row in table] == ["ID001", *(f"SA{i:03d}" for i in range(1, 17))]
    assert lines[-1] == "64 passed, 2 failed, 1 waived, 1 unknown, 1 crashed"


def test_act_now_says_where_the_object_runs_and_the_next_step() -> None:
    linted = lab()
    out = io.StringIO()
    render_console(linted.document, out, linted.inventories)
    block = out.getvalue().split("\n\n")[0]
    entry = block.split("  2. ")[0]
    assert (
        "ha-pair pair-alpha (sa-alpha-1 (primary, esx-1), sa-alpha-2 (secondary, esx-1);" in entry
    )
    assert "SA004 error, exposed: sa-alpha-1 and sa-alpha-2 both run on esx-1" in entry
    assert "next step: Move the secondary sa-alpha-2 to a host other than esx-1 " in entry


def test_act_now_lists_ten_objects_and_says_how_many_more() -> None:
    results = [make_result(f"sa-{i:02d}", moid=f"vm-{i}") for i in range(13)]
    out = io.StringIO()
    render_console(make_document(results, [make_rule()]), out)
    block = out.getvalue().split("\n\n")[0]
    assert block.count(" FAIL vm sa-") == 10
    assert block.splitlines()[-1].strip() == "... and 3 more, all listed below"


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
