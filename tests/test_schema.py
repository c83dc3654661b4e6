"""The published JSON Schema is generated from the model and kept current."""

from __future__ import annotations

import json

import jsonschema

from scalearc_lint.snapshot.schema import SCHEMA_PATH, render_schema
from tests.conftest import EXAMPLES


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "snapshot.schema.json is stale: run `python -m scalearc_lint.snapshot.schema`"
    )


def test_example_snapshot_is_valid_against_the_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(
        json.loads((EXAMPLES / "lab.json").read_text())
    )


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    data = json.loads((EXAMPLES / "lab.json").read_text())
    data["vms"]["vm-1"]["num_cpu"] = "four"
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    assert errors


def test_example_lab_is_generated_from_its_script() -> None:
    from examples.make_lab import build_lab
    from scalearc_lint.snapshot.loader import encode_snapshot

    assert (EXAMPLES / "lab.json").read_bytes() == encode_snapshot(build_lab())
