"""Checks on JSON input that msgspec does not make: duplicate keys.

msgspec keeps the last of two equal keys in an object silently (``{"vm-1": A,
"vm-1": B}`` loses A: a failing appliance could vanish from the run), so every JSON
input is checked for a repeated key, and one is reported with its JSON path.

The exact check (:func:`check_unique_keys`) parses the input once more with the standard
library's C scanner, which reports each object's keys in order: it costs about as much as
a whole ``json.load``. :func:`decode_unique` usually clears a document far more cheaply:
msgspec never writes a key twice, so when writing the decoded value again gives back the
input byte for byte (:func:`written_as`), no key of the input repeats. That holds for
every file scalearc-lint writes itself (``export``, ``--merge``, ``synth``); any other
spelling (whitespace, another key order, escapes, a default written out, and of course a
repeated key) gets the exact check.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sized
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import msgspec
import msgspec.inspect

from scalearc_lint.errors import InputError

T = TypeVar("T")


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> None:
    if len(pairs) > 1 and len({key for key, _ in pairs}) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)


class _Found:
    """Where a duplicate key sits, built up from the object it is in to the top."""

    __slots__ = ("key", "path")

    def __init__(self, path: str, key: str) -> None:
        self.path = path
        self.key = key


def _locate(value: Any) -> _Found | None:
    if isinstance(value, _Found):
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _locate(item)
            if found is not None:
                return _Found(f"[{i}]{found.path}", found.key)
    return None


def _path_of_duplicate(pairs: list[tuple[str, Any]]) -> _Found | None:
    seen: set[str] = set()
    for key, value in pairs:
        found = _locate(value)
        if found is not None:
            step = f".{key}" if key.isidentifier() else f"[{json.dumps(key)}]"
            return _Found(f"{step}{found.path}", found.key)
        if key in seen:
            return _Found("", key)
        seen.add(key)
    return None


def check_unique_keys(data: bytes | str, path: str | Path) -> None:
    """Raise InputError naming the JSON path of the first object that repeats a key."""
    try:
        json.loads(data, object_pairs_hook=_no_duplicates)
    except _DuplicateKey:
        pass
    except (ValueError, RecursionError):
        return  # not this check's concern: the decoder has judged the syntax already
    else:
        return
    # Rare: walk again, this time carrying where the duplicate is up to the top.
    found = _locate(json.loads(data, object_pairs_hook=_path_of_duplicate))
    assert found is not None
    raise InputError(
        f"{path}: ${found.path}: the key {json.dumps(found.key)} appears twice "
        "(a JSON object must not repeat a key)"
    )


def decode_unique(decode: Callable[[bytes], T], data: bytes, path: str | Path) -> T:
    """``decode(data)`` (msgspec), once no key of ``data`` is found repeated; a repeated key
    is an InputError, raised before any error ``decode`` raises.

    The exact check runs before decoding when the input cannot be msgspec's writing (it
    keeps a text copy of the whole input: that must not come on top of the decoded value),
    and only after decoding when the cheap check cannot clear the input; then the decoded
    value is let go first and decoding is done again.
    """
    if _may_be_written_by_msgspec(data):
        try:
            decoded = decode(data)
        except Exception:
            check_unique_keys(data, path)
            raise
        if written_as(decoded, data):
            return decoded
        del decoded
    check_unique_keys(data, path)
    return decode(data)


#: How much of the input's start is looked at for the separators msgspec does not write.
_HEAD = 4096


def _may_be_written_by_msgspec(data: bytes) -> bool:
    """False when ``data`` is surely not msgspec's writing: it has a line break before its
    end (msgspec writes whitespace only inside strings, where a line break is escaped), or
    its start has the spaced separators of ``json.dumps``."""
    end = data[-64:]
    body = len(data) - len(end) + len(end.rstrip())
    return data.find(b"\n", 0, body) < 0 and b'": ' not in data[:_HEAD]


#: Entries of a long dict or list that are written at a time: memory stays bounded (a
#: snapshot's 150,000 VMs are not written out at once beside the file and its decoding).
_PIECE = 4096
#: A dict or list this short is compared entry by entry, so that one long collection inside
#: a few large values (the snapshots of a bundle) is still written piece by piece.
_FEW = 8


def written_as(decoded: object, data: bytes) -> bool:
    """Whether ``data`` is, byte for byte, what ``msgspec.json.encode(decoded)`` writes.

    Then ``data`` repeats no key, as msgspec writes each key of a dict or a struct once. The
    one exception, a ``msgspec.Raw`` value (written verbatim, as it was read), makes the
    answer ``False``; so does a custom type, whose encoding msgspec does not control.
    """
    if isinstance(decoded, msgspec.Struct) and not _written_by_msgspec(type(decoded)):
        return False
    comparison = _Comparison(data)
    return comparison.value(decoded) and not data[comparison.pos :].strip(b" \t\r\n")


@functools.cache
def _written_by_msgspec(struct: type[msgspec.Struct]) -> bool:
    """Whether every value of this type is written by msgspec itself (no Raw, no custom type)."""
    seen: set[int] = set()
    pending: list[msgspec.inspect.Type] = [msgspec.inspect.type_info(struct)]
    while pending:
        info = pending.pop()
        if id(info) in seen:
            continue
        seen.add(id(info))
        if isinstance(info, msgspec.inspect.RawType | msgspec.inspect.CustomType):
            return False
        pending.extend(_children(info))
    return True


def _children(info: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    """The type infos directly inside ``info`` (fields, items, keys, union members)."""
    if isinstance(info, msgspec.inspect.StructType | msgspec.inspect.DataclassType):
        return [field.type for field in info.fields]
    if isinstance(info, msgspec.inspect.TypedDictType | msgspec.inspect.NamedTupleType):
        return [field.type for field in info.fields]
    if isinstance(info, msgspec.inspect.DictType):
        return [info.key_type, info.value_type]
    if isinstance(info, msgspec.inspect.CollectionType | msgspec.inspect.VarTupleType):
        return [info.item_type]
    if isinstance(info, msgspec.inspect.TupleType):
        return list(info.item_types)
    if isinstance(info, msgspec.inspect.UnionType):
        return list(info.types)
    if isinstance(info, msgspec.inspect.Metadata):
        return [info.type]
    return []


class _Layout(NamedTuple):
    """How msgspec writes one struct class: each field's attribute, ``"key":``, default and
    default factory, and whether fields holding their default are left out."""

    fields: tuple[tuple[str, bytes, Any, Any], ...]
    omit_defaults: bool


_ENCODER = msgspec.json.Encoder()
_OMITTED_WHEN_EMPTY = (list, dict, set)


@functools.cache
def _layout(struct: type[msgspec.Struct]) -> _Layout | None:
    """The layout of a struct written as a JSON object; None for any other shape (a tagged
    or array-like struct is compared as a whole, written by msgspec itself)."""
    config = struct.__struct_config__
    if config.tag is not None or config.array_like:
        return None
    return _Layout(
        fields=tuple(
            (
                field.name,
                _ENCODER.encode(field.encode_name) + b":",
                field.default,
                field.default_factory,
            )
            for field in msgspec.structs.fields(struct)
        ),
        omit_defaults=config.omit_defaults,
    )


def _omitted(value: Any, default: Any, factory: Any, omit_defaults: bool) -> bool:
    """Whether msgspec leaves a field with this value out (its ``is_default`` test)."""
    if value is msgspec.UNSET:
        return True
    if not omit_defaults:
        return False
    if value is default:
        return True
    return factory in _OMITTED_WHEN_EMPTY and type(value) is factory and not value


class _Comparison:
    """Compares a decoded value, written the way msgspec writes it, with the input bytes.

    Structs, and short dicts and lists, are walked in Python; long dicts and lists are
    written ``_PIECE`` entries at a time; everything else is written whole by msgspec.
    ``pos`` is how far the input has matched so far.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def expect(self, text: bytes | memoryview) -> bool:
        """Match ``text`` at the current position and move past it."""
        if not self.data.startswith(text, self.pos):
            return False
        self.pos += len(text)
        return True

    def value(self, value: object) -> bool:
        """Match the whole of ``value``."""
        if isinstance(value, msgspec.Struct):
            layout = _layout(type(value))
            if layout is not None:
                return self.struct(value, layout)
        elif isinstance(value, dict):
            if len(value) > _PIECE:
                return self.pieces(value.items(), b"{", b"}", dict)
            if len(value) <= _FEW and all(type(key) is str for key in value):
                return self.entries(value)
        elif isinstance(value, list):
            if len(value) > _PIECE:
                return self.pieces(value, b"[", b"]", list)
            if len(value) <= _FEW:
                return self.items(value)
        return self.expect(_ENCODER.encode(value))

    def struct(self, value: msgspec.Struct, layout: _Layout) -> bool:
        """Match a struct's fields in order, leaving out those msgspec leaves out."""
        separator = b"{"
        for name, key, default, factory in layout.fields:
            field = getattr(value, name)
            if _omitted(field, default, factory, layout.omit_defaults):
                continue
            if not (self.expect(separator) and self.expect(key) and self.value(field)):
                return False
            separator = b","
        return self.expect(b"{}" if separator == b"{" else b"}")

    def entries(self, value: dict[str, object]) -> bool:
        """Match a short dict with string keys, entry by entry."""
        separator = b"{"
        for key, item in value.items():
            if not (self.expect(separator) and self.expect(_ENCODER.encode(key) + b":")):
                return False
            if not self.value(item):
                return False
            separator = b","
        return self.expect(b"{}" if separator == b"{" else b"}")

    def items(self, value: list[object]) -> bool:
        """Match a short list, item by item."""
        separator = b"["
        for item in value:
            if not (self.expect(separator) and self.value(item)):
                return False
            separator = b","
        return self.expect(b"[]" if separator == b"[" else b"]")

    def pieces(
        self,
        entries: Iterable[Any],
        opening: bytes,
        closing: bytes,
        collect: Callable[[Iterator[Any]], Sized],
    ) -> bool:
        """Match a long dict or list (``collect`` builds one from entries) a piece at a time."""
        separator = opening
        remaining = iter(entries)
        # One buffer for every piece: a new few-MB bytes each time would be fresh memory
        # from the OS, faulted in page by page, for every piece.
        buffer = bytearray()
        while piece := collect(islice(remaining, _PIECE)):
            _ENCODER.encode_into(piece, buffer)
            # Each piece is written as a dict or list of its own: compare what lies inside.
            with memoryview(buffer) as written:
                if not (self.expect(separator) and self.expect(written[1:-1])):
                    return False
            separator = b","
        return self.expect(closing)
