"""JUnit XML: one testsuite per rule, one testcase per (rule, object) result.

fail → ``failure`` with the message; a rule crash → ``error`` of type ``crashed``; waived
and unknown → ``skipped`` with the reason. Within each suite the testcases follow the
ranking of :mod:`scalearc_lint.reports.triage` (failures most urgent first, then by
status, errors before warnings), and a failure's text says, in the HTML report's words,
where its object stands in "Act now", where the object runs and the next step.

Written with lxml's ElementTree API (a dependency already, for the exporter; its C
serializer writes 20,000 testcases several times faster than the standard library's
Python one; unlike ``junit-xml`` it writes no ``disabled`` attribute, which the Jenkins
xUnit schema rejects). XML 1.0 cannot carry some characters at all, not even as
character references, so they are written as visible escapes such as ``\\x1b``.

Against a baseline (``check --baseline``, ``whatif``) every testcase says where it stands
in a ``<system-out>`` line, ``baseline: new`` (or ``persisting``, ``resolved``), which
Jenkins and GitLab show with the test; the schema allows no properties on a testcase.
Each suite's ``<properties>`` add the comparison's source, the baseline snapshot and the
counts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lxml import etree

from scalearc_lint.engine.results import (
    Comparison,
    ObjectRef,
    Result,
    ResultsDocument,
    RuleInfo,
    SnapshotInfo,
)
from scalearc_lint.engine.rule import Status
from scalearc_lint.reports.triage import (
    StepSource,
    Triage,
    Urgency,
    remediation_step,
    triage,
    urgency,
)
from scalearc_lint.snapshot.inventory import Inventory

# Everything outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _visible_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by a visible escape."""
    return _NOT_XML_CHAR.sub(_visible_escape, text)


def _element(tag: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.Element(tag, {k: xml_safe(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def testcase_name(obj: ObjectRef, *, with_vcenter: bool) -> str:
    """What a testcase is called: the object's name and id (and vCenter when several)."""
    prefix = f"{obj.vcenter}: " if with_vcenter else ""
    return f"{prefix}{obj.kind} {obj.name} [{obj.id}]"


def failure_text(result: Result, ranked: Triage) -> str:
    """A failure's body: the message, then "Act now" place, object and next step."""
    action = ranked.action_of[result]
    lines = ranked.lines(action)
    place = f"Act now: {action.position} of {len(ranked.actions)}"
    if result is not action.top:
        # The object's place is its most urgent finding's; this one follows it.
        place += f" (led by {action.top.rule}; this finding: {result.severity.value}"
        place += f", {urgency(result.rule).value})"
    step = ranked.step(result)
    body = [ranked.message(result), "", place, f"Object: {lines[0]}"]
    if urgency(result.rule) is Urgency.HAPPENED:
        body += [f"Event: {line}" for line in ranked.events(action)]
    if step is not None:
        body.append(f"Next step: {step.text}")
    return "\n".join(body)


def _testcase(result: Result, rule: RuleInfo | None, ranked: Triage, *, with_vcenter: bool) -> Any:
    case = _element(
        "testcase",
        name=testcase_name(result.object, with_vcenter=with_vcenter),
        classname=f"{result.rule}.{rule.name}" if rule is not None else result.rule,
        time="0",
    )
    message = ranked.message(result)
    if result.status is Status.FAIL:
        body = failure_text(result, ranked)
        case.append(_element("failure", body, message=message, type=result.severity))
    elif result.status is Status.CRASHED:
        case.append(_element("error", message, message=message, type=Status.CRASHED.value))
    elif result.status is Status.WAIVED:
        reason = ranked.waiver_text(result)
        case.append(_element("skipped", message, message=reason, type="waived"))
    elif result.status is Status.UNKNOWN:
        case.append(_element("skipped", message, message=message, type="unknown"))
    if isinstance(result.baseline, str):
        case.append(_element("system-out", f"baseline: {result.baseline}"))
    return case


def _properties(snapshots: Sequence[SnapshotInfo], document: ResultsDocument) -> Any:
    properties = etree.Element("properties")
    values = [("tool", f"{document.tool.name} {document.tool.version}")]
    for info in snapshots:
        values += [
            ("vcenter", info.vcenter),
            ("snapshot.sha256", info.sha256),
            ("snapshot.exported_at", info.exported_at.isoformat()),
            ("snapshot.as_of", info.as_of.isoformat()),
        ]
    comparison = document.comparison
    if isinstance(comparison, Comparison):
        values += [
            ("baseline.source", comparison.source),
            ("baseline.snapshot.sha256", comparison.baseline.sha256),
            ("baseline.new", str(comparison.new)),
            ("baseline.persisting", str(comparison.persisting)),
            ("baseline.resolved", str(comparison.resolved)),
        ]
    for name, value in values:
        properties.append(_element("property", name=name, value=value))
    return properties


def render(
    document: ResultsDocument,
    inventories: Sequence[Inventory] = (),
    *,
    steps: StepSource = remediation_step,
) -> bytes:
    """The results as a JUnit XML document (valid against the Jenkins xUnit schema)."""
    ranked = triage(document, inventories, steps=steps)
    snapshots = document.snapshots or [document.snapshot]
    with_vcenter = len(snapshots) > 1
    rules = {rule.id: rule for rule in document.rules}
    by_rule: dict[str, list[Result]] = defaultdict(list)
    for result in document.results:
        by_rule[result.rule].append(result)
    root = _element("testsuites", name=document.tool.name, time="0")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for rule_id in sorted(set(by_rule) | set(rules)):
        results = by_rule.get(rule_id, [])
        rule = rules.get(rule_id)
        counts = {
            "tests": len(results),
            "failures": sum(r.status is Status.FAIL for r in results),
            "errors": sum(r.status is Status.CRASHED for r in results),
        }
        skipped = sum(r.status in (Status.WAIVED, Status.UNKNOWN) for r in results)
        suite = _element(
            "testsuite",
            name=f"{rule_id} {rule.title}" if rule is not None else rule_id,
            skipped=str(skipped),
            time="0",
            timestamp=document.snapshot.as_of.isoformat(),
            **{key: str(value) for key, value in counts.items()},
        )
        suite.append(_properties(snapshots, document))
        for result in ranked.ranked(results):
            suite.append(_testcase(result, rule, ranked, with_vcenter=with_vcenter))
        root.append(suite)
        for key, value in counts.items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    etree.indent(root, space=" ")
    data: bytes = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
