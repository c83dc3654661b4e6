"""The package's layers import only from the layers below them (an import contract)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scalearc_lint"
BASE = {"", "errors", "text"}
#: Each layer and the layers it may import from (besides itself and the base modules).
BELOW: dict[str, set[str]] = {
    "io": set(),
    "snapshot": {"io"},
    "engine": {"io", "snapshot"},
    "audit": {"io", "snapshot", "engine"},
    "change": {"io", "snapshot", "engine", "audit"},
    "reports": {"io", "snapshot", "engine", "audit", "change"},
    "exporter": {"io", "snapshot"},
    # apply's vSphere side: the exporter's connection and reads, and the writes per step kind.
    "vcenter": {"io", "snapshot", "engine", "audit", "change", "exporter"},
}


def _layer(module: str) -> str:
    """``scalearc_lint.engine.rule`` -> ``engine``; a top-level module is its own layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.split(".")[0] == "scalearc_lint"}


@pytest.mark.parametrize("layer", sorted(BELOW))
def test_layer_imports_only_from_layers_below(layer: str) -> None:
    allowed = BELOW[layer] | BASE | {layer}
    wrong = sorted(
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in (PACKAGE / layer).rglob("*.py")
        for name in _imports(path)
        if _layer(name) not in allowed
    )
    assert wrong == []


def test_base_modules_import_nothing_above_them() -> None:
    for name in ("errors", "text"):
        imported = {_layer(m) for m in _imports(PACKAGE / f"{name}.py")}
        assert imported <= BASE, name


def test_every_subpackage_is_placed_in_a_layer() -> None:
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert subpackages - {"commands"} == set(BELOW)
