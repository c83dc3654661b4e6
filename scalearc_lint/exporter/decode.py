"""Result pages of the PropertyCollector, decoded into the values ``properties`` declares.

Two decoders give the same ``Page``:

- ``decode_page`` reads the SOAP body with lxml, straight into those values. libxml2
  builds each object's elements in C; Python touches only the elements the exporter
  reads (of a VM's few hundred elements, mostly devices, a few dozen). It follows
  pyVmomi's rules for everything it reads — type names resolved as pyVmomi resolves
  them (``xsi:type``, any namespace prefix), types widened to the session's API
  version, text converted as pyVmomi converts it — and it raises ``NotUnderstood`` at
  anything it cannot decode with certainty: a property path or type it has no
  declaration for, an element where text was expected, a type pyVmomi does not know,
  a prefix bound to two namespaces, a document type declaration. It never guesses. A
  document that is not well-formed XML (cut short, garbled) is ``UnreadableResponse``,
  not pyVmomi's to decode: its parser would take a truncated page for a whole one.
- ``fallback_page`` is pyVmomi's own decoder (``SoapResponseDeserializer``, as
  ``InvokeMethod`` calls it) on the same bytes, with its data objects reduced to the
  declared records by ``project``. The caller uses it when the fast decoder raises
  ``NotUnderstood``, so any response is either decoded fast or decoded by pyVmomi,
  and either way the mapping sees the same values.

pyVmomi's type information (``VmomiSupport``) is read, never its decoder, on the fast
path: which types exist, their properties and subtypes, enumeration values.
"""

from __future__ import annotations

import functools
import io
import logging
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from lxml import etree

from scalearc_lint.exporter._vmomi import SoapAdapter, VmomiSupport, vim, vmodl
from scalearc_lint.exporter.properties import PROPERTIES, Moid, Record, TypeName
from scalearc_lint.exporter.wire import UnreadableResponse, pyvmomi_decode

log = logging.getLogger(__name__)

VIM_NS = "urn:vim25"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

_V = "{" + VIM_NS + "}"
_ENVELOPE = "{" + SOAP_ENV_NS + "}Envelope"
_BODY = "{" + SOAP_ENV_NS + "}Body"
_HEADER = "{" + SOAP_ENV_NS + "}Header"
_RETURNVAL, _TOKEN, _OBJECTS = _V + "returnval", _V + "token", _V + "objects"
_OBJ, _PROPSET, _MISSINGSET = _V + "obj", _V + "propSet", _V + "missingSet"
_NAME, _VAL, _PATH, _FAULT = _V + "name", _V + "val", _V + "path", _V + "fault"
_RESPONSES = frozenset(
    _V + name for name in ("RetrievePropertiesExResponse", "ContinueRetrievePropertiesExResponse")
)

_ManagedObject: Any = VmomiSupport.ManagedObject
_DataObject: Any = VmomiSupport.DataObject
_Enum: Any = VmomiSupport.Enum
_LocalizedMethodFault: Any = vmodl.LocalizedMethodFault


class NotUnderstood(Exception):
    """The fast decoder met something it cannot decode with certainty: pyVmomi decides."""


class UnexpectedValue(Exception):
    """pyVmomi decoded a value of a type the declaration cannot hold (the server sent it)."""


@dataclass
class Retrieved:
    """One object's requested properties; ``missing`` maps unreadable paths to their fault."""

    moid: str
    type: str
    props: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One result page: its objects and the token of the next page ("" at the last)."""

    token: str
    items: list[Retrieved]


class SessionLost(Exception):
    """The session ended while exporting: log in again and restart the read."""


@dataclass(frozen=True)
class Wanted:
    """What one retrieval asks for: property paths by managed object type (pyVmomi class)."""

    paths: Mapping[Any, tuple[str, ...]]

    def declared(self, obj_type: Any) -> dict[str, Any]:
        """Each path requested of an object of ``obj_type`` and its declared value type
        (``None`` when nothing declares it)."""
        found: dict[str, Any] = {}
        for vim_type, paths in self.paths.items():
            if issubclass(obj_type, vim_type):
                for path in paths:
                    found[path] = declared_type(vim_type, path)
        return found


def declared_type(vim_type: Any, path: str) -> Any:
    """The type ``properties.PROPERTIES`` declares for a path of a type (or of a supertype)."""
    for base in vim_type.__mro__:
        declared = PROPERTIES.get(base, {}).get(path)
        if declared is not None:
            return declared
    return None


def fault_text(fault_type: Any, privilege: str | None) -> str:
    """``NoPermission (System.Read)``: a fault's type and, if it names one, the privilege."""
    name = fault_type.__name__.split(".")[-1]
    return f"{name} ({privilege})" if privilege else name


