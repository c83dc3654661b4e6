"""vSphere tags through the vAPI REST tagging service, in batch calls.

Tags are not in the SOAP API. The calls made do not depend on the number of
objects: list the tag ids, ask which objects each tag is attached to (one
``list-attached-objects-on-tags`` call per 500 tags), then read the names of
the tags and categories actually attached to a VM. ``/api`` (vSphere 7.0 U2+)
is used where the server has it, else ``/rest`` (6.5 to 8, and vcsim).
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from scalearc_lint.exporter.connection import NETWORK_ERRORS, Connection
from scalearc_lint.snapshot.model import Tag

#: Tag ids per list-attached-objects-on-tags call.
TAG_BATCH = 500


class TaggingUnavailable(Exception):
    """The tagging service could not be read; the message says why (no secrets)."""


@dataclass(frozen=True)
class _Dialect:
    """The differences between the ``/api`` and the older ``/rest`` flavour of vAPI."""

    session: str
    tagging: str
    action_param: str
    id_prefix: str
    wrapped: bool

    def item(self, kind: str, ident: str) -> str:
        return f"{self.tagging}/{kind}/{self.id_prefix}{quote(ident, safe=':')}"


_API = _Dialect("/api/session", "/api/cis/tagging", "action", "", wrapped=False)
_REST = _Dialect(
    "/rest/com/vmware/cis/session", "/rest/com/vmware/cis/tagging", "~action", "id:", wrapped=True
)


class _Client:
    """A tiny vAPI client on one keep-alive HTTPS connection."""

    def __init__(self, connection: Connection, context: ssl.SSLContext) -> None:
        server = connection.server
        self._conn = http.client.HTTPSConnection(
            server.host, server.port, context=context, timeout=connection.http_timeout
        )
        self._session_id = ""
        self.dialect = _REST
        self._login(connection)

    def _request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self._session_id:
            all_headers["vmware-api-session-id"] = self._session_id
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        self._conn.request(method, path, body=payload, headers=all_headers)
        response = self._conn.getresponse()
        data = response.read()
        try:
            value = json.loads(data) if data else None
        except ValueError:
            value = None
        return response.status, value

    def _login(self, connection: Connection) -> None:
        creds = connection.credentials
        token = base64.b64encode(f"{creds.user}:{creds.password}".encode()).decode()
        auth = {"Authorization": f"Basic {token}"}
        for dialect in (_API, _REST):
            status, value = self._request("POST", dialect.session, headers=auth)
            if status == 404:
                continue
            if status not in (200, 201):
                raise TaggingUnavailable(f"vAPI login refused (HTTP {status})")
            self.dialect = dialect
            ident = value.get("value") if dialect.wrapped and isinstance(value, dict) else value
            if not isinstance(ident, str):
                raise TaggingUnavailable("vAPI login returned no session")
            self._session_id = ident
            return
        raise TaggingUnavailable("no vAPI endpoint (/api or /rest) on this server")

    def call(self, method: str, path: str, body: Any = None, action: str = "") -> Any:
        """One vAPI call; returns the unwrapped JSON value."""
        if action:
            path = f"{path}?{self.dialect.action_param}={action}"
        status, value = self._request(method, path, body)
        if status not in (200, 201):
            raise TaggingUnavailable(f"{method} {path.split('?')[0]}: HTTP {status}")
        if self.dialect.wrapped and isinstance(value, dict):
            return value.get("value")
        return value

    def close(self) -> None:
        """Log out and close the connection, ignoring failures."""
        try:
            if self._session_id:
                self._request("DELETE", self.dialect.session)
        except NETWORK_ERRORS:
            pass
        finally:
            self._session_id = ""
            self._conn.close()


def collect_vm_tags(connection: Connection, context: ssl.SSLContext) -> dict[str, list[Tag]]:
    """Map each tagged VM's moid to its tags (category and name), sorted."""
    try:
        client = _Client(connection, context)
    except NETWORK_ERRORS as exc:
        raise TaggingUnavailable(f"vAPI unreachable ({type(exc).__name__})") from None
    try:
        return _collect(client)
    except NETWORK_ERRORS as exc:
        raise TaggingUnavailable(f"vAPI call failed ({type(exc).__name__})") from None
    finally:
        client.close()


def _collect(client: _Client) -> dict[str, list[Tag]]:
    d = client.dialect
    tag_ids: list[str] = client.call("GET", f"{d.tagging}/tag") or []
    vms_by_tag: dict[str, list[str]] = {}
    for start in range(0, len(tag_ids), TAG_BATCH):
        batch = tag_ids[start : start + TAG_BATCH]
        attached = (
            client.call(
                "POST",
                f"{d.tagging}/tag-association",
                {"tag_ids": batch},
                action="list-attached-objects-on-tags",
            )
            or []
        )
        for entry in attached:
            vms = [
                o["id"] for o in entry.get("object_ids") or () if o.get("type") == "VirtualMachine"
            ]
            if vms:
                vms_by_tag[entry["tag_id"]] = vms

    category_names: dict[str, str] = {}
    tags_by_vm: dict[str, list[Tag]] = defaultdict(list)
    for tag_id, vms in vms_by_tag.items():
        tag = client.call("GET", d.item("tag", tag_id))
        category_id = tag["category_id"]
        if category_id not in category_names:
            category_names[category_id] = client.call("GET", d.item("category", category_id))[
                "name"
            ]
        for vm in vms:
            tags_by_vm[vm].append(Tag(category=category_names[category_id], name=tag["name"]))
    return {vm: sorted(tags, key=lambda t: (t.category, t.name)) for vm, tags in tags_by_vm.items()}
