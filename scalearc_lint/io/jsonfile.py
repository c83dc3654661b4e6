"""Checks on JSON input that msgspec does not make: duplicate keys and nesting depth.

msgspec keeps the last of two equal keys in an object silently (``{"vm-1": A,
"vm-1": B}`` loses A: a failing appliance could vanish from the run), so every JSON
input is also scanned once by the standard library's C scanner, which reports each
object's keys in order. Only keys are compared; values are thrown away as they come.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scalearc_lint.errors import InputError


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
