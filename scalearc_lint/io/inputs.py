"""Read input files (snapshots, configs, waivers, plans, results) with one-line errors."""

from __future__ import annotations

from pathlib import Path

from scalearc_lint.errors import InputError


def read_input_file(path: str | Path, *, what: str) -> bytes:
    """Read a whole input file, raising InputError for missing, directory, unreadable or empty."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path}: is a directory, expected a {what} file")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise InputError(f"{path}: empty file, expected a JSON {what}")
    return data
