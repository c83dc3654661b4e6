"""The CI gate cannot be turned green: whatever a rule or a plugin does, failures still fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.hardening.kit import (
    LAB,
    LAB_FAILURES,
    judged,
    one_error_line,
    results_of,
    write_rule,
)

#: A rule's check bodies that must each end as an isolated ``crashed`` result.
CRASHING_CHECKS = {
    "sys.exit(0)": "def check(a, inv, opts):\n    sys.exit(0)",
    "raise SystemExit": "def check(a, inv, opts):\n    raise SystemExit(0)",
    "KeyboardInterrupt": "def check(a, inv, opts):\n    raise KeyboardInterrupt",
    "GeneratorExit": "def check(a, inv, opts):\n    raise GeneratorExit",
    "MemoryError": "def check(a, inv, opts):\n    raise MemoryError('no more')",
    "RecursionError": "def check(a, inv, opts):\n    return check(a, inv, opts)",
    "unprintable exception": (
        "class Odd(Exception):\n    def __str__(self):\n        raise SystemExit(0)\n\n"
        "def check(a, inv, opts):\n    raise Odd()"
    ),
    "exception with a lone surrogate": "def check(a, inv, opts):\n    raise ValueError('\\udcff')",
    "a string status": "def check(a, inv, opts):\n    return Verdict('fail', 'x')",
    "status waived": "def check(a, inv, opts):\n    return Verdict(Status.WAIVED, 'x')",
    "status crashed": "def check(a, inv, opts):\n    return Verdict(Status.CRASHED, 'x')",
    "message not text": "def check(a, inv, opts):\n    return Verdict(Status.FAIL, 42)",
    "message None": "def check(a, inv, opts):\n    return failed(None)",
    "unencodable message": "def check(a, inv, opts):\n    return failed('bad \\ud800 text')",
    "severity as text": "def check(a, inv, opts):\n    return Verdict(Status.FAIL, 'x', 'error')",
    "returns a string": "def check(a, inv, opts):\n    return 'fail'",
    "returns a list": "def check(a, inv, opts):\n    return [failed('x')]",
    "is a generator": "def check(a, inv, opts):\n    yield failed('x')",
}


@pytest.mark.parametrize("case", sorted(CRASHING_CHECKS))
def test_anything_a_rule_does_wrong_is_its_own_crashed_result(case: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write_rule(rules, CRASHING_CHECKS[case])
    result = run_cli(["check", LAB, "--rules-dir", rules, "--json", "-"])
    assert result.code == 3, result.stderr
    assert "Traceback" not in result.stderr
    results = results_of(result.stdout)
    mine = judged(results)
    assert mine and {r["status"] for r in mine} == {"crashed"}
    assert all(r["message"].startswith("rule TEST001 ") for r in mine)
    # Every other rule's results are intact.
    assert sum(r["status"] == "fail" for r in results) == LAB_FAILURES


def test_a_rule_that_crashes_on_one_object_still_judges_the_others(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write_rule(
        rules,
        """
        def check(a, inv, opts):
            if a.vm.name == "sa-orders-01":
                sys.exit(0)
            return failed("judged")
        """,
    )
    result = run_cli(["check", LAB, "--rules-dir", rules, "--json", "-"])
    assert result.code == 3
    statuses = {r["object"]["name"]: r["status"] for r in judged(results_of(result.stdout))}
    assert statuses.pop("sa-orders-01") == "crashed"
    assert statuses and set(statuses.values()) == {"fail"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("id=7", "rule id is int, not text"),
        ("title=None", "rule title is NoneType, not text"),
        ("rationale=b'bytes'", "rule rationale is bytes, not text"),
        ("title='bad \\ud800'", "rule title is not valid Unicode text"),
        ("severity='critical'", "severity 'critical' is not a scalearc_lint.engine.rule.Severity"),
        ("severity='error'", "severity 'error' is not a scalearc_lint.engine.rule.Severity"),
        ("scope=['vm']", "scope ['vm'] is not one of"),
        ("check=None", "check is not callable"),
        ("options=dict", "options must be a msgspec.Struct class"),
        ("options=Exploding", "options cannot be made with their defaults: SystemExit"),
        ("name='Not Kebab'", "is not kebab-case"),
    ],
)
def test_a_malformed_rule_is_one_line_naming_its_module(
    fields: str, expected: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    module = write_rule(rules, "def check(a, inv, opts):\n    return passed('ok')")
    text = module.read_text().replace("check=check,\n", f"check=check,\n    {fields},\n")
    text = text.replace(
        "\n\nRULE = Rule(",
        "\n\nclass Exploding(msgspec.Struct):\n    def __post_init__(self):\n"
        "        sys.exit(0)\n\n\nRULE = Rule(",
    )
    # A later keyword overrides an earlier one only if it is not repeated: drop the default.
    key = fields.split("=", 1)[0]
    text = "\n".join(
        line for line in text.splitlines() if not line.startswith(f"    {key}=") or fields in line
    )
    module.write_text(text)
    result = run_cli(["check", LAB, "--rules-dir", rules])
    assert result.code == 2, result.stderr
    line = one_error_line(result)
    assert str(module) in line
    assert expected in line


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("sys.exit(0)", "SystemExit: 0"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("raise SystemExit('bye')", "SystemExit: bye"),
        ("import no_such_module_anywhere", "ModuleNotFoundError"),
    ],
)
def test_a_rule_module_that_exits_on_import_is_a_load_error(
    statement: str, expected: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.py").write_text(f"import sys\n{statement}\n")
    result = run_cli(["check", LAB, "--rules-dir", rules])
    assert result.code == 2
    line = one_error_line(result)
    assert "bad.py: rule module failed to import" in line
    assert expected in line


def _fake_distribution(site: Path, module_source: str) -> None:
    """An installed distribution with a ``scalearc_lint.rules`` entry point, as pip lays it."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "hostile_plugin.py").write_text(module_source)
    info = site / "hostile_plugin-6.6.6.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hostile-plugin\nVersion: 6.6.6\n")
    (info / "entry_points.txt").write_text("[scalearc_lint.rules]\nhostile = hostile_plugin\n")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sys\nsys.exit(0)\n", "failed to load: SystemExit: 0"),
        ("raise KeyboardInterrupt\n", "failed to load: KeyboardInterrupt"),
        ("RULE = 'not a rule'\n", "RULE is not a scalearc_lint.engine.rule.Rule (str)"),
        (
            "from scalearc_lint.engine.rule import Rule, Severity\n"
            "RULE = Rule(id=None, name='x', title='t', severity=Severity.ERROR, scope='vm',"
            " rationale='r', reference='r', remediation='r', check=print)\n",
            "rule id is NoneType, not text",
        ),
    ],
)
def test_a_malformed_plugin_is_one_line_naming_the_distribution(
    source: str, expected: str, tmp_path: Path
) -> None:
    _fake_distribution(tmp_path / "site", source)
    result = run_cli(["check", LAB], env={"PYTHONPATH": f"{REPO}:{tmp_path / 'site'}"})
    assert result.code == 2
    line = one_error_line(result)
    assert "plugin hostile-plugin 6.6.6 (entry point hostile = hostile_plugin)" in line
    assert expected in line


