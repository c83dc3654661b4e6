"""The HTML report as markup: self-contained, escaped, bounded, deterministic."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from scalearc_lint.engine.rule import Status
from scalearc_lint.io.resources import templates_dir
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
        for attribute in ("src", "action", "srcset", "poster", "data"):
            assert attribute not in attrs, (tag, attrs)
        # Links only ever lead within the page.
        assert (attrs.get("href") or "#").startswith("#"), (tag, attrs)
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
    names = {r["object"]["name"] for r in page.results()}
    assert set(HOSTILE_NAMES) <= names


def test_embedded_data_holds_every_result_with_its_object_and_waiver() -> None:
    document = lab().document
    results = HtmlPage(html.render(document)).results()
    rows = [
        [
            r["rule"],
            r["status"],
            r["severity"],
            r["object"]["kind"],
            r["object"]["name"],
            r["object"]["id"],
            r["message"],
            r["object"]["vcenter"],
        ]
        for r in results
    ]
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
    [waived] = [r for r in results if r["waiver"] is not None]
    # Valid through 2026-12-31 (UTC): 60 days and 22 hours after the lab's as-of time,
    # 2026-11-01T02:00Z; from 60 days on, ages are told in months.
    assert waived["waiver"] == [
        "vendor case 4711: MAC pinned by the load balancer",
        "dba-team@example.com",
        "CHG-1234",
        "2026-12-31 (in 2 months)",
    ]


def test_every_failure_carries_its_next_step_and_nothing_else_does() -> None:
    linted = lab()
    results = HtmlPage(html.render(linted.document, linted.inventories)).results()
    steps = {(r["rule"], r["object"]["name"]): r["step"] for r in results if r["step"]}
    assert set(steps) == {
        (r.rule, r.object.name) for r in linted.document.results if r.status is Status.FAIL
    }
    # SA004's remediation, filled with the pair's names and the host they share.
    assert steps[("SA004", "pair-alpha")].startswith(
        "Move the secondary sa-alpha-2 to a host other than esx-1 "
    )


def test_messages_carry_the_age_of_every_timestamp_at_the_as_of_time() -> None:
    linted = lint(
        {
            "appliances": {"sa-1": {"role": "standalone"}},
            "events": [{"vm": "sa-1", "kind": "revert", "age": "5d"}],
        }
    )
    [revert] = [r for r in HtmlPage(html.render(linted.document)).results() if r["rule"] == "SA010"]
    assert re.search(r"at \S+T\S+ \(5 days ago\)", revert["message"]), revert["message"]


def test_objects_carry_role_host_cluster_pool_pair_and_members() -> None:
    linted = lab()
    objects = {
        (o["kind"], o["name"]): o
        for o in HtmlPage(html.render(linted.document, linted.inventories)).objects()
    }
    alpha_1 = objects[("vm", "sa-alpha-1")]
    assert (alpha_1["role"], alpha_1["host"]) == ("primary", "esx-1")
    assert alpha_1["cluster"] and alpha_1["pool"]
    numbered = list(objects.values())
    assert numbered[alpha_1["pair"]]["name"] == "pair-alpha"
    assert [numbered[m]["name"] for m in alpha_1["members"]] == ["sa-alpha-2"]
    pair = objects[("ha-pair", "pair-alpha")]
    assert pair["role"] == "pair"
    assert sorted(numbered[m]["name"] for m in pair["members"]) == ["sa-alpha-1", "sa-alpha-2"]
    # In "Act now" (SA004 fails), numbered from 1; passing objects are not.
    assert pair["position"] >= 1
    assert objects[("vm", HOSTILE_NAMES[1])]["position"] == 0


def cards(page: HtmlPage) -> list[dict[str, str | None]]:
    """The placement view's appliance cards."""
    return [a for a in page.all("a") if "card" in (a.get("class") or "").split()]


