"""The HTML report of a what-if in headless Chromium: it says it shows a planned state, names
the plan, labels the placement planned and opens on what the plan newly breaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scalearc_lint.cli import main
from tests.conftest import EXAMPLES
from tests.reports.conftest import OpenedReport, ReportOpener

PLAN = EXAMPLES / "plan-bad.yaml"


def whatif_report(tmp_path: Path, open_report: ReportOpener) -> tuple[OpenedReport, dict[str, Any]]:
    html, out = tmp_path / "whatif.html", tmp_path / "whatif.json"
    argv = ["whatif", str(EXAMPLES / "lab.json"), "--plan", str(PLAN), "-q"]
    assert main([*argv, "--html", str(html), "--json", str(out)]) == 1
    return open_report(html), json.loads(out.read_text())


def test_the_top_says_planned_state_with_the_plans_file_and_description(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report, document = whatif_report(tmp_path, open_report)
    page = report.page
    assert document["plan"] == {
        "path": str(PLAN),
        "description": "The same window done wrong",
        "steps": 7,
    }
    assert "planned state" in page.title()
    assert page.inner_text("h1").endswith("planned state")
    banner = page.locator("#planned")
    assert banner.is_visible()
    text = banner.inner_text()
    assert "Planned state, not the inventory as it is." in text
    assert page.inner_text("#planned .plan-path") == str(PLAN)
    assert page.inner_text("#planned .plan-description") == "The same window done wrong"
    # Above everything else on the page.
    banner_box, summary_box = banner.bounding_box(), page.locator("#summary").bounding_box()
    assert banner_box is not None and summary_box is not None
    assert banner_box["y"] < summary_box["y"]
    assert report.errors == []


def test_the_placement_view_is_labelled_planned_and_shows_the_planned_hosts(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report, _ = whatif_report(tmp_path, open_report)
    page = report.page
    assert page.inner_text("#placement-h") == "HA-pair placement (planned)"
    shared = page.locator("#placement .host.has-shared")
    # plan-bad.yaml puts both orders members on esx03, next to billing-01.
    assert shared.count() == 1 and shared.is_visible()
    # Clusters are content-visibility: auto: innerText is empty while the cluster is far
    # below the fold (a longer Act now list puts it there), so read the text it holds.
    text = shared.text_content() or ""
    assert "esx03.corp.example" in text
    assert "sa-orders-02" in text


def test_the_baseline_filter_opens_on_what_the_plan_newly_breaks(
    tmp_path: Path, open_report: ReportOpener
) -> None:
    report, document = whatif_report(tmp_path, open_report)
    assert report.page.input_value("#baseline-filter") == "new"
    rows = report.visible_rows()
    # status, baseline, severity, object, id, message
    assert rows and {row[1] for row in rows} == {"new"}
    new_failures = [
        r for r in document["results"] if r["baseline"] == "new" and r["status"] == "fail"
    ]
    assert len([row for row in rows if row[0] == "fail"]) == len(new_failures)
    report.after_change(lambda: report.page.select_option("#baseline-filter", ""))
    assert len(report.visible_rows()) > len(rows)


def test_a_check_report_has_no_planned_banner(tmp_path: Path, open_report: ReportOpener) -> None:
    html = tmp_path / "check.html"
    main(["check", str(EXAMPLES / "lab.json"), "-q", "--html", str(html)])
    report = open_report(html)
    assert report.page.locator("#planned").count() == 0
    assert report.page.inner_text("#placement-h") == "HA-pair placement"
