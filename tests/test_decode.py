"""The fast decoder of result pages against pyVmomi's decoder, on the same bytes.

Hypothesis writes ``RetrievePropertiesEx`` responses as a server could: any namespace
prefixes (or a default namespace), ``xsi:type`` subtypes (vNIC kinds and backings,
custom value kinds, devices that are no vNIC), empty arrays, unicode text, missing
properties with their faults, a continuation token. The fast decoder must give
exactly the page pyVmomi's decoder gives, or say it does not understand (then
pyVmomi decodes the page); on plainly written responses it must understand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalearc_lint.exporter import TYPE_READS
from scalearc_lint.exporter import properties as declared
from scalearc_lint.exporter._vmomi import GetServiceVersions, SoapStubAdapter, vim, vmodl
from scalearc_lint.exporter.decode import (
    NotUnderstood,
    Page,
    Wanted,
    _path_value,
    declared_type,
    decode_page,
    fallback_page,
    leading_token,
)
from scalearc_lint.exporter.wire import UnreadableResponse

VERSION = GetServiceVersions("vim25")[0]
STUB = SoapStubAdapter(host="127.0.0.1", port=1, version=VERSION)  # never connects
RESULT = vmodl.query.PropertyCollector.RetrieveResult
VM_WANTED = Wanted({vim.VirtualMachine: declared.paths(vim.VirtualMachine)})


@dataclass(frozen=True)
class Prefixes:
    """How one response spells its namespaces."""

    env: str
    xsi: str
    xsd: str
    vim: str  # "" for vim25 as the default namespace

    def v(self, name: str) -> str:
        """A vim25 element or type name."""
        return f"{self.vim}:{name}" if self.vim else name

    def plain(self) -> bool:
        """Written as vCenter writes it."""
        return self.vim == ""


def both(body: bytes, wanted: Wanted = VM_WANTED) -> tuple[Page | type | None, Page | None]:
    """(the fast decoder's page, or NotUnderstood; pyVmomi's page) of the same bytes."""
    slow = fallback_page(body, RESULT, STUB, wanted)
    try:
        fast: Page | type | None = decode_page(body, wanted, VERSION)
    except NotUnderstood:
        fast = NotUnderstood
    return fast, slow


# -- drawing responses ---------------------------------------------------------------------

_prefix = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True).filter(
    lambda p: not p.startswith("xml")
)
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=16)
_int = st.integers(-(2**40), 2**40)


@st.composite
def prefixes(draw: st.DrawFn) -> Prefixes:
    """Four distinct prefixes, vim25 perhaps the default namespace."""
    env, xsi, xsd, vim_ = draw(st.lists(_prefix, min_size=4, max_size=4, unique=True))
    return Prefixes(env, xsi, xsd, draw(st.sampled_from(["", vim_])))


def _el(p: Prefixes, name: str, inner: str, kind: str | None = None, attrs: str = "") -> str:
    typed = f' {p.xsi}:type="{kind}"' if kind else ""
    return f"<{p.v(name)}{typed}{attrs}>{inner}</{p.v(name)}>"


def _ref(p: Prefixes, name: str, kind: str, moid: str, typed: bool = False) -> str:
    xsi = p.v("ManagedObjectReference") if typed else None
    return _el(p, name, escape(moid), xsi, f" type={quoteattr(kind)}")


@st.composite
def backing(draw: st.DrawFn, p: Prefixes) -> str:
    """A vNIC backing of one of the kinds the exporter tells apart, or another."""
    kind = draw(st.sampled_from(["network", "dvport", "opaque", "pipe"]))
    if kind == "network":
        inner = _el(p, "deviceName", escape(draw(_text)))
        return _el(p, "backing", inner, p.v("VirtualEthernetCardNetworkBackingInfo"))
    if kind == "dvport":
        port = _el(p, "switchUuid", "u-1") + _el(p, "portgroupKey", escape(draw(_text)))
        inner = _el(p, "port", port)
        return _el(p, "backing", inner, p.v("VirtualEthernetCardDistributedVirtualPortBackingInfo"))
    if kind == "opaque":
        inner = _el(p, "opaqueNetworkId", "n-1") + _el(p, "opaqueNetworkType", "nsx")
        return _el(p, "backing", inner, p.v("VirtualEthernetCardOpaqueNetworkBackingInfo"))
    return _el(p, "backing", _el(p, "pipeName", "pipe"), p.v("VirtualSerialPortPipeBackingInfo"))


@st.composite
def device(draw: st.DrawFn, p: Prefixes) -> str:
    """A virtual device: a vNIC of some kind, or a disk the exporter leaves out."""
    key = _el(p, "key", str(draw(st.integers(0, 9999))))
    label = _el(p, "deviceInfo", _el(p, "label", escape(draw(_text))) + _el(p, "summary", "s"))
    if draw(st.booleans()):
        inner = key + label + _el(p, "capacityInKB", str(draw(_int)))
        return _el(p, "VirtualDevice", inner, p.v("VirtualDisk"))
    nic = draw(st.sampled_from(["VirtualVmxnet3", "VirtualE1000", "VirtualE1000e"]))
    parts = [key, label]
    if draw(st.booleans()):
        parts.append(draw(backing(p)))
    if draw(st.booleans()):
        connected = draw(st.sampled_from(["true", "false", "1", "0"]))
        inner = (
            _el(p, "startConnected", "true")
            + _el(p, "allowGuestControl", "false")
            + _el(p, "connected", connected)
        )
        parts.append(_el(p, "connectable", inner))
    if draw(st.booleans()):
        parts.append(_el(p, "addressType", draw(st.sampled_from(["manual", "generated", "x"]))))
    if draw(st.booleans()):
        parts.append(_el(p, "macAddress", escape(draw(_text))))
    return _el(p, "VirtualDevice", "".join(parts), p.v(nic))


def snapshot_tree(p: Prefixes, depth: int) -> st.SearchStrategy[str]:
    """A snapshot with perhaps children, its time in one of pyVmomi's ISO 8601 forms."""
    when = st.sampled_from(
        ["2024-02-29T23:59:59Z", "2024-01-02T03:04:05.123456+02:00", "2023-07-01T00:00:00"]
    )
    children = st.lists(snapshot_tree(p, depth - 1), max_size=2) if depth else st.just([])
    return st.builds(
        lambda name, at, kids, ident: _el(
            p,
            "rootSnapshotList" if depth == 2 else "childSnapshotList",
            _ref(p, "snapshot", "VirtualMachineSnapshot", f"snapshot-{ident}")
            + _el(p, "vm", "vm-1", attrs=' type="VirtualMachine"')
            + _el(p, "name", escape(name))
            + _el(p, "description", "")
            + _el(p, "id", str(ident))
            + _el(p, "createTime", at)
            + _el(p, "state", "poweredOff")
            + _el(p, "quiesced", "false")
            + "".join(kids),
        ),
        _text,
        when,
        children,
        st.integers(1, 99),
    )


