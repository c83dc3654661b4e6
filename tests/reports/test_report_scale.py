"""100,000 results: the HTML report stays small enough and fast in a real Chromium."""

from __future__ import annotations

import time
from pathlib import Path

from scalearc_lint.reports import html
from scalearc_lint.snapshot.synth import SynthSpec, synthesize
from tests.reports.conftest import ReportOpener
from tests.reports.reportkit import lint

#: The issue asks for "a few seconds"; measured on the 2-core CI machine it is well under.
BOUND_S = 5.0


def test_100k_results_load_and_filter_in_chromium_within_bounds(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    linted = lint(synthesize(SynthSpec(vms=12_000, appliances=11_500)), tmp_path)
    assert len(linted.document.results) >= 100_000
    path = tmp_path / "report.html"
    started = time.perf_counter()
    path.write_bytes(html.render(linted.document, linted.inventories))
    render_s = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6

    started = time.perf_counter()
    report = open_report(path, timeout_ms=60_000)
    load_s = time.perf_counter() - started

    page = report.page
    started = time.perf_counter()
    report.after_change(lambda: page.check("#filters input[name=status][value=pass]"), 60_000)
    show_all_s = time.perf_counter() - started
    shown_all = page.inner_text("#match-count")

    started = time.perf_counter()
    report.after_change(lambda: page.fill("#search", "sa-pair-01234-a"), 60_000)
    search_s = time.perf_counter() - started
    rows = report.visible_rows()

    print(
        f"\n100k report: {len(linted.document.results)} results, {size_mb:.1f} MB, "
        f"render {render_s:.2f} s, load {load_s:.2f} s, show all {show_all_s:.2f} s, "
        f"search {search_s:.2f} s"
    )
    assert shown_all.startswith(f"{len(linted.document.results)} of")
    assert rows and all("sa-pair-01234-a" in row[2] + row[4] for row in rows)
    assert size_mb < 15, size_mb
    assert load_s < BOUND_S, load_s
    assert show_all_s < BOUND_S, show_all_s
    assert search_s < BOUND_S, search_s
    assert report.errors == []
