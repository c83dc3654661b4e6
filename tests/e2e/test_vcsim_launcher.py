"""The tests' vCenter simulator behaves like a vCenter where the exporter depends on it.

vcsim 0.24.2 returns every object in one page, serves RetrievePropertiesEx
without a session, skips objects it cannot find and has no ``/api``; the
launcher (``tests/vcsim``) makes it page, check sessions, fault on a lost view,
serve ``/api`` tagging and add latency. These tests pin that behaviour, so the
exporter's tests against it mean what they say.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from scalearc_lint.exporter._vmomi import vim, vmodl
from tests.e2e.lab import connect
from tests.vcsim_support import Vcsim, running_vcsim

PC = vmodl.query.PropertyCollector
VMS = 7  # -vm 7 in the one cluster's root pool


@pytest.fixture(scope="module")
def sim(vcsim_binary: Any) -> Iterator[Vcsim]:
    """One simulator for the module: seven VMs, nothing seeded."""
    with running_vcsim(host=2, vm=VMS) as running:
        yield running


@pytest.fixture
def si(sim: Vcsim) -> Iterator[Any]:
    """An admin session, logged out afterwards; the page limit is reset."""
    sim.limit_page(0)
    instance = connect(sim)
    try:
        yield instance
    finally:
        with contextlib.suppress(vmodl.MethodFault):  # the test may have ended it
            instance.content.sessionManager.Logout()


def vm_spec(si: Any, *, report_missing: bool | None = None) -> Any:
    """A filter spec for every VM's name through a new ContainerView."""
    content = si.content
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    return PC.FilterSpec(
        objectSet=[
            PC.ObjectSpec(
                obj=view,
                skip=True,
                selectSet=[PC.TraversalSpec(type=vim.view.ContainerView, path="view", skip=False)],
            )
        ],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
        reportMissingObjectsInResults=report_missing,
    )


def read_pages(collector: Any, spec: Any, max_objects: int | None) -> list[list[str]]:
    """Every page of a retrieval, as lists of moids."""
    result = collector.RetrievePropertiesEx(
        specSet=[spec], options=PC.RetrieveOptions(maxObjects=max_objects)
    )
    pages = []
    while result is not None:
        pages.append([o.obj._moId for o in result.objects])
        if not result.token:
            break
        result = collector.ContinueRetrievePropertiesEx(token=result.token)
    return pages


