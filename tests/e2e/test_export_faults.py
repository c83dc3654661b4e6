"""Faults during export: each ends in one clear line and exit 2, never a half-written file."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from scalearc_lint.snapshot.loader import load_snapshot
from tests.e2e.conftest import (
    OLD_SNAPSHOT,
    PASSWORD_ENV,
    address_export_argv,
    assert_untouched,
    export_argv,
    new_sessions,
    one_error_line,
    run_cli,
    spawn_cli,
)
from tests.e2e.lab import connect
from tests.vcsim_support import Vcsim, running_vcsim


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_wrong_password_is_one_line_naming_the_server(vcsim: Vcsim, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    run = run_cli(export_argv(vcsim, out), {PASSWORD_ENV: "not-" + vcsim.password})
    assert run.code == 2
    line = one_error_line(run.stderr)
    assert f"127.0.0.1:{vcsim.port}" in line
    assert "wrong user name or password" in line
    assert vcsim.password not in run.stderr
    assert not out.exists()


def test_untrusted_certificate_is_refused(vcsim: Vcsim, tmp_path: Path) -> None:
    argv = export_argv(vcsim, tmp_path / "snap.json")
    with running_vcsim(vm=0) as other:  # a valid CA, but not the one that signed vcsim's cert
        argv[argv.index("--ca-file") + 1] = other.ca_file
        run = run_cli(argv, {PASSWORD_ENV: vcsim.password})
    assert run.code == 2
    line = one_error_line(run.stderr)
    assert "TLS certificate not trusted" in line
    assert "--ca-file" in line


def test_without_ca_file_the_system_store_does_not_trust_vcsim(
    vcsim: Vcsim, tmp_path: Path
) -> None:
    argv = export_argv(vcsim, tmp_path / "snap.json")
    i = argv.index("--ca-file")
    del argv[i : i + 2]
    run = run_cli(argv, {PASSWORD_ENV: vcsim.password})
    assert run.code == 2
    assert "TLS certificate not trusted" in one_error_line(run.stderr)


def test_insecure_works_and_warns(vcsim: Vcsim, tmp_path: Path) -> None:
    argv = export_argv(vcsim, tmp_path / "snap.json")
    i = argv.index("--ca-file")
    argv[i : i + 2] = ["--insecure"]
    run = run_cli(argv, {PASSWORD_ENV: vcsim.password})
    assert run.code == 0, run.stderr
    assert "not verified" in run.stderr
    load_snapshot(tmp_path / "snap.json")


def test_unreachable_server(tmp_path: Path) -> None:
    port = _free_port()
    run = run_cli(
        address_export_argv(f"127.0.0.1:{port}", tmp_path / "snap.json"), {PASSWORD_ENV: "pw"}
    )
    assert run.code == 2
    line = one_error_line(run.stderr)
    assert f"127.0.0.1:{port}: connection refused" in line


def test_no_password_and_no_terminal(vcsim: Vcsim, tmp_path: Path) -> None:
    run = run_cli(
        [
            "export",
            "--server",
            vcsim.url,
            "--user",
            vcsim.user,
            "--ca-file",
            vcsim.ca_file,
            "-o",
            str(tmp_path / "snap.json"),
        ]
    )
    assert run.code == 2
    assert "--password-env" in one_error_line(run.stderr)


def test_password_in_server_url_is_refused(vcsim: Vcsim, tmp_path: Path) -> None:
    url = vcsim.url.replace("https://", f"https://{vcsim.user}:{vcsim.password}@")
    run = run_cli(["export", "--server", url, "-o", str(tmp_path / "snap.json")])
    assert run.code == 2
    assert "do not put a password on the command line" in one_error_line(run.stderr)
    assert vcsim.password not in run.stderr


def test_govc_environment_variables(vcsim: Vcsim, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    run = run_cli(
        ["export", "-o", str(out)],
        {
            "GOVC_URL": vcsim.url,
            "GOVC_USERNAME": vcsim.user,
            "GOVC_PASSWORD": vcsim.password,
            "GOVC_TLS_CA_CERTS": vcsim.ca_file,
        },
    )
    assert run.code == 0, run.stderr
    assert load_snapshot(out).snapshot.source.vcenter == f"127.0.0.1:{vcsim.port}"


def _start_slow_export(vcsim: Vcsim, out: Path, method: str) -> subprocess.Popen[str]:
    """An export in a child process that is inside a slowed-down ``method`` call."""
    out.write_bytes(OLD_SNAPSHOT)
    vcsim.set_delay(method, 5000)
    before = len(vcsim.calls())
    child = spawn_cli(export_argv(vcsim, out), {PASSWORD_ENV: vcsim.password})
    _wait_for(lambda: f"SOAP {method}" in vcsim.calls()[before:])
    return child


def test_server_dying_mid_export_leaves_the_old_snapshot(vcsim: Vcsim, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    child = _start_slow_export(vcsim, out, "RetrievePropertiesEx")
    vcsim.kill()
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 2, stderr
    line = one_error_line(stderr)
    assert f"127.0.0.1:{vcsim.port}" in line
    assert_untouched(out)


def test_ctrl_c_mid_export_leaves_the_old_snapshot(vcsim: Vcsim, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    known = vcsim.calls_by_session()
    child = _start_slow_export(vcsim, out, "RetrievePropertiesEx")
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert_untouched(out)
    # Nothing is left open on the server: the session, and all it held, ended at once.
    (session,) = [s for s in new_sessions(vcsim, known) if s.startswith("soap-")]
    assert any(
        c.session == session and c.call == "SOAP Logout" and c.status == 200
        for c in vcsim.call_log()
    )
    assert vcsim.retrievals().open == []


def test_an_export_given_up_at_its_deadline_logs_out(vcsim: Vcsim, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    out.write_bytes(OLD_SNAPSHOT)
    known = vcsim.calls_by_session()
    vcsim.set_delay("RetrievePropertiesEx", 10_000)  # every read hangs past the deadline
    try:
        run = run_cli(export_argv(vcsim, out, "--timeout", "3"), {PASSWORD_ENV: vcsim.password})
    finally:
        vcsim.set_delay("RetrievePropertiesEx", 0)
    assert run.code == 2
    assert "no complete export within 3 s (--timeout)" in one_error_line(run.stderr)
    assert_untouched(out)
    # Given up on, the export still logged out, ending all its session held.
    (session,) = [s for s in new_sessions(vcsim, known) if s.startswith("soap-")]
    assert any(
        c.session == session and c.call == "SOAP Logout" and c.status == 200
        for c in vcsim.call_log()
    )


def test_lost_session_is_re_established_and_the_export_restarts(
    vcsim: Vcsim, tmp_path: Path
) -> None:
    out = tmp_path / "snap.json"
    child = _start_slow_export(vcsim, out, "CreateContainerView")
    si = connect(vcsim)
    try:
        manager = si.content.sessionManager
        mine = manager.currentSession.key
        others = [s.key for s in manager.sessionList if s.key != mine]
        assert others, "the exporter's session should be listed"
        manager.TerminateSession(sessionId=others)
    finally:
        si.content.sessionManager.Logout()
    vcsim.set_delay("CreateContainerView", 0)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    assert stderr == ""
    snapshot = load_snapshot(out).snapshot
    assert len(snapshot.vms) == 2
    assert len(snapshot.hosts) == 3
    assert vcsim.calls().count("SOAP Login") >= 3  # the exporter twice, this test once
