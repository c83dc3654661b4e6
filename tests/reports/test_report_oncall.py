"""The report as the administrator on call reads it, in a real headless Chromium: what to do
first, each appliance with all its findings, on a phone and on a wide screen, by keyboard,
and with no serious accessibility fault (axe-core)."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page

from scalearc_lint.cli import main as scalearc_lint
from tests.reports.conftest import OpenedReport, ReportOpener
from tests.reports.reportkit import EXAMPLE_ACT_NOW
from tests.reports.screenshots import lab_report, take_screenshots

REPO = Path(__file__).resolve().parents[2]
PHONE = (390, 844)
WIDE = (1920, 1080)
#: axe-core from the npm registry, installed by .ci/run (SCALEARC_LINT_AXE overrides).
AXE = Path(
    os.environ.get("SCALEARC_LINT_AXE")
    or REPO / ".cache" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
)


@pytest.fixture(scope="module")
def example_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of examples/lab.json, written by ``check`` as a user would."""
    return lab_report(tmp_path_factory.mktemp("oncall"))


def act_now(page: Page) -> list[dict[str, str]]:
    """Each "Act now" entry: the object it is about, its first finding and its next step."""
    entries: list[dict[str, str]] = page.evaluate(
        """() => Array.from(document.querySelectorAll('#act-now li.action')).map(li => ({
            object: li.querySelector('a.object').textContent,
            urgency: li.querySelector('.urgency').textContent,
            rule: li.querySelector('.what .rule-id').textContent,
            next: (li.querySelector('.next') || {}).textContent || '',
            href: li.querySelector('a.object').getAttribute('href'),
        }))"""
    )
    return entries


def test_act_now_comes_first_and_ranks_the_example_lab(
    example_report: Path, open_report: ReportOpener
) -> None:
    report = open_report(example_report)
    page = report.page
    first = page.evaluate("() => document.querySelector('main > section').id")
    assert first == "act-now"
    entries = act_now(page)
    assert [(e["object"], e["rule"], e["urgency"]) for e in entries] == EXAMPLE_ACT_NOW
    assert entries[0]["next"].startswith("Next step: Check sa-billing-01 and its database")
    assert "Move the secondary sa-billing-02 to a host other than esx03" in entries[3]["next"]
    first_entry = page.inner_text("#act-now li.action >> nth=0")
    # The move: where from, where to (as far as the event says), how long ago.
    assert "(3 days ago): moved from esx02.corp.example to esx03.corp.example" in first_entry
    assert (
        "Also failing here: SA012 error, SA016 error, SA006 error, SA014 error, SA003 error, "
        "SA013 warning, SA007 warning" in first_entry
    )
    # The first screen holds "Act now" (the header above it stays short).
    top = page.evaluate("() => document.querySelector('#act-now li.action').offsetTop")
    assert top < 1100
    assert report.errors == []


def dossier(page: Page) -> dict[str, Any]:
    """The appliance view as shown: heading, facts, events and each findings table."""
    shown: dict[str, Any] = page.evaluate(
        """() => {
            const d = document.querySelector('#dossier');
            if (d.hidden) return null;
            const facts = {};
            d.querySelectorAll('.facts > div').forEach(div => {
                const key = div.querySelector('dt').textContent;
                facts[key] = (facts[key] ? facts[key] + ' | ' : '') +
                    div.querySelector('dd').textContent;
            });
            const tables = Array.from(d.querySelectorAll('h4')).map(h => ({
                title: h.textContent,
                rows: (h.nextElementSibling && h.nextElementSibling.tagName === 'TABLE')
                    ? Array.from(h.nextElementSibling.tBodies[0].rows).map(
                        tr => Array.from(tr.cells).map(td => td.textContent))
                    : [],
            }));
            return {
                heading: d.querySelector('h3').textContent,
                focused: document.activeElement === d.querySelector('h3'),
                facts: facts,
                tables: tables,
                place: (d.querySelector('.act-place') || {}).textContent || '',
            };
        }"""
    )
    return shown


def open_view(report: OpenedReport, action: Callable[[], object]) -> dict[str, Any]:
    """Run ``action`` (a click, a key) and return the appliance view it opens."""
    before = report.page.evaluate("Number(document.body.dataset.shown || 0)")
    action()
    report.page.wait_for_function(
        "before => Number(document.body.dataset.shown || 0) > before", arg=before
    )
    return dossier(report.page)


