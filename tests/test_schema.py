"""The published JSON Schema is generated from the model and kept current."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from scalearc_lint.snapshot.schema import SCHEMA_PATH, _normalised, render_schema
from tests.conftest import EXAMPLES


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "snapshot.schema.json is stale: run `python -m scalearc_lint.snapshot.schema --write`"
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


def test_descriptions_are_dedented_whatever_msgspec_gives() -> None:
    indented = {"description": "First line.\n\n    ``live`` is True.\n    Or None."}
    stripped = {"description": "First line.\n\n``live`` is True.\nOr None."}
    assert _normalised({"$defs": {"E": indented}}) == _normalised({"$defs": {"E": stripped}})
    assert _normalised([indented]) == [stripped]


@pytest.mark.parametrize("argv", [["--help"], [], ["--check"]])
def test_schema_module_writes_only_when_told(argv: list[str]) -> None:
    before = SCHEMA_PATH.stat().st_mtime_ns, SCHEMA_PATH.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "scalearc_lint.snapshot.schema", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (SCHEMA_PATH.stat().st_mtime_ns, SCHEMA_PATH.read_bytes()) == before
    if not argv:
        assert json.loads(done.stdout)["title"].startswith("scalearc-lint snapshot")