def test_retrieval_returns_at_most_max_objects_per_page(si: Any) -> None:
    pages = read_pages(si.content.propertyCollector, vm_spec(si), 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    every = [moid for page in pages for moid in page]
    assert len(set(every)) == VMS == len(every)
    assert read_pages(si.content.propertyCollector, vm_spec(si), None) == [every]


def test_server_may_return_fewer_objects_than_asked(sim: Vcsim, si: Any) -> None:
    sim.limit_page(2)
    assert [len(p) for p in read_pages(si.content.propertyCollector, vm_spec(si), 5)] == [
        2,
        2,
        2,
        1,
    ]
    # Without maxObjects too: the server's policy still pages.
    assert [len(p) for p in read_pages(si.content.propertyCollector, vm_spec(si), None)] == [
        2,
        2,
        2,
        1,
    ]
    sim.limit_page(0)
    assert [len(p) for p in read_pages(si.content.propertyCollector, vm_spec(si), 5)] == [5, 2]


def test_non_positive_max_objects_is_refused(si: Any) -> None:
    with pytest.raises(vmodl.fault.InvalidArgument):
        si.content.propertyCollector.RetrievePropertiesEx(
            specSet=[vm_spec(si)], options=PC.RetrieveOptions(maxObjects=-1)
        )


def test_a_token_is_used_once_and_cancel_discards_the_rest(sim: Vcsim, si: Any) -> None:
    collector = si.content.propertyCollector
    first = collector.RetrievePropertiesEx(
        specSet=[vm_spec(si)], options=PC.RetrieveOptions(maxObjects=2)
    )
    assert [r[2] for r in sim.retrievals().open] == [VMS - 2]
    second = collector.ContinueRetrievePropertiesEx(token=first.token)
    assert len(second.objects) == 2
    with pytest.raises(vmodl.query.InvalidProperty):
        collector.ContinueRetrievePropertiesEx(token=first.token)
    collector.CancelRetrievePropertiesEx(token=second.token)
    assert sim.retrievals().open == []
    with pytest.raises(vmodl.query.InvalidProperty):
        collector.ContinueRetrievePropertiesEx(token=second.token)
    with pytest.raises(vmodl.query.InvalidProperty):
        collector.CancelRetrievePropertiesEx(token=second.token)


def test_a_token_belongs_to_its_collector_and_its_session(sim: Vcsim, si: Any) -> None:
    collector = si.content.propertyCollector
    own = collector.CreatePropertyCollector()
    result = own.RetrievePropertiesEx(
        specSet=[vm_spec(si)], options=PC.RetrieveOptions(maxObjects=2)
    )
    with pytest.raises(vmodl.query.InvalidProperty):
        collector.ContinueRetrievePropertiesEx(token=result.token)
    other = connect(sim)
    try:
        with pytest.raises(vmodl.query.InvalidProperty):
            other.content.propertyCollector.ContinueRetrievePropertiesEx(token=result.token)
    finally:
        other.content.sessionManager.Logout()
    # Neither attempt consumed it: the collector that returned it still can.
    assert len(own.ContinueRetrievePropertiesEx(token=result.token).objects) == 2


def test_created_collectors_page_and_take_their_tokens_when_destroyed(sim: Vcsim, si: Any) -> None:
    own = si.content.propertyCollector.CreatePropertyCollector()
    assert [len(p) for p in read_pages(own, vm_spec(si), 4)] == [4, 3]
    own.RetrievePropertiesEx(specSet=[vm_spec(si)], options=PC.RetrieveOptions(maxObjects=4))
    assert len(sim.retrievals().open) == 1
    own.DestroyPropertyCollector()
    assert sim.retrievals().open == []


def test_tokens_die_with_their_session(sim: Vcsim) -> None:
    si = connect(sim)
    result = si.content.propertyCollector.RetrievePropertiesEx(
        specSet=[vm_spec(si)], options=PC.RetrieveOptions(maxObjects=2)
    )
    before = sim.retrievals().abandoned
    si.content.sessionManager.Logout()
    state = sim.retrievals()
    assert state.open == []
    assert state.abandoned == before + 1
    again = connect(sim)  # the same user, a new session
    try:
        with pytest.raises(vmodl.query.InvalidProperty):
            again.content.propertyCollector.ContinueRetrievePropertiesEx(token=result.token)
    finally:
        again.content.sessionManager.Logout()


def test_calls_need_a_live_session(sim: Vcsim, si: Any) -> None:
    spec = vm_spec(si)
    collector = si.content.propertyCollector
    sim.expire_session("RetrievePropertiesEx")
    with pytest.raises(vim.fault.NotAuthenticated):
        collector.RetrievePropertiesEx(specSet=[spec], options=PC.RetrieveOptions())
    # Every call, not only the one the session ended before.
    with pytest.raises(vim.fault.NotAuthenticated):
        si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.Folder], True)


def test_a_view_of_an_ended_session_is_not_found(sim: Vcsim, si: Any) -> None:
    spec = vm_spec(si)
    reported = vm_spec(si, report_missing=True)
    sim.expire_session("CreatePropertyCollector")
    with pytest.raises(vim.fault.NotAuthenticated):
        si.content.propertyCollector.CreatePropertyCollector()
    again = connect(sim)
    try:
        with pytest.raises(vmodl.fault.ManagedObjectNotFound):
            again.content.propertyCollector.RetrievePropertiesEx(
                specSet=[spec], options=PC.RetrieveOptions()
            )
        # Asked to report missing objects instead, the retrieval has nothing (no returnval).
        assert (
            again.content.propertyCollector.RetrievePropertiesEx(
                specSet=[reported], options=PC.RetrieveOptions()
            )
            is None
        )
    finally:
        again.content.sessionManager.Logout()


