"""Build and run the vCenter simulator (``tests/vcsim/main.go``) for tests and benchmarks.

The launcher is built once with Debian's Go toolchain and govmomi sources and
cached beside its source (git-ignored); it is rebuilt when ``main.go`` changes.
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
    """The launcher binary, built first if missing or older than its source."""
    source = LAUNCHER_DIR / "main.go"
    with _build_lock:
        if BINARY.exists() and BINARY.stat().st_mtime >= source.stat().st_mtime:
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


@dataclass
class Vcsim:
    """A running simulator: where it is, how to log in, and its test API."""

    process: subprocess.Popen[str]
    url: str
    ca_file: str
    user: str
    password: str = field(repr=False)
    log_path: Path

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
        request = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(request, context=self.ssl_context(), timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def calls(self) -> list[str]:
        """Every request so far, e.g. ``SOAP RetrievePropertiesEx`` or ``HTTP GET /rest/...``."""
        return list(self._test_api("/_vcsim/calls")["calls"] or [])

    def secrets(self) -> list[str]:
        """Every session cookie and vAPI session id the simulator has handed out or seen."""
        return list(self._test_api("/_vcsim/calls")["secrets"] or [])

    def set_delay(self, method: str, ms: int) -> None:
        """Make every call of a SOAP method wait ``ms`` milliseconds before it is served."""
        self._test_api(f"/_vcsim/delay?method={method}&ms={ms}", method="POST")

    def deny(self, method: str, privilege: str, obj: tuple[str, str] | None = None) -> None:
        """Make every call of a SOAP method fail with a NoPermission fault.

        The fault names ``privilege`` and ``obj`` (type, moid), by default the
        object the method was called on; vcsim itself enforces no privileges.
        """
        query = {"method": method, "privilege": privilege}
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

    def allow_all(self) -> None:
        """Undo every ``deny`` and ``hide_property``."""
        self._test_api("/_vcsim/fault", method="DELETE")
        self._test_api("/_vcsim/missing", method="DELETE")

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
