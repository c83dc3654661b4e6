"""JUnit XML: valid against the Jenkins xUnit schema and read back by junitparser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import junitparser

from scalearc_lint.cli import main
from scalearc_lint.engine.rule import Status
from scalearc_lint.reports import junit
from tests.conftest import EXAMPLES
from tests.reports.reportkit import (
    HOSTILE_NAMES,
    check_written_as_lxml_writes,
    compared_lab,
    junit_schema,
    lab,
    make_document,
    make_result,
    make_rule,
)


def read_back(data: bytes, tmp_path: Path) -> junitparser.JUnitXml:
    """Parse the report with junitparser, as a CI's JUnit consumer would."""
    path = tmp_path / "report.xml"
    path.write_bytes(data)
    parsed = junitparser.JUnitXml.fromfile(str(path))
    assert isinstance(parsed, junitparser.JUnitXml)
    return parsed


def test_lab_report_is_valid_against_the_jenkins_xunit_schema() -> None:
    data = junit.render(lab().document)
    junit_schema().validate(data.decode())
    check_written_as_lxml_writes(data)


def test_an_empty_run_is_one_empty_element_as_lxml_writes_it() -> None:
    data = junit.render(make_document([], []))
    check_written_as_lxml_writes(data)


def test_one_testsuite_per_rule_and_one_testcase_per_result(tmp_path: Path) -> None:
    document = lab().document
    parsed = read_back(junit.render(document), tmp_path)
    suites = {suite.name.split()[0]: suite for suite in parsed}
    assert sorted(suites) == sorted(rule.id for rule in document.rules)
    for rule in document.rules:
        expected = [r for r in document.results if r.rule == rule.id]
        suite = suites[rule.id]
        assert suite.tests == len(expected)
        assert len(list(suite)) == len(expected)
    assert parsed.tests == len(document.results)


def test_fail_is_failure_crash_is_error_waived_and_unknown_are_skipped(tmp_path: Path) -> None:
    document = lab().document
    parsed = read_back(junit.render(document), tmp_path)
    outcome: dict[tuple[str, str], tuple[str, str]] = {}
    for suite in parsed:
        for case in suite:
            kinds = [(type(r).__name__, r.message or "") for r in case.result]
            outcome[(suite.name.split()[0], case.name)] = kinds[0] if kinds else ("pass", "")
    for r in document.results:
        kind, message = outcome[(r.rule, f"{r.object.kind} {r.object.name} [{r.object.id}]")]
        expected_kind = {
            Status.PASS: "pass",
            Status.FAIL: "Failure",
            Status.CRASHED: "Error",
            Status.WAIVED: "Skipped",
            Status.UNKNOWN: "Skipped",
        }[r.status]
        assert kind == expected_kind, r
        if r.status in (Status.FAIL, Status.CRASHED, Status.UNKNOWN):
            # The lab's messages hold no timestamps, so no age is added to them.
            assert message == r.message
        if r.status is Status.WAIVED:
            assert r.waiver is not None
            assert r.waiver.reason in message and r.waiver.owner in message
            assert r.waiver.expires in message


def test_suite_counts_match_the_results(tmp_path: Path) -> None:
    document = lab().document
    parsed = read_back(junit.render(document), tmp_path)
    statuses = [r.status for r in document.results]
    assert sum(s.failures for s in parsed) == statuses.count(Status.FAIL)
    assert sum(s.errors for s in parsed) == statuses.count(Status.CRASHED)
    assert sum(s.skipped for s in parsed) == statuses.count(Status.WAIVED) + statuses.count(
        Status.UNKNOWN
    )


def test_failure_carries_the_remediation(tmp_path: Path) -> None:
    rule = make_rule()
    data = junit.render(make_document([make_result("sa-1")], [rule]))
    case = next(iter(next(iter(read_back(data, tmp_path)))))
    failure = case.result[0]
    assert failure.type == "error"
    assert f"Next step: {rule.remediation}" in (failure.text or "")


def test_a_crash_is_an_error_of_type_crashed(tmp_path: Path) -> None:
    document = make_document([make_result("sa-1", Status.CRASHED, message="rule crashed: boom")])
    case = next(iter(next(iter(read_back(junit.render(document), tmp_path)))))
    [error] = case.result
    assert (type(error).__name__, error.type, error.message) == (
        "Error",
        "crashed",
        "rule crashed: boom",
    )


