"""Benchmark: the HTML report of 100,000+ results in Debian's headless Chromium.

    .venv/bin/python benchmarks/report_browser.py [--rounds 3]

Lints a synthetic inventory of 12,000 VMs of which 11,500 are appliances (about 102,000
results), renders the report, and times in Chromium (driven by Playwright, as the tests
do): loading until the report's script is ready, showing every result (ticking "pass"),
and a search for one pair. Prints the best of each over the rounds. What it needs and
cannot find it names in one line, exit 2. The browser tests check the same page's
behaviour without a clock.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
APPLIED = "before => Number(document.body.dataset.applied || 0) > before"


def fail(message: str) -> NoReturn:
    """One line on stderr and exit 2."""
    print(f"benchmarks/report_browser.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


try:
    from playwright.sync_api import Page, sync_playwright

    from scalearc_lint.commands.run import inventories, load_inputs, run
    from scalearc_lint.reports import html
    from scalearc_lint.snapshot.loader import encode_snapshot
    from scalearc_lint.snapshot.synth import SynthSpec, synthesize
    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS
except ImportError as error:
    fail(
        f"{error.name} is not installed for {sys.executable}: run it with the project's venv "
        "with the test extras, .venv/bin/python benchmarks/report_browser.py"
    )


def timed_change(page: Page, action: str, *args: str) -> float:
    """Seconds from a filter change until the report's script has applied it."""
    before = page.evaluate("Number(document.body.dataset.applied || 0)")
    started = time.perf_counter()
    getattr(page, action)(*args)
    page.wait_for_function(APPLIED, arg=before, timeout=600_000)
    return time.perf_counter() - started


def main() -> None:
    """Build the report, open it ``--rounds`` times, print the best times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--preflight", action="store_true", help="only check, then exit 0")
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        fail(f"{CHROMIUM} not found: apt-get install chromium (or set SCALEARC_LINT_CHROMIUM)")
    if args.preflight:
        print("benchmarks/report_browser.py: ready", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / "snapshot.json"
        snapshot.write_bytes(encode_snapshot(synthesize(SynthSpec(vms=12_000, appliances=11_500))))
        inputs = load_inputs([snapshot])
        invs = inventories(inputs)
        document = run(inputs, invs)
        report = Path(tmp) / "report.html"
        started = time.perf_counter()
        report.write_bytes(html.render(document, invs))
        render_s = time.perf_counter() - started
        times: dict[str, list[float]] = {"load": [], "show all": [], "search": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(args.rounds):
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                started = time.perf_counter()
                page.goto(report.as_uri(), timeout=600_000)
                page.wait_for_selector("body[data-ready='1']", state="attached", timeout=600_000)
                times["load"].append(time.perf_counter() - started)
                box = "#filters input[name=status][value=pass]"
                times["show all"].append(timed_change(page, "check", box))
                times["search"].append(timed_change(page, "fill", "#search", "sa-pair-01234-a"))
                page.close()
            browser.close()
        size_mb = report.stat().st_size / 1e6
    best = {name: min(values) for name, values in times.items()}
    print(f"results: {len(document.results):,}; report: {size_mb:.1f} MB; render {render_s:.2f} s")
    print(
        f"Chromium (best of {args.rounds}): load {best['load']:.2f} s, "
        f"show all {best['show all']:.2f} s, search {best['search']:.2f} s"
    )


if __name__ == "__main__":
    main()
