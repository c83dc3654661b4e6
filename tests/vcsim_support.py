"""Build and run the vCenter simulator (``tests/vcsim/main.go``) for tests and benchmarks.

The launcher is built once with Debian's Go toolchain and govmomi sources and
cached beside its source (git-ignored); it is rebuilt when one of its ``.go``
files changes.
A build failure raises: tests that need vcsim fail, they are never skipped.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER_DIR = ROOT / "tests" / "vcsim"
BINARY = LAUNCHER_DIR / "vcsim"
#: Where Debian's golang-github-vmware-govmomi-dev puts the govmomi sources.
GOPATH = "/usr/share/gocode"
USER = "scalearc"

_build_lock = threading.Lock()


class VcsimError(RuntimeError):
    """vcsim could not be built or started."""


def build_vcsim() -> Path:
    """The launcher binary, built first if missing or older than its sources."""
    newest_source = max(p.stat().st_mtime for p in LAUNCHER_DIR.glob("*.go"))
    with _build_lock:
        if BINARY.exists() and BINARY.stat().st_mtime >= newest_source:
            return BINARY
        go = shutil.which("go")
        if go is None:
            raise VcsimError(
                "`go` not found: install golang-go and golang-github-vmware-govmomi-dev"
            )
        env = {**os.environ, "GOPATH": GOPATH, "GO111MODULE": "off"}
        if "HOME" not in env and "GOCACHE" not in env:
            env["GOCACHE"] = str(Path(tempfile.gettempdir()) / "scalearc-lint-gocache")
        with tempfile.TemporaryDirectory(prefix="salint-vcsim-build-") as tmp:
            partial = Path(tmp) / "vcsim"
            result = subprocess.run(
                [go, "build", "-o", str(partial), "."],
                cwd=LAUNCHER_DIR,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise VcsimError(f"building tests/vcsim failed:\n{result.stderr[-4000:]}")
            shutil.move(partial, BINARY)
        return BINARY


@dataclass(frozen=True)
class LoggedCall:
    """One request the simulator received."""

    #: ``soap-N`` or ``vapi-N`` (in order of first sight; never the key), ``""`` without one.
    session: str
    #: e.g. ``SOAP RetrievePropertiesEx`` or ``HTTP GET /api/cis/tagging/tag``.
    call: str
    #: The HTTP status it was answered with (a SOAP fault is 500; 0 while unanswered).
    status: int


@dataclass(frozen=True)
class OpenRetrievals:
    """The launcher's unfinished retrievals (page sets not read to the end nor cancelled)."""

    #: (session label, collector moid, objects not yet returned) of each, in live sessions.
    open: list[tuple[str, str, int]]
    #: Page sets dropped because their session ended first (logout, expiry).
    abandoned: int


