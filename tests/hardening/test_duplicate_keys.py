"""A repeated JSON key is refused anywhere in a snapshot or bundle, however the file is spelt.

msgspec keeps the last of two equal keys silently, so the loader refuses them itself: the
cheap check (:func:`written_as`: the input is byte for byte what msgspec writes for its own
decoding, so no key repeats) clears the files scalearc-lint writes, and everything else goes
through the exact scan of the standard library. Whichever decides, the verdict and the one
line must be the exact scan's: these tests compare the two on generated documents (random
depths, every kind of object, whitespace, escapes, long collections written in pieces) and
pin each kind of place with an example.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalearc_lint.errors import InputError
from scalearc_lint.io import jsonfile
from scalearc_lint.io.jsonfile import check_unique_keys, decode_unique, written_as
from scalearc_lint.snapshot.loader import decode_snapshots, encode_snapshot
from scalearc_lint.snapshot.model import Snapshot, SnapshotBundle
from scalearc_lint.snapshot.synth import SynthSpec, synthesize
from scalearc_lint.testing import estates, hostile_text
from tests.hardening.kit import LAB, one_error_line
from tests.hardening.kit import run_in_process as run

NAME = "snap.json"


class Obj(list[tuple[str, Any]]):
    """A JSON object as its (key, value) pairs in order; a key may repeat."""


def pairs_tree(text: str | bytes) -> Any:
    """Parse JSON keeping every key of every object, repeats included."""
    return json.loads(text, object_pairs_hook=Obj)


@dataclass(frozen=True)
class Spelling:
    """How a document is written: separators, indentation, key characters as ``\\uXXXX``."""

    colon: str = ":"
    comma: str = ","
    indent: int | None = None
    escaped: str = ""

    @property
    def canonical(self) -> bool:
        """Whether this is how msgspec writes (so a document without repeats is cleared
        cheaply)."""
        return self == Spelling()


def spell(node: Any, how: Spelling, depth: int = 0) -> str:
    """Write a pairs tree as JSON text."""
    inner = "" if how.indent is None else "\n" + " " * (how.indent * (depth + 1))
    outer = "" if how.indent is None else "\n" + " " * (how.indent * depth)
    if isinstance(node, Obj):
        parts = [f"{_key(key, how)}{how.colon}{spell(v, how, depth + 1)}" for key, v in node]
        return "{" + how.comma.join(inner + p for p in parts) + (outer if parts else "") + "}"
    if isinstance(node, list):
        parts = [spell(item, how, depth + 1) for item in node]
        return "[" + how.comma.join(inner + p for p in parts) + (outer if parts else "") + "]"
    return msgspec.json.encode(node).decode()


def _key(key: str, how: Spelling) -> str:
    """A key with the characters in ``how.escaped`` as ``\\u`` escapes (it decodes the same)."""
    text = "".join(
        f"\\u{ord(c):04x}" if c in how.escaped else msgspec.json.encode(c).decode()[1:-1]
        for c in key
    )
    return f'"{text}"'


def repeats(node: Any) -> bool:
    """Whether any object of the tree has two equal keys (the truth, computed directly)."""
    if isinstance(node, Obj):
        keys = [key for key, _ in node]
        return len(set(keys)) != len(keys) or any(repeats(v) for _, v in node)
    if isinstance(node, list):
        return any(repeats(item) for item in node)
    return False


def objects(node: Any) -> Iterator[Obj]:
    """Every object of the tree, at every depth."""
    if isinstance(node, Obj):
        yield node
        for _, value in node:
            yield from objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from objects(item)


def repeated(where: str, key: str) -> str:
    """The one line for ``key`` repeated in the object at JSON path ``where``."""
    return f'{NAME}: {where}: the key "{key}" appears twice (a JSON object must not repeat a key)'


def outcome(call: Callable[[], object]) -> str | None:
    """The InputError message ``call`` raises, or None."""
    try:
        call()
    except InputError as exc:
        return str(exc)
    return None


@contextmanager
def pieces(piece: int, few: int) -> Iterator[None]:
    """Write long collections ``piece`` entries at a time and walk those up to ``few`` long:
    small values make the generated documents exercise every way of comparing."""
    with mock.patch.object(jsonfile, "_PIECE", piece), mock.patch.object(jsonfile, "_FEW", few):
        yield


#: As shipped, and small enough that generated documents are compared piece by piece.
PIECES = [(jsonfile._PIECE, jsonfile._FEW), (1, 0), (2, 1), (3, 8)]

spellings = st.builds(
    Spelling,
    colon=st.sampled_from([":", " :", ": ", "\n:", " \t\r\n: "]),
    comma=st.sampled_from([",", ", ", "\n,"]),
    indent=st.sampled_from([None, 2]),
    escaped=st.sampled_from(["", "-", "m", '-e"\\']),
)
#: Mostly as msgspec writes, so the cheap check is what decides.
any_spelling = st.one_of(st.just(Spelling()), st.just(Spelling()), spellings)


# -- the cheap check against the exact scan, on any JSON ---------------------------------------

keys = st.one_of(
    st.sampled_from(["a", "b", "vm-1", "a b", ":", '"', '":', " :", "\\", "é", "\u2028"]),
    st.text(alphabet='ab-: "\\\n', max_size=3),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    keys,
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        # Equal keys are drawn often: a repeat at any depth.
        st.lists(st.tuples(keys, children), max_size=6).map(Obj),
        st.lists(st.tuples(keys, children), max_size=6, unique_by=lambda p: p[0]).map(Obj),
    ),
    max_leaves=30,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, how=any_spelling, sizes=st.sampled_from(PIECES))
def test_the_cheap_check_agrees_with_the_exact_scan_on_any_json(
    tree: Any, how: Spelling, sizes: tuple[int, int]
) -> None:
    data = spell(tree, how).encode()
    exact = outcome(lambda: check_unique_keys(data, NAME))
    assert (exact is not None) == repeats(tree)
    decoded = msgspec.json.decode(data)
    with pieces(*sizes):
        assert outcome(lambda: decode_unique(msgspec.json.decode, data, NAME)) == exact
        if exact is None:
            assert decode_unique(msgspec.json.decode, data, NAME) == decoded
        # What the cheap check tests is exactly this, however it is carried out.
        assert written_as(decoded, data) == (msgspec.json.encode(decoded) == data)
        if how.canonical and exact is None:
            assert written_as(decoded, data)  # the cheap check really decided


def edits(data: bytes) -> Iterator[bytes]:
    """``data`` with one byte changed, one removed or one space inserted, at every place."""
    for at in range(len(data) + 1):
        yield data[:at] + b" " + data[at:]
        if at < len(data):
            yield data[:at] + data[at + 1 :]
            yield data[:at] + (b"0" if data[at : at + 1] == b"~" else b"~") + data[at + 1 :]


#: Every shape: empty, short and long dicts and lists, nested, keys that need escapes.
SHAPES: Any = {
    "": [],
    "a": {},
    'q"\\:': [1, [2.5, None], {"k": True}],
    "long": {f"k{i}": [i, {"x": str(i)}] for i in range(11)},
    "items": list(range(10)),
}


def _small_lab() -> Snapshot:
    """The lab cut down to a few objects of every kind (a value to compare, not a valid
    inventory)."""
    lab = msgspec.json.decode(LAB.read_bytes(), type=Snapshot)
    few = {
        name: dict(list(getattr(lab, name).items())[:count])
        for name, count in (("clusters", 1), ("hosts", 1), ("resource_pools", 2), ("vms", 2))
    }
    events = msgspec.structs.replace(lab.events, items=lab.events.items[:1])
    return msgspec.structs.replace(lab, events=events, **few)


@pytest.mark.parametrize("sizes", PIECES)
@pytest.mark.parametrize("value", [SHAPES, _small_lab()], ids=["shapes", "snapshot"])
def test_the_cheap_check_compares_every_byte(value: object, sizes: tuple[int, int]) -> None:
    # A value against its writing with one difference, wherever it lies: never taken as
    # written (so no byte that could hide a repeated key goes uncompared). A space after
    # the end is the one difference allowed: a file may end with a newline.
    written = msgspec.json.encode(value)
    with pieces(*sizes):
        assert written_as(value, written)
        assert written_as(value, written + b" \n")
        taken = [edited for edited in edits(written) if written_as(value, edited)]
        assert taken == [written + b" "]


@pytest.mark.parametrize("sizes", PIECES)
def test_input_as_long_as_its_writing_but_with_a_repeat_is_caught(sizes: tuple[int, int]) -> None:
    # The repeat makes the input longer than what msgspec writes for it, the shorter
    # spelling of the numbers (1E2, written 100.0) makes up for it: only the bytes differ.
    data = b'[{"k":0,"k":0},1E2,1E2,1E2]'
    decoded = msgspec.json.decode(data)
    assert len(msgspec.json.encode(decoded)) == len(data)
    with pieces(*sizes):
        assert not written_as(decoded, data)
        assert outcome(lambda: decode_unique(msgspec.json.decode, data, NAME)) == repeated(
            "$[0]", "k"
        )


def test_a_raw_value_is_never_taken_as_written_by_msgspec() -> None:
    class Holder(msgspec.Struct):
        inner: msgspec.Raw

    data = b'{"inner":{"a":1,"a":2}}'
    decoded = msgspec.json.decode(data, type=Holder)
    # msgspec writes a Raw value back verbatim, repeated key and all: no proof of anything.
    assert msgspec.json.encode(decoded) == data
    assert not written_as(decoded, data)
    decode = msgspec.json.Decoder(Holder).decode
    assert outcome(lambda: decode_unique(decode, data, NAME)) == repeated("$.inner", "a")


@pytest.mark.parametrize(
    ("data", "steps"),
    [
        # As msgspec writes: decoded once, cleared by the cheap check.
        (b'{"a":[1,{"b":2}]}', ["decode"]),
        # Not msgspec's spelling, but it could have been: decoded, not cleared, so the
        # decoding is let go before the exact scan (whose text copy of the whole input
        # must not come on top of it) and done again.
        (b'{"b":1,"a":1E2}', ["decode", "scan", "decode"]),
        # Surely not msgspec's writing (line breaks, json.dumps's separators): scanned first.
        (b'{\n "a": [1]\n}', ["scan", "decode"]),
        (b'{"a": [1], "b": 2}', ["scan", "decode"]),
        # A file may end with a line break.
        (b'{"a":[1]}\n', ["decode"]),
        # Undecodable: scanned before the decoding error goes on (a repeat is named first).
        (b'{"a":[1,}', ["decode", "scan"]),
    ],
)
def test_the_exact_scan_runs_only_when_needed_and_never_beside_a_decoding(
    data: bytes, steps: list[str]
) -> None:
    done: list[str] = []

    def decode(raw: bytes) -> Any:
        done.append("decode")
        return msgspec.json.decode(raw)

    def scan(raw: bytes, path: str) -> None:
        done.append("scan")
        check_unique_keys(raw, path)

    with mock.patch.object(jsonfile, "check_unique_keys", scan), suppress(msgspec.DecodeError):
        decode_unique(decode, data, NAME)
    assert done == steps


# -- snapshots and bundles, generated ------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_repeated_key_anywhere_in_a_snapshot_or_bundle_is_refused_as_the_exact_scan_says(
    data: st.DataObject,
) -> None:
    hostile = data.draw(st.booleans(), label="hostile names")
    estate = data.draw(estates(names=hostile_text() if hostile else None))
    snapshots = estate.snapshots
    bundle = len(snapshots) > 1 and data.draw(st.booleans(), label="bundle")
    if bundle:
        document: Snapshot | SnapshotBundle = SnapshotBundle(schema_version=2, snapshots=snapshots)
    else:
        document = snapshots[0]
    original = msgspec.json.encode(document)
    tree = pairs_tree(original)
    repeated = data.draw(st.booleans(), label="repeat a key")
    if repeated:
        target = data.draw(st.sampled_from([o for o in objects(tree) if o]), label="object")
        key, value = data.draw(st.sampled_from(list(target)), label="key")
        # Usually the same value again (the file decodes; only the repeat is wrong).
        again = data.draw(st.sampled_from([value, value, *[v for _, v in target]]))
        target.insert(data.draw(st.integers(0, len(target))), (key, again))
    how = data.draw(any_spelling, label="spelling")
    text = spell(tree, how).encode()
    exact = outcome(lambda: check_unique_keys(text, NAME))
    assert (exact is not None) == repeated
    with pieces(*data.draw(st.sampled_from(PIECES), label="pieces")):
        if exact is not None:
            assert outcome(lambda: decode_snapshots(text, NAME)) == exact
        else:
            assert decode_snapshots(text, NAME) == decode_snapshots(original, NAME)
            if how.canonical:
                assert text == original
                decoded = msgspec.json.decode(text, type=type(document))
                assert written_as(decoded, text)  # the cheap check really decided


# -- every kind of place, by example ------------------------------------------------------------

LAB_TEXT = LAB.read_text()


def lab_with(old: str, new: str) -> str:
    """The lab's text with its first ``old`` replaced by ``new``."""
    assert old in LAB_TEXT, old
    return LAB_TEXT.replace(old, new, 1)


