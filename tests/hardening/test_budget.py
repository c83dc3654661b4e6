"""No hang from user code: a rule that never returns, and a regular expression that never ends."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from scalearc_lint.engine.budget import OutOfTime, TimeBudget
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.sketch import build
from tests.conftest import run_cli
from tests.hardening.kit import (
    LAB,
    LAB_FAILURES,
    judged,
    one_error_line,
    results_of,
    write_rule,
)

FOREVER = {
    "a busy loop": "def check(a, inv, opts):\n    while True:\n        pass",
    "a long sleep": "def check(a, inv, opts):\n    time.sleep(10**6)",
    "a loop that swallows Exception": (
        "def check(a, inv, opts):\n    while True:\n        try:\n            while True:\n"
        "                pass\n        except Exception:\n            pass"
    ),
    "a catastrophic regular expression": (
        "import re\n\ndef check(a, inv, opts):\n    re.fullmatch(r'(a+)+$', 'a' * 64 + '!')"
    ),
}


@pytest.mark.parametrize("case", sorted(FOREVER))
def test_a_rule_that_never_returns_is_stopped_and_crashed(case: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write_rule(rules, FOREVER[case])
    result = run_cli(["check", LAB, "--rules-dir", rules, "--json", "-", "--rule-timeout", "0.5"])
    assert result.code == 3, result.stderr
    results = results_of(result.stdout)
    mine = judged(results)
    assert {r["status"] for r in mine} == {"crashed"}
    stopped = [r for r in mine if "ran out of its time budget" in r["message"]]
    assert len(stopped) == 1
    assert "(0.5 s a snapshot, --rule-timeout)" in stopped[0]["message"]
    # The rest had no time left and say so, rather than vanishing or passing.
    assert all("was not run on this object" in r["message"] for r in mine if r not in stopped)
    assert sum(r["status"] == "fail" for r in results) == LAB_FAILURES


def test_a_rule_slow_on_one_object_only_is_stopped_there(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write_rule(
        rules,
        """
        def check(a, inv, opts):
            while a.vm.name == "sa-billing-01":
                pass
            return failed("judged")
        """,
    )
    result = run_cli(["check", LAB, "--rules-dir", rules, "--json", "-", "--rule-timeout", "1"])
    assert result.code == 3
    statuses = {r["object"]["name"]: r["status"] for r in judged(results_of(result.stdout))}
    assert statuses["sa-billing-01"] == "crashed"
    # Objects judged before it keep their verdicts.
    assert {s for name, s in statuses.items() if name < "sa-billing-01"} <= {"fail"}


def test_a_rule_that_swallows_every_interruption_ends_the_run_red(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write_rule(
        rules,
        """
        def check(a, inv, opts):
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
        """,
    )
    out = tmp_path / "r.json"
    result = run_cli(["check", LAB, "--rules-dir", rules, "--json", out, "--rule-timeout", "0.2"])
    assert result.code == 3
    line = one_error_line(result)
    assert "rule TEST001" in line and "ending the run (no output was written)" in line
    assert not out.exists()


def test_no_rule_timeout_means_no_budget(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write_rule(rules, "def check(a, inv, opts):\n    time.sleep(0.3)\n    return failed('slow')")
    result = run_cli(["check", LAB, "--rules-dir", rules, "--json", "-", "--rule-timeout", "0"])
    assert result.code == 1
    mine = judged(results_of(result.stdout))
    assert {r["status"] for r in mine} == {"fail"}


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon", "1e9"])
def test_rule_timeout_must_be_a_sane_number(value: str) -> None:
    result = run_cli(["check", LAB, "--rule-timeout", value])
    assert result.code == 2
    assert "--rule-timeout" in one_error_line(result)


@pytest.mark.parametrize(
    "pattern", [r"(?P<role>primary)|(a+)+$", r"(?P<role>x)?(a|a)*$", r"(?P<role>(a*)*)b"]
)
def test_a_catastrophic_name_pattern_is_one_line_not_a_hang(pattern: str, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    snapshot.write_bytes(encode_snapshot(build({"vms": {"a" * 60 + "!": {}}})))
    config = tmp_path / "c.yaml"
    config.write_text(f"appliances:\n  by: name\n  name_pattern: '{pattern}'\n")
    result = run_cli(["check", snapshot, "--config", config, "--rule-timeout", "0.5"])
    assert result.code == 2
    line = one_error_line(result)
    assert "identifying appliances took more than 0.5 s" in line
    assert "name_pattern" in line and "simplify it" in line


def test_a_hostile_waiver_glob_on_a_long_name_is_fast_enough_to_finish(tmp_path: Path) -> None:
    """fnmatch translates ``*`` to atomic groups (Python 3.11): no backtracking blow-up."""
    snapshot = tmp_path / "snap.json"
    name = "sa-" + "a" * 5000
    snapshot.write_bytes(encode_snapshot(build({"appliances": {name: {"snapshots": ["50h"]}}})))
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n  - rule: SA008\n    object: {name: '" + "*a" * 60 + "*b'}\n"
        "    reason: r\n    owner: o\n    ticket: T-1\n    expires: 2999-01-01\n"
    )
    result = run_cli(["check", snapshot, "--waivers", waivers, "-q", "--rule-timeout", "5"])
    assert result.code in (0, 1), result.stderr


# -- the budget itself, in this process ---------------------------------------------------


def test_the_budget_stops_a_loop_and_leaves_no_timer_behind() -> None:
    def spin() -> None:
        while True:
            pass

    with TimeBudget(0.2, what="a test") as budget:
        with pytest.raises(OutOfTime):
            budget.run(spin)
        assert budget.exhausted
        with pytest.raises(OutOfTime):
            budget.run(lambda: None)  # nothing left to spend
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    time.sleep(0.3)  # a late tick, if any were left armed, would raise here


def test_the_budget_is_shared_by_calls_and_returns_values() -> None:
    with TimeBudget(5, what="a test") as budget:
        assert budget.run(lambda x: x + 1, 41) == 42
        assert not budget.exhausted and 0 <= budget.used < 5
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_between_budgeted_calls_is_not_counted() -> None:
    """The timer runs through the engine's own time between calls; going off there, or
    before the calls have used the budget, it must not interrupt anything."""
    with TimeBudget(0.3, what="a test") as budget:
        for _ in range(8):
            budget.run(time.sleep, 0.01)
            time.sleep(0.06)  # the engine's time: 0.48 s in all, past the budget
        assert 0.08 <= budget.used < 0.3
        assert not budget.exhausted


def test_a_budget_used_up_across_calls_stops_the_call_that_crosses_it() -> None:
    def spin() -> None:
        while True:
            pass

    with TimeBudget(0.3, what="a test") as budget:
        budget.run(time.sleep, 0.2)
        time.sleep(0.2)  # between calls: not counted
        started = time.monotonic()
        with pytest.raises(OutOfTime):
            budget.run(spin)
        assert time.monotonic() - started < 0.25  # stopped when its 0.1 s left ran out
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_exception_of_the_budgeted_code_passes_through() -> None:
    def fail() -> None:
        raise ValueError("mine")

    with TimeBudget(5, what="a test") as budget, pytest.raises(ValueError, match="mine"):
        budget.run(fail)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
