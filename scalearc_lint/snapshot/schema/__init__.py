"""The published JSON Schema of the snapshot, generated from the typed model."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import msgspec

from scalearc_lint.snapshot.model import SCHEMA_VERSION, Snapshot, SnapshotBundle

SCHEMA_PATH = Path(__file__).with_name("snapshot.schema.json")


def snapshot_json_schema() -> dict[str, Any]:
    """Build the snapshot's JSON Schema (draft 2020-12) from the model classes.

    A snapshot file holds one vCenter's :class:`Snapshot`, or a :class:`SnapshotBundle`
    of several (``export --merge``).
    """
    (one, bundle), components = msgspec.json.schema_components(
        (Snapshot, SnapshotBundle), ref_template="#/$defs/{name}"
    )
    schema: dict[str, Any] = _normalised(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://scalearc-lint.invalid/schema/snapshot-v{SCHEMA_VERSION}.json",
            "title": f"scalearc-lint snapshot, schema version {SCHEMA_VERSION}",
            "oneOf": [one, bundle],
            "$defs": components,
        }
    )
    return schema


def _normalised(node: Any) -> Any:
    """Descriptions dedented the one way, whatever msgspec release took them from docstrings.

    msgspec 0.18 kept a docstring's indentation and 0.23 strips it; the published schema
    must not change with a dependency's patch release.
    """
    if isinstance(node, dict):
        return {
            key: inspect.cleandoc(value)
            if key == "description" and isinstance(value, str)
            else _normalised(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_normalised(item) for item in node]
    return node


def render_schema() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(snapshot_json_schema(), indent=2, sort_keys=True) + "\n"
