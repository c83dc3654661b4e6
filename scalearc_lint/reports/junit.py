"""JUnit XML: one testsuite per rule, one testcase per (rule, object) result.

fail → ``failure`` with the message; a rule crash → ``error`` of type ``crashed``; waived
and unknown → ``skipped`` with the reason. Within each suite the testcases follow the
ranking of :mod:`scalearc_lint.reports.triage` (failures most urgent first, then by
status, errors before warnings), and a failure's text says, in the HTML report's words,
where its object stands in "Act now", where the object runs and the next step.

Written as text, the way lxml serializes the same tree (indented by one space per
level; ``"``, ``<``, ``>``, ``&``, tab and line breaks escaped in attributes): a report
of 150,000 VMs has over 20,000 testcases, and building an element tree of them cost
several times writing them out. The tests hold the text to lxml's own serialization and
to the Jenkins xUnit schema (``junit-xml``, the obvious library, writes a ``disabled``
attribute that schema rejects). XML 1.0 cannot carry some characters at all, not even
as character references, so they are written as visible escapes such as ``\\x1b``.

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

# Everything outside XML 1.0's Char production (#x9 | #xA | #xD | [#x20-#xD7FF] |
# [#xE000-#xFFFD] | [#x10000-#x10FFFF]), listed rather than negated: a negated class of
# those ranges takes milliseconds to compile at every start. A test compares the two.
_CANNOT_CARRY = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_NOT_XML_CHAR = re.compile(f"[{_CANNOT_CARRY}]")


def _visible_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by a visible escape."""
    return _NOT_XML_CHAR.sub(_visible_escape, text)


#: What must be escaped in an attribute value, or cannot be written at all.
_ATTRIBUTE_SPECIAL = re.compile(f'[{_CANNOT_CARRY}&<>"\t\n\r]')
_TEXT_SPECIAL = re.compile(f"[{_CANNOT_CARRY}&<>\r]")
_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _attributes(attributes: dict[str, str]) -> str:
    """`` key="value"`` for each attribute, in order, escaped."""
    return "".join(
        f' {key}="{value}"'
        if _ATTRIBUTE_SPECIAL.search(value) is None
        else f' {key}="{xml_safe(value).translate(_ATTRIBUTE_ESCAPES)}"'
        for key, value in attributes.items()
    )


def _text(text: str) -> str:
    return text if _TEXT_SPECIAL.search(text) is None else xml_safe(text).translate(_TEXT_ESCAPES)


class _Writer:
    """An XML document written as text, one element per line, indented by one space."""

    def __init__(self) -> None:
        self.parts: list[str] = ["<?xml version='1.0' encoding='utf-8'?>\n"]

    def start(self, depth: int, tag: str, attributes: dict[str, str]) -> None:
        self.parts.append(f"{' ' * depth}<{tag}{_attributes(attributes)}>\n")

    def end(self, depth: int, tag: str) -> None:
        self.parts.append(f"{' ' * depth}</{tag}>\n")

    def leaf(
        self, depth: int, tag: str, attributes: dict[str, str], text: str | None = None
    ) -> None:
        """An element without children: empty (``<tag/>``) when ``text`` is None."""
        head = f"{' ' * depth}<{tag}{_attributes(attributes)}"
        if text is None:
            self.parts.append(f"{head}/>\n")
        else:
            self.parts.append(f"{head}>{_text(text)}</{tag}>\n")

    def document(self) -> bytes:
        return "".join(self.parts).encode("utf-8")


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


def _testcase(
    out: _Writer, result: Result, rule: RuleInfo | None, ranked: Triage, *, with_vcenter: bool
) -> None:
    attributes = {
        "name": testcase_name(result.object, with_vcenter=with_vcenter),
        "classname": f"{result.rule}.{rule.name}" if rule is not None else result.rule,
        "time": "0",
    }
    status = result.status
    children: list[tuple[str, dict[str, str], str]] = []
    if status is Status.FAIL:
        message = ranked.message(result)
        body = failure_text(result, ranked)
        children.append(("failure", {"message": message, "type": result.severity}, body))
    elif status is Status.CRASHED:
        message = ranked.message(result)
        children.append(("error", {"message": message, "type": Status.CRASHED.value}, message))
    elif status is Status.WAIVED:
        reason = ranked.waiver_text(result)
        children.append(("skipped", {"message": reason, "type": "waived"}, ranked.message(result)))
    elif status is Status.UNKNOWN:
        message = ranked.message(result)
        children.append(("skipped", {"message": message, "type": "unknown"}, message))
    if isinstance(result.baseline, str):
        children.append(("system-out", {}, f"baseline: {result.baseline}"))
    if not children:
        out.leaf(2, "testcase", attributes)
        return
    out.start(2, "testcase", attributes)
    for tag, child_attributes, text in children:
        out.leaf(3, tag, child_attributes, text)
    out.end(2, "testcase")


def _properties(
    snapshots: Sequence[SnapshotInfo], document: ResultsDocument
) -> list[tuple[str, str]]:
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
    return values


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
    suites = []
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for rule_id in sorted(set(by_rule) | set(rules)):
        results = by_rule.get(rule_id, [])
        counts = {
            "tests": len(results),
            "failures": sum(r.status is Status.FAIL for r in results),
            "errors": sum(r.status is Status.CRASHED for r in results),
        }
        suites.append((rule_id, results, counts))
        for key, value in counts.items():
            totals[key] += value
    out = _Writer()
    root = {"name": document.tool.name, "time": "0", **{k: str(v) for k, v in totals.items()}}
    if not suites:
        out.leaf(0, "testsuites", root)
        return out.document()
    out.start(0, "testsuites", root)
    properties = _properties(snapshots, document)
    timestamp = document.snapshot.as_of.isoformat()
    for rule_id, results, counts in suites:
        rule = rules.get(rule_id)
        skipped = sum(r.status in (Status.WAIVED, Status.UNKNOWN) for r in results)
        suite = {
            "name": f"{rule_id} {rule.title}" if rule is not None else rule_id,
            "skipped": str(skipped),
            "time": "0",
            "timestamp": timestamp,
            **{key: str(value) for key, value in counts.items()},
        }
        out.start(1, "testsuite", suite)
        out.start(2, "properties", {})
        for name, text in properties:
            out.leaf(3, "property", {"name": name, "value": text})
        out.end(2, "properties")
        for result in ranked.ranked(results):
            _testcase(out, result, rule, ranked, with_vcenter=with_vcenter)
        out.end(1, "testsuite")
    out.end(0, "testsuites")
    return out.document()