def type_name(vim_type: Any) -> str:
    """What ``Retrieved.type`` calls a managed object type (``ClusterComputeResource``)."""
    return str(vim_type.__name__.split(".")[-1])


# -- pyVmomi's type information ------------------------------------------------------------

_lookup_cache: dict[tuple[str, str], Any] = {}


def lookup_wsdl_type(ns: str, name: str) -> Any:
    """The pyVmomi type for a qualified XML name, exactly as pyVmomi's decoder finds it
    (``ManagedObjectReference`` and unknown namespaces included); NotUnderstood if none."""
    key = (ns, name)
    found = _lookup_cache.get(key)
    if found is None:
        try:
            # pyVmomi's own lookup; the method uses nothing of its instance.
            found = SoapAdapter.SoapDeserializer.LookupWsdlType(
                None, ns, name, allowManagedObjectReference=True
            )
        except (KeyError, AttributeError, TypeError):
            raise NotUnderstood(f"unknown type {name!r} in namespace {ns!r}") from None
        _lookup_cache[key] = found
    return found


def _is_list(vim_type: Any) -> bool:
    return isinstance(vim_type, type) and issubclass(vim_type, list)


def path_type(vim_type: Any, path: str) -> Any:
    """pyVmomi's type of a property path (``config.hardware.device``: ``VirtualDevice[]``)."""
    current = vim_type
    for part in path.split("."):
        if _is_list(current):
            raise NotUnderstood(f"{path}: goes through an array")
        try:
            current = current._GetPropertyInfo(part).type
        except (AttributeError, KeyError):
            raise NotUnderstood(f"{path}: not a property of {type_name(vim_type)}") from None
    return current


def _record_vim_type(record: type[Record]) -> Any:
    return VmomiSupport.GetWsdlType(VIM_NS, record.__name__)


@functools.cache
def record_family(record: type[Record]) -> list[tuple[Any, type[Record]]]:
    """``record`` and its declared subclasses with their vSphere types, most specific first."""
    family: list[type[Record]] = []
    pending = [record]
    while pending:
        current = pending.pop()
        family.append(current)
        pending.extend(current.__subclasses__())
    # A subclass comes before its bases: depth in the record hierarchy, deepest first.
    family.sort(key=lambda r: -len(r.__mro__))
    return [(_record_vim_type(r), r) for r in family]


def _unwrap(declared: Any) -> tuple[Any, bool]:
    """(the item type, True) for ``list[X]``; (X, False) for ``X`` or ``X | None``."""
    origin = typing.get_origin(declared)
    if origin is list:
        return typing.get_args(declared)[0], True
    if origin in (types.UnionType, typing.Union):
        (inner,) = [a for a in typing.get_args(declared) if a is not type(None)]
        return _unwrap(inner)
    return declared, False


# -- the fast decoder ----------------------------------------------------------------------


