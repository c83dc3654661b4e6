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

What it needs and cannot find (the project's packages, Chromium) it names in one line,
exit 2; ``--preflight`` only checks that.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def fail(message: str) -> NoReturn:
    """One line on stderr and exit 2."""
    print(f"benchmarks/report_load.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


try:
    from playwright.sync_api import Page, sync_playwright

    from scalearc_lint.reports import html
    from scalearc_lint.snapshot.synth import SynthSpec, synthesize
    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS
    from tests.reports.reportkit import lint
except ImportError as error:
    fail(
        f"{error.name} is not installed for {sys.executable}: run it with the project's venv "
        "(test extras), .venv/bin/python benchmarks/report_load.py"
    )

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
    parser.add_argument("--preflight", action="store_true", help="only check, then exit 0")
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        fail(f"{CHROMIUM} not found: apt-get install chromium (or set SCALEARC_LINT_CHROMIUM)")
    if args.preflight:
        print("benchmarks/report_load.py: ready", file=sys.stderr)
        return 0
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
