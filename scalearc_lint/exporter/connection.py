"""Where to connect and as whom: servers, credentials, TLS, and the SOAP session.

Every failure to reach or log in to a vCenter becomes an ``InputError`` with one
line naming the server, what failed and what to do. The password lives only in
a ``Credentials`` object (never in its ``repr``) and is sent only to the server.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import ssl
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from scalearc_lint.errors import InputError
from scalearc_lint.exporter._vmomi import (
    GetServiceVersions,
    SoapStubAdapter,
    VmomiSupport,
    vim,
    vmodl,
)
from scalearc_lint.text import clipped

#: Seconds to wait for one HTTP exchange; a large RetrievePropertiesEx page fits easily.
HTTP_TIMEOUT = 300
#: Seconds one vCenter's whole export may take (``export --timeout``): connecting, logging
#: in and every read; a 40,000-VM vCenter exports in a few minutes.
EXPORT_TIMEOUT = 1800


@dataclass(frozen=True)
class Server:
    """One vCenter endpoint; ``label`` (``host`` or ``host:port``) names it in output."""

    host: str
    port: int = 443

    @property
    def label(self) -> str:
        """How the server is named in messages and in the snapshot's source."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 443 else f"{host}:{self.port}"


@dataclass(frozen=True)
class Credentials:
    """A user name and its password; the password is never shown."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class TlsSettings:
    """How to verify the server: the system trust store, a CA file, or not at all."""

    insecure: bool = False
    ca_files: tuple[str, ...] = ()


#: Longest server string accepted; a DNS name has at most 253 characters.
MAX_SERVER_TEXT = 1024
_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_ESCAPED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")


def _split_server(raw: str) -> tuple[str, str | None, str]:
    """(``scheme://`` or "", the userinfo before the last ``@`` or None, the rest).

    Split by hand, not by ``urlsplit``: a password may hold ``/ # ? @ :``, which a URL
    parser takes for the path, fragment or query, and would then leave in the host part.
    A host name never holds ``@``, so the userinfo runs to the last one.
    """
    scheme, separator, rest = raw.partition("://")
    if not separator:
        scheme, rest = "", raw
    else:
        scheme += separator
    userinfo, at, host_part = rest.rpartition("@")
    return scheme, (userinfo if at else None), host_part


def redact_server(text: str) -> str:
    """The server as given, its password (if any) replaced by ``***``: for messages."""
    scheme, userinfo, host_part = _split_server(text.strip())
    if userinfo is None:
        return clipped(text.strip(), 200)
    user, colon, _ = userinfo.partition(":")
    return clipped(f"{scheme}{user}{':***' if colon else ''}@{host_part}", 200)


def _unescape(text: str) -> str:
    """Percent-escapes decoded as govc (Go's URL parser) does, when they are all valid."""
    return unquote(text) if _ESCAPED.fullmatch(text) else text


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(_LABEL.match(label) for label in labels)


def parse_server(text: str) -> tuple[Server, str, str]:
    """Parse ``HOST``, ``HOST:PORT`` or a URL into a Server plus any user and password in it."""
    raw = text.strip()
    if not raw:
        raise InputError("empty server name; give --server HOST, HOST:PORT or https://HOST/sdk")
    shown = redact_server(raw)
    if len(raw) > MAX_SERVER_TEXT:
        raise InputError(
            f"{clipped(shown, 60)}: a server name of {len(raw):,} characters is too long "
            "(a host name has at most 253)"
        )
    scheme, userinfo, host_part = _split_server(raw)
    if scheme and scheme.lower() != "https://":
        raise InputError(f"{shown}: only https is supported (vCenter's API is served over TLS)")
    try:
        parts = urlsplit(f"https://{host_part}")
        port = parts.port or 443
        hostname = parts.hostname
    except ValueError:
        raise InputError(
            f"{shown}: invalid port or address; give HOST, HOST:PORT or a URL"
        ) from None
    if not hostname:
        raise InputError(f"{shown}: no host name")
    if not _valid_host(hostname):
        raise InputError(f"{shown}: {clipped(hostname, 60)!r} is not a valid host name or address")
    user, _, password = (userinfo or "").partition(":")
    return Server(hostname, port), _unescape(user), _unescape(password)


@dataclass(frozen=True)
class ConnectionRequest:
    """What the command line and the environment asked for, before credentials are resolved."""

    servers: tuple[str, ...] = ()
    user: str | None = None
    password_env: str | None = None
    insecure: bool = False
    ca_files: tuple[str, ...] = ()
    #: The deadline of each vCenter's whole export, in seconds.
    timeout: float = EXPORT_TIMEOUT


@dataclass(frozen=True)
class Connection:
    """Everything needed to open a session with one vCenter."""

    server: Server
    credentials: Credentials
    tls: TlsSettings
    #: Seconds one HTTP exchange (connect, or waiting for an answer) may take.
    http_timeout: float = HTTP_TIMEOUT


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def resolve_connections(
    request: ConnectionRequest,
    environ: Mapping[str, str],
    prompt: Callable[[str], str] | None,
) -> list[Connection]:
    """Combine options with govc's variables (options win); ask for a password only if needed.

    ``prompt`` is called (e.g. ``getpass.getpass``) when no password is found and
    stdin is a terminal; pass ``None`` when it is not.
    """
    url_user = url_password = ""
    specs = list(request.servers)
    if not specs and environ.get("GOVC_URL"):
        specs = [environ["GOVC_URL"]]
        _, url_user, url_password = parse_server(specs[0])
    if not specs:
        raise InputError("no server given; use --server HOST (or set GOVC_URL)")
    parsed = [parse_server(spec) for spec in specs]
    for spec, (_, _, password) in zip(specs, parsed, strict=True):
        if password and spec in request.servers:
            raise InputError(
                f"{redact_server(spec)}: do not put a password on the command line; "
                "use --password-env VAR or the prompt"
            )

    user = (
        request.user
        or environ.get("GOVC_USERNAME")
        or url_user
        or next((u for _, u, _ in parsed if u), "")
    )
    if not user:
        raise InputError("no user name given; use --user NAME (or set GOVC_USERNAME)")

    password = ""
    if request.password_env:
        if request.password_env not in environ:
            raise InputError(
                f"--password-env {request.password_env}: that environment variable is not set"
            )
        password = environ[request.password_env]
    else:
        password = environ.get("GOVC_PASSWORD") or url_password
    if not password:
        if prompt is None:
            raise InputError(
                "no password: use --password-env VAR or GOVC_PASSWORD "
                "(stdin is not a terminal, so scalearc-lint cannot prompt)"
            )
        password = prompt(f"Password for {user}: ")
        if not password:
            raise InputError("empty password")

    insecure = request.insecure or (not request.ca_files and _truthy(environ.get("GOVC_INSECURE")))
    ca_files = request.ca_files
    if not ca_files and not insecure and environ.get("GOVC_TLS_CA_CERTS"):
        ca_files = tuple(p for p in environ["GOVC_TLS_CA_CERTS"].split(os.pathsep) if p)
    tls = TlsSettings(insecure=insecure, ca_files=ca_files)
    credentials = Credentials(user, password)
    servers = list(dict.fromkeys(server for server, _, _ in parsed))
    http_timeout = min(HTTP_TIMEOUT, request.timeout) if request.timeout else HTTP_TIMEOUT
    return [Connection(server, credentials, tls, http_timeout) for server in servers]


def ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """An SSL context that verifies the server unless told not to."""
    if tls.insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if not tls.ca_files:
        return ssl.create_default_context()
    context = ssl.create_default_context(cafile=None)
    context.load_default_certs()
    for path in tls.ca_files:
        if not Path(path).is_file():
            raise InputError(f"--ca-file {path}: no such file")
        try:
            context.load_verify_locations(cafile=path)
        except (ssl.SSLError, ValueError):
            raise InputError(f"--ca-file {path}: not a PEM certificate file") from None
    return context


def describe_network_error(server: Server, exc: BaseException, timeout: float | None = None) -> str:
    """One line saying why a connection to the server failed and what to do."""
    where = server.label
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or "certificate verification failed"
        return (
            f"{where}: TLS certificate not trusted ({reason}); pass --ca-file with the "
            "vCenter's CA certificate (or --insecure to skip verification)"
        )
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS handshake failed ({exc.reason or exc}); is this a vCenter?"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: connection refused; check the host name and port"
    if isinstance(exc, TimeoutError):
        within = f"within {timeout:g} s" if timeout is not None else "in time"
        return f"{where}: no answer {within}; check the host and the network"
    if isinstance(exc, ConnectionError | http.client.HTTPException):
        return f"{where}: the server closed the connection ({type(exc).__name__}); is it up?"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{where}: cannot connect: {exc.strerror}"
    return f"{where}: cannot connect: {type(exc).__name__}"


NETWORK_ERRORS = (OSError, http.client.HTTPException)


def _negotiate_version(server: Server, context: ssl.SSLContext, timeout: float) -> str:
    """The newest vim25 version both pyVmomi and the server speak (from vimServiceVersions.xml)."""
    conn = http.client.HTTPSConnection(server.host, server.port, context=context, timeout=timeout)
    try:
        conn.request("GET", "/sdk/vimServiceVersions.xml")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise InputError(
            f"{server.label}: no vSphere API here (HTTP {response.status} for "
            "/sdk/vimServiceVersions.xml); is this a vCenter?"
        )
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise InputError(f"{server.label}: unreadable vimServiceVersions.xml") from None
    offered = {v.text for v in root.iter("version")}
    for version in GetServiceVersions("vim25"):
        if VmomiSupport.versionIdMap.get(version) in offered:
            return str(version)
    raise InputError(f"{server.label}: no vSphere API version in common with pyVmomi")


class Session:
    """A logged-in SOAP session with one vCenter, able to log in again after expiry.

    Several threads may use it at once (each with its own PropertyCollector);
    ``logins`` counts the logins so far and tells them apart.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.context = ssl_context(connection.tls)
        self.logins = 0
        self._login_lock = threading.Lock()
        server = connection.server
        try:
            version = _negotiate_version(server, self.context, connection.http_timeout)
            self._stub = SoapStubAdapter(
                host=server.host,
                port=server.port,
                version=version,
                sslContext=self.context,
                httpConnectionTimeout=connection.http_timeout,
            )
            self.content: Any = vim.ServiceInstance("ServiceInstance", self._stub).RetrieveContent()
        except NETWORK_ERRORS as exc:
            raise InputError(describe_network_error(server, exc, connection.http_timeout)) from None
        self.login()

    def login(self) -> None:
        """Log in (again) with the stored credentials."""
        creds = self.connection.credentials
        server = self.connection.server
        try:
            with translate_faults(server):
                self.content.sessionManager.Login(creds.user, creds.password)
        except vim.fault.InvalidLogin:
            raise InputError(
                f"{server.label}: login as {creds.user!r} failed: wrong user name or password"
            ) from None
        self.logins += 1

    def relogin(self, seen_logins: int) -> None:
        """Log in again after the session was lost, unless another thread already did.

        ``seen_logins`` is ``logins`` as the caller saw it before it found the
        session gone: every thread that lost the same session asks, one logs in.
        """
        with self._login_lock:
            if self.logins == seen_logins:
                self.login()

    def logout(self) -> None:
        """End the session; failures are ignored (the server may be gone)."""
        try:
            self.content.sessionManager.Logout()
        except (vmodl.MethodFault, *NETWORK_ERRORS):
            pass


@contextmanager
def translate_faults(server: Server) -> Iterator[None]:
    """Turn network errors and privilege faults into one-line InputErrors."""
    try:
        yield
    except NETWORK_ERRORS as exc:
        raise InputError(describe_network_error(server, exc)) from None
    except vim.fault.NotAuthenticated:
        raise  # a subclass of NoPermission, but it means "log in again"
    except vim.fault.NoPermission as fault:
        obj = _object_name(fault.object)
        raise InputError(
            f"{server.label}: permission denied: privilege {fault.privilegeId or '?'} "
            f"missing on {obj or 'the inventory'}; grant the user at least the Read-only "
            "role on the vCenter root, propagated"
        ) from None


def _object_name(ref: Any) -> str:
    """How a fault's object is named in a message: its moid, or the type of a session object.

    A session's own objects (its PropertyCollectors, views) have moids like
    ``session[<session key>]<id>``, and the session key must not be shown.
    """
    if ref is None:
        return ""
    moid = str(getattr(ref, "_moId", "") or "")
    if moid.startswith("session["):
        return type(ref).__name__.split(".")[-1] + " of the session"
    return moid