@st.composite
def value_of(draw: st.DrawFn, p: Prefixes, path: str) -> str:
    """The ``val`` element of one VM property path."""
    if path == "name":
        return _el(p, "val", escape(draw(_text)), f"{p.xsd}:string")
    if path in ("parent", "resourcePool", "runtime.host"):
        kind = {"parent": "Folder", "resourcePool": "ResourcePool"}.get(path, "HostSystem")
        return _ref(p, "val", kind, draw(st.from_regex(r"[a-z]+-[0-9]{1,4}", fullmatch=True)), True)
    if path == "runtime.powerState":
        state = draw(st.sampled_from(["poweredOn", "poweredOff", "suspended"]))
        return _el(p, "val", state, p.v("VirtualMachinePowerState"))
    if path in ("config.template", "runtime.consolidationNeeded"):
        return _el(p, "val", draw(st.sampled_from(["true", "false"])), f"{p.xsd}:boolean")
    if path in ("config.hardware.numCPU", "config.hardware.memoryMB"):
        return _el(p, "val", str(draw(st.integers(0, 2**31 - 1))), f"{p.xsd}:int")
    if path == "config.instanceUuid":
        return _el(p, "val", escape(draw(_text)), f"{p.xsd}:string")
    if path in ("config.cpuAllocation", "config.memoryAllocation"):
        parts = [_el(p, "reservation", str(draw(_int)))]
        if draw(st.booleans()):
            parts.append(_el(p, "expandableReservation", draw(st.sampled_from(["true", "0"]))))
        parts.append(_el(p, "limit", str(draw(_int))))
        if draw(st.booleans()):
            level = draw(st.sampled_from(["low", "normal", "high", "custom"]))
            shares = _el(p, "shares", str(draw(st.integers(0, 99999)))) + _el(p, "level", level)
            parts.append(_el(p, "shares", shares))
        return _el(p, "val", "".join(parts), p.v("ResourceAllocationInfo"))
    if path == "config.hardware.device":
        items = draw(st.lists(device(p), max_size=4))
        return _el(p, "val", "".join(items), p.v("ArrayOfVirtualDevice"))
    if path == "snapshot":
        roots = draw(st.lists(snapshot_tree(p, 2), max_size=2))
        current = _ref(p, "currentSnapshot", "VirtualMachineSnapshot", "snapshot-1")
        return _el(p, "val", current + "".join(roots), p.v("VirtualMachineSnapshotInfo"))
    assert path == "customValue", path
    values = []
    for key, text in draw(st.lists(st.tuples(st.integers(0, 999), st.none() | _text), max_size=3)):
        if text is None:  # a custom value of no declared kind: the base type
            values.append(
                _el(p, "CustomFieldValue", _el(p, "key", str(key)), p.v("CustomFieldValue"))
            )
        else:
            inner = _el(p, "key", str(key)) + _el(p, "value", escape(text))
            values.append(_el(p, "CustomFieldValue", inner, p.v("CustomFieldStringValue")))
    return _el(p, "val", "".join(values), p.v("ArrayOfCustomFieldValue"))