def test_each_appliance_shows_its_context_and_all_its_findings_together(
    example_report: Path, open_report: ReportOpener
) -> None:
    report = open_report(example_report)
    page = report.page
    view = open_view(report, lambda: page.click("#act-now li.action >> nth=0 >> a.object"))
    assert view["heading"] == "vm sa-billing-01"
    assert view["focused"]
    assert view["place"] == "Number 1 in Act now"
    assert view["facts"] == {
        "role": "primary",
        "HA pair": "billing",
        "partner": "sa-billing-02 (secondary, esx03.corp.example)",
        "host": "esx03.corp.example",
        "cluster": "Prod-Cluster-A",
        "pool": "ScaleArc-Billing",
        "vCenter": "vcsa01.corp.example",
        "id": "vm-3",
    }
    titles = [t["title"] for t in view["tables"]]
    assert titles == ["Events", "Results (13)", "Results of its HA pair billing (3)"]
    own = view["tables"][1]["rows"]
    # Every rule's result on this VM, failures first and errors before warnings.
    assert [(row[0], row[1], row[2].split()[0]) for row in own[:8]] == [
        ("fail", "error", "SA003"),
        ("fail", "error", "SA006"),
        ("fail", "error", "SA009"),
        ("fail", "error", "SA012"),
        ("fail", "error", "SA014"),
        ("fail", "error", "SA016"),
        ("fail", "warning", "SA007"),
        ("fail", "warning", "SA013"),
    ]
    assert {row[0] for row in own[8:]} == {"pass"}
    assert (
        "Next step: Cluster Prod-Cluster-A > Configure > VM Overrides > Add: select" in (own[1][3])
    )
    pair_rows = view["tables"][2]["rows"]
    assert [(row[0], row[2].split()[0]) for row in pair_rows] == [
        ("fail", "SA004"),
        ("fail", "SA005"),
        ("pass", "SA011"),
    ]
    assert report.errors == []


def test_the_view_is_linked_from_placement_rows_and_pairs(
    example_report: Path, open_report: ReportOpener
) -> None:
    report = open_report(example_report)
    page = report.page
    # From the placement view.
    view = open_view(report, lambda: page.click("#placement a.card[data-q='sa-reports-01']"))
    assert view["heading"] == "vm sa-reports-01"
    assert view["facts"]["role"] == "standalone"
    events = next(t for t in view["tables"] if t["title"] == "Events")
    assert events is not None
    text = page.inner_text("#dossier .events")
    assert "VmRelocatedEvent at 2026-11-12T02:00:00+00:00 (12 days ago): moved from " in text
    # From a result row of the rule tables.
    view = open_view(report, lambda: page.click("#rule-SA004 tbody a.object"))
    assert view["heading"] == "ha-pair billing"
    assert view["facts"]["member"] == (
        "sa-billing-01 (primary, esx03.corp.example) | "
        "sa-billing-02 (secondary, esx03.corp.example)"
    )
    assert [t["title"] for t in view["tables"]] == [
        "Results (3)",
        "Results of vm sa-billing-01 (13)",
        "Results of vm sa-billing-02 (12)",
    ]
    # From the list of appliances, which keeps "Act now" order.
    listed = page.eval_on_selector_all(
        "#appliance-list tbody tr td:first-child", "cells => cells.map(c => c.textContent)"
    )
    assert listed[: len(EXAMPLE_ACT_NOW)] == [label for label, _, _ in EXAMPLE_ACT_NOW]
    assert sorted(listed[len(EXAMPLE_ACT_NOW) :]) == [
        "ha-pair orders",
        "ha-pair search",
        "vcenter vcsa01.corp.example",  # its ID001 result
        "vm sa-orders-01",
        "vm sa-orders-02",
    ]
    assert report.errors == []


def test_migration_findings_show_where_from_and_to_in_the_rule_table(
    example_report: Path, open_report: ReportOpener
) -> None:
    report = open_report(example_report)
    rows = {row[2]: row for row in report.visible_rows("#rule-SA009")}
    moved = rows["vm sa-billing-01"][4]
    assert "DrsVmMigratedEvent at 2026-11-21T02:00:00+00:00 (3 days ago): moved from " in moved
    assert "esx02.corp.example to esx03.corp.example" in moved
    # The encrypted vMotion shows both events of its chain, with where from and to.
    assert (
        "com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent at 2026-11-22T01:58:00+00:00 "
        "(2 days ago): moved from esx08.corp.example to esx07.corp.example"
    ) in rows["vm sa-search-01"][4]
    # Rules not about events do not show them.
    assert "moved from" not in report.visible_rows("#rule-SA006")[0][4]