def test_placement_marks_both_members_of_a_pair_on_one_host() -> None:
    linted = lab()
    page = HtmlPage(html.render(linted.document, linted.inventories))
    placed = cards(page)
    assert {c["data-q"] for c in placed} == set(LAB_SKETCH["appliances"])
    shared = {c["data-q"] for c in placed if "shares" in (c.get("class") or "").split()}
    assert shared == {"sa-alpha-1", "sa-alpha-2"}
    hosts = [a for a in page.all("div") if "host" in (a.get("class") or "").split()]
    assert sum("has-shared" in (h.get("class") or "") for h in hosts) == 1


def test_placement_card_shows_the_worst_result_of_the_appliance_and_its_pair() -> None:
    linted = lab()
    page = HtmlPage(html.render(linted.document, linted.inventories))
    status = {
        a["data-q"]: next(c[3:] for c in (a.get("class") or "").split() if c.startswith("st-"))
        for a in cards(page)
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
    assert max(len(row) for row in page.data()["results"]) <= 7  # no baseline field


def test_compared_report_marks_every_result_and_sums_up_the_comparison() -> None:
    linted = compared_lab()
    document = linted.document
    page = HtmlPage(html.render(document, linted.inventories))
    marks = [r["baseline"] for r in page.results()]
    assert marks == [r.baseline for r in document.results]
    assert [a.get("data-compared") for a in page.all("body")] == ["1"]
    options = [a["value"] for a in page.all("option") if a.get("value") in ("", *marks)]
    assert options[:4] == ["", "new", "persisting", "resolved"]
    text = " ".join(" ".join(page.text).split())
    assert "Against nightly-previous.json" in text
    assert "new 1 (1 new failure(s))" in text
    assert "persisting 67" in text
    assert "resolved 2 (1 with no result any more: object or rule gone)" in text


def test_diff_page_lists_worst_status_and_errors_first_with_ages() -> None:
    linted = compared_lab()
    page = html.render_diff(linted.document).decode()
    assert "status-error" not in page
    text = " ".join(HtmlPage(page.encode()).text)
    # Persisting: the crash, then the failure, then unknown, then the waived result.
    persisting = page.split('<h2 class="persisting">')[1]
    statuses = re.findall(r'<td class="status-(\w+)">', persisting)
    assert statuses == ["crashed", "fail", "unknown", "waived"]
    assert "expires 2026-12-31 (in 2 months)" in text
    assert re.search(r"exported \S+ \(now\)", text)


def test_act_now_marks_objects_with_a_new_failure_against_the_baseline() -> None:
    linted = compared_lab()
    page = html.render(linted.document, linted.inventories).decode()
    act_now = page.split('<section id="act-now"')[1].split("</section>")[0]
    entries = act_now.split('<li class="action')[1:]
    marked = [re.search(r'class="object"[^>]*>([^<]*)<', e) for e in entries if "bl-new" in e]
    # pair-alpha's SA004 failure is new; sa-solo's SA008 failure persists.
    assert [m.group(1) for m in marked if m] == ["ha-pair pair-alpha"]
    assert len(entries) == 2


def _compiled(cache_dir: Path | None) -> bytes:
    """report.html.j2's render function as a fresh environment gets it, with a template
    cache in ``cache_dir`` (or none)."""
    environment = Environment(
        loader=FileSystemLoader(templates_dir()),
        bytecode_cache=html._TemplateCache(str(cache_dir)) if cache_dir else None,
    )
    template = environment.get_template("report.html.j2")
    return bytes(template.root_render_func.__code__.co_code)


def test_templates_come_from_the_cache_as_jinja_compiles_them(tmp_path: Path) -> None:
    fresh = _compiled(None)
    assert _compiled(tmp_path) == fresh  # compiled, then kept
    [kept] = tmp_path.iterdir()
    assert _compiled(tmp_path) == fresh  # read back
    kept.write_bytes(kept.read_bytes()[:100])  # a cache file cut short is compiled again
    assert _compiled(tmp_path) == fresh


def test_a_template_cache_that_cannot_be_used_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    assert _compiled(not_a_directory) == _compiled(None)  # writing it fails, silently
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_directory))
    assert html._template_cache() is None  # no private directory to be had