def _first_entry(collection: str) -> tuple[str, str]:
    """The first key of a moid-keyed collection of the lab and its value as written."""
    tree = pairs_tree(LAB_TEXT)
    entries = dict(tree)[collection]
    key, value = entries[0]
    return key, spell(value, Spelling())


#: (the lab's text with a repeated key, where the error is, the key), for every kind of place.
PLACES = {
    "top level, a collection twice": (lab_with('"vms":{', '"vms":{},"vms":{'), "$", "vms"),
    "top level, a scalar twice": (
        lab_with('"exported_at":', '"exported_at":"2020-01-01T00:00:00Z","exported_at":'),
        "$",
        "exported_at",
    ),
    **{
        f"moid-keyed {name}": (
            lab_with(f'"{name}":{{', f'"{name}":{{"{key}":{value},'),
            f"$.{name}",
            key,
        )
        for name in (
            "datacenters",
            "clusters",
            "hosts",
            "resource_pools",
            "vms",
            "dvswitches",
            "dv_portgroups",
        )
        for key, value in [_first_entry(name)]
    },
    "nested struct (cluster DRS)": (
        lab_with('"drs":{"enabled":true,', '"drs":{"enabled":true,"enabled":true,'),
        '$.clusters["domain-c-1"].drs',
        "enabled",
    ),
    "nested struct (vNIC backing)": (
        lab_with('"backing":{"kind":"standard",', '"backing":{"kind":"standard","kind":"other",'),
        '$.vms["vm-1"].nics[0].backing',
        "kind",
    ),
    "nested struct (event log)": (
        lab_with('"events":{"collected":true', '"events":{"collected":false,"collected":true'),
        "$.events",
        "collected",
    ),
    "free-form dict (custom attributes)": (
        lab_with(
            '"custom_attributes":{"scalearc-role":"primary"',
            '"custom_attributes":{"scalearc-role":"primary","scalearc-role":"primary"',
        ),
        '$.vms["vm-1"].custom_attributes',
        "scalearc-role",
    ),
    "free-form dict (DRS VM overrides)": (
        lab_with('"vm_overrides":{"vm-1":', '"vm_overrides":{"vm-1":{},"vm-1":'),
        '$.clusters["domain-c-1"].drs.vm_overrides',
        "vm-1",
    ),
    "whitespace before the colon": (
        lab_with('"vms":{"vm-1":', '"vms":{"vm-1" :{},"vm-1"\n\t: '),
        "$.vms",
        "vm-1",
    ),
    "an escaped spelling of the same key": (
        lab_with('"vms":{"vm-1":', '"vms":{"vm\\u002d1":{},"vm-1":'),
        "$.vms",
        "vm-1",
    ),
    "the plain spelling after an escaped one": (
        lab_with('"name":"sa-orders-01"', '"\\u006eame":"x","name":"sa-orders-01"'),
        '$.vms["vm-1"]',
        "name",
    ),
}


