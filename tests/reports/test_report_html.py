"""The HTML report as markup: self-contained, escaped, bounded, deterministic."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from scalearc_lint.engine.rule import Status
from scalearc_lint.reports import html
from tests.reports.reportkit import (
    HOSTILE_NAMES,
    LAB_SKETCH,
    HtmlPage,
    compared_lab,
    lab,
    lint,
    make_document,
    make_result,
)


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_page_is_self_contained_and_its_csp_allows_only_its_own_script_and_style() -> None:
    linted = lab()
    page = HtmlPage(html.render(linted.document, linted.inventories))
    for tag, attrs in page.tags:
        for attribute in ("src", "href", "action", "srcset", "poster", "data"):
            assert attribute not in attrs, (tag, attrs)
    assert not re.search(r"url\(|@import", "".join(page.styles))
    [meta] = [m for m in page.all("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    policy = meta["content"] or ""
    assert "default-src 'none'" in policy
    [code] = [
        s
        for s, (_, a) in zip(page.scripts, (t for t in page.tags if t[0] == "script"), strict=True)
        if "id" not in a
    ]
    assert f"script-src {csp_hash(code)};" in policy
    assert f"style-src {csp_hash(page.styles[0])};" in policy


def test_header_shows_vcenter_times_snapshot_hash_and_tool_version() -> None:
    linted = lab()
    text = " ".join(HtmlPage(html.render(linted.document, linted.inventories)).text)
    snapshot = linted.document.snapshot
    for expected in (
        snapshot.vcenter,
        snapshot.sha256,
        snapshot.exported_at.isoformat(),
        snapshot.as_of.isoformat(),
        f"scalearc-lint {linted.document.tool.version}",
    ):
        assert expected in text


def test_hostile_names_are_text_not_markup() -> None:
    linted = lab()
    page = HtmlPage(html.render(linted.document, linted.inventories))
    assert [name for name, _ in page.tags].count("script") == 2
    assert page.all("img") == []
    assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
    text = "".join(page.text)
    for name in HOSTILE_NAMES:
        assert name in text
    names = {page.data()["strings"][row[4]] for row in page.data()["results"]}
    assert set(HOSTILE_NAMES) <= names


def test_embedded_data_holds_every_result_with_its_waiver() -> None:
    document = lab().document
    data = HtmlPage(html.render(document)).data()
    strings = data["strings"]
    rows = [[strings[i] for i in row[:8]] for row in data["results"]]
    assert rows == [
        [
            r.rule,
            r.status,
            r.severity,
            r.object.kind,
            r.object.name,
            r.object.id,
            r.message,
            r.object.vcenter,
        ]
        for r in document.results
    ]
    [waived] = [row for row in data["results"] if row[8] >= 0]
    assert [strings[i] for i in data["waivers"][waived[8]]] == [
        "vendor case 4711: MAC pinned by the load balancer",
        "dba-team@example.com",
        "CHG-1234",
        "2026-12-31",
    ]


def test_placement_marks_both_members_of_a_pair_on_one_host() -> None:
    linted = lab()
    page = HtmlPage(html.render(linted.document, linted.inventories))
    cards = [a for a in page.all("li") if "card" in (a.get("class") or "").split()]
    assert {c["data-q"] for c in cards} == set(LAB_SKETCH["appliances"])
    shared = {c["data-q"] for c in cards if "shares" in (c.get("class") or "").split()}
    assert shared == {"sa-alpha-1", "sa-alpha-2"}
    hosts = [a for a in page.all("div") if "host" in (a.get("class") or "").split()]
    assert sum("has-shared" in (h.get("class") or "") for h in hosts) == 1


def test_placement_card_shows_the_worst_result_of_the_appliance_and_its_pair() -> None:
    linted = lab()
    page = HtmlPage(html.render(linted.document, linted.inventories))
    status = {
        a["data-q"]: next(c[3:] for c in (a.get("class") or "").split() if c.startswith("st-"))
        for a in page.all("li")
        if a.get("data-q")
    }
    # sa-alpha-1: SA007 crashed (error) beats its pair's SA004 failure.
    assert status == {
        "sa-alpha-1": "crashed",
        "sa-alpha-2": "fail",
        HOSTILE_NAMES[0]: "unknown",
        HOSTILE_NAMES[1]: "pass",
        "sa-solo": "fail",
    }


def test_size_does_not_grow_with_non_appliance_vms() -> None:
    small = lint(LAB_SKETCH)
    many_vms = {f"web-{i:05d}": {"host": "esx-1"} for i in range(3000)}
    large = lint({**LAB_SKETCH, "vms": many_vms})
    small_size = len(html.render(small.document, small.inventories))
    large_size = len(html.render(large.document, large.inventories))
    assert abs(large_size - small_size) < 100, (small_size, large_size)


def test_size_grows_with_results_by_a_bounded_amount_each() -> None:
    def size(n: int) -> int:
        results = [make_result(f"sa-{i:06d}", Status.FAIL, moid=f"vm-{i}") for i in range(n)]
        return len(html.render(make_document(results)))

    per_result = (size(2000) - size(1000)) / 1000
    assert per_result < 80, per_result


def test_rendering_is_deterministic() -> None:
    linted = lab()
    assert html.render(linted.document, linted.inventories) == html.render(
        linted.document, linted.inventories
    )


def test_script_safe_json_cannot_close_the_script_element() -> None:
    data = html.script_safe_json(json.dumps(["</script><!--", "a&b'c"]).encode())
    assert "<" not in data and ">" not in data and "&" not in data and "'" not in data
    assert json.loads(str(data)) == ["</script><!--", "a&b'c"]


def test_plain_report_has_no_baseline_column_filter_or_summary() -> None:
    linted = lab()
    page = HtmlPage(html.render(linted.document, linted.inventories))
    assert not [t for t, a in page.tags if a.get("id") in ("comparison", "baseline-filter")]
    assert not [a for a in page.all("body") if "data-compared" in a]
    assert "baseline" not in " ".join(page.text)
    assert {len(row) for row in page.data()["results"]} == {9}


def test_compared_report_marks_every_result_and_sums_up_the_comparison() -> None:
    linted = compared_lab()
    document = linted.document
    page = HtmlPage(html.render(document, linted.inventories))
    data = page.data()
    marks = [data["strings"][row[9]] for row in data["results"]]
    assert marks == [r.baseline for r in document.results]
    assert [a.get("data-compared") for a in page.all("body")] == ["1"]
    options = [a["value"] for a in page.all("option") if a.get("value") in ("", *marks)]
    assert options[:4] == ["", "new", "persisting", "resolved"]
    text = " ".join(" ".join(page.text).split())
    assert "Against nightly-previous.json" in text
    assert "new 1 (1 new failure(s))" in text
    assert "persisting 43" in text
    assert "resolved 2 (1 with no result any more: object or rule gone)" in text