def test_each_failure_shows_the_step_fix_would_write_labelled_unproven(
    example_report: Path, open_report: ReportOpener, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.yaml"
    with contextlib.redirect_stdout(io.StringIO()):
        assert scalearc_lint(["fix", str(REPO / "examples" / "lab.json"), "-o", str(plan)]) == 0
    steps = yaml.safe_load(plan.read_text())["steps"]
    number = next(i for i, s in enumerate(steps, 1) if s.get("set_mac") == "sa-billing-02")
    written = steps[number - 1]
    report = open_report(example_report)
    label = "Fix step (suggested, not yet proven): "
    row = {r[2]: r for r in report.visible_rows("#rule-SA001")}["vm sa-billing-02"][4]
    # The suggestion is the step fix writes, at its place in the plan.
    assert (
        f"{label}step {number}/{len(steps)}: set_mac sa-billing-02 (nic {written['nic']}, "
        f"mac {written['mac']})"
    ) in row
    assert "Next step: Power sa-billing-02 off, set each network adapter's MAC" in row
    # History has no fix step, and says why; prevention is labelled as such.
    reverted = report.visible_rows("#rule-SA010")[0][4]
    assert label not in reverted and "(no fix step: history:" in reverted
    entries = act_now(report.page)
    first = report.page.inner_text("#act-now li.action >> nth=0")
    # SA009's prevention is the DRS override of the VM it names (after SA014's limit).
    override = next(i for i, s in enumerate(steps, 1) if s.get("drs_override") == "sa-billing-01")
    assert entries[0]["rule"] == "SA009" and "sa-billing-01" in first
    assert f"{label}step {override}/{len(steps)}: drs_override sa-billing-01" in first
    assert "which prevents a repeat" in first
    assert report.errors == []


def test_placement_shows_status_and_shared_host_in_words_not_only_colour(
    example_report: Path, open_report: ReportOpener
) -> None:
    page = open_report(example_report).page
    cards = page.eval_on_selector_all(
        "#placement a.card",
        """cards => cards.map(c => [c.dataset.q, c.querySelector('.card-status').textContent,
            getComputedStyle(c.querySelector('.card-status'), '::before').content,
            c.textContent.includes('shares host')])""",
    )
    by_name = {name: (status, icon, shares) for name, status, icon, shares in cards}
    assert by_name["sa-billing-01"][0] == "fail" and by_name["sa-billing-01"][2] is True
    assert by_name["sa-orders-01"][0] == "pass" and by_name["sa-orders-01"][2] is False
    # An icon before the word as well (hidden from screen readers, which read the word).
    icons = {status: icon for status, icon, _ in by_name.values()}
    assert "✗" in icons["fail"] and "✓" in icons["pass"]
    assert "⚠ pair on one host" in page.inner_text("#placement .host.has-shared .host-name")


# -- any screen ------------------------------------------------------------------------

LAYOUT_PROBLEMS = """() => {
    const width = document.documentElement.clientWidth;
    const word = /[\\p{L}\\p{N}]+/gu;
    const broken = [];
    document.querySelectorAll('td, th').forEach(cell => {
        if (!cell.getClientRects().length) return;
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.textContent.matchAll(word)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const lines = new Set(Array.from(range.getClientRects())
                    .filter(r => r.width > 0).map(r => Math.round(r.bottom)));
                if (lines.size > 1) broken.push(match[0] + ' in ' + cell.textContent);
            }
        }
    });
    const overflowing = [];
    document.body.querySelectorAll('*').forEach(el => {
        const box = el.getBoundingClientRect();
        if (!box.width && !box.height) return;
        if (box.right > width + 0.5 || box.left < -0.5) {
            overflowing.push(el.tagName + '.' + el.className + ' ' + Math.round(box.right));
        }
    });
    return {broken: broken, overflowing: overflowing,
            scrollWidth: document.documentElement.scrollWidth, width: width,
            cells: document.querySelectorAll('td').length,
            results: document.querySelector('#results').getBoundingClientRect().width};
}"""


def everything_shown(report: OpenedReport) -> None:
    """Every result row, the appliance list and an appliance's view on the page at once."""
    page = report.page
    report.after_change(lambda: page.check("#filters input[name=status][value=pass]"))
    open_view(report, lambda: page.click("#act-now li.action >> nth=0 >> a.object"))


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390px", "1920px"])
def test_no_cell_breaks_inside_a_word_and_nothing_overflows(
    example_report: Path, open_report: ReportOpener, viewport: tuple[int, int]
) -> None:
    report = open_report(example_report, viewport=viewport)
    everything_shown(report)
    layout = report.page.evaluate(LAYOUT_PROBLEMS)
    assert layout["cells"] > 52 * 5  # every result's cells, and the view's and list's
    assert layout["broken"] == []
    assert layout["overflowing"] == []
    assert layout["scrollWidth"] <= layout["width"]
    if viewport == WIDE:
        # A wide screen is used: messages are not squeezed into a narrow column.
        assert layout["results"] > 1800, layout["results"]
    assert report.errors == []


def test_phone_filters_stay_inside_the_card(
    example_report: Path, open_report: ReportOpener
) -> None:
    page = open_report(example_report, viewport=PHONE).page
    card = page.locator("#results").bounding_box()
    assert card is not None
    for selector in ("#search", "#rule-filter", "#filters fieldset >> nth=0", "#match-count"):
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"], (
            selector
        )


