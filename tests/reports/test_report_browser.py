"""The HTML report in a real headless Chromium: renders, filters, searches, runs no foreign
script and sends no request off the page."""

from __future__ import annotations

import json
from pathlib import Path

from scalearc_lint.cli import main
from scalearc_lint.reports import html
from tests.conftest import EXAMPLES
from tests.reports.conftest import OpenedReport, ReportOpener
from tests.reports.reportkit import (
    HOSTILE_NAMES,
    Linted,
    compared_lab,
    junit_schema,
    lab,
    validate_sarif,
)


def lab_report(
    tmp_path: Path, open_report: ReportOpener, linted: Linted | None = None
) -> OpenedReport:
    """The lab's report (or that of ``linted``) open in Chromium."""
    linted = linted or lab()
    path = tmp_path / "report.html"
    path.write_bytes(html.render(linted.document, linted.inventories))
    return open_report(path)


def status_box(report: OpenedReport, status: str) -> str:
    return f"#filters input[name=status][value={status}]"


def test_report_renders_chart_placement_and_failing_results(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report = lab_report(tmp_path, open_report)
    page = report.page
    assert page.locator("#chart rect").count() == 8
    assert page.locator("#placement .card").count() == 5
    assert page.locator("#placement .card.shares").count() == 2
    rows = report.visible_rows()
    # By default everything but passes: SA004 and SA008 fail, SA007 crashed, SA006 unknown.
    assert sorted(row[0] for row in rows) == ["crashed", "fail", "fail", "unknown"]
    assert report.errors == []


def test_example_lab_in_all_four_formats(tmp_path: Path, open_report: ReportOpener) -> None:
    """The issue's acceptance run (docs/report.png: ``python -m tests.reports.screenshots``)."""
    out = {ext: tmp_path / f"r.{ext}" for ext in ("html", "xml", "sarif", "json")}
    argv = ["check", str(EXAMPLES / "lab.json"), "--html", str(out["html"])]
    argv += ["--junit", str(out["xml"]), "--sarif", str(out["sarif"]), "--json", str(out["json"])]
    assert main(argv) == 1
    junit_schema().validate(out["xml"].read_text(encoding="utf-8"))
    validate_sarif(out["sarif"].read_bytes())
    assert json.loads(out["json"].read_bytes())["summary"]["fail"] > 0
    report = open_report(out["html"])
    page = report.page
    assert page.locator("#chart").is_visible()
    shared = page.locator("#placement .host.has-shared")
    assert shared.count() == 1
    assert "sa-billing-01" in shared.inner_text() and "sa-billing-02" in shared.inner_text()
    assert report.errors == []


def test_status_filter_shows_passing_results_when_checked(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report = lab_report(tmp_path, open_report)
    before = len(report.visible_rows())
    report.after_change(lambda: report.page.check(status_box(report, "pass")))
    with_passes = report.visible_rows()
    assert len(with_passes) > before
    assert "pass" in {row[0] for row in with_passes}
    report.after_change(lambda: report.page.uncheck(status_box(report, "fail")))
    assert "fail" not in {row[0] for row in report.visible_rows()}


def test_severity_and_rule_filters_narrow_the_rows(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report = lab_report(tmp_path, open_report)
    report.after_change(lambda: report.page.check(status_box(report, "pass")))
    report.after_change(lambda: report.page.select_option("#rule-filter", "SA004"))
    assert report.page.locator("article.rule:visible").count() == 1
    rows = report.visible_rows()
    assert rows and all(row[2].startswith("ha-pair ") for row in rows)
    report.after_change(lambda: report.page.uncheck("#filters input[name=severity][value=error]"))
    assert report.visible_rows() == []


def test_search_shows_only_matching_objects(tmp_path: Path, open_report: ReportOpener) -> None:
    report = lab_report(tmp_path, open_report)
    report.after_change(lambda: report.page.check(status_box(report, "pass")))
    report.after_change(lambda: report.page.fill("#search", "SA-ALPHA-2"))
    rows = report.visible_rows()
    assert rows
    assert all("sa-alpha-2" in row[2] or "sa-alpha-2" in row[4] for row in rows)
    report.after_change(lambda: report.page.fill("#search", "no such vm anywhere"))
    assert report.visible_rows() == []
    assert "0 of" in report.page.inner_text("#match-count")


def test_clicking_an_appliance_opens_its_view(tmp_path: Path, open_report: ReportOpener) -> None:
    report = lab_report(tmp_path, open_report)
    report.page.click("#placement .card[data-q='sa-solo']")
    report.page.wait_for_selector("#dossier h3")
    assert report.page.inner_text("#dossier h3") == "vm sa-solo"
    rows = report.page.eval_on_selector_all(
        "#dossier tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
    )
    # Everything about sa-solo: its failure, its waived result, its passes.
    assert rows[0] == "fail" and "waived" in rows and "pass" in rows


def test_waived_results_are_shown_apart_with_reason_owner_and_expiry(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report = lab_report(tmp_path, open_report)
    waived = report.visible_rows("#waived")
    assert waived == [
        [
            "SA001",
            "error",
            "vm sa-solo",
            waived[0][3],
            waived[0][4],
            "vendor case 4711: MAC pinned by the load balancer",
            "dba-team@example.com",
            "CHG-1234",
            "2026-12-31 (in 2 months)",
        ]
    ]
    assert "static MAC" in waived[0][4]
    report.after_change(lambda: report.page.check(status_box(report, "pass")))
    assert all(row[0] != "waived" for row in report.visible_rows())
    report.after_change(lambda: report.page.uncheck(status_box(report, "waived")))
    assert report.page.locator("#waived").is_hidden()


def test_hostile_names_render_as_text_and_run_no_script(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report = lab_report(tmp_path, open_report)
    page = report.page
    report.after_change(lambda: page.check(status_box(report, "pass")))
    report.after_change(lambda: page.fill("#search", "alert(1)"))
    shown = {row[2] for row in report.visible_rows()}
    # The two VMs, and their pair (whose SA004 message names both).
    assert shown == {f"vm {HOSTILE_NAMES[0]}", f"vm {HOSTILE_NAMES[1]}", "ha-pair pair-<b>x</b>"}
    placement_text = page.inner_text("#placement")
    for name in HOSTILE_NAMES:
        assert name in placement_text
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 2
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert report.dialogs == []
    assert report.errors == []


def test_no_request_leaves_the_page(tmp_path: Path, open_report: ReportOpener) -> None:
    report = lab_report(tmp_path, open_report)
    report.after_change(lambda: report.page.check(status_box(report, "pass")))
    report.after_change(lambda: report.page.fill("#search", "alert"))
    report.page.click("#placement .card[data-q='sa-alpha-1']")
    report.page.wait_for_timeout(300)
    assert report.requests == [(tmp_path / "report.html").resolve().as_uri()]


def compared_report(tmp_path: Path, open_report: ReportOpener) -> OpenedReport:
    return lab_report(tmp_path, open_report, compared_lab())


def test_each_result_shows_its_baseline_badge(tmp_path: Path, open_report: ReportOpener) -> None:
    report = compared_report(tmp_path, open_report)
    page = report.page
    # status, baseline, severity, object, id, message
    marks = {(row[0], row[1], row[3]) for row in report.visible_rows()}
    assert marks == {
        ("crashed", "persisting", "vm sa-alpha-1"),
        ("fail", "new", "ha-pair pair-alpha"),
        ("fail", "persisting", "vm sa-solo"),
        ("unknown", "persisting", f"vm {HOSTILE_NAMES[0]}"),
    }
    badge = page.locator("#rule-SA004 tbody .badge.bl-new")
    assert badge.count() == 1 and badge.is_visible()
    assert badge.inner_text() == "new"
    assert report.visible_rows("#waived")[0][1] == "persisting"
    summary = page.inner_text("#comparison")
    assert "nightly-previous.json" in summary and "1 new failure(s)" in summary
    assert report.errors == []


def test_new_filter_shows_only_new_results(tmp_path: Path, open_report: ReportOpener) -> None:
    report = compared_report(tmp_path, open_report)
    report.after_change(lambda: report.page.select_option("#baseline-filter", "new"))
    assert [(row[1], row[3]) for row in report.visible_rows()] == [("new", "ha-pair pair-alpha")]
    assert report.page.locator("#waived").is_hidden()
    assert report.page.inner_text("#match-count").startswith("1 of ")
    report.after_change(lambda: report.page.select_option("#baseline-filter", ""))
    assert len(report.visible_rows()) == 4


def test_resolved_filter_shows_the_passing_results_that_were_findings(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report = compared_report(tmp_path, open_report)
    report.after_change(lambda: report.page.select_option("#baseline-filter", "resolved"))
    assert [row[:2] + row[3:4] for row in report.visible_rows()] == [
        ["pass", "resolved", "ha-pair pair-alpha"]
    ]
    assert report.page.is_checked(status_box(report, "pass"))


def test_plain_report_shows_no_baseline_ui(tmp_path: Path, open_report: ReportOpener) -> None:
    report = lab_report(tmp_path, open_report)
    assert report.page.locator("#baseline-filter, #comparison, .badge").count() == 0
    assert {len(row) for row in report.visible_rows()} == {5}