def _bundle(first: str, second: str) -> str:
    """A bundle of two snapshots, as written."""
    return f'{{"schema_version":2,"snapshots":[{first},{second}]}}'


@pytest.mark.parametrize("sizes", PIECES[:2], ids=["as shipped", "small pieces"])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_repeated_key_is_named_in_every_kind_of_place(place: str, sizes: tuple[int, int]) -> None:
    text, where, key = PLACES[place]
    message = repeated(where, key)
    assert outcome(lambda: check_unique_keys(text.encode(), NAME)) == message
    with pieces(*sizes):
        assert outcome(lambda: decode_snapshots(text.encode(), NAME)) == message
        # The same, pretty-printed, and in a bundle's second snapshot.
        pretty = spell(pairs_tree(text), Spelling(colon=": ", indent=2)).encode()
        assert outcome(lambda: decode_snapshots(pretty, NAME)) == message
        bundle = _bundle(LAB_TEXT, text).encode()
        inside = f"$.snapshots[1]{where.removeprefix('$')}"
        assert outcome(lambda: decode_snapshots(bundle, NAME)) == message.replace(
            f": {where}:", f": {inside}:", 1
        )


def test_the_lab_spelt_any_way_without_a_repeat_loads_as_the_lab() -> None:
    lab = decode_snapshots(LAB_TEXT.encode(), NAME)
    assert written_as(msgspec.json.decode(LAB_TEXT, type=Snapshot), LAB_TEXT.encode())
    for how in (
        Spelling(colon=": ", indent=2),
        Spelling(colon=" :", comma=" ,"),
        Spelling(escaped="-m"),
    ):
        assert decode_snapshots(spell(pairs_tree(LAB_TEXT), how).encode(), NAME) == lab
    assert len(decode_snapshots(_bundle(LAB_TEXT, LAB_TEXT).encode(), NAME)) == 2