def _missing(p: Prefixes, path: str, fault: str) -> str:
    inner = ""
    if fault == "NoPermission":
        inner = _el(p, "object", "vm-1", attrs=' type="VirtualMachine"')
        inner += _el(p, "privilegeId", "System.Read")
    localized = _el(p, "fault", inner, p.v(fault)) + _el(p, "localizedMessage", "no")
    return _el(p, "missingSet", _el(p, "path", path) + _el(p, "fault", localized))


@st.composite
def vm_object(draw: st.DrawFn, p: Prefixes) -> str:
    """One VM's ObjectContent: some requested paths set, some missing, some absent."""
    paths = draw(st.permutations(declared.paths(vim.VirtualMachine)))
    parts = [_el(p, "obj", f"vm-{draw(st.integers(1, 9999))}", attrs=' type="VirtualMachine"')]
    for path in paths[: draw(st.integers(0, len(paths)))]:
        if draw(st.integers(0, 9)) == 0:
            fault = draw(st.sampled_from(["NoPermission", "SystemError", "InvalidProperty"]))
            parts.append(_missing(p, path, fault))
        else:
            inner = _el(p, "name", path) + draw(value_of(p, path))
            parts.append(_el(p, "propSet", inner))
    return _el(p, "objects", "".join(parts))


@st.composite
def response(draw: st.DrawFn) -> tuple[bytes, Prefixes]:
    """A whole RetrievePropertiesEx (or Continue) response and how it spells namespaces."""
    p = draw(prefixes())
    objects = "".join(draw(st.lists(vm_object(p), max_size=3)))
    token = _el(p, "token", "t-1") if draw(st.booleans()) else ""
    method = draw(st.sampled_from(["RetrievePropertiesEx", "ContinueRetrievePropertiesEx"]))
    declare_vim = f' xmlns:{p.vim}="urn:vim25"' if p.vim else ' xmlns="urn:vim25"'
    result = _el(p, "returnval", token + objects) if objects or token else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<{p.env}:Envelope xmlns:{p.env}="http://schemas.xmlsoap.org/soap/envelope/"'
        f' xmlns:{p.xsd}="http://www.w3.org/2001/XMLSchema"'
        f' xmlns:{p.xsi}="http://www.w3.org/2001/XMLSchema-instance">'
        f"<{p.env}:Body><{p.v(method + 'Response')}{declare_vim}>{result}"
        f"</{p.v(method + 'Response')}></{p.env}:Body></{p.env}:Envelope>"
    )
    return body.encode(), p


# -- the properties ------------------------------------------------------------------------


@given(response())
def test_the_fast_decoder_reads_what_pyvmomi_reads(drawn: tuple[bytes, Prefixes]) -> None:
    body, p = drawn
    fast, slow = both(body)
    if p.plain():
        assert fast == slow
    else:
        assert fast in (slow, NotUnderstood)
    # The next page is asked for with the token read from the head: never another one.
    assert leading_token(body) in ("", slow.token if slow is not None else "")


def test_generated_responses_are_not_all_given_up_on() -> None:
    """The prefixed responses above may be handed to pyVmomi; these must not be."""
    p = Prefixes("soapenv", "xsi", "xsd", "")
    vms = [
        _el(p, "objects", _el(p, "obj", "vm-1", attrs=' type="VirtualMachine"')),
    ]
    body = response_of(p, "".join(vms), token="tok")
    fast, slow = both(body)
    assert isinstance(fast, Page) and fast == slow
    assert fast.token == "tok" and [i.moid for i in fast.items] == ["vm-1"]


