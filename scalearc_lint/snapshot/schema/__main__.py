"""``python -m scalearc_lint.snapshot.schema --write``: regenerate the committed snapshot schema."""

from __future__ import annotations

import argparse
import sys

from scalearc_lint.snapshot.schema import SCHEMA_PATH, render_schema


def main(argv: list[str] | None = None) -> int:
    """Print the schema, check the committed file (``--check``) or rewrite it (``--write``)."""
    parser = argparse.ArgumentParser(
        prog="python -m scalearc_lint.snapshot.schema",
        description="The snapshot's JSON Schema, generated from the typed model.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"rewrite {SCHEMA_PATH.name}")
    action.add_argument(
        "--check", action="store_true", help=f"exit 1 when {SCHEMA_PATH.name} is stale"
    )
    args = parser.parse_args(argv)
    rendered = render_schema()
    if args.write:
        SCHEMA_PATH.write_text(rendered, encoding="utf-8")
        print(f"wrote {SCHEMA_PATH}")
    elif args.check:
        if SCHEMA_PATH.read_text(encoding="utf-8") != rendered:
            print(f"{SCHEMA_PATH} is stale: run python -m scalearc_lint.snapshot.schema --write")
            return 1
    else:
        sys.stdout.write(rendered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
