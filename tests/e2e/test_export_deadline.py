"""An export never hangs: a vCenter that stops answering is given up on at the deadline."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import (
    OLD_SNAPSHOT,
    PASSWORD_ENV,
    address_export_argv,
    assert_untouched,
    export_argv,
    one_error_line,
    run_cli,
)
from tests.vcsim_support import Vcsim


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung appliance)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_server_that_accepts_and_never_answers_meets_the_deadline(tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    out.write_bytes(OLD_SNAPSHOT)
    with silent_server() as port:
        argv = address_export_argv(f"127.0.0.1:{port}", out, "--insecure", "--timeout", "2", "-q")
        run = run_cli(argv, {PASSWORD_ENV: "pw"})
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("scalearc-lint: warning: TLS certificates are not verified")
    line = one_error_line("\n".join(lines[1:]))
    assert f"127.0.0.1:{port}: no complete export within 2 s (--timeout)" in line
    assert_untouched(out)


def test_one_silent_vcenter_does_not_hold_back_the_others_beyond_the_deadline(
    vcsim: Vcsim, tmp_path: Path
) -> None:
    with silent_server() as port:
        argv = export_argv(
            vcsim,
            tmp_path / "snap-{vcenter}.json",
            "--timeout",
            "20",
            "--server",
            f"127.0.0.1:{port}",
        )
        run = run_cli(argv, {PASSWORD_ENV: vcsim.password})
    assert run.code == 2
    line = one_error_line(run.stderr)
    assert f"127.0.0.1:{port}: no" in line
    # The vCenter that answered was exported and written.
    assert (tmp_path / f"snap-127.0.0.1_{vcsim.port}.json").exists()


def test_a_stopped_vcenter_meets_the_deadline(vcsim: Vcsim, tmp_path: Path) -> None:
    """SIGSTOP: the process keeps its sockets, the kernel completes connections, no answer."""
    out = tmp_path / "snap.json"
    out.write_bytes(OLD_SNAPSHOT)
    vcsim.process.send_signal(signal.SIGSTOP)
    try:
        run = run_cli(export_argv(vcsim, out, "--timeout", "3"), {PASSWORD_ENV: vcsim.password})
    finally:
        vcsim.process.send_signal(signal.SIGCONT)
    assert run.code == 2
    line = one_error_line(run.stderr)
    assert f"127.0.0.1:{vcsim.port}: no complete export within 3 s (--timeout)" in line
    assert_untouched(out)
