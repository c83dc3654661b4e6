"""Regenerate the committed snapshot schema: ``python -m scalearc_lint.snapshot.schema``."""

from scalearc_lint.snapshot.schema import SCHEMA_PATH, render_schema

SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
print(f"wrote {SCHEMA_PATH}")