def response_of(p: Prefixes, objects: str, token: str = "") -> bytes:
    """A RetrievePropertiesEx response holding ``objects`` (and a token)."""
    inner = (_el(p, "token", token) if token else "") + objects
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<{p.env}:Envelope xmlns:{p.env}="http://schemas.xmlsoap.org/soap/envelope/"'
        f' xmlns:{p.xsd}="http://www.w3.org/2001/XMLSchema"'
        f' xmlns:{p.xsi}="http://www.w3.org/2001/XMLSchema-instance"><{p.env}:Body>'
        f'<RetrievePropertiesExResponse xmlns="urn:vim25">{_el(p, "returnval", inner)}'
        f"</RetrievePropertiesExResponse></{p.env}:Body></{p.env}:Envelope>"
    ).encode()


P = Prefixes("soapenv", "xsi", "xsd", "")


def _vm(*props: str) -> str:
    return _el(P, "objects", _el(P, "obj", "vm-7", attrs=' type="VirtualMachine"') + "".join(props))


def _prop(path: str, val: str) -> str:
    return _el(P, "propSet", _el(P, "name", path) + val)


@pytest.mark.parametrize(
    "objects",
    [
        # A property nobody asked for.
        _vm(_prop("guest.ipAddress", _el(P, "val", "10.0.0.1", "xsd:string"))),
        # A type pyVmomi does not know.
        _vm(_prop("config.hardware.device", _el(P, "val", "", "ArrayOfNoSuchDevice"))),
        # Children where text belongs.
        _vm(_prop("name", _el(P, "val", "<b>x</b>", "xsd:string"))),
        # An enumeration value the API version does not have.
        _vm(_prop("runtime.powerState", _el(P, "val", "hibernating", "VirtualMachinePowerState"))),
    ],
    ids=["undeclared-path", "unknown-type", "children-in-text", "unknown-enum-value"],
)
def test_what_the_fast_decoder_does_not_understand_goes_to_pyvmomi(objects: str) -> None:
    body = response_of(P, objects)
    with pytest.raises(NotUnderstood):
        decode_page(body, VM_WANTED, VERSION)


def test_missing_properties_keep_their_fault_and_privilege() -> None:
    body = response_of(P, _vm(_missing(P, "snapshot", "NoPermission")))
    fast, slow = both(body)
    assert fast == slow
    assert isinstance(fast, Page)
    assert fast.items[0].missing == {"snapshot": "NoPermission (System.Read)"}


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.9, 0.999])
def test_a_page_cut_short_is_unreadable_not_empty(cut: float) -> None:
    whole = response_of(P, _vm(_prop("name", _el(P, "val", "a", "xsd:string"))) * 3, "t")
    with pytest.raises(UnreadableResponse):
        decode_page(whole[: int(len(whole) * cut)], VM_WANTED, VERSION)


@pytest.mark.parametrize("read", TYPE_READS, ids=lambda r: r.kind)
def test_every_requested_path_is_declared_and_agrees_with_pyvmomi(read: Any) -> None:
    for vim_type, paths in ((read.vim_type, read.paths), *read.subtype_paths.items()):
        for path in paths:
            kind = declared_type(vim_type, path)
            assert kind is not None, f"{vim_type.__name__}.{path} is not declared"
            _path_value(vim_type, path, kind)  # raises NotUnderstood on any disagreement


def test_the_custom_field_definitions_are_declared() -> None:
    kind = declared_type(vim.CustomFieldsManager, "field")
    _path_value(vim.CustomFieldsManager, "field", kind)


def _with_token_after_objects(objects: str, token: str) -> bytes:
    body = response_of(P, objects).decode()
    return body.replace("</returnval>", _el(P, "token", token) + "</returnval>").encode()


def test_the_token_leading_a_page_is_read_from_its_head() -> None:
    objects = _vm(_prop("name", _el(P, "val", "a", "xsd:string"))) * 3
    body = response_of(P, objects, "t-1")
    assert leading_token(body) == "t-1"
    # The head alone: whatever the rest of the page holds, even cut short.
    assert leading_token(body[: body.index(b"</token>") + 40]) == "t-1"


@pytest.mark.parametrize(
    "body",
    [
        response_of(P, _vm(_prop("name", _el(P, "val", "a", "xsd:string")))),
        _with_token_after_objects(_vm(_prop("name", _el(P, "val", "a", "xsd:string"))), "t-2"),
        response_of(P, "", "<b>t-3</b>"),
        response_of(P, "", "t-4")[:60],
        b"<Envelope><token>t-5</token></Envelope>",
        b"not xml at all",
    ],
    ids=["no-token", "token-after-objects", "token-with-children", "cut-before", "outside", "junk"],
)
def test_without_a_token_leading_the_result_the_head_says_nothing(body: bytes) -> None:
    assert leading_token(body) == ""