def test_a_session_ends_between_two_pages_when_told(sim: Vcsim, si: Any) -> None:
    collector = si.content.propertyCollector
    sim.expire_session("ContinueRetrievePropertiesEx", after=1)
    result = collector.RetrievePropertiesEx(
        specSet=[vm_spec(si)], options=PC.RetrieveOptions(maxObjects=2)
    )
    result = collector.ContinueRetrievePropertiesEx(token=result.token)
    with pytest.raises(vim.fault.NotAuthenticated):
        collector.ContinueRetrievePropertiesEx(token=result.token)
    assert sim.retrievals().open == []


def test_a_denial_can_start_after_some_calls(sim: Vcsim, si: Any) -> None:
    collector = si.content.propertyCollector
    sim.deny("ContinueRetrievePropertiesEx", "System.Read", after=1)
    try:
        result = collector.RetrievePropertiesEx(
            specSet=[vm_spec(si)], options=PC.RetrieveOptions(maxObjects=2)
        )
        result = collector.ContinueRetrievePropertiesEx(token=result.token)
        with pytest.raises(vim.fault.NoPermission):
            collector.ContinueRetrievePropertiesEx(token=result.token)
    finally:
        sim.allow_all()
    # The denied call did not take the page set: it can still be cancelled.
    collector.CancelRetrievePropertiesEx(token=result.token)


def test_the_call_log_names_each_session(sim: Vcsim) -> None:
    before = set(sim.calls_by_session())
    one = connect(sim)
    two = connect(sim)
    one.content.propertyCollector.CreatePropertyCollector().DestroyPropertyCollector()
    one.content.sessionManager.Logout()
    two.content.sessionManager.Logout()
    new = {k: v for k, v in sim.calls_by_session().items() if k not in before}
    assert len(new) == 2
    first, second = (new[k] for k in sorted(new, key=lambda k: int(k.split("-")[1])))
    assert first[0] == second[0] == "SOAP Login"
    assert first[-1] == second[-1] == "SOAP Logout"
    assert "SOAP CreatePropertyCollector" in first
    assert "SOAP CreatePropertyCollector" not in second
    assert all(k.startswith("soap-") for k in new)


def test_latency_delays_every_request(sim: Vcsim) -> None:
    # A lower bound only: a loaded machine makes calls slower, never faster.
    conn = http.client.HTTPSConnection(sim.host, sim.port, context=sim.ssl_context())
    try:
        sim.set_latency(300)
        start = time.monotonic()
        conn.request("GET", "/sdk/vimServiceVersions.xml")
        conn.getresponse().read()
        assert time.monotonic() - start >= 0.3
    finally:
        sim.set_latency(0)
        conn.close()


