"""HTML report benchmark: 100,000 results rendered, then loaded and filtered in Chromium.

Lints a deterministic synthetic inventory (12,000 VMs, 11,500 of them appliances, which
gives about 102,000 results), renders the HTML report, and opens it ``--repeat`` times
in Debian's Chromium (headless, through Playwright), each time in a fresh page:

  load     from navigation until the report's script has drawn every table;
  show all checking "pass" (every result then matches the filters);
  search   typing an appliance's name into the search box.

Medians are printed with the report's size and the time to render it. The tests check
that such a report works and stays bounded in size (tests/reports/test_report_scale.py);
how fast it is belongs here, away from the shared machines the tests run on.

    .venv/bin/python benchmarks/report_load.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scalearc_lint.reports import html  # noqa: E402
from scalearc_lint.snapshot.synth import SynthSpec, synthesize  # noqa: E402
from tests.reports.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.reports.reportkit import lint  # noqa: E402

SEARCHED = "sa-pair-01234-a"


def applied(page: Page) -> int:
    """How many times the report's script has applied the filters."""
    return int(page.evaluate("Number(document.body.dataset.applied || 0)"))


def timed_change(page: Page, action: object) -> float:
    """Seconds from ``action`` until the script has applied the filters again."""
    before = applied(page)
    started = time.perf_counter()
    action()  # type: ignore[operator]
    page.wait_for_function(
        "before => Number(document.body.dataset.applied || 0) > before",
        arg=before,
        timeout=120_000,
    )
    return time.perf_counter() - started


def main() -> int:
    """Render, open, filter; print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="page loads (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        linted = lint(synthesize(SynthSpec(vms=12_000, appliances=11_500)), Path(tmp))
        path = Path(tmp) / "report.html"
        started = time.perf_counter()
        path.write_bytes(html.render(linted.document, linted.inventories))
        render_s = time.perf_counter() - started
        timings: dict[str, list[float]] = {"load": [], "show all": [], "search": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(args.repeat):
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                started = time.perf_counter()
                page.goto(path.as_uri())
                page.wait_for_selector("body[data-ready='1']", state="attached", timeout=120_000)
                timings["load"].append(time.perf_counter() - started)
                timings["show all"].append(
                    timed_change(
                        page, lambda p=page: p.check("#filters input[name=status][value=pass]")
                    )
                )
                timings["search"].append(
                    timed_change(page, lambda p=page: p.fill("#search", SEARCHED))
                )
                page.close()
            browser.close()
        results = len(linted.document.results)
        size_mb = path.stat().st_size / 1e6
    medians = ", ".join(f"{name} {statistics.median(v):.2f} s" for name, v in timings.items())
    print(
        f"{results} results, {size_mb:.1f} MB, render {render_s:.2f} s; medians of "
        f"{args.repeat}: {medians}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