class _Document:
    """What decoding one response needs beyond the element at hand: its namespace bindings
    (one prefix may not name two namespaces in one response: then a prefix resolves the
    same everywhere, without asking each element) and the session's API version."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.bindings: dict[str, str] = {}
        self._types: dict[str, Any] = {}
        self._exact: dict[str, Any] = {}
        # What one decoder already checked in this response (an ``xsi:type`` it accepts, a
        # record table it found): a type name means the same all through one response, so
        # each is checked once per response, not once per element.
        self.accepted: set[tuple[Any, str]] = set()
        self.tables: dict[tuple[Any, str | None], Any] = {}

    def bind(self, prefix: str, uri: str) -> None:
        """A namespace declaration seen in the document."""
        if self.bindings.setdefault(prefix, uri) != uri:
            raise NotUnderstood(f"namespace prefix {prefix!r} is bound to two namespaces")

    def exact(self, qname: str) -> Any:
        """The pyVmomi type a ``prefix:name`` value names (a reference's ``type``)."""
        found = self._exact.get(qname)
        if found is None:
            prefix, colon, name = qname.rpartition(":")
            ns = self.bindings.get(prefix if colon else "", "")
            found = self._exact[qname] = lookup_wsdl_type(ns, name)
        return found

    def resolve(self, qname: str) -> Any:
        """The type an ``xsi:type`` names, widened to the session's version as pyVmomi does."""
        found = self._types.get(qname)
        if found is None:
            found = self._types[qname] = _compatible(self.exact(qname), self.version)
        return found


_compatible_cache: dict[tuple[Any, str], Any] = {}


def _compatible(vim_type: Any, version: str) -> Any:
    key = (vim_type, version)
    found = _compatible_cache.get(key)
    if found is None:
        found = _compatible_cache[key] = VmomiSupport.GetCompatibleType(vim_type, version)
    return found


def _leaf_text(el: Any) -> str:
    if len(el):
        raise NotUnderstood(f"element {el.tag} has children where a value was expected")
    return el.text or ""


def _to_bool(text: str) -> bool:
    # pyVmomi's rule, exactly.
    if text == "0" or text.lower() == "false":
        return False
    if text == "1" or text.lower() == "true":
        return True
    raise NotUnderstood(f"{text!r} is not a boolean")


def _to_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise NotUnderstood(f"{text!r} is not an integer") from None


def _to_datetime(text: str) -> datetime:
    parsed = VmomiSupport.Iso8601.ParseISO8601(text)
    if not parsed:
        raise NotUnderstood(f"{text!r} is not a time")
    return typing.cast(datetime, parsed)


#: pyVmomi's integer types: each is Python's int, or a subclass of it.
_INTEGERS = frozenset({int, VmomiSupport.long, VmomiSupport.short, VmomiSupport.byte})
#: What an array item of another type than the declared one decodes to: it is dropped.
_DROPPED: Any = object()


class _Scalar:
    """A declared ``str``, ``int``, ``bool``, ``datetime``, ``Moid`` or ``TypeName``."""

    def __init__(self, declared: Any, vim_type: Any, where: str) -> None:
        self.declared = declared
        self.vim_type = vim_type
        self.where = where
        self.enum_values: frozenset[str] | None = None
        self.accepted: frozenset[Any] = frozenset({vim_type})
        self.convert: Callable[[str], Any] = str
        is_class = isinstance(vim_type, type)
        if declared is Moid:
            ok = is_class and issubclass(vim_type, _ManagedObject)
        elif declared is TypeName:
            ok = vim_type is type
        elif declared is str and is_class and issubclass(vim_type, _Enum):
            ok = True
            self.enum_values = frozenset(vim_type.values)
        elif declared is str:
            ok = vim_type is str
        elif declared is bool:
            ok, self.convert = vim_type is bool, _to_bool
        elif declared is int:
            # Any integer type holds the same number: int(text), as pyVmomi converts.
            ok, self.convert, self.accepted = vim_type in _INTEGERS, _to_int, _INTEGERS
        elif declared is datetime:
            ok, self.convert = vim_type is datetime, _to_datetime
        else:
            ok = False
        if not ok:
            raise NotUnderstood(f"{where}: {declared!r} cannot hold pyVmomi's {vim_type!r}")

    def decode(self, el: Any, doc: _Document) -> Any:
        """The value of one element."""
        dynamic = el.get(XSI_TYPE)
        if dynamic is not None and (self, dynamic) not in doc.accepted:
            self._accept(dynamic, doc)
        if len(el):
            raise NotUnderstood(f"element {el.tag} has children where a value was expected")
        text: str = el.text or ""
        declared = self.declared
        if declared is Moid:
            kind = el.get("type")
            if kind is None or (self, kind) not in doc.accepted:
                self._accept_reference(kind, doc)
            return text
        if declared is TypeName:
            return VmomiSupport.GetWsdlName(doc.exact(text)) if text else None
        if self.enum_values is not None and text not in self.enum_values:
            raise NotUnderstood(f"{self.where}: {text!r} is not a {self.vim_type.__name__}")
        return self.convert(text)

    def _accept(self, dynamic: str, doc: _Document) -> None:
        """Check that a value of type ``dynamic`` (an ``xsi:type``) is what was declared."""
        # pyVmomi ignores xsi:type on a TypeName; elsewhere it is the value's type.
        if self.declared is not TypeName:
            found = doc.resolve(dynamic)
            if self.declared is Moid:
                if not issubclass(found, _ManagedObject):
                    raise NotUnderstood(f"{self.where}: {dynamic} where a reference was expected")
            elif found not in self.accepted:
                raise NotUnderstood(f"{self.where}: {dynamic} where {self.vim_type} was expected")
        doc.accepted.add((self, dynamic))

    def _accept_reference(self, kind: str | None, doc: _Document) -> None:
        """Check that a reference's ``type`` attribute names a managed object type."""
        if kind is None or not issubclass(doc.exact(kind), _ManagedObject):
            raise NotUnderstood(f"{self.where}: a reference without a managed object type")
        doc.accepted.add((self, kind))


#: A child element's meaning inside a data object: skip it, or (field, decoder, is a list).
_Entry = tuple[str, Any, bool] | None


class _Records:
    """A declared record (with its declared subclasses) for values of a vSphere type."""

    def __init__(self, record: type[Record], vim_type: Any, where: str) -> None:
        self.record = record
        self.vim_type = vim_type
        self.where = where
        self.family = record_family(record)
        self._tables: dict[Any, tuple[type[Record], dict[str, _Entry]] | None] = {}
        base = _record_vim_type(record)
        if not (issubclass(vim_type, base) or issubclass(base, vim_type)):
            raise NotUnderstood(f"{where}: {record.__name__} cannot stand for {vim_type}")

    def table(self, vim_type: Any) -> tuple[type[Record], dict[str, _Entry]] | None:
        """The record class for a value of ``vim_type`` and what each child element of it
        means; None when the type is none of the declared ones."""
        try:
            return self._tables[vim_type]
        except KeyError:
            pass
        record = next((r for t, r in self.family if issubclass(vim_type, t)), None)
        found: tuple[type[Record], dict[str, _Entry]] | None = None
        if record is not None:
            # Every property of the type is known; those the record holds are read.
            entries: dict[str, _Entry] = {_V + p.name: None for p in _properties(vim_type)}
            for info in msgspec.structs.fields(record):
                where = f"{self.where}.{info.name}"
                try:
                    prop_type = vim_type._GetPropertyInfo(info.name).type
                except AttributeError:
                    raise NotUnderstood(f"{where}: no such property of {vim_type}") from None
                item, is_list = _unwrap(info.type)
                if is_list != _is_list(prop_type):
                    raise NotUnderstood(f"{where}: declared {info.type}, pyVmomi has {prop_type}")
                target = prop_type.Item if is_list else prop_type
                entries[_V + info.name] = (info.name, _decoder(item, target, where), is_list)
            found = (record, entries)
        self._tables[vim_type] = found
        return found

    def decode(self, el: Any, doc: _Document) -> Any:
        """The record of one element (_DROPPED: a value of a type none of them stands for)."""
        dynamic = el.get(XSI_TYPE)
        key = (self, dynamic)
        found = doc.tables.get(key, _DROPPED)
        if found is _DROPPED:
            vim_type = doc.resolve(dynamic) if dynamic is not None else self.vim_type
            if _is_list(vim_type):
                raise NotUnderstood(f"{self.where}: an array where one value was expected")
            found = doc.tables[key] = self.table(vim_type)
        if found is None:
            return _DROPPED
        record, entries = found
        values: dict[str, Any] = {}
        for child in el:
            try:
                entry = entries[child.tag]
            except KeyError:
                raise NotUnderstood(f"{self.where}: unexpected element {child.tag}") from None
            if entry is None:
                continue
            name, decoder, is_list = entry
            value = decoder.decode(child, doc)
            if is_list:
                if value is not _DROPPED:
                    values.setdefault(name, []).append(value)
            elif value is _DROPPED:
                raise NotUnderstood(f"{self.where}.{name}: a value of an undeclared type")
            else:
                values[name] = value  # a repeated element: the last wins, as in pyVmomi
        return record(**values)


@functools.cache
def _properties(vim_type: Any) -> list[Any]:
    return list(vim_type._GetPropertyList())


_decoders: dict[tuple[Any, Any], Any] = {}


def _decoder(declared: Any, vim_type: Any, where: str) -> Any:
    """The decoder of one declared value type for values of pyVmomi type ``vim_type``."""
    key = (declared, vim_type)
    found = _decoders.get(key)
    if found is None:
        if isinstance(declared, type) and issubclass(declared, Record):
            found = _Records(declared, vim_type, where)
        else:
            found = _Scalar(declared, vim_type, where)
        found = _decoders.setdefault(key, found)
    return found


class _PathValue:
    """The value of one requested property path (a ``propSet``'s ``val``)."""

    def __init__(self, obj_type: Any, path: str, declared: Any) -> None:
        where = f"{type_name(obj_type)}.{path}"
        if declared is None:
            raise NotUnderstood(f"{where}: no declared type in exporter.properties")
        self.vim_type = path_type(obj_type, path)
        item, self.is_list = _unwrap(declared)
        if self.is_list != _is_list(self.vim_type):
            raise NotUnderstood(f"{where}: declared {declared!r}, pyVmomi has {self.vim_type!r}")
        target = self.vim_type.Item if self.is_list else self.vim_type
        self.item = _decoder(item, target, where)
        self.where = where

    def decode(self, val: Any, doc: _Document) -> Any:
        """The value of a ``val`` element."""
        dynamic = val.get(XSI_TYPE)
        if dynamic is None:
            raise NotUnderstood(f"{self.where}: a value without xsi:type")
        if (self, dynamic) not in doc.accepted:
            if _is_list(doc.resolve(dynamic)) != self.is_list:
                raise NotUnderstood(f"{self.where}: a value of type {dynamic}")
            doc.accepted.add((self, dynamic))
        decode = self.item.decode
        if not self.is_list:
            value = decode(val, doc)
            if value is _DROPPED:
                raise NotUnderstood(f"{self.where}: a value of an undeclared type {dynamic}")
            return value
        values = []
        for child in val:
            value = decode(child, doc)
            if value is not _DROPPED:
                values.append(value)
        return values


_path_values: dict[tuple[Any, str, Any], _PathValue] = {}


def _path_value(obj_type: Any, path: str, declared: Any) -> _PathValue:
    key = (obj_type, path, declared)
    found = _path_values.get(key)
    if found is None:
        found = _path_values.setdefault(key, _PathValue(obj_type, path, declared))
    return found


class _ObjectTypes:
    """How to read the properties of each managed object type met in one retrieval."""

    def __init__(self, wanted: Wanted) -> None:
        self.wanted = wanted
        self._by_type: dict[Any, tuple[str, dict[str, _PathValue]]] = {}

    def of(self, obj_type: Any) -> tuple[str, dict[str, _PathValue]]:
        """(the type's name, a reader per requested path) for objects of ``obj_type``."""
        found = self._by_type.get(obj_type)
        if found is None:
            declared = self.wanted.declared(obj_type)
            if not declared:
                raise NotUnderstood(f"{type_name(obj_type)}: an object of a type not asked for")
            readers = {path: _path_value(obj_type, path, kind) for path, kind in declared.items()}
            found = self._by_type[obj_type] = (type_name(obj_type), readers)
        return found


_PARSE_OPTIONS: dict[str, Any] = {
    "remove_comments": True,  # pyVmomi's expat reads the text around a comment as one
    "remove_pis": True,
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": True,  # a long text (a big annotation) is no reason to reject a page
}


def decode_page(body: bytes, wanted: Wanted, version: str) -> Page | None:
    """The page a ``RetrievePropertiesEx`` or ``ContinueRetrievePropertiesEx`` response
    holds (None: an empty result), read straight from its XML.

    Raises NotUnderstood at anything it cannot decode with certainty, UnreadableResponse
    when the XML is not well-formed, and SessionLost when a property is missing because the
    session is gone (``NotAuthenticated``).
    """
    doc = _Document(version)
    object_types = _ObjectTypes(wanted)
    items: list[Retrieved] = []
    token: str | None = None
    returnval: Any = None
    events = etree.iterparse(
        io.BytesIO(body), events=("start-ns", "end"), tag=(_TOKEN, _OBJECTS), **_PARSE_OPTIONS
    )
    try:
        for event, el in events:
            if event == "start-ns":
                doc.bind(*el)
                continue
            parent = el.getparent()
            if parent is not returnval:
                if returnval is not None or parent is None or parent.tag != _RETURNVAL:
                    raise NotUnderstood(f"{el.tag} outside the result")
                returnval = parent
            if el.tag == _OBJECTS:
                items.append(_object(el, doc, object_types))
                # Its elements are no longer needed: a page's tree never builds up.
                el.clear()
            elif token is None:
                token = _leaf_text(el)
            else:
                raise NotUnderstood("a result with two tokens")
        root = events.root
    except etree.XMLSyntaxError as exc:
        # Not for pyVmomi to decide: its expat parser is never told the document ended, so
        # it takes a response cut short for a complete one (an empty or partial page).
        raise UnreadableResponse(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise NotUnderstood("a response with a document type declaration")
    _check_envelope(root, returnval)
    if returnval is None:
        return None
    return Page(token or "", items)


def leading_token(body: bytes) -> str:
    """The continuation token of a result page when it comes before the page's first
    object, read from the head of the response alone; "" otherwise.

    vSphere's WSDL puts ``token`` before ``objects`` in a ``RetrieveResult``, so the next
    page can be asked for before this one is decoded. Only a hint: the page's decoder
    (fast or pyVmomi's) reads the token again, and the caller checks that they agree.
    Anything odd at the head (no well-formed start, a token with children, a token
    outside a result) is "": the page is then decoded first, as any other.
    """
    events = etree.iterparse(
        io.BytesIO(body), events=("end",), tag=(_TOKEN, _OBJECTS), **_PARSE_OPTIONS
    )
    try:
        for _, el in events:
            parent = el.getparent()
            if el.tag != _TOKEN or len(el) or parent is None or parent.tag != _RETURNVAL:
                return ""
            return el.text or ""
    except etree.XMLSyntaxError:
        return ""
    return ""


def _check_envelope(root: Any, returnval: Any) -> None:
    """The result sits in Envelope, Body, a retrieval's Response, and holds only results."""
    if root.tag != _ENVELOPE:
        raise NotUnderstood(f"not a SOAP envelope: {root.tag}")
    bodies = [c for c in root if c.tag != _HEADER]
    if len(bodies) != 1 or bodies[0].tag != _BODY or len(bodies[0]) != 1:
        raise NotUnderstood("a SOAP envelope without exactly one body element")
    response = bodies[0][0]
    if response.tag not in _RESPONSES or len(response) > 1:
        raise NotUnderstood(f"not a RetrievePropertiesEx response: {response.tag}")
    if len(response) == 1:
        if returnval is None:
            returnval = response[0]
        if response[0] is not returnval or returnval.tag != _RETURNVAL:
            raise NotUnderstood(f"unexpected element {response[0].tag} in the response")
        if any(c.tag not in (_TOKEN, _OBJECTS) for c in returnval):
            raise NotUnderstood("unexpected element in the result")
    elif returnval is not None:
        raise NotUnderstood("a result outside the response")


_NOT_AUTHENTICATED: Any = vim.fault.NotAuthenticated
_NO_PERMISSION: Any = vim.fault.NoPermission
_LOCALIZED_MESSAGE = _V + "localizedMessage"
_PRIVILEGE_ID = _V + "privilegeId"


def _object(el: Any, doc: _Document, object_types: _ObjectTypes) -> Retrieved:
    """One ``objects`` element (an ObjectContent)."""
    obj: str | None = None
    name = ""
    props: dict[str, Any] = {}
    missing: dict[str, str] = {}
    readers: dict[str, _PathValue] = {}
    prop_sets: list[Any] = []
    for child in el:
        tag = child.tag
        if tag == _PROPSET:
            if obj is None or prop_sets:
                prop_sets.append(child)  # read once the object's type is known
                continue
            # The usual shape, obj first and each propSet a name then a val: read at once.
            path, val = _key_and_value(child, _NAME, _VAL)
            if path is None or (reader := readers.get(path)) is None:
                raise NotUnderstood(f"{name}: property {path!r} was not asked for")
            props[path] = reader.decode(val, doc) if val is not None else None
        elif tag == _OBJ:
            kind = child.get("type")
            if obj is not None or kind is None:
                raise NotUnderstood("an object with two obj elements, or an obj without type")
            obj = _leaf_text(child)
            obj_type = doc.exact(kind)
            if not issubclass(obj_type, _ManagedObject):
                raise NotUnderstood(f"obj of type {kind}")
            name, readers = object_types.of(obj_type)
        elif tag == _MISSINGSET:
            missing_path, text = _missing(child, doc)
            missing[missing_path] = text
        else:
            raise NotUnderstood(f"unexpected element {tag} in an object")
    if obj is None:
        raise NotUnderstood("an object without obj")
    for prop in prop_sets:
        path, val = _key_and_value(prop, _NAME, _VAL)
        if path is None or (reader := readers.get(path)) is None:
            raise NotUnderstood(f"{name}: property {path!r} was not asked for")
        props[path] = reader.decode(val, doc) if val is not None else None
    return Retrieved(moid=obj, type=name, props=props, missing=missing)


def _key_and_value(el: Any, key_tag: str, value_tag: str) -> tuple[str | None, Any]:
    """(the text of the key child, the value child) of a propSet or missingSet, each None
    when absent; NotUnderstood at any other child."""
    if len(el) == 2:
        # The usual shape, a key then a value: no loop.
        first, second = el
        if first.tag == key_tag and second.tag == value_tag:
            return _leaf_text(first), second
    key: str | None = None
    value: Any = None
    for child in el:
        if child.tag == key_tag:
            key = _leaf_text(child)
        elif child.tag == value_tag:
            value = child
        else:
            raise NotUnderstood(f"unexpected element {child.tag} in {el.tag}")
    return key, value


def _missing(el: Any, doc: _Document) -> tuple[str, str]:
    """A ``missingSet`` entry: (its path, its fault as ``fault_text`` words it)."""
    path, fault = _key_and_value(el, _PATH, _FAULT)
    if path is None or fault is None:
        raise NotUnderstood("a missingSet without path or fault")
    # A LocalizedMethodFault: the MethodFault itself is its <fault>, a subtype by xsi:type.
    inner = [c for c in fault if c.tag == _FAULT]
    if len(inner) != 1 or any(c.tag not in (_FAULT, _LOCALIZED_MESSAGE) for c in fault):
        raise NotUnderstood("a missingSet fault that is not a LocalizedMethodFault")
    dynamic = inner[0].get(XSI_TYPE)
    if dynamic is None:
        raise NotUnderstood("a missingSet fault without xsi:type")
    fault_type = doc.resolve(dynamic)
    if not issubclass(fault_type, _METHOD_FAULT):
        raise NotUnderstood(f"a missingSet fault of type {dynamic}")
    if issubclass(fault_type, _NOT_AUTHENTICATED):
        raise SessionLost(path)
    privilege = None
    if issubclass(fault_type, _NO_PERMISSION):
        ids = [c for c in inner[0] if c.tag == _PRIVILEGE_ID]
        privilege = _leaf_text(ids[-1]) if ids else None
    return path, fault_text(fault_type, privilege)


_METHOD_FAULT: Any = vmodl.MethodFault


# -- pyVmomi's decoder, and its values reduced to the declared records ---------------------


def project(value: Any, declared: Any, where: str) -> Any:
    """A value pyVmomi decoded, as the fast decoder gives it for the declared type."""
    item, is_list = _unwrap(declared)
    if is_list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise UnexpectedValue(f"{where}: {type(value).__name__} where an array was expected")
        projected = (_project_one(v, item, where, in_array=True) for v in value)
        return [v for v in projected if v is not None]
    return _project_one(value, item, where, in_array=False)


def _project_one(value: Any, declared: Any, where: str, *, in_array: bool) -> Any:
    if value is None:
        return None
    if isinstance(declared, type) and issubclass(declared, Record):
        record = next(
            (r for t, r in record_family(declared) if isinstance(value, t)),
            None,
        )
        if record is None:
            if in_array:
                return None  # an item of a type the declaration leaves out
            raise UnexpectedValue(f"{where}: {type(value).__name__} is no {declared.__name__}")
        return record(
            **{
                info.name: project(getattr(value, info.name), info.type, f"{where}.{info.name}")
                for info in msgspec.structs.fields(record)
            }
        )
    if declared is Moid:
        if not isinstance(value, _ManagedObject):
            raise UnexpectedValue(f"{where}: {type(value).__name__} is not a reference")
        return str(value._moId)
    if declared is TypeName:
        return VmomiSupport.GetWsdlName(value)
    if declared is bool:
        if not isinstance(value, bool):
            raise UnexpectedValue(f"{where}: {type(value).__name__} is not a boolean")
        return value
    if declared is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UnexpectedValue(f"{where}: {type(value).__name__} is not an integer")
        return int(value)
    if declared is str:
        if not isinstance(value, str):
            raise UnexpectedValue(f"{where}: {type(value).__name__} is not text")
        return str(value)
    if declared is datetime:
        if not isinstance(value, datetime):
            raise UnexpectedValue(f"{where}: {type(value).__name__} is not a time")
        return value
    raise UnexpectedValue(f"{where}: cannot project {declared!r}")


def fallback_page(body: bytes, result_type: Any, stub: Any, wanted: Wanted) -> Page | None:
    """The page as pyVmomi decodes the response (``InvokeMethod``'s decoder on the same
    bytes), its values projected onto the declarations."""
    result = pyvmomi_decode(body, result_type, stub)
    if isinstance(result, BaseException):
        raise result
    return page_of_result(result, wanted)


def page_of_result(result: Any, wanted: Wanted) -> Page | None:
    """A ``RetrieveResult`` pyVmomi decoded, as a Page of the declared values (a path
    nothing declares keeps pyVmomi's value)."""
    if result is None:
        return None
    items = []
    for content in result.objects or ():
        obj_type = type(content.obj)
        declared = wanted.declared(obj_type)
        item = Retrieved(moid=str(content.obj._moId), type=type_name(obj_type))
        for prop in content.propSet or ():
            kind = declared.get(prop.name)
            where = f"{item.type}.{prop.name}"
            item.props[prop.name] = prop.val if kind is None else project(prop.val, kind, where)
        for missing in content.missingSet or ():
            # pyVmomi unwraps the LocalizedMethodFault: this is the MethodFault itself.
            fault = missing.fault
            if isinstance(fault, _NOT_AUTHENTICATED):
                raise SessionLost(missing.path)
            if fault is None:
                item.missing[missing.path] = "unknown fault"
                continue
            privilege = fault.privilegeId if isinstance(fault, _NO_PERMISSION) else None
            item.missing[missing.path] = fault_text(type(fault), privilege)
        items.append(item)
    return Page(str(result.token or ""), items)


def undeclared(wanted: Wanted) -> list[str]:
    """The requested paths nothing declares (their responses always go to pyVmomi)."""
    return [
        f"{type_name(t)}.{p}"
        for t, paths in wanted.paths.items()
        for p in paths
        if declared_type(t, p) is None
    ]
