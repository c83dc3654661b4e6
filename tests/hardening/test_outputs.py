"""Outputs never destroy anything: not a device, a FIFO, an input, or an older report."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.cli import main
from scalearc_lint.io import outputs
from tests.conftest import EXAMPLES, REPO, run_cli
from tests.hardening.kit import LAB, one_error_line, run_in_process, write_rule

NOTHING_WRITTEN = "interrupted; no output was written (existing files are unchanged)"

# -- class 1: devices, FIFOs, links -------------------------------------------------------


@pytest.mark.parametrize("option", ["--json", "--html", "--junit", "--sarif"])
def test_dev_null_stays_a_device(option: str) -> None:
    before = Path(os.devnull).stat()
    result = run_cli(["check", LAB, option, os.devnull, "-q"])
    assert result.code == 1, result.stderr
    after = Path(os.devnull).stat()
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run_cli(["check", LAB, "--json", fifo, "-q"])
    reader.join(30)
    assert result.code == 1, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert json.loads(received[0])["version"] == 2


def _shell(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=False,
    )


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_dev_stdout_redirected_to_a_file_gets_exactly_the_report(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    proc = _shell(f"{sys.executable} -m scalearc_lint check {LAB} --json {name} > {out}")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(out.read_text())["version"] == 2  # no console text mixed in
    assert not out.is_symlink()


def test_dev_stdout_into_a_pipe(tmp_path: Path) -> None:
    proc = _shell(f"{sys.executable} -m scalearc_lint check {LAB} --sarif /dev/stdout | cat")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["version"] == "2.1.0"


def test_a_symlink_to_a_report_is_kept_and_its_target_replaced(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "r.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    assert run_cli(["check", LAB, "--json", link, "-q"]).code == 1
    assert link.is_symlink()
    assert json.loads(real.read_text())["version"] == 2


def test_an_existing_report_keeps_its_permissions(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("old")
    out.chmod(0o600)
    assert run_cli(["check", LAB, "--json", out, "-q"]).code == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_new_report_follows_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = _shell(f"umask 077; {sys.executable} -m scalearc_lint check {LAB} --json {out} -q")
    assert proc.returncode == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    result = run_cli(["check", LAB, "--json", "/dev/full", "-q"])
    assert result.code == 2
    assert "No space left on device" in one_error_line(result)
    assert list(tmp_path.iterdir()) == []


# -- class 2: an output that is an input, or another output --------------------------------


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """Copies of every kind of input a command reads."""
    files = {
        "snapshot": tmp_path / "lab.json",
        "config": tmp_path / "config.yaml",
        "waivers": tmp_path / "waivers.yaml",
        "plan": tmp_path / "plan.yaml",
        "baseline": tmp_path / "base.json",
        "new": tmp_path / "new.json",
    }
    shutil.copy(LAB, files["snapshot"])
    files["config"].write_text("rules:\n  SA010: {enabled: true}\n")
    shutil.copy(EXAMPLES / "waivers.yaml", files["waivers"])
    shutil.copy(EXAMPLES / "plan-good.yaml", files["plan"])
    assert main(["check", str(LAB), "--json", str(files["baseline"]), "-q"]) == 1
    shutil.copy(files["baseline"], files["new"])
    (tmp_path / "rules").mkdir()
    write_rule(tmp_path / "rules", "def check(a, inv, opts):\n    return passed('ok')")
    files["rule"] = tmp_path / "rules" / "test001.py"
    return files


def _argv(command: str, f: dict[str, Path]) -> list[str | Path]:
    common: list[str | Path] = ["--config", f["config"], "--waivers", f["waivers"]]
    common += ["--rules-dir", f["rule"].parent]
    if command == "check":
        return ["check", f["snapshot"], *common, "--baseline", f["baseline"]]
    if command == "whatif":
        return ["whatif", f["snapshot"], "--plan", f["plan"], *common]
    return ["diff", f["baseline"], f["new"]]


CASES = [
    ("check", "--json", "snapshot"),
    ("check", "--html", "waivers"),
    ("check", "--junit", "config"),
    ("check", "--sarif", "baseline"),
    ("check", "--json", "rule"),
    ("whatif", "--junit", "plan"),
    ("whatif", "--html", "snapshot"),
    ("whatif", "--sarif", "config"),
    ("diff", "--json", "baseline"),
    ("diff", "--html", "new"),
]


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink"])
@pytest.mark.parametrize(("command", "option", "victim"), CASES)
def test_an_output_that_is_an_input_is_refused(
    command: str, option: str, victim: str, spelling: str, inputs: dict[str, Path]
) -> None:
    target = inputs[victim]
    if spelling == "dot":
        target = target.parent / "." / target.name
    elif spelling == "symlink":
        link = target.parent / f"link-{target.name}"
        link.symlink_to(target)
        target = link
    elif spelling == "hardlink":
        hard = target.parent / f"hard-{target.name}"
        os.link(target, hard)
        target = hard
    before = {name: path.read_bytes() for name, path in inputs.items()}
    result = run_in_process([*_argv(command, inputs), option, target])
    assert result.code == 2, result.stderr
    line = one_error_line(result)
    assert f"{option} {target}: is the " in line and "this run reads" in line
    assert {name: path.read_bytes() for name, path in inputs.items()} == before


@pytest.mark.parametrize("option", ["--servers-file", "--ca-file"])
def test_export_refuses_to_write_over_its_own_inputs(option: str, tmp_path: Path) -> None:
    victim = tmp_path / "input.txt"
    victim.write_text("vc.example\n")
    servers = ["--server", "vc.example"] if option == "--ca-file" else []
    result = run_in_process(
        ["export", *servers, option, victim, "--user", "u", "--password-env", "PW", "-o", victim],
        env={"PW": "x"},
    )
    assert result.code == 2
    assert f"is the {option}" in one_error_line(result)
    assert victim.read_text() == "vc.example\n"


@pytest.mark.parametrize(
    "second", ["./r.json", "sub/../r.json", "link.json", "hard.json", "{tmp}/r.json"]
)
def test_two_reports_to_one_file_are_refused(second: str, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "r.json").write_text("old")
    (tmp_path / "link.json").symlink_to(tmp_path / "r.json")
    os.link(tmp_path / "r.json", tmp_path / "hard.json")
    result = run_cli(
        ["check", LAB, "--json", "r.json", "--sarif", second.format(tmp=tmp_path)], cwd=tmp_path
    )
    assert result.code == 2
    assert "already writes to that file" in one_error_line(result)
    assert (tmp_path / "r.json").read_text() == "old"


def test_two_new_reports_to_one_path_are_refused(tmp_path: Path) -> None:
    result = run_cli(["check", LAB, "--html", "x", "--junit", "./x"], cwd=tmp_path)
    assert result.code == 2
    assert not (tmp_path / "x").exists()


def test_any_number_of_reports_may_go_to_dev_null() -> None:
    argv: list[str | Path] = ["check", LAB, "-q", "--json", os.devnull, "--html", os.devnull]
    assert run_cli(argv).code == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["check", str(LAB), "--json", "{tmp}/out/"],
        ["check", str(LAB), "--json", "{tmp}/"],
        ["check", str(LAB), "--html", "{tmp}"],
        ["check", str(LAB), "--html", "{tmp}/."],
        ["check", str(LAB), "--sarif", "{tmp}/missing/dir/r.sarif"],
        ["diff", "{lab_results}", "{lab_results}", "--json", "{tmp}/out/"],
        ["synth", "--vms", "3", "-o", "{tmp}/out/"],
        ["synth", "--vms", "3", "-o", "{tmp}/nowhere/s.json"],
        ["whatif", str(LAB), "--plan", str(EXAMPLES / "plan-good.yaml"), "--junit", "{tmp}/o/"],
    ],
)
def test_a_directory_path_is_refused_before_any_work(argv: list[str], tmp_path: Path) -> None:
    results = tmp_path / "lab-results.json"
    assert main(["check", str(LAB), "--json", str(results), "-q"]) == 1
    work = tmp_path / "work"
    work.mkdir()
    filled = [a.format(tmp=work, lab_results=results) for a in argv]
    result = run_cli(filled)
    assert result.code == 2, result.stderr
    line = one_error_line(result)
    assert "directory" in line
    assert list(work.iterdir()) == []


# -- class 8: interrupts --------------------------------------------------------------------


def _four_reports(tmp_path: Path) -> tuple[list[str], dict[str, Path]]:
    paths = {ext: tmp_path / f"r.{ext}" for ext in ("json", "html", "xml", "sarif")}
    for path in paths.values():
        path.write_text("old")
    argv = ["check", str(LAB), "-q", "--json", str(paths["json"]), "--html", str(paths["html"])]
    argv += ["--junit", str(paths["xml"]), "--sarif", str(paths["sarif"])]
    return argv, paths


def test_interrupt_while_staging_writes_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, paths = _four_reports(tmp_path)
    real_stage = outputs._stage
    staged: list[str] = []

    def stage(target: Any, data: bytes) -> str:
        if len(staged) == 2:
            raise KeyboardInterrupt
        staged.append(target.name)
        return real_stage(target, data)

    monkeypatch.setattr(outputs, "_stage", stage)
    assert main(argv) == 130
    assert {p.read_text() for p in paths.values()} == {"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())
    err = capsys.readouterr().err
    assert (
        err == "scalearc-lint: interrupted; no output was written (existing files are unchanged)\n"
    )


def test_interrupt_during_the_renames_still_replaces_every_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, paths = _four_reports(tmp_path)
    real_replace = Path.replace
    calls: list[Path] = []

    def replace(self: Path, target: Any) -> Path:
        calls.append(self)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives between the renames
            time.sleep(0.05)
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    assert main(argv) == 130
    assert len(calls) == 4
    assert all(p.read_text() != "old" for p in paths.values())
    err = capsys.readouterr().err
    assert err.startswith("scalearc-lint: interrupted; these outputs had been written: ")
    assert all(str(p) in err for p in paths.values())


def _slow_check(tmp_path: Path, argv: list[str]) -> subprocess.Popen[str]:
    rules = tmp_path / "rules"
    write_rule(
        rules,
        """
        def check(a, inv, opts):
            sys.stderr.write("rule running\\n")
            sys.stderr.flush()
            time.sleep(30)
            return passed("ok")
        """,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "scalearc_lint", *argv, "--rules-dir", str(rules)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_ctrl_c_while_rules_run_ends_the_run_and_keeps_every_old_report(tmp_path: Path) -> None:
    argv, paths = _four_reports(tmp_path)
    child = _slow_check(tmp_path, argv)
    assert child.stderr is not None
    assert child.stderr.readline() == "rule running\n"
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130
    assert (
        stderr
        == "scalearc-lint: interrupted; no output was written (existing files are unchanged)\n"
    )
    assert {p.read_text() for p in paths.values()} == {"old"}


def _in_interpreter_start_up(stderr: str) -> bool:
    """Whether Ctrl-C landed in the interpreter's own start-up (importing ``site`` or
    ``runpy``), before the first line of this program ran: outside what it can handle.
    Such a traceback names none of the program's files."""
    return "Traceback" in stderr and "scalearc_lint" not in stderr


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8])
def test_ctrl_c_at_any_moment_never_prints_a_traceback(delay: float, tmp_path: Path) -> None:
    """From start-up (imports) to shutdown: one line, or the default SIGINT death."""
    argv, paths = _four_reports(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-m", "scalearc_lint", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    if _in_interpreter_start_up(stderr):
        return
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert child.returncode in (1, 130, -signal.SIGINT), stderr
    contents = {p.read_text() == "old" for p in paths.values()}
    assert len(contents) == 1, "some reports were replaced and others not"
    if child.returncode == 130:
        assert len(stderr.splitlines()) == 1


def test_the_installed_command_leaves_sigint_to_the_default_for_shutdown() -> None:
    previous = signal.getsignal(signal.SIGINT)
    try:
        assert main(["rules"], console=True) == 0
        assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, previous)
    assert main(["rules"]) == 0
    assert signal.getsignal(signal.SIGINT) is previous


# -- the output checks in this process -------------------------------------------------------


def _raises(call: Callable[[], object], text: str) -> None:
    with pytest.raises(Exception, match=text):
        call()


def test_a_socket_path_is_neither_read_nor_replaced(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        result = run_cli(["check", path])
        assert result.code == 2
        assert "is a socket, expected a JSON snapshot file" in one_error_line(result)
        assert stat.S_ISSOCK(path.lstat().st_mode)