def test_a_repeat_among_thousands_of_vms_is_found_in_any_piece(tmp_path: Path) -> None:
    snapshot = synthesize(SynthSpec(vms=2 * jsonfile._PIECE + 7, appliances=20, seed=5))
    text = encode_snapshot(snapshot)
    assert written_as(snapshot, text)
    moids = list(snapshot.vms)
    for moid in (moids[0], moids[jsonfile._PIECE], moids[-1]):
        entry = f'"{moid}":'.encode()
        start = text.index(b'"vms":{') + len(b'"vms":{')
        at = text.index(entry, start)
        # The VM repeated right after itself, in the same piece of the written collection.
        end = at + len(entry) + len(msgspec.json.encode(snapshot.vms[moid]))
        bad = text[:end] + b"," + text[at:end] + text[end:]
        assert outcome(functools.partial(decode_snapshots, bad, NAME)) == repeated("$.vms", moid)
    path = tmp_path / "big.json"
    path.write_bytes(text)
    assert run(["check", path, "-q", "--fail-on", "never"]).code == 0


@pytest.mark.parametrize("place", ["moid-keyed vms", "whitespace before the colon"])
def test_check_refuses_a_repeated_key_with_one_line(place: str, tmp_path: Path) -> None:
    text, where, key = PLACES[place]
    bad = tmp_path / "dup.json"
    bad.write_text(text)
    result = run(["check", bad])
    assert result.code == 2
    assert f'{where}: the key "{key}" appears twice' in one_error_line(result)
