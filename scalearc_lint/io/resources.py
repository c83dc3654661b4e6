"""Where the built-in rules and report templates are: inside the installed wheel, or the clone."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_REPO = _PACKAGE.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def builtin_rules_dir() -> Path:
    """The directory of the built-in rule modules."""
    return _first_existing(_PACKAGE / "_builtin" / "rules", _REPO / "rules")


def templates_dir() -> Path:
    """The directory of the Jinja2 report templates."""
    return _first_existing(_PACKAGE / "_builtin" / "templates", _REPO / "reports" / "templates")