class Vapi:
    """A bare vAPI client for one flavour (``/api`` or ``/rest``) of the simulator."""

    def __init__(self, sim: Vcsim, flavour: str) -> None:
        self.sim, self.flavour, self.session = sim, flavour, ""
        self.conn = http.client.HTTPSConnection(sim.host, sim.port, context=sim.ssl_context())

    def request(
        self, method: str, path: str, body: Any = None, *, auth: bool = False
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if auth:
            token = base64.b64encode(f"{self.sim.user}:{self.sim.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        if self.session:
            headers["vmware-api-session-id"] = self.session
        payload = json.dumps(body) if body is not None else None
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, data.decode()  # e.g. a mux's "404 page not found"

    def login(self) -> None:
        path = "/api/session" if self.flavour == "api" else "/rest/com/vmware/cis/session"
        status, value = self.request("POST", path, auth=True)
        assert status == (201 if self.flavour == "api" else 200), (status, value)
        self.session = value if self.flavour == "api" else value["value"]

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def api(sim: Vcsim) -> Iterator[Vapi]:
    """A logged-in /api client."""
    sim.serve_vapi("both")
    client = Vapi(sim, "api")
    client.login()
    yield client
    client.close()


def test_api_session_has_the_vsphere_8_shape(sim: Vcsim) -> None:
    client = Vapi(sim, "api")
    try:
        assert client.request("POST", "/api/session")[0] == 401  # no credentials
        client.login()
        assert client.session in sim.secrets()
        status, info = client.request("GET", "/api/session")
        assert status == 200
        assert info["user"] == sim.user
        assert client.request("DELETE", "/api/session") == (204, None)
        status, error = client.request("GET", "/api/cis/tagging/tag")
        assert (status, error["error_type"]) == (401, "UNAUTHENTICATED")
    finally:
        client.close()


def test_api_tagging_has_the_vsphere_8_shape(api: Vapi) -> None:
    spec = {"name": "api-cat", "description": "", "cardinality": "SINGLE", "associable_types": []}
    status, category = api.request("POST", "/api/cis/tagging/category", spec)
    assert status == 201 and isinstance(category, str)
    status, error = api.request("POST", "/api/cis/tagging/category", spec)
    assert (status, error["error_type"]) == (400, "ALREADY_EXISTS")
    status, tag = api.request(
        "POST",
        "/api/cis/tagging/tag",
        {"name": "api-tag", "description": "", "category_id": category},
    )
    assert status == 201
    assert tag in api.request("GET", "/api/cis/tagging/tag")[1]
    assert category in api.request("GET", "/api/cis/tagging/category")[1]
    assert api.request("GET", f"/api/cis/tagging/tag/{tag}")[1]["category_id"] == category
    assert api.request("GET", f"/api/cis/tagging/category/{category}")[1]["name"] == "api-cat"
    vm = {"type": "VirtualMachine", "id": "vm-42"}
    attach = f"/api/cis/tagging/tag-association/{tag}?action=attach"
    assert api.request("POST", attach, {"object_id": vm}) == (204, None)
    assert api.request(
        "POST",
        "/api/cis/tagging/tag-association?action=list-attached-objects-on-tags",
        {"tag_ids": [tag]},
    ) == (200, [{"tag_id": tag, "object_ids": [vm]}])
    assert api.request(
        "POST",
        "/api/cis/tagging/tag-association?action=list-attached-tags-on-objects",
        {"object_ids": [vm]},
    ) == (200, [{"object_id": vm, "tag_ids": [tag]}])
    assert api.request(
        "POST", "/api/cis/tagging/tag?action=list-tags-for-category", {"category_id": category}
    ) == (200, [tag])
    status, error = api.request("GET", "/api/cis/tagging/tag/urn:vmomi:InventoryServiceTag:no")
    assert (status, error["error_type"]) == (404, "NOT_FOUND")
    assert api.request("DELETE", f"/api/cis/tagging/tag/{tag}") == (204, None)
    assert api.request("GET", f"/api/cis/tagging/tag/{tag}")[0] == 404


def test_api_and_rest_share_one_tag_store(sim: Vcsim, api: Vapi) -> None:
    rest = Vapi(sim, "rest")
    try:
        rest.login()
        status, created = rest.request(
            "POST",
            "/rest/com/vmware/cis/tagging/category",
            {
                "create_spec": {
                    "name": "rest-cat",
                    "description": "",
                    "cardinality": "SINGLE",
                    "associable_types": [],
                }
            },
        )
        assert status == 200
        category = created["value"]
        assert api.request("GET", f"/api/cis/tagging/category/{category}")[1]["name"] == "rest-cat"
        status, tag = api.request(
            "POST",
            "/api/cis/tagging/tag",
            {"name": "from-api", "description": "", "category_id": category},
        )
        assert status == 201
        value = rest.request("GET", f"/rest/com/vmware/cis/tagging/tag/id:{tag}")[1]["value"]
        assert value["name"] == "from-api"
    finally:
        rest.close()


def test_a_server_can_have_only_one_vapi_flavour(sim: Vcsim, api: Vapi) -> None:
    try:
        sim.serve_vapi("api")
        assert api.request("GET", "/api/cis/tagging/tag")[0] == 200
        assert api.request("GET", "/rest/com/vmware/cis/tagging/tag")[0] == 404
        assert api.request("POST", "/rest/com/vmware/cis/session", auth=True)[0] == 404
        sim.serve_vapi("rest")
        assert api.request("GET", "/api/cis/tagging/tag")[0] == 404
        assert api.request("POST", "/api/session", auth=True)[0] == 404
        assert api.request("GET", "/rest/com/vmware/cis/tagging/tag")[0] == 200
    finally:
        sim.serve_vapi("both")
