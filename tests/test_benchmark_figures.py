"""The README and docs/benchmarks.md show the same benchmark figures, from one run."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.conftest import REPO


def benchmark_script() -> ModuleType:
    """benchmarks/run.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_readme_and_benchmark_doc_show_the_same_figures_of_one_full_run() -> None:
    run = benchmark_script()
    sections = {}
    for name in run.FIGURE_DOCS:
        text = (REPO / name).read_text(encoding="utf-8")
        assert text.count(run.FIGURES_START) == 1, f"{name}: no figures section"
        assert text.count(run.FIGURES_END) == 1, f"{name}: figures section not closed"
        sections[name] = text.split(run.FIGURES_START)[1].split(run.FIGURES_END)[0]
    readme, doc = sections.values()
    assert readme == doc, "edit neither by hand: run benchmarks/run.py --write-docs"
    for part in ("| 150,000 |", "json.load", "full export", "headless Chromium", "Measured"):
        assert part in readme, f"the figures lack {part!r}: run benchmarks/run.py --write-docs"