def test_example_lab_failures_say_their_place_object_and_next_step_in_report_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lab.xml"
    assert main(["check", str(EXAMPLES / "lab.json"), "--junit", str(path), "-q"]) == 1
    suites = {s.name.split()[0]: s for s in junitparser.JUnitXml.fromfile(str(path))}
    [sa009] = [
        c
        for c in suites["SA009"]
        if c.result and type(c.result[0]).__name__ == "Failure" and "sa-billing-01" in c.name
    ]
    text = sa009.result[0].text or ""
    assert "DrsVmMigratedEvent at 2026-11-21T02:00:00+00:00 (3 days ago)" in text
    assert "\nAct now: 1 of 9\n" in text
    assert "Object: vm sa-billing-01 (primary; HA pair billing; host esx03.corp.example;" in text
    assert (
        "Event: DrsVmMigratedEvent at 2026-11-21T02:00:00+00:00 (3 days ago): moved from " in text
    )
    assert "Next step: Check sa-billing-01 and its database traffic now;" in text
    [sa006] = [
        c
        for c in suites["SA006"]
        if c.result and type(c.result[0]).__name__ == "Failure" and "sa-billing-01" in c.name
    ]
    assert "Act now: 1 of 9 (led by SA009; this finding: error, exposed)" in (
        sa006.result[0].text or ""
    )
    # Within a suite: failures first, errors before warnings, then unknown, then passes.
    sa007 = [(type(c.result[0]).__name__ if c.result else "pass", c) for c in suites["SA007"]]
    kinds = [kind for kind, _ in sa007]
    assert kinds == ["Failure"] * 3 + ["Skipped"] + ["pass"] * 5  # sa-archive-01: ID001
    severities = [c.result[0].type for kind, c in sa007 if kind == "Failure"]
    assert severities == ["error", "warning", "warning"]
    sa009_kinds = [type(c.result[0]).__name__ if c.result else "pass" for c in suites["SA009"]]
    # Two vMotioned primaries; the unknown is sa-archive-01 (ID001).
    assert sa009_kinds == ["Failure", "Failure", "Skipped", "pass", "pass"]


def test_hostile_names_round_trip_exactly(tmp_path: Path) -> None:
    names = [*HOSTILE_NAMES, "]]>", "名前-ü-𝔘", "tab\tnew\nline\rcr", "a&amp;b"]
    results = [make_result(n, moid=f"vm-{i}", message=n) for i, n in enumerate(names)]
    data = junit.render(make_document(results, [make_rule(text=HOSTILE_NAMES[0])]))
    junit_schema().validate(data.decode())
    check_written_as_lxml_writes(data)
    cases = list(next(iter(read_back(data, tmp_path))))
    assert sorted((c.name, c.result[0].message) for c in cases) == sorted(
        (f"vm {n} [vm-{i}]", n) for i, n in enumerate(names)
    )


def test_characters_xml_cannot_carry_become_visible_escapes(tmp_path: Path) -> None:
    name = "esc\x1b[31m nul\x00 bell\x07 nonchar\ufffe"
    data = junit.render(make_document([make_result(name)]))
    junit_schema().validate(data.decode())
    case = next(iter(next(iter(read_back(data, tmp_path)))))
    assert case.name == "vm esc\\x1b[31m nul\\x00 bell\\x07 nonchar\\ufffe [vm-1]"


def test_several_vcenters_name_the_vcenter_in_each_testcase(tmp_path: Path) -> None:
    results = [make_result("sa-1", vcenter="vc-a"), make_result("sa-1", vcenter="vc-b")]
    document = make_document(results, vcenters=["vc-a", "vc-b"])
    cases = list(next(iter(read_back(junit.render(document), tmp_path))))
    assert [c.name for c in cases] == ["vc-a: vm sa-1 [vm-1]", "vc-b: vm sa-1 [vm-1]"]


def test_compared_testcases_say_where_they_stand_and_still_validate(tmp_path: Path) -> None:
    document = compared_lab().document
    data = junit.render(document)
    junit_schema().validate(data.decode())
    check_written_as_lxml_writes(data)
    parsed = read_back(data, tmp_path)
    marks = {
        (suite.name.split()[0], case.name): case.system_out for suite in parsed for case in suite
    }
    assert marks[("SA004", "ha-pair pair-alpha [pair-alpha]")] == "baseline: new"
    assert marks[("SA005", "ha-pair pair-alpha [pair-alpha]")] == "baseline: resolved"
    assert set(marks.values()) == {"baseline: new", "baseline: persisting", "baseline: resolved"}
    assert len(marks) == len(document.results)
    properties = {
        p.get("name"): p.get("value")
        for p in ET.fromstring(data).iterfind("testsuite[1]/properties/property")
    }
    assert properties["baseline.source"] == "nightly-previous.json"
    assert (properties["baseline.new"], properties["baseline.resolved"]) == ("1", "2")


def test_plain_testcases_have_no_baseline_marks(tmp_path: Path) -> None:
    data = junit.render(lab().document)
    parsed = read_back(data, tmp_path)
    assert all(case.system_out is None for suite in parsed for case in suite)
    assert "baseline." not in data.decode()


def test_the_character_classes_follow_xml_1_0_for_every_code_point() -> None:
    """The writer's classes are listed, not negated (quicker to compile): compare them with
    XML 1.0's Char production, and with what must be escaped, over every code point."""

    def is_xml_char(code: int) -> bool:
        return (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF
        )

    text = "".join(map(chr, range(0x110000)))
    not_xml = {m.start() for m in junit._NOT_XML_CHAR.finditer(text)}
    attribute = {m.start() for m in junit._ATTRIBUTE_SPECIAL.finditer(text)}
    text_special = {m.start() for m in junit._TEXT_SPECIAL.finditer(text)}
    cannot = {code for code in range(0x110000) if not is_xml_char(code)}
    assert not_xml == cannot
    assert attribute == cannot | {ord(c) for c in '&<>"\t\n\r'}
    assert text_special == cannot | {ord(c) for c in "&<>\r"}
