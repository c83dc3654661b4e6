"""100,000 results: the HTML report stays small enough and works in a real Chromium.

How fast it loads and filters is measured by ``benchmarks/report_load.py``, not asserted
here: the tests run on shared, noisy machines (the timeouts below only stop a hang).
"""

from __future__ import annotations

from pathlib import Path

from scalearc_lint.engine.rule import Status
from scalearc_lint.reports import html
from scalearc_lint.snapshot.synth import SynthSpec, synthesize
from tests.reports.conftest import ReportOpener
from tests.reports.reportkit import lint

HANG_MS = 120_000


def test_100k_results_load_filter_and_stay_bounded_in_chromium(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    linted = lint(synthesize(SynthSpec(vms=12_000, appliances=11_500)), tmp_path)
    results = linted.document.results
    assert len(results) >= 100_000
    path = tmp_path / "report.html"
    path.write_bytes(html.render(linted.document, linted.inventories))
    size_mb = path.stat().st_size / 1e6
    assert size_mb < 15, size_mb

    report = open_report(path, timeout_ms=HANG_MS)
    page = report.page
    failing = sum(r.status is Status.FAIL for r in results)
    assert page.locator("#act-now li.action").count() == min(failing, html.ACT_NOW_SHOWN)
    report.after_change(lambda: page.check("#filters input[name=status][value=pass]"), HANG_MS)
    assert page.inner_text("#match-count").startswith(f"{len(results)} of")
    report.after_change(lambda: page.fill("#search", "sa-pair-01234-a"), HANG_MS)
    rows = report.visible_rows()
    assert rows and all("sa-pair-01234-a" in row[2] + row[4] for row in rows)
    # The appliance list holds every appliance and pair, a page of them drawn.
    count = page.inner_text("#appliance-count")
    assert count.startswith(
        f"{len(linted.inventories[0].appliances) + len(linted.inventories[0].pairs)} of"
    )
    assert report.errors == []
