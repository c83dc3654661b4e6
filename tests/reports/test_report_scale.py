"""100,000 results: the HTML report stays small and works in a real Chromium.

Behaviour only: it loads without errors, and its "Act now" list, filters, rule selection,
search and appliance list give exactly what the results document holds. How fast is
measured by ``benchmarks/report_load.py``; the timeouts here are generous limits for a
hung page, not a speed target, so a loaded machine cannot fail them.
"""

from __future__ import annotations

from pathlib import Path

from scalearc_lint.engine.rule import Status
from scalearc_lint.reports import html
from scalearc_lint.snapshot.synth import SynthSpec, synthesize
from tests.reports.conftest import OpenedReport, ReportOpener
from tests.reports.reportkit import lint

#: Long enough for a 2-core machine under any load we have seen many times over.
HUNG_MS = 300_000
QUERY = "sa-pair-01234-a"


def match_count(report: OpenedReport) -> str:
    """The report's own count line, e.g. ``12 of 100400 results match``."""
    return report.page.inner_text("#match-count")


def test_100k_results_load_filter_and_search_in_chromium(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    linted = lint(synthesize(SynthSpec(vms=12_000, appliances=11_500)), tmp_path)
    results = linted.document.results
    total = len(results)
    assert total >= 100_000
    path = tmp_path / "report.html"
    path.write_bytes(html.render(linted.document, linted.inventories))
    assert path.stat().st_size < 15e6

    report = open_report(path, timeout_ms=HUNG_MS)
    page = report.page
    failing = sum(r.status is Status.FAIL for r in results)
    assert page.locator("#act-now li.action").count() == min(failing, html.ACT_NOW_SHOWN)
    not_passing = sum(r.status != Status.PASS for r in results)
    assert match_count(report) == f"{not_passing} of {total} results match"

    report.after_change(lambda: page.check("#filters input[name=status][value=pass]"), HUNG_MS)
    assert match_count(report) == f"{total} of {total} results match"

    sa004 = sum(r.rule == "SA004" for r in results)
    report.after_change(lambda: page.select_option("#rule-filter", "SA004"), HUNG_MS)
    assert match_count(report) == f"{sa004} of {total} results match"

    report.after_change(lambda: page.select_option("#rule-filter", ""), HUNG_MS)
    report.after_change(lambda: page.fill("#search", QUERY), HUNG_MS)
    expected = [
        r
        for r in results
        if any(QUERY in text.lower() for text in (r.object.name, r.object.id, r.message))
    ]
    assert expected
    assert match_count(report) == f"{len(expected)} of {total} results match"
    rows = report.visible_rows()
    assert rows and all(QUERY in " ".join(row).lower() for row in rows)
    # The appliance list holds every appliance and pair, a page of them drawn.
    inventory = linted.inventories[0]
    count = page.inner_text("#appliance-count")
    # And the vCenter, which has a result of its own (ID001).
    assert count.startswith(f"{len(inventory.appliances) + len(inventory.pairs) + 1} of")
    assert report.errors == []