def test_a_plugin_rule_that_exits_is_crashed_not_green(tmp_path: Path) -> None:
    module = (
        "import sys\n"
        "from scalearc_lint.engine.rule import Rule, Severity\n"
        "def check(a, inv, opts):\n    sys.exit(0)\n"
        "RULE = Rule(id='EVIL001', name='evil', title='t', severity=Severity.ERROR,"
        " scope='appliance', rationale='r', reference='r', remediation='r', check=check)\n"
    )
    _fake_distribution(tmp_path / "site", module)
    out = tmp_path / "r.json"
    result = run_cli(
        ["check", LAB, "--json", out], env={"PYTHONPATH": f"{REPO}:{tmp_path / 'site'}"}
    )
    assert result.code == 3
    summary = json.loads(out.read_text())["summary"]
    assert (
        summary["fail"] == LAB_FAILURES and summary["crashed"] == 8
    )  # one per appliance identified without doubt


@pytest.mark.parametrize(
    "noise",
    [
        "print('noise from a rule')",
        "sys.stdout.write('noise'); sys.stdout.flush()",
        "os.write(1, b'noise at the file descriptor')",
        "print('noise', file=sys.__stdout__, flush=True)",
    ],
)
@pytest.mark.parametrize("report", ["--json", "--sarif", "--junit"])
def test_a_rule_that_prints_cannot_corrupt_a_report_on_stdout(
    noise: str, report: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    write_rule(rules, f"def check(a, inv, opts):\n    {noise}\n    return failed('x')")
    result = run_cli(["check", LAB, "--rules-dir", rules, report, "-"])
    assert result.code == 1, result.stderr
    assert "noise" not in result.stdout
    assert "noise" in result.stderr
    if report == "--json":
        assert len(results_of(result.stdout)) > 0
    elif report == "--sarif":
        json.loads(result.stdout)
    else:
        assert result.stdout.startswith("<?xml")


def test_a_plugin_printing_at_import_cannot_corrupt_a_report_on_stdout(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    path = write_rule(rules, "def check(a, inv, opts):\n    return passed('ok')")
    path.write_text(path.read_text() + "\nprint('hello from import')\n")
    result = run_cli(["check", LAB, "--rules-dir", rules, "--json", "-"])
    assert result.code == 1
    assert results_of(result.stdout)
    assert "hello from import" in result.stderr


def test_fail_on_new_without_a_baseline_is_a_usage_error() -> None:
    result = run_cli(["check", LAB, "--fail-on-new"])
    assert result.code == 2
    assert "--fail-on-new needs --baseline" in one_error_line(result)


def test_a_reader_that_stops_early_does_not_turn_failures_green() -> None:
    """``check | head -1`` (with pipefail, the pipeline's status is check's)."""
    proc = subprocess.run(
        f"{sys.executable} -m scalearc_lint check {LAB} | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_closed_stderr_does_not_turn_failures_green() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m scalearc_lint check {LAB} -q 2>&-",
        shell=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 1


def test_a_closed_stdout_does_not_turn_failures_green() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m scalearc_lint check {LAB} >&-",
        shell=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr == ""


@pytest.mark.parametrize("thread", [False, True])
def test_the_process_ends_as_a_shutdown_would_have_ended_it(thread: bool, tmp_path: Path) -> None:
    """The command ends without freeing every object (cli._exit): exit handlers still
    run, what they write to buffered stdout still arrives, the exit code is the run's;
    and while another thread still runs, the interpreter shuts down as usual and waits."""
    rules = tmp_path / "rules"
    late = tmp_path / "late-thread.txt"
    source = (
        "import atexit, pathlib, sys, threading, time\n"
        "atexit.register(lambda: sys.stdout.write('written at exit, no newline'))\n"
    )
    if thread:
        source += (
            "def _late():\n"
            "    time.sleep(0.5)\n"
            f"    pathlib.Path({str(late)!r}).write_text('done')\n"
            "threading.Thread(target=_late).start()\n"
        )
    path = write_rule(rules, "def check(a, inv, opts):\n    return passed('ok')")
    path.write_text(path.read_text() + "\n" + source)
    # Block-buffered stdout, as when a CI job captures it.
    result = run_cli(["check", LAB, "--rules-dir", rules], env={"PYTHONUNBUFFERED": ""})
    assert result.code == 1, result.stderr
    assert "passed," in result.stdout
    assert result.stdout.endswith("written at exit, no newline")
    assert late.exists() is thread