@dataclass
class Vcsim:
    """A running simulator: where it is, how to log in, and its test API."""

    process: subprocess.Popen[str]
    url: str
    ca_file: str
    user: str
    password: str = field(repr=False)
    log_path: Path

    def export_argv(self, output: Path, password_env: str, *extra: str) -> list[str]:
        """``export`` against this simulator with TLS verified and the password read from
        the environment variable ``password_env``."""
        return [
            "export",
            "--server",
            self.url,
            "--user",
            self.user,
            "--password-env",
            password_env,
            "--ca-file",
            self.ca_file,
            "-o",
            str(output),
            *extra,
        ]

    @property
    def host(self) -> str:
        """The loopback address it listens on."""
        return self.url.split("//", 1)[1].split(":", 1)[0]

    @property
    def port(self) -> int:
        """Its TCP port."""
        return int(self.url.split("//", 1)[1].split(":", 1)[1].split("/", 1)[0])

    @property
    def base(self) -> str:
        """``https://127.0.0.1:PORT`` without the ``/sdk`` path."""
        return self.url.rsplit("/sdk", 1)[0]

    def ssl_context(self) -> ssl.SSLContext:
        """A context that trusts exactly this simulator's CA."""
        return ssl.create_default_context(cafile=self.ca_file)

    def _test_api(self, path: str, method: str = "GET") -> Any:
        """Call the launcher's test API (loopback only, no login)."""
        request = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(request, context=self.ssl_context(), timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def calls(self) -> list[str]:
        """Every request so far, e.g. ``SOAP RetrievePropertiesEx`` or ``HTTP GET /rest/...``."""
        return list(self._test_api("/_vcsim/calls")["calls"] or [])

    def call_log(self) -> list[LoggedCall]:
        """Every request so far with its session and how it was answered."""
        return [
            LoggedCall(e["session"], e["call"], int(e["status"]))
            for e in self._test_api("/_vcsim/calls")["log"] or []
        ]

    def calls_by_session(self) -> dict[str, list[str]]:
        """The calls of each session so far, by label: ``soap-N`` (SOAP), ``vapi-N`` (vAPI).

        A login is filed under the session it opened; calls made without a
        session (``RetrieveServiceContent``, the version file) under ``""``.
        """
        by_session: dict[str, list[str]] = {}
        for entry in self.call_log():
            by_session.setdefault(entry.session, []).append(entry.call)
        return by_session

    def retrievals(self) -> OpenRetrievals:
        """The PropertyCollector's unfinished retrievals in live sessions, and the abandoned."""
        state = self._test_api("/_vcsim/retrievals")
        return OpenRetrievals(
            [(o["session"], o["collector"], o["remaining"]) for o in state["open"]],
            int(state["abandoned"]),
        )

    def limit_page(self, objects: int) -> None:
        """Return at most ``objects`` objects per page whatever a retrieval asks (0: no limit)."""
        self._test_api(f"/_vcsim/page-limit?objects={objects}", method="POST")

    def expire_session(self, method: str, *, after: int = 0) -> None:
        """End the caller's session just before the ``after + 1``-th next call of ``method``.

        Only calls in a live session count, so calling this K times ends K
        sessions in turn (each new login included).
        """
        self._test_api(f"/_vcsim/expire?{urlencode({'method': method, 'after': after})}", "POST")

    def set_latency(self, ms: int) -> None:
        """Make every request (SOAP and vAPI) wait ``ms`` milliseconds, like a WAN round trip."""
        self._test_api(f"/_vcsim/latency?ms={ms}", method="POST")

    def serve_vapi(self, flavours: str) -> None:
        """Serve ``both`` vAPI flavours, only ``api`` (/rest removed) or only ``rest`` (no /api)."""
        self._test_api(f"/_vcsim/vapi?serve={flavours}", method="POST")

    def secrets(self) -> list[str]:
        """Every session cookie and vAPI session id the simulator has handed out or seen."""
        return list(self._test_api("/_vcsim/calls")["secrets"] or [])

    def set_delay(self, method: str, ms: int) -> None:
        """Make every call of a SOAP method wait ``ms`` milliseconds before it is served."""
        self._test_api(f"/_vcsim/delay?method={method}&ms={ms}", method="POST")

    def garble_next(self, method: str, mode: str) -> None:
        """Make the next answer to a SOAP method end halfway (``truncate``) or carry a
        mismatched closing tag (``garble``): a complete HTTP answer, a broken document."""
        self._test_api(f"/_vcsim/garble?method={method}&mode={mode}", method="POST")

    def deny(
        self, method: str, privilege: str, obj: tuple[str, str] | None = None, *, after: int = 0
    ) -> None:
        """Make every call of a SOAP method, but the next ``after``, fail with NoPermission.

        The fault names ``privilege`` and ``obj`` (type, moid), by default the
        object the method was called on; vcsim itself enforces no privileges.
        """
        query = {"method": method, "privilege": privilege, "after": str(after)}
        if obj is not None:
            query.update(type=obj[0], id=obj[1])
        self._test_api(f"/_vcsim/fault?{urlencode(query)}", method="POST")

    def hide_property(
        self, vim_type: str, path: str, privilege: str, moid: str | None = None
    ) -> None:
        """Make RetrievePropertiesEx report ``path`` in missingSet with a NoPermission fault.

        Applies to every object of ``vim_type`` (e.g. ``VirtualMachine``), or
        only to ``moid``, whenever a retrieval asks for that exact path.
        """
        query = {"type": vim_type, "path": path, "privilege": privilege}
        if moid is not None:
            query["id"] = moid
        self._test_api(f"/_vcsim/missing?{urlencode(query)}", method="POST")

    def set_vm_overrides_enabled(self, cluster: str, enabled: bool) -> None:
        """Set a cluster's ``drsConfig.enableVmBehaviorOverrides`` (vcsim ignores it in a
        reconfiguration, so the launcher sets it in its model)."""
        query = urlencode({"id": cluster, "vm_overrides": str(enabled).lower()})
        self._test_api(f"/_vcsim/drs?{query}", method="POST")

    def set_ha(self, cluster: str, enabled: bool, restart_priority: str | None = None) -> None:
        """Set a cluster's ``dasConfig.enabled`` and, unless ``None``, its default restart
        priority (``""`` unsets it); vcsim ignores both in a reconfiguration."""
        query = {"id": cluster, "enabled": str(enabled).lower()}
        if restart_priority is not None:
            query["restart_priority"] = restart_priority
        self._test_api(f"/_vcsim/ha?{urlencode(query)}", method="POST")

    def set_consolidation_needed(self, vm: str, needed: bool) -> None:
        """Set a VM's ``runtime.consolidationNeeded`` (vcsim never sets it)."""
        query = urlencode({"id": vm, "needed": str(needed).lower()})
        self._test_api(f"/_vcsim/consolidation?{query}", method="POST")

    def allow_all(self) -> None:
        """Undo every ``deny`` and ``hide_property``."""
        self._test_api("/_vcsim/fault", method="DELETE")
        self._test_api("/_vcsim/missing", method="DELETE")

    def reset(self) -> None:
        """Undo every switch of the test API but per-method delays: back to a plain simulator."""
        self.allow_all()
        self._test_api("/_vcsim/expire", method="DELETE")
        self.limit_page(0)
        self.set_latency(0)
        self.serve_vapi("both")

    def log(self) -> str:
        """What the simulator wrote on stderr."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL) and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def kill(self) -> None:
        """Kill it at once, like a crash."""
        self.process.kill()
        self.process.wait()


def start_vcsim(
    *,
    cluster: int = 1,
    host: int = 3,
    vm: int = 2,
    standalone_host: int = 0,
    pool: int = 0,
    pg: int = 1,
    password: str | None = None,
    startup_timeout: float = 120.0,
) -> Vcsim:
    """Start a simulator on a free loopback port (random password by default); caller stops it."""
    binary = build_vcsim()
    password = password or secrets.token_urlsafe(18)
    workdir = Path(tempfile.mkdtemp(prefix="salint-vcsim-"))
    log_path = workdir / "vcsim.log"
    argv = [
        str(binary),
        "-l",
        "127.0.0.1:0",
        "-username",
        USER,
        "-cert-dir",
        str(workdir),
        "-exit-on-stdin-eof",
        "-cluster",
        str(cluster),
        "-host",
        str(host),
        "-vm",
        str(vm),
        "-standalone-host",
        str(standalone_host),
        "-pool",
        str(pool),
        "-pg",
        str(pg),
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "VCSIM_PASSWORD": password},
        )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(startup_timeout)
    if not line or not line[0].strip():
        process.kill()
        process.wait()
        raise VcsimError(f"vcsim did not start:\n{log_path.read_text(errors='replace')[-4000:]}")
    info = json.loads(line[0])
    return Vcsim(process, info["url"], info["ca_file"], info["user"], password, log_path)


@contextmanager
def running_vcsim(**sizes: Any) -> Iterator[Vcsim]:
    """A simulator for the duration of a ``with`` block."""
    sim = start_vcsim(**sizes)
    try:
        yield sim
    finally:
        sim.stop()