# -- keyboard and assistive technology -------------------------------------------------


def focused(page: Page) -> str:
    selector: str = page.evaluate(
        """() => { const el = document.activeElement;
            return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.name ? '[name=' + el.name + ']' : '') +
                (el.value && el.type === 'checkbox' ? '[value=' + el.value + ']' : ''); }"""
    )
    return selector


def tab_to(page: Page, target: str, limit: int = 400) -> None:
    """Press Tab until ``target`` (as :func:`focused` names it) has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page) == target:
            return
    raise AssertionError(f"Tab never reached {target}")


def test_filters_work_from_the_keyboard(example_report: Path, open_report: ReportOpener) -> None:
    report = open_report(example_report)
    page = report.page
    rows_before = len(report.visible_rows())
    tab_to(page, "input[name=status][value=pass]")
    report.after_change(lambda: page.keyboard.press("Space"))
    assert page.is_checked("#filters input[name=status][value=pass]")
    assert len(report.visible_rows()) > rows_before
    tab_to(page, "input[name=severity][value=error]")
    report.after_change(lambda: page.keyboard.press("Space"))
    assert {row[1] for row in report.visible_rows()} == {"warning"}
    report.after_change(lambda: page.keyboard.press("Space"))
    tab_to(page, "select#rule-filter[name=rule]")
    report.after_change(lambda: page.keyboard.press("ArrowDown"))
    assert page.input_value("#rule-filter") == "ID001"  # the first rule, by id
    assert page.locator("article.rule:visible").count() == 1
    report.after_change(lambda: page.keyboard.press("ArrowUp"))
    tab_to(page, "input#search[name=q]")
    report.after_change(lambda: page.keyboard.type("sa-old-02"))
    rows = report.visible_rows()
    assert rows and all("sa-old-02" in row[2] + row[4] for row in rows)
    assert report.errors == []


def test_an_appliance_opens_from_the_keyboard(
    example_report: Path, open_report: ReportOpener
) -> None:
    report = open_report(example_report)
    page = report.page
    page.focus("#placement a.card[data-q='sa-orders-02']")
    view = open_view(report, lambda: page.keyboard.press("Enter"))
    assert view["heading"] == "vm sa-orders-02"
    assert view["focused"]  # the view's heading takes the focus, for screen readers too


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now."""
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} not found: run .ci/run (it installs axe-core from the npm registry) or "
            "point SCALEARC_LINT_AXE at axe.min.js",
            pytrace=False,
        )
    # Evaluated by the browser's debugger protocol: the report's CSP, which rightly
    # forbids any script but its own, does not apply to it.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return violations


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390px", "1920px"])
def test_axe_finds_no_serious_or_critical_violation(
    example_report: Path, open_report: ReportOpener, viewport: tuple[int, int]
) -> None:
    report = open_report(example_report, viewport=viewport)
    everything_shown(report)
    violations = axe_violations(report.page)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []


def test_screenshots_for_the_docs_can_be_taken(
    example_report: Path, browser: Browser, tmp_path: Path
) -> None:
    """The helper that regenerates docs/report.png and docs/report-mobile.png works."""
    written = take_screenshots(browser, example_report, tmp_path)
    assert [p.name for p in written] == ["report.png", "report-mobile.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("report.png", "report-mobile.png"):
        assert (REPO / "docs" / name).is_file(), name
