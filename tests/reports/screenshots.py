"""The report's pictures in docs/: the HTML report of examples/lab.json in Debian's Chromium.

Regenerate both after changing the report (from the repository root, after the set-up in
README.md)::

    .venv/bin/python -m tests.reports.screenshots

``docs/report.png`` is a laptop's first screen (1400 x 1100), ``docs/report-mobile.png``
a phone's (390 x 844 CSS pixels at device scale 2). The browser tests call
:func:`take_screenshots` too, so the pictures cannot silently stop being producible.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from scalearc_lint.cli import main as scalearc_lint
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS
from tests.reports.conftest import DESKTOP

REPO = Path(__file__).resolve().parents[2]
#: File name -> (viewport width, height, device scale factor).
SCREENS = {
    "report.png": (*DESKTOP, 1),
    "report-mobile.png": (390, 844, 2),
}


def lab_report(directory: Path) -> Path:
    """``check examples/lab.json --html``, as the README shows it."""
    path = directory / "report.html"
    argv = ["check", str(REPO / "examples" / "lab.json"), "--html", str(path), "-q"]
    with contextlib.redirect_stdout(io.StringIO()):  # the console table is not wanted here
        code = scalearc_lint(argv)
    if code != 1:  # the example fails every rule somewhere
        raise RuntimeError(f"check examples/lab.json exited {code}, expected 1")
    return path


def take_screenshots(browser: Browser, report: Path, directory: Path) -> list[Path]:
    """Screenshots of ``report`` as :data:`SCREENS` says, written to ``directory``."""
    written = []
    for name, (width, height, scale) in SCREENS.items():
        context = browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=scale
        )
        try:
            page = context.new_page()
            page.goto(report.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", state="attached")
            target = directory / name
            page.screenshot(path=str(target))
            written.append(target)
        finally:
            context.close()
    return written


def main() -> int:
    """Write docs/report.png and docs/report-mobile.png."""
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for path in take_screenshots(browser, lab_report(Path(tmp)), REPO / "docs"):
                print(path.relative_to(REPO))
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
